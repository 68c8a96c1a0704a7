"""Fast pre-checks that explain, in plain words, why a request has no valid plan."""

from __future__ import annotations

import numpy as np

from .compiled import NO_CAP, CompiledProblem
from .errors import InfeasibleError

__all__ = ["precheck", "raise_if_infeasible"]


def precheck(problem: CompiledProblem) -> list[str]:
    """Conflicts between hard rules that counting alone proves; empty when none is found.

    Cohort sizes are checked when the problem is compiled. Here: a team with more
    participants in a course round than ``cohorts x max_per_team`` places, and a manager
    and a direct report in a course round with a single cohort.

    Examples
    --------
    >>> from cohortmatch.compiled import compile_problem
    >>> from cohortmatch.model import Organisation, Person, Course, Policy
    >>> org = Organisation(people=[Person(id=f"p{i}", team="sales") for i in range(9)])
    >>> prob = compile_problem(org, [Course(id="x", min_size=4, max_size=5)], Policy(max_per_team=2))
    >>> precheck(prob)
    ["course 'x': team 'sales' has 9 participants but 2 cohorts x max_per_team 2 = 4 places"]
    """
    p = problem
    out: list[str] = []
    for b in range(p.n_blocks):
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        k = int(p.block_cohorts[b + 1] - p.block_cohorts[b])
        course = p.course_ids[p.block_course[b]]
        where = course if p.block_round[b] == 0 else f"{course} round {p.block_round[b] + 1}"
        if p.max_per_team != NO_CAP:
            counts = np.bincount(p.unit_team[lo:hi], minlength=p.n_teams)
            for t in np.flatnonzero(counts > k * p.max_per_team):
                out.append(
                    f"course {where!r}: team {p.team_ids[t]!r} has {counts[t]} participants but "
                    f"{k} cohorts x max_per_team {p.max_per_team} = {k * p.max_per_team} places"
                )
        if k == 1:
            src = np.repeat(np.arange(p.n_units), np.diff(p.conflict_indptr))[
                p.conflict_indptr[lo] : p.conflict_indptr[hi]
            ]
            dst = p.conflict_units[p.conflict_indptr[lo] : p.conflict_indptr[hi]]
            is_manager = p.person_manager[p.unit_person[dst]] == p.unit_person[src]
            managers = sorted({p.person_ids[i] for i in p.unit_person[src[is_manager]]})
            if managers:
                shown = ", ".join(repr(m) for m in managers[:3])
                more = f" (and {len(managers) - 3} more)" if len(managers) > 3 else ""
                out.append(
                    f"course {where!r}: manager {shown}{more} and reports cannot be separated "
                    "with 1 cohort"
                )
    return out


def raise_if_infeasible(problem: CompiledProblem) -> None:
    """Raise :class:`InfeasibleError` listing every conflict :func:`precheck` finds."""
    conflicts = precheck(problem)
    if conflicts:
        raise InfeasibleError(conflicts)
