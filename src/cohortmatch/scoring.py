"""Scoring core: what a plan is worth, in full and incrementally.

The objective over gap edges :math:`e = (a, b)` with weight :math:`w_e` is

.. math::

    \\text{cover}:\\; \\sum_e w_e \\min(c_e, 1) \\qquad
    \\text{diminishing}:\\; \\sum_e w_e \\sum_{i<c_e} \\delta^i \\qquad
    \\text{sum}:\\; \\sum_e w_e \\sum_k n_{k a} n_{k b}

where :math:`c_e` is the number of cohorts holding members of both teams and
:math:`n_{kt}` the number of members of team :math:`t` in cohort :math:`k`.
Coverage is the bridged share of the total gap weight, whatever the mode.

This module is the single source of truth for the value of a plan: solvers use
:class:`SearchState`, reports use :func:`score`, and tests assert they agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compiled import NO_CAP, CompiledProblem

__all__ = ["Score", "score", "bridges", "edge_value", "SearchState"]


@dataclass(frozen=True, eq=False)
class Score:
    """Full evaluation of an assignment.

    Attributes
    ----------
    objective : float
        Value in the problem's coverage mode.
    coverage : float
        Bridged gap weight / total gap weight (0 when there are no gaps).
    bridged_edges : int
        Number of gaps bridged by at least one cohort.
    bridged_weight : float
    edge_cohorts : int64 array (E,)
        :math:`c_e`, cohorts bridging each gap.
    edge_pairs : float64 array (E,)
        Pairs of cohort members across each gap.
    """

    objective: float
    coverage: float
    bridged_edges: int
    bridged_weight: float
    edge_cohorts: np.ndarray
    edge_pairs: np.ndarray


def edge_value(problem: CompiledProblem, edges: np.ndarray, cohorts: np.ndarray) -> np.ndarray:
    """Value of edges bridged by ``cohorts`` cohorts each (``cover``/``diminishing`` modes).

    Examples
    --------
    >>> from cohortmatch.compiled import compile_problem
    >>> from cohortmatch.model import Organisation, Person, Gap, Course, Policy
    >>> org = Organisation(people=[Person(id="p1", team="a"), Person(id="p2", team="b")],
    ...                    gaps=[Gap(a="a", b="b", weight=2.0)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=1, max_size=2)],
    ...                        Policy(coverage="diminishing", decay=0.5))
    >>> edge_value(prob, np.array([0, 0, 0]), np.array([0, 1, 3])).tolist()
    [0.0, 2.0, 3.5]
    """
    w = problem.edge_weight[edges]
    c = np.asarray(cohorts)
    if problem.mode == "cover":
        return w * (c > 0)
    d = problem.decay
    if d >= 1.0:
        return w * c
    return w * (1.0 - np.power(d, c)) / (1.0 - d)


def _objective_from_counts(
    problem: CompiledProblem, edge_cohorts: np.ndarray, edge_pairs: np.ndarray
) -> float:
    if problem.mode == "sum":
        return float(problem.edge_weight @ edge_pairs)
    return float(edge_value(problem, np.arange(problem.n_edges), edge_cohorts).sum())


def bridges(
    problem: CompiledProblem, assignment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (cohort, gap) bridging in an assignment, vectorised.

    Returns
    -------
    cohorts, edges : int64 arrays
        The i-th bridging is gap ``edges[i]`` in cohort ``cohorts[i]``.
    pairs : int64 array
        Member pairs across the gap in that cohort.

    Notes
    -----
    The distinct (cohort, team) presences are joined with the gap adjacency and looked
    up by binary search, so no (cohort x team) matrix is built: the cost is
    O(U log U + sum of the gap degrees of the presences).
    """
    assignment = np.asarray(assignment)
    T = problem.n_teams
    assigned = assignment >= 0
    keys = assignment[assigned].astype(np.int64) * T + problem.unit_team[assigned]
    uk, counts = np.unique(keys, return_counts=True)
    pk = uk // T
    pt = uk - pk * T
    starts = problem.adj_indptr[pt]
    deg = problem.adj_indptr[pt + 1] - starts
    total = int(deg.sum())
    if total == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    rep = np.repeat(np.arange(uk.shape[0]), deg)
    offsets = np.arange(total) - np.repeat(np.cumsum(deg) - deg, deg) + starts[rep]
    nb = problem.adj_team[offsets]
    upper = nb > pt[rep]
    rep, nb, eid = rep[upper], nb[upper], problem.adj_edge[offsets[upper]]
    query = pk[rep] * T + nb
    pos = np.minimum(np.searchsorted(uk, query), uk.shape[0] - 1)
    found = uk[pos] == query
    rep, pos = rep[found], pos[found]
    return pk[rep], eid[found].astype(np.int64), counts[rep] * counts[pos]


