"""Hand-made groupings: score them against a request, or turn them into a start plan."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..compiled import CompiledProblem, cohorts_for, compile_problem
from ..engines.construct import balanced_sizes, fill_targets
from ..errors import InputError
from ..model import Course, Organisation, Policy
from ..request import Request
from ..result import Plan, Unassigned, build_plan
from ..scoring import score, upper_bound
from ..validate import validate
from .tables import Grouping, read_grouping

__all__ = [
    "GroupingPlan",
    "courses_of_grouping",
    "example_grouping",
    "grouping_plan",
    "missed_gaps",
    "score_grouping",
    "start_problems",
]

DEFAULT_COURSE = "course"


@dataclass(frozen=True)
class GroupingPlan:
    """A hand-made grouping as a :class:`~cohortmatch.Plan` of a request.

    Attributes
    ----------
    plan : Plan
        Cohort ids are the request's (``course-1``, ...); ``labels`` maps them back. The
        participants the grouping leaves out are ``plan.unassigned``; the bound is the
        request's (its courses, with the cohort counts of ``courses``).
    courses : tuple of Course
        The request's courses, each with as many cohorts as the grouping has where the
        course does not fix ``cohorts`` (derived from the grouping when none were given).
    labels : dict
        ``{cohort id: label in the grouping file}``.
    violations : list of str
        Hard rules the grouping breaks (from :func:`cohortmatch.validate`), in its labels.
    notes : tuple of str
        What was read into the grouping: the course of rows without one, cohort counts
        that follow the grouping.
    """

    plan: Plan
    courses: tuple[Course, ...]
    labels: dict[str, str]
    violations: list[str]
    notes: tuple[str, ...] = ()


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
        sizes = Counter((grouping.round[i], grouping.cohort[i]) for i in rows)
        per_round = Counter(r for r, _ in sizes)
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

    Rows without a course belong to the only course, or else to the one course that every
    person of those rows takes and whose ``max_size`` their cohorts keep (if several do,
    the one whose ``min_size`` they keep too). A course that does not fix ``cohorts``
    gets as many cohorts as the grouping has in a round when that is more than the
    fewest the sizes allow. The grouping's cohort labels of each course round are
    matched, in order of first appearance, to the request's cohorts of that round. The
    grouping may cover part of a course: the participants it leaves out are listed as
    unassigned. Metrics and bound come from the scoring core, as for a computed plan.

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
        the course, more cohorts than the course fixes (or than its participants can
        fill), or leaves its course unclear; the message names row and column.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(6)],
    ...                       gaps=[cm.Gap(a="a", b="b")])
    >>> g = Grouping("g.csv", ("p0", "p2", "p1", "p3"), ("X", "X", "Y", "Y"), (None,) * 4, (0,) * 4)
    >>> gp = grouping_plan(g, org)
    >>> gp.plan.metrics.coverage, gp.labels
    (0.0, {'course-1': 'X', 'course-2': 'Y'})
    >>> gp = grouping_plan(g, org, [cm.Course(id="intro", min_size=2, max_size=3)])
    >>> [u.person for u in gp.plan.unassigned], gp.violations
    (['p4', 'p5'], [])
    """
    policy = policy or Policy()
    courses = tuple(courses) if courses is not None else courses_of_grouping(grouping)
    known_people = {p.id for p in org.people}
    for i, person in enumerate(grouping.person):
        if person not in known_people:
            raise InputError(f"{grouping.where(i, 'person')}: unknown person {person!r}")
    course_of, notes = _row_courses(grouping, courses, org)
    courses, counted = _cohorts_follow(grouping, course_of, courses, org)
    p = compile_problem(org, courses, policy)
    assignment, labels = _assignment(grouping, course_of, p, courses)
    full = score(p, assignment)
    unassigned = [
        Unassigned(person=p.person_ids[p.unit_person[u]],
                   course=p.course_ids[p.block_course[p.unit_block[u]]],
                   round=int(p.block_round[p.unit_block[u]]),
                   reason=f"not in the grouping {grouping.source}")
        for u in np.flatnonzero(assignment < 0).tolist()
    ]
    plan = build_plan(p, assignment, full, bound=upper_bound(p), status="given", seed=None,
                      elapsed=0.0, solver="hand-made", unassigned=unassigned)
    plan = plan.model_copy(update={"cohorts": tuple(c for c in plan.cohorts if c.id in labels)})
    violations = []
    for v in validate(plan, org, courses, policy):
        if "differs from the recomputed" in v:
            continue
        for cid, label in labels.items():  # speak the grouping's language
            v = v.replace(f"cohort {cid!r}", f"cohort {label!r}")
        violations.append(v)
    return GroupingPlan(plan=plan, courses=courses, labels=labels, violations=violations,
                        notes=tuple(notes + counted))


