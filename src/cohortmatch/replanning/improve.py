"""Raise the gap value of a re-plan without moving more people than allowed.

Everyone who stays is pinned to their cohort (a copy of the problem with more pins, so
every engine, kernel and rule sees it as the pinned rule), and the local search of the
heuristic engine improves the rest: newcomers and people who moved anyway. When the cap
allows more moves than the plan makes, the stayers with most to gain from moving are
released, at most as many as the cap allows, a few at a time.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..compiled import CompiledProblem
from ..engines.base import Budget
from ..engines.heuristic import solve_heuristic
from ..scoring import SearchState

__all__ = ["with_pins", "improve"]

#: Rounds of releasing stayers when the cap allows more moves.
ROUNDS = 3
#: Stayers priced per move the cap allows, and at least this many.
SAMPLE, MIN_SAMPLE = 10, 500


def with_pins(problem: CompiledProblem, units: np.ndarray, cohorts: np.ndarray) -> CompiledProblem:
    """The same problem with ``units`` pinned to ``cohorts`` too (a new problem, nothing cached).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t") for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> with_pins(prob, np.array([3, 0]), np.array([1, 0])).pin_unit.tolist()
    [0, 3]
    """
    units = np.concatenate([problem.pin_unit, np.asarray(units, np.int64)])
    cohorts = np.concatenate([problem.pin_cohort, np.asarray(cohorts, np.int64)])
    units, first = np.unique(units, return_index=True)
    return dataclasses.replace(problem, pin_unit=units, pin_cohort=cohorts[first], _cache={})


def improve(
    problem: CompiledProblem,
    home: np.ndarray,
    assignment: np.ndarray,
    *,
    cap: int,
    budget: Budget,
    rng: np.random.Generator,
    target: float,
) -> np.ndarray:
    """A plan at least as good as ``assignment``, with at most ``cap`` moves from ``home``.

    Parameters
    ----------
    problem : CompiledProblem
    home : int64 array (U,)
        Each unit's cohort if it stays (-1: none).
    assignment : int64 array (U,)
        A plan keeping every rule, with at most ``cap`` moves.
    cap : int
    budget : Budget
    rng : numpy.random.Generator
    target : float
        A proven upper bound on the gap value (the search stops there).

    Returns
    -------
    int64 array (U,)
    """
    a = np.asarray(assignment, np.int64).copy()
    for r in range(ROUNDS):
        stay = (home >= 0) & (a == home)
        allowance = cap - int(((home >= 0) & ~stay).sum())
        if allowance > 0:
            stay[_promising(problem, a, stay, allowance, rng, budget)] = False
        pinned = with_pins(problem, np.flatnonzero(stay), home[stay])
        last = allowance <= 0 or r == ROUNDS - 1
        a = solve_heuristic(pinned, budget=budget, start=a, target=target, rng=rng,
                            perturb=last).assignment
        if last or budget.exhausted():
            break
    return a


def _promising(problem: CompiledProblem, a: np.ndarray, stay: np.ndarray, n: int,
               rng: np.random.Generator, budget: Budget) -> np.ndarray:
    """Up to ``n`` stayers (alone, not pinned) to release: those whose move gains most, each
    alone when the rules let it move, else with the member of its best cohort it would
    swap with for a gain.

    At most :data:`SAMPLE` ``* n`` stayers are priced (at least :data:`MIN_SAMPLE`), while
    the budget lasts: in ``cover``/``diminishing`` mode those sharing their cohort with a
    teammate first (they bridge nothing their teammate does not), then others at random.
    """
    state = SearchState(problem, a)
    R = state.rules
    movable = stay & (R.unit_group < 0) & (R.fixed < 0)
    units = np.flatnonzero(movable)
    key = rng.random(units.shape[0])
    if problem.mode != "sum":
        key -= state.team_counts_at(problem.unit_team[units], a[units]) >= 2
    units = units[np.argsort(key, kind="stable")[: max(SAMPLE * n, MIN_SAMPLE)]]
    offers = []
    for i, u in enumerate(units.tolist()):
        if i % 64 == 0 and budget.exhausted():
            break
        ks = state.candidate_cohorts(u) if not state.has_pair_values else _others(problem, a, u)
        if ks.shape[0]:
            gains = state.move_gains(u, ks)
            j = int(np.argmax(gains))
            if gains[j] > 1e-9:
                offers.append((-float(gains[j]), u, int(ks[j])))
    free: set[int] = set()
    for _, u, k in sorted(offers):
        if len(free) >= n:
            break
        if u in free:
            continue
        if state.move_mask(u, np.array([k]))[0]:
            free.add(u)
            continue
        mates = [v for v in state.members_of(k).tolist() if movable[v] and v not in free]
        deltas = [state.swap_delta(u, v) if state.swap_allowed(u, v) else 0.0 for v in mates]
        if len(free) + 2 <= n and deltas and max(deltas) > 1e-9:
            free.update((u, mates[int(np.argmax(deltas))]))
    return np.array(sorted(free), np.int64)


def _others(problem: CompiledProblem, a: np.ndarray, u: int) -> np.ndarray:
    """The cohorts of unit ``u``'s block other than its own."""
    cs, ce = problem.block_of_cohort_range(int(problem.unit_block[u]))
    ks = np.arange(cs, ce)
    return ks[ks != a[u]]
