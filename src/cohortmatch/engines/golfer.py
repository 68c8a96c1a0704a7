"""The golfer engine: no repeated meetings first, then gap value (Social Golfer search).

With ``max_meetings`` set, regrouping people over rounds is a generalised Social Golfer
Problem. A request of one course with the same people in every round is first tried with
the library of constructions (:mod:`cohortmatch.engines.designs`: round robins, affine
spaces, Kirkman triple systems, transversal designs, products, base rounds developed under
a cyclic group); a constructed plan that breaks team caps, managers apart or the meeting
history is repaired and becomes the search's start. Otherwise this engine
builds a first plan greedily (Triska & Musliu's freedom heuristic when there are no team
caps or managers, else each unit joins the cohort where it repeats the fewest meetings),
removes the remaining repeats with a compiled tabu search on swaps
of units in conflict (Dotu & Van Hentenryck; pair weights at local minima, perturbation
from the best when stalled), and finally improves gap value with local search moves that
never add a repeat. The compiled search keeps, for every person and cohort, how many of
the cohort's members that person already meets at (and beyond) the cap, so each swap is
priced in O(1) and applied in O(people + group size x rounds).
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
from numba import njit

from ..compiled import NO_CAP, CompiledProblem
from ..errors import InfeasibleError, InputError
from ..rules import active, check_assignment, search_cannot_keep
from ..rules.counts import bind_counts, shift_counts
from ..rules.kernel import kernel_rules, placement_masks
from ..rules.kernel import swap_ok as rule_swap_ok
from ..rules.meetings import assignment_meetings
from ..scoring import SearchState, score, upper_bound
from .base import Budget, SolverResult
from .construct import balanced_sizes, block_targets, place_fixed, repair
from .designs import Shape, construct
from .heuristic import find_start
from .local_search import local_search
from .mixing import minimise_deviation

__all__ = [
    "solve_golfer", "Built", "construction_shape", "construction_start", "greedy_start",
    "freedom_start", "minimise_repeats", "restarting_search", "excess_meetings",
]


def excess_meetings(problem: CompiledProblem, assignment: np.ndarray) -> int:
    """Meetings beyond ``max_meetings`` over all pairs, history included (0 without a cap).

    .. math::

        \\sum_{i<j} \\max(0, m_{ij} - \\text{max\\_meetings})

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team=f"t{i}") for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="g", min_size=2, max_size=2, rounds=2)],
    ...                        Policy(max_meetings=1))
    >>> excess_meetings(prob, np.array([0, 0, 1, 1, 2, 2, 3, 3]))   # same pairs twice
    2
    """
    if problem.max_meetings == NO_CAP:
        return 0
    _, _, n = assignment_meetings(problem, assignment)
    return int(np.maximum(n - problem.max_meetings, 0).sum())


def _relaxed(problem: CompiledProblem) -> CompiledProblem:
    """The same problem without the meeting cap (for states that must not enforce it)."""
    return dataclasses.replace(problem, max_meetings=int(NO_CAP), _cache={})


def greedy_start(problem: CompiledProblem, rng: np.random.Generator) -> np.ndarray:
    """A first assignment: each unit joins the cohort where it repeats the fewest meetings.

    Blocks (course rounds) are filled in order. Within a block, units of larger teams go
    first; a unit goes to a cohort with room under balanced sizes that keeps
    ``max_per_team`` and the manager rule if one does, then with the fewest meetings
    beyond the cap, then the most gap value, ties broken at random. Broken team caps or
    manager rules left over are repaired.

    Returns
    -------
    int64 array (U,)
        An assignment keeping every hard rule except perhaps ``max_meetings``.

    Raises
    ------
    InfeasibleError
        When the team cap and manager rules cannot be repaired.
    """
    p = problem
    cap = p.max_meetings
    state = SearchState(_relaxed(p), np.full(p.n_units, -1, dtype=np.int64))
    a0, b0, n0 = assignment_meetings(p, state.assignment)
    present = np.zeros(p.n_people, dtype=bool)
    present[p.unit_person] = True
    local = np.cumsum(present) - 1
    Pq = int(present.sum())
    meet = np.zeros((Pq, Pq), dtype=np.int32)
    keep = present[a0] & present[b0]
    meet[local[a0[keep]], local[b0[keep]]] = n0[keep]
    meet += meet.T
    uq = local[p.unit_person]
    for b in range(p.n_blocks):
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        cs, ce = p.block_of_cohort_range(b)
        target = balanced_sizes(hi - lo, ce - cs)[rng.permutation(ce - cs)]
        if place_fixed(state, b, target, rng):  # pinned people and keep_together groups
            target = block_targets(state, b)
            for k in range(cs, ce):
                m = uq[state.members_of(k)]
                meet[np.ix_(m, m)] += 1
                meet[m, m] -= 1
        teams = p.unit_team[lo:hi]
        team_size = np.bincount(teams, minlength=p.n_teams)[teams]
        units = np.arange(lo, hi)[np.lexsort((rng.random(hi - lo), -team_size))]
        units = units[state.assignment[units] < 0]
        cohorts = np.arange(cs, ce)
        for u in units.tolist():
            room = state.size[cs:ce] < target
            cap_ok, apart_ok = placement_masks(state.rules, u, cohorts, p.unit_team, state.assignment,
                                               state.counts)
            rules_ok = cap_ok & apart_ok
            members = state.members[cs:ce]
            valid = members >= 0
            mates = uq[np.where(valid, members, 0)]
            repeats = ((meet[uq[u]][mates] >= cap) & valid).sum(axis=1)
            gains = state.move_gains(u)
            cost = (
                np.where(room, 0.0, np.inf)
                + np.where(rules_ok, 0.0, 1e12)
                + repeats * 1e6
                - gains
                + rng.random(ce - cs) * 1e-6
            )
            k = cs + int(np.argmin(cost))
            mates_k = uq[state.members_of(k)]
            meet[uq[u], mates_k] += 1
            meet[mates_k, uq[u]] += 1
            state.move(u, k)
    if not repair(state, rng):
        raise InfeasibleError(
            ["no arrangement found that keeps the rules (" + ", ".join(
                r.name for r in active(p) if r.name not in ("sizes", "max_meetings")) + ")"]
        )
    return state.assignment.copy()


def freedom_start(problem: CompiledProblem, rng: np.random.Generator) -> np.ndarray:
    """A first assignment by Triska and Musliu's freedom heuristic (no team caps or managers).

    Cohorts are filled two people at a time: the pair placed next is one whose members
    have not met (within the cap) each other nor anyone already in the cohort and whose
    *freedom*, the number of people neither has met, is largest, so that pairs who
    could still sit with many others are kept together early. Ties are broken at random.

    Returns
    -------
    int64 array (U,)

    References
    ----------
    .. [1] M. Triska and N. Musliu, "An effective greedy heuristic for the Social Golfer
       Problem", Annals of Operations Research 194 (2012) 413-425.
       doi:10.1007/s10479-011-0866-7
    """
    p = problem
    cap = p.max_meetings
    S = _RepeatSearch(p, np.full(p.n_units, -1, dtype=np.int64))
    M = S.M
    out = np.full(p.n_units, -1, dtype=np.int64)
    for b in range(p.n_blocks):
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        cs, ce = p.block_of_cohort_range(b)
        sizes = balanced_sizes(hi - lo, ce - cs)[rng.permutation(ce - cs)]
        left = np.ones(hi - lo, dtype=bool)
        q = S.uq[lo:hi]
        for j, k in enumerate(range(cs, ce)):
            members: list[int] = []
            while len(members) < sizes[j]:
                idx = np.flatnonzero(left)
                qi = q[idx]
                free = (M[qi] < cap).astype(np.float32)  # people each one may still meet
                clash = np.zeros(idx.shape[0])
                if members:
                    clash = (M[np.ix_(qi, q[members])] >= cap).sum(axis=1)
                noise = rng.random((idx.shape[0], idx.shape[0])) * 0.5
                if sizes[j] - len(members) >= 2 and idx.shape[0] >= 2:
                    freedom = free @ free.T
                    cost = (
                        1e6 * (clash[:, None] + clash[None, :] + (M[np.ix_(qi, qi)] >= cap))
                        - freedom
                        + noise
                    )
                    np.fill_diagonal(cost, np.inf)
                    x, y = divmod(int(np.argmin(cost)), idx.shape[0])
                    chosen = [int(idx[x]), int(idx[y])]
                else:
                    cost = 1e6 * clash - free.sum(axis=1) + noise[0]
                    chosen = [int(idx[int(np.argmin(cost))])]
                for c in chosen:
                    for m in members:
                        M[q[c], q[m]] += 1
                        M[q[m], q[c]] += 1
                    members.append(c)
                    left[c] = False
            out[lo + np.asarray(members, dtype=np.int64)] = k
    return out


class _RepeatSearch:
    """Dense arrays of the tabu search on repeated meetings (people present only)."""

    def __init__(self, problem: CompiledProblem, assignment: np.ndarray):
        p = problem
        self.p = p
        self.cap = p.max_meetings
        present = np.zeros(p.n_people, dtype=bool)
        present[p.unit_person] = True
        self.local = np.cumsum(present) - 1
        self.present = present
        self.Pq = int(present.sum())
        self.uq = self.local[p.unit_person]
        self.blocks = p.unit_block.astype(np.int64)
        self.load(assignment)

    def load(self, assignment: np.ndarray) -> None:
        p = self.p
        self.a = np.array(assignment, dtype=np.int64, copy=True)
        a0, b0, n0 = assignment_meetings(p, self.a)
        keep = self.present[a0] & self.present[b0]
        M = np.zeros((self.Pq, self.Pq), dtype=np.int32)
        M[self.local[a0[keep]], self.local[b0[keep]]] = n0[keep]
        self.M = M + M.T
        self.B1 = (self.M >= self.cap).astype(np.float32)
        self.B2 = (self.M > self.cap).astype(np.float32)
        self.ind = np.zeros((self.Pq, p.n_cohorts), dtype=np.float32)
        self.ind[self.uq, self.a] = 1.0
        self.team_counts = np.zeros((p.n_teams, p.n_cohorts), dtype=np.int64)
        np.add.at(self.team_counts, (p.unit_team, self.a), 1)
        self.rules = bind_counts(kernel_rules(p), self.a)  # the kernel rules with this search's mix counts
        self.excess = int(np.maximum(self.M - self.cap, 0).sum()) // 2

    def own_conflicts(self) -> np.ndarray:
        """For each unit, co-members it meets beyond the cap (int array (U,))."""
        c2 = self.B2 @ self.ind
        return np.rint(c2[self.uq, self.a]).astype(np.int64)

    def swap(self, u: int, v: int) -> None:
        a, uq = self.a, self.uq
        ku, kv = int(a[u]), int(a[v])
        in_ku = np.flatnonzero(a == ku)
        in_kv = np.flatnonzero(a == kv)
        mu = uq[in_ku[in_ku != u]]
        mv = uq[in_kv[in_kv != v]]
        pu, pv = int(uq[u]), int(uq[v])
        M = self.M
        M[pu, mu] -= 1
        M[mu, pu] -= 1
        M[pu, mv] += 1
        M[mv, pu] += 1
        M[pv, mv] -= 1
        M[mv, pv] -= 1
        M[pv, mu] += 1
        M[mu, pv] += 1
        for q in (pu, pv):
            row1 = M[q] >= self.cap
            row2 = M[q] > self.cap
            self.B1[q], self.B1[:, q] = row1, row1
            self.B2[q], self.B2[:, q] = row2, row2
        self.ind[pu, ku], self.ind[pu, kv] = 0.0, 1.0
        self.ind[pv, kv], self.ind[pv, ku] = 0.0, 1.0
        tu, tv = self.p.unit_team[u], self.p.unit_team[v]
        self.team_counts[tu, ku] -= 1
        self.team_counts[tu, kv] += 1
        self.team_counts[tv, kv] -= 1
        self.team_counts[tv, ku] += 1
        shift_counts(self.rules, u, ku, kv)
        shift_counts(self.rules, v, kv, ku)
        a[u], a[v] = kv, ku


def minimise_repeats(
    problem: CompiledProblem,
    assignment: np.ndarray,
    *,
    budget: Budget,
    rng: np.random.Generator,
    max_rows: int = 64,
    stall: int = 200,
    tenure: tuple[int, int] = (5, 15),
    reset_to_best: bool = True,
    strength: int = 1,
) -> tuple[np.ndarray, int]:
    """Tabu search on swaps that removes meetings beyond ``max_meetings``.

    .. math::

        \\min \\sum_{i<j} \\max(0, m_{ij} - \\text{max\\_meetings})

    Every iteration evaluates, in one vectorised expression, all swaps of a unit that
    sits with someone it meets too often with any unit of another cohort of the same
    block, and applies the best non-tabu one (a tabu one if it beats the best seen). Swaps
    keep cohort sizes, ``max_per_team`` and managers apart from reports. After ``stall``
    iterations without a new best, the search restarts from the best assignment with a
    few random swaps.

    Parameters
    ----------
    problem : CompiledProblem
    assignment : int array (U,)
        A complete assignment keeping every hard rule but perhaps ``max_meetings``.
    budget : Budget
        Each evaluated unit row counts one unit of work.
    rng : numpy.random.Generator
    max_rows : int
        At most this many conflicting units are evaluated per iteration (a random sample).
    stall : int
        Iterations without progress before a perturbation.
    tenure : (int, int)
        A unit may not return to the cohort it left for a random number of iterations in
        this range.

    Returns
    -------
    assignment : int64 array (U,)
        The best assignment found.
    excess : int
        Its meetings beyond the cap (0: the hard rule holds).

    References
    ----------
    .. [1] I. Dotu and P. Van Hentenryck, "Scheduling social golfers locally",
       CPAIOR 2005, LNCS 3524, pp. 155-167. doi:10.1007/11493853_13
    .. [2] M. Triska and N. Musliu, "An effective greedy heuristic for the Social Golfer
       Problem", Annals of Operations Research 194 (2012) 413-425.
       doi:10.1007/s10479-011-0866-7
    """
    p = problem
    if _plain(p):
        return restarting_search(p, assignment, budget=budget, rng=rng)
    S = _RepeatSearch(p, assignment)
    best, best_excess = S.a.copy(), S.excess
    U = p.n_units
    tabu_until = np.zeros((U, p.n_cohorts), dtype=np.int64)  # unit may not re-enter cohort
    it, last_best, perturbations = 0, 0, 0
    has_cap = p.max_per_team != NO_CAP
    R = kernel_rules(p)
    mobile = (R.fixed < 0) & (R.unit_group < 0)
    while best_excess > 0 and not budget.exhausted():
        it += 1
        own = S.own_conflicts()
        rows = np.flatnonzero((own > 0) & mobile)
        if rows.shape[0] == 0:  # nothing in a cohort is over the cap: only history is
            break
        if rows.shape[0] > max_rows:
            rows = rng.choice(rows, max_rows, replace=False)
        if not budget.spend(int(rows.shape[0])):
            break
        a, uq = S.a, S.uq
        c1 = S.B1 @ S.ind  # (Pq, K): mates beyond-or-at cap a person would meet in each cohort
        pr = uq[rows]
        delta = (
            c1[pr][:, a]
            + c1[uq][:, a[rows]].T
            - 2.0 * S.B1[pr][:, uq]
            - own[rows][:, None]
            - own[None, :]
        )
        ok = (S.blocks[None, :] == S.blocks[rows][:, None]) & (a[None, :] != a[rows][:, None])
        ok &= mobile[None, :]
        if has_cap:
            tu, tv = p.unit_team[rows][:, None], p.unit_team[None, :]
            fits = (S.team_counts[tu, a[None, :]] < p.max_per_team) & (
                S.team_counts[tv, a[rows][:, None]] < p.max_per_team
            )
            ok &= (tu == tv) | fits
        tabu = (tabu_until[rows][:, a] > it) | (tabu_until[:, a[rows]].T > it)
        ok &= ~tabu | (S.excess + delta < best_excess)
        cost = np.where(ok, delta + rng.random(delta.shape) * 0.5, np.inf)
        chosen = None
        for _ in range(8):
            flat = int(np.argmin(cost))
            if not np.isfinite(cost.flat[flat]):
                break
            i, v = divmod(flat, U)
            u = int(rows[i])
            if rule_swap_ok(S.rules, u, v, p.unit_team, S.a, S.team_counts):
                chosen = (u, v, int(round(delta[i, v])))
                break
            cost[i, v] = np.inf
        if chosen is None:
            _perturb(S, rng, 1)
            continue
        u, v, d = chosen
        tabu_until[u, S.a[u]] = it + int(rng.integers(tenure[0], tenure[1]))
        tabu_until[v, S.a[v]] = it + int(rng.integers(tenure[0], tenure[1]))
        S.swap(u, v)
        S.excess += d
        if S.excess < best_excess:
            best, best_excess, last_best, perturbations = S.a.copy(), S.excess, it, 0
        elif it - last_best > stall:
            perturbations += 1
            if reset_to_best:
                S.load(best)
            _perturb(S, rng, strength + perturbations % 5)
            tabu_until[:] = 0
            last_best = it
    return best, excess_meetings(p, best)


@njit(cache=True)
def _bump(i, j, s, M, W, A, B, C, cap):  # pragma: no cover
    """Add ``s`` (+1 or -1) to the meetings of people i and j, keeping A and B in step."""
    m0 = M[i, j]
    m1 = m0 + s
    M[i, j] = m1
    M[j, i] = m1
    da = (int(m1 >= cap) - int(m0 >= cap)) * W[i, j]
    db = (int(m1 > cap) - int(m0 > cap)) * W[i, j]
    if da != 0 or db != 0:
        _spread(i, j, da, db, A, B, C)


@njit(cache=True)
def _weigh(i, j, M, W, A, B, C, cap):  # pragma: no cover
    """Add one to the weight of the pair i, j (still repeated at a local minimum)."""
    W[i, j] += 1
    W[j, i] += 1
    _spread(i, j, int(M[i, j] >= cap), int(M[i, j] > cap), A, B, C)


@njit(cache=True)
def _spread(i, j, da, db, A, B, C):  # pragma: no cover
    """Add ``da``/``db`` to ``A``/``B`` of ``i`` at each of ``j``'s cohorts, and vice versa."""
    for b in range(C.shape[1]):
        kj = C[j, b]
        if kj >= 0:
            A[i, kj] += da
            B[i, kj] += db
        ki = C[i, b]
        if ki >= 0:
            A[j, ki] += da
            B[j, ki] += db


