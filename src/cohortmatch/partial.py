"""Shrink an infeasible request to what the hard rules allow, saying who is left out and why.

Used by ``plan(..., on_infeasible="partial")``. Every rule that counting alone can prove
broken (the conflicts :func:`cohortmatch.rules.precheck` reports) is resolved by leaving
out the fewest participants this module can find, in a fixed, input-order independent
way (people are taken in the canonical order of their ids). Each rule decides whom it
leaves out (:meth:`cohortmatch.rules.Rule.reduce`); course by course, the rules are asked
in their order (:data:`cohortmatch.rules.RULES`) until none fires:

* **cohort sizes**: a course whose participants cannot fill ``ceil(n / max_size)``
  cohorts of ``min_size..max_size`` keeps ``floor(n / min_size) * max_size`` of them
  (all of them when fewer than ``min_size``: then nobody is placed); with ``cohorts``
  fixed, the participants beyond ``cohorts * max_size`` are left out, and a course that
  cannot fill its fixed cohorts leaves everyone out; people of the largest teams go first;
* **max_per_team**: members of a team beyond ``cohorts * max_per_team`` places; a course
  whose ``max_per_team`` keeps every cohort below ``min_size`` leaves everyone out;
* **keep_apart**: members of a group beyond the number of cohorts; managers: with one
  cohort, the fewest people (a minimum vertex cover of the management forest) so that no
  manager shares it with a direct report; with several, a manager who has more direct
  reports than the other cohorts hold, or whose own cohort cannot be filled without them;
* **keep_together**: members of a group beyond a cohort's size or ``max_per_team``, or
  one of two members who must also be apart;
* **pinned**: people pinned to a cohort the course cannot fill, beyond its size or team
  cap, or with someone they must be apart from (or away from someone they must be with).

Conflicts only a solver finds (rules that clash in combination, meeting caps) are handled
by :func:`cohortmatch.plan`, which then leaves out whole courses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compiled import cohorts_for
from .model import Course
from .request import Request
from .rules import CourseView, active

__all__ = ["LeftOut", "reduce_request"]


@dataclass(frozen=True)
class LeftOut:
    """A participant left out of every round of a course, and why (ids only)."""

    person: str
    course: str
    reason: str


def reduce_request(request: Request) -> tuple[Request, list[LeftOut]]:
    """The request with the participants the hard rules can place, and those left out.

    Parameters
    ----------
    request : Request

    Returns
    -------
    request : Request
        Courses that keep at least one participant, those changed with an explicit
        participant list (``cohorts`` as given, pins of people left out removed). Courses
        nobody can take are left out.
    left_out : list of LeftOut
        One entry per participant and course left out, in course order then id order.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i:02d}", team="ab"[i % 2]) for i in range(23)])
    >>> kept, out = reduce_request(Request(org=org, courses=[Course(id="x", min_size=8, max_size=10)]))
    >>> len(kept.courses[0].participants), len(out)
    (20, 3)
    >>> out[0].reason
    "course 'x': 23 participants cannot form cohorts of 8-10; 3 left over"
    """
    problem = request.compile()
    rules = active(problem)
    ids = problem.person_ids
    kept: list[Course] = []
    left_out: list[LeftOut] = []
    for ci, course in enumerate(request.courses):
        b = int(np.flatnonzero(problem.block_course == ci)[0])
        members = problem.unit_person[problem.block_units[b] : problem.block_units[b + 1]].astype(np.int64)
        if members.shape[0] == 0:
            continue  # nobody takes it: nobody to place, nobody to lose
        reasons = _reduce_course(problem, rules, ci, course, members)
        if not reasons:
            kept.append(course)
            continue
        gone = np.fromiter(sorted(reasons), np.int64, len(reasons))
        keep = np.setdiff1d(members, gone)
        left_out += [LeftOut(ids[i], course.id, reasons[i]) for i in gone.tolist()]
        if keep.shape[0]:
            stay = {ids[i] for i in keep.tolist()}
            kept.append(course.model_copy(update={
                "participants": tuple(ids[i] for i in keep.tolist()),
                "pinned": {p: c for p, c in course.pinned.items() if p in stay},
            }))
    return request.with_courses(kept), left_out


def _reduce_course(problem, rules, ci: int, course: Course, members: np.ndarray) -> dict[int, str]:  # type: ignore[no-untyped-def]  # noqa: E501
    """``{person index: reason}`` of the participants of one course left out."""
    reasons: dict[int, str] = {}
    alive = members.copy()
    for _ in range(members.shape[0] + 1):  # every pass that continues drops someone
        if alive.shape[0] == 0:
            break
        view = CourseView(problem, ci, alive, cohorts_for(int(alive.shape[0]), course),
                          course.min_size, course.max_size, course.cohorts is not None)
        cut = next((c for rule in rules if (c := rule.reduce(view)) is not None), None)
        if cut is None:
            break
        for i in cut.persons.tolist():
            reasons[int(i)] = cut.reason
        alive = np.setdiff1d(alive, cut.persons)
    return reasons
