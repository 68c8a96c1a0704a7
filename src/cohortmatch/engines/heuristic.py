"""The heuristic engine: greedy construction, then iterated local search."""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np

from ..compiled import CompiledProblem
from ..errors import InfeasibleError
from ..rules import active, check_assignment, search_cannot_keep
from ..rules.slots import label_cohorts
from ..scoring import SearchState, score
from .base import Budget, SolverResult, slots_of
from .construct import construct, repair
from .cpsat.explain import explain_or_find
from .mixing import minimise_deviation
from .timetable import search_with_slots

__all__ = ["HeuristicEngine", "solve_heuristic", "start_or_find", "find_start", "find_labelled_start"]


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

    With soft balance, the deviation is lowered first
    (:func:`~cohortmatch.engines.mixing.minimise_deviation`) and never raised after.

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
        keeps every hard rule. Cohort slots still undecided are chosen first
        (:func:`~cohortmatch.rules.slots.label_cohorts`) and changed by the search
        (:func:`~cohortmatch.engines.timetable.search_with_slots`); ``slots`` holds them.
    """
    problem = label_cohorts(problem, rng, start)
    if start is not None:
        violations = check_assignment(problem, start)
        state = SearchState(problem, start)
        if violations.sizes:
            raise InfeasibleError([f"the start assignment breaks the rules: {violations}"])
        if violations and not repair(state, rng):
            raise InfeasibleError([f"the start assignment cannot be repaired: {violations}"])
    else:
        state = construct(problem, rng, budget)
    minimise_deviation(state, rng, budget)  # soft balance: deviation first, then gap value
    best = search_with_slots(state, rng, budget, target=target, perturb=perturb)
    value = score(problem, best).objective
    status = "optimal" if value >= target - 1e-9 * max(1.0, abs(target)) else "feasible"
    return SolverResult(assignment=best, status=status, bound=target, solver="heuristic",
                        slots=slots_of(state.problem))


def find_start(problem: CompiledProblem, *, budget: Budget, rng: np.random.Generator) -> np.ndarray:
    """A first assignment keeping every rule CP-SAT can keep: greedy construction, or, when
    it fails (no proof), CP-SAT's; :class:`InfeasibleError` naming conflicting rules when
    there is none."""
    return find_labelled_start(problem, budget=budget, rng=rng)[1]


def find_labelled_start(
    problem: CompiledProblem, *, budget: Budget, rng: np.random.Generator
) -> tuple[CompiledProblem, np.ndarray]:
    """:func:`find_start`, and the problem with the cohort slots it keeps the rules on."""
    labelled = label_cohorts(problem, rng)
    try:
        return labelled, construct(labelled, rng, budget).assignment
    except InfeasibleError as err:
        beyond = [rule.name for rule in active(problem) if rule.hard and not rule.cpsat]
        if beyond:  # CP-SAT cannot search for a start: say the failure is not a proof
            raise InfeasibleError([*err.conflicts, (
                f"(infeasibility is not proven: the construction failed, and CP-SAT, which "
                f"would search further, cannot keep {', '.join(beyond)})")]) from None
        found = explain_or_find(problem, budget=budget, rng=rng)
        if found.status == "infeasible":
            raise InfeasibleError(found.core) from None
        if found.assignment is None:
            raise
        return (problem if found.slots is None else problem.with_slots(found.slots)), found.assignment


def start_or_find(
    problem: CompiledProblem,
    *,
    budget: Budget,
    rng: np.random.Generator,
    start: np.ndarray | None,
    target: float,
    perturb: bool = True,
) -> SolverResult:
    """:func:`solve_heuristic`; when its construction fails (no proof), CP-SAT finds a start.

    :func:`~cohortmatch.engines.cpsat.explain.explain_or_find` either finds a plan keeping
    every rule, from which the heuristic goes on, or names a small set of rules that
    conflict (:class:`InfeasibleError`).
    """
    try:
        return solve_heuristic(problem, budget=budget, start=start, target=target, rng=rng,
                               perturb=perturb)
    except InfeasibleError:
        if start is not None:
            raise
        problem, found = find_labelled_start(problem, budget=budget, rng=rng)
    result = solve_heuristic(problem, budget=budget, start=found, target=target,
                             rng=rng, perturb=perturb)
    result.notes.append("the heuristic could not construct a valid plan; CP-SAT found one to start from")
    return result


class HeuristicEngine:
    """``solver="heuristic"``: greedy construction, then iterated local search; keeps every rule."""

    name = "heuristic"

    def supports(self, problem: CompiledProblem) -> str | None:
        return search_cannot_keep(problem)

    def solve(
        self,
        problem: CompiledProblem,
        *,
        budget: Budget,
        rng: np.random.Generator,
        start: np.ndarray | None,
        target: float,
        workers: int | None,
        executor: Executor | None = None,
    ) -> SolverResult:
        return start_or_find(problem, budget=budget, rng=rng, start=start, target=target)