@njit(cache=True)
def _load(src, a, uq, unit_block, members, size, slot, C, M, M0, W, A, B,
          cap):  # pragma: no cover
    """Set the search to assignment ``src``; return its meetings beyond ``cap``."""
    a[:] = src
    size[:] = 0
    C[:, :] = -1
    for u in range(a.shape[0]):
        k = a[u]
        members[k, size[k]] = u
        slot[u] = size[k]
        size[k] += 1
        C[uq[u], unit_block[u]] = k
    M[:, :] = M0
    for k in range(size.shape[0]):
        for s in range(size[k]):
            px = uq[members[k, s]]
            for t in range(s + 1, size[k]):
                py = uq[members[k, t]]
                M[px, py] += 1
                M[py, px] += 1
    A[:, :] = 0
    B[:, :] = 0
    n = M.shape[0]
    for k in range(size.shape[0]):
        for s in range(size[k]):
            px = uq[members[k, s]]
            for z in range(n):
                if z != px and M[z, px] >= cap:
                    A[z, k] += W[z, px]
                    if M[z, px] > cap:
                        B[z, k] += W[z, px]
    excess = 0
    for i in range(n):
        for j in range(i + 1, n):
            if M[i, j] > cap:
                excess += M[i, j] - cap
    return excess


@njit(cache=True)
def _delta(u, v, a, uq, members, size, M, cap):  # pragma: no cover
    """Change in meetings beyond ``cap`` if units u and v (same block) swap cohorts."""
    ku, kv = a[u], a[v]
    pu, pv = uq[u], uq[v]
    d = 0
    for s in range(size[kv]):
        y = members[kv, s]
        if y != v:
            py = uq[y]
            d += int(M[pu, py] >= cap) - int(M[pv, py] > cap)
    for s in range(size[ku]):
        x = members[ku, s]
        if x != u:
            px = uq[x]
            d += int(M[pv, px] >= cap) - int(M[pu, px] > cap)
    return d


