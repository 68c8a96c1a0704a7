"""Schedules whose every round is fixed by a group of translations, chosen by CP-SAT.

Label the people ``(x, l)`` with x in a finite abelian group A (a product of cyclic
groups, e.g. Z_2 x Z_2 x Z_2) and ``l`` one of L *levels*, so ``people = |A| L``. Adding
``a`` in A to every x maps a round to a round. Unlike :mod:`.cyclic`, where a base round
and its translates are different rounds, here every round is *invariant*: its translates
are itself. An invariant round is an exact cover of the people by *group orbits* (a group
and its translates, pairwise disjoint), and the pairs it seats are whole *pair orbits*
(the pairs ``{(x, l), (y, m)}`` with the same levels and the same difference ``y - x``, up
to sign within a level). So ``w`` invariant rounds never seat a pair twice exactly when no
pair orbit is used by two of them: listing the invariant rounds and choosing ``w`` of them
is a set packing over pair orbits, which CP-SAT solves or refutes in seconds for a few
thousand rounds.

With A = Z_2^3 and 4 levels this gives 32 golfers in groups of 4 for 10 weeks (8-4-10),
an instance open until Aguado's explicit schedule of 2004 [1]_; the affine partial spreads
of :mod:`.affine` stop at 9 weeks (their rounds are invariant under all of Z_2^5, and at
most 9 planes of GF(2)^5 meet pairwise only in 0). Groups tried, per shape: every abelian
group whose order divides the people and leaves at least two levels, largest first, each
listed once up to isomorphism (cyclic factors of prime-power order).

References
----------
.. [1] A. Aguado, "A 10 days solution to the social golfer problem", manuscript, 2004;
   see also M. Triska and N. Musliu, "An effective greedy heuristic for the Social Golfer
   Problem", Annals of Operations Research 194 (2012) 413-425.
   doi:10.1007/s10479-011-0866-7
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from ..base import Budget
from ..cpsat.solve import stop_watch
from .schedule import Schedule, Shape

__all__ = ["Invariant", "invariant_configurations", "invariant_fits", "invariant_schedule",
           "invariant_rounds", "symmetries", "Listing"]

#: Largest number of people tried (the orbits of groups are listed one by one).
MAX_PEOPLE = 40
#: Largest number of groups holding a given person (``C(people - 1, size - 1)``) listed.
MAX_GROUPS = 100_000
#: Configurations whose invariant rounds outnumber this are skipped.
MAX_ROUNDS = 20_000
#: Configurations whose listing visits more partial rounds than this are skipped.
MAX_NODES = 200_000
#: Configurations tried per request, largest group first.
MAX_CONFIGURATIONS = 6


@dataclass(frozen=True)
class Invariant:
    """A configuration: the group ``Z_f1 x Z_f2 x ...`` (``factors``) acting on ``levels`` levels.

    Examples
    --------
    >>> c = Invariant((2, 2, 2), 4)
    >>> c.order, c.people, str(c)
    (8, 32, 'Z_2 x Z_2 x Z_2 on 4 levels')
    """

    factors: tuple[int, ...]
    levels: int

    @property
    def order(self) -> int:
        return math.prod(self.factors)

    @property
    def people(self) -> int:
        return self.order * self.levels

    def __str__(self) -> str:
        group = " x ".join(f"Z_{f}" for f in self.factors)
        return f"{group} on {self.levels} levels"

    def radix(self) -> tuple[np.ndarray, np.ndarray]:
        """Every element's digits, int64 (order, factors), and the weights that turn digits
        into the element's index (mixed radix)."""
        digits = np.array(list(itertools.product(*(range(f) for f in self.factors))), np.int64)
        weights = [math.prod(self.factors[i + 1:]) for i in range(len(self.factors))]
        return digits.reshape(self.order, len(self.factors)), np.array(weights, np.int64)

    def addition(self) -> np.ndarray:
        """The group's addition table, int64 (order, order), elements in mixed radix."""
        digits, weights = self.radix()
        return ((digits[:, None, :] + digits[None, :, :]) % np.array(self.factors, np.int64)) @ weights


