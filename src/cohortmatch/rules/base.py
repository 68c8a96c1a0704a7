"""What every hard rule has: the :class:`Rule` interface, a course view for partial plans."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..compiled import CompiledProblem

if TYPE_CHECKING:  # the CP-SAT model is built above the rules; a rule only calls its methods
    from ..engines.cpsat.model import CohortModel

__all__ = ["Rule", "CourseView", "Cut"]


@dataclass(frozen=True)
class CourseView:
    """One course while a partial plan is cut down (see :mod:`cohortmatch.partial`).

    Attributes
    ----------
    problem : CompiledProblem
        The whole request, compiled.
    course : int
        Index of the course.
    alive : int64 array
        People (canonical indices) still taking it, sorted.
    cohorts : int
        Cohorts the course gets for them.
    lo, hi : int
        Cohort size bounds.
    fixed : bool
        Whether the course fixes its number of cohorts.
    """

    problem: CompiledProblem
    course: int
    alive: np.ndarray
    cohorts: int
    lo: int
    hi: int
    fixed: bool

    @property
    def where(self) -> str:
        """How messages name the course."""
        return f"course {self.problem.course_ids[self.course]!r}"

    @property
    def blocks(self) -> np.ndarray:
        """The course's blocks (one per round)."""
        return np.flatnonzero(self.problem.block_course == self.course)

    def taking(self) -> np.ndarray:
        """Boolean mask over people: who is still taking the course."""
        mask = np.zeros(self.problem.n_people, dtype=bool)
        mask[self.alive] = True
        return mask


@dataclass(frozen=True)
class Cut:
    """People a rule leaves out of a course for a partial plan, and why."""

    persons: np.ndarray
    reason: str


class Rule:
    """A hard rule of a compiled problem: everything about it lives in its module.

    A rule class is active on a problem when :meth:`applies` says so; an instance holds
    the arrays it derives from the problem (built once). It owns

    * :meth:`violations`: how often a (complete or partial) assignment breaks it, and
      :meth:`offenders`: which units do;
    * :meth:`precheck`: conflicts that counting proves, in words naming the people;
    * :meth:`reduce`: whom to leave out of a course for a partial plan;
    * :meth:`encode`: its constraints in the CP-SAT model (``cpsat = False``: none);
    * :meth:`kernel_fields`: the arrays the compiled search kernels read
      (:class:`cohortmatch.rules.kernel.KernelRules`), with its compiled checks in its
      module.

    :func:`cohortmatch.validate` re-checks every rule independently of all of this.
    """

    #: The rule's name in messages and in ``RuleViolations``.
    name: ClassVar[str] = ""
    #: Whether the CP-SAT model can keep it (an instance may say no: soft balance).
    cpsat: bool = True
    #: Whether the compiled search kernels keep it (False: only CP-SAT does, e.g. seats).
    search: ClassVar[bool] = True
    #: Whether it constrains plans (False: an objective, e.g. soft balance, that the CP-SAT
    #: model leaves out when it only looks for a plan keeping the hard rules).
    hard: bool = True

    def __init__(self, problem: CompiledProblem):
        self.problem = problem

    @classmethod
    def applies(cls, problem: CompiledProblem) -> bool:
        """Whether the rule constrains this problem at all."""
        raise NotImplementedError

    def violations(self, assignment: np.ndarray) -> int:
        """How many times ``assignment`` breaks the rule (0: kept)."""
        raise NotImplementedError

    def offenders(self, assignment: np.ndarray) -> np.ndarray:
        """Units that take part in breaking the rule (for repair), sorted."""
        return np.zeros(0, np.int64)

    def precheck(self) -> list[str]:
        """Conflicts with other rules that counting alone proves, in plain words."""
        return []

    def notes(self) -> list[str]:
        """What a plan should say about the rule that is not a conflict (e.g. who is exempt)."""
        return []

    def reduce(self, view: CourseView) -> Cut | None:
        """People to leave out of ``view``'s course so that the rule can hold, or None."""
        return None

    def encode(self, cm: CohortModel) -> None:
        """Add the rule to a CP-SAT model (guarded by ``cm.rule(...)`` literals when explaining)."""

    def signature(self, units: np.ndarray) -> list[Any] | None:
        """What tells units apart for the rule in the CP-SAT model (None: nothing)."""
        return None

    def pinned_cohorts(self) -> np.ndarray:
        """Cohorts the rule makes unlike the others of their block (no symmetry breaking)."""
        return np.zeros(0, np.int64)

    def kernel_fields(self) -> dict[str, Any]:
        """This rule's fields of :class:`~cohortmatch.rules.kernel.KernelRules`."""
        return {}
