"""Schedules developed from base rounds under a cyclic group, found by a compiled tabu search.

Label the people ``(x, l)`` with x in Z_n and ``l`` one of L *levels*, plus f *fixed*
people ``inf_0, ..., inf_{f-1}``, so ``people = n L + f``. Adding ``s`` to every x (fixed
people stay) maps a round to another round; a *base round* and its n translates make n
rounds. Two people meet in the translates of a base round once for every pair of that
round in their *orbit*, the class of pairs ``{(x, l), (y, m)}`` with the same levels and
the same difference ``y - x`` (up to sign within a level), or ``{inf_a, (x, l)}`` with the
same a and l. So c base rounds give ``c n`` rounds in which no pair meets twice exactly
when no orbit is used twice, no round joins two fixed people, and no pair of a level
differs by ``n / 2`` (such a pair is its own translate). This is the *method of
differences* of design theory; it finds, in a fraction of a second, for example the
resolvable (28, 4, 1) design (7-4-9) under Z_9 with 3 levels and 1 fixed person, a
Kirkman triple system on 21 people (7-3-10) from 2 base rounds under Z_5, 6-5-6 under
Z_6, and 51 people in pairs and one triple over 47 rounds under Z_47 with 4 fixed people.

The base rounds are found by tabu search on swaps of two people between groups of one
base round, minimising the orbits used more than once (a forbidden pair counts 1000),
with the (round, person, person) swap tabu for a few iterations, aspiration, and random
swaps after a stall. Every base round costs O(people x group size) to price all swaps of
one person. Which ``(n, L, f, c)`` to try is chosen by counting orbits (a base round
cannot use more orbits than exist).

References
----------
.. [1] R. C. Bose, "On the construction of balanced incomplete block designs", Annals of
   Eugenics 9 (1939) 353-399. doi:10.1111/j.1469-1809.1939.tb02219.x
.. [2] I. Dotu and P. Van Hentenryck, "Scheduling social golfers locally", CPAIOR 2005,
   LNCS 3524, pp. 155-167. doi:10.1007/11493853_13
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ...params import as_generator
from ..base import Budget
from .schedule import Schedule, Shape

__all__ = ["Cyclic", "cyclic_configurations", "cyclic_fits", "cyclic_schedule", "orbit_table"]

#: Largest number of people the search is tried for (its orbit table is people x people).
MAX_PEOPLE = 400
#: Configurations tried per request, best first.
MAX_CONFIGURATIONS = 6
#: Cost of a forbidden pair (two fixed people, or a level pair differing by n / 2).
FORBIDDEN = 1000


@dataclass(frozen=True)
class Cyclic:
    """A configuration: Z_``order``, ``levels`` levels, ``fixed`` fixed people, ``bases`` base rounds.

    Examples
    --------
    >>> Cyclic(9, 3, 1, 1).people, str(Cyclic(9, 3, 1, 1))
    (28, 'Z_9 x 3 levels + 1 fixed, 1 base round')
    """

    order: int
    levels: int
    fixed: int
    bases: int

    @property
    def people(self) -> int:
        return self.order * self.levels + self.fixed

    def __str__(self) -> str:
        rounds = "round" if self.bases == 1 else "rounds"
        return (f"Z_{self.order} x {self.levels} levels + {self.fixed} fixed, "
                f"{self.bases} base {rounds}")


def orbit_table(config: Cyclic) -> tuple[np.ndarray, int]:
    """The orbit of every pair of people: int64 array (people, people) and the number of orbits.

    Forbidden pairs (two fixed people, a level pair differing by n / 2, a person with
    themself) get the code equal to the number of orbits.

    Examples
    --------
    >>> T, n_orbits = orbit_table(Cyclic(5, 1, 0, 1))
    >>> n_orbits, T[0, 1] == T[2, 3] == T[4, 0], T[0, 2] == T[0, 1]
    (2, np.True_, np.False_)
    """
    n, L, f = config.order, config.levels, config.fixed
    N = config.people
    half = (n - 1) // 2  # difference classes +-d, d = 1..half, within a level
    n_pure, n_mixed = L * half, L * (L - 1) // 2 * n
    n_orbits = _orbit_count(config)
    T = np.full((N, N), n_orbits, np.int64)
    x = np.arange(n * L) % n
    lev = np.arange(n * L) // n
    d = (x[None, :] - x[:, None]) % n
    same = lev[:, None] == lev[None, :]
    cls = np.minimum(d, n - d)
    pure_ok = same & (cls > 0) & (2 * cls != n)
    lo, hi = np.minimum(lev[:, None], lev[None, :]), np.maximum(lev[:, None], lev[None, :])
    pair_index = lo * L - lo * (lo + 1) // 2 + (hi - lo - 1)  # index of level pair lo < hi
    up = np.where(lev[:, None] <= lev[None, :], d, (-d) % n)  # difference from lower level
    finite = np.where(pure_ok, lev[:, None] * half + cls - 1, n_orbits)
    finite = np.where(~same, n_pure + pair_index * n + up, finite)
    T[: n * L, : n * L] = finite
    for a in range(f):
        codes = n_pure + n_mixed + a * L + lev
        T[n * L + a, : n * L] = codes
        T[: n * L, n * L + a] = codes
    return T, n_orbits


def _pairs(sizes: np.ndarray) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def cyclic_configurations(shape: Shape) -> list[Cyclic]:
    """Configurations whose orbit count allows ``shape``, most promising first.

    A configuration needs ``n * bases >= rounds``, room for the fixed people (each in its
    own group, with at most one person of each level: groups of at most ``L + 1``), and
    at least as many orbits as its base rounds use pairs. Fewer base rounds, then fewer
    fixed people, then more spare orbits come first.

    Examples
    --------
    >>> [str(c) for c in cyclic_configurations(Shape(28, 7, 9))][:2]
    ['Z_9 x 3 levels + 1 fixed, 1 base round', 'Z_3 x 9 levels + 1 fixed, 3 base rounds']
    """
    sizes = shape.sizes
    if shape.people > MAX_PEOPLE or shape.rounds < 1 or sizes.min() < 2:
        return []
    out = []
    for bases in (1, 2, 3):
        for fixed in range(0, min(shape.groups, 5)):
            for levels in range(1, shape.people - fixed + 1):
                n, rest = divmod(shape.people - fixed, levels)
                if rest or n < 2 or n * bases < shape.rounds or n * (bases - 1) >= shape.rounds:
                    continue
                if int((sizes <= levels + 1).sum()) < fixed:  # a fixed person's group:
                    continue  # at most one person of each level
                config = Cyclic(n, levels, fixed, bases)
                spare = _orbit_count(config) - bases * _pairs(sizes)
                if spare >= 0:
                    out.append((bases, fixed, -spare, config))
    out.sort(key=lambda t: (t[0], t[1], t[2]))
    return [t[3] for t in out]


def _orbit_count(config: Cyclic) -> int:
    n, L, f = config.order, config.levels, config.fixed
    return L * ((n - 1) // 2) + L * (L - 1) // 2 * n + f * L


def cyclic_fits(shape: Shape) -> bool:
    """Whether some configuration's orbit count allows ``shape`` (the search may still fail).

    Examples
    --------
    >>> cyclic_fits(Shape(28, 7, 9)), cyclic_fits(Shape(28, 7, 10))
    (True, False)
    """
    return bool(cyclic_configurations(shape))


@njit(cache=True)
def _cost(cnt, n_orbits):  # pragma: no cover
    c = FORBIDDEN * cnt[n_orbits]
    for s in range(n_orbits):
        if cnt[s] > 1:
            c += cnt[s] - 1
    return c


@njit(cache=True)
def _move(T, pts, ci, i, j, start, blk, cnt, sign):  # pragma: no cover
    """Add (sign 1) or take back (sign -1) the orbit changes of swapping positions i and j."""
    p, q = pts[ci, i], pts[ci, j]
    for x in range(start[blk[i]], start[blk[i] + 1]):
        if x != i:
            cnt[T[p, pts[ci, x]]] -= sign
            cnt[T[q, pts[ci, x]]] += sign
    for y in range(start[blk[j]], start[blk[j] + 1]):
        if y != j:
            cnt[T[q, pts[ci, y]]] -= sign
            cnt[T[p, pts[ci, y]]] += sign


@njit(cache=True)
def _delta(T, n_orbits, pts, ci, i, j, start, blk, cnt):  # pragma: no cover
    """Exact change of the cost if positions i and j (other groups) of base round ci swap."""
    before = 0
    after = 0
    p, q = pts[ci, i], pts[ci, j]
    for x in range(start[blk[i]], start[blk[i] + 1]):
        if x != i:
            before += _weight(cnt, T[p, pts[ci, x]], n_orbits)
    for y in range(start[blk[j]], start[blk[j] + 1]):
        if y != j:
            before += _weight(cnt, T[q, pts[ci, y]], n_orbits)
    _move(T, pts, ci, i, j, start, blk, cnt, 1)
    for x in range(start[blk[i]], start[blk[i] + 1]):
        if x != i:
            after += _weight(cnt, T[q, pts[ci, x]], n_orbits)
    for y in range(start[blk[j]], start[blk[j] + 1]):
        if y != j:
            after += _weight(cnt, T[p, pts[ci, y]], n_orbits)
    _move(T, pts, ci, i, j, start, blk, cnt, -1)
    return after - before


@njit(cache=True)
def _weight(cnt, s, n_orbits):  # pragma: no cover
    """Share of the cost of one pair in orbit s: 1000 if forbidden, 1 if the orbit is reused."""
    if s == n_orbits:
        return FORBIDDEN
    return 1 if cnt[s] > 1 else 0


@njit(cache=True)
def _tabu(T, n_orbits, pts, best_pts, start, blk, cnt, tabu, state, iters, seed, t_lo, t_hi,
          stall):  # pragma: no cover
    """``iters`` tabu iterations; ``state`` = [iteration, cost, best cost, last improvement]."""
    np.random.seed(seed)  # noqa: NPY002 (numba: legacy API only)
    c, N = pts.shape
    it, cur, best, last = state[0], state[1], state[2], state[3]
    bad = np.empty(N, np.int64)
    for _ in range(iters):
        if best == 0:
            break
        it += 1
        best_d, bc, bi, bj, ties = 1 << 60, -1, -1, -1, 0
        for ci in range(c):
            nb = 0
            for i in range(N):
                for x in range(start[blk[i]], start[blk[i] + 1]):
                    s = T[pts[ci, i], pts[ci, x]]
                    if x != i and (s == n_orbits or cnt[s] > 1):
                        bad[nb] = i
                        nb += 1
                        break
            for a in range(nb):
                i = bad[a]
                for j in range(N):
                    if blk[j] == blk[i]:
                        continue
                    d = _delta(T, n_orbits, pts, ci, i, j, start, blk, cnt)
                    if tabu[ci, pts[ci, i], pts[ci, j]] > it and cur + d >= best:
                        continue
                    if d < best_d:
                        best_d, bc, bi, bj, ties = d, ci, i, j, 1
                    elif d == best_d:
                        ties += 1
                        if np.random.randint(ties) == 0:  # noqa: NPY002 (numba: legacy API)
                            bc, bi, bj = ci, i, j
        if bc >= 0:
            p, q = pts[bc, bi], pts[bc, bj]
            _move(T, pts, bc, bi, bj, start, blk, cnt, 1)
            pts[bc, bi], pts[bc, bj] = q, p
            until = it + t_lo + np.random.randint(t_hi - t_lo + 1)  # noqa: NPY002
            tabu[bc, p, q] = until
            tabu[bc, q, p] = until
            cur = _cost(cnt, n_orbits)
            if cur < best:
                best, last = cur, it
                best_pts[:, :] = pts
        if it - last > stall:  # stalled: a few random swaps
            last = it
            for _s in range(3):
                ci = np.random.randint(c)  # noqa: NPY002
                i = np.random.randint(N)  # noqa: NPY002
                j = np.random.randint(N)  # noqa: NPY002
                if blk[i] != blk[j]:
                    p, q = pts[ci, i], pts[ci, j]
                    _move(T, pts, ci, i, j, start, blk, cnt, 1)
                    pts[ci, i], pts[ci, j] = q, p
            cur = _cost(cnt, n_orbits)
    state[0], state[1], state[2], state[3] = it, cur, best, last


def _search(config: Cyclic, sizes: np.ndarray, *, budget: Budget, rng: np.random.Generator,
            iterations: int, chunk: int = 500) -> np.ndarray | None:
    """Base rounds (int64 (bases, people): people in group order) with no orbit reused, or None."""
    T, n_orbits = orbit_table(config)
    N, c = config.people, config.bases
    start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    blk = np.repeat(np.arange(sizes.shape[0]), sizes).astype(np.int64)
    pts = np.stack([rng.permutation(N) for _ in range(c)]).astype(np.int64)
    cnt = np.zeros(n_orbits + 1, np.int64)
    for ci in range(c):
        for b in range(sizes.shape[0]):
            members = pts[ci, start[b] : start[b + 1]]
            iu = np.triu_indices(members.shape[0], 1)
            np.add.at(cnt, T[members[iu[0]], members[iu[1]]], 1)
    cost = int(FORBIDDEN * cnt[n_orbits] + np.maximum(cnt[:n_orbits] - 1, 0).sum())
    state = np.array([0, cost, cost, 0], np.int64)
    best_pts = pts.copy()
    tabu = np.zeros((c, N, N), np.int64)
    done = 0
    if budget.work_limit is not None:  # a small work limit still runs its iterations
        chunk = max(1, min(chunk, budget.work_limit - budget.work))
    while state[2] > 0 and done < iterations and budget.spend(chunk):
        _tabu(T, n_orbits, pts, best_pts, start, blk, cnt, tabu, state, chunk,
              int(rng.integers(2**31 - 1)), 2, 12, 1000)
        done += chunk
    return best_pts if state[2] == 0 else None


def _develop(config: Cyclic, base: np.ndarray, sizes: np.ndarray, rounds: int) -> np.ndarray:
    """The rounds of the base rounds' translates (first ``rounds``), as group indices."""
    n, N = config.order, config.people
    finite = n * config.levels
    group_of_position = np.repeat(np.arange(sizes.shape[0]), sizes)
    out = np.empty((config.bases * n, N), np.int64)
    for ci in range(config.bases):
        people = base[ci]
        for s in range(n):
            moved = np.where(people < finite, (people // n) * n + (people % n + s) % n, people)
            out[ci * n + s, moved] = group_of_position
    return out[:rounds]


def cyclic_schedule(
    shape: Shape,
    *,
    budget: Budget | None = None,
    iterations: tuple[int, ...] = (5_000, 50_000, 500_000),
    configurations: list[Cyclic] | None = None,
    seed: int | np.random.Generator | None = None,
) -> Schedule | None:
    """A schedule of ``shape`` developed from base rounds under a cyclic group, or None.

    Tries ``configurations`` (by default the first :data:`MAX_CONFIGURATIONS` of
    :func:`cyclic_configurations`) in turn, each from a fresh random start with
    ``iterations[0]`` tabu iterations, then all again with ``iterations[1]``, and so on;
    every 500 iterations count 500 units of work in ``budget``, whose end stops the search.

    Examples
    --------
    >>> s = cyclic_schedule(Shape(28, 7, 9), seed=0)
    >>> s.describe(), s.groups.shape
    ('base rounds developed under Z_9 x 3 levels + 1 fixed, 1 base round', (9, 28))
    """
    budget = budget if budget is not None else Budget(time_limit=None)
    rng = as_generator(seed)
    sizes = shape.sizes
    configs = (cyclic_configurations(shape)[:MAX_CONFIGURATIONS] if configurations is None
               else configurations)
    for cap in iterations:
        for config in configs:
            base = _search(config, sizes, budget=budget, rng=rng, iterations=cap)
            if base is not None:
                return Schedule(groups=_develop(config, base, sizes, shape.rounds),
                                construction="cyclic",
                                description=f"base rounds developed under {config}")
            if budget.exhausted():
                return None
    return None
