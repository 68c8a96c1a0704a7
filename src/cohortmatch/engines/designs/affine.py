"""Repeat-free schedules by construction: affine partial spreads over GF(q).

When ``g * p = q**d`` and ``p = q**k`` for a prime ``q``, label the golfers by the vectors
of GF(q)^d. A k-dimensional subspace V makes one week: its ``q**(d-k)`` cosets ``x + V`` are
the ``g`` groups of ``p``. Golfers x and y meet in week V exactly when ``x - y`` lies in V,
so weeks V_1, ..., V_w repeat no pair if and only if the subspaces pairwise meet only in
the zero vector (a *partial spread*). This module finds such subspaces by a seeded
depth-first search and turns them into a schedule.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ...params import as_generator
from ..base import Budget
from .fields import prime_power
from .schedule import Schedule, Shape

__all__ = [
    "AffineSchedule", "affine_parameters", "max_affine_weeks", "affine_schedule", "affine_fits",
    "affine_design",
]

#: Largest number of k-dimensional subspaces enumerated (the Gaussian binomial coefficient).
MAX_SUBSPACES = 20_000
#: Largest number of (subspace, nonzero vector) incidences held.
MAX_INCIDENCES = 500_000


@dataclass(frozen=True)
class AffineSchedule:
    """A repeat-free schedule from ``weeks`` pairwise trivially meeting subspaces.

    Attributes
    ----------
    groups : int64 array (weeks, n)
        ``groups[t, x]``: the group (0 to ``g - 1``) of golfer ``x`` in week ``t``; golfer
        ``x`` is the vector of GF(q)^d with base-q digits ``x`` (lowest digit first).
    q, d, k : int
        The field GF(q), the dimension of the space and of each week's subspace.
    """

    groups: np.ndarray
    q: int
    d: int
    k: int

    def describe(self) -> str:
        """The construction in words, e.g. ``9 2-dim subspaces of GF(2)^5 meeting pairwise only in 0``."""
        return (
            f"{self.groups.shape[0]} {self.k}-dim subspaces of GF({self.q})^{self.d} "
            "meeting pairwise only in 0"
        )


def affine_parameters(groups: int, size: int) -> tuple[int, int, int] | None:
    """``(q, d, k)`` with ``groups * size == q**d`` and ``size == q**k`` (q prime), or None.

    Examples
    --------
    >>> affine_parameters(8, 4), affine_parameters(9, 3), affine_parameters(6, 4)
    ((2, 5, 2), (3, 3, 1), None)
    """
    if groups < 2:
        return None
    pk = prime_power(size)
    pd = prime_power(groups * size)
    if pk is None or pd is None or pk[0] != pd[0]:
        return None
    return pk[0], pd[1], pk[1]


def max_affine_weeks(q: int, d: int, k: int) -> int:
    """Most weeks an affine partial spread of k-subspaces of GF(q)^d gives (or an upper bound).

    Every week uses ``q**k - 1`` of the ``q**d - 1`` nonzero vectors, none twice, so
    ``w <= (q**d - 1) / (q**k - 1)``; this is reached (a spread) when k divides d. When
    ``d = 1 (mod k)`` the maximum is ``(q**d - q**(k+1)) / (q**k - 1) + 1``
    (Beutelspacher). When ``2 k > d`` any two k-subspaces share a nonzero vector: one week.
    Otherwise the counting bound is returned, which may not be reached.

    Examples
    --------
    >>> max_affine_weeks(2, 4, 2), max_affine_weeks(2, 5, 2), max_affine_weeks(3, 3, 1)
    (5, 9, 13)

    References
    ----------
    .. [1] A. Beutelspacher, "Partial spreads in finite projective spaces and partial
       designs", Mathematische Zeitschrift 145 (1975) 211-229.
    """
    if 2 * k > d:
        return 1
    if d % k == 0:
        return (q**d - 1) // (q**k - 1)
    if d % k == 1:
        return (q**d - q ** (k + 1)) // (q**k - 1) + 1
    return (q**d - 1) // (q**k - 1)


def _gaussian_binomial(d: int, k: int, q: int) -> int:
    """The number of k-dimensional subspaces of GF(q)^d."""
    num = den = 1
    for i in range(k):
        num *= q ** (d - i) - 1
        den *= q ** (i + 1) - 1
    return num // den


def _subspaces(q: int, d: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every k-subspace of GF(q)^d in reduced row echelon form: bases (S, k, d), pivots (S, k)."""
    bases, pivots = [], []
    for piv in itertools.combinations(range(d), k):
        free = [(i, c) for i in range(k) for c in range(piv[i] + 1, d) if c not in piv]
        for values in itertools.product(range(q), repeat=len(free)):
            R = np.zeros((k, d), np.int64)
            R[np.arange(k), piv] = 1
            for (i, c), v in zip(free, values, strict=True):
                R[i, c] = v
            bases.append(R)
            pivots.append(piv)
    return np.asarray(bases, np.int64), np.asarray(pivots, np.int64)


