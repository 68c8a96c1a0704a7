"""Hand-made groupings: score them against a request, or turn them into a start plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..compiled import compile_problem
from ..errors import InputError
from ..model import Course, Organisation, Policy
from ..result import Plan, Unassigned, build_plan
from ..scoring import score, upper_bound
from ..validate import validate
from .tables import Grouping

__all__ = ["GroupingPlan", "courses_of_grouping", "grouping_plan", "missed_gaps"]

DEFAULT_COURSE = "course"


@dataclass(frozen=True)
class GroupingPlan:
    """A hand-made grouping as a :class:`~cohortmatch.Plan` of a request.

    Attributes
    ----------
    plan : Plan
        Cohort ids are the request's (``course-1``, ...); ``labels`` maps them back.
    courses : tuple of Course
        The request's courses (derived from the grouping when none were given).
    labels : dict
        ``{cohort id: label in the grouping file}``.
    violations : list of str
        Hard rules the grouping breaks (from :func:`cohortmatch.validate`).
    """

    plan: Plan
    courses: tuple[Course, ...]
    labels: dict[str, str]
    violations: list[str]


def courses_of_grouping(grouping: Grouping) -> tuple[Course, ...]:
    """One course per ``course`` value of a grouping, sized and split as the grouping is.

    Participants are the people the grouping places; ``cohorts`` the most cohorts of a
    round; ``min_size``/``max_size`` the smallest and largest cohort; ``rounds`` the
    highest round + 1. A grouping without a ``course`` column is one course, ``course``.

    Examples
    --------
    >>> g = Grouping("g.csv", ("p1", "p2", "p3"), ("A", "A", "B"), (None,) * 3, (0, 0, 0))
    >>> c = courses_of_grouping(g)[0]
    >>> c.id, c.min_size, c.max_size, c.cohorts, c.participants
    ('course', 1, 2, 2, ('p1', 'p2', 'p3'))
    """
    out = []
    course_ids = list(dict.fromkeys(c or DEFAULT_COURSE for c in grouping.course))
    for cid in course_ids:
        rows = [i for i, c in enumerate(grouping.course) if (c or DEFAULT_COURSE) == cid]
        sizes: dict[tuple[int, str], int] = {}
        for i in rows:
            key = (grouping.round[i], grouping.cohort[i])
            sizes[key] = sizes.get(key, 0) + 1
        per_round: dict[int, int] = {}
        for r, _ in sizes:
            per_round[r] = per_round.get(r, 0) + 1
        out.append(
            Course(
                id=cid,
                min_size=min(sizes.values()),
                max_size=max(sizes.values()),
                cohorts=max(per_round.values()),
                participants=tuple(dict.fromkeys(grouping.person[i] for i in rows)),
                rounds=max(per_round) + 1,
            )
        )
    return tuple(out)


def grouping_plan(
    grouping: Grouping,
    org: Organisation,
    courses: Sequence[Course] | None = None,
    policy: Policy | None = None,
) -> GroupingPlan:
    """Evaluate a hand-made grouping as a plan of ``(org, courses, policy)``.

    The grouping's cohort labels of each course round are matched, in order of first
    appearance, to the request's cohorts of that round. Participants the grouping leaves
    out are listed as unassigned. The plan's metrics and bound come from the scoring core,
    exactly as for a computed plan.

    Parameters
    ----------
    grouping : Grouping
    org : Organisation
    courses : sequence of Course, optional
        Without courses, they are derived from the grouping (:func:`courses_of_grouping`).
    policy : Policy, optional

    Returns
    -------
    GroupingPlan

    Raises
    ------
    InputError
        The grouping names an unknown person, course or round, someone who does not take
        the course, or more cohorts than the course has; the message names row and column.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4)],
    ...                       gaps=[cm.Gap(a="a", b="b")])
    >>> g = Grouping("g.csv", ("p0", "p2", "p1", "p3"), ("X", "X", "Y", "Y"), (None,) * 4, (0,) * 4)
    >>> gp = grouping_plan(g, org)
    >>> gp.plan.metrics.coverage, gp.labels
    (0.0, {'course-1': 'X', 'course-2': 'Y'})
    """
    policy = policy or Policy()
    courses = tuple(courses) if courses is not None else courses_of_grouping(grouping)
    by_id = {c.id: c for c in courses}
    known_people = {p.id for p in org.people}
    for i in range(len(grouping.person)):
        if grouping.person[i] not in known_people:
            raise InputError(
                f"{grouping.where(i, 'person')}: unknown person {grouping.person[i]!r}"
            )
        cid = grouping.course[i]
        if cid is None:
            if len(courses) > 1:
                raise InputError(
                    f"{grouping.where(i, 'course')}: the request has {len(courses)} courses; "
                    "say which one"
                )
        elif cid not in by_id:
            raise InputError(f"{grouping.where(i, 'course')}: unknown course {cid!r}")
        course = by_id[cid] if cid is not None else courses[0]
        if grouping.round[i] >= course.rounds:
            raise InputError(
                f"{grouping.where(i, 'round')}: course {course.id!r} has rounds 0.."
                f"{course.rounds - 1}; got {grouping.round[i]}"
            )
    problem = compile_problem(org, courses, policy)
    p = problem
    unit_of = p.unit_index()
    block_of = {(p.course_ids[p.block_course[b]], int(p.block_round[b])): b
                for b in range(p.n_blocks)}
    assignment = np.full(p.n_units, -1, dtype=np.int64)
    label_to_cohort: dict[tuple[str, int, str], int] = {}
    next_cohort: dict[int, int] = {}
    labels: dict[str, str] = {}
    for i in range(len(grouping.person)):
        course_id = grouping.course[i] or courses[0].id
        r = grouping.round[i]
        found = unit_of.get((grouping.person[i], course_id, r))
        if found is None:
            raise InputError(
                f"{grouping.where(i, 'person')}: {grouping.person[i]!r} does not take course "
                f"{course_id!r}"
            )
        key = (course_id, r, grouping.cohort[i])
        if key not in label_to_cohort:
            b = block_of[(course_id, r)]
            first, end = p.block_of_cohort_range(b)
            k = next_cohort.get(b, first)
            if k >= end:
                raise InputError(
                    f"{grouping.where(i, 'cohort')}: course {course_id!r} round {r} has "
                    f"{end - first} cohort(s) and this is cohort {k - first + 1} of the grouping "
                    f"(set 'cohorts' of course {course_id!r} to allow more)"
                )
            next_cohort[b] = k + 1
            label_to_cohort[key] = k
            labels[p.cohort_ids[k]] = grouping.cohort[i]
        assignment[found] = label_to_cohort[key]
    full = score(p, assignment)
    missing = np.flatnonzero(assignment < 0)
    unassigned = [
        Unassigned(person=p.person_ids[p.unit_person[u]],
                   course=p.course_ids[p.block_course[p.unit_block[u]]],
                   round=int(p.block_round[p.unit_block[u]]),
                   reason=f"not in the grouping {grouping.source}")
        for u in missing.tolist()
    ]
    plan = build_plan(p, assignment, full, bound=upper_bound(p), status="given", seed=None,
                      elapsed=0.0, solver="hand-made", unassigned=unassigned)
    used = set(labels)
    plan = plan.model_copy(update={"cohorts": tuple(c for c in plan.cohorts if c.id in used)})
    violations = []
    for v in validate(plan, org, courses, policy):
        if "differs from the recomputed" in v:
            continue
        for cid, label in labels.items():  # speak the grouping's language
            v = v.replace(f"cohort {cid!r}", f"cohort {label!r}")
        violations.append(v)
    return GroupingPlan(plan=plan, courses=courses, labels=labels, violations=violations)


def missed_gaps(
    plan: Plan, org: Organisation, *, limit: int | None = None
) -> list[tuple[str, str, float, str]]:
    """Gaps no cohort of ``plan`` bridges, heaviest first: ``(team_a, team_b, weight, purpose)``.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id="x", team="a"), cm.Person(id="y", team="b")],
    ...                       gaps=[cm.Gap(a="a", b="b", weight=2.0)])
    >>> p = cm.plan(org, [cm.Course(id="c", min_size=1, max_size=1)], time_limit=None,
    ...             work_limit=10, seed=0)
    >>> missed_gaps(p, org)
    [('a', 'b', 2.0, 'build')]
    """
    bridged = {(b.a, b.b) for c in plan.cohorts for b in c.bridges}
    bridged |= {(b, a) for a, b in bridged}
    out: list[tuple[str, str, float, str]] = [
        (g.a, g.b, g.weight, g.purpose) for g in org.gaps if (g.a, g.b) not in bridged
    ]
    out.sort(key=lambda x: (-x[2], x[0], x[1]))
    return out[:limit] if limit is not None else out
