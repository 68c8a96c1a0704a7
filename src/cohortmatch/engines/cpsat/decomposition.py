"""Decomposition bound and integer pattern master for the exact CP-SAT engine.

A plan is a choice of one *pattern* (team counts of one cohort) per cohort. Column
generation over single-cohort patterns (:func:`decomposition_bound`) solves the LP of
that master problem with CP-SAT or, in ``sum`` mode, vectorised enumeration as the
pricing step; the Lagrangian value at any prices is a proven upper bound, and the pricing
cuts it finds strengthen the exact model of :mod:`cohortmatch.engines.cpsat.model`. In ``sum``
mode the LP has an integrality gap, so :func:`integer_master` solves the integer master
exactly (reduced-cost fixing, a dive, HiGHS ``milp``, no-goods for pattern sets that
cannot be staffed by real people, :func:`_realise`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from ...compiled import NO_CAP, CompiledProblem
from ...scoring import edge_value, score
from ..base import StopEvent
from .model import CohortModel, ModelStopped, add_count_vars, add_rules, model_data
from .solve import solve_model, stop_watch

__all__ = ["decomposition_bound", "decompose", "integer_master", "Master", "PricingCut"]


def _pricing_scale(values: np.ndarray) -> float:
    """A power of two bringing the largest coefficient near ``2**26`` (room for sums)."""
    top = float(np.abs(values).max()) if values.size else 0.0
    if top == 0.0:
        return 1.0
    return 2.0 ** math.floor(math.log2(2.0**26 / top))


@dataclass
class _Pricing:
    """The best single cohort of one block at given prices (a small CP-SAT model)."""

    block: int
    teams: np.ndarray  # teams present in the block
    supply: np.ndarray  # their units in the block
    edges: np.ndarray  # gaps with both teams present (global indices)
    ea: np.ndarray  # local team index of each edge's ends
    eb: np.ndarray
    model: cp_model.CpModel
    N: list[Any]
    terms: list[Any]  # sum: products N_a*N_b; bridge modes: b_e = y_a and y_b


@dataclass
class PricingCut:
    """``term_coef . terms(P) + team_coef . N(P) <= rhs`` for every cohort ``P`` of ``block``.

    Integer coefficients, proved by the pricing model: valid in the exact model too.
    """

    block: int
    edges: np.ndarray
    term_coef: np.ndarray
    teams: np.ndarray
    team_coef: np.ndarray
    rhs: int


def _pricing_model(p: CompiledProblem, b: int, team_block: np.ndarray) -> _Pricing:
    teams = np.flatnonzero(team_block[:, b])
    local = np.full(p.n_teams, -1, np.int64)
    local[teams] = np.arange(teams.shape[0])
    both = (local[p.edge_a] >= 0) & (local[p.edge_b] >= 0)
    edges = np.flatnonzero(both)
    ea, eb = local[p.edge_a[edges]], local[p.edge_b[edges]]
    cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
    lo, hi = int(p.cohort_min[cs:ce].min()), int(p.cohort_max[cs:ce].max())
    cap = min(int(p.max_per_team), hi)
    supply = team_block[teams, b]
    m = cp_model.CpModel()
    ub = np.minimum(supply, cap).astype(np.int64)
    N = [
        m.new_int_var(0, int(u), f"N[{t}]")
        for t, u in zip(teams.tolist(), ub.tolist(), strict=True)
    ]
    m.add(sum(N) >= lo)
    m.add(sum(N) <= hi)
    terms: list[Any] = []
    if p.mode == "sum":
        for i, j, e in zip(ea.tolist(), eb.tolist(), edges.tolist(), strict=True):
            x = m.new_int_var(0, int(ub[i] * ub[j]), f"p[{e}]")
            m.add_multiplication_equality(x, [N[i], N[j]])
            terms.append(x)
    else:
        y = []
        for t, v in enumerate(N):
            lit = m.new_bool_var(f"y[{t}]")
            m.add(v >= lit)
            m.add(v <= int(ub[t]) * lit)
            y.append(lit)
        for i, j, e in zip(ea.tolist(), eb.tolist(), edges.tolist(), strict=True):
            x = m.new_bool_var(f"b[{e}]")
            m.add_implication(x, y[i])
            m.add_implication(x, y[j])
            terms.append(x)
    return _Pricing(b, teams, supply, edges, ea, eb, m, N, terms)


def _price(
    pr: _Pricing,
    term_price: np.ndarray,
    team_price: np.ndarray,
    time_limit: float | None,
    seed: int,
    stop: StopEvent | None = None,
) -> tuple[float, list[np.ndarray], PricingCut | None]:
    """Upper bound on ``max_P term_price . terms(P) - team_price . N(P)`` and some good ``P``."""
    coef = np.concatenate([term_price, -team_price])
    scale = _pricing_scale(coef)
    ic = np.ceil(coef * scale).astype(np.int64)  # rounded up: the bound stays a bound
    variables = pr.terms + pr.N
    pr.model.clear_objective()
    pr.model.maximize(sum(int(c) * v for c, v in zip(ic.tolist(), variables, strict=True) if c))
    solver = cp_model.CpSolver()
    if time_limit is None:
        solver.parameters.max_deterministic_time = 0.5
    else:
        solver.parameters.max_time_in_seconds = max(time_limit, 0.01)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    found: list[np.ndarray] = []

    class _Collect(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            found.append(np.array([self.value(v) for v in pr.N], np.int64))

    with stop_watch(solver, stop):
        code = solver.solve(pr.model, _Collect())
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return math.inf, [], None
    top = math.floor(solver.best_objective_bound + 1e-6)  # integer objective, integer bound
    cut = PricingCut(pr.block, pr.edges, ic[: len(pr.terms)], pr.teams, ic[len(pr.terms) :], top)
    return solver.best_objective_bound / scale, found[-8:], cut


def decomposition_bound(
    problem: CompiledProblem,
    *,
    start: np.ndarray,
    time_limit: float | None,
    max_rounds: int = 200,
    seed: int = 0,
) -> float:
    r"""A proven upper bound by column generation over single-cohort patterns.

    See :func:`_decomposition` (which also returns the cuts it proved).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="aabbcc"[i]) for i in range(6)],
    ...                    gaps=[Gap(a="a", b="b"), Gap(a="a", b="c")])
    >>> prob = compile_problem(org, [Course(id="c", min_size=3, max_size=3)],
    ...                        Policy(mode="sum"))
    >>> round(decomposition_bound(prob, start=np.array([0, 1, 0, 1, 0, 1]), time_limit=None), 6)
    4.0
    """
    return decompose(
        problem, start=start, time_limit=time_limit, max_rounds=max_rounds, seed=seed
    )[0]


def decompose(
    problem: CompiledProblem,
    *,
    start: np.ndarray,
    time_limit: float | None,
    max_rounds: int = 200,
    seed: int = 0,
    master: Master | None = None,
    stop: StopEvent | None = None,
) -> tuple[float, list[PricingCut]]:
    r"""A proven upper bound by column generation over single-cohort patterns.

    A plan is a choice, for every cohort, of a *pattern* (team counts :math:`N(P)`);
    the plan's value depends on the patterns only. Relaxing every rule that ties
    cohorts together except the team supplies (and, in ``cover``/``diminishing``, the
    bridge counts :math:`c_e = \sum_k [P_k \text{ bridges } e]`) with prices
    :math:`\pi_{t,b}` and :math:`\lambda_e` gives, for *any* prices, the bound

    .. math::

        \sum_{t,b} \pi_{t,b} n_{t,b} + \sum_b K_b \max_P \big(v(P) + \lambda\cdot B(P)
        - \pi_b\cdot N(P)\big) + \sum_e \max_{0 \le c \le C_e} \big(f_e(c) - \lambda_e c\big)

    (sum mode: :math:`v(P) = \sum_e w_e N_a N_b`, no :math:`\lambda`; bridge modes:
    :math:`v = 0` and :math:`f_e` the value of :math:`c` bridges). The prices are the
    duals of the master LP over the patterns generated so far (Dantzig-Wolfe, starting
    from the cohorts of ``start``); each inner max is solved by a small CP-SAT model
    whose proven bound is used, with coefficients rounded up. Manager separation is
    relaxed, so the bound holds for every plan. Returns ``inf`` where it does not
    apply (person-level pair values, meeting caps).

    Without a ``time_limit`` each pricing model gets half a deterministic second and at
    most ``max_rounds`` LP rounds run, so the bound is repeatable.

    Each pricing also proves a *cut*: at the prices of the best round, every cohort's
    pattern satisfies ``v(P) + lambda . B(P) - pi_b . N(P) <= max`` (integer-scaled);
    added to the exact model, the cuts give CP-SAT's LP this bound too (and branching
    can improve on it). Returns ``(bound, cuts)``; ``master``, if given, receives the
    columns and the prices of the best round (see :func:`integer_master`).
    """
    from scipy.optimize import linprog

    p = problem
    if p.pair_values is not None or p.max_meetings != NO_CAP or p.n_edges == 0:
        return math.inf, []
    timed = time_limit is not None
    deadline = time.perf_counter() + max(time_limit or 0.0, 0.0)
    start = np.asarray(start, np.int64)
    team_block = np.zeros((p.n_teams, p.n_blocks), np.int64)
    np.add.at(team_block, (p.unit_team, p.unit_block), 1)
    empty = score(p, np.full(p.n_units, -1, np.int64))
    offset = float(empty.objective)
    K_b = np.diff(p.block_cohorts)
    blocks = [b for b in range(p.n_blocks) if K_b[b] > 0 and team_block[:, b].any()]
    prs = {b: _pricing_model(p, b, team_block) for b in blocks}
    sum_mode = p.mode == "sum"
    # --- rows: (team, block) supplies, one per block, then (bridge modes) one per gap
    row_of: dict[tuple[int, int], int] = {}
    for b in blocks:
        for t in prs[b].teams.tolist():
            row_of[t, b] = len(row_of)
    n_team_rows = len(row_of)
    n_eq = n_team_rows + len(blocks)
    rhs = np.zeros(n_eq)
    for (t, b), r in row_of.items():
        rhs[r] = team_block[t, b]
    for i, b in enumerate(blocks):
        rhs[n_team_rows + i] = K_b[b]
    # bridge increments z[e,i] worth f_e(i+1) - f_e(i), at most C_e of them
    gaps = np.zeros(0, np.int64)
    inc_edge = np.zeros(0, np.int64)
    inc_value = np.zeros(0)
    C = np.zeros(p.n_edges, np.int64)
    c0 = empty.edge_cohorts.astype(np.int64)
    if not sum_mode:
        for b in blocks:
            C[prs[b].edges] += K_b[b]
        gaps = np.flatnonzero(C > 0)
        inc_edge = np.repeat(gaps, C[gaps])
        rank = np.arange(inc_edge.shape[0]) - np.repeat(np.cumsum(C[gaps]) - C[gaps], C[gaps])
        inc_value = edge_value(p, inc_edge, c0[inc_edge] + rank + 1) - edge_value(
            p, inc_edge, c0[inc_edge] + rank
        )
    gap_row = np.full(p.n_edges, -1, np.int64)
    gap_row[gaps] = np.arange(gaps.shape[0])
    cols: list[tuple[int, np.ndarray]] = []
    seen: set[tuple[int, bytes]] = set()

    def add(b: int, counts: np.ndarray) -> bool:
        key = (b, counts.tobytes())
        if key in seen:
            return False
        seen.add(key)
        cols.append((b, counts))
        return True

    for k in range(p.n_cohorts):
        b = int(p.cohort_block[k])
        if b in prs:
            members = p.unit_team[start == k]
            local = np.searchsorted(prs[b].teams, members)
            add(b, np.bincount(local, minlength=prs[b].teams.shape[0]).astype(np.int64))
    if len(cols) == 0:
        return math.inf, []
    best, best_cuts = math.inf, []
    rounds = 0
    while (time.perf_counter() < deadline if timed else rounds < max_rounds) and not _set(stop):
        rounds += 1
        # --- master LP (minimise the negated value)
        n_cols = len(cols)
        A_eq = np.zeros((n_eq, n_cols + inc_edge.shape[0]))
        A_ub = np.zeros((gaps.shape[0], n_cols + inc_edge.shape[0]))
        value = np.zeros(n_cols + inc_edge.shape[0])
        block_index = {b: i for i, b in enumerate(blocks)}
        for j, (b, counts) in enumerate(cols):
            pr = prs[b]
            rows = [row_of[int(t), b] for t in pr.teams]
            A_eq[rows, j] = counts
            A_eq[n_team_rows + block_index[b], j] = 1.0
            if sum_mode:
                value[j] = float(p.edge_weight[pr.edges] @ (counts[pr.ea] * counts[pr.eb]))
            else:
                bridged = (counts[pr.ea] > 0) & (counts[pr.eb] > 0)
                A_ub[gap_row[pr.edges[bridged]], j] = -1.0
        if inc_edge.shape[0]:
            A_ub[gap_row[inc_edge], n_cols + np.arange(inc_edge.shape[0])] = 1.0
            value[n_cols:] = inc_value
        bounds = [(0, None)] * n_cols + [(0, 1)] * inc_edge.shape[0]
        lp = linprog(
            -value,
            A_ub=A_ub if gaps.shape[0] else None,
            b_ub=np.zeros(gaps.shape[0]) if gaps.shape[0] else None,
            A_eq=A_eq,
            b_eq=rhs,
            bounds=bounds,
            method="highs",
            options={"time_limit": max(deadline - time.perf_counter(), 0.01)} if timed else None,
        )
        if lp.status != 0:
            break
        pi = -np.asarray(lp.eqlin.marginals)
        lam = -np.asarray(lp.ineqlin.marginals) if gaps.shape[0] else np.zeros(0)
        lam_e = np.zeros(p.n_edges)
        lam_e[gaps] = np.maximum(lam, 0.0)
        # --- Lagrangian bound at these prices; pricing adds improving patterns
        bound = float(pi[:n_team_rows] @ rhs[:n_team_rows])
        added = 0
        cuts: list[PricingCut] = []
        prices: dict[int, tuple[np.ndarray, float]] = {}
        for b in blocks:
            pr = prs[b]
            team_price = pi[[row_of[int(t), b] for t in pr.teams]]
            term_price = p.edge_weight[pr.edges] if sum_mode else lam_e[pr.edges]
            left = min(deadline - time.perf_counter(), 2.0) if timed else None
            priced = None
            if sum_mode:  # exact enumeration from the best generated pattern, if small
                own = np.array([c for bc, c in cols if bc == b], np.int64)
                lower = float((_pattern_values(p, pr, own) - own @ team_price).max())
                priced = _price_sum(p, pr, team_price, lower)
            top, found, cut = priced or _price(pr, term_price, team_price, left, seed, stop)
            if not math.isfinite(top) or cut is None or _set(stop):
                break
            cuts.append(cut)
            prices[b] = (team_price, top)
            bound += float(K_b[b]) * top
            mu = pi[n_team_rows + block_index[b]]
            for counts in found:
                v = (
                    float(p.edge_weight[pr.edges] @ (counts[pr.ea] * counts[pr.eb]))
                    if sum_mode
                    else float(lam_e[pr.edges] @ ((counts[pr.ea] > 0) & (counts[pr.eb] > 0)))
                )
                if v - team_price @ counts - mu > 1e-7 and add(b, counts):
                    added += 1
        if len(cuts) < len(blocks):
            break  # a pricing model found nothing in time: keep the best bound so far
        if not sum_mode:
            # sum_e max_{0<=c<=C_e} f_e(c) - lambda_e c, by the increments (f_e is concave)
            gain = np.maximum(inc_value - lam_e[inc_edge], 0.0)
            bound += float(gain.sum())
        if bound < best:
            best, best_cuts = bound, cuts
            if master is not None:
                master.bound, master.prices = bound, prices
        if added == 0:
            break
    if master is not None:
        master.offset, master.columns = offset, cols
        master.pricing, master.team_block = prs, team_block
    # floating-point slack: LP duals and sums are rounded
    if not math.isfinite(best):
        return math.inf, []
    return best + offset + 1e-9 * max(1.0, abs(best)), best_cuts


@dataclass
class Master:
    """What column generation left behind: its columns and the prices of its best round.

    ``bound`` is the Lagrangian bound of those prices (without ``offset``); ``prices``
    maps a block to ``(team_price, top)``, ``top`` a proven upper bound on
    ``v(P) - team_price . N(P)`` over the block's patterns.
    """

    bound: float = math.inf
    offset: float = 0.0
    prices: dict[int, tuple[np.ndarray, float]] = field(default_factory=dict)
    columns: list[tuple[int, np.ndarray]] = field(default_factory=list)
    pricing: dict[int, _Pricing] = field(default_factory=dict)
    team_block: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))


@dataclass
class _IntegerMaster:
    """Result of :func:`integer_master` (values include the offset).

    ``bound`` is a proven upper bound on every plan (``inf`` if none was proved);
    ``patterns`` maps a block to the team counts of its cohorts, shape ``(K_b, T_b)``, in
    the order of the block's teams (``None`` without a solution); ``value`` is their
    value; ``columns`` is the number of patterns the last integer master had;
    ``assignment`` is a plan with those patterns (staffed by :func:`_realise`).
    """

    bound: float
    value: float
    patterns: dict[int, np.ndarray] | None
    columns: int
    assignment: np.ndarray | None = None


def _set(stop: StopEvent | None) -> bool:
    return stop is not None and stop.is_set()


def _pattern_values(p: CompiledProblem, pr: _Pricing, counts: np.ndarray) -> np.ndarray:
    """``sum``-mode value of patterns (rows of team ``counts``)."""
    return (counts[:, pr.ea] * counts[:, pr.eb]) @ p.edge_weight[pr.edges]


@dataclass
class _Items:
    """What the patterns of one block count: its teams, or its groups of units.

    Items are sorted by team; ``W[i, j]`` is the gap weight between the items' teams
    (0 within a team), so a pattern ``n`` is worth ``n W n / 2``; ``to_team`` sums item
    counts into team counts; ``conflicts[i]`` are earlier items that may not share a
    cohort with item ``i`` (a manager and their reports).
    """

    supply: np.ndarray
    ub: np.ndarray
    price: np.ndarray
    W: np.ndarray
    team: np.ndarray
    to_team: np.ndarray
    conflicts: list[np.ndarray]
    lo: int
    hi: int
    cap: int

    def values(self, counts: np.ndarray) -> np.ndarray:
        return ((counts @ self.W) * counts).sum(axis=1) / 2.0


def _items(p: CompiledProblem, pr: _Pricing, team_price: np.ndarray) -> _Items | None:
    """The teams of ``pr.block`` as items; ``None`` if a gap weight is negative (the
    enumeration bound needs them positive)."""
    weight = p.edge_weight[pr.edges]
    if np.any(weight < 0):
        return None
    b, T = pr.block, pr.teams.shape[0]
    cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
    lo, hi = int(p.cohort_min[cs:ce].min()), int(p.cohort_max[cs:ce].max())
    cap = min(int(p.max_per_team), hi)
    W = np.zeros((T, T))
    np.add.at(W, (pr.ea, pr.eb), weight)
    np.add.at(W, (pr.eb, pr.ea), weight)
    supply = pr.supply.astype(np.int64)
    return _Items(
        supply=supply,
        ub=np.minimum(supply, cap),
        price=np.asarray(team_price, np.float64),
        W=W,
        team=np.arange(T),
        to_team=np.eye(T, dtype=np.int64),
        conflicts=[np.zeros(0, np.int64)] * T,
        lo=lo,
        hi=hi,
        cap=cap,
    )


def _solve_master_ip(
    p: CompiledProblem,
    columns: dict[int, tuple[_Items, np.ndarray]],
    time_limit: float | None,
    exclude: list[np.ndarray] | None = None,
) -> tuple[float, float, dict[int, np.ndarray] | None, np.ndarray | None]:
    """The integer master over ``columns`` (per block: its items and the patterns, as
    rows of item counts), with HiGHS.

    ``x[j]`` cohorts use pattern ``j``. ``exclude`` lists earlier solutions ``x``: for
    the patterns they use, binaries ``z[j, m]`` (``x[j] = m``) carry one no-good row
    each. Returns ``(upper bound, value, patterns, x)`` without the offset, the patterns
    as team counts per cohort; ``(-inf, -inf, None, None)`` when no plan uses only these
    columns.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    blocks = sorted(columns)
    K_b = np.diff(p.block_cohorts)
    cols = [columns[b][1] for b in blocks]
    col_block = np.concatenate([np.full(c.shape[0], i) for i, c in enumerate(cols)])
    value = np.concatenate([columns[b][0].values(c) for b, c in zip(blocks, cols, strict=True)])
    usable = np.concatenate(
        [
            np.minimum(
                np.where(c > 0, columns[b][0].supply // np.maximum(c, 1), K_b[b]).min(axis=1),
                K_b[b],
            )
            for b, c in zip(blocks, cols, strict=True)
        ]
    )
    n_x = value.shape[0]
    # z[j, m] for the patterns of excluded solutions
    exclude = exclude or []
    linked = np.unique(
        np.concatenate([np.flatnonzero(x) for x in exclude] or [np.zeros(0, np.int64)])
    )
    z_of: dict[tuple[int, int], int] = {}
    for j in linked.tolist():
        for m in range(1, int(usable[j]) + 1):
            z_of[j, m] = n_x + len(z_of)
    n_var = n_x + len(z_of)
    r_: list[int] = []
    c_: list[int] = []
    v_: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def row(cols_: list[int], vals: list[float], low: float, high: float) -> None:
        r = len(lo)
        r_.extend([r] * len(cols_))
        c_.extend(cols_)
        v_.extend(vals)
        lo.append(low)
        hi.append(high)

    off = 0
    for i, b in enumerate(blocks):
        items, c = columns[b][0], cols[i]
        for t in range(c.shape[1]):
            nz = np.flatnonzero(c[:, t])
            row((off + nz).tolist(), c[nz, t].astype(float).tolist(), items.supply[t], items.supply[t])
        row(list(range(off, off + c.shape[0])), [1.0] * c.shape[0], K_b[b], K_b[b])
        off += c.shape[0]
    for j in linked.tolist():
        ms = range(1, int(usable[j]) + 1)
        row([j] + [z_of[j, m] for m in ms], [1.0] + [-float(m) for m in ms], 0.0, 0.0)
        row([z_of[j, m] for m in ms], [1.0] * len(ms), 0.0, 1.0)
    for x in exclude:
        used = np.flatnonzero(x)
        row([z_of[int(j), int(x[j])] for j in used], [1.0] * used.shape[0], -np.inf, used.shape[0] - 1.0)
    A = coo_array((v_, (r_, c_)), shape=(len(lo), n_var)).tocsr()
    options: dict[str, Any] = {"mip_rel_gap": 0.0}
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit), 0.01)
    else:
        options["node_limit"] = 20_000  # repeatable without a clock
    upper_var = np.concatenate([usable, np.ones(len(z_of))]).astype(np.float64)
    res = milp(
        -np.concatenate([value, np.zeros(len(z_of))]),
        constraints=LinearConstraint(A, np.array(lo, float), np.array(hi, float)),
        integrality=np.ones(n_var),
        bounds=Bounds(0, upper_var),
        options=options,
    )
    if res.status == 2:  # infeasible
        return -math.inf, -math.inf, None, None
    dual = getattr(res, "mip_dual_bound", None)
    upper = -float(dual) if dual is not None and np.isfinite(dual) else math.inf
    if res.x is None:
        return upper, -math.inf, None, None
    x = np.rint(res.x[:n_x]).astype(np.int64)
    patterns = {}
    for i, b in enumerate(blocks):
        items, c = columns[b][0], cols[i]
        xb = x[col_block == i]
        if xb.sum() != K_b[b] or not np.array_equal(xb @ c, items.supply):
            return upper, -math.inf, None, None
        patterns[b] = np.repeat(c @ items.to_team, xb, axis=0)
    return upper, float(value @ x), patterns, x