def score(problem: CompiledProblem, assignment: np.ndarray) -> Score:
    """Evaluate an assignment from scratch, vectorised.

    Parameters
    ----------
    problem : CompiledProblem
    assignment : int array (U,)
        Cohort index of every unit, -1 for unassigned.

    Returns
    -------
    Score

    See Also
    --------
    bridges : the (cohort, gap) bridgings this is computed from.

    Examples
    --------
    >>> from cohortmatch.compiled import compile_problem
    >>> from cohortmatch.model import Organisation, Person, Gap, Course
    >>> org = Organisation(people=[Person(id=f"p{i}", team="abab"[i]) for i in range(4)],
    ...                    gaps=[Gap(a="a", b="b", weight=2.0)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> s = score(prob, np.array([0, 0, 1, 1]))   # p0 (a) with p1 (b): bridged twice
    >>> s.objective, s.coverage, s.edge_cohorts.tolist()
    (2.0, 1.0, [2])
    """
    E = problem.n_edges
    _, edges, pairs = bridges(problem, assignment)
    edge_cohorts = np.bincount(edges, minlength=E).astype(np.int64)
    edge_pairs = np.bincount(edges, weights=pairs.astype(np.float64), minlength=E)
    bridged = edge_cohorts > 0
    bridged_weight = float(problem.edge_weight[bridged].sum())
    total_weight = problem.total_weight
    return Score(
        objective=_objective_from_counts(problem, edge_cohorts, edge_pairs),
        coverage=bridged_weight / total_weight if total_weight > 0 else 0.0,
        bridged_edges=int(bridged.sum()),
        bridged_weight=bridged_weight,
        edge_cohorts=edge_cohorts,
        edge_pairs=edge_pairs,
    )


