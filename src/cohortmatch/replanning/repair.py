"""Repair a published plan for today's request moving few people, and a lower bound on moves.

Start: everyone who still takes a course round sits in the cohort continuing theirs
(:func:`~cohortmatch.replanning.anchors.initial_anchor`); newcomers and people of closed
cohorts are unplaced. Then, in order:

1. pinned people go to their pinned cohorts, and each ``keep_together`` group to where
   most of it already sits;
2. in every cohort that breaks a rule, the fewest people leave
   (:func:`~cohortmatch.replanning.local.fewest_removals`; among equally few, those another
   cohort takes as things stand, then those losing least gap value);
3. the unplaced are placed, groups first, then members of large teams, each in the cohort
   every rule allows where it bridges most (its own cohort when it can go back), filling
   cohorts below their minimum size first; one that no cohort takes goes where someone
   new or moved already makes room by moving on;
4. cohorts still below their minimum take people from cohorts above it, those already
   moved or new first;
5. whatever is left broken (nobody could be placed) is repaired by moves and swaps
   (:func:`cohortmatch.engines.construct.repair`), and then everyone moved tries to go back.

:func:`moves_lower_bound` adds up, cohort by cohort, the fewest people who must leave it
(step 2's search without groups, a proven minimum when the search completes), plus the
people of the published cohorts that must close, and compares that with what split
``keep_together`` groups need and with the places below cohorts' minimum sizes that
newcomers cannot fill (only people who move can).
"""

from __future__ import annotations

import numpy as np

from ..compiled import CompiledProblem
from ..engines.construct import repair
from ..rules import active, check_assignment
from ..rules.kernel import kernel_rules
from ..scoring import SearchState
from .anchors import FREE, fixed_labels, home_of
from .local import LocalCheck, fewest_removals
from .previous import Previous

__all__ = ["repair_moves", "moves_lower_bound", "return_home"]

#: What leaving a cohort costs, on top of the gap value, for someone no other cohort takes.
STUCK = 1e12


def repair_moves(
    problem: CompiledProblem, home: np.ndarray, rng: np.random.Generator
) -> np.ndarray | None:
    """A plan keeping every rule that moves few people from ``home`` (see the module docstring).

    Parameters
    ----------
    problem : CompiledProblem
    home : int64 array (U,)
        The cohort each unit stays in if it does not move (-1: none).
    rng : numpy.random.Generator

    Returns
    -------
    int64 array (U,) or None
        The assignment, or None when the repair could not keep every rule (not a proof).
    """
    p = problem
    state = SearchState(p, np.where(home >= 0, home, -1))
    check = LocalCheck(p)
    _gather(state, check)
    for k in np.flatnonzero(_troubled_view(p, state.assignment)).tolist():
        _evict(state, k, check)
    stuck = [e for e in _place(state, home, rng) if e.shape[0] > 1 or not _eject(state, int(e[0]), home)]
    _fill_short(state, home)
    if stuck or check_assignment(p, state.assignment):
        _force(state, stuck)
        if not repair(state, rng):
            return None
    return_home(state, home)
    return state.assignment.copy()


def _gather(state: SearchState, check: LocalCheck) -> None:
    """Pinned people to their cohorts; each ``keep_together`` group to its pinned cohort,
    else to the cohort holding most of it among those where it breaks no further rule
    (unplaced when none of it is placed)."""
    p, R = state.problem, state.rules
    for u, k in zip(p.pin_unit.tolist(), p.pin_cohort.tolist(), strict=True):
        state.move(u, k)
    for g in range(R.group_indptr.shape[0] - 1):
        mates = R.group_units[R.group_indptr[g] : R.group_indptr[g + 1]]
        where = state.assignment[mates]
        pins = R.fixed[mates][R.fixed[mates] >= 0]
        placed = where[where >= 0]
        if pins.shape[0]:
            target = int(pins[0])
        elif placed.shape[0]:
            values, counts = np.unique(placed, return_counts=True)
            clash = np.array([_adds_breakage(check, state.members_of(int(k)), mates, int(k))
                              for k in values.tolist()])
            target = int(values[np.lexsort((values, -counts, clash))[0]])
        else:
            target = -1
        for u in mates.tolist():
            state.move(u, target)


def _adds_breakage(check: LocalCheck, members: np.ndarray, group: np.ndarray, k: int) -> bool:
    """Whether ``group`` joining cohort ``k`` breaks a rule its members do not already break."""
    return bool(set(check.broken(np.union1d(members, group), k)) - set(check.broken(members, k)))


