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
from numba import njit

from .compiled import NO_CAP, CompiledProblem
from .meetings import MeetingCounter

__all__ = ["Score", "score", "bridges", "edge_value", "pair_score", "SearchState"]


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
    pair_value: float = 0.0


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


@njit(cache=True)
def _edge_gain(w, c, cover, decay):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Value of bridging a gap of weight ``w`` once more when ``c`` cohorts bridge it.

    The scalar form of ``edge_value(c + 1) - edge_value(c)`` (``cover``/``diminishing``).
    """
    if cover:
        return w if c == 0 else 0.0
    if decay >= 1.0:
        return w
    return w * (decay**c - decay ** (c + 1)) / (1.0 - decay)


@njit(cache=True)
def _move_gain(t, k1, k2, counts, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay):  # type: ignore[no-untyped-def]  # noqa: E501  # pragma: no cover
    """Gain of moving a member of team ``t`` from cohort ``k1`` to ``k2`` (-1: none).

    ``cover``/``diminishing`` modes, O(degree of ``t``): leaving ``k1`` as the team's last
    member there unbridges its gaps to the teams present in ``k1``; joining ``k2`` as
    the team's first bridges its gaps to the teams present in ``k2``, each valued at
    the gap's bridging count after the leave. The one formula behind
    :meth:`SearchState.move_gain` and the compiled local search.
    """
    if k1 == k2:
        return 0.0
    leave = k1 >= 0 and counts[t, k1] == 1
    join = k2 >= 0 and counts[t, k2] == 0
    gain = 0.0
    if not (leave or join):
        return gain
    for j in range(adj_indptr[t], adj_indptr[t + 1]):
        nb = adj_team[j]
        e = adj_edge[j]
        c = edge_cohorts[e]
        if leave and counts[nb, k1] > 0:
            c -= 1
            gain -= _edge_gain(edge_weight[e], c, cover, decay)
        if join and counts[nb, k2] > 0:
            gain += _edge_gain(edge_weight[e], c, cover, decay)
    return gain


def _objective_from_counts(
    problem: CompiledProblem, edge_cohorts: np.ndarray, edge_pairs: np.ndarray
) -> float:
    if problem.mode == "sum":
        return float(problem.edge_weight @ edge_pairs)
    return float(edge_value(problem, np.arange(problem.n_edges), edge_cohorts).sum())


def bridges(
    problem: CompiledProblem, assignment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (cohort, gap) bridging in an assignment.

    Returns
    -------
    cohorts, edges : int64 arrays
        The i-th bridging is gap ``edges[i]`` in cohort ``cohorts[i]``, sorted by cohort.
    pairs : int64 array
        Member pairs across the gap in that cohort.

    Notes
    -----
    One compiled pass (numba) over the cohorts: mark the teams present in a cohort, then
    look up each present team's gap neighbours among the marks. Cost
    O(units + sum of the gap degrees of the (cohort, team) presences), with no
    (cohort x team) matrix and no large temporaries.

    Examples
    --------
    >>> from cohortmatch.compiled import compile_problem
    >>> from cohortmatch.model import Organisation, Person, Gap, Course
    >>> org = Organisation(people=[Person(id=f"p{i}", team="aab"[i]) for i in range(3)],
    ...                    gaps=[Gap(a="a", b="b")])
    >>> prob = compile_problem(org, [Course(id="c", min_size=3, max_size=3)])
    >>> [x.tolist() for x in bridges(prob, np.array([0, 0, 0]))]
    [[0], [0], [2]]
    """
    return _bridges_kernel(
        np.asarray(assignment, dtype=np.int64),
        problem.unit_team,
        problem.n_cohorts,
        problem.adj_indptr,
        problem.adj_team,
        problem.adj_edge,
        problem.n_teams,
    )