def _vectors(q: int, d: int) -> np.ndarray:
    """All vectors of GF(q)^d (int64 (q**d, d)); row x holds the base-q digits of x."""
    x = np.arange(q**d)
    return (x[:, None] // q ** np.arange(d)) % q


class _Incidence:
    """Subspaces as rows of nonzero vector codes (S, m), and the subspaces through each vector."""

    def __init__(self, codes: np.ndarray, n: int):
        self.codes = codes
        self.n = n
        flat = codes.ravel()
        self.holders = np.argsort(flat, kind="stable") // codes.shape[1]
        self.start = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=n))])

    def through(self, x: int) -> np.ndarray:
        """The subspaces holding vector ``x``."""
        return self.holders[self.start[x] : self.start[x + 1]]


#: A search node: subspaces still compatible, vectors still open, slack left, weeks chosen,
#: and the children not yet tried (a subspace to add, or -1: leave the branching vector open).
_Node = tuple[np.ndarray, np.ndarray, int, list[int], list[int]]


def _branch(
    inc: _Incidence, alive: np.ndarray, opened: np.ndarray, slack: int, chosen: list[int],
    rng: np.random.Generator,
) -> _Node | None:
    """The node to push after ``chosen``, or None when it is a dead end.

    Open vectors that no compatible subspace holds are closed at the cost of slack. The
    vector held by the fewest compatible subspaces (ties at random) is branched on.
    """
    held = np.bincount(inc.codes[alive].ravel(), minlength=inc.n)
    dead = opened & (held == 0)
    slack -= int(dead.sum())
    if slack < 0:
        return None
    opened = opened & ~dead
    cand = np.flatnonzero(opened)
    x = int(rng.choice(cand[held[cand] == held[cand].min()]))
    subs = inc.through(x)
    children = [int(s) for s in rng.permutation(subs[alive[subs]])]
    if slack > 0:
        children.append(-1)
    opened[x] = False
    return alive, opened, slack, chosen, children[::-1]


def _spread(
    inc: _Incidence, weeks: int, *, rng: np.random.Generator, budget: Budget | None,
    node_limit: int, restarts: int,
) -> list[int] | None:
    """``weeks`` subspaces (rows of ``inc.codes``) with no nonzero vector in common.

    A depth-first search in the manner of exact cover: the open vector held by the fewest
    compatible subspaces is covered by each of them in turn (random order) or, while the
    slack of vectors no week needs allows, left uncovered. Restarts after ``node_limit``
    nodes; each node counts one unit of work in ``budget``.
    """
    S, m = inc.codes.shape
    open0 = np.ones(inc.n, bool)
    open0[0] = False
    for _ in range(restarts):
        root = _branch(inc, np.ones(S, bool), open0, (inc.n - 1) - weeks * m, [], rng)
        stack = [] if root is None else [root]
        nodes = 0
        while stack and nodes < node_limit:
            alive, opened, slack, chosen, children = stack[-1]
            if not children:
                stack.pop()
                continue
            if budget is not None and not budget.spend(1):
                return None
            nodes += 1
            s = children.pop()
            if s >= 0:  # add subspace s: close its vectors and every subspace through them
                pts = inc.codes[s]
                alive = alive.copy()
                alive[np.concatenate([inc.through(v) for v in pts.tolist()])] = False
                opened = opened.copy()
                opened[pts] = False
                chosen = [*chosen, s]
            else:  # the branching vector (closed by the parent) stays uncovered
                slack -= 1
            if len(chosen) == weeks:
                return chosen
            node = _branch(inc, alive, opened, slack, chosen, rng)
            if node is not None:
                stack.append(node)
    return None


