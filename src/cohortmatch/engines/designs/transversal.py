"""Resolvable transversal designs from GF(m): groups of p from p x m people, m rounds.

Label the people ``(i, y)`` with row i in 0..p-1 and y in GF(m), m a prime power with
``m >= p``, and give row i the field element ``r_i = i``. In round a (a in GF(m)) person
``(i, y)`` sits in group ``y - a r_i``: each group holds one person of every row, and two
people of rows i != k share the group of round a exactly when ``a (r_i - r_k) = y - y'``,
which one a solves. People of one row never meet. This gives m-p-m schedules (g = m
groups of p) and is the ingredient of :mod:`~cohortmatch.engines.designs.product`.
"""

from __future__ import annotations

import numpy as np

from .fields import galois_field
from .schedule import Schedule, Shape

__all__ = ["transversal_fits", "transversal_schedule", "transversal_groups"]


def transversal_groups(p: int, m: int) -> np.ndarray | None:
    """Round a, person ``(i, y)`` (index ``i * m + y``) -> group: int64 (m, p * m), or None.

    None when m is no prime power or ``m < p``.

    Examples
    --------
    >>> transversal_groups(2, 3).tolist()
    [[0, 1, 2, 0, 1, 2], [0, 1, 2, 2, 0, 1], [0, 1, 2, 1, 2, 0]]
    """
    F = galois_field(m)
    if F is None or m < p:
        return None
    a = np.arange(m)[:, None, None]
    i = np.arange(p)[None, :, None]
    y = np.arange(m)[None, None, :]
    shift = F.mul[a, i]  # a * r_i
    groups = F.add[F.neg[shift], y]  # y - a r_i
    return groups.reshape(m, p * m).astype(np.int64)


def transversal_fits(shape: Shape) -> bool:
    """Whether ``shape`` is g groups of p with g a prime power, ``p <= g`` and at most g rounds.

    Examples
    --------
    >>> transversal_fits(Shape(44, 11, 11)), transversal_fits(Shape(40, 10, 10))
    (True, False)
    """
    p = shape.uniform
    g = shape.groups
    return (p is not None and 2 <= p <= g and 1 <= shape.rounds <= g
            and galois_field(g) is not None)


def transversal_schedule(shape: Shape) -> Schedule | None:
    """The first ``shape.rounds`` rounds of the transversal design, or None when it does not fit.

    Examples
    --------
    >>> s = transversal_schedule(Shape(44, 11, 11))
    >>> s.groups.shape, s.describe()
    ((11, 44), 'resolvable transversal design TD(4, 11) over GF(11)')
    """
    if not transversal_fits(shape):
        return None
    p, m = shape.people // shape.groups, shape.groups
    groups = transversal_groups(p, m)
    assert groups is not None
    return Schedule(groups=groups[: shape.rounds], construction="transversal",
                    description=f"resolvable transversal design TD({p}, {m}) over GF({m})")
