"""Greedy construction: place units one by one where they bridge the most, then repair."""

from __future__ import annotations

import numpy as np

from ..compiled import NO_CAP, CompiledProblem
from ..errors import InfeasibleError
from ..rules import active, check_assignment
from ..rules.kernel import placement_masks
from ..rules.slots import slot_ok, slot_options
from ..scoring import SearchState
from .base import Budget
from .mixing import counted, mend, place_by_need

__all__ = ["construct", "complete", "balanced_sizes", "fill_targets", "block_targets", "repair", "place_fixed"]


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


def fill_targets(sizes: np.ndarray, n: int, low: np.ndarray, high: np.ndarray) -> np.ndarray | None:
    """Cohort sizes for ``n`` people that keep every cohort's ``sizes`` so far, as even as can be.

    Each target is at least the cohort's present size and within ``[low, high]``;
    ``None`` when no such targets exist (a cohort over ``high``, or too few people to bring
    every cohort up to ``low``, or too many for ``high``).

    Examples
    --------
    >>> fill_targets(np.array([5, 0, 0]), 12, np.full(3, 2), np.full(3, 6)).tolist()
    [5, 4, 3]
    >>> fill_targets(np.array([5, 0, 0]), 8, np.full(3, 2), np.full(3, 6)) is None
    True
    """
    sizes, low, high = (np.asarray(x, np.int64) for x in (sizes, low, high))
    floor = np.maximum(sizes, low)
    if (sizes > high).any() or floor.sum() > n or high.sum() < n:
        return None
    rest = n - int(floor.sum())
    level_lo, level_hi = int(floor.min(initial=0)), int(high.max(initial=0))
    while level_lo < level_hi:  # the highest level the rest can raise every cohort to
        mid = (level_lo + level_hi + 1) // 2
        if int(np.clip(mid - floor, 0, high - floor).sum()) <= rest:
            level_lo = mid
        else:
            level_hi = mid - 1
    target = np.maximum(floor, np.minimum(level_lo, high))
    room = np.flatnonzero((target == level_lo) & (target < high))
    target[room[: n - int(target.sum())]] += 1
    return target


def construct(
    problem: CompiledProblem,
    rng: np.random.Generator,
    budget: Budget | None = None,
    *,
    max_candidates: int = 64,
    start: np.ndarray | None = None,
) -> SearchState:
    """Build a first assignment greedily, block by block.

    Pinned people go to their cohorts and ``keep_together`` groups to the cohort with
    room where they bridge the most, first. Then units with the fewest cohorts they can
    meet at go first (time slots: :func:`~cohortmatch.rules.slots.slot_options`), then units of larger teams (they
    are the hardest to spread under
    ``max_per_team``); each goes to the cohort, among those with room under balanced
    target sizes and no broken rule, where it bridges the most (among at most
    ``max_candidates`` of them drawn at random, so construction stays linear at scale).
    Rules that the greedy order cannot keep are then repaired with moves and swaps
    (:func:`repair`). With mix rules, units are placed by need instead
    (:func:`cohortmatch.engines.mixing.place_by_need`).

    With ``start`` (an assignment where ``-1`` marks units still to place, e.g. a
    grouping that leaves people out), the placed units stay where they are and the
    others fill the cohorts up to even sizes (:func:`fill_targets`); repair may then move
    any unit.

    Returns
    -------
    SearchState
        A state whose assignment keeps every hard rule.

    Raises
    ------
    InfeasibleError
        When repair cannot remove every violation, or ``start`` leaves no way to keep the
        cohort sizes.
    """
    p = problem
    placed = np.full(p.n_units, -1, dtype=np.int64) if start is None else np.array(start, np.int64)
    state = SearchState(p, placed)
    for b in range(p.n_blocks):
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        cs, ce = p.block_of_cohort_range(b)
        if start is None:
            target = balanced_sizes(hi - lo, ce - cs)[rng.permutation(ce - cs)]
        else:
            target = block_targets(state, b)
        if place_fixed(state, b, target, rng):  # pinned people and keep_together groups
            target = block_targets(state, b)
        if counted(state):  # mix rules: place by need (see engines.mixing)
            place_by_need(state, b, target, rng, budget, max_candidates=max_candidates)
            continue
        open_ = _OpenCohorts(cs, ce, target - state.size[cs:ce])
        _seed_bridges(state, b, target, open_, rng, budget)
        units = np.arange(lo, hi)
        teams = p.unit_team[lo:hi]
        team_size = np.bincount(teams, minlength=p.n_teams)[teams]
        tiebreak = rng.permutation(p.n_teams)[teams]
        options = slot_options(p, state.assignment, units) if p.slotted else np.zeros(hi - lo, np.int64)
        order = units[np.lexsort((rng.random(hi - lo), tiebreak, -team_size, options))]
        order = order[state.assignment[order] < 0]
        for i, u in enumerate(order.tolist()):
            if budget is not None and not budget.spend():
                _deal(state, order[i:], target, cs)
                break
            if open_.n > max_candidates:
                candidates = open_.sample(rng, max_candidates)
                informed = state.candidate_cohorts(u)
                informed = informed[state.size[informed] < target[informed - cs]]
                candidates = np.union1d(candidates, informed[:max_candidates])
                choice = _allowed(state, u, candidates)
                if not choice.any():
                    candidates = open_.all()
                    choice = _allowed(state, u, candidates)
            else:
                candidates = open_.all()
                choice = _allowed(state, u, candidates)
            if choice.any():
                candidates = candidates[choice]
            gains = state.move_gains(u, candidates) + 1e-9 * rng.random(candidates.shape[0])
            k = int(candidates[np.argmax(gains)])
            state.move(u, k)
            if state.size[k] >= target[k - cs]:
                open_.remove(k)
    if not repair(state, rng):
        raise InfeasibleError(_unrepaired(state))
    return state


