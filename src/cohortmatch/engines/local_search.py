"""Local search with moves and swaps, and perturbation to leave local optima."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

from ..compiled import NO_CAP, CompiledProblem
from ..rules.counts import shift_counts
from ..rules.kernel import group_move_ok, move_ok, swap_ok
from ..scoring import SearchState, edge_gain, team_move_gain_as
from ..teamcounts import count_as, team_count, team_counts
from .base import Budget, Deadline, StopEvent

__all__ = [
    "local_search", "compiled_descent", "compiled_ils", "kernels_cover", "kernel_args",
    "kernel_kwargs", "ils_kernel", "descent_kernel",
]

EPS = 1e-9
#: Blocks with more cohorts than this are searched through candidate cohorts only
#: (those holding a gap neighbour of the unit's team), not all of them.
LARGE_BLOCK = 128
#: Units one call of the compiled descent visits before the budget is checked again.
CHUNK = 1024
#: Iterations of one call of the compiled iterated local search.
ILS_CHUNK = 256
#: First slice of ILS iterations per kernel call, and the seconds a slice aims at.
SLICE_FIRST = 16
SLICE_SECONDS = 0.02
#: Compiled descent passes give way to the local-perturbation ILS once a pass gains less
#: than this share of the objective.
PASS_GAIN = 1e-3
#: Whether eligible problems use the compiled descent (benchmarks switch it off to compare).
_KERNEL = True


def local_search(
    state: SearchState,
    rng: np.random.Generator,
    budget: Budget,
    *,
    target: float = float("inf"),
    swap_candidates: int = 2,
    perturb: bool = True,
) -> np.ndarray:
    """Improve ``state`` until the budget runs out; returns the best assignment seen.

    Each pass visits the units in random order. A unit moves to the feasible cohort of
    its block with the largest positive gain (one vectorised gain vector); if none, it
    tries swaps with members of the ``swap_candidates`` cohorts it would gain most by
    joining. At a local optimum a random perturbation of valid swaps (iterated local
    search) restarts descent from the best assignment found. The search stops early once
    it reaches ``target`` (a proven upper bound: nothing better exists).

    In ``cover``/``diminishing`` modes without meeting caps or pair values, the search is
    compiled (numba): descent passes (:func:`compiled_descent`: same moves, swaps, rules
    and work count) until a pass gains less than ``PASS_GAIN`` of the objective, then an
    iterated local search with local perturbations (:func:`compiled_ils`), which never
    loses value. Otherwise it runs in Python on :class:`~cohortmatch.scoring.SearchState`.

    Every move and swap is checked against the hard rules, so every assignment visited
    keeps them. A ``KeyboardInterrupt`` during the search interrupts the budget (see
    :class:`~cohortmatch.engines.base.Monitor`) and returns the best assignment so far.
    """
    if _KERNEL and _compilable(state):
        return _compiled_search(state, rng, budget, target, swap_candidates, perturb)
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
            if not perturb:
                break
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


def _compiled_search(
    state: SearchState, rng: np.random.Generator, budget: Budget, target: float,
    swap_candidates: int, perturb: bool = True,
) -> np.ndarray:
    """Compiled descent passes to a local optimum, then compiled local-perturbation ILS.

    No step loses value, so the state is always the best assignment seen. Without
    ``perturb``, it stops when descent passes converge.
    """
    best_value = state.value
    best = state.assignment.copy()
    compiled_ils(state, rng, 0)  # compiles (or loads) both kernels now, not near the limit
    try:
        descending = True
        while not budget.exhausted() and state.value < target - EPS:
            if descending:  # until a pass gains little: then local perturbations pay more
                before = state.value
                improved = _compiled_pass(state, rng, budget, swap_candidates)
                descending = improved and state.value - before > PASS_GAIN * max(abs(before), 1.0)
            elif not perturb:
                break
            else:
                left = None if budget.work_limit is None else budget.work_limit - budget.work
                if left is not None and left <= 0:
                    budget.spend()
                    break
                _, work, _ = compiled_ils(
                    state, rng, ILS_CHUNK, swap_candidates=swap_candidates, work_limit=left,
                    halt=Deadline(budget),
                )
                budget.spend(work)
            if state.value > best_value + EPS:
                best_value = state.value
                best = state.assignment.copy()
            budget.report(best_value)
    except KeyboardInterrupt:
        budget.interrupt()
    state.reset(best)  # also rebuilds the Python-side sets the kernels do not keep
    budget.report(state.value, force=True)
    return best


def kernels_cover(problem: CompiledProblem, assignment: np.ndarray) -> bool:
    """Whether the compiled kernels cover this problem and assignment.

    ``cover``/``diminishing`` mode, no pair values, no meeting cap, every unit placed.
    """
    return (
        problem.mode != "sum"
        and problem.pair_values is None
        and problem.max_meetings == NO_CAP
        and bool(np.all(np.asarray(assignment) >= 0))
    )


def _compilable(state: SearchState) -> bool:
    """Whether the compiled descent covers this state (else the Python path runs)."""
    return kernels_cover(state.problem, state.assignment)


def compiled_descent(
    state: SearchState,
    order: np.ndarray,
    *,
    swap_candidates: int = 2,
    work_limit: int | None = None,
) -> tuple[int, int, int]:
    """One descent pass over the units ``order`` in a compiled kernel (numba), in place.

    Each unit moves to the feasible cohort of its block with the largest positive gain,
    else swaps with a member of one of the ``swap_candidates`` cohorts it would gain
    most by joining (the first swap that gains). Gains come from the scoring core's
    :func:`~cohortmatch.scoring.team_move_gain` on the state's ``counts`` and
    ``edge_cohorts``; every cohort size bound, ``max_per_team`` cap and manager
    conflict is kept. ``cover``/``diminishing`` modes, every unit placed, no meeting
    caps, no pair values. Units of a ``keep_together`` group move as a group; pinned
    units stay.

    Returns
    -------
    visited, work, improvements : int
        Units visited (a prefix of ``order``), work spent (one per unit and per swap
        evaluated, as in the Python search) and moves or swaps applied. ``state.value``
        is updated; call ``state.reset(state.assignment)`` before using
        :meth:`~cohortmatch.scoring.SearchState.candidate_cohorts`.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="aabb"[i]) for i in range(4)],
    ...                    gaps=[Gap(a="a", b="b", weight=1.0)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> st = SearchState(prob, np.array([0, 0, 1, 1]))
    >>> compiled_descent(st, np.arange(4)), st.value, st.assignment.tolist()
    ((4, 5, 1), 1.0, [1, 0, 0, 1])
    """
    visited, work, improvements, gain = descent_kernel(  # type: ignore[call-arg]  # numba stub vs *args
        np.asarray(order, np.int64), *kernel_args(state, swap_candidates, work_limit),
        np.zeros((0, 3), np.int64), 0,
    )[:4]
    state.value += gain
    return int(visited), int(work), int(improvements)


def kernel_args(
    state: SearchState, swap_candidates: int, work_limit: int | None, **replace: Any
) -> tuple[Any, ...]:
    """The state, problem and setting arguments both kernels take, in their order.

    ``replace`` swaps named arguments (e.g. a view of the state in another cohort order,
    as :mod:`~cohortmatch.engines.partition` runs the kernels on). The team counts are
    always read from the ``members`` and ``size`` given, so a view needs only those arrays.
    """
    return tuple(kernel_kwargs(state, swap_candidates, work_limit, **replace).values())


def kernel_kwargs(
    state: SearchState, swap_candidates: int, work_limit: int | None, **replace: Any
) -> dict[str, Any]:
    """:func:`kernel_args` by name, in the kernels' order (a dict keeps its order)."""
    p = state.problem
    limit = np.iinfo(np.int64).max if work_limit is None else int(work_limit)
    K_b = max(int(np.diff(p.block_cohorts).max()) if p.n_blocks else 1, 1)
    args = dict(
        assignment=state.assignment, counts=None, size=state.size,
        members=state.members, slot=state.slot, edge_cohorts=state.edge_cohorts,
        unit_team=p.unit_team, unit_block=p.unit_block, block_cohorts=p.block_cohorts,
        cohort_min=p.cohort_min, cohort_max=p.cohort_max, R=state.rules,
        adj_indptr=p.adj_indptr, adj_team=p.adj_team, adj_edge=p.adj_edge,
        edge_weight=p.edge_weight, cover=p.mode == "cover", decay=float(p.decay),
        n_swap=int(swap_candidates), work_limit=limit, eps=EPS,
        g=np.zeros(K_b), tried=np.zeros(K_b, np.int64), seen=np.zeros(K_b + 1, np.int64),
        touched=np.zeros(K_b, np.int64),
    )
    unknown = set(replace) - (set(args) - {"counts"})
    if unknown:
        raise TypeError(f"unknown kernel arguments: {sorted(unknown)}")
    args.update(replace)
    args["counts"] = team_counts(p, args["members"], args["size"])
    return args


def compiled_ils(
    state: SearchState,
    rng: np.random.Generator,
    iterations: int,
    *,
    strength: int = 2,
    swap_candidates: int = 2,
    work_limit: int | None = None,
    halt: StopEvent | None = None,
) -> tuple[int, int, int]:
    """Iterated local search with local perturbations in a compiled kernel, in place.

    Each iteration swaps ``strength`` random pairs of units (valid under every hard
    rule), descends (as :func:`compiled_descent`) over the members of the cohorts this
    touched, and keeps the result when it is worth at least as much, else undoes it. On
    a large block this costs O(cohort sizes) per iteration instead of a pass over every
    unit. Same conditions as :func:`compiled_descent`.

    The kernel runs over slices of the iterations of about :data:`SLICE_SECONDS` each, with
    the same result as one call (an iteration depends only on the state and its random
    row), so that a set ``halt`` (e.g. a :class:`~.base.Deadline`) ends the run within a
    slice, not at the end of every iteration asked for.

    Returns
    -------
    iterations, work, kept : int
        Iterations run, work spent, iterations kept with a gain.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="aabb"[i]) for i in range(4)],
    ...                    gaps=[Gap(a="a", b="b", weight=1.0)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> st = SearchState(prob, np.array([0, 0, 1, 1]))
    >>> _ = compiled_ils(st, np.random.default_rng(0), 20); st.value
    1.0
    """
    rand = rng.integers(0, 2**62, size=(int(iterations), 3 * int(strength)), dtype=np.int64)
    done, work, kept, gain = ils_slices(
        rand, int(strength), lambda left: kernel_args(state, swap_candidates, left),
        state.problem.n_cohorts, work_limit=work_limit, halt=halt,
    )
    state.value += gain
    return done, work, kept


def ils_slices(
    rand: np.ndarray, strength: int, args: Callable[[int | None], tuple[Any, ...]], n_cohorts: int,
    *, work_limit: int | None, halt: StopEvent | None,
) -> tuple[int, int, int, float]:
    """:func:`ils_kernel` over the rows of ``rand`` in slices of about :data:`SLICE_SECONDS`.

    The result is that of one call over every row (an iteration depends only on the state
    and its row), but a set ``halt`` is seen after each slice. ``args(left)`` gives the
    kernel's state and problem arguments for ``left`` units of work (None: no limit).

    Returns
    -------
    iterations, work, kept : int
    gain : float
        The value the iterations added.
    """
    width = 4096
    log, queue = np.zeros((width, 3), np.int64), np.zeros(width, np.int64)
    done = work = kept = 0
    gain = 0.0
    step = SLICE_FIRST
    while True:
        rows = rand[done:done + step]
        began = time.perf_counter()
        n, w, k, g = ils_kernel(  # type: ignore[call-arg]  # numba stub vs *args
            rows, strength, *args(None if work_limit is None else work_limit - work), log, queue,
            np.zeros(n_cohorts, np.int64),  # fresh marks: a slice's rows count from 0
        )
        done, work, kept, gain = done + int(n), work + int(w), kept + int(k), gain + float(g)
        if n < rows.shape[0] or done >= rand.shape[0] or (halt is not None and halt.is_set()):
            return done, work, kept, gain
        took = max(time.perf_counter() - began, 1e-6)
        step = int(min(max(step * SLICE_SECONDS / took, 1), 4 * step, rand.shape[0]))


def _compiled_pass(
    state: SearchState, rng: np.random.Generator, budget: Budget, swap_candidates: int
) -> bool:
    order = rng.permutation(state.problem.n_units)
    improved = False
    for lo in range(0, order.shape[0], CHUNK):
        if budget.exhausted():
            break
        left = None if budget.work_limit is None else budget.work_limit - budget.work
        if left is not None and left <= 0:
            budget.spend()  # past the limit: the budget now says so
            break
        _, work, n = compiled_descent(
            state, order[lo : lo + CHUNK], swap_candidates=swap_candidates, work_limit=left
        )
        improved |= n > 0
        if not budget.spend(work):
            break
    return improved


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
        if state.rules.unit_group[u] >= 0:  # a keep_together group moves as a whole
            improved |= _group_step(state, u, cs, ce)
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


def _group_step(state: SearchState, u: int, cs: int, ce: int) -> bool:
    """Move the group of ``u`` (if ``u`` leads it) to the cohort where it gains most; True if it did."""
    mates = state.group_members(u)
    if mates[0] != u:
        return False
    allowed = cs + np.flatnonzero(state.move_mask(u))
    if allowed.shape[0] == 0:
        return False
    gains = np.array([state.group_move_gain(u, int(k)) for k in allowed])
    j = int(np.argmax(gains))
    if gains[j] <= EPS:
        return False
    state.move_group(u, int(allowed[j]))
    return True


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


# ------------------------------------------------------------------ compiled kernel
@njit(cache=True)
def _shift(t, k1, k2, counts, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay):  # type: ignore[no-untyped-def]  # noqa: E501  # pragma: no cover
    """Price moving one member of team ``t`` from ``k1`` to ``k2`` and update the gap bridge
    counts for it; returns the gain. The caller then moves the unit in the member lists
    (:func:`_relocate`), which the team counts are read from."""
    return _shift_as(t, k1, k2, counts, -1, -1, -1, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501


@njit(cache=True)
def _shift_as(t, k1, k2, counts, xt, xa, xb, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay):  # type: ignore[no-untyped-def]  # noqa: E501  # pragma: no cover
    """:func:`_shift` with the team counts as if a member of team ``xt`` had moved from ``xa``
    to ``xb`` (the first move of a swap being priced, not yet in the member lists)."""
    gain = team_move_gain_as(t, k1, k2, counts, xt, xa, xb, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501
    if count_as(counts, t, k1, xt, xa, xb) == 1:
        for j in range(adj_indptr[t], adj_indptr[t + 1]):
            if count_as(counts, adj_team[j], k1, xt, xa, xb) > 0:
                edge_cohorts[adj_edge[j]] -= 1
    if count_as(counts, t, k2, xt, xa, xb) == 0:
        for j in range(adj_indptr[t], adj_indptr[t + 1]):
            if count_as(counts, adj_team[j], k2, xt, xa, xb) > 0:
                edge_cohorts[adj_edge[j]] += 1
    return gain


@njit(cache=True)
def _relocate(R, u, k1, k2, assignment, size, members, slot):  # type: ignore[no-untyped-def]  # pragma: no cover
    shift_counts(R, u, k1, k2)
    last = size[k1] - 1
    s = slot[u]
    moved = members[k1, last]
    members[k1, s] = moved
    slot[moved] = s
    members[k1, last] = -1
    size[k1] = last
    s = size[k2]
    members[k2, s] = u
    slot[u] = s
    size[k2] = s + 1
    assignment[u] = k2


@njit(cache=True)
def _group_move(  # type: ignore[no-untyped-def]  # pragma: no cover
    R, g, k1, cs, ce, assignment, counts, size, members, slot, edge_cohorts, unit_team,
    cohort_min, cohort_max, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay, eps,
    log, n_log,
):
    """Move ``keep_together`` group ``g`` from ``k1`` to the cohort of ``cs..ce-1`` where it
    gains most (if it gains); returns ``(gain, work, n_log)``."""
    lo = R.group_indptr[g]
    hi = R.group_indptr[g + 1]
    best = -1
    best_gain = eps
    home = members[k1, : size[k1]].copy()  # its order, restored after each trial
    for k in range(cs, ce):
        if not group_move_ok(R, g, k1, k, unit_team, assignment, counts, size, cohort_min, cohort_max):
            continue
        gain = 0.0
        for i in range(lo, hi):
            u = R.group_units[i]
            gain += _shift(unit_team[u], k1, k, counts, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501
            _relocate(R, u, k1, k, assignment, size, members, slot)
        for i in range(hi - 1, lo - 1, -1):
            u = R.group_units[i]
            _shift(unit_team[u], k, k1, counts, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501
            _relocate(R, u, k, k1, assignment, size, members, slot)
        for s in range(home.shape[0]):
            members[k1, s] = home[s]
            slot[home[s]] = s
        if gain > best_gain:
            best = k
            best_gain = gain
    work = (ce - cs) * (hi - lo)
    if best < 0:
        return 0.0, work, n_log
    for i in range(lo, hi):
        u = R.group_units[i]
        _shift(unit_team[u], k1, best, counts, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501
        _relocate(R, u, k1, best, assignment, size, members, slot)
        n_log = _log(log, n_log, u, k1, best)
    return best_gain, work, n_log


@njit(cache=True, nogil=True)
def descent_kernel(  # type: ignore[no-untyped-def]  # pragma: no cover
    order, assignment, counts, size, members, slot, edge_cohorts,
    unit_team, unit_block, block_cohorts, cohort_min, cohort_max, R,
    adj_indptr, adj_team, adj_edge, edge_weight,
    cover, decay, n_swap, work_limit, eps, g, tried, seen, touched, log, n_log,
):
    work = 0
    improvements = 0
    total = 0.0
    visited = 0
    for i in range(order.shape[0]):
        if work >= work_limit:
            break
        visited += 1
        work += 1
        u = order[i]
        k1 = assignment[u]
        b = unit_block[u]
        cs = block_cohorts[b]
        ce = block_cohorts[b + 1]
        t = unit_team[u]
        lo = adj_indptr[t]
        hi = adj_indptr[t + 1]
        if k1 < 0 or ce - cs < 2 or R.fixed[u] >= 0:
            continue
        group = R.unit_group[u]
        if group >= 0:  # a keep_together group moves as a whole, from its first member
            if R.group_units[R.group_indptr[group]] == u:
                gain, w, n_log = _group_move(
                    R, group, k1, cs, ce, assignment, counts, size, members, slot, edge_cohorts,
                    unit_team, cohort_min, cohort_max, adj_indptr, adj_team, adj_edge, edge_weight,
                    cover, decay, eps, log, n_log,
                )
                work += w
                if gain > 0.0:
                    total += gain
                    improvements += 1
            continue
        if hi == lo:
            continue
        # gain of moving u to each cohort of its block (the sum of team_move_gain's terms),
        # kept for the cohorts where a gap neighbour of t or t itself is (``touched``),
        # found from the units of those teams: elsewhere it is the removal alone (<= 0)
        start = seen[seen.shape[0] - 1] + 1  # stamps of this visit are >= start
        cur = start
        n_t = 0
        leave = team_count(counts, t, k1) == 1
        removal = 0.0
        for j in range(lo, hi):
            nb = adj_team[j]
            e = adj_edge[j]
            c = edge_cohorts[e]
            if leave and team_count(counts, nb, k1) > 0:
                c -= 1
                removal -= edge_gain(edge_weight[e], c, cover, decay)
            m = edge_gain(edge_weight[e], c, cover, decay)
            cur += 1
            if m != 0.0:
                n_t = _touch(nb, cur, start, m, counts, assignment, cs, ce, g, seen, touched, n_t)
        cur += 1
        n_t = _touch(t, cur, start, 0.0, counts, assignment, cs, ce, g, seen, touched, n_t)
        seen[seen.shape[0] - 1] = cur
        for i in range(n_t):
            k = touched[i]
            if seen[k - cs] == cur:  # t is there already: joining bridges nothing
                g[k - cs] = removal
            else:
                g[k - cs] += removal
        g[k1 - cs] = 0.0
        # the best move every rule allows (ties: the first cohort)
        best = -1
        best_gain = eps
        if size[k1] > cohort_min[k1]:
            for i in range(n_t):
                k = touched[i]
                gk = g[k - cs]
                if (gk > best_gain or (best >= 0 and gk == best_gain and k < best)) and move_ok(
                    R, u, k1, k, unit_team, assignment, counts, size, cohort_min, cohort_max
                ):
                    best = k
                    best_gain = gk
        if best >= 0:
            total += _shift(t, k1, best, counts, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501
            _relocate(R, u, k1, best, assignment, size, members, slot)
            n_log = _log(log, n_log, u, k1, best)
            improvements += 1
            continue
        # else swaps with members of the cohorts it would gain most by joining
        n_tried = 0
        swapped = False
        while n_tried < n_swap and not swapped:
            k2 = -1
            top = eps
            for i in range(n_t):
                k = touched[i]
                gk = g[k - cs]
                if gk > top or (k2 >= 0 and gk == top and k < k2):
                    done = False
                    for x in range(n_tried):
                        if tried[x] == k:
                            done = True
                    if not done:
                        k2 = k
                        top = gk
            if k2 < 0:
                break
            tried[n_tried] = k2
            n_tried += 1
            for s in range(size[k2]):
                v = members[k2, s]
                tv = unit_team[v]
                if tv == t:
                    continue
                work += 1
                if not swap_ok(R, u, v, unit_team, assignment, counts):
                    continue
                first = _shift(t, k1, k2, counts, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501
                # priced as if u were in k2 already (the member lists still hold it in k1)
                second = team_move_gain_as(tv, k2, k1, counts, t, k1, k2, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501
                if first + second > eps:
                    _shift_as(tv, k2, k1, counts, t, k1, k2, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501
                    sv = slot[v]
                    su = slot[u]
                    members[k1, su] = v
                    members[k2, sv] = u
                    slot[u] = sv
                    slot[v] = su
                    assignment[u] = k2
                    assignment[v] = k1
                    shift_counts(R, u, k1, k2)
                    shift_counts(R, v, k2, k1)
                    n_log = _log(log, n_log, u, k1, k2)
                    n_log = _log(log, n_log, v, k2, k1)
                    total += first + second
                    improvements += 1
                    swapped = True
                    break
                _shift_as(t, k2, k1, counts, t, k1, k2, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501
    return visited, work, improvements, total, n_log


@njit(cache=True)
def _touch(team, cur, start, m, counts, assignment, cs, ce, g, seen, touched, n_t):  # type: ignore[no-untyped-def]  # noqa: E501  # pragma: no cover
    """Add ``m`` to the gain of each cohort of ``cs..ce-1`` where ``team`` is (once per
    cohort, stamped ``cur``); a cohort first seen this visit (stamp < ``start``) joins
    ``touched`` with gain 0. Returns the new length of ``touched``."""
    for i in range(counts.team_indptr[team], counts.team_indptr[team + 1]):
        k = assignment[counts.team_units[i]]
        if k < cs or k >= ce or seen[k - cs] == cur:
            continue
        if seen[k - cs] < start:
            g[k - cs] = 0.0
            touched[n_t] = k
            n_t += 1
        seen[k - cs] = cur
        g[k - cs] += m
    return n_t


@njit(cache=True)
def _log(log, n_log, u, k1, k2):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Record that ``u`` moved from ``k1`` to ``k2`` (counted past the log's end too)."""
    if n_log < log.shape[0]:
        log[n_log, 0] = u
        log[n_log, 1] = k1
        log[n_log, 2] = k2
    return n_log + 1


@njit(cache=True, nogil=True)
def ils_kernel(  # type: ignore[no-untyped-def]  # pragma: no cover
    rand, strength, assignment, counts, size, members, slot, edge_cohorts,
    unit_team, unit_block, block_cohorts, cohort_min, cohort_max, R,
    adj_indptr, adj_team, adj_edge, edge_weight,
    cover, decay, n_swap, work_limit, eps, g, tried, seen, touched, log, queue, mark,
):
    """Iterated local search with local perturbations; one iteration per row of ``rand``.

    An iteration applies ``strength`` random valid swaps, then descends over the members
    of the cohorts they touched (until a round finds nothing), and keeps the result if
    it is worth at least as much as before, else undoes every change from its log.
    """
    work = 0
    total = 0.0
    kept = 0
    iterations = 0
    n_units = assignment.shape[0]
    for it in range(rand.shape[0]):
        if work >= work_limit:
            break
        iterations += 1
        n_log = 0
        delta = 0.0
        n_q = 0
        for s in range(strength):
            work += 1
            u = rand[it, 3 * s] % n_units
            k1 = assignment[u]
            b = unit_block[u]
            cs = block_cohorts[b]
            ce = block_cohorts[b + 1]
            if k1 < 0 or ce - cs < 2:
                continue
            k2 = cs + rand[it, 3 * s + 1] % (ce - cs)
            if k2 == k1 or size[k2] == 0:
                continue
            v = members[k2, rand[it, 3 * s + 2] % size[k2]]
            t = unit_team[u]
            tv = unit_team[v]
            if t == tv or not swap_ok(R, u, v, unit_team, assignment, counts):
                continue
            delta += _shift(t, k1, k2, counts, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501
            _relocate(R, u, k1, k2, assignment, size, members, slot)
            delta += _shift(tv, k2, k1, counts, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501
            _relocate(R, v, k2, k1, assignment, size, members, slot)
            n_log = _log(log, n_log, u, k1, k2)
            n_log = _log(log, n_log, v, k2, k1)
            for k in (k1, k2):
                if mark[k] != it + 1 and n_q < queue.shape[0]:
                    mark[k] = it + 1
                    queue[n_q] = k
                    n_q += 1
        if n_log == 0:
            continue
        for _ in range(8):  # descend over the touched cohorts' members
            n_o = 0
            for i in range(n_q):
                n_o += size[queue[i]]
            order = np.empty(n_o, np.int64)
            n_o = 0
            for i in range(n_q):
                k = queue[i]
                for j in range(size[k]):
                    order[n_o] = members[k, j]
                    n_o += 1
            _, w, imp, gain, n_log = descent_kernel(
                order, assignment, counts, size, members, slot, edge_cohorts,
                unit_team, unit_block, block_cohorts, cohort_min, cohort_max, R,
                adj_indptr, adj_team, adj_edge, edge_weight,
                cover, decay, n_swap, work_limit - work, eps, g, tried, seen, touched, log, n_log,
            )
            work += w
            delta += gain
            if imp == 0:
                break
            for i in range(min(n_log, log.shape[0])):  # cohorts the descent touched
                for k in (log[i, 1], log[i, 2]):
                    if mark[k] != it + 1 and n_q < queue.shape[0]:
                        mark[k] = it + 1
                        queue[n_q] = k
                        n_q += 1
        if delta >= -eps or n_log > log.shape[0]:  # kept (a log overflow cannot be undone)
            total += delta
            if delta > eps:
                kept += 1
            continue
        for i in range(n_log - 1, -1, -1):  # undo, last change first
            u = log[i, 0]
            a = log[i, 1]
            z = log[i, 2]
            _shift(unit_team[u], z, a, counts, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay)  # noqa: E501
            _relocate(R, u, z, a, assignment, size, members, slot)
    return iterations, work, kept, total