def _row_courses(
    grouping: Grouping, courses: Sequence[Course], org: Organisation
) -> tuple[list[str], list[str]]:
    """The course id of every row (rows without one resolved), and a note if any were."""
    by_id = {c.id: c for c in courses}
    for i, cid in enumerate(grouping.course):
        if cid is not None and cid not in by_id:
            raise InputError(f"{grouping.where(i, 'course')}: unknown course {cid!r} (the "
                             f"courses are: {', '.join(repr(c) for c in by_id)})")
    loose = [i for i, cid in enumerate(grouping.course) if cid is None]
    notes = []
    default = courses[0].id
    if loose and len(courses) > 1:
        default = _course_of_loose_rows(grouping, loose, courses, org)
        notes.append(f"rows without a course are read as course {default!r}, the one course "
                     "that takes all their people and keeps their cohort sizes")
    course_of = [cid if cid is not None else default for cid in grouping.course]
    for i, cid in enumerate(course_of):
        if grouping.round[i] >= by_id[cid].rounds:
            raise InputError(f"{grouping.where(i, 'round')}: course {cid!r} has rounds 0.."
                             f"{by_id[cid].rounds - 1}; got {grouping.round[i]}")
    return course_of, notes


def _course_of_loose_rows(
    grouping: Grouping, rows: list[int], courses: Sequence[Course], org: Organisation
) -> str:
    """The one course the rows without a course fit, or an error saying why it is unclear."""
    people = {grouping.person[i] for i in rows}
    sizes = Counter((grouping.round[i], grouping.cohort[i]) for i in rows).values()
    smallest, largest = min(sizes), max(sizes)
    everyone = {p.id for p in org.people}
    fits, reasons = [], []
    for c in courses:
        outside = sorted(people - (set(c.participants) if c.participants is not None
                                   else everyone))
        if outside:
            more = f" (and {len(outside) - 1} more)" if len(outside) > 1 else ""
            reasons.append(f"{outside[0]!r}{more} does not take {c.id!r}")
        elif largest > c.max_size:
            reasons.append(f"a cohort of {largest} is over the max_size {c.max_size} of {c.id!r}")
        else:
            fits.append(c)
    exact = [c for c in fits if c.min_size <= smallest]
    if len(fits) == 1 or len(exact) == 1:
        return (fits if len(fits) == 1 else exact)[0].id
    if not fits:
        raise InputError(f"{grouping.source}: the grouping names no course and fits none of the "
                         f"request's courses ({'; '.join(reasons)}); add a 'course' column")
    raise InputError(f"{grouping.source}: the grouping names no course and fits "
                     f"{', '.join(repr(c.id) for c in fits)}; add a 'course' column to say which")


def _cohorts_follow(
    grouping: Grouping, course_of: list[str], courses: Sequence[Course], org: Organisation
) -> tuple[tuple[Course, ...], list[str]]:
    """Courses without a fixed ``cohorts`` get the grouping's count when it is higher."""
    labels: dict[tuple[str, int], set[str]] = {}
    for i, cid in enumerate(course_of):
        labels.setdefault((cid, grouping.round[i]), set()).add(grouping.cohort[i])
    out, notes = [], []
    for c in courses:
        needed = max((len(v) for (cid, _), v in labels.items() if cid == c.id), default=0)
        n = len(c.participants) if c.participants is not None else len(org.people)
        if c.cohorts is not None or needed <= cohorts_for(n, c):
            out.append(c)
            continue
        if needed * c.min_size > n:
            raise InputError(
                f"{grouping.source}: course {c.id!r} has {needed} cohorts in a round of the "
                f"grouping, more than its {n} participants can fill to min_size {c.min_size}"
            )
        out.append(c.model_copy(update={"cohorts": needed}))
        notes.append(f"course {c.id!r}: {needed} cohorts per round, as in the grouping (the "
                     f"fewest its sizes allow is {cohorts_for(n, c)})")
    return tuple(out), notes


