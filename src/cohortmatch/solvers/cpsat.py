"""Exact CP-SAT engine: a model of the problem the scoring core scores, solved with OR-Tools.

Model
-----
Built in the order of the OR-Tools samples: data, variables, constraints, objective,
solve, read back. Units of one team in one block that no rule tells apart (same team,
same manager/report partners, no person-level value or meeting budget) are
interchangeable, so they form one *group* ``g`` and the model counts them instead of
placing them one by one:

* ``n[g,k]`` (int, or bool for a group of one): members of group ``g`` in cohort ``k``;
  ``sum_k n[g,k] = |g|`` and ``min_k <= sum_g n[g,k] <= max_k``;
* ``y[t,k]`` (bool): team ``t`` is present in cohort ``k`` (only teams with a gap);
* ``b[e,k]`` (bool): gap ``e = (a, b)`` is bridged in cohort ``k``, ``b = y[a,k] and
  y[b,k]``, only for gaps whose two teams both take the block (never person pairs);
* ``z[e]`` (cover) or ``z[e,i]`` (diminishing, the i-th bridge of ``e``), and in ``sum``
  mode ``p[e,k] = N[a,k] * N[b,k]`` (team-count products, the "pair variables", only
  where the instance is small enough: see :func:`model_size`).

``max_per_team`` is the domain of the team counts, managers and their reports are kept
apart by presence literals, and interchangeable cohorts of a block are ordered by a
lexicographic key of their group counts (symmetry breaking).

Scaling
-------
CP-SAT needs integer coefficients. The objective coefficients (gap weights, their
``decay`` powers) are multiplied by the smallest power of ten ``10**j`` (``j <= 6``) that
makes every one an integer; if there is none, by a power of two ``S`` that brings the
largest near ``2**30`` and rounded *up*. Rounding up keeps CP-SAT's bound, divided by
``S``, a proven upper bound; the objective CP-SAT optimises then differs from the true
one by less than ``(number of terms) / S`` (relative error ~1e-9). The objective a
plan reports is always the scoring core's (:func:`cohortmatch.scoring.score`).

Bound
-----
The LP relaxation of the count products is weak, so :func:`solve_cpsat` first computes
the decomposition bound (column generation over single-cohort patterns, a proven
Lagrangian bound for any prices; :mod:`cohortmatch.solvers.decomposition`), stops as soon
as a plan meets it, and adds its pricing cuts to the model. In ``sum`` mode that LP has
an integrality gap, so the same module then solves the integer pattern master exactly
(reduced-cost fixing, a dive, no-goods for pattern sets that cannot be staffed), which
gives the optimum and a plan reaching it on the instances of ``benchmarks/cpsat.py``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from ortools.sat.python import cp_model

from ..compiled import NO_CAP, CompiledProblem
from ..errors import CohortmatchError, InfeasibleError, SizeLimitError
from ..scoring import edge_value, score
from .base import Budget, SolverResult
from .heuristic import solve_heuristic

if TYPE_CHECKING:
    from .decomposition import _Cut, _Master

__all__ = [
    "EXACT_LIMIT",
    "MODEL_LIMIT",
    "CohortModel",
    "CpsatOutcome",
    "build_model",
    "explain_or_find",
    "model_size",
    "resolve_workers",
    "solve_cpsat",
    "solve_exact",
    "solve_model",
]

#: ``solver="auto"`` uses the exact model up to this many model variables.
EXACT_LIMIT = 20_000
#: Above this many model variables ``solver="cpsat"`` refuses (``SizeLimitError``).
MODEL_LIMIT = 2_000_000
#: Seconds kept back from the time limit for reading the solution and building the plan.
_MARGIN = 0.05


# ============================================================================ data
@dataclass
class _Data:
    """The (sub)problem a model is built for: units, cohorts, groups and gaps."""

    problem: CompiledProblem
    units: np.ndarray  # sorted unit indices in the model
    blocks: list[int]
    block_cohorts: dict[int, np.ndarray]
    g_block: np.ndarray
    g_team: np.ndarray
    g_units: list[np.ndarray]
    block_groups: dict[int, np.ndarray]
    conflict_pairs: list[tuple[int, int, int]]  # (group, group, manager person)
    base_edge_cohorts: np.ndarray  # cohorts bridging each gap outside the model

    @property
    def g_count(self) -> np.ndarray:
        return np.fromiter((u.shape[0] for u in self.g_units), np.int64, len(self.g_units))


def _individual_units(problem: CompiledProblem, units: np.ndarray) -> np.ndarray:
    """Mask over ``units`` of those that must be modelled one by one.

    Hook for person-level terms: units of people with pair values are individual.
    """
    mask = np.zeros(units.shape[0], dtype=bool)
    pv = getattr(problem, "pair_values", None)
    if pv is not None:
        persons = problem.unit_person[units]
        if hasattr(pv, "getnnz"):
            nnz = np.asarray(pv.getnnz(axis=1)).ravel()
        else:
            nnz = np.count_nonzero(np.asarray(pv), axis=1)
        mask |= nnz[persons] > 0
    return mask


def _data(
    problem: CompiledProblem,
    units: np.ndarray | None,
    cohorts: np.ndarray | None,
    base_edge_cohorts: np.ndarray | None,
) -> _Data:
    p = problem
    units = np.arange(p.n_units) if units is None else np.sort(np.asarray(units, np.int64))
    cohorts = np.arange(p.n_cohorts) if cohorts is None else np.sort(np.asarray(cohorts, np.int64))
    in_model = np.zeros(p.n_units, dtype=bool)
    in_model[units] = True
    individual = _individual_units(p, units)
    keys: dict[tuple[Any, ...], int] = {}
    members: list[list[int]] = []
    deg = p.conflict_indptr[units + 1] - p.conflict_indptr[units]
    for i, u in enumerate(units.tolist()):
        partners: tuple[int, ...] = ()
        if deg[i]:
            c = p.conflicts(u)
            partners = tuple(sorted(c[in_model[c]].tolist()))
        key = (int(p.unit_block[u]), int(p.unit_team[u]), partners, u if individual[i] else -1)
        g = keys.setdefault(key, len(keys))
        if g == len(members):
            members.append([])
        members[g].append(u)
    g_units = [np.asarray(m, np.int64) for m in members]
    group_of = np.full(p.n_units, -1, np.int64)
    for g, m in enumerate(g_units):
        group_of[m] = g
    g_block = np.fromiter((k[0] for k in keys), np.int64, len(keys))
    g_team = np.fromiter((k[1] for k in keys), np.int64, len(keys))
    pairs: dict[tuple[int, int], int] = {}
    for key, g in keys.items():
        for v in key[2]:
            h = int(group_of[v])
            if g < h:
                u = int(g_units[g][0])
                pu, pv = int(p.unit_person[u]), int(p.unit_person[v])
                pairs[(g, h)] = pu if p.person_manager[pv] == pu else pv
    blocks = sorted(set(g_block.tolist()))
    cblock = p.cohort_block[cohorts]
    base = (
        np.zeros(p.n_edges, np.int64)
        if base_edge_cohorts is None
        else np.asarray(base_edge_cohorts, np.int64)
    )
    return _Data(
        problem=p,
        units=units,
        blocks=blocks,
        block_cohorts={b: cohorts[cblock == b] for b in blocks},
        g_block=g_block,
        g_team=g_team,
        g_units=g_units,
        block_groups={b: np.flatnonzero(g_block == b) for b in blocks},
        conflict_pairs=[(g, h, m) for (g, h), m in pairs.items()],
        base_edge_cohorts=base,
    )


def _integer_scale(values: np.ndarray) -> tuple[float, np.ndarray]:
    """``(S, c)`` with integer coefficients ``c >= values * S`` (see the module docstring).

    Examples
    --------
    >>> _integer_scale(np.array([1.5, 2.0]))
    (10.0, array([15, 20]))
    """
    values = np.asarray(values, np.float64)
    if values.size == 0:
        return 1.0, np.zeros(0, np.int64)
    top = float(np.abs(values).max())
    if top == 0.0:
        return 1.0, np.zeros(values.shape[0], np.int64)
    for j in range(7):
        s = 10.0**j
        scaled = values * s
        r = np.round(scaled)
        if top * s < 2.0**40 and np.all(
            np.abs(scaled - r) <= 1e-9 * np.maximum(1.0, np.abs(scaled))
        ):
            return s, r.astype(np.int64)
    s = 2.0 ** math.floor(math.log2(2.0**30 / top))
    return s, np.ceil(values * s).astype(np.int64)


# ======================================================================= the model
@dataclass
class CohortModel:
    """A built CP-SAT model and what is needed to hint, solve and read it back.

    Attributes
    ----------
    model : ortools CpModel
    data : _Data
    n : dict
        ``n[g, k]``: members of group ``g`` in cohort ``k``.
    scale : float
        Objective coefficients are the values times ``scale`` (see the module docstring).
    offset : float
        Objective value of what lies outside the model (earlier rounds, fixed cohorts).
    rules : dict
        ``explain`` mode: assumption literal index -> the rule it enforces, in words.
    """

    model: cp_model.CpModel
    data: _Data
    n: dict[tuple[int, int], Any] = field(default_factory=dict)
    team_count: dict[tuple[int, int], Any] = field(default_factory=dict)
    presence: dict[tuple[int, int], Any] = field(default_factory=dict)
    y: dict[tuple[int, int], Any] = field(default_factory=dict)
    b: dict[tuple[int, int], Any] = field(default_factory=dict)
    ub: dict[int, int] = field(default_factory=dict)
    scale: float = 1.0
    offset: float = 0.0
    explain: bool = False
    rules: dict[int, str] = field(default_factory=dict)
    _rule_lits: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    _derived: list[tuple[Any, Callable[[dict[int, int]], int]]] = field(default_factory=list)
    _terms: list[tuple[Any, float]] = field(default_factory=list)
    _cohort_order: dict[int, np.ndarray] = field(default_factory=dict)

    # -- helpers ------------------------------------------------------------
    def rule(self, key: tuple[Any, ...], words: str) -> Any | None:
        """The assumption literal of a hard rule (``explain`` mode), else None."""
        if not self.explain:
            return None
        lit = self._rule_lits.get(key)
        if lit is None:
            lit = self.model.new_bool_var("rule[" + ",".join(map(str, key)) + "]")
            self._rule_lits[key] = lit
            self.rules[lit.index] = words
        return lit

    def int_var(self, lb: int, ub: int, name: str) -> Any:
        """A new integer (boolean when ``0..1``) variable whose upper bound is remembered."""
        v = (
            self.model.new_bool_var(name)
            if (lb, ub) == (0, 1)
            else self.model.new_int_var(lb, ub, name)
        )
        self.ub[v.index] = ub
        return v

    def upper(self, var: Any) -> int:
        """Upper bound of a variable made by :meth:`int_var`."""
        return self.ub[var.index]

    def derive(self, var: Any, fn: Callable[..., int]) -> Any:
        """Record how ``var`` follows from earlier variables (to complete hints)."""
        self._derived.append((var, fn))
        return var

    def add_term(self, var: Any, value: float) -> None:
        """Add ``value * var`` to the objective (maximised)."""
        if value != 0.0:
            self._terms.append((var, float(value)))


def _enforce(ct: Any, lit: Any | None) -> None:
    if lit is not None:
        ct.only_enforce_if(lit)


def model_size(problem: CompiledProblem) -> int:
    """Estimated number of variables of the exact model (cheap, no model is built).

    Examples
    --------
    >>> from cohortmatch.compiled import compile_problem
    >>> from cohortmatch.model import Organisation, Person, Gap, Course
    >>> org = Organisation(people=[Person(id=f"p{i}", team="ab"[i % 2]) for i in range(6)],
    ...                    gaps=[Gap(a="a", b="b")])
    >>> model_size(compile_problem(org, [Course(id="c", min_size=3, max_size=3)]))
    11
    """
    p = problem
    K_b = np.diff(p.block_cohorts)
    deg = np.diff(p.conflict_indptr)
    team_block = np.zeros((p.n_teams, p.n_blocks), np.int64)
    np.add.at(team_block, (p.unit_team, p.unit_block), 1)
    present = team_block > 0
    groups = present.sum(axis=0) + np.bincount(p.unit_block[deg > 0], minlength=p.n_blocks)
    both = present[p.edge_a] & present[p.edge_b] if p.n_edges else np.zeros((0, p.n_blocks), bool)
    per_block = groups * K_b + (present.sum(axis=0) + both.sum(axis=0)) * K_b
    return int(per_block.sum()) + int(both.sum())


def build_model(
    problem: CompiledProblem,
    *,
    units: np.ndarray | None = None,
    cohorts: np.ndarray | None = None,
    base_edge_cohorts: np.ndarray | None = None,
    hint: np.ndarray | None = None,
    explain: bool = False,
) -> CohortModel:
    """Build the CP-SAT model of a problem, or of the part of it given by ``units``/``cohorts``.

    Parameters
    ----------
    problem : CompiledProblem
    units, cohorts : int arrays, optional
        A sub-problem: these units placed into these cohorts (whole blocks or, for
        large-neighbourhood search, the members of a few cohorts); default everything.
    base_edge_cohorts : int array (E,), optional
        Cohorts outside the model bridging each gap (they shift the value of further
        bridges). Default: what the scoring core counts for an empty plan (earlier rounds).
    hint : int array (U,), optional
        A valid assignment to start from (``add_hint``), relabelled to respect the
        symmetry breaking.
    explain : bool
        Guard every hard rule by an assumption literal and build no objective, to name a
        small set of conflicting rules when there is no solution.

    Returns
    -------
    CohortModel

    Examples
    --------
    >>> from cohortmatch.compiled import compile_problem
    >>> from cohortmatch.model import Organisation, Person, Gap, Course
    >>> org = Organisation(people=[Person(id=f"p{i}", team="aabb"[i]) for i in range(4)],
    ...                    gaps=[Gap(a="a", b="b", weight=1.5)])
    >>> cm = build_model(compile_problem(org, [Course(id="c", min_size=2, max_size=2)]))
    >>> out = solve_model(cm, time_limit=5, workers=1)
    >>> out.status, out.objective, out.assignment.tolist()
    ('optimal', 1.5, [0, 1, 0, 1])
    """
    p = problem
    # --- data
    empty = None
    if base_edge_cohorts is None and units is None:
        empty = score(p, np.full(p.n_units, -1, np.int64))
        base_edge_cohorts = empty.edge_cohorts
    data = _data(p, units, cohorts, base_edge_cohorts)
    cm = CohortModel(model=cp_model.CpModel(), data=data, explain=explain)
    if empty is not None:
        cm.offset = float(empty.objective)
    hint_n = _hint_counts(cm, hint) if hint is not None else None

    # --- variables
    _add_count_vars(cm)
    # --- constraints
    _add_partition(cm)
    _add_sizes(cm)
    _add_team_cap(cm)
    _add_separation(cm)
    _add_symmetry_breaking(cm)
    # --- objective
    if not explain:
        if p.mode == "sum":
            _add_sum_objective(cm)
        else:
            _add_bridge_objective(cm)
        _add_pair_value_objective(cm)
        _set_objective(cm)
    if hint_n is not None:
        _add_hints(cm, hint_n)
    return cm


# ---------------------------------------------------------------------- variables
def _add_count_vars(cm: CohortModel) -> None:
    """``n[g,k]`` for every group and cohort of its block, and team totals ``N[t,k]``."""
    d, p = cm.data, cm.data.problem
    count = d.g_count
    cap = p.max_per_team if not cm.explain else int(NO_CAP)
    for b in d.blocks:
        for k in d.block_cohorts[b].tolist():
            kmax = int(p.cohort_max[k])
            by_team: dict[int, list[Any]] = {}
            for g in d.block_groups[b].tolist():
                ub = min(int(count[g]), kmax, cap)
                v = cm.int_var(0, ub, f"n[{g},{k}]")
                cm.n[g, k] = v
                by_team.setdefault(int(d.g_team[g]), []).append(v)
            for t, vs in by_team.items():
                cm.team_count[t, k] = vs


# -------------------------------------------------------------------- constraints
def _add_partition(cm: CohortModel) -> None:
    """Every unit in exactly one cohort of its block: ``sum_k n[g,k] = |g|``."""
    d = cm.data
    count = d.g_count
    for b in d.blocks:
        ks = d.block_cohorts[b].tolist()
        for g in d.block_groups[b].tolist():
            cm.model.add(sum(cm.n[g, k] for k in ks) == int(count[g]))


def _add_sizes(cm: CohortModel) -> None:
    """``min_k <= size of cohort k <= max_k``."""
    d, p = cm.data, cm.data.problem
    for b in d.blocks:
        ks = d.block_cohorts[b].tolist()
        if not ks:
            continue
        lo, hi = int(p.cohort_min[ks[0]]), int(p.cohort_max[ks[0]])
        lit = cm.rule(("size", b), f"course {p.block_name(b)!r}: cohorts of {lo}-{hi} people")
        for k in ks:
            size = sum(cm.n[g, k] for g in d.block_groups[b].tolist())
            _enforce(cm.model.add(size >= int(p.cohort_min[k])), lit)
            _enforce(cm.model.add(size <= int(p.cohort_max[k])), lit)


def _add_team_cap(cm: CohortModel) -> None:
    """At most ``max_per_team`` members of a team per cohort (a domain, unless explaining)."""
    d, p = cm.data, cm.data.problem
    if p.max_per_team == NO_CAP:
        return
    for (t, k), vs in cm.team_count.items():
        if len(vs) == 1 and not cm.explain:
            continue  # the domain of n[g,k] already holds the cap
        b = int(p.cohort_block[k])
        lit = cm.rule(
            ("cap", b, t),
            f"course {p.block_name(b)!r}: at most {p.max_per_team} members of team "
            f"{p.team_ids[t]!r} per cohort (max_per_team)",
        )
        units = sum(d.g_units[g].shape[0] for g in d.block_groups[b] if d.g_team[g] == t)
        if units <= p.max_per_team:
            continue
        _enforce(cm.model.add(sum(vs) <= p.max_per_team), lit)


def _group_presence(cm: CohortModel, g: int, k: int) -> Any:
    """Literal: group ``g`` has a member in cohort ``k``."""
    key = (g, k)
    if key in cm.presence:
        return cm.presence[key]
    n = cm.n[g, k]
    if cm.data.g_units[g].shape[0] == 1:
        lit = n
    else:
        ub = cm.upper(n)
        lit = cm.int_var(0, 1, f"present[{g},{k}]")
        cm.model.add(n >= lit)
        cm.model.add(n <= ub * lit)
        cm.derive(lit, lambda v, n=n: int(v[n.index] > 0))
    cm.presence[key] = lit
    return lit


def _add_separation(cm: CohortModel) -> None:
    """A manager and their direct reports are never in the same cohort."""
    d, p = cm.data, cm.data.problem
    for g, h, manager in d.conflict_pairs:
        b = int(d.g_block[g])
        lit = cm.rule(
            ("separate", b, manager),
            f"course {p.block_name(b)!r}: manager {p.person_ids[manager]!r} in a different "
            "cohort from their direct reports",
        )
        for k in d.block_cohorts[b].tolist():
            ct = cm.model.add_bool_or([~_group_presence(cm, g, k), ~_group_presence(cm, h, k)])
            _enforce(ct, lit)


def _add_symmetry_breaking(cm: CohortModel) -> None:
    """Cohorts of a block are interchangeable: order them by a key of their group counts.

    The key of cohort ``k`` is the mixed-radix number whose digits are ``n[g,k]`` for
    the first groups of the block (as many as fit in 40 bits); keys must not increase
    from one cohort to the next, which every plan meets after relabelling its cohorts.
    """
    d = cm.data
    for b in d.blocks:
        ks = d.block_cohorts[b].tolist()
        if len(ks) < 2:
            continue
        coef = _symmetry_coefficients(cm, b)
        gs = d.block_groups[b][: len(coef)].tolist()
        keys = [sum(c * cm.n[g, k] for c, g in zip(coef, gs, strict=True)) for k in ks]
        for k1, k2 in zip(keys[:-1], keys[1:], strict=True):
            cm.model.add(k1 >= k2)


def _symmetry_coefficients(cm: CohortModel, b: int) -> list[int]:
    d, p = cm.data, cm.data.problem
    k0 = int(d.block_cohorts[b][0])
    cap = p.max_per_team if not cm.explain else int(NO_CAP)
    radix = [
        min(u.shape[0], int(p.cohort_max[k0]), cap) + 1
        for u in (d.g_units[g] for g in d.block_groups[b])
    ]
    used, total = 0, 1
    for r in radix:
        if total * r > 2**40:
            break
        total *= r
        used += 1
    coef, c = [], 1
    for r in reversed(radix[:used]):
        coef.append(c)
        c *= r
    return coef[::-1]


# ---------------------------------------------------------------------- objective
def _team_presence(cm: CohortModel, t: int, k: int) -> Any:
    """``y[t,k]``: team ``t`` has a member in cohort ``k`` (exact channelling)."""
    if (t, k) in cm.y:
        return cm.y[t, k]
    vs = cm.team_count[t, k]
    if len(vs) == 1 and cm.upper(vs[0]) == 1:
        y = vs[0]
    else:
        ub = sum(cm.upper(v) for v in vs)
        y = cm.int_var(0, 1, f"y[{t},{k}]")
        cm.model.add(sum(vs) >= y)
        cm.model.add(sum(vs) <= ub * y)
        cm.derive(y, lambda val, vs=vs: int(sum(val[v.index] for v in vs) > 0))
    cm.y[t, k] = y
    return y


def _team_total(cm: CohortModel, t: int, k: int) -> Any:
    """``N[t,k]`` as one integer variable."""
    key = (-1 - t, k)
    if key in cm.y:
        return cm.y[key]
    vs = cm.team_count[t, k]
    if len(vs) == 1:
        v = vs[0]
    else:
        v = cm.int_var(0, sum(cm.upper(x) for x in vs), f"N[{t},{k}]")
        cm.model.add(v == sum(vs))
        cm.derive(v, lambda val, vs=vs: int(sum(val[x.index] for x in vs)))
    cm.y[key] = v
    return v


def _block_edges(cm: CohortModel, b: int) -> np.ndarray:
    """Gaps whose two teams both have units of block ``b`` in the model."""
    d, p = cm.data, cm.data.problem
    present = np.zeros(p.n_teams, dtype=bool)
    present[d.g_team[d.block_groups[b]]] = True
    return np.flatnonzero(present[p.edge_a] & present[p.edge_b])


def _add_bridge_objective(cm: CohortModel) -> None:
    """cover / diminishing: ``b[e,k] = y[a,k] and y[b,k]``, then the value of ``c_e``."""
    d, p, m = cm.data, cm.data.problem, cm.model
    per_edge: dict[int, list[Any]] = {}
    for b in d.blocks:
        edges = _block_edges(cm, b)
        if p.mode == "cover":
            edges = edges[d.base_edge_cohorts[edges] == 0]
        for k in d.block_cohorts[b].tolist():
            for e in edges.tolist():
                ya = _team_presence(cm, int(p.edge_a[e]), k)
                yb = _team_presence(cm, int(p.edge_b[e]), k)
                x = m.new_bool_var(f"b[{e},{k}]")
                m.add_implication(x, ya)
                m.add_implication(x, yb)
                m.add_bool_or([~ya, ~yb, x])
                cm.derive(x, lambda v, ya=ya, yb=yb: int(v[ya.index] and v[yb.index]))
                cm.b[e, k] = x
                per_edge.setdefault(e, []).append(x)
    for e, bs in per_edge.items():
        c0 = int(d.base_edge_cohorts[e])
        if p.mode == "cover":
            z = m.new_bool_var(f"z[{e}]")
            m.add_max_equality(z, bs)
            cm.derive(z, lambda v, bs=bs: int(any(v[x.index] for x in bs)))
            cm.add_term(z, float(p.edge_weight[e]))
            continue
        c = c0 + np.arange(len(bs) + 1)
        marginal = np.diff(edge_value(p, np.full(c.shape[0], e), c))
        zs = [m.new_bool_var(f"z[{e},{i}]") for i in range(len(bs))]
        m.add(sum(zs) == sum(bs))
        for i in range(len(zs) - 1):
            m.add_implication(zs[i + 1], zs[i])
        for i, (z, value) in enumerate(zip(zs, marginal.tolist(), strict=True)):
            cm.derive(z, lambda v, bs=bs, i=i: int(sum(v[x.index] for x in bs) > i))
            cm.add_term(z, value)


def _add_sum_objective(cm: CohortModel) -> None:
    """sum: ``w_e * p[e,k]`` with ``p[e,k] = N[a,k] * N[b,k]``."""
    d, p, m = cm.data, cm.data.problem, cm.model
    for b in d.blocks:
        edges = _block_edges(cm, b)
        for k in d.block_cohorts[b].tolist():
            for e in edges.tolist():
                na = _team_total(cm, int(p.edge_a[e]), k)
                nb = _team_total(cm, int(p.edge_b[e]), k)
                x = cm.int_var(0, cm.upper(na) * cm.upper(nb), f"p[{e},{k}]")
                m.add_multiplication_equality(x, [na, nb])
                cm.derive(x, lambda v, na=na, nb=nb: int(v[na.index] * v[nb.index]))
                cm.b[e, k] = x
                cm.add_term(x, float(p.edge_weight[e]))


def _add_pair_value_objective(cm: CohortModel) -> None:
    """Person-level pair values (``sum`` mode): ``V[p,q] * (x[u,k] and x[v,k])``.

    Only pairs with a non-zero value who take the same block get a variable.
    """
    d, p, m = cm.data, cm.data.problem, cm.model
    pv = getattr(p, "pair_values", None)
    if pv is None:
        return
    for b in d.blocks:
        singles = [g for g in d.block_groups[b].tolist() if d.g_units[g].shape[0] == 1]
        persons = np.array([p.unit_person[d.g_units[g][0]] for g in singles], np.int64)
        if persons.shape[0] < 2:
            continue
        sub = pv[persons][:, persons]
        sub = sub.toarray() if hasattr(sub, "toarray") else np.asarray(sub)
        ii, jj = np.nonzero(np.triu(sub, 1))
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            value = float(sub[i, j])
            for k in d.block_cohorts[b].tolist():
                xu, xv = cm.n[singles[i], k], cm.n[singles[j], k]
                q = m.new_bool_var(f"q[{singles[i]},{singles[j]},{k}]")
                m.add_implication(q, xu)
                m.add_implication(q, xv)
                m.add_bool_or([~xu, ~xv, q])
                cm.derive(q, lambda v, xu=xu, xv=xv: int(v[xu.index] and v[xv.index]))
                cm.add_term(q, value)


def _set_objective(cm: CohortModel) -> None:
    if not cm._terms:
        return
    values = np.array([v for _, v in cm._terms])
    cm.scale, coef = _integer_scale(values)
    cm.model.maximize(sum(int(c) * x for (x, _), c in zip(cm._terms, coef.tolist(), strict=True)))


# -------------------------------------------------------------------------- hints
def _hint_counts(cm: CohortModel, hint: np.ndarray) -> dict[tuple[int, int], int]:
    """``n[g,k]`` of an assignment, cohorts relabelled to meet the symmetry breaking."""
    d, p = cm.data, cm.data.problem
    hint = np.asarray(hint, np.int64)
    out: dict[tuple[int, int], int] = {}
    for b in d.blocks:
        ks = d.block_cohorts[b]
        gs = d.block_groups[b]
        local = np.searchsorted(ks, hint[np.concatenate([d.g_units[g] for g in gs])])
        rows = np.repeat(np.arange(gs.shape[0]), [d.g_units[g].shape[0] for g in gs])
        counts = np.zeros((gs.shape[0], ks.shape[0]), np.int64)
        np.add.at(counts, (rows, np.minimum(local, ks.shape[0] - 1)), 1)
        coef = (
            np.array(_symmetry_coefficients(cm, b), np.int64)
            if ks.shape[0] > 1
            else np.zeros(0, np.int64)
        )
        key = coef @ counts[: coef.shape[0]] if coef.shape[0] else np.zeros(ks.shape[0], np.int64)
        order = np.argsort(-key, kind="stable")
        counts = counts[:, order]
        for i, g in enumerate(gs.tolist()):
            for j, k in enumerate(ks.tolist()):
                out[g, k] = int(counts[i, j])
    del p
    return out


def _add_hints(cm: CohortModel, hint_n: dict[tuple[int, int], int]) -> None:
    """Hint every variable: the counts, and all that follows from them."""
    values: dict[int, int] = {}
    for key, v in cm.n.items():
        values[v.index] = hint_n[key]
        cm.model.add_hint(v, hint_n[key])
    for var, fn in cm._derived:
        values[var.index] = fn(values)
        cm.model.add_hint(var, values[var.index])


# ============================================================================ solve
@dataclass
class CpsatOutcome:
    """What a CP-SAT solve returned.

    Attributes
    ----------
    status : str
        ``optimal``, ``feasible``, ``infeasible`` or ``unknown``.
    assignment : int64 array (U,) or None
        Cohort of every unit of the model (-1 elsewhere); None without a solution.
    objective : float
        CP-SAT's objective divided by the scale, plus the offset (nan without a solution).
    bound : float
        CP-SAT's proven upper bound in the same units (``inf`` if none).
    core : list of str
        ``explain`` mode, infeasible: a small set of rules that cannot hold together.
    """

    status: str
    assignment: np.ndarray | None
    objective: float
    bound: float
    core: list[str] = field(default_factory=list)


_STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.UNKNOWN: "unknown",
}


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(
        self, budget: Budget | None, scale: float, offset: float, target: float = math.inf
    ):
        super().__init__()
        self._budget, self._scale, self._offset = budget, scale, offset
        self._target = target

    def on_solution_callback(self) -> None:
        value = self.objective_value / self._scale + self._offset
        if self._budget is not None:
            self._budget.report(value)
            if self._budget.interrupted:  # e.g. the progress callback raised KeyboardInterrupt
                self.stop_search()
        if _reaches(value, self._target):  # a proven bound is met: nothing better exists
            self.stop_search()


def _reaches(value: float, bound: float) -> bool:
    """``value`` meets the proven upper ``bound`` up to floating-point slack."""
    return value >= bound - 1e-6 * max(1.0, abs(bound))


def resolve_workers(workers: int | None) -> int:
    """Number of CP-SAT workers: ``None`` means every core.

    Examples
    --------
    >>> resolve_workers(1)
    1
    """
    if workers is None:
        return max(1, os.cpu_count() or 1)
    if int(workers) < 1:
        raise CohortmatchError(f"The 'workers' must be >= 1 or None. Got {workers!r}.")
    return int(workers)


def solve_model(
    cm: CohortModel,
    *,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int = 0,
    deterministic_time: float | None = None,
    budget: Budget | None = None,
    target: float = math.inf,
) -> CpsatOutcome:
    """Solve a built model and read the solution back as an assignment.

    ``explain`` models are solved under the assumption that every rule holds; when
    infeasible, :attr:`CpsatOutcome.core` names a small conflicting set of rules.
    The search stops early at a solution worth ``target`` (a proven bound).
    """
    d, p = cm.data, cm.data.problem
    solver = cp_model.CpSolver()
    prm = solver.parameters
    if time_limit is not None:
        prm.max_time_in_seconds = max(float(time_limit), 0.001)
    if deterministic_time is not None:
        prm.max_deterministic_time = max(float(deterministic_time), 0.001)
    prm.num_workers = 1 if cm.explain else resolve_workers(workers)
    prm.random_seed = int(seed) % (2**31 - 1)
    prm.log_search_progress = False
    if cm.explain:
        cm.model.clear_assumptions()
        cm.model.add_assumptions(list(cm._rule_lits.values()))
    callback = None
    reporting = budget is not None and budget.progress.callback is not None
    if (reporting or math.isfinite(target)) and not cm.explain:
        callback = _Progress(budget if reporting else None, cm.scale, cm.offset, target)
    try:
        code = solver.solve(cm.model, callback)
    except Exception as exc:  # an OR-Tools failure must not reach the user as a traceback
        raise CohortmatchError(f"the CP-SAT engine failed: {type(exc).__name__}: {exc}") from None
    if code == cp_model.MODEL_INVALID:
        raise CohortmatchError(f"the CP-SAT model is invalid: {cm.model.validate()}")
    status = _STATUS.get(code, "unknown")
    if status == "infeasible":
        core = []
        if cm.explain:
            core = [
                cm.rules[i]
                for i in solver.sufficient_assumptions_for_infeasibility()
                if i in cm.rules
            ]
        return CpsatOutcome("infeasible", None, math.nan, -math.inf, core)
    has_objective = cm.model.has_objective()
    bound = solver.best_objective_bound / cm.scale + cm.offset if has_objective else math.inf
    if status == "unknown":
        return CpsatOutcome("unknown", None, math.nan, bound)
    # --- read back
    a = np.full(p.n_units, -1, np.int64)
    for b in d.blocks:
        ks = d.block_cohorts[b].tolist()
        for g in d.block_groups[b].tolist():
            counts = [int(solver.value(cm.n[g, k])) for k in ks]
            a[d.g_units[g]] = np.repeat(np.asarray(ks, np.int64), counts)
    objective = solver.objective_value / cm.scale + cm.offset if has_objective else cm.offset
    return CpsatOutcome(status, a, objective, bound)


def _seed_of(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


def _time_for(budget: Budget) -> float | None:
    if budget.time_limit is None:
        return None
    return max(budget.remaining() - _MARGIN, 0.01)


def _deterministic_time_for(budget: Budget) -> float | None:
    """Without a time limit, ``work_limit`` moves buy ``work_limit / 1e4`` deterministic seconds."""
    if budget.time_limit is None and budget.work_limit is not None:
        return max(budget.work_limit / 1e4, 0.01)
    return None


def solve_cpsat(
    problem: CompiledProblem,
    *,
    budget: Budget,
    rng: np.random.Generator,
    hint: np.ndarray | None = None,
    workers: int | None = None,
) -> SolverResult:
    """Solve the exact model with CP-SAT within the budget.

    With a ``hint`` (and at least 2.5 s, or no time limit), :func:`decomposition_bound`
    first gets up to a fifth of the time (at most 8 s). In ``sum`` mode the integer
    pattern master (:func:`_integer_master`) then gets up to 40% of what is left (at
    most 12 s): it
    tightens the bound to the optimum of the plans with managers' separation relaxed,
    and its plan, realised person by person when the rules allow, replaces a worse hint.
    When the hint meets the bound it is optimal and CP-SAT does not run, else CP-SAT
    stops as soon as it finds a plan meeting it.

    Returns
    -------
    SolverResult
        Status ``optimal`` when CP-SAT or the decomposition bound proved it, else
        ``feasible``; ``bound`` is the better of CP-SAT's and the decomposition bound.

    Raises
    ------
    SizeLimitError
        The model would exceed :data:`MODEL_LIMIT` variables.
    InfeasibleError
        No plan exists (the message names a small set of conflicting rules), or none was
        found within the time limit and none was given as ``hint``.
    """
    size = model_size(problem)
    if size > MODEL_LIMIT:
        raise SizeLimitError(
            f"the exact model would need about {size} variables (limit {MODEL_LIMIT}); "
            "use solver='auto' or 'lns'"
        )
    if budget.interrupted and hint is not None:
        return SolverResult(hint.copy(), "feasible", math.inf, "cpsat", ["CP-SAT did not run"])
    from .decomposition import _decomposition, _Master  # it builds on this module's model

    dw, notes = math.inf, []
    cuts: list[_Cut] = []
    # the decomposition's first call imports scipy.optimize (about a second): not worth
    # it in a window under half a second
    timed = budget.time_limit is not None
    if hint is not None and (not timed or 0.2 * budget.remaining() >= 0.5):
        master = _Master()
        dw, cuts = _decomposition(
            problem,
            start=hint,
            time_limit=min(0.2 * budget.remaining(), 8.0) if timed else None,
            max_rounds=50,
            seed=_seed_of(rng),
            master=master,
        )
        value = score(problem, hint).objective
        if _reaches(value, dw):
            notes = ["the warm start meets the decomposition bound: it is optimal"]
            return SolverResult(hint.copy(), "optimal", dw, "cpsat", notes)
        if math.isfinite(dw):
            notes = [f"decomposition bound {dw:.6g}"]
        if problem.mode == "sum" and math.isfinite(dw):
            hint, dw = _sum_master_step(problem, master, hint, value, dw, budget, notes)
            if _reaches(score(problem, hint).objective, dw):
                notes.append("the plan meets the integer master bound: it is optimal")
                return SolverResult(hint.copy(), "optimal", dw, "cpsat", notes)
    cm = build_model(problem, hint=hint)
    for cut in cuts:
        _add_cut(cm, cut)
    out = solve_model(
        cm,
        time_limit=_time_for(budget),
        workers=workers,
        seed=_seed_of(rng),
        deterministic_time=_deterministic_time_for(budget),
        budget=budget,
        target=dw,
    )
    out.bound = min(out.bound, dw)
    if out.status == "infeasible":
        raise InfeasibleError(
            explain_or_find(problem, budget=budget, rng=rng).core
            or ["the hard rules cannot all hold together (proved by CP-SAT)"]
        )
    if out.assignment is None:
        if hint is not None:
            return SolverResult(
                hint.copy(),
                "feasible",
                out.bound,
                "cpsat",
                [*notes, "CP-SAT found no better plan than its hint within the time limit"],
            )
        raise InfeasibleError(
            [
                "no plan keeping every hard rule was found within the time limit "
                "(infeasibility is not proven; allow more time)"
            ]
        )
    assignment = out.assignment
    if hint is not None and out.status != "optimal":
        # CP-SAT's first solution is the hint: never return worse than what it was given
        if score(problem, hint).objective > score(problem, assignment).objective:
            assignment = hint.copy()
    status = out.status
    if status != "optimal" and _reaches(score(problem, assignment).objective, out.bound):
        status = "optimal"
    return SolverResult(assignment, status, out.bound, "cpsat", notes)


def _sum_master_step(
    problem: CompiledProblem,
    master: _Master,
    hint: np.ndarray,
    value: float,
    bound: float,
    budget: Budget,
    notes: list[str],
) -> tuple[np.ndarray, float]:
    """``sum`` mode: tighten ``bound`` by the exact integer master, and take its plan as
    the hint when it can be realised and beats ``value`` (the hint's). Appends notes.
    """
    from .decomposition import _integer_master  # it builds on this module's model

    timed = budget.time_limit is not None
    im = _integer_master(
        problem,
        master,
        incumbent=value,
        time_limit=min(0.4 * budget.remaining(), 12.0) if timed else None,
    )
    if im.bound < bound:
        bound = im.bound
        notes.append(f"integer master bound {bound:.6g} ({im.columns} patterns)")
    a = im.assignment
    if a is not None and score(problem, a).objective > value:
        hint = a
        notes.append("the integer master's plan improved the warm start")
    return hint, bound


def explain_or_find(
    problem: CompiledProblem,
    *,
    budget: Budget,
    rng: np.random.Generator,
    minimise: bool = True,
) -> CpsatOutcome:
    """Find any plan keeping every hard rule, or name a small set of rules that conflict.

    Every hard rule (cohort sizes of a course, ``max_per_team`` for a team in a course,
    a manager kept apart from their reports) is guarded by an assumption literal;
    CP-SAT's ``sufficient_assumptions_for_infeasibility`` gives a conflicting subset,
    which is then shrunk by deletion (a rule stays only if the rest is satisfiable
    without it) while time allows.

    Returns
    -------
    CpsatOutcome
        ``feasible`` with an assignment, ``infeasible`` with ``core`` in plain words, or
        ``unknown`` when the time ran out.
    """
    cm = build_model(problem, explain=True)
    seed = _seed_of(rng)
    out = solve_model(
        cm,
        time_limit=_time_for(budget),
        seed=seed,
        deterministic_time=_deterministic_time_for(budget),
    )
    if out.status != "infeasible" or not minimise:
        return out
    words_to_lit = {
        w: lit for lit, w in ((lit, cm.rules[lit.index]) for lit in cm._rule_lits.values())
    }
    core = list(out.core)
    i = 0
    while i < len(core) and len(core) > 1 and budget.remaining() > 0.1:
        trial = core[:i] + core[i + 1 :]
        cm.model.clear_assumptions()
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        limit = _time_for(budget)
        if limit is not None:
            solver.parameters.max_time_in_seconds = min(limit, 5.0)
        cm.model.add_assumptions([words_to_lit[w] for w in trial])
        try:
            code = solver.solve(cm.model)
        except Exception:  # pragma: no cover - keep the core found so far
            break
        if code == cp_model.INFEASIBLE:
            core = trial
        else:
            i += 1
    cm.model.clear_assumptions()
    return CpsatOutcome("infeasible", None, math.nan, -math.inf, core)


def _add_cut(cm: CohortModel, cut: _Cut) -> None:
    """A pricing cut on every cohort of its block (terms absent from the model are 0)."""
    d = cm.data
    if cut.block not in d.block_cohorts:
        return
    for k in d.block_cohorts[cut.block].tolist():
        expr = [
            c * cm.b[e, k]
            for e, c in zip(cut.edges.tolist(), cut.term_coef.tolist(), strict=True)
            if c > 0 and (e, k) in cm.b
        ]
        expr += [
            c * _team_total(cm, t, k)
            for t, c in zip(cut.teams.tolist(), cut.team_coef.tolist(), strict=True)
            if c != 0 and (t, k) in cm.team_count
        ]
        if expr:
            cm.model.add(sum(expr) <= cut.rhs)


# =================================================================== exact engine
def solve_exact(
    problem: CompiledProblem,
    *,
    budget: Budget,
    rng: np.random.Generator,
    start: np.ndarray | None = None,
    target: float = math.inf,
    workers: int | None = None,
) -> SolverResult:
    """The exact engine: a short heuristic run for a warm start, then CP-SAT.

    The heuristic gets a tenth of the time (at most 2 s) and of the work limit; its plan
    is CP-SAT's hint. If it reaches ``target`` (a proven bound) it is optimal already. If
    its repair fails (not a proof), CP-SAT starts without a hint and either finds a plan
    or proves there is none.
    """
    notes: list[str] = []
    hint = None
    # the warm start; a given start is repaired and improved the same way
    remaining = budget.remaining()
    warm = Budget(
        time_limit=min(0.1 * remaining, 2.0) if math.isfinite(remaining) else None,
        work_limit=min(
            budget.work_limit or 50 * problem.n_units + 1000, 50 * problem.n_units + 1000
        ),
        progress=budget.progress,
    )
    try:
        h = solve_heuristic(problem, budget=warm, rng=rng, target=target, start=start)
    except InfeasibleError:
        if start is not None:
            raise
        notes.append("the heuristic found no valid start; CP-SAT searched from scratch")
    else:
        if h.status == "optimal":
            return SolverResult(
                h.assignment,
                "optimal",
                h.bound,
                "cpsat",
                ["the warm start reached the proven bound; CP-SAT was not needed"],
            )
        hint = h.assignment
    result = solve_cpsat(problem, budget=budget, rng=rng, hint=hint, workers=workers)
    result.notes = notes + result.notes
    return result
