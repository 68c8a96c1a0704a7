"""Construction and repair under the mix rules: place by need, mend what is left.

With mix rules (``balance``, ``no_isolation``, ``at_most``, ``at_least``) the greedy
construction places units where they are *needed*: each cohort's target size fixes, for
every value, the fewest and most people with it the cohort may hold; rare values are
placed first, each unit goes to a cohort below the fewest for one of its values (or that
holds one person alone with it), never beyond the most, and among those where it bridges
most. :func:`mend` then removes what is left, and :func:`minimise_deviation` lowers the
deviation of soft balance, with moves and swaps that the rules' compiled checks allow and
that make a count better without making any worse.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..compiled import NO_CAP
from ..rules import active
from ..rules.balance import Balance, balance_bounds
from ..rules.counts import CountRule
from ..rules.kernel import (
    counts_move_change,
    counts_swap_change,
    move_ok,
    placement_masks,
    row_changes,
    swap_ok,
)
from ..scoring import SearchState
from .base import Budget

__all__ = ["counted", "place_by_need", "mend", "minimise_deviation", "target_limits"]

#: Cohorts (and units in each) a repair step looks at for one count.
_TRIES = 24


def counted(state: SearchState) -> bool:
    """Whether mix rules count values in this state's problem."""
    return bool(state.rules.unit_rows.shape[1])


def target_limits(state: SearchState, block: int, target: np.ndarray) -> tuple[np.ndarray, ...]:
    """What the mix rules ask of each row (C, K_b) in the cohorts of ``block`` at their
    ``target`` sizes: the fewest and most people with it the hard rules allow
    (``at_least``/``at_most`` and hard balance), and the fewest and most soft balance wants
    (0 and ``NO_CAP`` where it says nothing)."""
    R = state.rules
    lo = np.repeat(R.row_lo[:, None], target.shape[0], axis=1)
    hi = np.repeat(np.minimum(R.row_hi, target.max())[:, None], target.shape[0], axis=1)
    want_lo, want_hi = np.zeros_like(lo), np.full_like(hi, NO_CAP)
    balanced = R.attr_balance[R.row_attr]
    if balanced.any():
        flo, fhi = balance_bounds(target[None, :], R.row_block_n[balanced, block][:, None], R.block_n[block])
        if R.balance_soft:
            want_lo[balanced], want_hi[balanced] = flo, fhi
        else:
            lo[balanced] = np.maximum(lo[balanced], flo)
            hi[balanced] = np.minimum(hi[balanced], fhi)
    return lo, hi, want_lo, want_hi


def place_by_need(
    state: SearchState, block: int, target: np.ndarray, rng: np.random.Generator,
    budget: Budget | None = None, *, max_candidates: int = 64,
) -> None:
    """Place the unplaced units of ``block`` into cohorts up to their ``target`` sizes, by need.

    Units holding the rarest values go first, those of one value taking turns by team (so
    that the people who pair up under ``no_isolation`` come from different teams). A unit goes,
    among the cohorts with room where ``max_per_team`` and keep-apart allow it and none of
    its values would pass the most the cohort may hold, to one that needs it most (values
    below their fewest, or held by one person alone under ``no_isolation``; a last person
    with a value avoids a cohort without it), then where it bridges most. At scale the
    cohorts looked at are those needing the unit and a random sample of the others.
    """
    p, R = state.problem, state.rules
    lo_u, hi_u = int(p.block_units[block]), int(p.block_units[block + 1])
    cs, ce = p.block_of_cohort_range(block)
    lo, hi, want_lo, want_hi = target_limits(state, block, target)
    units = np.arange(lo_u, hi_u)
    units = units[state.assignment[units] < 0]
    if units.shape[0] == 0:
        return
    rows = R.unit_rows[units]
    per_cohort = R.row_block_n[:, block] / max(ce - cs, 1)
    scarcity = per_cohort[rows].min(axis=1)
    rarest = rows[np.arange(units.shape[0]), per_cohort[rows].argmin(axis=1)]
    noise = rng.random(units.shape[0])
    turn = _turns(rarest, p.unit_team[units], noise)
    order = units[np.lexsort((noise, turn, rarest, scarcity))]
    left = np.bincount(rows.ravel(), minlength=R.row_lo.shape[0])  # unplaced units of each row
    iso = R.attr_iso[R.row_attr] & (R.row_block_n[:, block] >= 2)
    for u in order.tolist():
        if budget is not None:
            budget.spend()
        mine = R.unit_rows[u]
        n = R.mix_counts[cs:ce, mine].T
        room = state.size[cs:ce] < target
        need = ((n < lo[mine]) | (iso[mine, None] & (n == 1))).sum(axis=0)
        alone = (iso[mine, None] & (n == 0) & (left[mine, None] == 1)).sum(axis=0)
        wish = (n < want_lo[mine]).sum(axis=0) - (n >= want_hi[mine]).sum(axis=0)  # soft balance
        fits = room & (n < hi[mine]).all(axis=0)
        pool = np.flatnonzero(fits if fits.any() else room)
        if pool.shape[0] > max_candidates:
            needed = pool[(need[pool] > 0) | (wish[pool] > 0)]
            sample = rng.choice(pool, max_candidates, replace=False)
            pool = np.union1d(sample, needed[rng.permutation(needed.shape[0])[:max_candidates]])
        cohorts = cs + pool
        cap_ok, apart_ok = placement_masks(R, u, cohorts, p.unit_team, state.assignment, state.counts)
        rules_ok = cap_ok & apart_ok
        gains = state.move_gains(u, cohorts)
        score = (np.where(rules_ok, 0.0, -1e12) + 1e6 * (need[pool] - 2 * alone[pool])
                 + 1e3 * wish[pool] + gains + 1e-9 * rng.random(pool.shape[0]))
        k = int(cohorts[np.argmax(score)])
        state.move(u, k)
        left[mine] -= 1


