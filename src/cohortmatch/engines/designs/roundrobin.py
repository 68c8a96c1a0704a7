"""Round robins: people in pairs (and one group of three when their number is odd).

An even number n of people meet in pairs over n - 1 rounds, everyone once with everyone
(a 1-factorisation of the complete graph), by the circle method: person n - 1 stays put,
the others sit on a circle Z_(n-1), and in round r person r pairs with n - 1 and r + i
with r - i. An odd number n of people need one group of three each round; three people
meet three pairs at once, so at most ``n (n - 1) / (n + 3)`` rounds fit, which is
``n - 4`` from n = 11 on. For n >= 11 those ``n - 4`` rounds come from one base round under
Z_(n-4) with 4 fixed people (a *starter* with a triple; found by
:func:`~cohortmatch.engines.designs.cyclic.cyclic_schedule` in a few iterations).
"""

from __future__ import annotations

import numpy as np

from ..base import Budget
from .cyclic import Cyclic, cyclic_schedule
from .schedule import Schedule, Shape

__all__ = ["round_robin_fits", "round_robin_schedule"]


def _odd(shape: Shape) -> bool:
    """Pairs and one group of three."""
    return shape.people % 2 == 1 and shape.people == 2 * shape.groups + 1 and shape.people >= 11


def round_robin_fits(shape: Shape) -> bool:
    """Whether ``shape`` is pairs over at most n - 1 rounds, or pairs and a triple over at most n - 4.

    Examples
    --------
    >>> round_robin_fits(Shape(50, 25, 49)), round_robin_fits(Shape(50, 25, 50))
    (True, False)
    >>> round_robin_fits(Shape(51, 25, 47)), round_robin_fits(Shape(51, 25, 48))
    (True, False)
    """
    if shape.rounds < 1:
        return False
    if shape.uniform == 2:
        return shape.rounds <= shape.people - 1
    return _odd(shape) and shape.rounds <= shape.people - 4


def round_robin_schedule(
    shape: Shape, *, budget: Budget | None = None, seed: int | np.random.Generator | None = None
) -> Schedule | None:
    """The first ``shape.rounds`` rounds of a round robin, or None when it does not fit.

    Examples
    --------
    >>> s = round_robin_schedule(Shape(6, 3, 5))
    >>> s.groups.tolist()[0], s.describe()
    ([0, 1, 2, 2, 1, 0], 'round robin of 6 (circle method)')
    """
    if not round_robin_fits(shape):
        return None
    n = shape.people
    if shape.uniform == 2:
        m = n - 1
        r = np.arange(shape.rounds)[:, None]
        x = np.arange(m)[None, :]
        offset = (x - r) % m  # person r + i and r - i sit in group min(i, m - i)
        groups = np.empty((shape.rounds, n), np.int64)
        groups[:, :m] = np.minimum(offset, m - offset)
        groups[:, m] = 0
        return Schedule(groups=groups, construction="round robin",
                        description=f"round robin of {n} (circle method)")
    found = cyclic_schedule(shape, budget=budget, configurations=[Cyclic(n - 4, 1, 4, 1)], seed=seed)
    if found is None:
        return None
    return Schedule(groups=found.groups, construction="round robin",
                    description=f"round robin of {n} in pairs and a triple (a starter under "
                                f"Z_{n - 4} with 4 fixed people)")