def complete(
    problem: CompiledProblem,
    start: np.ndarray,
    rng: np.random.Generator,
    budget: Budget | None = None,
) -> np.ndarray | None:
    """A valid assignment that keeps as much of ``start`` as it can, or None.

    The units ``start`` leaves out (``-1``) are placed by :func:`construct`, which also
    repairs the rules ``start`` breaks; if that repair fails, the units of ``start`` that
    break a rule are taken out too and placed afresh. None when that fails as well: the
    caller plans without ``start``.
    """
    kept = np.array(start, np.int64)
    for attempt in range(2):
        try:
            return construct(problem, rng, budget, start=kept).assignment
        except InfeasibleError:
            if attempt == 0:
                kept[_bad_units(SearchState(problem, kept))] = -1
    return None


def block_targets(state: SearchState, block: int) -> np.ndarray:
    """:func:`fill_targets` for a block of a start assignment, or an error naming the course."""
    p = state.problem
    cs, ce = p.block_of_cohort_range(block)
    n = int(p.block_units[block + 1] - p.block_units[block])
    target = fill_targets(state.size[cs:ce], n, p.cohort_min[cs:ce], p.cohort_max[cs:ce])
    if target is None:
        course = p.course_ids[p.block_course[block]]
        sizes = state.size[cs:ce]
        raise InfeasibleError([
            f"course {course!r} round {int(p.block_round[block])}: the cohorts as placed so far "
            f"(pinned people, keep_together groups, a start plan: {int(sizes.min())} to "
            f"{int(sizes.max())} people) cannot be filled to sizes "
            f"{int(p.cohort_min[cs])}-{int(p.cohort_max[cs])} with its {n} participants"
        ])
    return target


class _OpenCohorts:
    """The cohorts of a block still below their target size: O(1) removal and sampling."""

    def __init__(self, cs: int, ce: int, room: np.ndarray | None = None):
        self.cs = cs
        self.items = np.arange(cs, ce)
        self.where = np.arange(ce - cs)
        self.n = ce - cs
        if room is not None:
            for k in (cs + np.flatnonzero(room <= 0)).tolist():
                self.remove(k)

    def remove(self, k: int) -> None:
        i, last = self.where[k - self.cs], self.items[self.n - 1]
        self.items[i], self.where[last - self.cs] = last, i
        self.n -= 1

    def all(self) -> np.ndarray:
        return np.sort(self.items[: self.n])

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.unique(self.items[rng.integers(0, self.n, size)])