def _assignment(
    grouping: Grouping, course_of: list[str], p: CompiledProblem, courses: Sequence[Course]
) -> tuple[np.ndarray, dict[str, str]]:
    """The grouping as an assignment of ``p`` (``-1``: left out) and the cohort labels."""
    unit_of = p.unit_index()
    fixed = {c.id: c.cohorts for c in courses}
    block_of = {(p.course_ids[p.block_course[b]], int(p.block_round[b])): b
                for b in range(p.n_blocks)}
    assignment = np.full(p.n_units, -1, dtype=np.int64)
    label_to_cohort: dict[tuple[str, int, str], int] = {}
    next_cohort: dict[int, int] = {}
    labels: dict[str, str] = {}
    for i, course_id in enumerate(course_of):
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
            if k >= end:  # only where the course fixes its cohorts (else they follow)
                raise InputError(
                    f"{grouping.where(i, 'cohort')}: course {course_id!r} round {r} has "
                    f"{fixed[course_id]} cohort(s) (its 'cohorts') and this is cohort "
                    f"{k - first + 1} of the grouping"
                )
            next_cohort[b] = k + 1
            label_to_cohort[key] = k
            labels[p.cohort_ids[k]] = grouping.cohort[i]
        assignment[found] = label_to_cohort[key]
    return assignment, labels


def score_grouping(
    org: Organisation | Request,
    grouping: Any,
    courses: Sequence[Course] | None = None,
    policy: Policy | None = None,
) -> GroupingPlan:
    """Score a hand-made grouping from Python, as ``cohortmatch score`` does.

    Parameters
    ----------
    org : Organisation or Request
        A :class:`~cohortmatch.Request` brings its courses and policy (``courses`` and
        ``policy`` must then be left out).
    grouping : mapping, sequence of sequences, DataFrame, path or Grouping
        ``{person id: cohort label}`` (one course, one round); a list of cohorts, each a
        list of person ids (labelled ``"1"``, ``"2"``, ... in order); a table with columns
        ``person``, ``cohort`` and optionally ``course``, ``round`` (a pandas DataFrame or
        a ``.csv``/``.xlsx`` path, read by :func:`~cohortmatch.io.read_grouping`); or a
        :class:`~cohortmatch.io.Grouping`.
    courses : sequence of Course, optional
        The request's courses. Without them the courses follow the grouping (its cohort
        sizes and counts), so the bound is that split's.
    policy : Policy, optional

    Returns
    -------
    GroupingPlan
        ``.plan`` (metrics, the request's bound, the participants left out as
        ``unassigned``), ``.violations`` (hard rules broken, in the grouping's labels),
        ``.labels`` and ``.notes``. :func:`missed_gaps` lists the gaps it leaves open.

    Raises
    ------
    InputError
        The grouping is of an unknown kind, holds something other than text ids, places a
        person twice, or names an unknown person, course or round (see
        :func:`grouping_plan`).

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(6)],
    ...                       gaps=[cm.Gap(a="a", b="b")])
    >>> given = cm.score_grouping(org, [["p0", "p1", "p2"], ["p3", "p4", "p5"]])
    >>> given.plan.metrics.coverage, given.violations
    (1.0, [])
    >>> given = cm.score_grouping(org, {"p0": "X", "p2": "X", "p1": "Y", "p3": "Y"},
    ...                           [cm.Course(id="intro", min_size=2, max_size=3)],
    ...                           cm.Policy(max_per_team=1))
    >>> [u.person for u in given.plan.unassigned]
    ['p4', 'p5']
    >>> given.violations[0]
    "cohort 'X': 2 members of team 'a', max_per_team is 1"
    """
    if isinstance(org, Request):
        if courses is not None or policy is not None:
            raise InputError("score_grouping: give either a Request or org, courses and policy, "
                             "not both")
        return grouping_plan(as_grouping(grouping), org.org, org.courses, org.policy)
    return grouping_plan(as_grouping(grouping), org, courses, policy)