@njit(cache=True)
def _swap(u, v, a, uq, unit_block, members, size, slot, C, M, W, A, B,
          cap):  # pragma: no cover
    """Swap the cohorts of units u and v (same block), keeping every count in step."""
    ku, kv = a[u], a[v]
    pu, pv = uq[u], uq[v]
    b = unit_block[u]
    for z in range(M.shape[0]):  # pu leaves ku for kv, pv leaves kv for ku
        if z != pu and M[z, pu] >= cap:
            w = W[z, pu]
            A[z, ku] -= w
            A[z, kv] += w
            if M[z, pu] > cap:
                B[z, ku] -= w
                B[z, kv] += w
        if z != pv and M[z, pv] >= cap:
            w = W[z, pv]
            A[z, kv] -= w
            A[z, ku] += w
            if M[z, pv] > cap:
                B[z, kv] -= w
                B[z, ku] += w
    su, sv = slot[u], slot[v]
    members[ku, su] = v
    members[kv, sv] = u
    slot[u], slot[v] = sv, su
    a[u], a[v] = kv, ku
    C[pu, b], C[pv, b] = kv, ku
    for s in range(size[ku]):
        x = members[ku, s]
        if x != v:
            _bump(pu, uq[x], -1, M, W, A, B, C, cap)
            _bump(pv, uq[x], 1, M, W, A, B, C, cap)
    for s in range(size[kv]):
        y = members[kv, s]
        if y != u:
            _bump(pv, uq[y], -1, M, W, A, B, C, cap)
            _bump(pu, uq[y], 1, M, W, A, B, C, cap)