def place_fixed(state: SearchState, block: int, target: np.ndarray, rng: np.random.Generator) -> bool:
    """Place the block's pinned people and ``keep_together`` groups; True if any was placed.

    A group goes to its pinned member's cohort if it has one, else to the cohort with
    room under ``target`` (or the most room) that every rule allows, where it bridges most.
    """
    p = state.problem
    R = state.rules
    lo, hi = int(p.block_units[block]), int(p.block_units[block + 1])
    cs, ce = p.block_of_cohort_range(block)
    placed = False
    for u in range(lo, hi):
        if R.fixed[u] >= 0 and R.unit_group[u] < 0:
            state.move(u, int(R.fixed[u]))
            placed = True
    groups = np.unique(R.unit_group[lo:hi])
    groups = groups[groups >= 0]
    sizes = np.diff(R.group_indptr)[groups]
    for g in groups[np.argsort(-sizes, kind="stable")].tolist():
        mates = R.group_units[R.group_indptr[g] : R.group_indptr[g + 1]]
        pins = R.fixed[mates][R.fixed[mates] >= 0]
        if pins.shape[0]:
            k = int(pins[0])
        else:
            lead = int(mates[0])
            cohorts = np.arange(cs, ce)
            room = target - state.size[cs:ce] - mates.shape[0]
            ok = state.move_mask(lead, cohorts)
            pool = cohorts[ok & (room >= 0)] if (ok & (room >= 0)).any() else cohorts[ok]
            if pool.shape[0] == 0:
                pool = cohorts[np.argsort(-room, kind="stable")[:1]]
            if pool.shape[0] > 64:
                pool = np.sort(rng.choice(pool, 64, replace=False))
            gains = np.array([state.group_move_gain(lead, int(k)) for k in pool])
            k = int(pool[np.argmax(gains + 1e-9 * rng.random(pool.shape[0]))])
        for u in mates.tolist():
            state.move(u, k)
        placed = True
    return placed


def _deal(state: SearchState, units: np.ndarray, target: np.ndarray, cs: int) -> None:
    """Place ``units`` (sorted by team) round-robin into the free places, all at once.

    The fallback when the budget runs out mid-construction: O(units), and dealing a
    team's units round-robin spreads them over cohorts as ``max_per_team`` wants.
    """
    p = state.problem
    units = units[np.argsort(p.unit_team[units], kind="stable")]
    free = target - state.size[cs : cs + target.shape[0]]
    level = np.concatenate([np.arange(f) for f in free]) if free.shape[0] else np.zeros(0, int)
    cohort = np.repeat(np.arange(free.shape[0]), free)
    places = cs + cohort[np.lexsort((cohort, level))]
    for u, k in zip(units.tolist(), places[: units.shape[0]].tolist(), strict=True):
        state.move(u, k)