def _entities(state: SearchState, members: np.ndarray, k: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The members of cohort ``k`` as entities that may leave (a group is one), and the
    members who cannot (pinned to ``k``, or in a group with someone who is)."""
    R = state.rules
    fixed_groups = {int(R.unit_group[u]) for u in members.tolist() if R.fixed[u] == k}
    entities: list[np.ndarray] = []
    fixed: list[int] = []
    seen: set[int] = set()
    for u in members.tolist():
        g = int(R.unit_group[u])
        if R.fixed[u] == k or (g >= 0 and g in fixed_groups):
            fixed.append(u)
        elif g < 0:
            entities.append(np.array([u], np.int64))
        elif g not in seen:
            seen.add(g)
            mates = state.group_members(u)
            entities.append(mates[state.assignment[mates] == k])
    return entities, np.asarray(fixed, np.int64)


def _evict(state: SearchState, k: int, check: LocalCheck) -> None:
    """Unplace the fewest members of cohort ``k`` that make it keep the rules (least loss first)."""
    p = state.problem
    entities, fixed = _entities(state, state.members_of(k).copy(), k)

    def loss(i: int) -> float:  # gap value lost, and far more if no other cohort takes it now
        units = entities[i].tolist()
        gain = sum(state.move(u, -1) for u in units)
        mask = state.move_mask(units[0])
        mask[k - int(p.block_cohorts[p.cohort_block[k]])] = False
        for u in units:
            state.move(u, k)
        return -gain + (0.0 if mask.any() else STUCK)

    removal = fewest_removals(check, entities, fixed, k, int(p.cohort_max[k]), loss=loss)
    for i in removal.chosen:
        for u in entities[i].tolist():
            state.move(u, -1)


def _place(state: SearchState, home: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Place every unplaced unit (groups first, then large teams); returns those no cohort takes."""
    p = state.problem
    pool = np.flatnonzero(state.assignment < 0)
    if pool.shape[0] == 0:
        return []
    entities: list[np.ndarray] = []
    seen: set[int] = set()
    for u in pool.tolist():
        g = int(state.rules.unit_group[u])
        if g < 0:
            continue
        if g not in seen:
            seen.add(g)
            entities.append(state.group_members(u))
    entities.sort(key=lambda e: -e.shape[0])
    singles = pool[state.rules.unit_group[pool] < 0]
    team_size = np.bincount(p.unit_team, minlength=p.n_teams)[p.unit_team[singles]]
    singles = singles[np.lexsort((rng.random(singles.shape[0]), -team_size))]
    entities += [np.array([u], np.int64) for u in singles.tolist()]
    spare = np.bincount(p.unit_block[pool], minlength=p.n_blocks) - np.bincount(
        p.cohort_block, weights=np.maximum(p.cohort_min - state.size, 0), minlength=p.n_blocks
    ).astype(np.int64)
    stuck = []
    for e in entities:
        k = _destination(state, e, home, int(spare[p.unit_block[e[0]]]), rng)
        if k < 0:
            stuck.append(e)
            continue
        short = state.size[k] < p.cohort_min[k]
        for u in e.tolist():
            state.move(u, k)
        if not short:
            spare[p.unit_block[e[0]]] -= e.shape[0]
    return stuck


def _destination(state: SearchState, e: np.ndarray, home: np.ndarray, spare: int,
                 rng: np.random.Generator) -> int:
    """The cohort where entity ``e`` goes: back home if every rule allows, else where it
    gains most; only cohorts below their minimum size when no place is to spare."""
    p = state.problem
    lead = int(e[0])
    cs, ce = p.block_of_cohort_range(int(p.unit_block[lead]))
    ks = np.arange(cs, ce)
    ok = state.move_mask(lead)
    if spare < e.shape[0]:
        short = ok & (state.size[cs:ce] + e.shape[0] <= p.cohort_min[cs:ce])
        ok = short if short.any() else ok
    if not ok.any():
        return -1
    back = np.unique(home[e])
    if back.shape[0] == 1 and back[0] >= 0 and ok[back[0] - cs]:
        return int(back[0])
    ks = ks[ok]
    if e.shape[0] > 1:
        if ks.shape[0] > 64:
            ks = np.sort(rng.choice(ks, 64, replace=False))
        gains = np.array([state.group_move_gain(lead, int(k)) for k in ks.tolist()])
    else:
        gains = state.move_gains(lead, ks)
    return int(ks[np.argmax(gains + 1e-9 * rng.random(ks.shape[0]))])


def _eject(state: SearchState, u: int, home: np.ndarray, tries: int = 256) -> bool:
    """Place unplaced ``u`` where a unit who is not at home (new, or moved already) makes
    room by moving on to another cohort that takes it; True if done (no extra move)."""
    p = state.problem
    R = state.rules
    lo, hi = int(p.block_units[p.unit_block[u]]), int(p.block_units[p.unit_block[u] + 1])
    units = np.arange(lo, hi)
    loose = units[(state.assignment[lo:hi] >= 0) & (state.assignment[lo:hi] != home[lo:hi])
                  & (R.unit_group[lo:hi] < 0) & (R.fixed[lo:hi] < 0)]
    for v in loose[:tries].tolist():
        k = int(state.assignment[v])
        state.move(v, -1)
        if state.move_mask(u, np.array([k]))[0]:
            state.move(u, k)
            ok = state.move_mask(v)
            ok[k - int(p.block_cohorts[p.unit_block[v]])] = False
            if ok.any():
                cs = int(p.block_cohorts[p.unit_block[v]])
                gains = np.where(ok, state.move_gains(v), -np.inf)
                state.move(v, cs + int(np.argmax(gains)))
                return True
            state.move(u, -1)
        state.move(v, k)
    return False


def _fill_short(state: SearchState, home: np.ndarray) -> None:
    """Bring cohorts below their minimum up with single units from cohorts above theirs,
    those not in their home cohort (moved or new) first."""
    p = state.problem
    for k in np.flatnonzero(state.size < p.cohort_min).tolist():
        cs, ce = p.block_of_cohort_range(int(p.cohort_block[k]))
        donors = np.arange(cs, ce)[state.size[cs:ce] > p.cohort_min[cs:ce]]
        units = np.concatenate([state.members_of(j) for j in donors.tolist()]) if donors.shape[0] else donors
        units = units[state.rules.unit_group[units] < 0]
        units = units[np.argsort(state.assignment[units] == home[units], kind="stable")]
        for u in units.tolist():
            if state.size[k] >= p.cohort_min[k]:
                break
            j = int(state.assignment[u])
            if state.size[j] > p.cohort_min[j] and state.move_mask(u, np.array([k]))[0]:
                state.move(u, k)


def _force(state: SearchState, stuck: list[np.ndarray]) -> None:
    """Put units no cohort takes where there is most room, rules aside (repair follows)."""
    p = state.problem
    for e in stuck:
        cs, ce = p.block_of_cohort_range(int(p.unit_block[e[0]]))
        k = cs + int(np.argmax(p.cohort_max[cs:ce] - state.size[cs:ce]))
        for u in e.tolist():
            state.move(u, k)


def return_home(state: SearchState, home: np.ndarray) -> None:
    """Send moved people back to their home cohort where every rule allows, by a move or
    by a swap with someone who is not at home either (a newcomer or another mover)."""
    R = state.rules
    for _ in range(3):
        away = np.flatnonzero((home >= 0) & (state.assignment != home) & (R.unit_group < 0))
        changed = False
        for u in away.tolist():
            k = int(home[u])
            if state.move_mask(u, np.array([k]))[0]:
                state.move(u, k)
                changed = True
                continue
            mates = state.members_of(k)
            for v in mates[(state.assignment[mates] != home[mates]) & (R.unit_group[mates] < 0)].tolist():
                if state.swap_allowed(u, v):
                    state.swap(u, v)
                    changed = True
                    break
        if not changed:
            return


def moves_lower_bound(problem: CompiledProblem, prev: Previous, anchor: np.ndarray) -> int:
    """A proven lower bound on the moves of any plan of the request (see the module docstring).

    Parameters
    ----------
    problem : CompiledProblem
    prev : Previous
    anchor : int64 array (K,)
        The labels the cohorts continue (only which free label sits in which free cohort
        is chosen; the bound holds for every such choice).

    Examples
    --------
    >>> import cohortmatch as cm
    >>> from cohortmatch.replanning.previous import read_previous
    >>> from cohortmatch.replanning.anchors import initial_anchor
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(8)])
    >>> c = cm.Course(id="c", min_size=4, max_size=4)
    >>> before = cm.plan(org, [c], time_limit=None, work_limit=200, seed=1)
    >>> first = before.cohorts[0].members
    >>> today = cm.Request(org=org, courses=[c], policy=cm.Policy(keep_apart=[first[:3]]))
    >>> problem = today.compile()
    >>> prev = read_previous(before, problem)
    >>> moves_lower_bound(problem, prev, initial_anchor(problem, prev))  # three apart: two move
    2
    """
    p = problem
    per_label = label_lower_bounds(p, prev, anchor)
    fixed = fixed_labels(p, prev)
    total = short = 0
    lab = prev.unit_label
    newcomers = np.bincount(p.unit_block[lab < 0], minlength=p.n_blocks)
    for b in range(p.n_blocks):
        cs, ce = p.block_of_cohort_range(b)
        mine = prev.block_labels(b)
        total += int(per_label[mine].sum())
        taken = set(fixed[cs:ce][fixed[cs:ce] >= 0].tolist())
        free_labels = [x for x in mine.tolist() if x not in taken and prev.survivors[x] > 0]
        closing = len(free_labels) - int((fixed[cs:ce] == FREE).sum())
        if closing > 0:
            cost = np.sort(prev.survivors[free_labels] - per_label[free_labels])
            total += int(cost[:closing].sum())
        else:  # free cohorts below their minimum are filled by newcomers or by moves
            lo = int(p.cohort_min[cs])
            need = int(np.maximum(lo - prev.survivors[free_labels], 0).sum()) - closing * lo
            short += max(need - int(newcomers[b]), 0)
    return max(total, short, _together_bound(problem, prev))


def label_lower_bounds(problem: CompiledProblem, prev: Previous, anchor: np.ndarray) -> np.ndarray:
    """Per label: a proven lower bound on the moves of its people, wherever its cohort goes.

    People pinned away from the cohort continuing their label, plus the fewest removals
    that make a troubled cohort keep every rule (a closed cohort: as if in any free
    cohort). :func:`moves_lower_bound` adds these up per block.

    Returns
    -------
    int64 array (L,)
    """
    p = problem
    check = LocalCheck(p)
    home = home_of(prev, anchor)
    fixed = fixed_labels(p, prev)
    pin = np.full(p.n_units, -1, np.int64)
    pin[p.pin_unit] = p.pin_cohort
    lab = prev.unit_label
    must = np.bincount(lab[(lab >= 0) & (pin >= 0) & (pin != home)], minlength=prev.n_labels)
    cohort_of = np.full(prev.n_labels, -1, np.int64)
    cohort_of[anchor[anchor >= 0]] = np.flatnonzero(anchor >= 0)
    local = np.zeros(prev.n_labels, np.int64)
    by_label = np.argsort(lab, kind="stable")
    starts = np.searchsorted(lab[by_label], np.arange(prev.n_labels + 1))
    pinned_to = {k: p.pin_unit[p.pin_cohort == k] for k in np.unique(p.pin_cohort).tolist()}
    troubled = _troubled_view(p, np.where(pin >= 0, pin, home))
    for x in np.flatnonzero(prev.survivors > 0).tolist():
        k = int(cohort_of[x])
        if k >= 0 and not troubled[k]:
            continue  # its cohort, as published with today's pins, keeps every rule
        units = by_label[starts[x] : starts[x + 1]]
        if k < 0:  # a closed cohort: bound its people as if in any free cohort
            cs, ce = p.block_of_cohort_range(int(prev.label_block[x]))
            free = np.flatnonzero(fixed[cs:ce] == FREE)
            if free.shape[0] == 0:
                local[x] = units.shape[0]
                continue
            k = cs + int(free[0])
        stay = units[(pin[units] < 0) | (pin[units] == k)]
        incoming = pinned_to.get(k, np.zeros(0, np.int64))
        held = np.union1d(stay[pin[stay] == k], incoming[lab[incoming] != x])
        loose = stay[pin[stay] != k]
        local[x] = fewest_removals(check, [np.array([u]) for u in loose.tolist()], held, k,
                                   int(p.cohort_max[k])).lower
    return must + local


def _troubled_view(problem: CompiledProblem, view: np.ndarray) -> np.ndarray:
    """Per cohort: whether, with everyone where ``view`` puts them, it is over its maximum
    size or holds someone breaking a rule other than sizes."""
    out = np.bincount(view[view >= 0], minlength=problem.n_cohorts) > problem.cohort_max
    for rule in active(problem):
        if rule.name != "sizes":
            bad = view[rule.offenders(view)]
            out[bad[bad >= 0]] = True
    return out


def _together_bound(problem: CompiledProblem, prev: Previous) -> int:
    """Moves split ``keep_together`` groups need: all but the largest part sharing a published cohort."""
    R = kernel_rules(problem)
    total = 0
    for g in range(R.group_indptr.shape[0] - 1):
        lab = prev.unit_label[R.group_units[R.group_indptr[g] : R.group_indptr[g + 1]]]
        lab = lab[lab >= 0]
        if lab.shape[0]:
            total += lab.shape[0] - int(np.bincount(lab).max())
    return total
