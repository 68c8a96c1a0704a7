"""Three-phase population search for ``sum``-mode problems on the incremental gain matrix.

The engine behind :func:`cohortmatch.group_by_pairs` (the maximally diverse grouping
problem, MDGP) and behind :func:`cohortmatch.plan` in ``sum`` mode (``solver="tabu"``, the
name it has kept). It follows TPSDP, the three-phase search with a dynamic population size
of Yang et al. (2022), the published state of the art for the MDGP, in its own
implementation: a population of local optima, each generation

1. *undirected perturbation*: every member takes ``theta * n / m`` random swaps (and, when
   group sizes may vary, moves) and descends again, kept whatever its value;
2. *crossover*: every member is crossed with another (groups inherited alternately from
   the two parents, best groups first, sizes repaired), the child descends and replaces
   the member when better, or when worse by less than it differs from it;
3. *directed perturbation*: every member has each group's least contributing element
   taken out and put back greedily, then descends;

with ``theta`` and the population size shrinking linearly over the budget.

The descent visits the elements in random order; each takes its best improving move,
then its best improving swap. Every gain is an O(1) lookup in the ``m x n`` matrix
``G[k, p]`` (value between element ``p`` and the members of group ``k``, first built by
:meth:`cohortmatch.scoring.SearchState.gain_matrix`):

.. math::

    \\Delta_{move}(p, k) = G_{k p} - G_{a_p p} \\qquad
    \\Delta_{swap}(p, q) = \\Delta_{move}(p, a_q) + \\Delta_{move}(q, a_p) - 2 V_{pq}

and each applied move updates two rows of ``G`` in O(n). The loops run compiled (numba).
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
from numba import njit

from ..compiled import CompiledProblem
from ..errors import InputError
from ..rules import active
from ..rules.kernel import kernel_rules
from ..scoring import SearchState, score
from .base import Budget, SolverResult
from .heuristic import find_start

__all__ = ["TabuEngine", "solve_tabu", "three_phase_search", "random_assignment", "most_pairs_sizes"]

EPS = 1e-9
_MEMBER_BYTES = 200e6  # memory for the population's gain matrices, all members together


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
        kmax = p.cohort_max[cs:ce].astype(np.int64)
        a[lo:hi] = cs + _block_labels(kmin, kmax, hi - lo, rng, most_pairs)
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
        raise InputError(f"group sizes within the bounds cannot add up to {total}")
    sizes = np.zeros(K, dtype=np.int64)
    t = total
    for g in range(K - 1, -1, -1):
        sizes[g] = choice[g, t]
        t -= int(sizes[g])
    return sizes


def _block_labels(
    kmin: np.ndarray, kmax: np.ndarray, n: int, rng: np.random.Generator, most_pairs: bool
) -> np.ndarray:
    """Random group labels ``0..m-1`` for ``n`` elements with every size within its bounds."""
    room = kmax - kmin
    if most_pairs:
        sizes = most_pairs_sizes(kmin, kmax, n)
    else:
        places = np.repeat(np.arange(kmin.shape[0]), room)
        chosen = rng.choice(places.shape[0], size=n - int(kmin.sum()), replace=False)
        sizes = kmin + np.bincount(places[chosen], minlength=kmin.shape[0])
    return rng.permutation(np.repeat(np.arange(kmin.shape[0]), sizes)).astype(np.int64)


def solve_tabu(
    problem: CompiledProblem,
    *,
    budget: Budget,
    start: np.ndarray | None = None,
    target: float = float("inf"),
    rng: np.random.Generator,
) -> SolverResult:
    """Three-phase population search over every block of a ``sum``-mode problem.

    Parameters
    ----------
    problem : CompiledProblem
        In ``sum`` mode (team gaps and/or person-level pair values).
    budget : Budget
        Shared by the blocks in proportion to their squared size (time and work alike).
    start : int array (U,), optional
        A valid assignment: the first member of each block's population (the others are
        random with valid sizes).
    target : float
        A proven upper bound: reaching it stops the search (status ``optimal``).
    rng : numpy.random.Generator

    Returns
    -------
    SolverResult
        The best assignment found (it keeps every hard rule).

    Raises
    ------
    InputError
        The problem has a rule the kernels do not keep (see :meth:`TabuEngine.supports`).
    """
    reason = TabuEngine().supports(problem)
    if reason is not None:
        raise InputError(f"The 'solver' 'tabu' cannot plan this request: {reason}.")
    if start is None:
        ruled = any(rule.name != "sizes" for rule in active(problem))
        start = (find_start(problem, budget=budget, rng=rng) if ruled
                 else random_assignment(problem, rng, most_pairs=True))
    state = SearchState(problem, start)
    n_b = np.diff(problem.block_units).astype(np.float64)
    share = n_b**2 / max(float((n_b**2).sum()), 1.0)
    for b in np.argsort(-n_b, kind="stable"):
        if budget.exhausted():
            break
        later = float(share[n_b <= n_b[b]].sum()) or 1.0
        part = float(share[b]) / later
        remaining = budget.remaining()
        limit = None if remaining == float("inf") else remaining * part
        work = None
        if budget.work_limit is not None:
            work = max(0, int((budget.work_limit - budget.work) * part))
        three_phase_search(state, int(b), rng, budget, time_limit=limit, work_limit=work,
                           target=target)
    value = score(problem, state.assignment).objective
    status = "optimal" if value >= target - 1e-9 * max(1.0, abs(target)) else "feasible"
    return SolverResult(
        assignment=state.assignment.copy(), status=status, bound=target, solver="tabu"
    )


class _BlockRules:
    """The rules the kernels keep inside one block, in block-local element indices.

    ``free[i]``: element ``i`` may move (not pinned, in no ``keep_together`` group);
    ``cptr``/``cidx``: elements each must not share a group with (``keep_apart``,
    managers); ``pins``: ``(element, label)`` of pinned elements. ``ruled`` is False when
    none of this applies (then the kernels skip every check).
    """

    def __init__(self, problem: CompiledProblem, lo: int, hi: int, cs: int):
        R = kernel_rules(problem)
        n = hi - lo
        self.free = (R.fixed[lo:hi] < 0) & (R.unit_group[lo:hi] < 0)
        ptr = R.conflict_indptr[lo : hi + 1]
        self.cptr = (ptr - ptr[0]).astype(np.int64)
        self.cidx = (R.conflict_units[ptr[0] : ptr[-1]] - lo).astype(np.int64)
        pinned = np.flatnonzero(R.fixed[lo:hi] >= 0)
        self.pins = (pinned, R.fixed[lo:hi][pinned] - cs)
        self.together = [R.group_units[R.group_indptr[g] : R.group_indptr[g + 1]] - lo
                         for g in np.unique(R.unit_group[lo:hi][R.unit_group[lo:hi] >= 0]).tolist()]
        self.ruled = bool((~self.free).any() or self.cidx.shape[0])
        self.n = n

    def keeps(self, labels: np.ndarray) -> bool:
        """Whether a labelling keeps pins, groups and apart pairs (e.g. a crossover child)."""
        if not self.ruled:
            return True
        if np.any(labels[self.pins[0]] != self.pins[1]):
            return False
        if any(np.unique(labels[g]).shape[0] > 1 for g in self.together):
            return False
        src = np.repeat(np.arange(self.n), np.diff(self.cptr))
        return not bool(np.any(labels[src] == labels[self.cidx]))

    def relabel(self, labels: np.ndarray, kmin: np.ndarray, kmax: np.ndarray) -> np.ndarray | None:
        """``labels`` with groups renamed so that pinned elements carry their labels (sizes
        kept within bounds), or None when no renaming does."""
        if not self.ruled or self.pins[0].shape[0] == 0:
            return labels
        K = kmin.shape[0]
        to = np.full(K, -1, np.int64)
        for e, want in zip(self.pins[0].tolist(), self.pins[1].tolist(), strict=True):
            have = int(labels[e])
            if to[have] >= 0 and to[have] != want:
                return None
            to[have] = want
        if np.unique(to[to >= 0]).shape[0] < int((to >= 0).sum()):
            return None
        rest = np.setdiff1d(np.arange(K), to[to >= 0])
        to[to < 0] = rest
        out = to[labels]
        size = np.bincount(out, minlength=K)
        return out if bool(np.all((size >= kmin) & (size <= kmax))) else None


class TabuEngine:
    """``solver="tabu"``: the pair-value engine (three-phase population search, ``sum`` mode).

    Its kernels keep cohort sizes, ``keep_apart`` (managers included), pinned places and
    ``keep_together`` groups (grouped and pinned people stay where the start put them);
    requests with ``max_per_team`` or a meeting cap go to the heuristic (``auto`` picks
    it), whose moves are checked against every rule.
    """

    name = "tabu"

    def supports(self, problem: CompiledProblem) -> str | None:
        if problem.mode != "sum":
            return f"it needs mode 'sum' (got {problem.mode!r})"
        kept = ("sizes", "keep_apart", "keep_together", "pinned")
        others = [rule.name for rule in active(problem) if rule.name not in kept]
        if others:
            return f"it cannot keep {others[0]} (its kernels keep cohort sizes only)"
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
        return solve_tabu(problem, budget=budget, start=start, target=target, rng=rng)


class _Clock:
    """One block's stopping rule and its schedule position (work share when a work limit is set)."""

    def __init__(self, budget: Budget, time_limit: float | None, work_limit: int | None):
        self.budget = budget
        self.t0 = budget.elapsed()
        self.w0 = budget.work
        self.time_limit = time_limit
        self.work_limit = work_limit

    def spend(self, work: int) -> bool:
        ok = self.budget.spend(int(work))
        if self.work_limit is not None and self.budget.work - self.w0 > self.work_limit:
            return False
        if self.time_limit is not None and self.budget.elapsed() - self.t0 >= self.time_limit:
            return False
        return ok

    def fraction(self) -> float:
        """How far the block's search is, in [0, 1]: by work when limited, else by time."""
        if self.work_limit is not None:
            return min(1.0, (self.budget.work - self.w0) / max(1, self.work_limit))
        if self.time_limit is not None and self.time_limit > 0:
            return min(1.0, (self.budget.elapsed() - self.t0) / self.time_limit)
        return 0.0