def _seed_bridges(
    state: SearchState,
    block: int,
    target: np.ndarray,
    open_: _OpenCohorts,
    rng: np.random.Generator,
    budget: Budget | None = None,
) -> None:
    """Place units gap by gap, heaviest first, so that each gap gets a cohort holding both teams.

    For gap (a, b): a unit of b joins a cohort that already holds a (or the reverse), or
    one unit of each opens a cohort together. Cost O(gaps + units), which is what makes
    construction fast on large organisations; the remaining units are placed afterwards.
    """
    p = state.problem
    lo, hi = int(p.block_units[block]), int(p.block_units[block + 1])
    cs = int(p.block_cohorts[block])
    teams = p.unit_team[lo:hi]
    order = np.lexsort((rng.random(hi - lo), teams))
    sorted_units = (lo + order).tolist()
    bounds = np.searchsorted(teams[order], np.arange(p.n_teams + 1)).tolist()
    pool: dict[int, list[int]] = {}  # team -> its unplaced units of this block, in random order

    def take(team: int) -> int | None:
        units = pool.get(team)
        if units is None:
            units = sorted_units[bounds[team] : bounds[team + 1]]
            units.reverse()
            pool[team] = units
        while units and state.assignment[units[-1]] >= 0:
            units.pop()
        return units[-1] if units else None

    def join_existing(team_in: int, team_out: int) -> bool:
        u = take(team_out)
        if u is None:
            return False
        homes = state.cohorts_of_teams(np.array([team_in]))
        homes = homes[(homes >= cs) & (homes < cs + target.shape[0])]
        homes = homes[state.size[homes] < target[homes - cs]]
        if homes.shape[0] == 0:
            return False
        homes = homes[_allowed(state, u, homes)]
        if homes.shape[0] == 0:
            return False
        k = int(homes[rng.integers(homes.shape[0])])
        _place(state, u, k, target, open_)
        return True

    weights = p.edge_weight + 1e-9 * rng.random(p.n_edges)
    for e in np.argsort(-weights, kind="stable").tolist():
        if open_.n == 0 or (budget is not None and not budget.spend()):
            return
        a, b = int(p.edge_a[e]), int(p.edge_b[e])
        if p.mode == "cover" and state.edge_cohorts[e] > 0:
            continue
        if join_existing(a, b) or join_existing(b, a):
            continue
        ua, ub = take(a), take(b)
        if ua is None or ub is None:
            continue
        fresh = open_.sample(rng, 8)
        fresh = fresh[state.size[fresh] <= target[fresh - cs] - 2]
        fresh = fresh[_allowed(state, ua, fresh)] if fresh.shape[0] else fresh
        if fresh.shape[0] == 0:
            continue
        k = int(fresh[0])
        _place(state, ua, k, target, open_)
        if _allowed(state, ub, np.array([k]))[0]:
            _place(state, ub, k, target, open_)


def _place(state: SearchState, u: int, k: int, target: np.ndarray, open_: _OpenCohorts) -> None:
    state.move(u, k)
    if state.size[k] >= target[k - open_.cs]:
        open_.remove(k)


def _allowed(state: SearchState, u: int, candidates: np.ndarray) -> np.ndarray:
    """Which candidate cohorts ``u`` may join: team cap, then keep-apart, then meetings.

    A rule that no candidate can keep is dropped (last first) and left to :func:`repair`.
    """
    p = state.problem
    ok, apart = placement_masks(state.rules, int(u), np.asarray(candidates, np.int64), p.unit_team,
                                state.assignment, state.counts)
    ok_apart = ok & apart
    ok = ok_apart if ok_apart.any() else ok
    if state.meetings is not None:
        b = p.unit_block[u]
        cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
        ok_meet = ok & state.meeting_room(u, cs, ce)[candidates - cs]
        ok = ok_meet if ok_meet.any() else ok
    return ok


def _bad_units(state: SearchState) -> np.ndarray:
    """Units that break a hard rule (each rule names its offenders)."""
    found = [rule.offenders(state.assignment) for rule in active(state.problem)]
    return np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)


def _meets_too_often(state: SearchState, u: int) -> bool:
    """Whether unit ``u`` shares its cohort with someone it meets beyond a hard cap."""
    p = state.problem
    if state.meetings is None or p.meetings_soft or state.assignment[u] < 0:
        return False
    mates = state.members_of(int(state.assignment[u]))
    met = state.meetings.counts(int(p.unit_person[u]), p.unit_person[mates[mates != u]])
    return bool(np.any(met > p.max_meetings))


def repair(state: SearchState, rng: np.random.Generator, *, rounds: int = 50) -> bool:
    """Remove rule violations by moves and swaps; True when none is left.

    A split ``keep_together`` group is first gathered in one cohort; the mix rules' counts
    are mended (:func:`cohortmatch.engines.mixing.mend`); a unit that breaks a
    rule moves (with its group) where every rule allows, or swaps with someone.
    """
    p = state.problem
    for i in range(rounds):
        if not check_assignment(p, state.assignment):
            return True
        _fill_short(state, rng)
        if counted(state):
            mend(state, rng, rounds=3, walk=i % 10 == 0)  # the walk costs most: now and then
        bad = _bad_units(state)
        for u in rng.permutation(bad):
            if not _is_bad(state, u):
                continue
            if state.rules.unit_group[u] >= 0:
                if not _gather(state, int(u)):
                    _move_group_away(state, int(u))
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
    return not check_assignment(p, state.assignment)


