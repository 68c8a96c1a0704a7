"""``max_per_team``: at most this many members of one team in a cohort.

The team case of ``at_most`` (:mod:`.quota`): the same capacity checks, on the team
counts every search state keeps anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from ..compiled import NO_CAP
from ..teamcounts import team_count
from .base import CourseView, Cut, Rule
from .quota import capacity_conflicts, capacity_cut

if TYPE_CHECKING:
    from ..engines.cpsat.model import CohortModel

__all__ = ["TeamCap", "cap_room"]


class TeamCap(Rule):
    """At most ``max_per_team`` members of a team per cohort.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="sales") for i in range(9)])
    >>> rule = TeamCap(compile_problem(org, [Course(id="x", min_size=4, max_size=5)],
    ...                                Policy(max_per_team=2)))
    >>> for conflict in rule.precheck():
    ...     print(conflict)
    course 'x': team 'sales' has 9 participants but 2 cohorts x max_per_team 2 = 4 places
    course 'x': cohorts need at least 4 people but max_per_team 2 allows at most 2 (1 teams take part)
    """

    name = "max_per_team"

    @classmethod
    def applies(cls, problem):  # type: ignore[no-untyped-def]
        return bool(problem.max_per_team != NO_CAP)

    def violations(self, assignment: np.ndarray) -> int:
        p = self.problem
        a = np.asarray(assignment)
        placed = a >= 0
        keys = a[placed].astype(np.int64) * p.n_teams + p.unit_team[placed]
        _, counts = np.unique(keys, return_counts=True)
        return int(np.maximum(counts - p.max_per_team, 0).sum())

    def offenders(self, assignment: np.ndarray) -> np.ndarray:
        p = self.problem
        a = np.asarray(assignment)
        placed = np.flatnonzero(a >= 0)
        keys = a[placed].astype(np.int64) * p.n_teams + p.unit_team[placed]
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        return placed[counts[inverse] > p.max_per_team]

    def precheck(self) -> list[str]:
        p = self.problem
        cap = p.max_per_team
        out: list[str] = []
        for b in range(p.n_blocks):
            lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
            k = int(p.block_cohorts[b + 1] - p.block_cohorts[b])
            kmin = int(p.cohort_min[p.block_cohorts[b]]) if k else 0
            counts = np.bincount(p.unit_team[lo:hi], minlength=p.n_teams)
            out += capacity_conflicts(f"course {p.block_name(b)!r}", counts, np.full(p.n_teams, cap), k,
                                      kmin, self._what, self._limit, self._limit(0), "teams")
        return out

    def reduce(self, view: CourseView) -> Cut | None:
        p = self.problem
        return capacity_cut(view, p.person_team[view.alive], np.full(p.n_teams, p.max_per_team),
                            self._what, self._limit, self._limit(0))

    def _what(self, t: int) -> str:
        return f"team {self.problem.team_ids[t]!r}"

    def _limit(self, t: int) -> str:
        return f"max_per_team {self.problem.max_per_team}"

    def encode(self, cm: CohortModel) -> None:
        d, p = cm.data, cm.data.problem
        cap = p.max_per_team
        for (t, k), vs in cm.team_count.items():
            b = int(p.cohort_block[k])
            units = sum(d.g_units[g].shape[0] for g in d.block_groups[b] if d.g_team[g] == t)
            if units <= cap:
                continue
            lit = cm.rule(("cap", b, t), f"course {p.block_name(b)!r}: at most {cap} members of team "
                                         f"{p.team_ids[t]!r} per cohort (max_per_team)")
            if len(vs) == 1 and lit is None:
                cm.tighten(vs[0], cap)  # a domain, not a constraint
            else:
                cm.enforce(cm.model.add(sum(vs) <= cap), lit)

    def kernel_fields(self) -> dict[str, Any]:
        return {"cap": int(self.problem.max_per_team)}


@njit(cache=True)
def cap_room(R, t, k, counts, n):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Whether ``n`` more members of team ``t`` fit cohort ``k`` under ``max_per_team``."""
    return team_count(counts, t, k) + n <= R.cap
