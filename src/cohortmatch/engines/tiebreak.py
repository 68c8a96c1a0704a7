"""Cover mode's tie-break: among plans of equal cover value, bridge gaps again.

In ``cover`` mode a gap counts once, however many cohorts bridge it. Once every gap
that can be bridged is, the plan's remaining cohorts have nothing left to gain, and the
search leaves them as they are: some bridge no gap at all. The tie-break takes the plan
the engine returned and improves, by descent, its value in ``diminishing`` mode with a
tiny decay (:data:`TIE_DECAY`): a gap's first bridge is worth its weight, a second one
a ten-thousandth of it. A move that loses a first bridge is not worth the second
bridges a cohort can make, so the search keeps the cover value; it is checked, and the
engine's plan is kept whenever the cover value would drop.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..compiled import CompiledProblem
from ..errors import InfeasibleError
from ..rules import search_cannot_keep
from ..scoring import score
from .base import Budget, SolverResult, labelled
from .heuristic import solve_heuristic

__all__ = ["TIE_DECAY", "break_ties", "tie_break_problem"]

#: The decay of the tie-break's diminishing value: a second bridge is worth this share
#: of the gap's weight.
TIE_DECAY = 1e-4


def tie_break_problem(problem: CompiledProblem) -> CompiledProblem:
    """``problem`` scored in ``diminishing`` mode with decay :data:`TIE_DECAY`.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team=f"t{i % 2}") for i in range(4)],
    ...                    gaps=[Gap(a="t0", b="t1")])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> both = np.array([0, 0, 1, 1])  # each cohort holds one person of t0 and one of t1
    >>> score(prob, both).objective, score(tie_break_problem(prob), both).objective
    (1.0, 1.0001)
    """
    return dataclasses.replace(problem, mode="diminishing", decay=TIE_DECAY, _cache={})


def break_ties(problem: CompiledProblem, result: SolverResult, *, budget: Budget,
               rng: np.random.Generator) -> SolverResult:
    """``result`` with more gaps bridged again and its cover value kept (``cover`` mode).

    Runs the heuristic's search (descent and perturbation) on :func:`tie_break_problem`
    from the engine's plan with its share of what is left of ``budget``
    (:func:`tie_budget`, whose work is charged to ``budget``). Returns ``result`` itself
    when the mode is not ``cover``, nothing is left of the budget, the local search cannot
    keep a rule of the problem, or the search found nothing better at the same cover
    value; else a copy with the new plan and a note saying how many more gaps are bridged
    by more than one cohort.
    """
    if problem.mode != "cover" or problem.n_edges == 0 or budget.exhausted():
        return result
    if search_cannot_keep(problem) is not None:
        return result
    problem = labelled(problem, result)
    tie = tie_break_problem(problem)
    before = score(tie, result.assignment)
    share = tie_budget(problem, budget)
    try:
        found = solve_heuristic(tie, budget=share, start=result.assignment, rng=rng)
    except InfeasibleError:  # the engine's plan keeps every rule; a failed repair changes nothing
        return result
    finally:
        budget.spend(share.work)
    after = score(tie, found.assignment)
    cover_before = score(problem, result.assignment).objective
    cover_after = score(problem, found.assignment).objective
    again = _bridged_again(after.edge_cohorts) - _bridged_again(before.edge_cohorts)
    if cover_after < cover_before - 1e-9 * max(1.0, abs(cover_before)) or after.objective <= before.objective:
        return result
    note = f"tie-break: {again:+d} gaps bridged by more than one cohort, cover value kept"
    return dataclasses.replace(result, assignment=found.assignment, slots=found.slots,
                               notes=[*result.notes, note])


def tie_budget(problem: CompiledProblem, budget: Budget) -> Budget:
    """The tie-break's share of what is left of ``budget``: at most as long again as the
    run so far (at least half a second), and at most ``50 * units + 1000`` work.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team=f"t{i % 3}") for i in range(12)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=4, max_size=4)])
    >>> tie_budget(prob, Budget(time_limit=None, work_limit=10**6)).work_limit
    1600
    >>> round(tie_budget(prob, Budget(time_limit=10.0)).time_limit, 1)
    0.5
    """
    time_limit = None
    if budget.time_limit is not None:
        time_limit = min(budget.remaining(), max(0.5, budget.elapsed()))
    cap = 50 * problem.n_units + 1000
    work = cap if budget.work_limit is None else min(cap, budget.work_limit - budget.work)
    return Budget(time_limit=time_limit, work_limit=work, progress=budget.progress)


def _bridged_again(edge_cohorts: np.ndarray) -> int:
    """Gaps bridged by at least two cohorts."""
    return int((np.asarray(edge_cohorts) >= 2).sum())
