"""One door to every engine: the registry, and ``auto``'s choice in one function.

Every engine keeps every hard rule of the requests it accepts: :meth:`Engine.supports
<cohortmatch.engines.base.Engine.supports>` names the rule it cannot keep, ``auto``
never picks such an engine, and asking for one by name raises
:class:`~cohortmatch.errors.InputError` naming the rule.
"""

from __future__ import annotations

from ..compiled import NO_CAP, CompiledProblem
from ..errors import InputError
from ..params import Solver
from .base import Engine
from .cpsat.exact import EXACT_LIMIT, CpsatEngine
from .cpsat.model import model_size
from .golfer import GolferEngine
from .heuristic import HeuristicEngine
from .lns import LnsEngine
from .tabu import TabuEngine

__all__ = ["ENGINES", "choose"]

#: Every engine by the name ``plan(solver=...)`` takes.
ENGINES: dict[str, Engine] = {
    e.name: e for e in (HeuristicEngine(), LnsEngine(), CpsatEngine(), GolferEngine(), TabuEngine())
}


def choose(problem: CompiledProblem, solver: str) -> tuple[Engine, list[str]]:
    """The engine that plans ``problem`` for ``solver``, and a note on ``auto``'s choice.

    ``auto`` takes, in this order: ``golfer`` with a meeting cap (when it keeps every
    rule); ``tabu`` on pair values
    (when it keeps every rule); ``cpsat`` when the exact model is small (at most
    :data:`~cohortmatch.engines.cpsat.exact.EXACT_LIMIT` variables); else ``lns``; and
    ``heuristic`` where none of these keeps every rule.

    Raises
    ------
    InputError
        A named engine cannot keep a rule of the request (the message names it).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team=f"t{i % 3}") for i in range(12)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=4, max_size=4)], Policy(max_per_team=2))
    >>> choose(prob, "auto")[0].name
    'cpsat'
    >>> choose(prob, "tabu")
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: The 'solver' 'tabu' cannot plan this request: it needs mode 'sum' (got 'cover').
    """
    if solver != Solver.AUTO:
        engine = ENGINES[str(solver)]
        reason = engine.supports(problem)
        if reason is not None:
            raise InputError(f"The 'solver' {str(solver)!r} cannot plan this request: {reason}.")
        return engine, []
    if problem.max_meetings != NO_CAP and ENGINES["golfer"].supports(problem) is None:
        return ENGINES["golfer"], []
    if problem.pair_values is not None:
        if ENGINES["tabu"].supports(problem) is None:
            return ENGINES["tabu"], ["auto: tabu engine (population search) on pair values"]
        return ENGINES["heuristic"], [
            "auto: heuristic on pair values (the tabu engine keeps cohort sizes only)"
        ]
    size = model_size(problem)
    if size <= EXACT_LIMIT and ENGINES["cpsat"].supports(problem) is None:
        return ENGINES["cpsat"], [f"auto: exact CP-SAT (exact model ~{size} variables, limit {EXACT_LIMIT})"]
    if ENGINES["lns"].supports(problem) is None:
        return ENGINES["lns"], [
            f"auto: heuristic + large-neighbourhood search (exact model ~{size} variables, limit {EXACT_LIMIT})"
        ]
    return ENGINES["heuristic"], ["auto: heuristic (the other engines cannot keep every rule)"]
