"""Pinned places: a person placed in a given cohort (``Course(pinned=...)``); the planner
chooses the other members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from ..compiled import NO_CAP
from .apart import Apart
from .base import CourseView, Cut, Rule
from .together import Together

if TYPE_CHECKING:
    from ..engines.cpsat.model import CohortModel

__all__ = ["Pinned", "pin_ok"]


class Pinned(Rule):
    """Units fixed to a cohort; the kernels read ``fixed`` (the cohort of each unit, -1: free).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t") for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="x", min_size=2, max_size=2,
    ...                                     pinned={"p0": "x-1", "p1": "x-1"})],
    ...                        Policy(keep_apart=[["p0", "p1"]]))
    >>> Pinned(prob).precheck()
    ["course 'x': 'p0' and 'p1' are pinned to 'x-1' but must be apart"]
    >>> Pinned(prob).violations(np.array([1, 0, 0, 1]))    # p0 is in x-2
    1
    """

    name = "pinned"

    def __init__(self, problem):  # type: ignore[no-untyped-def]
        super().__init__(problem)
        self.fixed = np.full(problem.n_units, -1, np.int64)
        self.fixed[problem.pin_unit] = problem.pin_cohort

    @classmethod
    def applies(cls, problem):  # type: ignore[no-untyped-def]
        return bool(problem.pin_unit.shape[0])

    def violations(self, assignment: np.ndarray) -> int:
        a = np.asarray(assignment)[self.problem.pin_unit]
        return int(((a >= 0) & (a != self.problem.pin_cohort)).sum())

    def offenders(self, assignment: np.ndarray) -> np.ndarray:
        a = np.asarray(assignment)[self.problem.pin_unit]
        return self.problem.pin_unit[(a >= 0) & (a != self.problem.pin_cohort)]

    def precheck(self) -> list[str]:
        p = self.problem
        out = []
        units, cohorts = p.pin_unit, p.pin_cohort
        for k in np.unique(cohorts).tolist():
            mine = units[cohorts == k]
            where = f"course {p.block_name(int(p.cohort_block[k]))!r}"
            name = p.cohort_ids[k]
            if mine.shape[0] > p.cohort_max[k]:
                out.append(f"{where}: {mine.shape[0]} people are pinned to {name!r}, which holds at "
                           f"most {p.cohort_max[k]} ({p.names(p.unit_person[mine])})")
            if p.max_per_team != NO_CAP:
                teams, n = np.unique(p.unit_team[mine], return_counts=True)
                for t in teams[n > p.max_per_team].tolist():
                    out.append(f"{where}: {int(n[teams == t][0])} members of team {p.team_ids[t]!r} are "
                               f"pinned to {name!r}, more than max_per_team {p.max_per_team}")
            if Apart.applies(p):
                apart = Apart(p)
                inside = set(mine.tolist())
                for u in mine.tolist():
                    clash = [v for v in apart.of(u).tolist() if v in inside and v > u]
                    if clash:
                        out.append(f"{where}: {p.person_ids[p.unit_person[u]]!r} and "
                                   f"{p.person_ids[p.unit_person[clash[0]]]!r} are pinned to {name!r} "
                                   "but must be apart")
        if Together.applies(p):
            together = Together(p)
            for i in range(together.group.shape[0]):
                pins = np.unique(self.fixed[together.members(i)])
                pins = pins[pins >= 0]
                if pins.shape[0] > 1:
                    b = int(together.block[i])
                    out.append(f"course {p.block_name(b)!r}: {together.words(i)} must share a cohort but "
                               f"is pinned to {', '.join(repr(p.cohort_ids[k]) for k in pins.tolist())}")
        return out

    def reduce(self, view: CourseView) -> Cut | None:
        p = self.problem
        taking = view.taking()
        inside = np.isin(p.unit_block[p.pin_unit], view.blocks)
        units, cohorts = p.pin_unit[inside], p.pin_cohort[inside]
        persons = p.unit_person[units].astype(np.int64)
        alive = taking[persons]
        units, cohorts, persons = units[alive], cohorts[alive], persons[alive]
        local = cohorts - p.block_cohorts[p.unit_block[units]]
        beyond = local >= view.cohorts
        if beyond.any():
            return Cut(np.unique(persons[beyond]), f"{view.where}: pinned to a cohort beyond the "
                                                   f"{view.cohorts} the course can fill")
        for k in np.unique(cohorts).tolist():
            mine = np.sort(persons[cohorts == k])
            if mine.shape[0] > view.hi:
                return Cut(mine[view.hi:], f"{view.where}: more people pinned to {p.cohort_ids[k]!r} "
                                           f"than it holds ({view.hi})")
            if p.max_per_team != NO_CAP:
                for t in np.unique(p.person_team[mine]).tolist():
                    same = mine[p.person_team[mine] == t]
                    if same.shape[0] > p.max_per_team:
                        return Cut(same[p.max_per_team:], f"{view.where}: more members of team "
                                                          f"{p.team_ids[t]!r} pinned to {p.cohort_ids[k]!r} "
                                                          "than max_per_team")
        clash = _clashing_pins(p, persons, cohorts)
        if clash is not None:
            return Cut(np.array([clash[0]]), f"{view.where}: {clash[1]}")
        return None

    def signature(self, units: np.ndarray) -> list[Any]:
        return [u if k >= 0 else -1 for u, k in zip(units.tolist(), self.fixed[units].tolist(), strict=True)]

    def pinned_cohorts(self) -> np.ndarray:
        return np.unique(self.problem.pin_cohort)

    def encode(self, cm: CohortModel) -> None:
        p = cm.data.problem
        for u, k in zip(p.pin_unit.tolist(), p.pin_cohort.tolist(), strict=True):
            g = cm.group_of(u)
            if g < 0 or (g, k) not in cm.n:
                continue
            lit = cm.rule(("pinned", u), f"{p.person_ids[p.unit_person[u]]!r} pinned to {p.cohort_ids[k]!r}")
            cm.enforce(cm.model.add(cm.n[g, k] == 1), lit)

    def kernel_fields(self) -> dict[str, Any]:
        return {"fixed": self.fixed}


def _clashing_pins(p, persons: np.ndarray, cohorts: np.ndarray) -> tuple[int, str] | None:  # type: ignore[no-untyped-def]
    """A pinned person to leave out: one pinned with someone they must be apart from, or
    away from someone they must be together with (the later id of the two)."""
    cohort_of: dict[tuple[int, int], int] = {}
    for x, k in zip(persons.tolist(), cohorts.tolist(), strict=True):
        cohort_of[(x, int(p.cohort_block[k]))] = k
    for (x, b), k in cohort_of.items():
        for group in p.groups("apart"):
            if x in group:
                for y in group.tolist():
                    if y > x and cohort_of.get((y, b)) == k:
                        return y, f"{p.person_ids[x]!r} and {p.person_ids[y]!r} are pinned together but must be apart"
        for group in p.groups("together"):
            if x in group:
                for y in group.tolist():
                    other = cohort_of.get((y, b))
                    if y > x and other is not None and other != k:
                        return y, (f"{p.person_ids[x]!r} and {p.person_ids[y]!r} must be together "
                                   "but are pinned to different cohorts")
    return None


@njit(cache=True)
def pin_ok(R, u, k):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Whether unit ``u`` may be in cohort ``k`` (it is not pinned elsewhere)."""
    return R.fixed[u] < 0 or R.fixed[u] == k
