"""Fast pre-checks that explain, in plain words, why a request has no valid plan."""

from __future__ import annotations

import numpy as np

from .compiled import NO_CAP, CompiledProblem
from .errors import InfeasibleError

__all__ = ["precheck", "raise_if_infeasible"]


def precheck(problem: CompiledProblem) -> list[str]:
    """Conflicts between hard rules that counting alone proves; empty when none is found.

    Cohort sizes are checked when the problem is compiled. Here, in each course round:

    * a team with more participants than ``cohorts x max_per_team`` places;
    * cohorts that ``max_per_team`` keeps below ``min_size`` (each cohort holds at most
      ``sum_t min(n_t, max_per_team)`` people);
    * a manager and a direct report with a single cohort;
    * a manager with more direct reports than the other cohorts hold, or whose own
      cohort cannot reach ``min_size`` without them.

    Everything else (rules that only conflict in combination) is left to the CP-SAT
    engine, which names a small conflicting set (:func:`cohortmatch.solvers.cpsat.explain_or_find`).

    Examples
    --------
    >>> from cohortmatch.compiled import compile_problem
    >>> from cohortmatch.model import Organisation, Person, Course, Policy
    >>> org = Organisation(people=[Person(id=f"p{i}", team="sales") for i in range(9)])
    >>> prob = compile_problem(org, [Course(id="x", min_size=4, max_size=5)],
    ...                        Policy(max_per_team=2))
    >>> for conflict in precheck(prob):
    ...     print(conflict)
    course 'x': team 'sales' has 9 participants but 2 cohorts x max_per_team 2 = 4 places
    course 'x': cohorts need at least 4 people but max_per_team 2 allows at most 2 (1 teams ...)
    """
    p = problem
    out: list[str] = []
    for b in range(p.n_blocks):
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        k = int(p.block_cohorts[b + 1] - p.block_cohorts[b])
        where = p.block_name(b)
        if p.max_per_team != NO_CAP:
            counts = np.bincount(p.unit_team[lo:hi], minlength=p.n_teams)
            for t in np.flatnonzero(counts > k * p.max_per_team):
                out.append(
                    f"course {where!r}: team {p.team_ids[t]!r} has {counts[t]} participants but "
                    f"{k} cohorts x max_per_team {p.max_per_team} = {k * p.max_per_team} places"
                )
        if p.max_per_team != NO_CAP:
            room = int(np.minimum(counts, p.max_per_team).sum())
            kmin = int(p.cohort_min[p.block_cohorts[b]])
            if room < kmin:
                out.append(
                    f"course {where!r}: cohorts need at least {kmin} people but max_per_team "
                    f"{p.max_per_team} allows at most {room} "
                    f"({int((counts > 0).sum())} teams take part)"
                )
        out += _manager_capacity(p, b, lo, hi, k, where)
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


def _manager_capacity(
    p: CompiledProblem, b: int, lo: int, hi: int, k: int, where: str
) -> list[str]:
    """Managers whose direct reports cannot all sit outside the manager's cohort."""
    if k < 2 or p.conflict_units.shape[0] == 0:
        return []
    persons = p.unit_person[lo:hi]
    taking = np.zeros(p.n_people, dtype=bool)
    taking[persons] = True
    mgr = p.person_manager[persons]
    has = mgr >= 0
    has[has] &= taking[mgr[has]]
    if not (has.any() and np.diff(p.conflict_indptr[lo : hi + 1]).any()):
        return []
    reports = np.bincount(mgr[has], minlength=p.n_people)
    kmin = int(p.cohort_min[p.block_cohorts[b]])
    kmax = int(p.cohort_max[p.block_cohorts[b]])
    n = hi - lo
    out = []
    for m in np.flatnonzero(reports > (k - 1) * kmax)[:3]:
        out.append(
            f"course {where!r}: manager {p.person_ids[m]!r} has {reports[m]} direct reports "
            f"taking it, more than the {(k - 1) * kmax} places in the {k - 1} cohort(s) "
            "without the manager"
        )
    for m in np.flatnonzero(n - reports < kmin)[:3]:
        if reports[m] == 0:
            continue
        out.append(
            f"course {where!r}: manager {p.person_ids[m]!r} needs a cohort of at least {kmin} "
            f"without their {reports[m]} direct reports, but only {n - reports[m] - 1} "
            "others take it"
        )
    return out


def raise_if_infeasible(problem: CompiledProblem) -> None:
    """Raise :class:`InfeasibleError` listing every conflict :func:`precheck` finds."""
    conflicts = precheck(problem)
    if conflicts:
        raise InfeasibleError(conflicts)
