"""Hard rules on a compiled problem: vectorised checks of an assignment.

Solvers use these to repair and to assert; :func:`cohortmatch.validate` re-checks a
finished plan from the input model alone, without this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compiled import NO_CAP, CompiledProblem
from .meetings import assignment_meetings

__all__ = ["RuleViolations", "check_assignment"]


@dataclass(frozen=True)
class RuleViolations:
    """Counts of broken hard rules in an assignment (all zero: the assignment is valid)."""

    unplaced: int
    size: int
    team_cap: int
    conflict: int
    meetings: int = 0

    @property
    def total(self) -> int:
        return self.unplaced + self.size + self.team_cap + self.conflict + self.meetings

    def __bool__(self) -> bool:
        return self.total > 0


def check_assignment(problem: CompiledProblem, assignment: np.ndarray) -> RuleViolations:
    """Count the hard-rule violations of an assignment.

    ``size`` counts people missing or in excess of the cohort bounds; ``team_cap`` the
    members beyond ``max_per_team``; ``conflict`` the manager/report pairs sharing a cohort;
    ``meetings`` the meetings beyond a hard ``max_meetings``, history included (a soft
    ``max_meetings`` is not a rule and is not counted).

    Examples
    --------
    >>> from cohortmatch.compiled import compile_problem
    >>> from cohortmatch.model import Organisation, Person, Course
    >>> org = Organisation(people=[Person(id=f"p{i}", team="a") for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> check_assignment(prob, np.array([0, 0, 0, 1]))
    RuleViolations(unplaced=0, size=2, team_cap=0, conflict=0, meetings=0)
    """
    p = problem
    a = np.asarray(assignment)
    placed = a >= 0
    wrong_block = placed & (p.cohort_block[np.where(placed, a, 0)] != p.unit_block)
    unplaced = int((~placed).sum() + wrong_block.sum())
    size = np.bincount(a[placed], minlength=p.n_cohorts)
    size_v = int(np.maximum(p.cohort_min - size, 0).sum() + np.maximum(size - p.cohort_max, 0).sum())
    cap_v = 0
    if p.max_per_team != NO_CAP:
        keys = a[placed].astype(np.int64) * p.n_teams + p.unit_team[placed]
        _, counts = np.unique(keys, return_counts=True)
        cap_v = int(np.maximum(counts - p.max_per_team, 0).sum())
    src = np.repeat(np.arange(p.n_units), np.diff(p.conflict_indptr))
    dst = p.conflict_units
    same = (a[src] == a[dst]) & (a[src] >= 0) & (src < dst)
    meet_v = 0
    if p.max_meetings != NO_CAP and not p.meetings_soft:
        _, _, n = assignment_meetings(p, a)
        meet_v = int(np.maximum(n - p.max_meetings, 0).sum())
    return RuleViolations(unplaced, size_v, cap_v, int(same.sum()), meet_v)
