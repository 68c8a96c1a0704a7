"""Iterated tabu search for ``sum``-mode problems on the incremental gain matrix.

The engine behind :func:`cohortmatch.group_by_pairs` (the maximally diverse grouping
problem, MDGP) and behind :func:`cohortmatch.plan` in ``sum`` mode. It follows the
published state of the art for the MDGP: a best-improvement tabu search over the union
of the *move* and *swap* neighbourhoods (as in the solution-based and attribute-based
tabu searches of Gallego et al. and Lai & Hao), iterated with perturbations of the best
solution (as in iterated maxima search / TPSDP's undirected perturbation).

Every neighbourhood is evaluated at once from the ``n x m`` matrix
``G[p, k]`` (value between element ``p`` and the members of group ``k``, kept by
:meth:`cohortmatch.scoring.SearchState.gain_matrix`):

.. math::

    \\Delta_{move}(p, k) = G_{pk} - G_{p a_p} \\qquad
    \\Delta_{swap}(p, q) = \\Delta_{move}(p, a_q) + \\Delta_{move}(q, a_p) - 2 V_{pq}

so one iteration is a handful of ``n x n`` array operations and no Python loop over
elements or pairs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..compiled import NO_CAP, CompiledProblem
from ..scoring import SearchState, score
from .base import Budget, SolverResult

__all__ = ["solve_tabu", "tabu_search", "random_assignment", "most_pairs_sizes"]

EPS = 1e-9
_BIG = 1e18


def random_assignment(
    problem: CompiledProblem, rng: np.random.Generator, *, most_pairs: bool = False
) -> np.ndarray:
    """A uniformly shuffled assignment with every cohort size within its bounds.

    Each block's cohorts first get their minimum size; the rest of the block's units
    go to randomly chosen free places, or, with ``most_pairs``, to the size profile
    with the most co-member pairs (:func:`most_pairs_sizes`). Hard rules other than
    sizes are not checked.

    Examples
    --------
    >>> from cohortmatch.compiled import compile_grouping
    >>> prob = compile_grouping(np.zeros((7, 7)), [(1, 2), (3, 3), (2, 4)])
    >>> a = random_assignment(prob, np.random.default_rng(0))
    >>> sizes = np.bincount(a, minlength=3)
    >>> bool(np.all((sizes >= [1, 3, 2]) & (sizes <= [2, 3, 4])))
    True
    """
    p = problem
    a = np.full(p.n_units, -1, dtype=np.int64)
    for b in range(p.n_blocks):
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        cs, ce = p.block_of_cohort_range(b)
        kmin = p.cohort_min[cs:ce].astype(np.int64)
        room = p.cohort_max[cs:ce].astype(np.int64) - kmin
        extra = (hi - lo) - int(kmin.sum())
        if most_pairs:
            sizes = most_pairs_sizes(kmin, kmin + room, hi - lo)
        else:
            places = np.repeat(np.arange(ce - cs), room)
            chosen = rng.choice(places.shape[0], size=extra, replace=False)
            sizes = kmin + np.bincount(places[chosen], minlength=ce - cs)
        a[lo:hi] = cs + rng.permutation(np.repeat(np.arange(ce - cs), sizes))
    return a


def most_pairs_sizes(lo: np.ndarray, hi: np.ndarray, total: int) -> np.ndarray:
    """Group sizes within ``[lo, hi]`` adding up to ``total`` with the most pairs.

    Maximises :math:`\\sum_g s_g (s_g - 1) / 2` by dynamic programming over the groups
    (vectorised over the running total). With non-negative pair values of similar
    mean, more pairs means more value: on MDGPLIB's size-range (``ds``) instances the
    best solutions found have such extreme profiles (groups at their min or max).

    Examples
    --------
    >>> most_pairs_sizes(np.array([2, 2, 2]), np.array([4, 3, 4]), 9).tolist()
    [4, 3, 2]
    """
    K = lo.shape[0]
    f = np.full(total + 1, -np.inf)
    f[0] = 0.0
    choice = np.zeros((K, total + 1), dtype=np.int64)
    for g in range(K):
        new = np.full(total + 1, -np.inf)
        for s in range(int(lo[g]), int(hi[g]) + 1):
            if s > total:
                break
            cand = np.full(total + 1, -np.inf)
            cand[s:] = f[: total + 1 - s] + s * (s - 1) / 2
            better = cand > new
            new[better] = cand[better]
            choice[g, better] = s
        f = new
    if not np.isfinite(f[total]):
        raise ValueError("the size bounds cannot add up to the total")
    sizes = np.zeros(K, dtype=np.int64)
    t = total
    for g in range(K - 1, -1, -1):
        sizes[g] = choice[g, t]
        t -= int(sizes[g])
    return sizes


def solve_tabu(
    problem: CompiledProblem,
    *,
    budget: Budget,
    start: np.ndarray | None = None,
    target: float = float("inf"),
    rng: np.random.Generator,
) -> SolverResult:
    """Iterated tabu search over every block of a ``sum``-mode problem.

    Parameters
    ----------
    problem : CompiledProblem
        In ``sum`` mode (team gaps and/or person-level pair values).
    budget : Budget
        Shared by the blocks in proportion to their squared size.
    start : int array (U,), optional
        A valid assignment to start from, else a random one with valid sizes.
    target : float
        A proven upper bound: reaching it stops the search (status ``optimal``).
    rng : numpy.random.Generator

    Returns
    -------
    SolverResult
        The best assignment found (it keeps every hard rule).

    Notes
    -----
    The tabu kernel enforces cohort sizes only; a problem with ``max_per_team`` or
    manager/report separation that applies is handed to
    :func:`~cohortmatch.solvers.heuristic.solve_heuristic` (same scoring core, moves
    checked against every rule).
    """
    if _needs_rules(problem):
        from .heuristic import solve_heuristic

        return solve_heuristic(problem, budget=budget, start=start, target=target, rng=rng)
    if start is None:
        start = random_assignment(problem, rng, most_pairs=True)
    state = SearchState(problem, start)
    n_b = np.diff(problem.block_units).astype(np.float64)
    share = n_b**2 / max(float((n_b**2).sum()), 1.0)
    for b in np.argsort(-n_b, kind="stable"):
        if budget.exhausted():
            break
        remaining = budget.remaining()
        later = float(share[n_b <= n_b[b]].sum()) or 1.0
        limit = None if remaining == float("inf") else remaining * float(share[b]) / later
        tabu_search(state, int(b), rng, budget, time_limit=limit, target=target)
    value = score(problem, state.assignment).objective
    status = "optimal" if value >= target - 1e-9 * max(1.0, abs(target)) else "feasible"
    return SolverResult(
        assignment=state.assignment.copy(), status=status, bound=target, solver="tabu"
    )


def _needs_rules(problem: CompiledProblem) -> bool:
    return problem.max_per_team != NO_CAP or problem.conflict_units.shape[0] > 0


def tabu_search(
    state: SearchState,
    block: int,
    rng: np.random.Generator,
    budget: Budget,
    *,
    time_limit: float | None = None,
    target: float = float("inf"),
    tenure: tuple[float, float] = (0.05, 0.15),
    depth: int | None = None,
    strength: float = 0.05,
    move_share: float = 0.5,
    chunk: int = 256,
) -> float:
    """Improve the cohorts of one block in place; leaves ``state`` at the best assignment found.

    Each iteration applies the best admissible move or swap (by the gain matrix), even
    when it loses value; a unit that leaves a cohort may not return to it for a random
    tenure of ``tenure`` x (block size) iterations unless that reaches a new best
    (aspiration). After ``depth`` iterations without a new best of the current tabu run,
    the search restarts from the best assignment, perturbed by ``strength`` x (block
    size) random steps, each a random feasible move with probability ``move_share``
    (when group sizes may vary) and else a random swap. Only cohort sizes are enforced
    here: the caller keeps problems with team caps or manager conflicts away (see
    :func:`solve_tabu`).

    The iterations run in a compiled kernel (numba) in chunks of ``chunk``; between
    chunks the budget is checked. Each iteration spends ``n`` units of work.

    Returns
    -------
    float
        The value of ``state`` on return.
    """
    p = state.problem
    lo, hi = int(p.block_units[block]), int(p.block_units[block + 1])
    cs, ce = p.block_of_cohort_range(block)
    n, K = hi - lo, ce - cs
    if n < 2 or K < 2:
        return state.value
    start_time = budget.elapsed()
    W = np.ascontiguousarray(state.pair_matrix(block), dtype=np.float64)
    G = state.gain_matrix(block)
    al = state.assignment[lo:hi] - cs
    size = state.size[cs:ce].astype(np.int64)
    kmin = p.cohort_min[cs:ce].astype(np.int64)
    kmax = p.cohort_max[cs:ce].astype(np.int64)
    t_lo = max(2, int(tenure[0] * n))
    t_hi = max(t_lo + 1, int(tenure[1] * n))
    depth = depth if depth is not None else max(200, 2 * n)
    n_perturb = max(2, int(strength * n))
    tabu_until = np.zeros((n, K), dtype=np.int64)
    best_al = al.copy()
    fstate = np.array([state.value, state.value, state.value])  # value, best, run best
    istate = np.zeros(2, dtype=np.int64)  # iteration, iterations since the run's best
    moves_possible = bool(np.any(kmin != kmax))
    while fstate[1] < target - EPS:
        if time_limit is not None and budget.elapsed() - start_time >= time_limit:
            break
        if not budget.spend(n * chunk):
            break
        seed = int(rng.integers(2**31 - 1))
        before = fstate[1]
        _kernel(W, G, al, size, kmin, kmax, tabu_until, best_al, fstate, istate,
                chunk, t_lo, t_hi, depth, n_perturb, moves_possible, move_share, target, seed)
        if fstate[1] > before:
            budget.report(fstate[1])
    a = state.assignment.copy()
    a[lo:hi] = cs + best_al
    state.reset(a)
    return state.value


@njit(cache=True)
def _rebuild(W, G, al):  # pragma: no cover - compiled
    n, K = G.shape
    for p in range(n):
        for k in range(K):
            G[p, k] = 0.0
        for q in range(n):
            G[p, al[q]] += W[p, q]


@njit(cache=True)
def _relocate(W, G, al, size, p, k2):  # pragma: no cover - compiled
    k1 = al[p]
    n = G.shape[0]
    for r in range(n):
        w = W[r, p]
        G[r, k1] -= w
        G[r, k2] += w
    size[k1] -= 1
    size[k2] += 1
    al[p] = k2


@njit(cache=True)
def _kernel(W, G, al, size, kmin, kmax, tabu_until, best_al, fstate, istate,
            iters, t_lo, t_hi, depth, n_perturb, moves_possible, move_share, target,
            seed):  # pragma: no cover
    np.random.seed(seed)  # noqa: NPY002 (numba: legacy API only)
    n, K = G.shape
    value, best, run_best = fstate[0], fstate[1], fstate[2]
    it, since = istate[0], istate[1]
    own = np.empty(n)
    for _ in range(iters):
        if best >= target - 1e-9:
            break
        it += 1
        aspire = best - value + 1e-9
        for p in range(n):
            own[p] = G[p, al[p]]
        best_gain = -np.inf
        bp, bq, bk = -1, -1, -1
        for p in range(n):
            ap = al[p]
            gp = own[p]
            Gp = G[p]
            Wp = W[p]
            if moves_possible and size[ap] > kmin[ap]:
                for k in range(K):
                    if k == ap or size[k] >= kmax[k]:
                        continue
                    d = Gp[k] - gp
                    if d > best_gain and (tabu_until[p, k] <= it or d > aspire):
                        best_gain, bp, bq, bk = d, p, -1, k
            for q in range(p + 1, n):
                aq = al[q]
                if aq == ap:
                    continue
                d = Gp[aq] - gp + G[q, ap] - own[q] - 2.0 * Wp[q]
                if d > best_gain:
                    if (tabu_until[p, aq] > it or tabu_until[q, ap] > it) and d <= aspire:
                        continue
                    best_gain, bp, bq, bk = d, p, q, aq
        if bp < 0:
            break
        t = np.random.randint(t_lo, t_hi)  # noqa: NPY002
        if bq < 0:
            tabu_until[bp, al[bp]] = it + t
            _relocate(W, G, al, size, bp, bk)
        else:
            kp, kq = al[bp], al[bq]
            tabu_until[bp, kp] = it + t
            tabu_until[bq, kq] = it + np.random.randint(t_lo, t_hi)  # noqa: NPY002
            _relocate(W, G, al, size, bp, kq)
            _relocate(W, G, al, size, bq, kp)
        value += best_gain
        since += 1
        if value > run_best + 1e-9:
            run_best = value
            since = 0
            if value > best + 1e-9:
                best = value
                best_al[:] = al
        if since >= depth:
            # restart from the best assignment, perturbed by random swaps
            al[:] = best_al
            for k in range(K):
                size[k] = 0
            for p in range(n):
                size[al[p]] += 1
            _rebuild(W, G, al)
            value = best
            done = 0
            for _ in range(20 * n_perturb):
                if done >= n_perturb:
                    break
                p = np.random.randint(n)  # noqa: NPY002
                q = np.random.randint(n)  # noqa: NPY002
                kp, kq = al[p], al[q]
                if kp == kq:
                    continue
                if moves_possible and np.random.random() < move_share:  # noqa: NPY002
                    # a random move changes the size profile (size-range instances)
                    if size[kp] > kmin[kp] and size[kq] < kmax[kq]:
                        value += G[p, kq] - G[p, kp]
                        _relocate(W, G, al, size, p, kq)
                        done += 1
                    continue
                value += G[p, kq] - G[p, kp] + G[q, kp] - G[q, kq] - 2.0 * W[p, q]
                _relocate(W, G, al, size, p, kq)
                _relocate(W, G, al, size, q, kp)
                done += 1
            tabu_until[:, :] = 0
            run_best = value
            since = 0
    fstate[0], fstate[1], fstate[2] = value, best, run_best
    istate[0], istate[1] = it, since