def _turns(rows: np.ndarray, teams: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Each unit's turn within its row: the i-th unit of a team (in ``noise`` order) gets turn i.

    Examples
    --------
    >>> _turns(np.array([0, 0, 0, 1]), np.array([5, 5, 6, 5]), np.array([0.1, 0.2, 0.3, 0.4])).tolist()
    [0, 1, 0, 0]
    """
    order = np.lexsort((noise, teams, rows))
    key = rows[order].astype(np.int64) * (int(teams.max()) + 1) + teams[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    turn = np.empty(rows.shape[0], np.int64)
    turn[order] = np.arange(rows.shape[0]) - np.repeat(starts, np.diff(np.r_[starts, rows.shape[0]]))
    return turn


# ------------------------------------------------------------------ repair by counts
def _cell_costs(state: SearchState, rules: list[CountRule], soft: bool) -> np.ndarray:
    """What each (row, cohort) cell costs (C, K): the hard rules' violations, or the soft
    balance deviation."""
    counts, size = state.rules.mix_counts.T, state.size
    if soft:
        return next(r for r in rules if isinstance(r, Balance)).deviations(counts, size)
    return sum((r.cell_cost(counts, size) for r in rules), np.zeros_like(counts))


def _step(state: SearchState, c: int, k: int, push: bool, rng: np.random.Generator, soft: bool) -> int:
    """Take one person with row ``c`` out of cohort ``k`` (``push``) or bring one in: a move,
    or a swap with someone without it, that every rule allows (with ``soft``: that lowers
    the deviation), trying first the cohorts where the change helps most. Returns the other
    cohort changed, -1 if none."""
    p, R = state.problem, state.rules
    cs, ce = p.block_of_cohort_range(int(p.cohort_block[k]))
    hard, soft_delta = row_changes(R, c, cs, ce, state.size, 1 if push else -1, 0)
    gain = soft_delta if soft else hard
    others = cs + np.flatnonzero((gain <= 0) & (push or R.mix_counts[cs:ce, c] > 0))
    others = others[others != k]
    others = others[np.lexsort((rng.random(others.shape[0]), gain[others - cs]))][:_TRIES]
    kind, x, y = _exchange(R, c, k, push, soft, others, state.members, state.size, p.unit_team,
                           state.assignment, state.counts, p.cohort_min, p.cohort_max,
                           int(rng.integers(1 << 30)))
    if kind == 1 and state.move_mask(x, np.array([y]))[0]:  # the meeting cap, if any, too
        state.move(x, y)
        return y if push else int(state.assignment[x])
    if kind == 2 and state.swap_allowed(x, y):
        other = int(state.assignment[y]) if push else int(state.assignment[x])
        state.swap(x, y)
        return other
    return -1


@njit(cache=True)
def _exchange(R, c, k, push, soft, cohorts, members, size, unit_team, assignment, counts,  # type: ignore[no-untyped-def]  # noqa: E501  # pragma: no cover
              cohort_min, cohort_max, start):
    """The first move or swap of :func:`_step` over ``cohorts``: ``(1, x, k2)`` moves ``x``,
    ``(2, x, y)`` swaps ``x`` and ``y``, ``(0, -1, -1)``: none found."""
    a = R.row_attr[c]
    for i in range(cohorts.shape[0]):
        src = k if push else cohorts[i]
        dst = cohorts[i] if push else k
        ns = size[src]
        nd = size[dst]
        for s in range(ns):
            x = members[src, (s + start) % ns]
            if R.unit_rows[x, a] != c:
                continue
            if move_ok(R, x, src, dst, unit_team, assignment, counts, size, cohort_min, cohort_max):
                if not soft or counts_move_change(R, x, src, dst, size)[2] < 0:
                    return 1, x, dst
            for t in range(nd):
                y = members[dst, (t + start) % nd]
                if R.unit_rows[y, a] == c or not swap_ok(R, x, y, unit_team, assignment, counts):
                    continue
                if not soft or counts_swap_change(R, x, y, src, dst)[2] < 0:
                    return 2, x, y
    return 0, -1, -1


def mend(
    state: SearchState, rng: np.random.Generator, budget: Budget | None = None, *,
    soft: bool = False, rounds: int = 20, walk: bool = True,
) -> bool:
    """Remove the mix rules' violations (``soft``: lower the balance deviation) by moves and
    swaps; True when none is left. Where that is stuck (hard rules only), ``walk`` tries a
    min-conflicts search (:func:`_walk`) before another round.

    Each step takes a (value, cohort) count that costs something and moves one person with
    the value out of the cohort, or one in, when that makes the count cost less (the
    rules' compiled checks allow it: no count gets worse and every other rule holds; with
    ``soft``, the total deviation falls). A round visits every costly count once; the
    search stops when a round changes nothing.
    """
    rules = [r for r in active(state.problem) if isinstance(r, CountRule)]
    if not rules or (soft and not any(isinstance(r, Balance) for r in rules)):
        return True
    kept = state.rules
    if not soft and kept.balance_soft:  # a repair may cost deviation: soft balance steps aside
        state.rules = kept._replace(attr_balance=np.zeros_like(kept.attr_balance))
    try:
        if _mend(state, rng, budget, rules, soft, rounds):
            return True
        if soft or not walk or not _walk(state, rng, budget, rules):
            return False
        return _mend(state, rng, budget, rules, soft, rounds)
    finally:
        state.rules = kept


def _mend(
    state: SearchState, rng: np.random.Generator, budget: Budget | None, rules: list[CountRule],
    soft: bool, rounds: int,
) -> bool:
    tried: dict[tuple[int, int], int] = {}  # (row, cohort) -> the cohort's changes when it failed
    changes = np.zeros(state.problem.n_cohorts, np.int64)
    for _ in range(rounds):
        cells = np.argwhere(_cell_costs(state, rules, soft) > 0)
        if cells.shape[0] == 0:
            return True
        changed = False
        for c, k in cells[rng.permutation(cells.shape[0])].tolist():
            if tried.get((c, k)) == changes[k]:
                continue  # it failed, and its cohort has not changed since
            if budget is not None and not budget.spend():
                return False
            fewer, more = _changes(state, c, k, soft)
            other = _step(state, c, k, True, rng, soft) if fewer else -1
            if other < 0 and more:
                other = _step(state, c, k, False, rng, soft)
            if other >= 0:
                changed = True
                changes[[k, other]] += 1
            else:
                tried[(c, k)] = int(changes[k])
        if not changed:
            break
    return not bool((_cell_costs(state, rules, soft) > 0).any())


def _walk(
    state: SearchState, rng: np.random.Generator, budget: Budget | None, rules: list[CountRule], *,
    steps: int = 3000, tenure: int = 10, patience: int = 300,
) -> bool:
    """Min-conflicts search on the mix rules' violations where :func:`_mend` is stuck; True
    if it leaves fewer than it found. It stops after ``steps`` steps, or ``patience`` steps
    without a new best.

    Each step takes a costly (value, cohort) count and makes the best swap of a person with
    the value out of the cohort, or of one into it, priced by the total change of the
    violations (sideways and worse steps allowed, people who just moved wait ``tenure``
    steps); every other rule is kept. The best assignment seen is restored at the end.
    """
    p, R = state.problem, state.rules
    others = R._replace(unit_rows=np.zeros((p.n_units, 0), np.int64))  # every rule but the counts
    waits = np.zeros(p.n_units, np.int64)
    log: list[tuple[int, int]] = []  # swaps since the best assignment
    first = best = int(_cell_costs(state, rules, False).sum())
    total = best
    found_at = 0  # the step of the last new best
    for step in range(1, steps + 1):
        if total == 0 or step - found_at > patience or (budget is not None and not budget.spend()):
            break
        cells = np.argwhere(_cell_costs(state, rules, False) > 0)
        c, k = cells[rng.integers(cells.shape[0])].tolist()
        lo, hi = int(p.block_units[p.cohort_block[k]]), int(p.block_units[p.cohort_block[k] + 1])
        pool = rng.integers(lo, hi, 6 * _TRIES)
        u, v, delta = _least_harm(R, others, c, k, pool, waits, step, total, best, state.members,
                                  state.size, p.unit_team, state.assignment, state.counts,
                                  int(rng.integers(1 << 30)))
        if u < 0 or (state.meetings is not None and not state.swap_allowed(u, v)):
            continue
        state.swap(u, v)
        waits[[u, v]] = step + tenure
        total += delta
        log.append((u, v))
        if total < best:
            best, log, found_at = total, [], step
    for u, v in reversed(log):  # back to the best assignment seen
        state.swap(u, v)
    return best < first


@njit(cache=True)
def _least_harm(R, others, c, k, pool, waits, step, total, best, members, size, unit_team,  # type: ignore[no-untyped-def]  # noqa: E501  # pragma: no cover
                assignment, counts, seed):
    """The swap of :func:`_walk`: ``(u, v, change of the violations)``, ``u`` = -1 for none."""
    np.random.seed(seed)  # noqa: NPY002 (numba: legacy API only)
    a = R.row_attr[c]
    bu, bv, bd, ties = -1, -1, 1 << 30, 0
    for s in range(size[k]):
        u = members[k, s]
        inside = R.unit_rows[u, a] == c
        for i in range(pool.shape[0]):
            v = pool[i]
            kv = assignment[v]
            if kv == k or (R.unit_rows[v, a] == c) == inside:
                continue
            if not swap_ok(others, u, v, unit_team, assignment, counts):
                continue
            h = counts_swap_change(R, u, v, k, kv)[1]
            if max(waits[u], waits[v]) > step and total + h >= best:
                continue
            if h < bd:
                bu, bv, bd, ties = u, v, h, 1
            elif h == bd:
                ties += 1
                if np.random.randint(ties) == 0:  # noqa: NPY002 (numba: legacy API)
                    bu, bv = u, v
    return bu, bv, bd


def _changes(state: SearchState, c: int, k: int, soft: bool) -> tuple[bool, bool]:
    """Whether one person fewer, and one more, with row ``c`` in cohort ``k`` would cost less
    (sizes kept, as a swap keeps them; with ``soft``, less deviation and no hard violation)."""
    out = []
    for d in (-1, 1):
        hard, soft_delta = row_changes(state.rules, c, k, k + 1, state.size, d, 0)
        out.append(bool(soft_delta[0] < 0 and hard[0] <= 0) if soft else bool(hard[0] < 0))
    return out[0], out[1]


def minimise_deviation(state: SearchState, rng: np.random.Generator, budget: Budget | None = None) -> int:
    """Soft balance: lower the total deviation as far as single moves and swaps can (keeping
    every hard rule); returns what is left."""
    if not counted(state) or not state.rules.balance_soft:
        return 0
    mend(state, rng, budget, soft=True, rounds=50)
    rule = next(r for r in active(state.problem) if isinstance(r, Balance))
    return rule.deviation(state.assignment)
