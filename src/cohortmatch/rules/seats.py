"""Seats: at most ``seats`` people placed in a course round, required people placed, and
at most ``max_courses_per_person`` courses each (problems made by
:meth:`~cohortmatch.compiled.CompiledProblem.with_seats`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..compiled import NO_CAP
from .base import Rule

if TYPE_CHECKING:
    from ..engines.cpsat.model import CohortModel

__all__ = ["Seats"]


class Seats(Rule):
    """At most ``block_seats[b]`` placed units in block ``b``; no person in more than
    ``max_courses`` courses. (Required units are placed by the sizes rule.)

    The compiled search kernels do not choose whom to place (``search = False``): the
    engine registry sends such problems to CP-SAT, and :mod:`cohortmatch.seats` chooses
    people for the other engines. Conflicts that counting proves are found on the
    request, before compiling (:func:`cohortmatch.seats.seat_conflicts`).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t") for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2, cohorts=1)])
    >>> rule = Seats(prob.with_seats([2], [False] * 4))
    >>> rule.violations(np.array([0, 0, -1, -1])), rule.violations(np.array([0, 0, 0, -1]))
    (0, 1)
    """

    name = "seats"
    search = False

    @classmethod
    def applies(cls, problem):  # type: ignore[no-untyped-def]
        return problem.block_seats is not None

    def violations(self, assignment: np.ndarray) -> int:
        return int(self._over_seats(assignment).sum() + self._over_courses(assignment).sum())

    def _over_seats(self, assignment: np.ndarray) -> np.ndarray:
        """Placed units beyond the seats, per block."""
        p = self.problem
        a = np.asarray(assignment)
        placed = np.bincount(p.unit_block[a >= 0], minlength=p.n_blocks)
        return np.maximum(placed - p.block_seats, 0)  # type: ignore[operator]

    def _over_courses(self, assignment: np.ndarray) -> np.ndarray:
        """Courses beyond ``max_courses``, per person."""
        p = self.problem
        if p.max_courses == NO_CAP:
            return np.zeros(0, np.int64)
        a = np.asarray(assignment)
        placed = np.flatnonzero(a >= 0)
        pairs = np.unique(p.unit_person[placed].astype(np.int64) * len(p.course_ids)
                          + p.block_course[p.unit_block[placed]])
        courses = np.bincount(pairs // len(p.course_ids), minlength=p.n_people)
        return np.maximum(courses - p.max_courses, 0)

    def signature(self, units: np.ndarray) -> list[Any] | None:
        p = self.problem
        required = p.unit_required[units].tolist()  # type: ignore[index]
        fit = (p.unit_fit[units] if p.fit_weight else np.zeros(units.shape[0])).tolist()
        person = (p.unit_person[units] if p.max_courses != NO_CAP else np.full(units.shape[0], -1)).tolist()
        return list(zip(required, fit, person, strict=True))

    def encode(self, cm: CohortModel) -> None:
        d, p = cm.data, cm.data.problem
        seats = p.block_seats
        assert seats is not None
        by_person: dict[int, list[Any]] = {}
        for b in d.blocks:
            ks = d.block_cohorts[b].tolist()
            placed = [cm.n[g, k] for g in d.block_groups[b].tolist() for k in ks]
            if seats[b] != NO_CAP and placed:
                lit = cm.rule(("seats", b), f"course {p.block_name(b)!r}: at most {int(seats[b])} seats")
                cm.enforce(cm.model.add(sum(placed) <= int(seats[b])), lit)
            if p.max_courses != NO_CAP:
                for g in d.block_groups[b].tolist():
                    person = int(p.unit_person[d.g_units[g][0]])
                    by_person.setdefault(person, []).extend(cm.n[g, k] for k in ks)
        for person, xs in by_person.items():  # one block per course: courses of one round
            lit = cm.rule(("courses", person), f"at most {p.max_courses} courses per person")
            cm.enforce(cm.model.add(sum(xs) <= p.max_courses), lit)