class _Member:
    """A population member: labels, group sizes, its gain matrix ``G[k, p]`` and value."""

    __slots__ = ("labels", "size", "G", "own", "value")

    def __init__(self, W: np.ndarray, labels: np.ndarray, K: int, G: np.ndarray | None = None):
        n = labels.shape[0]
        self.labels = np.array(labels, dtype=np.int64)  # a copy: callers reuse buffers
        self.size = np.bincount(self.labels, minlength=K).astype(np.int64)
        self.own = np.zeros(n)
        if G is None:
            self.G = np.zeros((K, n))
            _rebuild(W, self.G, self.own, self.labels)
        else:
            self.G = np.ascontiguousarray(G, dtype=np.float64)
            self.own[:] = self.G[self.labels, np.arange(n)]
        self.value = 0.5 * float(self.own.sum())


def three_phase_search(
    state: SearchState,
    block: int,
    rng: np.random.Generator,
    budget: Budget,
    *,
    time_limit: float | None = None,
    work_limit: int | None = None,
    target: float = float("inf"),
    population: int = 15,
    min_population: int = 2,
    theta: tuple[float, float] = (1.2, 0.1),
    directed_rounds: int = 3,
    move_share: float = 0.1,
    distance_weight: float = 0.05,
) -> float:
    """Improve the cohorts of one block in place; leaves ``state`` at the best assignment found.

    The population starts with ``state``'s assignment and ``population - 1`` random ones
    (valid sizes, the size profile with the most pairs), each taken to a local optimum.
    Each generation runs the three phases of the module description; the perturbation
    strength ``theta`` (random steps per group: ``theta * n / m`` in all) falls linearly
    from ``theta[0]`` to ``theta[1]`` and the population from ``population`` to
    ``min_population`` (the worst members leave) as the block's budget is spent: its
    ``work_limit`` when given (so a seeded run at a fixed work limit is reproducible),
    else its ``time_limit``. A random step is a move with probability ``move_share`` when
    group sizes may vary, else a swap. A worse child replaces its parent when
    ``child / parent + distance_weight * m * d > 1``, ``d`` being the share of element
    pairs the two group differently. Only cohort sizes are enforced here: the caller keeps
    problems with other rules away (see :class:`TabuEngine`).

    Work counted: one unit per evaluated move or swap, ``n^2`` per gain-matrix rebuild.

    Returns
    -------
    float
        The value of ``state`` on return.

    Examples
    --------
    >>> from cohortmatch.compiled import compile_grouping
    >>> V = np.array([[0, 9, 1, 1], [9, 0, 1, 1], [1, 1, 0, 9], [1, 1, 9, 0]], dtype=float)
    >>> state = SearchState(compile_grouping(V, [(2, 2), (2, 2)]), np.array([0, 1, 0, 1]))
    >>> budget = Budget(time_limit=None, work_limit=10_000)
    >>> three_phase_search(state, 0, np.random.default_rng(0), budget)
    18.0
    >>> state.assignment.tolist()
    [0, 0, 1, 1]
    """
    p = state.problem
    lo, hi = int(p.block_units[block]), int(p.block_units[block + 1])
    cs, ce = p.block_of_cohort_range(block)
    n, K = hi - lo, ce - cs
    if n < 2 or K < 2:
        return state.value
    clock = _Clock(budget, time_limit, work_limit)
    W = np.ascontiguousarray(state.pair_matrix(block), dtype=np.float64)
    kmin = p.cohort_min[cs:ce].astype(np.int64)
    kmax = p.cohort_max[cs:ce].astype(np.int64)
    moves_ok = bool(np.any(kmin != kmax))
    br = _BlockRules(p, lo, hi, cs)
    rules = (br.ruled, br.free, br.cptr, br.cidx)
    first = _Member(W, state.assignment[lo:hi] - cs, K, G=state.gain_matrix(block).T)
    offset = state.value - first.value  # the other blocks' value
    beta = int(np.clip(_MEMBER_BYTES // (8.0 * K * n), min_population, population))

    def seed() -> int:
        return int(rng.integers(2**31 - 1))

    pop: list[_Member] = []
    best_value, best_labels = first.value, first.labels.copy()
    stop = False

    def keep(m: _Member) -> None:
        nonlocal best_value, best_labels, stop
        if m.value > best_value + EPS:
            best_value, best_labels = m.value, m.labels.copy()
            budget.report(offset + best_value)
            if offset + best_value >= target - EPS:
                stop = True

    def descend(m: _Member) -> bool:
        gain, evals = _descent(W, m.G, m.own, m.labels, m.size, kmin, kmax, moves_ok, seed(), *rules)
        m.value += gain
        keep(m)
        return clock.spend(evals)

    for i in range(beta):
        if i == 0:
            m = first
        elif br.ruled:  # random labellings would break the rules: shake the start instead
            m = _Member(W, first.labels, K)
            m.value += _perturb(W, m.G, m.own, m.labels, m.size, kmin, kmax, n, moves_ok,
                                move_share, seed(), *rules)
        else:
            m = _Member(W, _block_labels(kmin, kmax, n, rng, True), K)
        pop.append(m)
        if stop or not descend(m) or not clock.spend(n * n):
            stop = True
            break
    while not stop:
        frac = clock.fraction()
        steps = max(1, int((theta[0] - (theta[0] - theta[1]) * frac) * n / K))
        # 1. undirected perturbation, kept whatever its value
        for m in pop:
            m.value += _perturb(W, m.G, m.own, m.labels, m.size, kmin, kmax, steps,
                                moves_ok, move_share, seed(), *rules)
            if stop or not descend(m):
                stop = True
                break
        # 2. crossover with another member
        if not stop and len(pop) > 1:
            child = np.empty(n, dtype=np.int64)
            for i in range(len(pop)):
                j = int(rng.integers(len(pop) - 1))
                j += j >= i
                _crossover(W, pop[i].labels, pop[j].labels, kmin, kmax, seed(), child)
                labels = br.relabel(child, kmin, kmax)
                if labels is None or not br.keeps(labels):
                    continue  # the child breaks a rule the parents keep
                c = _Member(W, labels, K)
                if not descend(c) or not clock.spend(3 * n * n) or stop:
                    stop = True
                    break
                parent = pop[i]
                if c.value >= parent.value or (
                    parent.value > 0
                    and c.value / parent.value
                    + distance_weight * K * _distance(c.labels, parent.labels) > 1.0
                ):
                    pop[i] = c
        # 3. directed perturbation
        if not stop:
            for m in pop:
                m.value += _directed(W, m.G, m.own, m.labels, m.size, directed_rounds, *rules)
                if stop or not descend(m):
                    stop = True
                    break
        size = int(round(beta - (beta - min_population) * clock.fraction()))
        if len(pop) > max(1, size):
            pop.sort(key=lambda m: -m.value)
            del pop[max(1, size):]
    a = state.assignment.copy()
    a[lo:hi] = cs + best_labels
    state.reset(a)
    return state.value


# ---------------------------------------------------------------- compiled kernels
# (numba; each takes the block's pair matrix W, a member's G[k, p], own[p] = G[a_p, p],
# labels and sizes, and updates them in place)


@njit(cache=True)
def _rebuild(W, G, own, al):  # pragma: no cover - compiled
    K, n = G.shape
    G[:, :] = 0.0
    for q in range(n):
        g = G[al[q]]
        Wq = W[q]
        for r in range(n):
            g[r] += Wq[r]
    for r in range(n):
        own[r] = G[al[r], r]


@njit(cache=True)
def _relocate(W, G, own, al, size, p, k2):  # pragma: no cover - compiled
    k1 = al[p]
    Wp = W[p]
    g1 = G[k1]
    g2 = G[k2]
    for r in range(al.shape[0]):
        w = Wp[r]
        g1[r] -= w
        g2[r] += w
        a = al[r]
        if a == k1:
            own[r] -= w
        elif a == k2:
            own[r] += w
    al[p] = k2
    own[p] = g2[p]
    size[k1] -= 1
    size[k2] += 1


@njit(cache=True)
def _clear(e, k, skip, al, cptr, cidx):  # pragma: no cover - compiled
    """Whether no element that must be apart from ``e`` (other than ``skip``) is in group ``k``."""
    for i in range(cptr[e], cptr[e + 1]):
        c = cidx[i]
        if c != skip and al[c] == k:
            return False
    return True


@njit(cache=True)
def _swap_ok(p, q, al, free, cptr, cidx):  # pragma: no cover - compiled
    """Whether elements ``p`` and ``q`` may exchange groups under the block's rules."""
    return (free[p] and free[q] and _clear(p, al[q], q, al, cptr, cidx)
            and _clear(q, al[p], p, al, cptr, cidx))


@njit(cache=True, fastmath=True)
def _best_partner(rowp, al, gap, own, Wp, p, ruled, free, cptr, cidx):  # pragma: no cover - compiled
    best, bq = -1e300, 0
    for q in range(al.shape[0]):
        d = rowp[al[q]] + gap[q] - own[q] - 2.0 * Wp[q]
        if d > best and (not ruled or _swap_ok(p, q, al, free, cptr, cidx)):
            best, bq = d, q
    return bq, best


@njit(cache=True)
def _descent(W, G, own, al, size, kmin, kmax, moves_ok, seed, ruled, free, cptr, cidx):  # pragma: no cover
    # elements in random order; each takes its best improving move, then its best
    # improving swap; until a whole pass improves nothing. Returns (gain, evaluations).
    np.random.seed(seed)  # noqa: NPY002 (numba: legacy API only)
    K, n = G.shape
    order = np.arange(n)
    rowp = np.empty(K)
    gain = 0.0
    evals = 0
    improved = True
    while improved:
        improved = False
        np.random.shuffle(order)  # noqa: NPY002
        for idx in range(n):
            p = order[idx]
            ap = al[p]
            if ruled and not free[p]:
                continue
            if moves_ok and size[ap] > kmin[ap]:
                bd, bk = 1e-9, -1
                for k in range(K):
                    if k != ap and size[k] < kmax[k] and (not ruled or _clear(p, k, -1, al, cptr, cidx)):
                        d = G[k, p] - own[p]
                        if d > bd:
                            bd, bk = d, k
                evals += K
                if bk >= 0:
                    _relocate(W, G, own, al, size, p, bk)
                    gain += bd
                    improved = True
                    ap = bk
            op = own[p]
            for k in range(K):
                rowp[k] = G[k, p] - op
            rowp[ap] = -1e300
            q, d = _best_partner(rowp, al, G[ap], own, W[p], p, ruled, free, cptr, cidx)
            evals += n
            if d > 1e-9:
                aq = al[q]
                _relocate(W, G, own, al, size, p, aq)
                _relocate(W, G, own, al, size, q, ap)
                gain += d
                improved = True
    return gain, evals


@njit(cache=True)
def _perturb(W, G, own, al, size, kmin, kmax, steps, moves_ok, move_share,
             seed, ruled, free, cptr, cidx):  # pragma: no cover - compiled
    # `steps` random swaps (or feasible moves, with probability move_share); returns the gain
    np.random.seed(seed)  # noqa: NPY002
    n = al.shape[0]
    gain = 0.0
    done = 0
    for _ in range(50 * steps):
        if done >= steps:
            break
        p = np.random.randint(n)  # noqa: NPY002
        q = np.random.randint(n)  # noqa: NPY002
        kp, kq = al[p], al[q]
        if kp == kq:
            continue
        if moves_ok and np.random.random() < move_share:  # noqa: NPY002
            if size[kp] > kmin[kp] and size[kq] < kmax[kq] and (
                not ruled or (free[p] and _clear(p, kq, -1, al, cptr, cidx))
            ):
                gain += G[kq, p] - own[p]
                _relocate(W, G, own, al, size, p, kq)
                done += 1
            continue
        if ruled and not _swap_ok(p, q, al, free, cptr, cidx):
            continue
        gain += G[kq, p] - own[p] + G[kp, q] - own[q] - 2.0 * W[p, q]
        _relocate(W, G, own, al, size, p, kq)
        _relocate(W, G, own, al, size, q, kp)
        done += 1
    return gain


@njit(cache=True)
def _directed(W, G, own, al, size, rounds, ruled, free, cptr, cidx):  # pragma: no cover - compiled
    # each round: every non-empty group gives up its least contributing element (that may
    # move); these go back one per group (sizes unchanged), greedily by value to the groups'
    # other members, never next to someone they must be apart from
    K, n = G.shape
    R = np.empty(K, dtype=np.int64)
    gain = 0.0
    for _ in range(rounds):
        R[:] = -1
        for p in range(n):
            k = al[p]
            if ruled and not free[p]:
                continue
            if R[k] < 0 or own[p] < own[R[k]]:
                R[k] = p
        m = 0
        for k in range(K):
            if R[k] >= 0:
                R[m] = R[k]
                m += 1
        c = np.empty((m, m))  # c[i, j]: value of R[i] to group al[R[j]] without R[j]
        for i in range(m):
            for j in range(m):
                c[i, j] = G[al[R[j]], R[i]] - W[R[i], R[j]]
                if ruled and not _clear(R[i], al[R[j]], R[j], al, cptr, cidx):
                    c[i, j] = -1e300
        placed = np.zeros(m, dtype=np.bool_)
        open_ = np.ones(m, dtype=np.bool_)
        target = np.empty(m, dtype=np.int64)
        stuck = False
        for _t in range(m):
            bv, bi, bj = -1e300, -1, -1
            for i in range(m):
                if not placed[i]:
                    for j in range(m):
                        if open_[j] and c[i, j] > bv:
                            bv, bi, bj = c[i, j], i, j
            if bi < 0:  # what is left cannot be placed within the rules: keep this round out
                stuck = True
                break
            placed[bi] = True
            open_[bj] = False
            target[bi] = al[R[bj]]
            for i in range(m):
                if not placed[i] and c[i, bj] > -1e300:
                    c[i, bj] += W[R[i], R[bi]]
        if stuck:
            continue
        for i in range(m):
            r = R[i]
            if target[i] != al[r]:
                gain += G[target[i], r] - own[r]
                _relocate(W, G, own, al, size, r, target[i])
    return gain


@njit(cache=True)
def _crossover(W, a1, a2, kmin, kmax, seed, child):  # pragma: no cover - compiled
    # groups inherited alternately from the two parents, each time the parent's group with
    # the highest value per member among its elements not yet placed; it keeps its label
    # when free, else takes the free label whose size bounds fit it best; then the
    # elements left go to groups below their minimum, then anywhere with room
    np.random.seed(seed)  # noqa: NPY002
    n = a1.shape[0]
    K = kmin.shape[0]
    child[:] = -1
    used = np.zeros((2, K), dtype=np.bool_)
    label_free = np.ones(K, dtype=np.bool_)
    size = np.zeros(K, dtype=np.int64)
    members = np.empty(n, dtype=np.int64)
    for t in range(K):
        side = t % 2
        par = a1 if side == 0 else a2
        best_v, best_k = -1e300, -1
        for k in range(K):
            if used[side, k]:
                continue
            c = 0
            for r in range(n):
                if par[r] == k and child[r] < 0:
                    members[c] = r
                    c += 1
            v = 0.0
            for i in range(c):
                Wi = W[members[i]]
                for j in range(i + 1, c):
                    v += Wi[members[j]]
            v = v / max(c, 1)
            if v > best_v:
                best_v, best_k = v, k
        used[side, best_k] = True
        c = 0
        for r in range(n):
            if par[r] == best_k and child[r] < 0:
                members[c] = r
                c += 1
        lab = best_k
        if not label_free[lab]:
            bv, ties = 1 << 60, 0
            for k in range(K):
                if label_free[k]:
                    viol = max(0, c - kmax[k]) + max(0, kmin[k] - c)
                    if viol < bv:
                        bv, lab, ties = viol, k, 1
                    elif viol == bv:
                        ties += 1
                        if np.random.randint(ties) == 0:  # noqa: NPY002
                            lab = k
        label_free[lab] = False
        for i in range(c):  # a random subset when the group is too big for its label
            j = i + np.random.randint(c - i)  # noqa: NPY002
            members[i], members[j] = members[j], members[i]
        take = min(c, kmax[lab])
        for i in range(take):
            child[members[i]] = lab
        size[lab] = take
    c = 0
    for r in range(n):
        if child[r] < 0:
            members[c] = r
            c += 1
    for i in range(c):
        j = i + np.random.randint(c - i)  # noqa: NPY002
        members[i], members[j] = members[j], members[i]
    i = 0
    for k in range(K):
        while size[k] < kmin[k] and i < c:
            child[members[i]] = k
            size[k] += 1
            i += 1
    while i < c:
        k = np.random.randint(K)  # noqa: NPY002
        if size[k] < kmax[k]:
            child[members[i]] = k
            size[k] += 1
            i += 1
    for k in range(K):  # repair: take from groups above their minimum
        while size[k] < kmin[k]:
            start = np.random.randint(n)  # noqa: NPY002
            for j in range(n):
                r = (start + j) % n
                k2 = child[r]
                if k2 != k and size[k2] > kmin[k2]:
                    child[r] = k
                    size[k2] -= 1
                    size[k] += 1
                    break


@njit(cache=True)
def _distance(a1, a2):  # pragma: no cover - compiled
    # share of element pairs together in one partition and apart in the other
    n = a1.shape[0]
    d = 0
    for i in range(n):
        for j in range(i + 1, n):
            if (a1[i] == a1[j]) != (a2[i] == a2[j]):
                d += 1
    return d / max(1, n * (n - 1) // 2)
