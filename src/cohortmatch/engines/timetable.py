"""Local search when cohorts have times: rounds of local search, the cohorts' slots changed between them."""

from __future__ import annotations

import numpy as np

from ..rules.slots import relabel
from ..scoring import SearchState
from .base import Budget
from .local_search import local_search

__all__ = ["search_with_slots", "ROUNDS"]

#: Rounds of local search with slot changes between them (the budget is shared evenly).
ROUNDS = 8


def search_with_slots(
    state: SearchState,
    rng: np.random.Generator,
    budget: Budget,
    *,
    target: float = float("inf"),
    perturb: bool = True,
) -> np.ndarray:
    """:func:`~cohortmatch.engines.local_search.local_search`, with cohort slots changed
    between its rounds; returns the best assignment, on ``state.problem``'s slots.

    Unit moves keep every cohort's slot. Between rounds, a cohort moves to a slot of its
    course with room, or two cohorts exchange slots, where every member can follow
    (:func:`cohortmatch.rules.slots.relabel`): the value stays, and the next round uses
    the moves the new slots allow. No step loses value, so the last assignment is the
    best. Without times this is local search itself.
    """
    if not state.problem.slotted:
        return local_search(state, rng, budget, target=target, perturb=perturb)
    best = state.assignment.copy()
    for i in range(ROUNDS):
        timed = budget.time_limit is not None
        left = None if budget.work_limit is None else max(budget.work_limit - budget.work, 0)
        sub = Budget(budget.remaining() / (ROUNDS - i) if timed else None,
                     None if left is None else max(left // (ROUNDS - i), 1), progress=budget.progress)
        best = local_search(state, rng, sub, target=target, perturb=perturb)
        budget.spend(sub.work)
        if not np.array_equal(state.assignment, best):
            state.reset(best)
        if budget.exhausted() or state.value >= target - 1e-9 * max(1.0, abs(target)):
            break
        moved = relabel(state.problem, best, rng)
        if moved is None and not perturb:
            break
        if moved is not None:
            state.relabel(moved)
    return best
