"""Local search with moves and swaps, and perturbation to leave local optima."""

from __future__ import annotations

import numpy as np

from ..compiled import CompiledProblem
from ..scoring import SearchState
from .base import Budget

__all__ = ["local_search"]

EPS = 1e-9


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
    keeps them.
    """
    p: CompiledProblem = state.problem
    best = state.assignment.copy()
    best_value = state.value
    strength = 2
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
    for u in rng.permutation(p.n_units):
        if not budget.spend():
            break
        gains = state.move_gains(int(u))
        if gains.shape[0] < 2:
            continue
        cs = int(p.block_cohorts[p.unit_block[u]])
        mask = state.move_mask(int(u))
        if mask.any():
            masked = np.where(mask, gains, -np.inf)
            j = int(np.argmax(masked))
            if masked[j] > EPS:
                state.move(int(u), cs + j)
                improved = True
                continue
        top = np.argsort(-gains, kind="stable")[:swap_candidates]
        for j in top:
            if gains[j] <= EPS:
                break
            if _try_swap(state, int(u), cs + int(j), budget):
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