def as_grouping(grouping: Any) -> Grouping:
    """A :class:`~cohortmatch.io.Grouping` from any form :func:`score_grouping` takes.

    Examples
    --------
    >>> as_grouping([["p1", "p2"], ["p3"]]).cohort
    ('1', '1', '2')
    >>> as_grouping({"p1": 5})
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: grouping, entry 1, column 'cohort': expected text, got 5
    """
    if isinstance(grouping, Grouping):
        return grouping
    if isinstance(grouping, Mapping):
        rows = list(grouping.items())
    elif isinstance(grouping, (list, tuple)):
        rows = []
        for k, members in enumerate(grouping, start=1):
            if isinstance(members, str) or not isinstance(members, (list, tuple, set, frozenset)):
                raise InputError(f"grouping, cohort {k}: expected a list of person ids, got "
                                 f"{type(members).__name__}")
            rows.extend((person, str(k)) for person in members)
    else:
        return read_grouping(grouping)
    seen: dict[str, int] = {}
    for i, (person, cohort) in enumerate(rows, start=1):
        for column, value in (("person", person), ("cohort", cohort)):
            if not isinstance(value, str) or not value.strip():
                raise InputError(f"grouping, entry {i}, column {column!r}: expected text, got "
                                 f"{value!r}")
        if person in seen:
            raise InputError(f"grouping, entry {i}, column 'person': {person!r} is placed twice "
                             f"(first in entry {seen[person]})")
        seen[person] = i
    n = len(rows)
    return Grouping("grouping", tuple(r[0] for r in rows), tuple(r[1] for r in rows),
                    (None,) * n, (0,) * n, first_row=1)


def start_problems(given: GroupingPlan) -> list[str]:
    """Why a scored grouping cannot be a start plan: a cohort over ``max_size``, or cohorts
    that the participants cannot fill to ``min_size``; ``[]`` when it can.

    Broken team caps and managers sitting with their reports are not listed: the planner
    repairs them. The people the grouping leaves out are placed by the planner.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(6)])
    >>> g = Grouping("g.csv", ("p0", "p1", "p2"), ("X",) * 3, (None,) * 3, (0,) * 3)
    >>> start_problems(grouping_plan(g, org, [cm.Course(id="c", min_size=2, max_size=3)]))
    []
    >>> start_problems(grouping_plan(g, org, [cm.Course(id="c", min_size=2, max_size=2)]))
    ["cohort 'X' of course 'c' round 0 has 3 members, more than max_size 2"]
    """
    out = []
    size = Counter((c.course, c.round) for c in given.plan.cohorts for _ in c.members)
    left = Counter((u.course, u.round) for u in given.plan.unassigned)
    for course in given.courses:
        for r in range(course.rounds):
            cohorts = [c for c in given.plan.cohorts if c.course == course.id and c.round == r]
            n = size[(course.id, r)] + left[(course.id, r)]
            k = cohorts_for(n, course)
            sizes = np.array([len(c.members) for c in cohorts] + [0] * (k - len(cohorts)))
            if fill_targets(sizes, n, np.full(k, course.min_size), np.full(k, course.max_size)
                            ) is not None:
                continue
            over = [c for c in cohorts if len(c.members) > course.max_size]
            out += [f"cohort {given.labels[c.id]!r} of course {course.id!r} round {r} has "
                    f"{len(c.members)} members, more than max_size {course.max_size}"
                    for c in over]
            if not over:
                need = int(np.maximum(sizes, course.min_size).sum())
                out.append(f"course {course.id!r} round {r}: bringing its {k} cohorts up to "
                           f"min_size {course.min_size} needs {need} people; it has {n}")
    return out


def example_grouping(org: Organisation, *, size: int = 12) -> Grouping:
    """A grouping as one is often made by hand: people in the order of the export, in
    consecutive cohorts of about ``size`` (``group-01``, ``group-02``, ...).

    ``cohortmatch synth`` writes it as ``grouping.csv`` next to the organisation, to try
    ``cohortmatch score`` and ``cohortmatch plan --start`` on.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(5)])
    >>> example_grouping(org, size=2).cohort
    ('group-1', 'group-1', 'group-2', 'group-2', 'group-3')
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InputError(f"The 'size' must be an int >= 1. Got {size!r}.")
    n = len(org.people)
    k = math.ceil(n / size)
    width = len(str(k))
    cohort = np.repeat(np.arange(k), balanced_sizes(n, k))
    return Grouping(
        source="example grouping",
        person=tuple(p.id for p in org.people),
        cohort=tuple(f"group-{c + 1:0{width}d}" for c in cohort.tolist()),
        course=(None,) * n,
        round=(0,) * n,
    )


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