@njit(cache=True)
def _tabu_kernel(a, best_a, uq, unit_block, block_units, members, size, slot, C, M, M0, W, A, B,
                 cap, tabu_until, state, iters, t_lo, t_hi, stall, strength, bump,
                 seed):  # pragma: no cover
    """``iters`` tabu iterations on swaps of conflicting units (compiled).

    ``A[i, k]`` (``B[i, k]``) is the weighted number of members of cohort k whom person i
    meets at least (more than) ``cap`` times, kept up to date by every swap, so a swap is
    priced in O(1): moving i from k to l changes the weighted repeats by
    ``A[i, l] - B[i, k]`` (less the pair that swaps). A swap is tabu on its (week,
    person, person) triple; a tabu swap is taken only if it beats the best repeat count
    (aspiration). With ``bump``, the weights ``W`` of pairs still repeated grow at each
    local minimum (breakout). ``state`` = [iteration, excess, best excess, last
    improvement, perturbations]. After ``stall`` iterations without a new best, the search
    goes back to the best assignment and makes ``strength`` (plus a cycling extra) random
    swaps in one week.
    """
    np.random.seed(seed)  # noqa: NPY002 (numba: legacy API only)
    U = a.shape[0]
    n_blocks = block_units.shape[0] - 1
    cl = np.empty(U, np.int64)
    it, excess, best, last, n_pert = state[0], state[1], state[2], state[3], state[4]
    for _ in range(iters):
        if best == 0:
            break
        it += 1
        nc = 0
        for u in range(U):
            if B[uq[u], a[u]] > 0:
                cl[nc] = u
                nc += 1
        if nc == 0:  # only history is over the cap: nothing a swap can fix
            break
        best_d = 1 << 62
        bu, bv, ties = -1, -1, 0
        for i in range(nc):
            u = cl[i]
            ku = a[u]
            pu = uq[u]
            b = unit_block[u]
            bku = B[pu, ku]
            for v in range(block_units[b], block_units[b + 1]):
                kv = a[v]
                if kv == ku:
                    continue
                pv = uq[v]
                bkv = B[pv, kv]
                if bkv > 0 and v < u:  # both in conflict: each pair once
                    continue
                both = 2 * W[pu, pv] if M[pu, pv] >= cap else 0
                d = A[pu, kv] + A[pv, ku] - both - bku - bkv
                if d > best_d:
                    continue
                if tabu_until[b, pu, pv] > it:
                    if excess + _delta(u, v, a, uq, members, size, M, cap) >= best:
                        continue
                if d < best_d:
                    best_d, bu, bv, ties = d, u, v, 1
                else:
                    ties += 1
                    if np.random.randint(ties) == 0:  # noqa: NPY002 (numba: legacy API)
                        bu, bv = u, v
        if bump and best_d >= 0:  # a local minimum: weigh the meetings still repeated
            for i in range(nc):
                u = cl[i]
                k = a[u]
                pu = uq[u]
                for s in range(size[k]):
                    px = uq[members[k, s]]
                    if px > pu and M[pu, px] > cap:
                        _weigh(pu, px, M, W, A, B, C, cap)
        if bu >= 0:
            true_d = _delta(bu, bv, a, uq, members, size, M, cap)
            t = it + np.random.randint(t_lo, t_hi + 1)  # noqa: NPY002 (numba: legacy API)
            b = unit_block[bu]
            tabu_until[b, uq[bu], uq[bv]] = t
            tabu_until[b, uq[bv], uq[bu]] = t
            _swap(bu, bv, a, uq, unit_block, members, size, slot, C, M, W, A, B, cap)
            excess += true_d
            if excess < best:
                best, last, n_pert = excess, it, 0
                best_a[:] = a
                continue
        if it - last > stall:  # stalled: back to the best, shaken in one week
            n_pert += 1
            last = it
            excess = _load(best_a, a, uq, unit_block, members, size, slot, C, M, M0, W, A, B, cap)
            tabu_until[:, :, :] = 0
            b = np.random.randint(n_blocks)  # noqa: NPY002
            lo, hi = block_units[b], block_units[b + 1]
            for _s in range(strength + n_pert % (2 * strength + 1)):
                u = np.random.randint(lo, hi)  # noqa: NPY002
                v = np.random.randint(lo, hi)  # noqa: NPY002
                if a[u] != a[v]:
                    excess += _delta(u, v, a, uq, members, size, M, cap)
                    _swap(u, v, a, uq, unit_block, members, size, slot, C, M, W, A, B, cap)
    state[0], state[1], state[2], state[3], state[4] = it, excess, best, last, n_pert