def _fill_short(state: SearchState, rng: np.random.Generator) -> None:
    """Bring cohorts below their minimum size up to it with units (or groups) from cohorts
    above theirs, where every rule allows the move."""
    p = state.problem
    for k in np.flatnonzero(state.size < p.cohort_min).tolist():
        cs, ce = p.block_of_cohort_range(int(p.cohort_block[k]))
        donors = np.asarray([j for j in range(cs, ce) if state.size[j] > p.cohort_min[j]], np.int64)
        units = [u for j in rng.permutation(donors).tolist() for u in state.members_of(j).tolist()]
        for u in units:
            if state.size[k] >= p.cohort_min[k]:
                break
            if state.assignment[u] != k and state.move_mask(u, np.array([k]))[0]:
                state.move_group(u, k)


def _is_bad(state: SearchState, u: int) -> bool:
    """Whether unit ``u`` breaks a rule now (read from the rules' kernel arrays)."""
    p = state.problem
    R = state.rules
    k = state.assignment[u]
    if k < 0 or not p.cohort_min[k] <= state.size[k] <= p.cohort_max[k]:
        return True
    if R.cap != NO_CAP and state.team_count(p.unit_team[u], k) > R.cap:
        return True
    if R.fixed[u] >= 0 and R.fixed[u] != k:
        return True
    partners = R.conflict_units[R.conflict_indptr[u] : R.conflict_indptr[u + 1]]
    if np.any(state.assignment[partners] == k) or not slot_ok(R, u, k, state.assignment):
        return True
    mates = state.group_members(u)
    return bool(np.any(state.assignment[mates] != k)) or _meets_too_often(state, u)


def _gather(state: SearchState, u: int) -> bool:
    """Bring a split group of ``u`` into one cohort (its pinned one, else where most of it is);
    True if the group was split."""
    R = state.rules
    p = state.problem
    mates = state.group_members(u)
    where = state.assignment[mates]
    if np.unique(where).shape[0] == 1:
        return False
    pins = R.fixed[mates][R.fixed[mates] >= 0]
    values, counts = np.unique(where, return_counts=True)
    target = int(pins[0]) if pins.shape[0] else int(values[np.argmax(counts)])
    for m in mates[where != target].tolist():
        src = int(state.assignment[m])
        if state.size[target] < p.cohort_max[target] and state.size[src] > p.cohort_min[src]:
            state.move(m, target)
            continue
        free = [v for v in state.members_of(target).tolist()
                if R.unit_group[v] < 0 and R.fixed[v] < 0]
        if free:
            state.swap(m, free[0])
    return True


def _move_group_away(state: SearchState, u: int) -> None:
    """Move an intact group of ``u`` that breaks a rule to a cohort where every rule allows."""
    p = state.problem
    b = p.unit_block[u]
    cs, _ = p.block_of_cohort_range(b)
    mask = state.move_mask(u)
    if mask.any():
        state.move_group(u, cs + int(np.flatnonzero(mask)[0]))


def _unrepaired(state: SearchState) -> list[str]:
    p = state.problem
    out = [f"course {p.block_name(int(p.cohort_block[k]))!r}: no arrangement found that fills "
           f"cohort {p.cohort_ids[k]!r} to {p.cohort_min[k]}-{p.cohort_max[k]} within the rules"
           for k in np.flatnonzero((state.size < p.cohort_min) | (state.size > p.cohort_max))[:5].tolist()]
    for u in _bad_units(state)[:5]:
        b = p.unit_block[u]
        course = p.course_ids[p.block_course[b]]
        person = p.person_ids[p.unit_person[u]]
        out.append(
            f"course {course!r}: no arrangement found that keeps person {person!r} within "
            f"the rules ({', '.join(r.name for r in active(p) if r.name != 'sizes')})"
        )
    return out