@njit(cache=True)
def _bridges_kernel(assignment, unit_team, n_cohorts, adj_indptr, adj_team, adj_edge, n_teams):  # type: ignore[no-untyped-def]  # pragma: no cover
    # counting sort: the teams of each cohort's members, cohort by cohort
    ptr = np.zeros(n_cohorts + 1, np.int64)
    for u in range(assignment.shape[0]):
        if assignment[u] >= 0:
            ptr[assignment[u] + 1] += 1
    for k in range(n_cohorts):
        ptr[k + 1] += ptr[k]
    fill = ptr[:-1].copy()
    teams = np.empty(ptr[n_cohorts], np.int32)
    for u in range(assignment.shape[0]):
        k = assignment[u]
        if k >= 0:
            teams[fill[k]] = unit_team[u]
            fill[k] += 1
    stamp = np.full(n_teams, -1, np.int64)
    count = np.zeros(n_teams, np.int64)
    out_k = np.empty(64, np.int64)
    out_e = np.empty(64, np.int64)
    out_n = np.empty(64, np.int64)
    n_out = 0
    for k in range(n_cohorts):
        for i in range(ptr[k], ptr[k + 1]):
            t = teams[i]
            if stamp[t] != k:
                stamp[t] = k
                count[t] = 0
            count[t] += 1
        for i in range(ptr[k], ptr[k + 1]):
            t = teams[i]
            if count[t] < 0:  # this team's neighbours were looked up already
                continue
            for j in range(adj_indptr[t], adj_indptr[t + 1]):
                nb = adj_team[j]
                if nb > t and stamp[nb] == k:
                    if n_out == out_k.shape[0]:
                        out_k = np.concatenate((out_k, np.empty_like(out_k)))
                        out_e = np.concatenate((out_e, np.empty_like(out_e)))
                        out_n = np.concatenate((out_n, np.empty_like(out_n)))
                    out_k[n_out] = k
                    out_e[n_out] = adj_edge[j]
                    out_n[n_out] = count[t] * abs(count[nb])
                    n_out += 1
            count[t] = -count[t]  # done; the magnitude stays for later partners
    return out_k[:n_out].copy(), out_e[:n_out].copy(), out_n[:n_out].copy()


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
    if problem.history_edge_cohorts.shape[0]:  # earlier rounds count as bridged
        edge_cohorts = edge_cohorts + problem.history_edge_cohorts
        edge_pairs = edge_pairs + problem.history_edge_pairs
    bridged = edge_cohorts > 0
    bridged_weight = float(problem.edge_weight[bridged].sum())
    pair_term = pair_score(problem, assignment)
    total_weight = problem.total_weight
    return Score(
        objective=_objective_from_counts(problem, edge_cohorts, edge_pairs) + pair_term,
        coverage=bridged_weight / total_weight if total_weight > 0 else 0.0,
        bridged_edges=int(bridged.sum()),
        bridged_weight=bridged_weight,
        edge_cohorts=edge_cohorts,
        edge_pairs=edge_pairs,
        pair_value=pair_term,
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
        presences = np.unique(p.unit_team[assigned].astype(np.int64) * max(K, 1) + self.assignment[assigned])
        self.team_cohorts: list[set[int]] = [set() for _ in range(T)]
        for key in presences.tolist():
            self.team_cohorts[key // K].add(key % K)
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
        self.meetings = (
            MeetingCounter.from_problem(p, self.assignment) if p.max_meetings != NO_CAP else None
        )
        self._sum = p.mode == "sum"
        self._pairs = p.pair_values is not None
        self._gain: dict[int, np.ndarray] = {}

    # ----------------------------------------------------------------- reading
    def members_of(self, cohort: int) -> np.ndarray:
        """Units currently in ``cohort``."""
        return self.members[cohort, : self.size[cohort]]

    def move_gains(self, unit: int, cohorts: np.ndarray | None = None) -> np.ndarray:
        """Gain of moving ``unit`` to each cohort of its block (0 for its own cohort).

        With ``cohorts`` (indices of cohorts of the unit's block), only those are
        evaluated, in that order. Hard rules are not checked here: see :meth:`move_mask`.
        """
        p = self.problem
        b = p.unit_block[unit]
        cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
        cols: slice | np.ndarray = slice(cs, ce) if cohorts is None else cohorts
        width = ce - cs if cohorts is None else cohorts.shape[0]
        t = p.unit_team[unit]
        k1 = int(self.assignment[unit])
        pair = self._pair_move_gains(unit)
        if cohorts is not None and isinstance(pair, np.ndarray):
            pair = pair[cohorts - cs]
        nb, eid = p.neighbours(t)
        if nb.shape[0] == 0:
            return np.zeros(width) + pair
        w = p.edge_weight[eid]
        block_counts = self.counts[nb, cols] if cohorts is None else self.counts[np.ix_(nb, cohorts)]
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
            gains *= self.counts[t, cols] == 0
            gains += removal
        if k1 >= 0:
            if cohorts is None:
                gains[k1 - cs] = 0.0
            else:
                gains[cohorts == k1] = 0.0
        return gains + pair

    def move_gain(self, unit: int, cohort: int) -> float:
        """Gain of moving ``unit`` to ``cohort`` (O(degree))."""
        k1 = int(self.assignment[unit])
        if self._sum:
            edges = self._apply_edges(unit, k1, cohort, dry=True)
        else:
            p = self.problem
            edges = _move_gain(
                int(p.unit_team[unit]), k1, int(cohort), self.counts, self.edge_cohorts,
                p.adj_indptr, p.adj_team, p.adj_edge, p.edge_weight, p.mode == "cover", p.decay,
            )
        return edges + self._pair_delta(unit, k1, cohort)

    def swap_delta(self, u: int, v: int) -> float:
        """Exact change of value if units ``u`` and ``v`` exchange cohorts."""
        ku, kv = int(self.assignment[u]), int(self.assignment[v])
        if ku == kv:
            return 0.0
        pair = self._pair_swap_delta(u, v)
        first = self._apply_edges(u, ku, kv, dry=False)
        self._relocate(u, ku, kv)
        second = self._apply_edges(v, kv, ku, dry=True)
        self._apply_edges(u, kv, ku, dry=False)
        self._relocate(u, kv, ku)
        return first + second + pair

    def move_mask(self, unit: int, cohorts: np.ndarray | None = None) -> np.ndarray:
        """Cohorts of the unit's block it may move to under every hard rule.

        With ``cohorts`` (indices of cohorts of the unit's block), only those, in order.
        """
        p = self.problem
        b = p.unit_block[unit]
        cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
        cols: slice | np.ndarray = slice(cs, ce) if cohorts is None else cohorts
        k1 = int(self.assignment[unit])
        if k1 >= 0 and self.size[k1] <= p.cohort_min[k1]:
            return np.zeros(ce - cs if cohorts is None else cohorts.shape[0], dtype=bool)
        ok = self.size[cols] < p.cohort_max[cols]
        if p.max_per_team != NO_CAP:
            ok &= self.counts[p.unit_team[unit], cols] < p.max_per_team
        conf = self.assignment[p.conflicts(unit)]
        conf = conf[conf >= 0]
        if cohorts is None:
            ok[conf - cs] = False
        elif conf.shape[0]:
            ok &= ~np.isin(cohorts, conf)
        if self.meetings is not None:
            room = self.meeting_room(unit, cs, ce)
            ok &= room if cohorts is None else room[cohorts - cs]
        if k1 >= 0:
            if cohorts is None:
                ok[k1 - cs] = False
            else:
                ok &= cohorts != k1
        return ok

    @property
    def has_pair_values(self) -> bool:
        """Whether person-level pair values add to team gaps (then every cohort may gain)."""
        return bool(self._pairs)

    def candidate_cohorts(self, unit: int) -> np.ndarray:
        """Cohorts of the unit's block, other than its own, that hold a gap neighbour of its team.

        Outside these a move of the unit gains nothing from team gaps, so a search over a
        large block can evaluate only them (cost ~ degree x cohorts per team, not cohorts).
        """
        p = self.problem
        b = p.unit_block[unit]
        cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
        nb, _ = p.neighbours(p.unit_team[unit])
        found: set[int] = set()
        for team in nb.tolist():
            found.update(self.team_cohorts[team])
        out = np.fromiter(found, dtype=np.int64, count=len(found))
        out = out[(out >= cs) & (out < ce) & (out != self.assignment[unit])]
        out.sort()
        return out

    def meeting_room(self, unit: int, cs: int, ce: int) -> np.ndarray:
        """Cohorts cs..ce-1 that ``unit`` can join without a meeting beyond the cap."""
        p = self.problem
        members = self.members[cs:ce]
        valid = (members >= 0) & (members != unit)
        persons = p.unit_person[np.where(valid, members, 0)]
        assert self.meetings is not None
        met = self.meetings.counts(int(p.unit_person[unit]), persons.ravel()).reshape(persons.shape)
        return ~np.any(valid & (met >= p.max_meetings), axis=1)

    def _meeting_ok(self, u: int, k: int, other: int) -> bool:
        """Whether ``u`` can join cohort ``k`` in place of ``other`` within the meeting cap."""
        p = self.problem
        mem = self.members_of(k)
        mem = mem[mem != other]
        assert self.meetings is not None
        met = self.meetings.counts(int(p.unit_person[u]), p.unit_person[mem])
        return not bool(np.any(met >= p.max_meetings))

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
        if self.meetings is not None:
            return self._meeting_ok(u, kv, v) and self._meeting_ok(v, ku, u)
        return True

    # ---------------------------------------------------------------- changing
    def move(self, unit: int, cohort: int) -> float:
        """Move ``unit`` to ``cohort`` (-1 to unassign); returns the gain."""
        k1 = int(self.assignment[unit])
        if k1 == cohort:
            return 0.0
        gain = self._apply_edges(unit, k1, cohort, dry=False) + self._pair_delta(unit, k1, cohort)
        self._relocate(unit, k1, cohort)
        self.value += gain
        return gain

    def swap(self, u: int, v: int) -> float:
        """Exchange the cohorts of ``u`` and ``v``; returns the gain."""
        ku, kv = int(self.assignment[u]), int(self.assignment[v])
        return self.move(u, kv) + self.move(v, ku)

    def _relocate(self, unit: int, k1: int, k2: int) -> None:
        t = self.problem.unit_team[unit]
        if self.meetings is not None:
            person = int(self.problem.unit_person[unit])
            if k1 >= 0:
                self.meetings.leave(person, self.problem.unit_person[self.members_of(k1)])
            if k2 >= 0:
                self.meetings.join(person, self.problem.unit_person[self.members_of(k2)])
        if k1 >= 0:
            self.counts[t, k1] -= 1
            if self.counts[t, k1] == 0:
                self.team_cohorts[t].discard(k1)
            last = self.size[k1] - 1
            s = self.slot[unit]
            moved = self.members[k1, last]
            self.members[k1, s] = moved
            self.slot[moved] = s
            self.members[k1, last] = -1
            self.size[k1] = last
        if k2 >= 0:
            self.counts[t, k2] += 1
            self.team_cohorts[t].add(k2)
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
        if self._gain:
            self._update_gain(unit, k1, k2)

    def _apply_edges(self, unit: int, k1: int, k2: int, *, dry: bool) -> float:
        """Value change of moving ``unit`` from k1 to k2; updates edge counts unless ``dry``."""
        p = self.problem
        t = p.unit_team[unit]
        nb, eid = p.neighbours(t)
        if nb.shape[0] == 0 or k1 == k2:
            return 0.0
        c_old = self.edge_cohorts[eid]
        c_new = c_old.copy()
        if k1 >= 0 and self.counts[t, k1] == 1:
            c_new -= self.counts[nb, k1] > 0
        if k2 >= 0 and self.counts[t, k2] == 0:
            c_new += self.counts[nb, k2] > 0
        changed = c_new != c_old
        if not dry and changed.any():
            self.edge_cohorts[eid[changed]] = c_new[changed]
        if self._sum:
            w = p.edge_weight[eid]
            gain = 0.0
            if k2 >= 0:
                gain += float(w @ self.counts[nb, k2])
            if k1 >= 0:
                gain -= float(w @ self.counts[nb, k1])
            return gain
        if not changed.any():
            return 0.0
        e = eid[changed]
        gain = float((edge_value(p, e, c_new[changed]) - edge_value(p, e, c_old[changed])).sum())
        return gain

    # ------------------------------------------------ person-level pair values (sum mode)
    def _pair_row(self, unit: int, units: np.ndarray) -> np.ndarray:
        """``pair_values[person(unit), person(w)]`` for the given units ``w``."""
        V = self.problem.pair_values
        pu = int(self.problem.unit_person[unit])
        persons = self.problem.unit_person[units]
        if isinstance(V, np.ndarray):
            return V[pu, persons]
        lo, hi = V.indptr[pu], V.indptr[pu + 1]
        cols, vals = V.indices[lo:hi], V.data[lo:hi]
        if cols.shape[0] == 0:
            return np.zeros(units.shape[0])
        pos = np.minimum(np.searchsorted(cols, persons), cols.shape[0] - 1)
        return np.where(cols[pos] == persons, vals[pos], 0.0)

    def _pair_delta(self, unit: int, k1: int, k2: int) -> float:
        """Pair-value change of moving ``unit`` from ``k1`` to ``k2`` (O(cohort sizes))."""
        if not self._pairs or k1 == k2:
            return 0.0
        gain = 0.0
        if k2 >= 0:
            gain += float(self._pair_row(unit, self.members_of(k2)).sum())
        if k1 >= 0:
            gain -= float(self._pair_row(unit, self.members_of(k1)).sum())
        return gain

    def _pair_swap_delta(self, u: int, v: int) -> float:
        """Pair-value change of exchanging the cohorts of ``u`` and ``v``."""
        if not self._pairs:
            return 0.0
        ku, kv = int(self.assignment[u]), int(self.assignment[v])
        if ku == kv:
            return 0.0
        both = self._pair_delta(u, ku, kv) + self._pair_delta(v, kv, ku)
        return both - 2.0 * float(self._pair_row(u, np.array([v]))[0])

    def _pair_move_gains(self, unit: int) -> np.ndarray | float:
        """Pair-value gain of moving ``unit`` to each cohort of its block (0 for its own)."""
        if not self._pairs:
            return 0.0
        p = self.problem
        b = int(p.unit_block[unit])
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
        a = self.assignment[lo:hi]
        placed = a >= 0
        row = self._pair_row(unit, np.arange(lo, hi)[placed])
        to = np.bincount(a[placed] - cs, weights=row, minlength=ce - cs)
        k1 = int(self.assignment[unit])
        if k1 >= 0:
            to -= to[k1 - cs]
        return to

    def pair_matrix(self, block: int) -> np.ndarray:
        """Dense value of every pair of units of ``block`` in ``sum`` mode (team gap + pair value).

        Shape ``(n_b, n_b)``, zero diagonal; for one block holding every person once in
        canonical order with no gaps, this is ``problem.pair_values`` itself (no copy).
        """
        p = self.problem
        lo, hi = int(p.block_units[block]), int(p.block_units[block + 1])
        persons = p.unit_person[lo:hi]
        V = p.pair_values
        whole = hi - lo == p.n_people and bool(np.all(persons == np.arange(p.n_people)))
        if V is None:
            out = np.zeros((hi - lo, hi - lo))
        elif isinstance(V, np.ndarray):
            out = V if whole else V[np.ix_(persons, persons)]
        else:
            out = V[persons][:, persons].toarray()
        if p.n_edges:
            teams = p.unit_team[lo:hi]
            out = out + self._team_weights()[np.ix_(teams, teams)]
        return out

    def _team_weights(self) -> np.ndarray:
        """Dense symmetric team-by-team gap weights (T, T)."""
        p = self.problem
        W = np.zeros((p.n_teams, p.n_teams))
        np.add.at(W, (p.edge_a, p.edge_b), p.edge_weight)
        return W + W.T

    def gain_matrix(self, block: int) -> np.ndarray:
        """``G[i, j]``: ``sum``-mode value between unit ``lo + i`` and the members of cohort ``cs + j``.

        The incremental heart of pair-value search (team gaps and pair values alike): the
        gain of moving a unit from cohort ``k1`` to ``k2`` is ``G[i, k2] - G[i, k1]``, of
        swapping units ``i`` (in ``k1``) and ``j`` (in ``k2``) it is
        ``G[i, k2] - G[i, k1] + G[j, k1] - G[j, k2] - 2 V[i, j]``. Built on first use, then
        kept up to date by every move in O(n_b). Only for ``sum`` mode.
        """
        if block in self._gain:
            return self._gain[block]
        p = self.problem
        if p.mode != "sum":
            raise ValueError("gain_matrix is defined in 'sum' mode only")
        lo, hi = int(p.block_units[block]), int(p.block_units[block + 1])
        cs, ce = int(p.block_cohorts[block]), int(p.block_cohorts[block + 1])
        a = self.assignment[lo:hi]
        Z = np.zeros((hi - lo, ce - cs))
        placed = np.flatnonzero(a >= 0)
        Z[placed, a[placed] - cs] = 1.0
        G = self.pair_matrix(block) @ Z
        self._gain[block] = G
        return G

    def _update_gain(self, unit: int, k1: int, k2: int) -> None:
        p = self.problem
        b = int(p.unit_block[unit])
        G = self._gain.get(b)
        if G is None:
            return
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        cs = int(p.block_cohorts[b])
        col = self._gain_column(b, unit, lo, hi)
        if k1 >= 0:
            G[:, k1 - cs] -= col
        if k2 >= 0:
            G[:, k2 - cs] += col

    def _gain_column(self, block: int, unit: int, lo: int, hi: int) -> np.ndarray:
        """Values between ``unit`` and every unit of its block (team gap + pair value)."""
        p = self.problem
        V = p.pair_values
        if isinstance(V, np.ndarray) and hi - lo == p.n_people and p.n_edges == 0:
            return V[p.unit_person[unit]]  # one block of everyone: a row view, no copy
        col = self._pair_row(unit, np.arange(lo, hi)) if V is not None else np.zeros(hi - lo)
        if p.n_edges:
            if not hasattr(self, "_tw"):
                self._tw = self._team_weights()
            col = col + self._tw[p.unit_team[unit], p.unit_team[lo:hi]]
        return col


def pair_score(problem: CompiledProblem, assignment: np.ndarray) -> float:
    """Pair-value part of the objective: ``sum`` of ``pair_values[p, q]`` over co-members.

    .. math::

        \\sum_k \\sum_{\\{p, q\\} \\subseteq k} V_{pq}

    Dense values are summed cohort by cohort over the members' sub-matrix; sparse ones
    over the stored entries whose ends share a cohort, block by block.

    Examples
    --------
    >>> from cohortmatch.compiled import compile_grouping
    >>> V = np.array([[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]])
    >>> pair_score(compile_grouping(V, [(2, 2), (2, 2)]), np.array([0, 0, 1, 1]))
    7.0
    """
    V = problem.pair_values
    if V is None:
        return 0.0
    a = np.asarray(assignment)
    total = 0.0
    if isinstance(V, np.ndarray):
        placed = np.flatnonzero(a >= 0)
        order = placed[np.argsort(a[placed], kind="stable")]
        ks = a[order]
        bounds = np.searchsorted(ks, np.arange(problem.n_cohorts + 1))
        for k in np.flatnonzero(np.diff(bounds) > 1):
            persons = problem.unit_person[order[bounds[k] : bounds[k + 1]]]
            total += float(V[np.ix_(persons, persons)].sum())
        return 0.5 * total
    rows = np.repeat(np.arange(V.shape[0]), np.diff(V.indptr))
    cols = V.indices
    for b in range(problem.n_blocks):
        lo, hi = int(problem.block_units[b]), int(problem.block_units[b + 1])
        cohort_of = np.full(problem.n_people, -1, np.int64)
        cohort_of[problem.unit_person[lo:hi]] = a[lo:hi]
        cr = cohort_of[rows]
        same = (cr >= 0) & (cr == cohort_of[cols])
        total += float(V.data[same].sum())
    return 0.5 * total