def restarting_search(
    problem: CompiledProblem, assignment: np.ndarray, *, budget: Budget, rng: np.random.Generator,
    first: int = 20_000, growth: float = 1.5,
) -> tuple[np.ndarray, int]:
    """The compiled tabu search in epochs, each new epoch from a fresh freedom start.

    The first epoch improves ``assignment`` for ``first`` iterations; while repeats remain
    and the budget lasts, the next epoch starts from a new :func:`freedom_start` and runs
    ``growth`` times as many iterations (it stops when only history is over the cap). The
    best assignment of all epochs is kept. Short
    epochs first, longer ones later: a start that leads nowhere is left early, and a
    request that needs a long search still gets one (Triska and Musliu pair their greedy
    start with restarts of the local search in the same way).

    Returns
    -------
    assignment : int64 array (U,)
    excess : int
        Its meetings beyond the cap.

    References
    ----------
    .. [1] M. Triska and N. Musliu, "An effective greedy heuristic for the Social Golfer
       Problem", Annals of Operations Research 194 (2012) 413-425.
       doi:10.1007/s10479-011-0866-7
    """
    p = problem
    best, best_excess = np.asarray(assignment, np.int64), excess_meetings(p, assignment)
    start, epoch = best, float(first)
    while best_excess > 0 and not budget.exhausted():
        found, fixable = _kernel_search(p, start, budget=budget, rng=rng, iterations=int(epoch))
        excess = excess_meetings(p, found)
        if excess < best_excess:
            best, best_excess = found, excess
        if not fixable:
            break
        start, epoch = freedom_start(p, rng), epoch * growth
    return best, best_excess


