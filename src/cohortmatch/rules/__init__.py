"""Hard rules: one module per rule, and the registry that asks them all.

=================  ===========================================  =====================
rule               what it keeps                                module
=================  ===========================================  =====================
``sizes``          every participant in one cohort of each      :mod:`.sizes`
                   course round, cohorts within their sizes
``max_per_team``   at most N members of a team per cohort       :mod:`.team_cap`
``keep_apart``     keep-apart groups, managers and reports      :mod:`.apart`
``keep_together``  keep-together groups in one cohort           :mod:`.together`
``pinned``         people placed in a given cohort              :mod:`.pinned`
``max_meetings``   no pair meets more than N times (hard cap)   :mod:`.meetings`
``at_most``        at most N with a value of an attribute       :mod:`.quota`
``at_least``       at least N with a value of an attribute      :mod:`.quota`
``no_isolation``   nobody alone with their value                :mod:`.isolation`
``balance``        values in proportion to their share          :mod:`.balance`
``slots``          cohorts at a slot their members can come,    :mod:`.slots`
                   nobody in two places, slot capacity
``seats``          at most N placed per course round, at most   :mod:`.seats`
                   k courses per person (chosen placements)
=================  ===========================================  =====================

Each rule owns its violations, its pre-check, its part of a partial plan, its CP-SAT
encoding and the arrays the compiled kernels read (see :class:`~.base.Rule`); a new rule
is a module plus a line in :data:`RULES`. :func:`cohortmatch.validate` re-checks every
rule from the input model alone, independently of this package.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..compiled import CompiledProblem
from ..errors import InfeasibleError
from .apart import Apart
from .balance import Balance
from .base import CourseView, Cut, Rule
from .isolation import NoIsolation
from .meetings import MeetingCap
from .pinned import Pinned
from .quota import AtLeast, AtMost
from .seats import Seats
from .sizes import Sizes
from .slots import Slots
from .team_cap import TeamCap
from .together import Together

__all__ = [
    "RULES",
    "Rule",
    "CourseView",
    "Cut",
    "RuleViolations",
    "active",
    "check_assignment",
    "precheck",
    "raise_if_infeasible",
    "search_cannot_keep",
]

#: Every rule, in the order their checks and messages come.
RULES: tuple[type[Rule], ...] = (
    Sizes, TeamCap, Apart, Together, Pinned, MeetingCap, AtMost, AtLeast, NoIsolation, Balance, Slots,
    Seats,
)


def active(problem: CompiledProblem) -> tuple[Rule, ...]:
    """The rules that constrain ``problem``, each built once (kept on the problem).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t") for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)], Policy(max_per_team=2))
    >>> [rule.name for rule in active(prob)]
    ['sizes', 'max_per_team']
    """
    return problem.cached(  # type: ignore[no-any-return]
        "rules", lambda: tuple(r(problem) for r in RULES if r.applies(problem))
    )


@dataclass(frozen=True)
class RuleViolations:
    """How often an assignment breaks each active rule (all zero: it keeps them all).

    Attributes are the rule names (``sizes``, ``max_per_team``, ...), 0 for inactive rules.
    """

    counts: dict[str, int] = field(default_factory=dict)

    def __getattr__(self, name: str) -> int:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.counts.get(name, 0)

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self.counts.items())

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __bool__(self) -> bool:
        return self.total > 0

    def __repr__(self) -> str:
        broken = {k: v for k, v in self.counts.items() if v}
        return f"RuleViolations({broken})"


def check_assignment(problem: CompiledProblem, assignment: np.ndarray) -> RuleViolations:
    """Count the hard-rule violations of an assignment, rule by rule.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="a") for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> check_assignment(prob, np.array([0, 0, 0, 1]))
    RuleViolations({'sizes': 2})
    """
    return RuleViolations({rule.name: rule.violations(assignment) for rule in active(problem)})


def precheck(problem: CompiledProblem) -> list[str]:
    """Conflicts between hard rules that counting alone proves; empty when none is found.

    Everything else (rules that only conflict in combination) is left to the CP-SAT
    engine, which names a small conflicting set
    (:func:`cohortmatch.engines.cpsat.explain.explain_or_find`).
    """
    return [conflict for rule in active(problem) for conflict in rule.precheck()]


def raise_if_infeasible(problem: CompiledProblem) -> None:
    """Raise :class:`InfeasibleError` listing every conflict :func:`precheck` finds."""
    conflicts = precheck(problem)
    if conflicts:
        raise InfeasibleError(conflicts)


def search_cannot_keep(problem: CompiledProblem) -> str | None:
    """Why the compiled search kernels cannot plan ``problem`` (a rule they do not keep), or None.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t") for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2, cohorts=1)])
    >>> search_cannot_keep(prob) is None, search_cannot_keep(prob.with_seats([2], [False] * 4))
    (True, 'it cannot keep seats (its search places every participant)')
    """
    for rule in active(problem):
        if not rule.search:
            return f"it cannot keep {rule.name} (its search places every participant)"
    return None
