"""A proven upper bound on the gap value of any re-plan with the fewest moves.

When the moves a re-plan makes equal the per-cohort counting bound
(:func:`~cohortmatch.replanning.repair.label_lower_bounds`), every re-plan with that
many moves keeps everyone of an untroubled published cohort where they are, and moves
exactly the counted number out of each troubled cohort (with ``keep_apart``,
``max_per_team`` and pins only: people who break a rule there, since moving anyone else
mends nothing). Only the *free* units are placed: newcomers and those offenders. The
bound relaxes that placement problem:

1. The fixed units alone bridge gap :math:`e` in :math:`c^0_e` cohorts, worth
   :math:`V_0`. The value is concave in :math:`c_e`, so
   :math:`V \\le V_0 + \\sum_e s_e \\Delta_e` with the slope
   :math:`s_e = v_e(c^0_e + 1) - v_e(c^0_e)` and :math:`\\Delta_e` the cohorts newly
   bridging :math:`e`.
2. In a cohort :math:`k` with fixed teams :math:`T_k` and room for :math:`r_k` more, a
   team :math:`t \\notin T_k` that a free unit brings adds at most
   :math:`g_{tk} = \\sum_{b \\in T_k} s_{tb}` for its gaps to fixed teams, plus half of
   its :math:`r_k - 1` largest slopes to the free units' teams outside :math:`T_k` for its
   gaps to the other newcomers of the cohort (each such gap is counted from both ends). A team
   already in :math:`T_k` adds nothing. A cohort with no fixed members (a new one) is
   worth at most half of the unit's :math:`m - 1` largest slopes to free units' teams.
3. The best placement under these credits is a linear program (each free unit in one
   cohort of its block with room, cohort room and minimum sizes, a team credited once
   per cohort, the number of offenders staying in each troubled cohort); its optimum
   (HiGHS) plus :math:`V_0` bounds every re-plan with the fewest moves.

The bound ignores the other rules (more plans, so still a bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from ..compiled import CompiledProblem
from ..rules import active
from ..scoring import edge_value, score
from .anchors import home_of
from .previous import Previous
from .repair import label_lower_bounds

__all__ = ["ValueBound", "fewest_moves_value_bound"]

#: The most (free unit, cohort) cells the linear program takes (about 48,000 at 10,000 people).
MAX_CELLS = 2_000_000
#: Rules whose offences only moving an offender mends.
PAIRWISE = frozenset({"sizes", "keep_apart", "max_per_team", "pinned"})


@dataclass(frozen=True, eq=False)
class ValueBound:
    """A proven bound on the gap value at the fewest moves, and its parts.

    Attributes
    ----------
    bound : float
        No plan with the fewest moves has a larger gap value.
    fixed_value : float
        :math:`V_0`, the value of the people who must stay where they are, alone.
    free_units : int
        Units the bound places: newcomers and the people who may move.
    placement : int64 array (U,) or None
        The linear program's placement when it is whole and opens no new cohort: a
        candidate plan with the fewest moves (the rules it relaxes are not checked).
    """

    bound: float
    fixed_value: float
    free_units: int
    placement: np.ndarray | None = None


def fewest_moves_value_bound(problem: CompiledProblem, prev: Previous, anchor: np.ndarray,
                             moves: int, *, time_limit: float = math.inf) -> ValueBound | None:
    """An upper bound on the gap value of every re-plan moving ``moves`` people, when that is the fewest.

    Parameters
    ----------
    problem : CompiledProblem
        Today's request.
    prev : Previous
        The published plan read against it.
    anchor : int64 array (K,)
        The labels the cohorts continue (:func:`~cohortmatch.replanning.anchors.initial_anchor`).
    moves : int
        The moves of a re-plan; the bound needs them to equal the sum of
        :func:`~cohortmatch.replanning.repair.label_lower_bounds` (then they are the fewest).
    time_limit : float, optional
        Seconds the linear program may take (stopped early, the bound is looser but holds).

    Returns
    -------
    ValueBound or None
        None where the argument does not apply: ``sum`` mode, person-level pair values,
        fit, seats, history, a published cohort not continued, ``moves`` above the counting
        bound, or more than :data:`MAX_CELLS` (free unit, cohort) pairs.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> from cohortmatch.replanning.previous import read_previous
    >>> from cohortmatch.replanning.anchors import initial_anchor
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="abcd"[i % 4]) for i in range(8)],
    ...                       gaps=[cm.Gap(a="a", b="b"), cm.Gap(a="c", b="d")])
    >>> c = cm.Course(id="c", min_size=4, max_size=4)
    >>> before = cm.plan(org, [c], time_limit=None, work_limit=500, seed=1)
    >>> today = cm.Request(org=org, courses=[c], policy=cm.Policy(keep_apart=[before.cohorts[0].members[:2]]))
    >>> problem = today.compile()
    >>> prev = read_previous(before, problem)
    >>> vb = fewest_moves_value_bound(problem, prev, initial_anchor(problem, prev), 1)
    >>> vb.free_units, vb.bound >= cm.replan(before, today, time_limit=None, work_limit=500, seed=1).metrics.objective
    (2, True)
    """
    p = problem
    if (p.mode not in ("cover", "diminishing") or p.pair_values is not None or p.fit_weight > 0
            or p.block_seats is not None or p.history_edge_cohorts.any() or p.n_edges == 0):
        return None
    home = home_of(prev, anchor)
    if bool(((prev.unit_label >= 0) & (home < 0)).any()):
        return None
    per_label = label_lower_bounds(p, prev, anchor)
    if int(per_label.sum()) != moves:
        return None
    fixed_at, free, stay_rows = _split(p, prev, home, per_label)
    c0 = score(p, fixed_at).edge_cohorts
    edges = np.arange(p.n_edges)
    v0 = float(edge_value(p, edges, c0).sum())
    slope = edge_value(p, edges, c0 + 1) - edge_value(p, edges, c0)
    gain, placement = _PlacementLP(p, fixed_at, free, slope, home).solve(stay_rows, time_limit)
    if not math.isfinite(gain):
        return None
    return ValueBound(bound=v0 + gain, fixed_value=v0, free_units=int(free.shape[0]), placement=placement)


def _split(p: CompiledProblem, prev: Previous, home: np.ndarray,
           per_label: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, int]]]:
    """Where the fixed units sit (-1: free), the free units, and per troubled cohort
    (its offenders, how many of them stay)."""
    pin = np.full(p.n_units, -1, np.int64)
    pin[p.pin_unit] = p.pin_cohort
    view = np.where(pin >= 0, pin, home)
    lab = prev.unit_label
    troubled = (lab >= 0) & (per_label[np.maximum(lab, 0)] > 0) & (pin < 0)
    rules = active(p)
    offender = np.zeros(p.n_units, bool)
    if all(r.name in PAIRWISE for r in rules):
        for r in rules:
            if r.name != "sizes":
                offender[r.offenders(view)] = True
        size = np.bincount(view[view >= 0], minlength=p.n_cohorts)
        offender |= (view >= 0) & (size[np.maximum(view, 0)] > p.cohort_max[np.maximum(view, 0)])
    else:
        offender[:] = True
    loose = troubled & offender
    fixed_at = np.where(loose | ((lab < 0) & (pin < 0)), -1, view)
    rows = []
    for x in np.unique(lab[loose]).tolist():
        units = np.flatnonzero(loose & (lab == x))
        must = int(((lab == x) & (pin >= 0) & (pin != home)).sum())
        rows.append((units, units.shape[0] - (int(per_label[x]) - must)))
    return fixed_at, np.flatnonzero(fixed_at < 0), rows


class _PlacementLP:
    """The linear program of the module docstring, step 3."""

    def __init__(self, p: CompiledProblem, fixed_at: np.ndarray, free: np.ndarray, slope: np.ndarray,
                 home: np.ndarray):
        self.p, self.free, self.home, self.fixed_at = p, free, home, fixed_at
        placed = fixed_at >= 0
        counts = sp.coo_matrix((np.ones(int(placed.sum())), (fixed_at[placed], p.unit_team[placed])),
                               shape=(p.n_cohorts, p.n_teams)).tocsr()
        self.counts = counts
        self.size = np.asarray(counts.sum(axis=1)).ravel().astype(np.int64)
        self.room = p.cohort_max - self.size
        self.S = sp.coo_matrix((np.concatenate([slope, slope]),
                                (np.concatenate([p.edge_a, p.edge_b]), np.concatenate([p.edge_b, p.edge_a]))),
                               shape=(p.n_teams, p.n_teams)).tocsr()
        self.present = (counts > 0).astype(np.float64).tocsr()
        self.free_team = np.zeros(p.n_teams, bool)  # the only teams a newcomer can meet among newcomers
        self.free_team[p.unit_team[free]] = True

    def _top_half(self, t: int, r: int, here: np.ndarray | None = None) -> float:
        """Half the ``r`` largest slopes from team ``t`` to the free units' teams not in ``here`` (a mask)."""
        if r <= 0:
            return 0.0
        lo, hi = self.S.indptr[t], self.S.indptr[t + 1]
        cols = self.S.indices[lo:hi]
        keep = self.free_team[cols] if here is None else self.free_team[cols] & ~here[cols]
        vals = self.S.data[lo:hi][keep]
        return 0.5 * float(np.sort(vals)[::-1][:r].sum())

    def solve(self, stay_rows: list[tuple[np.ndarray, int]], time_limit: float) -> tuple[float, np.ndarray | None]:
        """The linear program's optimum, and its placement when that is whole (see :meth:`_lp`)."""
        p, free = self.p, self.free
        if free.shape[0] == 0:
            return 0.0, self.fixed_at.copy()
        used = self.size > 0
        cand = np.union1d(np.flatnonzero(used & (self.room > 0)), self.home[free][self.home[free] >= 0])
        if free.shape[0] * cand.shape[0] > MAX_CELLS:
            return math.inf, None
        teams, team_row = np.unique(p.unit_team[free], return_inverse=True)
        counts = self.counts[cand][:, teams].toarray().T
        credit = self._credits(cand, teams, counts)
        empty = {b: int((~used[slice(*p.block_of_cohort_range(b))]).sum())
                 for b in np.unique(p.unit_block[free]).tolist()}
        ci: list[int] = []
        ck: list[int] = []
        cx: list[float] = []
        y_index: dict[tuple[int, int], int] = {}
        for n, i in enumerate(free.tolist()):
            r, b = int(team_row[n]), int(p.unit_block[i])
            ok = (p.cohort_block[cand] == b) & ((counts[r] < p.max_per_team) | (cand == self.home[i]))
            for j in np.flatnonzero(ok).tolist():
                ci.append(i)
                ck.append(int(cand[j]))
                cx.append(0.0)
                if counts[r, j] == 0:
                    y_index.setdefault((r, j), len(y_index))
            if empty[b]:  # a new cohort: half its best gaps to the others there
                ci.append(i)
                ck.append(-1 - b)
                cx.append(self._top_half(int(teams[r]), int(p.cohort_max[p.block_of_cohort_range(b)[0]]) - 1))
        cy = np.array([credit[r, j] for r, j in y_index], np.float64)
        y_pairs = {(int(teams[r]), int(cand[j])): y for (r, j), y in y_index.items()}
        return self._lp(np.array(ci, np.int64), np.array(ck, np.int64), np.array(cx), y_pairs, cy, empty,
                        stay_rows, time_limit)

    def _credits(self, cand: np.ndarray, teams: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Per team and candidate cohort: what bringing the team there may add (0: it is there)."""
        fixed_gain = (self.S[teams] @ self.present[cand].T).toarray()
        credit = np.where(counts == 0, fixed_gain, 0.0)
        for j in np.flatnonzero(self.room[cand] >= 2).tolist():  # gaps to other newcomers there
            k = int(cand[j])
            here = self.present.getrow(k).toarray().ravel() > 0
            credit[:, j] += [self._top_half(int(t), int(self.room[k]) - 1, here) if counts[r, j] == 0 else 0.0
                             for r, t in enumerate(teams.tolist())]
        return credit

    def _lp(self, ci: np.ndarray, ck: np.ndarray, cx: np.ndarray, y_index: dict[tuple[int, int], int],
            cy: np.ndarray, new_of_block: dict[int, int], stay_rows: list[tuple[np.ndarray, int]],
            time_limit: float) -> tuple[float, np.ndarray | None]:
        """The optimum, and the placement when it is whole and opens no cohort."""
        a_eq, b_eq = self._placed_once(ci, ck, cy.shape[0], stay_rows)
        a_ub, b_ub = self._room(ci, ck, y_index, new_of_block)
        res = linprog(-np.concatenate([cx, cy]), A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                      bounds=(0.0, 1.0), method="highs",
                      options={"time_limit": max(time_limit, 0.01)} if math.isfinite(time_limit) else None)
        if res.status != 0:  # stopped (or no placement at all): every unit takes its best credit
            return float(np.maximum.reduceat(cx, np.r_[0, np.flatnonzero(np.diff(ci)) + 1]).sum() + cy.sum()), None
        x = res.x[: ci.shape[0]]
        chosen = x > 0.5
        if np.abs(x - chosen).max() > 1e-6 or (ck[chosen] < 0).any():
            return float(-res.fun), None
        placement = self.fixed_at.copy()
        placement[ci[chosen]] = ck[chosen]
        return float(-res.fun), placement

    def _placed_once(self, ci: np.ndarray, ck: np.ndarray, ny: int,
                     stay_rows: list[tuple[np.ndarray, int]]) -> tuple[sp.csr_matrix, list[float]]:
        """Equalities: each free unit in one cohort; so many offenders of each troubled cohort stay."""
        nx = ci.shape[0]
        row_of_unit = {u: r for r, u in enumerate(self.free.tolist())}
        eq_r, eq_c, eq_b = [row_of_unit[u] for u in ci.tolist()], list(range(nx)), [1.0] * self.free.shape[0]
        for units, stay in stay_rows:
            at_home = np.flatnonzero(np.isin(ci, units) & (ck == self.home[ci]))
            eq_r += [len(eq_b)] * at_home.shape[0]
            eq_c += at_home.tolist()
            eq_b.append(float(stay))
        return sp.csr_matrix((np.ones(len(eq_c)), (eq_r, eq_c)), shape=(len(eq_b), nx + ny)), eq_b

    def _room(self, ci: np.ndarray, ck: np.ndarray, y_index: dict[tuple[int, int], int],
              new_of_block: dict[int, int]) -> tuple[sp.csr_matrix, list[float]]:
        """Inequalities: cohort room and minimum sizes; a team's credit needs one of its units there."""
        p, nx = self.p, ci.shape[0]
        ub_r: list[int] = []
        ub_c: list[int] = []
        ub_v: list[float] = []
        ub_b: list[float] = []
        for k in np.unique(ck).tolist():
            j = np.flatnonzero(ck == k).tolist()
            room = (new_of_block[-1 - k] * int(p.cohort_max[p.block_of_cohort_range(-1 - k)[0]])
                    if k < 0 else int(self.room[k]))
            short = int(p.cohort_min[k]) - int(self.size[k]) if k >= 0 and self.size[k] > 0 else 0
            for sign, limit in ((1.0, room), (-1.0, -short)) if short > 0 else ((1.0, room),):
                ub_r += [len(ub_b)] * len(j)
                ub_c += j
                ub_v += [sign] * len(j)
                ub_b.append(float(limit))
        ny = len(y_index)
        ys = np.array([y_index.get((int(t), int(k)), -1) for t, k in zip(p.unit_team[ci].tolist(), ck.tolist(),
                                                                          strict=True)], np.int64)
        has = np.flatnonzero(ys >= 0)
        first = len(ub_b)
        ub_r += list(range(first, first + ny)) + (first + ys[has]).tolist()
        ub_c += list(range(nx, nx + ny)) + has.tolist()
        ub_v += [1.0] * ny + [-1.0] * has.shape[0]
        ub_b += [0.0] * ny
        return sp.csr_matrix((ub_v, (ub_r, ub_c)), shape=(len(ub_b), nx + ny)), ub_b