def _enumerate_patterns(
    items: _Items,
    min_reduced: float,
    *,
    limit: int,
    frontier: int = 1_000_000,
    beam: int | None = None,
    stop: StopEvent | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Every pattern (item counts) whose reduced value ``d(P) = v(P) - price . N(P)`` is
    at least ``min_reduced``, and its ``d``.

    Enumerated item by item, pruning partial patterns by a bound: each member of an item
    still open gains its gaps to the items placed so far and, at their ``ub``, to later
    open items (valid as gap weights are positive), and the best gains are taken up to
    the room left in the cohort (a fractional knapsack). ``None`` when more than
    ``limit`` patterns pass or more than ``frontier`` partial ones are alive at once.
    With a ``beam``, only that many partial patterns with the best bounds are kept (a
    heuristic: some good patterns, not all). ``None`` too once ``stop`` is set.
    """
    n_items, W, ub, price = items.supply.shape[0], items.W, items.ub, items.price
    later = np.triu(W, 1) @ ub  # gaps to later items, counted at their ub
    rest = np.concatenate([np.cumsum(ub[::-1])[::-1], [0]])  # ub of items i.. on
    tol = 1e-9 * max(1.0, abs(min_reduced))
    F = np.zeros((1, 0), np.int64)
    value = np.zeros(1)
    size = np.zeros(1, np.int64)
    in_team = np.zeros(1, np.int64)  # members of the current item's team so far
    for i in range(n_items):
        if _set(stop):
            return None
        n = np.arange(ub[i] + 1)
        load = F @ W[:i, i]
        value = (value[:, None] + n[None, :] * (load[:, None] - price[i])).ravel()
        grown = np.empty((F.shape[0] * n.shape[0], i + 1), np.int64)
        grown[:, :i] = np.repeat(F, n.shape[0], axis=0)
        grown[:, i] = np.tile(n, F.shape[0])
        F = grown
        size = np.repeat(size, n.shape[0]) + grown[:, i]
        fresh = i == 0 or items.team[i] != items.team[i - 1]
        in_team = (0 if fresh else np.repeat(in_team, n.shape[0])) + grown[:, i]
        ok = (size <= items.hi) & (size + rest[i + 1] >= items.lo) & (in_team <= items.cap)
        if items.conflicts[i].shape[0]:
            ok &= (grown[:, i] == 0) | ~(F[:, items.conflicts[i]] > 0).any(axis=1)
        if i + 1 < n_items:
            # per-member gain of each open item; at most hi - size more members
            gain = F @ W[: i + 1, i + 1 :] + later[i + 1 :] - price[i + 1 :]
            optimistic = value + _knapsack(gain, ub[i + 1 :], items.hi - size)
        else:
            optimistic = value
        ok &= optimistic >= min_reduced - tol
        if beam is not None and ok.sum() > beam:
            ok[ok] = np.argsort(np.argsort(-optimistic[ok], kind="stable"), kind="stable") < beam
        F, value, size, in_team = F[ok], value[ok], size[ok], in_team[ok]
        if F.shape[0] > frontier:
            return None
    return (F, value) if F.shape[0] <= limit else None


def _knapsack(gain: np.ndarray, ub: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Row-wise fractional knapsack: ``max sum_t gain[r,t] n_t`` with ``0 <= n_t <= ub_t``
    and ``sum_t n_t <= room[r]``.

    Examples
    --------
    >>> _knapsack(np.array([[3.0, -1.0, 2.0]]), np.array([2, 2, 2]), np.array([3])).tolist()
    [8.0]
    """
    order = np.argsort(-gain, axis=1, kind="stable")
    g = np.maximum(np.take_along_axis(gain, order, axis=1), 0.0)
    cap = ub[order]
    before = np.cumsum(cap, axis=1) - cap
    take = np.clip(room[:, None] - before, 0, cap)
    return (g * take).sum(axis=1)


def _near_optimal_patterns(
    p: CompiledProblem,
    master: Master,
    b: int,
    min_reduced: float,
    *,
    limit: int,
    stop: StopEvent | None = None,
) -> tuple[_Items, np.ndarray] | None:
    """The patterns of block ``b`` with reduced value at least ``min_reduced`` at the
    prices of ``master`` (None when too many, or once ``stop`` is set)."""
    items = _items(p, master.pricing[b], master.prices[b][0])
    out = None if items is None else _enumerate_patterns(items, min_reduced, limit=limit, stop=stop)
    return None if out is None or items is None else (items, out[0])


def _price_sum(
    p: CompiledProblem,
    pr: _Pricing,
    team_price: np.ndarray,
    lower: float,
    *,
    frontier: int = 200_000,
) -> tuple[float, list[np.ndarray], PricingCut | None] | None:
    """Exact ``sum``-mode pricing by enumeration (see :func:`_price`), given a pattern
    worth ``lower``; ``None`` when the enumeration is too large.

    A beam search first raises ``lower`` to a good pattern's value, so that the exact
    enumeration keeps few patterns.
    """
    items = _items(p, pr, team_price)
    if items is None:
        return None
    good = _enumerate_patterns(items, lower, limit=frontier, beam=256)
    if good is not None and good[1].shape[0]:
        lower = max(lower, float(good[1].max()))
    out = _enumerate_patterns(items, lower, limit=frontier, frontier=frontier)
    if out is None or out[0].shape[0] == 0:
        return None
    F, d = out
    top = float(d.max()) + 1e-9 * max(1.0, abs(float(d.max())))
    best = np.argsort(-d, kind="stable")[:8]
    # integer cut: rounding each coefficient up adds less than its variable's maximum
    coef = np.concatenate([p.edge_weight[pr.edges], -team_price])
    scale = _pricing_scale(coef)
    ic = np.ceil(coef * scale).astype(np.int64)
    ub = items.ub
    slack = float((ub[pr.ea] * ub[pr.eb]).sum() + ub.sum())
    rhs = math.floor(top * scale + slack) + 1
    cut = PricingCut(pr.block, pr.edges, ic[: pr.edges.shape[0]], pr.teams, ic[pr.edges.shape[0] :], rhs)
    return top, [F[i] for i in best], cut


def integer_master(
    problem: CompiledProblem,
    master: Master,
    *,
    incumbent: float = -math.inf,
    time_limit: float | None,
    max_columns: int = 20_000,
    stop: StopEvent | None = None,
) -> _IntegerMaster:
    r"""``sum`` mode: the exact integer pattern master, by reduced-cost column fixing.

    With the column-generation prices :math:`\pi` of :class:`Master`, every plan's value
    is :math:`L - \sum_j (\mathrm{top}_b - d_j) x_j` (:math:`L` the Lagrangian bound,
    :math:`d_j = v(P_j) - \pi_b \cdot N(P_j) \le \mathrm{top}_b`, :math:`x_j` how many
    cohorts use pattern :math:`j`), so a plan worth at least a threshold :math:`T` uses
    only patterns with :math:`d_j \ge \mathrm{top}_b - (L - T)`. These are enumerated
    and the integer master over them solved (HiGHS). A dive comes first: masters over
    the patterns within a smaller slack :math:`g` (:math:`(L - T)/8`, doubled each
    time) give plans that raise :math:`T`, until :math:`g \ge L - T`. Patterns count teams, so managers
    and reports are relaxed: a solution that :func:`_realise` proves cannot be staffed
    is excluded (a no-good) and the master solved again, until a solution is realised
    or none worth more than :math:`T` is left. Every plan is then worth at most
    ``bound``.

    :math:`T` is the better of ``incumbent`` (a plan's value) and the realised integer
    master over the generated columns (price-and-branch). ``bound`` is ``inf`` when more
    than ``max_columns`` patterns pass or time runs out before the first solve.
    """
    p = problem
    nothing = _IntegerMaster(math.inf, -math.inf, None, 0)
    if p.mode != "sum" or not master.prices or not math.isfinite(master.bound):
        return nothing
    timed = time_limit is not None
    deadline = time.perf_counter() + max(time_limit or 0.0, 0.0)

    def left(share: float = 1.0) -> float | None:
        return share * max(deadline - time.perf_counter(), 0.0) if timed else None

    def out_of_time() -> bool:
        return (timed and deadline <= time.perf_counter()) or _set(stop)

    blocks = sorted(master.prices)
    threshold, value, patterns = incumbent - master.offset, -math.inf, None
    # --- price-and-branch: the integer master over the generated columns
    cg: dict[int, tuple[_Items, np.ndarray]] = {}
    for b in blocks:
        items = _items(p, master.pricing[b], master.prices[b][0])
        if items is None:
            return nothing
        cg[b] = (items, np.unique(np.array([c for bc, c in master.columns if bc == b]), axis=0))
    _, v0, pat0, _ = _solve_master_ip(p, cg, left(0.2))
    staffed = None
    if pat0 is not None and v0 > threshold:
        staffed = _realise(p, pat0, time_limit=left(0.2), stop=stop)[0]
        if staffed is not None:
            threshold, value, patterns = v0, v0, pat0
    if not math.isfinite(threshold) or out_of_time():
        return _IntegerMaster(math.inf, value + master.offset, patterns, 0, staffed)
    # --- reduced-cost fixing: a plan worth more than T only uses patterns with
    # d >= top - (L - T). Dive first with a smaller slack g (doubled each time): those
    # masters give plans that raise T; the first stage with g >= L - T is exact.
    def staff(
        columns: dict[int, tuple[_Items, np.ndarray]], floor: float
    ) -> tuple[float, float, dict[int, np.ndarray] | None, np.ndarray | None]:
        """Best master solution worth more than ``floor`` that can be staffed, and an
        upper bound on every solution that can (no-goods exclude those that cannot)."""
        exclude: list[np.ndarray] = []
        upper = math.inf
        while True:
            up, v, pats, x = _solve_master_ip(p, columns, left(), exclude)
            upper = min(upper, up)
            if pats is None or x is None or v <= floor or out_of_time():
                return upper, -math.inf, None, None
            a, impossible = _realise(p, pats, time_limit=left(0.5), stop=stop)
            if a is not None:
                return upper, v, pats, a
            if not impossible:  # not proved unstaffable: stop with this solve's bound
                return upper, -math.inf, None, None
            exclude.append(x)

    assignment = staffed
    gap = master.bound - threshold
    g, bound, total = gap / 8.0, math.inf, 0
    while not out_of_time():
        exact = g >= gap
        use = gap + 1e-6 * max(1.0, abs(master.bound)) if exact else g
        columns: dict[int, tuple[_Items, np.ndarray]] = {}
        total = 0
        for b in blocks:
            found = _near_optimal_patterns(
                p, master, b, master.prices[b][1] - use, limit=max_columns - total, stop=stop
            )
            if found is None:
                return _IntegerMaster(math.inf, value + master.offset, patterns, total, assignment)
            columns[b] = found
            total += found[1].shape[0]
        upper, v, pats, a = staff(columns, threshold)
        if a is not None and v > threshold:
            threshold, value, patterns, assignment = v, v, pats, a
            gap = master.bound - threshold
        if exact:
            bound = max(upper, threshold)
            break
        g *= 2.0
    bound += master.offset + 1e-9 * max(1.0, abs(bound))
    return _IntegerMaster(bound, value + master.offset, patterns, total, assignment)


def _realise(
    problem: CompiledProblem,
    patterns: dict[int, np.ndarray],
    *,
    time_limit: float | None,
    seed: int = 0,
    stop: StopEvent | None = None,
) -> tuple[np.ndarray | None, bool]:
    """A plan whose cohorts have exactly the team counts of ``patterns``.

    Finds which members of each team go where so that every hard rule holds (managers
    apart from their reports, sizes, ``max_per_team``), with a small CP-SAT model.
    Returns ``(assignment, False)``, or ``(None, True)`` when no such plan exists
    (proved), or ``(None, False)`` when that was not settled in time.
    """
    p = problem
    data = model_data(p, None, None, None)
    cm = CohortModel(model=cp_model.CpModel(), data=data, stop=stop)
    try:
        add_count_vars(cm)
        add_rules(cm)
    except ModelStopped:
        return None, False
    team_block = np.zeros((p.n_teams, p.n_blocks), np.int64)
    np.add.at(team_block, (p.unit_team, p.unit_block), 1)
    for b in data.blocks:
        if b not in patterns:
            return None, False
        teams = np.flatnonzero(team_block[:, b])
        ks = data.block_cohorts[b].tolist()
        counts = patterns[b]
        if counts.shape != (len(ks), teams.shape[0]):
            return None, False
        for j, k in enumerate(ks):
            for i, t in enumerate(teams.tolist()):
                cm.model.add(sum(cm.team_count[t, k]) == int(counts[j, i]))
    out = solve_model(
        cm,
        time_limit=time_limit,
        deterministic_time=None if time_limit is not None else 5.0,
        workers=1,
        seed=seed,
        stop=stop,
    )
    if out.status in ("optimal", "feasible"):
        return out.assignment, False
    return None, out.status == "infeasible"