def _kernel_search(
    problem: CompiledProblem, assignment: np.ndarray, *, budget: Budget, rng: np.random.Generator,
    tenure: tuple[int, int] = (2, 20), stall: int = 300, strength: int = 2, chunk: int = 2000,
    weights: bool = True, iterations: int | None = None,
) -> tuple[np.ndarray, bool]:
    """Run :func:`_tabu_kernel` in chunks until no repeat is left, the budget ends or
    ``iterations`` (if given) have run; the best assignment, and False when no unit was left
    in conflict (only history is over the cap: nothing a swap can fix).

    Each iteration counts one unit of work. Tabu tenure on a swapped pair (in its week) is
    random in ``tenure`` (Dotu and Van Hentenryck use [4, 100]; [2, 20] did better here on
    8-4-9 and 6-4-6); ``stall`` iterations without a new best trigger a perturbation.
    With ``weights``, pairs still repeated at a local minimum weigh one more in the swap
    choice (a breakout scheme; in development runs it solved 10-4-10 where plain tabu left a
    repeat); the best assignment is kept by true repeat count.
    """
    p = problem
    S = _RepeatSearch(p, np.full(p.n_units, -1, dtype=np.int64))  # history only
    M0 = S.M.astype(np.int64)
    a = np.asarray(assignment, np.int64).copy()
    K = p.n_cohorts
    size = np.zeros(K, np.int64)
    width = int(np.bincount(a, minlength=K).max()) if K else 1
    members = np.full((K, width), -1, np.int64)
    slot = np.zeros(p.n_units, np.int64)
    C = np.full((S.Pq, p.n_blocks), -1, np.int64)
    M = M0.copy()
    W = np.ones_like(M)
    A = np.zeros((S.Pq, K), np.int64)
    B = np.zeros((S.Pq, K), np.int64)
    uq = S.uq.astype(np.int64)
    blocks = p.unit_block.astype(np.int64)
    cap = int(p.max_meetings)
    excess = _load(a, a, uq, blocks, members, size, slot, C, M, M0, W, A, B, cap)
    state = np.array([0, excess, excess, 0, 0], np.int64)
    best_a = a.copy()
    tabu_until = np.zeros((p.n_blocks, S.Pq, S.Pq), np.int64)
    block_units = p.block_units.astype(np.int64)
    if budget.work_limit is not None:  # a small work limit still runs its iterations
        chunk = max(1, min(chunk, budget.work_limit - budget.work))
    while state[2] > 0 and (iterations is None or state[0] < iterations) and budget.spend(chunk):
        before = state[0]
        _tabu_kernel(a, best_a, uq, blocks, block_units, members, size, slot, C, M, M0, W, A, B,
                     cap, tabu_until, state, chunk, tenure[0], tenure[1], stall, strength, weights,
                     int(rng.integers(2**31 - 1)))
        if state[0] == before:  # no conflicting unit left (only history is over the cap)
            return best_a, False
    return best_a, True


def _first_assignment(
    p: CompiledProblem, plain: bool, budget: Budget, rng: np.random.Generator, notes: list[str]
) -> np.ndarray:
    """The greedy start; when it fails (no proof), CP-SAT finds a plan keeping every rule but
    the meeting cap, or names the rules that conflict."""
    try:
        return freedom_start(p, rng) if plain else greedy_start(p, rng)
    except InfeasibleError:
        found = find_start(_relaxed(p), budget=budget, rng=rng)
        notes.append("golfer: the greedy start failed; another start was found")
        return found


def _plain(problem: CompiledProblem) -> bool:
    """Whether no rule but sizes and the meeting cap applies (the compiled search's case)."""
    return all(rule.name in ("sizes", "max_meetings") for rule in active(problem))


def _perturb(S: _RepeatSearch, rng: np.random.Generator, n: int) -> None:
    """Apply ``n`` random swaps that keep every rule but the meeting cap."""
    p = S.p
    done = 0
    for _ in range(20 * n):
        if done >= n:
            break
        u = int(rng.integers(p.n_units))
        b = p.unit_block[u]
        v = int(rng.integers(p.block_units[b], p.block_units[b + 1]))
        if S.a[u] == S.a[v] or not rule_swap_ok(S.rules, u, v, p.unit_team, S.a, S.team_counts):
            continue
        S.swap(u, v)
        done += 1
    S.excess = int(np.maximum(S.M - S.cap, 0).sum()) // 2


