"""The incremental search state: gains of moves and swaps, rule checks, applying them."""

from __future__ import annotations

import numpy as np

from ..compiled import NO_CAP, CompiledProblem
from ..errors import InputError
from ..rules.counts import bind_counts, shift_counts
from ..rules.kernel import kernel_rules
from ..rules.kernel import move_mask as rule_move_mask
from ..rules.kernel import swap_ok as rule_swap_ok
from ..rules.meetings import MeetingCounter
from ..teamcounts import TeamCounts, cohorts_of, count_block, count_pairs, team_count, team_counts
from .pairs import PairTerms
from .score import edge_value, score, team_move_gain

__all__ = ["SearchState"]


class SearchState(PairTerms):
    """Incremental state of an assignment: gains of moves and swaps, and applying them.

    Keeps cohort sizes and member lists, and, in ``cover``/``diminishing`` modes, the
    number of cohorts bridging each gap; team counts are read from the member lists
    (:attr:`counts`, a :class:`~cohortmatch.teamcounts.TeamCounts`), so memory is
    O(people + gaps), never teams x cohorts. With mix rules, its kernel rules (``rules``)
    carry its value-by-cohort counts. A move costs O(degree of the unit's team x cohort
    size); the gain of moving one unit to every cohort of its block is one vectorised
    expression of O(degree x cohorts).

    Parameters
    ----------
    problem : CompiledProblem
    assignment : int array (U,)
        Starting assignment, -1 for units not yet placed.

    Examples
    --------
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
            raise InputError(
                f"The assignment must have one entry per unit ({p.n_units}). Got shape {self.assignment.shape}."
            )
        K = p.n_cohorts
        max_size = int(p.cohort_max.max()) if K else 1
        assigned = self.assignment >= 0
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
        self._counts = team_counts(p, self.members, self.size)
        full = score(p, self.assignment)
        self.edge_cohorts = full.edge_cohorts.copy()
        self.value = full.objective
        self.meetings = (
            MeetingCounter.from_problem(p, self.assignment) if p.max_meetings != NO_CAP else None
        )
        self._sum = p.mode == "sum"
        self._pairs = p.pair_values is not None
        self._gain: dict[int, np.ndarray] = {}
        self.rules = bind_counts(kernel_rules(p), self.assignment)  # with this state's mix counts
        self._counted = self.rules.unit_rows.shape[1] > 0

    def relabel(self, problem: CompiledProblem) -> None:
        """Go on with the same assignment on ``problem``, the same request with other cohort
        slots (:meth:`~cohortmatch.compiled.CompiledProblem.with_slots`): nothing the state
        counts depends on the slots, only the rules it checks."""
        self.problem = problem
        self.rules = kernel_rules(problem)

    # ----------------------------------------------------------------- reading
    @property
    def counts(self) -> TeamCounts:
        """Team counts of the cohorts (views of the member lists), as rule checks and kernels read them."""
        return self._counts

    def team_count(self, team: int, cohort: int) -> int:
        """Members of ``team`` in ``cohort`` (O(cohort size))."""
        return team_count(self.counts, int(team), int(cohort))

    def team_counts_at(self, teams: np.ndarray, cohorts: np.ndarray) -> np.ndarray:
        """Members of ``teams[i]`` in ``cohorts[i]``, for each ``i``."""
        return count_pairs(self.counts, np.asarray(teams, np.int64), np.asarray(cohorts, np.int64))  # type: ignore[no-any-return]  # noqa: E501

    def count_block(self, teams: np.ndarray, cohorts: np.ndarray) -> np.ndarray:
        """Members of each of ``teams`` (rows) in each of ``cohorts`` (columns)."""
        return count_block(self.counts, np.asarray(teams, np.int64), np.asarray(cohorts, np.int64))  # type: ignore[no-any-return]  # noqa: E501

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
        cols = np.arange(cs, ce) if cohorts is None else cohorts
        width = cols.shape[0]
        t = p.unit_team[unit]
        k1 = int(self.assignment[unit])
        pair = self._pair_move_gains(unit)
        if cohorts is not None and isinstance(pair, np.ndarray):
            pair = pair[cohorts - cs]
        nb, eid = p.neighbours(t)
        if nb.shape[0] == 0:
            return np.zeros(width) + pair
        w = p.edge_weight[eid]
        counted = self.count_block(np.append(nb, t), np.append(cols, max(k1, 0)))
        block_counts, at_k1 = counted[:-1, :-1], counted[:-1, -1]
        if self._sum:
            gains = w @ block_counts
            if k1 >= 0:
                gains -= w @ at_k1
        else:
            c = self.edge_cohorts[eid]
            removal = 0.0
            if k1 >= 0 and counted[-1, -1] == 1:
                c_after = c - (at_k1 > 0)
                removal = float((edge_value(p, eid, c_after) - edge_value(p, eid, c)).sum())
                c = c_after
            marginal = edge_value(p, eid, c + 1) - edge_value(p, eid, c)
            gains = marginal @ (block_counts > 0)
            gains *= counted[-1, :-1] == 0
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
            edges = team_move_gain(
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
        A unit of a ``keep_together`` group moves with its group: the mask is the
        group's (see :meth:`move_group`). The rules' compiled checks decide
        (:func:`cohortmatch.rules.kernel.move_mask`), then a hard meeting cap.
        """
        p = self.problem
        b = p.unit_block[unit]
        cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
        ks = np.arange(cs, ce) if cohorts is None else np.asarray(cohorts, np.int64)
        ok = rule_move_mask(self.rules, int(unit), ks, p.unit_team, self.assignment, self.counts,
                            self.size, p.cohort_min, p.cohort_max)
        if self.meetings is not None and ok.any():
            ok &= self.meeting_room(unit, cs, ce)[ks - cs]
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
        out = self.cohorts_of_teams(nb)
        return out[(out >= cs) & (out < ce) & (out != self.assignment[unit])]

    def cohorts_of_teams(self, teams: np.ndarray) -> np.ndarray:
        """The cohorts (sorted) where any of ``teams`` has a member (O(members of the teams))."""
        return cohorts_of(self._counts, self.assignment, np.asarray(teams, np.int64))  # type: ignore[no-any-return]  # noqa: E501

    def meeting_room(self, unit: int, cs: int, ce: int) -> np.ndarray:
        """Cohorts cs..ce-1 that ``unit`` (and its group) can join without a meeting beyond the cap."""
        p = self.problem
        mates = self.group_members(unit)
        members = self.members[cs:ce]
        valid = (members >= 0) & ~np.isin(members, mates)
        persons = p.unit_person[np.where(valid, members, 0)]
        assert self.meetings is not None
        room = np.ones(ce - cs, dtype=bool)
        for u in mates.tolist():
            met = self.meetings.counts(int(p.unit_person[u]), persons.ravel()).reshape(persons.shape)
            room &= ~np.any(valid & (met >= p.max_meetings), axis=1)
        return room

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
        if not rule_swap_ok(self.rules, int(u), int(v), p.unit_team, self.assignment, self.counts):
            return False
        if self.meetings is not None:
            ku, kv = int(self.assignment[u]), int(self.assignment[v])
            return self._meeting_ok(u, kv, v) and self._meeting_ok(v, ku, u)
        return True

    def group_members(self, unit: int) -> np.ndarray:
        """The units that move with ``unit``: its ``keep_together`` group, or itself."""
        R = self.rules
        g = int(R.unit_group[unit])
        if g < 0:
            return np.array([unit], np.int64)
        return R.group_units[R.group_indptr[g] : R.group_indptr[g + 1]]

    def move_group(self, unit: int, cohort: int) -> float:
        """Move ``unit`` with its group (:meth:`group_members`) to ``cohort``; returns the gain."""
        return sum(self.move(int(u), cohort) for u in self.group_members(unit).tolist())

    def group_move_gain(self, unit: int, cohort: int) -> float:
        """Gain of :meth:`move_group`, by moving and moving back."""
        mates = self.group_members(unit)
        back = self.assignment[mates].copy()
        gain = self.move_group(unit, cohort)
        for u, k in zip(mates.tolist(), back.tolist(), strict=True):
            self.move(u, k)
        return gain

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
        if self._counted:
            shift_counts(self.rules, unit, k1, k2)
        if self.meetings is not None:
            person = int(self.problem.unit_person[unit])
            if k1 >= 0:
                self.meetings.leave(person, self.problem.unit_person[self.members_of(k1)])
            if k2 >= 0:
                self.meetings.join(person, self.problem.unit_person[self.members_of(k2)])
        if k1 >= 0:
            last = self.size[k1] - 1
            s = self.slot[unit]
            moved = self.members[k1, last]
            self.members[k1, s] = moved
            self.slot[moved] = s
            self.members[k1, last] = -1
            self.size[k1] = last
        if k2 >= 0:
            s = self.size[k2]
            if s >= self.members.shape[1]:
                grown = np.full((self.members.shape[0], 2 * self.members.shape[1]), -1, np.int64)
                grown[:, : self.members.shape[1]] = self.members
                self.members = grown
                self._counts = team_counts(self.problem, self.members, self.size)
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
        at = self.count_block(np.append(nb, t), np.array([max(k1, 0), max(k2, 0)]))
        if k1 >= 0 and at[-1, 0] == 1:
            c_new -= at[:-1, 0] > 0
        if k2 >= 0 and at[-1, 1] == 0:
            c_new += at[:-1, 1] > 0
        changed = c_new != c_old
        if not dry and changed.any():
            self.edge_cohorts[eid[changed]] = c_new[changed]
        if self._sum:
            w = p.edge_weight[eid]
            gain = 0.0
            if k2 >= 0:
                gain += float(w @ at[:-1, 1])
            if k1 >= 0:
                gain -= float(w @ at[:-1, 0])
            return gain
        if not changed.any():
            return 0.0
        e = eid[changed]
        gain = float((edge_value(p, e, c_new[changed]) - edge_value(p, e, c_old[changed])).sum())
        return gain

    # ------------------------------------------------ person-level pair values (sum mode)
