"""Kirkman triple systems KTS(3q) for prime powers q = 1 (mod 6), by a direct construction.

A Kirkman triple system of order v (v = 3 mod 6) splits v people into triples over
(v - 1) / 2 rounds so that every pair meets exactly once. For ``v = 3q`` with q a prime
power, ``q = 6t + 1``, label the people ``(x, j)`` with x in GF(q) and j in Z_3, and let g
be a primitive element of GF(q). With the blocks

* ``Z = {(0, 0), (0, 1), (0, 2)}``,
* ``B(i, j) = {(g^i, j), (g^(i+2t), j), (g^(i+4t), j)}`` for ``0 <= i < t`` and every j,
* ``A(i) = {(g^i, 0), (g^(i+2t), 1), (g^(i+4t), 2)}`` for ``0 <= i < 6t``,

the round ``C = {Z} + {B(i, j)} + {A(i) : floor(i / t) odd}`` and its q translates
``C + s`` (s in GF(q)) give q rounds, and for each i with ``floor(i / t)`` even the q
translates of ``A(i)`` form one more round: ``q + 3t = (3q - 1) / 2`` rounds in all, and
every pair meets exactly once (the blocks' differences cover GF(q) once). The schedule is
checked pair by pair before use (:func:`~cohortmatch.engines.designs.schedule.schedule_problems`).
"""

from __future__ import annotations

import numpy as np

from .fields import galois_field
from .schedule import Schedule, Shape

__all__ = ["kirkman_fits", "kirkman_schedule"]


def _order(shape: Shape) -> int | None:
    """q when ``shape`` asks for triples of 3q people, q = 1 (mod 6) a prime power, else None."""
    if shape.uniform != 3 or shape.people % 3:
        return None
    q = shape.people // 3
    return q if q % 6 == 1 and galois_field(q) is not None else None


def kirkman_fits(shape: Shape) -> bool:
    """Whether a KTS(3q) gives ``shape``: triples, 3q people (q = 1 mod 6 a prime power),
    at most ``(3q - 1) / 2`` rounds.

    Examples
    --------
    >>> kirkman_fits(Shape(21, 7, 10)), kirkman_fits(Shape(21, 7, 11)), kirkman_fits(Shape(15, 5, 7))
    (True, False, False)
    """
    q = _order(shape)
    return q is not None and 1 <= shape.rounds <= (3 * q - 1) // 2


def kirkman_schedule(shape: Shape) -> Schedule | None:
    """The first ``shape.rounds`` rounds of a KTS(3q), or None when it does not fit.

    Examples
    --------
    >>> s = kirkman_schedule(Shape(21, 7, 10))
    >>> s.groups.shape, s.describe()
    ((10, 21), 'Kirkman triple system KTS(21) over GF(7) x Z_3')
    """
    if not kirkman_fits(shape):
        return None
    q = _order(shape)
    assert q is not None
    F = galois_field(q)
    assert F is not None
    t = (q - 1) // 6
    g = F.power

    def point(x: int, j: int) -> int:
        return j * q + x

    def a_block(i: int) -> list[int]:
        return [point(int(g[(i + 2 * t * j) % (q - 1)]), j) for j in range(3)]

    base = [[point(0, j) for j in range(3)]]
    base += [[point(int(g[i + 2 * t * m]), j) for m in range(3)] for i in range(t) for j in range(3)]
    base += [a_block(i) for i in range(6 * t) if (i // t) % 2 == 1]
    rounds: list[list[list[int]]] = []
    for s in range(q):
        rounds.append([[_shift(F.add, x, s, q) for x in block] for block in base])
    for i in range(6 * t):
        if (i // t) % 2 == 0:
            rounds.append([[_shift(F.add, x, s, q) for x in a_block(i)] for s in range(q)])
    groups = np.empty((shape.rounds, shape.people), np.int64)
    for r, blocks in enumerate(rounds[: shape.rounds]):
        for k, block in enumerate(blocks):
            groups[r, block] = k
    return Schedule(groups=groups, construction="kirkman",
                    description=f"Kirkman triple system KTS({3 * q}) over GF({q}) x Z_3")


def _shift(add: np.ndarray, x: int, s: int, q: int) -> int:
    """Point ``(a + s, j)`` for point ``x = (a, j)``."""
    j, a = divmod(x, q)
    return j * q + int(add[a, s])