def affine_schedule(
    groups: int,
    size: int,
    weeks: int,
    *,
    budget: Budget | None = None,
    node_limit: int = 200,
    restarts: int = 500,
    seed: int | np.random.Generator | None = None,
) -> AffineSchedule | None:
    """A schedule of ``groups`` groups of ``size`` for ``weeks`` weeks in which no pair meets twice.

    Works when ``groups * size = q**d`` and ``size = q**k`` for a prime q (see the module
    docstring): the weeks are cosets of ``weeks`` k-subspaces of GF(q)^d meeting pairwise
    in zero only, found by a seeded depth-first search.

    Parameters
    ----------
    groups, size, weeks : int
    budget : Budget, optional
        Each search node counts one unit of work; an exhausted budget ends the search.
    node_limit : int
        Search nodes before a restart with fresh random choices.
    restarts : int
        Searches before giving up.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    AffineSchedule or None
        None when the construction does not apply (sizes, more weeks than
        :func:`max_affine_weeks`, too many subspaces to enumerate) or the search found no
        partial spread within its limits.

    Examples
    --------
    >>> s = affine_schedule(8, 4, 9, seed=0)
    >>> s.describe(), s.groups.shape
    ('9 2-dim subspaces of GF(2)^5 meeting pairwise only in 0', (9, 32))
    >>> met = [(x, y) for week in s.groups for x in range(32) for y in range(x)
    ...        if week[x] == week[y]]
    >>> len(met), len(set(met))   # 9 weeks x 8 groups x 6 pairs, none twice
    (432, 432)
    >>> affine_schedule(8, 4, 10, seed=0) is None   # 10 disjoint lines do not exist
    True
    """
    params = affine_parameters(groups, size)
    if params is None or weeks < 1:
        return None
    q, d, k = params
    if weeks > max_affine_weeks(q, d, k) or not _enumerable(q, d, k, size):
        return None
    rng = as_generator(seed)
    bases, pivots = _subspaces(q, d, k)
    coeffs = _vectors(q, k)[1:]  # nonzero combinations of a basis
    codes = (np.einsum("mk,skd->smd", coeffs, bases) % q) @ q ** np.arange(d)
    n = q**d
    chosen = _spread(_Incidence(codes, n), weeks, rng=rng, budget=budget, node_limit=node_limit,
                     restarts=restarts)
    if chosen is None:
        return None
    X = _vectors(q, d)
    out = np.empty((weeks, n), np.int64)
    for t, s in enumerate(chosen):
        R, piv = bases[s], pivots[s]
        rest = np.setdiff1d(np.arange(d), piv)
        Y = (X - X[:, piv] @ R) % q  # x reduced to the representative of its coset x + V
        out[t] = Y[:, rest] @ q ** np.arange(d - k)
    return AffineSchedule(groups=out, q=q, d=d, k=k)


def _enumerable(q: int, d: int, k: int, size: int) -> bool:
    S = _gaussian_binomial(d, k, q)
    return S <= MAX_SUBSPACES and S * (size - 1) <= MAX_INCIDENCES


def affine_fits(shape: Shape) -> bool:
    """Whether affine partial spreads may give ``shape`` (sizes powers of one prime, weeks in reach).

    Examples
    --------
    >>> affine_fits(Shape(32, 8, 9)), affine_fits(Shape(32, 8, 10)), affine_fits(Shape(24, 6, 2))
    (True, False, False)
    """
    p = shape.uniform
    params = affine_parameters(shape.groups, p) if p is not None else None
    if params is None or shape.rounds < 1:
        return False
    q, d, k = params
    return shape.rounds <= max_affine_weeks(q, d, k) and _enumerable(q, d, k, p or 0)


def affine_design(
    shape: Shape, *, budget: Budget | None = None, seed: int | np.random.Generator | None = None
) -> Schedule | None:
    """:func:`affine_schedule` for ``shape`` as a :class:`Schedule`, or None.

    Examples
    --------
    >>> affine_design(Shape(16, 4, 5), seed=0).describe()
    '5 2-dim subspaces of GF(2)^4 meeting pairwise only in 0'
    """
    if not affine_fits(shape):
        return None
    found = affine_schedule(shape.groups, shape.people // shape.groups, shape.rounds, budget=budget,
                            seed=seed)
    if found is None:
        return None
    return Schedule(groups=found.groups, construction="affine", description=found.describe())
