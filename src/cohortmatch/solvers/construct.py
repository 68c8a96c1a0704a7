"""Greedy construction: place units one by one where they bridge the most, then repair."""

from __future__ import annotations

import numpy as np

from ..compiled import NO_CAP, CompiledProblem
from ..errors import InfeasibleError
from ..scoring import SearchState
from .base import Budget

__all__ = ["construct", "balanced_sizes", "repair"]


def balanced_sizes(n: int, k: int) -> np.ndarray:
    """Sizes of ``k`` cohorts holding ``n`` people, differing by at most one.

    Examples
    --------
    >>> balanced_sizes(23, 3).tolist()
    [8, 8, 7]
    """
    sizes = np.full(k, n // k, dtype=np.int64)
    sizes[: n % k] += 1
    return sizes


def construct(
    problem: CompiledProblem, rng: np.random.Generator, budget: Budget | None = None
) -> SearchState:
    """Build a first assignment greedily, block by block.

    Units of larger teams go first (they are the hardest to spread under
    ``max_per_team``); each goes to the cohort, among those with room under balanced
    target sizes and no broken rule, where it bridges the most. Rules that the greedy
    order cannot keep are then repaired with moves and swaps (:func:`repair`).

    Returns
    -------
    SearchState
        A state whose assignment keeps every hard rule.

    Raises
    ------
    InfeasibleError
        When repair cannot remove every violation.
    """
    p = problem
    state = SearchState(p, np.full(p.n_units, -1, dtype=np.int64))
    for b in range(p.n_blocks):
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        cs, ce = p.block_of_cohort_range(b)
        target = balanced_sizes(hi - lo, ce - cs)[rng.permutation(ce - cs)]
        units = np.arange(lo, hi)
        teams = p.unit_team[lo:hi]
        team_size = np.bincount(teams, minlength=p.n_teams)[teams]
        tiebreak = rng.permutation(p.n_teams)[teams]
        order = units[np.lexsort((rng.random(hi - lo), tiebreak, -team_size))]
        for u in order:
            if budget is not None:
                budget.spend()
            room = state.size[cs:ce] < target
            ok = room.copy()
            if p.max_per_team != NO_CAP:
                ok &= state.counts[p.unit_team[u], cs:ce] < p.max_per_team
            conf = state.assignment[p.conflicts(u)]
            ok_conf = ok.copy()
            ok_conf[conf[conf >= 0] - cs] = False
            choice = ok_conf if ok_conf.any() else ok if ok.any() else room
            gains = state.move_gains(u) + 1e-9 * rng.random(ce - cs)
            state.move(u, cs + int(np.argmax(np.where(choice, gains, -np.inf))))
    if not repair(state, rng):
        raise InfeasibleError(_unrepaired(state))
    return state


def _bad_units(state: SearchState) -> np.ndarray:
    """Units that break max_per_team or sit with their manager or a direct report."""
    p = state.problem
    a = state.assignment
    bad = np.zeros(p.n_units, dtype=bool)
    if p.max_per_team != NO_CAP:
        bad |= state.counts[p.unit_team, a] > p.max_per_team
    src = np.repeat(np.arange(p.n_units), np.diff(p.conflict_indptr))
    same = a[src] == a[p.conflict_units]
    bad[src[same]] = True
    return np.flatnonzero(bad)


def repair(state: SearchState, rng: np.random.Generator, *, rounds: int = 50) -> bool:
    """Remove team-cap and manager violations by moves and swaps; True when none is left."""
    p = state.problem
    for _ in range(rounds):
        bad = _bad_units(state)
        if bad.shape[0] == 0:
            return True
        for u in rng.permutation(bad):
            if not _is_bad(state, u):
                continue
            mask = state.move_mask(u)
            b = p.unit_block[u]
            cs, ce = p.block_of_cohort_range(b)
            if mask.any():
                gains = np.where(mask, state.move_gains(u), -np.inf)
                state.move(u, cs + int(np.argmax(gains)))
                continue
            k1 = int(state.assignment[u])
            for k2 in cs + rng.permutation(ce - cs):
                if k2 == k1:
                    continue
                partner = next((v for v in state.members_of(k2) if state.swap_allowed(u, v)), None)
                if partner is not None:
                    state.swap(u, int(partner))
                    break
    return _bad_units(state).shape[0] == 0


def _is_bad(state: SearchState, u: int) -> bool:
    p = state.problem
    k = state.assignment[u]
    if p.max_per_team != NO_CAP and state.counts[p.unit_team[u], k] > p.max_per_team:
        return True
    return bool(np.any(state.assignment[p.conflicts(u)] == k))


def _unrepaired(state: SearchState) -> list[str]:
    p = state.problem
    out = []
    for u in _bad_units(state)[:5]:
        b = p.unit_block[u]
        course = p.course_ids[p.block_course[b]]
        person = p.person_ids[p.unit_person[u]]
        out.append(
            f"course {course!r}: no arrangement found that keeps person {person!r} within "
            f"max_per_team and apart from their manager/direct reports"
        )
    return out
