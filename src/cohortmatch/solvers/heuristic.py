"""The heuristic engine: greedy construction, then iterated local search."""

from __future__ import annotations

import numpy as np

from ..compiled import CompiledProblem
from ..errors import InfeasibleError
from ..rules import check_assignment
from ..scoring import SearchState, score
from .base import Budget, SolverResult
from .construct import construct, repair
from .local_search import local_search

__all__ = ["solve_heuristic"]


def solve_heuristic(
    problem: CompiledProblem,
    *,
    budget: Budget,
    start: np.ndarray | None = None,
    target: float = float("inf"),
    rng: np.random.Generator,
    perturb: bool = True,
) -> SolverResult:
    """Construct (or start from ``start``) and improve until the budget runs out.

    Parameters
    ----------
    problem : CompiledProblem
    budget : Budget
    start : int array (U,), optional
        A valid assignment to improve instead of constructing one.
    target : float
        A proven upper bound; reaching it proves the assignment optimal.
    rng : numpy.random.Generator
    perturb : bool
        False: stop once descent converges, before perturbation (iterated local search)
        would begin; for a caller that improves the plan further with another method.

    Returns
    -------
    SolverResult
        Status ``optimal`` when ``target`` was reached, else ``feasible``; the assignment
        keeps every hard rule.
    """
    if start is not None:
        violations = check_assignment(problem, start)
        state = SearchState(problem, start)
        if violations.unplaced or violations.size:
            raise InfeasibleError([f"the start assignment breaks the rules: {violations}"])
        if violations and not repair(state, rng):
            raise InfeasibleError([f"the start assignment cannot be repaired: {violations}"])
    else:
        state = construct(problem, rng, budget)
    best = local_search(state, rng, budget, target=target, perturb=perturb)
    value = score(problem, best).objective
    status = "optimal" if value >= target - 1e-9 * max(1.0, abs(target)) else "feasible"
    return SolverResult(assignment=best, status=status, bound=target, solver="heuristic")
