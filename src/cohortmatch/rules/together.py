"""Keep together: the people of a ``keep_together`` group share one cohort in every course
round that all of them take."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from ..compiled import NO_CAP
from .apart import Apart
from .base import CourseView, Cut, Rule

if TYPE_CHECKING:
    from ..engines.cpsat.model import CohortModel

__all__ = ["Together", "single"]


class Together(Rule):
    """Groups of units (one per group and course round all its members take) kept in one cohort.

    The kernels read each unit's group (``unit_group``, -1 for none) and the groups as a
    CSR over units (``group_indptr``/``group_units``): a grouped unit only moves with its
    group, and never swaps alone.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t") for i in range(6)])
    >>> prob = compile_problem(org, [Course(id="x", min_size=2, max_size=3)],
    ...                        Policy(keep_together=[["p0", "p1"], ["p2", "p3", "p4", "p5"]]))
    >>> rule = Together(prob)
    >>> rule.precheck()
    ["course 'x': keep_together group 'p2', 'p3', 'p4', 'p5' has 4 people, more than a cohort holds (3)"]
    >>> rule.violations(np.array([0, 1, 1, 1, 0, 0]))   # p0 and p1 apart; p2 alone in cohort 1
    2
    """

    name = "keep_together"

    def __init__(self, problem):  # type: ignore[no-untyped-def]
        super().__init__(problem)
        self.indptr, self.units, self.group, self.block = problem.cached(
            "together_groups", lambda: _instances(problem)
        )
        self.unit_group = np.full(problem.n_units, -1, np.int64)
        self.unit_group[self.units] = np.repeat(np.arange(self.group.shape[0]), np.diff(self.indptr))

    @classmethod
    def applies(cls, problem):  # type: ignore[no-untyped-def]
        return bool(problem.cached("together_groups", lambda: _instances(problem))[2].shape[0])

    def members(self, i: int) -> np.ndarray:
        """Units of group instance ``i``."""
        return self.units[self.indptr[i] : self.indptr[i + 1]]

    def words(self, i: int) -> str:
        """Group instance ``i`` in words."""
        p = self.problem
        return f"keep_together group {p.names(p.unit_person[self.members(i)])}"

    def violations(self, assignment: np.ndarray) -> int:
        a = np.asarray(assignment)
        out = 0
        for i in range(self.group.shape[0]):
            placed = a[self.members(i)]
            placed = placed[placed >= 0]
            out += max(np.unique(placed).shape[0] - 1, 0)
        return out

    def offenders(self, assignment: np.ndarray) -> np.ndarray:
        a = np.asarray(assignment)
        out = [self.members(i) for i in range(self.group.shape[0])
               if np.unique(a[self.members(i)]).shape[0] > 1]
        return np.unique(np.concatenate(out)) if out else np.zeros(0, np.int64)

    def precheck(self) -> list[str]:
        p = self.problem
        out = []
        apart = set(zip(*Apart(p).pair_u_v(), strict=True)) if Apart.applies(p) else set()
        for i in range(self.group.shape[0]):
            units, b = self.members(i), int(self.block[i])
            where = f"course {p.block_name(b)!r}: {self.words(i)}"
            hi = int(p.cohort_max[p.block_cohorts[b] : p.block_cohorts[b + 1]].max())
            if units.shape[0] > hi:
                out.append(f"{where} has {units.shape[0]} people, more than a cohort holds ({hi})")
            teams, n = np.unique(p.unit_team[units], return_counts=True)
            if p.max_per_team != NO_CAP and n.max() > p.max_per_team:
                t = int(teams[np.argmax(n)])
                out.append(f"{where} holds {n.max()} members of team {p.team_ids[t]!r}, more than "
                           f"max_per_team {p.max_per_team}")
            pairs = [(u, v) for u in units.tolist() for v in units.tolist() if (u, v) in apart]
            if pairs:
                u, v = pairs[0]
                out.append(f"{where} must share a cohort, but {p.person_ids[p.unit_person[u]]!r} and "
                           f"{p.person_ids[p.unit_person[v]]!r} must be apart (keep_apart or managers)")
        if p.max_meetings != NO_CAP and not p.meetings_soft:
            rounds = np.bincount(self.group, minlength=len(p.groups("together")))
            for g in np.flatnonzero(rounds > p.max_meetings):
                out.append(f"keep_together group {p.names(p.groups('together')[g])} meets in "
                           f"{rounds[g]} course rounds, more than max_meetings {p.max_meetings}")
        return out

    def reduce(self, view: CourseView) -> Cut | None:
        p = self.problem
        taking = view.taking()
        for group in p.groups("together"):
            if not taking[group].all():
                continue
            where = f"{view.where}: keep_together group {p.names(group)}"
            if group.shape[0] > view.hi:
                return Cut(group[view.hi:], f"{where} is larger than a cohort ({view.hi})")
            if p.max_per_team != NO_CAP:
                for t in np.unique(p.person_team[group]).tolist():
                    mine = group[p.person_team[group] == t]
                    if mine.shape[0] > p.max_per_team:
                        return Cut(mine[p.max_per_team:], f"{where} holds more members of team "
                                                          f"{p.team_ids[t]!r} than max_per_team")
            clash = _apart_inside(p, group)
            if clash is not None:
                return Cut(np.array([clash]), f"{where} holds people who must be apart")
        return None

    def signature(self, units: np.ndarray) -> list[Any]:
        return [u if g >= 0 else -1 for u, g in zip(units.tolist(), self.unit_group[units].tolist(), strict=True)]

    def encode(self, cm: CohortModel) -> None:
        d, p = cm.data, cm.data.problem
        for i in range(self.group.shape[0]):
            gs = [cm.group_of(u) for u in self.members(i).tolist()]
            if min(gs) < 0:
                continue
            b = int(self.block[i])
            lit = cm.rule(("together", b, i), f"course {p.block_name(b)!r}: {self.words(i)} in one cohort")
            for k in d.block_cohorts[b].tolist():
                for g in gs[1:]:
                    cm.enforce(cm.model.add(cm.n[g, k] == cm.n[gs[0], k]), lit)

    def kernel_fields(self) -> dict[str, Any]:
        return {"unit_group": self.unit_group, "group_indptr": self.indptr, "group_units": self.units}


def _instances(problem) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Group instances: one per group and block all its members take (CSR over units)."""
    p = problem
    indptr, units, group, block = [0], [], [], []
    groups = p.groups("together")
    if groups:
        for b in range(p.n_blocks):
            unit_of = p.block_units_of(b)
            for g, persons in enumerate(groups):
                mine = unit_of[persons]
                if (mine >= 0).all():
                    units.extend(mine.tolist())
                    indptr.append(len(units))
                    group.append(g)
                    block.append(b)
    return (np.asarray(indptr, np.int64), np.asarray(units, np.int64),
            np.asarray(group, np.int64), np.asarray(block, np.int64))


def _apart_inside(p, group: np.ndarray) -> int | None:  # type: ignore[no-untyped-def]
    """The later of the first two people of ``group`` who must be apart, or None."""
    inside = set(group.tolist())
    for apart in p.groups("apart"):
        both = [x for x in apart.tolist() if x in inside]
        if len(both) >= 2:
            return int(both[1])
    if p.separate_managers:
        for x in group.tolist():
            if int(p.person_manager[x]) in inside:
                return max(x, int(p.person_manager[x]))
    return None


@njit(cache=True)
def single(R, u):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Whether ``u`` may move or swap on its own (it is in no ``keep_together`` group)."""
    return R.unit_group[u] < 0