def _prime_power_factors(order: int) -> list[tuple[int, ...]]:
    """Every abelian group of ``order`` up to isomorphism, as cyclic prime-power factors."""
    per_prime = []
    n, p = order, 2
    while n > 1:
        e = 0
        while n % p == 0:
            n, e = n // p, e + 1
        if e:
            per_prime.append([tuple(p**k for k in part) for part in _partitions(e)])
        p += 1
    return [tuple(sorted(sum(choice, ()), reverse=True)) for choice in itertools.product(*per_prime)]


def _partitions(n: int, largest: int | None = None) -> list[tuple[int, ...]]:
    largest = n if largest is None else largest
    if n == 0:
        return [()]
    return [(k, *rest) for k in range(min(n, largest), 0, -1) for rest in _partitions(n - k, k)]


def invariant_configurations(shape: Shape) -> list[Invariant]:
    """The configurations to try for ``shape``: groups of order ``people / levels`` for
    at least two levels, those with at least as many levels as a group has people first
    (a group may then take one person from each level), then the larger groups; among
    groups of one order, the ones with more factors first.

    Examples
    --------
    >>> [str(c) for c in invariant_configurations(Shape(32, 8, 10))][:4]
    ['Z_2 x Z_2 x Z_2 on 4 levels', 'Z_4 x Z_2 on 4 levels', 'Z_8 on 4 levels', \
'Z_2 x Z_2 on 8 levels']
    """
    n, k = shape.people, shape.uniform or 2
    out = []
    for order in range(n // 2, 1, -1):
        if n % order == 0:
            groups = sorted(_prime_power_factors(order), key=lambda f: (-len(f), f))
            out += [Invariant(f, n // order) for f in groups]
    return sorted(out, key=lambda c: c.levels < k)  # stable: larger groups first within each


def invariant_fits(shape: Shape) -> bool:
    """Whether the search may be tried: equal groups of 3 or more, at most :data:`MAX_PEOPLE`
    people and :data:`MAX_GROUPS` groups through one person, and no more rounds than each
    person has partners for.

    Examples
    --------
    >>> invariant_fits(Shape(32, 8, 10)), invariant_fits(Shape(32, 8, 11)), invariant_fits(Shape(30, 15, 3))
    (True, False, False)
    """
    k = shape.uniform
    return (k is not None and k >= 3 and shape.people <= MAX_PEOPLE and shape.rounds >= 2
            and shape.rounds * (k - 1) <= shape.people - 1
            and math.comb(shape.people - 1, k - 1) <= MAX_GROUPS)


@dataclass(frozen=True)
class Listing:
    """The invariant rounds of a configuration.

    Attributes
    ----------
    group_orbits : list of list of tuple
        Every group orbit: its groups (sorted tuples of people ``level * order + x``).
    rounds : list of tuple of int
        Every invariant round, as the indices of its group orbits.
    uses : int64 array (rounds, orbits) of 0/1
        Which pair orbits each round seats.
    """

    group_orbits: list[list[tuple[int, ...]]]
    rounds: list[tuple[int, ...]]
    uses: np.ndarray

    def groups(self, r: int) -> list[tuple[int, ...]]:
        """The groups of round ``r``."""
        return [g for i in self.rounds[r] for g in self.group_orbits[i]]

    @functools.cached_property
    def orbit_of(self) -> dict[tuple[int, ...], int]:
        """The group orbit of every group (made once per listing, for every symmetry)."""
        return {g: i for i, orbit in enumerate(self.group_orbits) for g in orbit}

    @functools.cached_property
    def round_of(self) -> dict[frozenset[int], int]:
        """The index of every round, by its set of group orbits."""
        return {frozenset(r): i for i, r in enumerate(self.rounds)}


#: Listings already made (the last few), by configuration and group size.
_LISTINGS: dict[tuple[Invariant, int], Listing | None] = {}
#: Listings a budget interrupted, resumed by the next call.
_UNFINISHED: dict[tuple[Invariant, int], Iterator[None]] = {}
_LOCK = threading.Lock()
#: Steps (groups looked at, partial rounds visited) between two looks at the budget.
STEP = 1024


def invariant_rounds(config: Invariant, size: int, *, budget: Budget | None = None
                     ) -> Listing | None:
    """Every invariant round of groups of ``size``; None when there are over
    :data:`MAX_ROUNDS`, the listing visits over :data:`MAX_NODES` partial rounds, or
    ``budget`` ends first. A listing the budget interrupts goes on where it stopped at the
    next call, and complete listings (and refusals) are kept for the next calls.

    Examples
    --------
    >>> listing = invariant_rounds(Invariant((2,), 3), 3)
    >>> len(listing.rounds), listing.uses.shape[1], bool((listing.uses.sum(axis=1) == 3).all())
    (4, 9, True)
    >>> listing.groups(0)
    [(0, 2, 4), (1, 3, 5)]
    """
    budget = budget if budget is not None else Budget(time_limit=None)
    key = (config, size)
    wait = max(budget.remaining(), 0.0) if budget.time_limit is not None else -1
    if not _LOCK.acquire(timeout=wait):
        return None
    try:
        if key in _LISTINGS:
            return _LISTINGS[key]
        steps = _UNFINISHED.pop(key, None) or _listing(config, size)
        try:
            while True:
                next(steps)
                if budget.exhausted():
                    _keep(_UNFINISHED, key, steps)
                    return None
        except StopIteration as done:
            listing: Listing | None = done.value
        _keep(_LISTINGS, key, listing)
        return listing
    finally:
        _LOCK.release()


def _keep(store: dict, key: tuple, value: object, size: int = 8) -> None:
    while len(store) >= size:
        del store[next(iter(store))]
    store[key] = value


def _listing(config: Invariant, size: int) -> Generator[None, None, Listing | None]:
    """The listing of :func:`invariant_rounds`, pausing every :data:`STEP` steps."""
    add = config.addition()
    n = config.people
    pair_orbit = _pair_orbits(config, add)
    group_orbits: list[list[tuple[int, ...]]] = []
    yield from _group_orbits(config, add, size, group_orbits)
    covers = [functools.reduce(lambda s, g: s | _mask(g), orbit, 0) for orbit in group_orbits]
    by_person: list[list[int]] = [[] for _ in range(n)]
    for i, cover in enumerate(covers):
        for x in range(n):
            if cover >> x & 1:
                by_person[x].append(i)
    found: list[tuple[int, ...]] = []
    complete = yield from _exact_covers(covers, by_person, (1 << n) - 1, 0, [], found, [0])
    if not complete:
        return None
    first, second = np.triu_indices(size, 1)
    seated = [pair_orbit[np.asarray(orbit[0])[first], np.asarray(orbit[0])[second]]
              for orbit in group_orbits]  # the pair orbits each group orbit seats
    rows = np.repeat(np.arange(len(found)), [len(chosen) * first.shape[0] for chosen in found])
    cols = np.concatenate([seated[i] for chosen in found for i in chosen]) if found else rows
    uses = np.zeros((len(found), int(pair_orbit.max()) + 1), np.int64)
    uses[rows, cols] = 1
    return Listing(group_orbits, found, uses)


def _mask(group: tuple[int, ...]) -> int:
    return sum(1 << x for x in group)


def _pair_orbits(config: Invariant, add: np.ndarray) -> np.ndarray:
    """The pair orbit of every pair of people, int64 (people, people), -1 on the diagonal."""
    m, n = config.order, config.people
    neg = np.argmin(add, axis=1)  # add[a, neg[a]] == 0, the identity is element 0
    sub = add[:, neg]  # sub[y, x] = y - x
    ids: dict[tuple[int, int, int], int] = {}
    table = np.full((n, n), -1, np.int64)
    for p in range(n):
        lp, xp = divmod(p, m)
        for q in range(n):
            if q == p:
                continue
            lq, xq = divmod(q, m)
            if lp < lq:
                key = (lp, lq, int(sub[xq, xp]))
            elif lp > lq:
                key = (lq, lp, int(sub[xp, xq]))
            else:
                key = (lp, lp, min(int(sub[xq, xp]), int(sub[xp, xq])))
            table[p, q] = ids.setdefault(key, len(ids))
    return table


def _group_orbits(config: Invariant, add: np.ndarray, size: int,
                  out: list[list[tuple[int, ...]]]) -> Generator[None, None, None]:
    """Append to ``out`` every orbit of a group of ``size`` whose translates are pairwise
    disjoint, pausing every :data:`STEP` groups."""
    m, n = config.order, config.people
    level_of, x_of = np.divmod(np.arange(n), m)
    seen: set[tuple[int, ...]] = set()
    for level in range(config.levels):
        first = level * m  # the person (0, level): every orbit has a group holding it as its least
        others = np.array(list(itertools.combinations(range(first + 1, n), size - 1)), np.int64)
        if others.shape[0] == 0:
            continue
        groups = np.hstack([np.full((others.shape[0], 1), first, np.int64), others])
        # moved[i, a]: group i translated by a, sorted
        moved = np.sort(level_of[groups][:, None, :] * m + add[x_of[groups]].transpose(0, 2, 1),
                        axis=2)
        for i, translates in enumerate(moved.tolist()):
            if i % STEP == STEP - 1:
                yield
            orbit = sorted(set(map(tuple, translates)))
            if orbit[0] in seen:
                continue
            seen.add(orbit[0])
            if len({x for g in orbit for x in g}) == size * len(orbit):
                out.append(orbit)


def _exact_covers(covers: list[int], by_person: list[list[int]], full: int, covered: int,
                  chosen: list[int], found: list[tuple[int, ...]], nodes: list[int]
                  ) -> Generator[None, None, bool]:
    """Depth-first exact covers of ``full`` by disjoint ``covers``, pausing every
    :data:`STEP` partial covers (``nodes[0]`` counts them); False once there are too many
    covers or partial covers."""
    nodes[0] += 1
    if nodes[0] % STEP == 0:
        yield
    if covered == full:
        found.append(tuple(chosen))
        return len(found) <= MAX_ROUNDS
    if nodes[0] > MAX_NODES:
        return False
    free = ~covered & full
    x = (free & -free).bit_length() - 1  # the lowest uncovered person
    for i in by_person[x]:
        if not covers[i] & covered:
            chosen.append(i)
            ok = yield from _exact_covers(covers, by_person, full, covered | covers[i], chosen,
                                          found, nodes)
            chosen.pop()
            if not ok:
                return False
    return True


def invariant_schedule(
    shape: Shape,
    *,
    budget: Budget | None = None,
    configurations: list[Invariant] | None = None,
    seed: int | np.random.Generator | None = None,
) -> Schedule | None:
    """A schedule of ``shape`` whose rounds are invariant under a group, or None.

    Takes the first :data:`MAX_CONFIGURATIONS` of ``configurations`` (by default
    :func:`invariant_configurations`) whose rounds are few enough to list. For each, and
    each of its :func:`symmetries`, CP-SAT (one worker, a fixed seed: the schedule does not
    depend on ``seed``, which is there for the library's common signature) looks for
    ``shape.rounds`` invariant rounds that use every pair orbit at most once and that the
    symmetry maps onto themselves, within :data:`SHORT_SECONDS` deterministic seconds (and
    the time left in ``budget``). Attempts that ended in a set
    or a proof are remembered, so a later call (the golfer's next turn) goes on from the
    first one that did not; their work is counted again. Asking for the extra symmetry
    shrinks the search enough that each attempt ends in well under a second; 8-4-10 takes
    about 0.5 s once its configuration is reached, against 5-30 s or more without it.

    Examples
    --------
    >>> s = invariant_schedule(Shape(32, 8, 10), seed=0)
    >>> s.describe()
    '10 rounds invariant under Z_2 x Z_2 x Z_2 on 4 levels, closed under a map of order 3'
    >>> s.groups.shape
    (10, 32)
    """
    budget = budget if budget is not None else Budget(time_limit=None)
    k = shape.uniform
    if k is None:
        return None
    configs = invariant_configurations(shape) if configurations is None else configurations
    tried = 0
    for config in configs:
        if tried >= MAX_CONFIGURATIONS or budget.exhausted():
            return None
        listing = invariant_rounds(config, k, budget=budget)
        if listing is None:
            continue
        tried += 1
        for i, phi in enumerate(symmetries(config)):
            if budget.exhausted():
                return None
            picked = _attempt((config, k, i, shape.rounds), listing, phi, budget)
            if picked is not None:
                return _schedule(shape, config, listing, picked, phi)
    return None


#: Settled attempts (a set found, or a proof that none exists) and the work they took,
#: by (configuration, group size, symmetry index, rounds).
_SETTLED: dict[tuple[Invariant, int, int, int], tuple[list[int] | None, int]] = {}
_SETTLED_LOCK = threading.Lock()


def _attempt(key: tuple[Invariant, int, int, int], listing: Listing, phi: Symmetry,
             budget: Budget) -> list[int] | None:
    """One CP-SAT attempt (:func:`_pack`); a settled one is not run again when the work
    left covers what it took (one worker and a fixed seed: run again, it would end the
    same way), and that work is spent again, so work limits give the same plan whatever
    ran before in the process."""
    with _SETTLED_LOCK:
        known = _SETTLED.get(key)
    if known is not None:
        picked, work = known
        if budget.work_limit is None or budget.work_limit - budget.work >= work:
            budget.spend(work)
            return picked
    before = budget.work
    picked, settled = _pack(listing.uses, key[3], closed=_images(key[0], listing, phi),
                            budget=budget)
    if settled:
        with _SETTLED_LOCK:
            _keep(_SETTLED, key, (picked, budget.work - before), size=256)
    return picked


#: Deterministic seconds CP-SAT gets per configuration and symmetry.
SHORT_SECONDS = 0.5

#: A symmetry of a configuration: an automorphism of the group (as a map of elements) and
#: a permutation of the levels.
Symmetry = tuple[np.ndarray, tuple[int, ...]]


def symmetries(config: Invariant) -> list[Symmetry]:
    """Maps of the people that send invariant rounds to invariant rounds: an automorphism
    of the group (the identity, a rotation of equal factors, a unit multiple) combined
    with a cycle of the first ``c`` levels; those moving both first, the identity left out.

    Examples
    --------
    >>> [(g.tolist(), levels) for g, levels in symmetries(Invariant((3,), 2))]
    [([0, 2, 1], (1, 0)), ([0, 1, 2], (1, 0)), ([0, 2, 1], (0, 1))]
    """
    digits, weights = config.radix()
    maps = [np.arange(config.order, dtype=np.int64)]
    if len(set(config.factors)) == 1 and len(config.factors) > 1:
        maps.append(np.roll(digits, 1, axis=1) @ weights)
    f = config.factors
    for u in range(2, max(f)):
        if all(math.gcd(u, x) == 1 for x in f):
            maps.append(((digits * u) % np.array(f, np.int64)) @ weights)
            break  # one multiplier is enough to try
    cycles = [tuple(list(range(1, c)) + [0] + list(range(c, config.levels)))
              for c in range(2, config.levels + 1)]
    levels = [tuple(range(config.levels))] + cycles
    both = [(g, lv) for g in maps[1:] for lv in levels[1:]]
    return both + [(maps[0], lv) for lv in levels[1:]] + [(g, levels[0]) for g in maps[1:]]


def _images(config: Invariant, listing: Listing, phi: Symmetry) -> np.ndarray:
    """The index of the image of every round under ``phi`` (int64 (rounds,))."""
    person = _person_map(config, phi)
    image = [listing.orbit_of[tuple(sorted(person[list(orbit[0])].tolist()))]
             for orbit in listing.group_orbits]
    return np.array([listing.round_of[frozenset(image[i] for i in r)] for r in listing.rounds],
                    np.int64)


def _person_map(config: Invariant, phi: Symmetry) -> np.ndarray:
    """Where ``phi`` sends every person, int64 (people,)."""
    g, levels = phi
    m = config.order
    return np.array([levels[x // m] * m + int(g[x % m]) for x in range(config.people)], np.int64)


def _schedule(shape: Shape, config: Invariant, listing: Listing, picked: list[int],
              phi: Symmetry) -> Schedule:
    groups = np.empty((shape.rounds, shape.people), np.int64)
    for t, r in enumerate(picked):
        for j, group in enumerate(listing.groups(r)):
            groups[t, list(group)] = j
    return Schedule(groups=groups, construction="invariant",
                    description=f"{shape.rounds} rounds invariant under {config}, "
                                f"closed under a map of order {_order(config, phi)}")


def _order(config: Invariant, phi: Symmetry) -> int:
    person = _person_map(config, phi)
    power, k = person.copy(), 1
    while not np.array_equal(power, np.arange(config.people)):
        power, k = person[power], k + 1
    return k


def _pack(uses: np.ndarray, rounds: int, *, closed: np.ndarray, budget: Budget
          ) -> tuple[list[int] | None, bool]:
    """``rounds`` rows of ``uses`` sharing no column, a set that ``closed`` (the image of
    every row) maps to itself (CP-SAT, one worker, seed 0), or None; and whether that is
    settled (found, or proved impossible) rather than cut short by a limit.

    Such a set is a union of orbits of ``closed``; one variable per orbit whose rows share
    no column, counted with the orbit's size.
    """
    orbits = _cycles(closed)
    merged = np.stack([uses[o].sum(axis=0) for o in orbits]) if orbits else uses[:0]
    usable = [i for i in range(len(orbits)) if merged[i].max(initial=0) <= 1]
    model = cp_model.CpModel()
    y = {i: model.new_bool_var(f"o{i}") for i in usable}
    model.add(sum(len(orbits[i]) * y[i] for i in usable) == rounds)
    for col in range(uses.shape[1]):
        rows = [y[i] for i in usable if merged[i, col]]
        if len(rows) > 1:
            model.add_at_most_one(rows)
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = 1
    prm.random_seed = 0
    if budget.time_limit is not None:
        prm.max_time_in_seconds = max(budget.remaining(), 0.01)
    left = math.inf if budget.work_limit is None else (budget.work_limit - budget.work) / 1e4
    prm.max_deterministic_time = max(min(left, SHORT_SECONDS), 0.01)
    with stop_watch(solver, budget.progress):
        code = solver.solve(model)
    budget.spend(max(1, int(solver.deterministic_time * 1e4)))
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, code == cp_model.INFEASIBLE
    return sorted(r for i in usable if solver.boolean_value(y[i]) for r in orbits[i]), True


def _cycles(image: np.ndarray) -> list[list[int]]:
    """The cycles of the permutation ``image`` (each as its elements in order of discovery).

    Examples
    --------
    >>> _cycles(np.array([1, 0, 2, 4, 5, 3]))
    [[0, 1], [2], [3, 4, 5]]
    """
    seen = np.zeros(image.shape[0], bool)
    out = []
    for start in range(image.shape[0]):
        if seen[start]:
            continue
        cycle, r = [], start
        while not seen[r]:
            seen[r] = True
            cycle.append(r)
            r = int(image[r])
        out.append(cycle)
    return out