class SearchState:
    """Incremental state of an assignment: gains of moves and swaps, and applying them.

    Keeps a team-by-cohort count matrix ``counts[t, k]``, cohort sizes and members,
    and, in ``cover``/``diminishing`` modes, the number of cohorts bridging each gap.
    A move costs O(degree of the unit's team); the gain of moving one unit to every
    cohort of its block is one vectorised expression of O(degree x cohorts).

    Parameters
    ----------
    problem : CompiledProblem
    assignment : int array (U,)
        Starting assignment, -1 for units not yet placed.

    Examples
    --------
    >>> from cohortmatch.compiled import compile_problem
    >>> from cohortmatch.model import Organisation, Person, Gap, Course
    >>> org = Organisation(people=[Person(id=f"p{i}", team="aabb"[i]) for i in range(4)],
    ...                    gaps=[Gap(a="a", b="b", weight=1.0)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> st = SearchState(prob, np.array([0, 0, 1, 1]))   # teams a|a and b|b: nothing bridged
    >>> st.value, st.swap_delta(1, 2)
    (0.0, 1.0)
    >>> _ = st.swap(1, 2); st.value
    1.0
    """

    def __init__(self, problem: CompiledProblem, assignment: np.ndarray):
        self.problem = problem
        self.reset(assignment)

    def reset(self, assignment: np.ndarray) -> None:
        """Rebuild the state for another assignment of the same problem."""
        p = self.problem
        self.assignment = np.array(assignment, dtype=np.int64, copy=True)
        if self.assignment.shape != (p.n_units,):
            raise ValueError(
                f"assignment must have one entry per unit ({p.n_units}); got {self.assignment.shape}"
            )
        K, T = p.n_cohorts, p.n_teams
        max_size = int(p.cohort_max.max()) if K else 1
        dtype = np.int16 if max_size < np.iinfo(np.int16).max else np.int32
        self.counts = np.zeros((T, K), dtype=dtype)
        assigned = self.assignment >= 0
        np.add.at(self.counts, (p.unit_team[assigned], self.assignment[assigned]), 1)
        self.size = np.bincount(self.assignment[assigned], minlength=K).astype(np.int64)
        width = max(max_size, int(self.size.max()) if K else 0) + 1
        self.members = np.full((K, width), -1, dtype=np.int64)
        self.slot = np.full(p.n_units, -1, dtype=np.int64)
        order = np.argsort(self.assignment, kind="stable")
        order = order[self.assignment[order] >= 0]
        ks = self.assignment[order]
        starts = np.searchsorted(ks, np.arange(K))
        pos = np.arange(order.shape[0]) - starts[ks]
        self.members[ks, pos] = order
        self.slot[order] = pos
        full = score(p, self.assignment)
        self.edge_cohorts = full.edge_cohorts.copy()
        self.value = full.objective
        self._sum = p.mode == "sum"

    # ----------------------------------------------------------------- reading
    def members_of(self, cohort: int) -> np.ndarray:
        """Units currently in ``cohort``."""
        return self.members[cohort, : self.size[cohort]]

    def move_gains(self, unit: int) -> np.ndarray:
        """Gain of moving ``unit`` to each cohort of its block (0 for its own cohort).

        Hard rules are not checked here: see :meth:`move_mask`.
        """
        p = self.problem
        b = p.unit_block[unit]
        cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
        t = p.unit_team[unit]
        k1 = int(self.assignment[unit])
        nb, eid = p.neighbours(t)
        if nb.shape[0] == 0:
            return np.zeros(ce - cs)
        w = p.edge_weight[eid]
        block_counts = self.counts[nb, cs:ce]
        if self._sum:
            gains = w @ block_counts
            if k1 >= 0:
                gains -= w @ self.counts[nb, k1]
        else:
            c = self.edge_cohorts[eid]
            removal = 0.0
            if k1 >= 0 and self.counts[t, k1] == 1:
                c_after = c - (self.counts[nb, k1] > 0)
                removal = float((edge_value(p, eid, c_after) - edge_value(p, eid, c)).sum())
                c = c_after
            marginal = edge_value(p, eid, c + 1) - edge_value(p, eid, c)
            gains = marginal @ (block_counts > 0)
            gains *= self.counts[t, cs:ce] == 0
            gains += removal
        if k1 >= 0:
            gains[k1 - cs] = 0.0
        return gains

    def move_gain(self, unit: int, cohort: int) -> float:
        """Gain of moving ``unit`` to ``cohort`` (O(degree))."""
        return self._apply_edges(unit, int(self.assignment[unit]), cohort, dry=True)

    def swap_delta(self, u: int, v: int) -> float:
        """Exact change of value if units ``u`` and ``v`` exchange cohorts."""
        ku, kv = int(self.assignment[u]), int(self.assignment[v])
        if ku == kv:
            return 0.0
        first = self._apply_edges(u, ku, kv, dry=False)
        self._relocate(u, ku, kv)
        second = self._apply_edges(v, kv, ku, dry=True)
        self._apply_edges(u, kv, ku, dry=False)
        self._relocate(u, kv, ku)
        return first + second

    def move_mask(self, unit: int) -> np.ndarray:
        """Cohorts of the unit's block it may move to under every hard rule."""
        p = self.problem
        b = p.unit_block[unit]
        cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
        k1 = int(self.assignment[unit])
        if k1 >= 0 and self.size[k1] <= p.cohort_min[k1]:
            return np.zeros(ce - cs, dtype=bool)
        ok = self.size[cs:ce] < p.cohort_max[cs:ce]
        if p.max_per_team != NO_CAP:
            ok &= self.counts[p.unit_team[unit], cs:ce] < p.max_per_team
        conf = self.assignment[p.conflicts(unit)]
        ok[conf[conf >= 0] - cs] = False
        if k1 >= 0:
            ok[k1 - cs] = False
        return ok

    def swap_allowed(self, u: int, v: int) -> bool:
        """Whether exchanging the cohorts of ``u`` and ``v`` keeps every hard rule."""
        p = self.problem
        ku, kv = int(self.assignment[u]), int(self.assignment[v])
        if ku == kv or ku < 0 or kv < 0:
            return False
        tu, tv = p.unit_team[u], p.unit_team[v]
        if tu != tv and p.max_per_team != NO_CAP:
            if self.counts[tu, kv] >= p.max_per_team or self.counts[tv, ku] >= p.max_per_team:
                return False
        cu = p.conflicts(u)
        if cu.shape[0] and np.any((self.assignment[cu] == kv) & (cu != v)):
            return False
        cv = p.conflicts(v)
        if cv.shape[0] and np.any((self.assignment[cv] == ku) & (cv != u)):
            return False
        return True

    # ---------------------------------------------------------------- changing
    def move(self, unit: int, cohort: int) -> float:
        """Move ``unit`` to ``cohort`` (-1 to unassign); returns the gain."""
        k1 = int(self.assignment[unit])
        if k1 == cohort:
            return 0.0
        gain = self._apply_edges(unit, k1, cohort, dry=False)
        self._relocate(unit, k1, cohort)
        self.value += gain
        return gain

    def swap(self, u: int, v: int) -> float:
        """Exchange the cohorts of ``u`` and ``v``; returns the gain."""
        ku, kv = int(self.assignment[u]), int(self.assignment[v])
        return self.move(u, kv) + self.move(v, ku)

    def _relocate(self, unit: int, k1: int, k2: int) -> None:
        t = self.problem.unit_team[unit]
        if k1 >= 0:
            self.counts[t, k1] -= 1
            last = self.size[k1] - 1
            s = self.slot[unit]
            moved = self.members[k1, last]
            self.members[k1, s] = moved
            self.slot[moved] = s
            self.members[k1, last] = -1
            self.size[k1] = last
        if k2 >= 0:
            self.counts[t, k2] += 1
            s = self.size[k2]
            if s >= self.members.shape[1]:
                grown = np.full((self.members.shape[0], 2 * self.members.shape[1]), -1, np.int64)
                grown[:, : self.members.shape[1]] = self.members
                self.members = grown
            self.members[k2, s] = unit
            self.slot[unit] = s
            self.size[k2] = s + 1
        else:
            self.slot[unit] = -1
        self.assignment[unit] = k2

    def _apply_edges(self, unit: int, k1: int, k2: int, *, dry: bool) -> float:
        """Value change of moving ``unit`` from k1 to k2; updates edge counts unless ``dry``."""
        p = self.problem
        t = p.unit_team[unit]
        nb, eid = p.neighbours(t)
        if nb.shape[0] == 0 or k1 == k2:
            return 0.0
        w = p.edge_weight[eid]
        if self._sum:
            gain = 0.0
            if k2 >= 0:
                gain += float(w @ self.counts[nb, k2])
            if k1 >= 0:
                gain -= float(w @ self.counts[nb, k1])
            return gain
        c_old = self.edge_cohorts[eid]
        c_new = c_old.copy()
        if k1 >= 0 and self.counts[t, k1] == 1:
            c_new -= self.counts[nb, k1] > 0
        if k2 >= 0 and self.counts[t, k2] == 0:
            c_new += self.counts[nb, k2] > 0
        changed = c_new != c_old
        if not changed.any():
            return 0.0
        gain = float((edge_value(p, eid[changed], c_new[changed]) - edge_value(p, eid[changed], c_old[changed])).sum())
        if not dry:
            self.edge_cohorts[eid[changed]] = c_new[changed]
        return gain
