"""Local search with moves and swaps, and perturbation to leave local optima."""

from __future__ import annotations

import numpy as np

from ..compiled import CompiledProblem
from ..scoring import SearchState
from .base import Budget

__all__ = ["local_search"]

EPS = 1e-9
#: Blocks with more cohorts than this are searched through candidate cohorts only
#: (those holding a gap neighbour of the unit's team), not all of them.
LARGE_BLOCK = 128


def local_search(
    state: SearchState,
    rng: np.random.Generator,
    budget: Budget,
    *,
    target: float = float("inf"),
    swap_candidates: int = 2,
) -> np.ndarray:
    """Improve ``state`` until the budget runs out; returns the best assignment seen.

    Each pass visits the units in random order. A unit moves to the feasible cohort of
    its block with the largest positive gain (one vectorised gain vector); if none, it
    tries swaps with members of the ``swap_candidates`` cohorts it would gain most by
    joining. At a local optimum a random perturbation of valid swaps (iterated local
    search) restarts descent from the best assignment found. The search stops early once
    it reaches ``target`` (a proven upper bound: nothing better exists).

    Every move and swap is checked against the hard rules, so every assignment visited
    keeps them. A ``KeyboardInterrupt`` during the search interrupts the budget (see
    :class:`~cohortmatch.solvers.base.Monitor`) and returns the best assignment so far.
    """
    p: CompiledProblem = state.problem
    best = state.assignment.copy()
    best_value = state.value
    strength = 2
    try:
        while not budget.exhausted() and best_value < target - EPS:
            improved = _descent_pass(state, rng, budget, swap_candidates)
            if state.value > best_value + EPS:
                best_value = state.value
                best = state.assignment.copy()
                strength = 2
            budget.report(best_value)
            if improved or budget.exhausted():
                continue
            if state.value < best_value - EPS:
                state.reset(best)  # restart descent from the best assignment
            strength = min(strength + 1, max(2, p.n_units // 10))
            _perturb(state, rng, strength)
    except KeyboardInterrupt:  # the state may be mid-move: keep the last complete best
        budget.interrupt()
        return best
    if state.value > best_value + EPS:
        best = state.assignment.copy()
        best_value = state.value
    budget.report(best_value, force=True)
    return best


def _descent_pass(
    state: SearchState, rng: np.random.Generator, budget: Budget, swap_candidates: int
) -> bool:
    p = state.problem
    improved = False
    for u in rng.permutation(p.n_units).tolist():
        if not budget.spend():
            break
        b = p.unit_block[u]
        cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
        if ce - cs < 2:
            continue
        if ce - cs > LARGE_BLOCK and not state.has_pair_values:
            cohorts = state.candidate_cohorts(u)
            if cohorts.shape[0] == 0:
                continue
            gains = state.move_gains(u, cohorts)
            mask = state.move_mask(u, cohorts)
        else:
            cohorts = np.arange(cs, ce)
            gains = state.move_gains(u)
            mask = state.move_mask(u)
        if mask.any():
            masked = np.where(mask, gains, -np.inf)
            j = int(np.argmax(masked))
            if masked[j] > EPS:
                state.move(u, int(cohorts[j]))
                improved = True
                continue
        top = np.argsort(-gains, kind="stable")[:swap_candidates]
        for j in top:
            if gains[j] <= EPS:
                break
            if _try_swap(state, u, int(cohorts[j]), budget):
                improved = True
                break
    return improved


def _try_swap(state: SearchState, u: int, k2: int, budget: Budget) -> bool:
    p = state.problem
    tu = p.unit_team[u]
    for v in state.members_of(k2).tolist():
        if p.unit_team[v] == tu:
            continue
        budget.spend()
        if state.swap_allowed(u, v) and state.swap_delta(u, v) > EPS:
            state.swap(u, v)
            return True
    return False


def _perturb(state: SearchState, rng: np.random.Generator, strength: int) -> None:
    """Apply ``strength`` random swaps that keep the hard rules."""
    p = state.problem
    done = 0
    for _ in range(strength * 10):
        if done >= strength:
            break
        u = int(rng.integers(p.n_units))
        lo, hi = int(p.block_units[p.unit_block[u]]), int(p.block_units[p.unit_block[u] + 1])
        v = int(rng.integers(lo, hi))
        if state.swap_allowed(u, v):
            state.swap(u, v)
            done += 1