@dataclass(frozen=True)
class Built:
    """A plan from a construction: the assignment, the construction in words, and whether
    it keeps every rule as it is (else it is a start for the search to repair)."""

    assignment: np.ndarray
    description: str
    exact: bool


def construction_shape(problem: CompiledProblem) -> Shape | None:
    """The :class:`~cohortmatch.engines.designs.Shape` of a request to construct, or None.

    It fits one course of two or more rounds, every round with the same people in the
    same number g of cohorts, each allowing the sizes of the n people split as evenly as
    possible (``n // g`` and ``n // g + 1``), with ``max_meetings`` set. Team caps,
    managers apart and meeting history do not keep a construction out: its plan then
    serves as a start.

    Examples
    --------
    >>> from cohortmatch.compiled import compile_problem
    >>> from cohortmatch.model import Organisation, Person, Course, Policy
    >>> org = Organisation(people=[Person(id=f"p{i:02d}", team=f"t{i}") for i in range(51)])
    >>> prob = compile_problem(org, [Course(id="pairs", min_size=2, max_size=3, cohorts=25,
    ...                                     rounds=47)], Policy(max_meetings=1))
    >>> construction_shape(prob)
    Shape(people=51, groups=25, rounds=47)
    """
    p = problem
    B = p.n_blocks
    if p.max_meetings == NO_CAP or len(p.course_ids) != 1 or B < 2:
        return None
    n = int(p.block_units[1] - p.block_units[0])
    g = int(p.block_cohorts[1] - p.block_cohorts[0])
    if g < 1 or n < 2:
        return None
    people = p.unit_person[:n]
    same_rounds = (
        p.n_units == B * n
        and p.n_cohorts == B * g
        and np.array_equal(p.unit_person.reshape(B, n), np.broadcast_to(people, (B, n)))
    )
    shape = Shape(n, g, B)
    sizes = shape.sizes
    if not same_rounds or (p.cohort_min > sizes.min()).any() or (p.cohort_max < sizes.max()).any():
        return None
    return shape


def _violations(problem: CompiledProblem, assignment: np.ndarray) -> int:
    return check_assignment(problem, assignment).total + excess_meetings(problem, assignment)


def construction_start(
    problem: CompiledProblem, *, budget: Budget, rng: np.random.Generator, search: bool = True,
    labellings: int = 8, share: float = 0.25,
) -> Built | None:
    """A plan from the designs library (:func:`~cohortmatch.engines.designs.construct`), or None.

    The request must have a :func:`construction_shape`. The schedule holds for any order
    of the people, so people get the schedule's labels in random order; of ``labellings``
    orders (stopping at the first that breaks no rule) the one breaking the fewest team
    caps, manager rules and meetings (history included) is kept. It is ``exact`` when it
    breaks none; otherwise its broken team caps and manager rules are repaired by swaps and
    it is a start for the search. ``search=False`` leaves out the constructions that search
    (:func:`~cohortmatch.engines.designs.construct`); they spend at most ``share`` of the
    time and of the work left (their work counts in ``budget``).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i:02d}", team=f"t{i}") for i in range(32)])
    >>> prob = compile_problem(org, [Course(id="golf", min_size=4, max_size=4, rounds=9)],
    ...                        Policy(max_meetings=1))
    >>> built = construction_start(prob, budget=Budget(time_limit=None, work_limit=10_000),
    ...                            rng=np.random.default_rng(0))
    >>> built.description, built.exact, excess_meetings(prob, built.assignment)
    ('affine: 9 2-dim subspaces of GF(2)^5 meeting pairwise only in 0', True, 0)
    """
    p = problem
    shape = construction_shape(p)
    if shape is None:
        return None
    part = budget.share(share)
    schedule = construct(shape, budget=part, search=search, seed=rng)
    budget.spend(part.work)
    if schedule is None:
        return None
    first = p.block_cohorts[:-1, None]
    best, best_cost = None, 0
    for _ in range(labellings):
        label = rng.permutation(shape.people)  # the j-th person of a round is label[j]
        a = (first + schedule.groups[:, label]).ravel().astype(np.int64)
        cost = _violations(p, a)
        if best is None or cost < best_cost:
            best, best_cost = a, cost
        if cost == 0:
            break
    assert best is not None
    what = f"{schedule.construction}: {schedule.description}"
    if best_cost == 0:
        return Built(best, what, True)
    state = SearchState(_relaxed(p), best)
    if not repair(state, rng):
        return None
    return Built(state.assignment.copy(), what, False)


#: Rounds of the race between the search and the constructions that search: the k-th
#: round gives each ``WINDOW_SHARE * 2**k`` (at most ``WINDOW_MOST``) of what is left, at
#: most ``WINDOW_SECONDS * 2**k``.
WINDOW_ROUNDS = 8
WINDOW_SHARE = 0.05
WINDOW_MOST = 0.5
WINDOW_SECONDS = 0.25


