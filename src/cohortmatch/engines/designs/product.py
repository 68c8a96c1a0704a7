"""A product: a schedule on n people and a transversal design give one on n m people.

Take a repeat-free schedule A of n people in groups of p over w1 rounds, and a prime
power ``m >= p``. Replace each person x by m people ``(x, y)``, y in GF(m). For each round
of A and each a in GF(m), the group of x (its j-th member) becomes the groups
``{(x_j, y) : y - a j = c}`` (one per c): the rounds of a resolvable transversal design
(:mod:`~cohortmatch.engines.designs.transversal`) laid on every group at once. Two people
``(x, y)``, ``(x', y')`` with ``x != x'`` meet only in the round of A where x and x' do,
and there in exactly one a; copies of one x never meet, so a schedule B of m people in
groups of p over w2 rounds, played by the copies of every x at once, adds w2 rounds:
``w1 m + w2`` rounds of ``n m`` people in all. With A a Kirkman triple system on v people,
``m = 3`` and B one group of three, this is the classical tripling KTS(v) -> KTS(3v)
(e.g. KTS(63) from KTS(21)); with pairs and ``m = 2``, round robins double.
"""

from __future__ import annotations

import numpy as np

from .fields import galois_field
from .schedule import Schedule, Shape
from .transversal import transversal_groups

__all__ = ["product_factors", "product_schedule"]


def product_factors(shape: Shape) -> list[tuple[Shape, int, Shape | None]]:
    """Ways to build ``shape`` as a product: (shape of A, m, shape of B or None).

    Examples
    --------
    >>> [(str(a), m, str(b)) for a, m, b in product_factors(Shape(63, 21, 31))][:1]
    [('7-3-10 (21 people)', 3, '1-3-1 (3 people)')]
    """
    p = shape.uniform
    if p is None or p < 2 or shape.rounds < 1:
        return []
    out: list[tuple[Shape, int, Shape | None]] = []
    for m in range(p, shape.people // p + 1):
        n, rest = divmod(shape.people, m)
        if rest or n % p or n < p or galois_field(m) is None:
            continue
        w1, w2 = -(-shape.rounds // m), 0
        if w1 > (n - 1) // (p - 1) and m % p == 0:  # A alone cannot: the copies add rounds
            w1, w2 = shape.rounds // m, shape.rounds % m
        if w1 > (n - 1) // (p - 1) or w1 < 1 or w2 > (m - 1) // (p - 1):
            continue  # a factor is impossible by counting partners,
        if (w1 > 1 and n // p < p) or (w2 > 1 and m // p < p):
            continue  # or by two rounds (groups of p need p groups to come from)
        b = Shape(m, m // p, w2) if w2 else None
        out.append((Shape(n, n // p, w1), m, b))
    return out


def product_schedule(a: Schedule, m: int, b: Schedule | None = None) -> Schedule:
    """The product of schedule ``a`` (n people, groups of p) with GF(m), then ``b`` on the copies.

    Person ``(x, y)`` has index ``x * m + y``.

    Examples
    --------
    >>> from cohortmatch.engines.designs.schedule import schedule_problems
    >>> pairs = Schedule(np.array([[0, 0, 1, 1], [0, 1, 0, 1], [0, 1, 1, 0]]), "t", "K4")
    >>> s = product_schedule(pairs, 2, Schedule(np.zeros((1, 2), np.int64), "t", "one pair"))
    >>> s.groups.shape, schedule_problems(s, Shape(8, 4, 7))
    ((7, 8), [])
    """
    A = np.asarray(a.groups)
    w1, n = A.shape
    p = int(np.bincount(A[0]).max())
    td = transversal_groups(p, m)
    assert td is not None
    rounds = []
    for r in range(w1):
        order = np.lexsort((np.arange(n), A[r]))
        position = np.empty(n, np.int64)
        position[order] = np.arange(n) - np.searchsorted(A[r][order], A[r][order])
        cell = position[:, None] * m + np.arange(m)[None, :]  # (x, y) as TD person (j, y)
        for t in range(m):
            rounds.append((A[r][:, None] * m + td[t][cell]).ravel())
    if b is not None:
        B = np.asarray(b.groups)
        per = m // p
        for s in range(B.shape[0]):
            rounds.append((np.arange(n)[:, None] * per + B[s][None, :]).ravel())
    what = f"product of {a.description} with GF({m})"
    if b is not None:
        what += f", then {b.description} on the {m} copies"
    return Schedule(groups=np.asarray(rounds, np.int64), construction="product", description=what)