def _constructed_or_searched(
    p: CompiledProblem, *, budget: Budget, rng: np.random.Generator
) -> tuple[np.ndarray, int, list[str]]:
    """Fewest repeats: constructions that do not search, then the search and the
    constructions that search in turns, then the search for the rest; the assignment, its
    excess and notes.

    The turns (:data:`WINDOW_ROUNDS`) double in length, so that a request the search
    solves at once (such as 10-10-3) does not wait for the constructions, and one a
    construction solves at once (such as 6-4-6, cyclic) waits for at most a short search.
    """
    built = construction_start(p, budget=budget, rng=rng, search=False)
    if built is not None and built.exact:
        return built.assignment, 0, [
            f"golfer: repeat-free schedule from a construction ({built.description})"]
    notes = [] if built is None else [
        f"golfer: search started from a construction ({built.description})"]
    first = built.assignment if built is not None else _first_assignment(
        p, _plain(p), budget, rng, notes)
    constructions = built is None  # a construction without search fitted: none searches
    for k in range(WINDOW_ROUNDS):
        share = min(WINDOW_SHARE * 2**k, WINDOW_MOST)
        turn = budget.share(share, seconds=WINDOW_SECONDS * 2**k)
        first, excess = minimise_repeats(p, first, budget=turn, rng=rng)
        budget.spend(turn.work)
        if excess == 0:
            return first, 0, notes
        if constructions:
            turn = budget.share(share, seconds=WINDOW_SECONDS * 2**k)
            searched = construction_start(p, budget=turn, rng=rng, share=1.0)
            budget.spend(turn.work)
            if searched is not None and searched.exact:
                return searched.assignment, 0, [
                    f"golfer: repeat-free schedule from a construction ({searched.description})"]
            constructions = turn.exhausted()  # gave up before its turn ended: none fits
    assignment, excess = minimise_repeats(p, first, budget=budget, rng=rng)
    return assignment, excess, notes


def solve_golfer(
    problem: CompiledProblem,
    *,
    budget: Budget,
    start: np.ndarray | None = None,
    target: float = float("inf"),
    rng: np.random.Generator,
    construction: bool = True,
) -> SolverResult:
    """Plan under ``max_meetings``: fewest repeated meetings first, then the most gap value.

    Parameters
    ----------
    problem : CompiledProblem
        With ``max_meetings`` set.
    budget : Budget
    start : int array (U,), optional
        An assignment to improve (it must keep the size, team-cap and manager rules).
    target : float
        A proven upper bound on gap value; reaching it stops the search.
    rng : numpy.random.Generator
    construction : bool
        Without ``start``, try :func:`construction_start` (constructions that do not
        search, a short search, then the constructions that search; False: the search alone,
        as ``benchmarks/sgp.py --no-construction`` measures it).

    Returns
    -------
    SolverResult
        Solver ``golfer``. With a soft cap the assignment may keep repeats (see
        :func:`excess_meetings`); a note says how many.

    Raises
    ------
    InfeasibleError
        With a hard cap, when the search ends with repeats left.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i:02d}", team=f"t{i}") for i in range(15)])
    >>> prob = compile_problem(org, [Course(id="kirkman", min_size=3, max_size=3, rounds=7)],
    ...                        Policy(max_meetings=1))
    >>> res = solve_golfer(prob, budget=Budget(time_limit=None, work_limit=200_000),
    ...                    rng=np.random.default_rng(1))
    >>> excess_meetings(prob, res.assignment)
    0
    """
    p = problem
    if p.max_meetings == NO_CAP:
        raise InputError("solve_golfer needs a problem with max_meetings set")
    if start is not None or not construction:
        notes: list[str] = []
        first = (np.asarray(start, np.int64) if start is not None
                 else _first_assignment(p, _plain(p), budget, rng, notes))
        assignment, excess = minimise_repeats(p, first, budget=budget, rng=rng)
    else:
        assignment, excess, notes = _constructed_or_searched(p, budget=budget, rng=rng)
    if excess:
        if not p.meetings_soft:
            raise InfeasibleError(
                [
                    f"no plan without repeated meetings was found in the time allowed "
                    f"({excess} meeting(s) beyond max_meetings {p.max_meetings} remain); "
                    "counting does not rule one out: give more time, or use "
                    "Policy(meetings='soft') to accept the fewest repeats found"
                ]
            )
        notes.append(f"{excess} meeting(s) beyond max_meetings could not be avoided")
    if not np.isfinite(target):
        target = upper_bound(p)
    state = SearchState(p, assignment)
    minimise_deviation(state, rng, budget)  # soft balance: after repeats, before gap value
    best = local_search(state, rng, budget, target=target)
    value = score(p, best).objective
    proved = excess == 0 and value >= target - 1e-9 * max(1.0, abs(target))
    status = "optimal" if proved else "feasible"
    return SolverResult(assignment=best, status=status, bound=target, solver="golfer", notes=notes)


class GolferEngine:
    """``solver="golfer"``: programmes under ``max_meetings`` (fewest repeats, then gap value)."""

    name = "golfer"

    def supports(self, problem: CompiledProblem) -> str | None:
        if problem.max_meetings == NO_CAP:
            return "it needs a policy with max_meetings (it plans meeting caps over rounds)"
        if problem.slotted:
            return "it cannot keep slots (its kernels do not check cohort times)"
        if (reason := search_cannot_keep(problem)) is not None:
            return reason
        return None

    def solve(
        self,
        problem: CompiledProblem,
        *,
        budget: Budget,
        rng: np.random.Generator,
        start: np.ndarray | None,
        target: float,
        workers: int | None,
        executor: Executor | None = None,
    ) -> SolverResult:
        return solve_golfer(problem, budget=budget, start=start, target=target, rng=rng)
