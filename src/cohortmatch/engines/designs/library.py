"""The built-in constructions, tried in turn: the first one that fits and checks out is used."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...params import as_generator
from ..base import Budget
from .affine import affine_design, affine_fits
from .cyclic import cyclic_fits, cyclic_schedule
from .invariant import invariant_fits, invariant_schedule
from .kirkman import kirkman_fits, kirkman_schedule
from .product import product_factors, product_schedule
from .roundrobin import round_robin_fits, round_robin_schedule
from .schedule import Schedule, Shape, balanced_group_sizes, schedule_problems
from .transversal import transversal_fits, transversal_schedule

__all__ = ["Construction", "CONSTRUCTIONS", "construct", "constructions_for"]

#: How deep products nest (a product of products of ...).
MAX_DEPTH = 2

Build = Callable[[Shape, Budget, np.random.Generator], "Schedule | None"]


@dataclass(frozen=True)
class Construction:
    """A named construction: when it applies (``fits``) and how it builds a schedule.

    ``search`` marks constructions that search (their time comes from the budget);
    those that fit share each turn in proportion to their ``weight``.
    """

    name: str
    fits: Callable[[Shape], bool]
    build: Build
    search: bool = False
    weight: float = 1.0


def _one_round(shape: Shape) -> Schedule:
    groups = np.repeat(np.arange(shape.groups), balanced_group_sizes(shape.people, shape.groups))
    return Schedule(groups=groups[None, :].astype(np.int64), construction="one round",
                    description=f"one round of {shape.groups} group(s)")


CONSTRUCTIONS: tuple[Construction, ...] = (
    Construction("one round", lambda s: s.rounds == 1 and s.groups >= 1,
                 lambda s, b, r: _one_round(s)),
    Construction("round robin", round_robin_fits,
                 lambda s, b, r: round_robin_schedule(s, budget=b, seed=r)),
    Construction("affine", affine_fits, lambda s, b, r: affine_design(s, budget=b, seed=r)),
    Construction("kirkman", kirkman_fits, lambda s, b, r: kirkman_schedule(s)),
    Construction("transversal", transversal_fits, lambda s, b, r: transversal_schedule(s)),
    Construction("cyclic", cyclic_fits, lambda s, b, r: cyclic_schedule(s, budget=b, seed=r),
                 search=True, weight=3.0),
    Construction("invariant", invariant_fits,
                 lambda s, b, r: invariant_schedule(s, budget=b, seed=r), search=True),
)


def constructions_for(shape: Shape) -> list[str]:
    """Names of the constructions whose applicability test ``shape`` passes (products aside).

    Examples
    --------
    >>> constructions_for(Shape(21, 7, 10)), constructions_for(Shape(32, 8, 9))
    (['kirkman', 'cyclic', 'invariant'], ['affine', 'cyclic', 'invariant'])
    """
    return [c.name for c in CONSTRUCTIONS if c.fits(shape)]


def construct(
    shape: Shape,
    *,
    budget: Budget | None = None,
    search: bool = True,
    seed: int | np.random.Generator | None = None,
    _depth: int = 0,
) -> Schedule | None:
    """A checked repeat-free schedule of ``shape`` from the first construction that gives one.

    Direct constructions come first, then products (:mod:`.product`) whose factors are
    built without searching, then (when ``search``) the constructions that search (the
    cyclic tabu search with 3/4 of the budget, then the invariant CP-SAT search), and
    last products whose factors may be searched for. Every schedule is checked
    pair by pair (:func:`~.schedule.schedule_problems`) before it is returned.

    Returns
    -------
    Schedule or None
        None when no construction fits or each one that fits failed within ``budget``.

    Examples
    --------
    >>> construct(Shape(63, 21, 31), seed=0).describe()
    'product of Kirkman triple system KTS(21) over GF(7) x Z_3 with GF(3), then one round of 1 group(s) on the 3 copies'
    >>> construct(Shape(32, 8, 11), seed=0) is None   # 3 x 11 > 31 partners
    True
    """
    budget = budget if budget is not None else Budget(time_limit=None)
    rng = as_generator(seed)
    for c in CONSTRUCTIONS:
        found = None if c.search else _checked(c, shape, budget, rng)
        if found is not None:
            return found
    stages = [False, True] if search else [False]  # factors without, then with, a search
    for factors_search in stages:
        if factors_search:
            found = _searched(shape, budget, rng)
            if found is not None:
                return found
        found = _product(shape, budget=budget, search=factors_search, rng=rng, depth=_depth)
        if found is not None:
            return found
    return None


def _searched(shape: Shape, budget: Budget, rng: np.random.Generator) -> Schedule | None:
    """The first schedule from the constructions that search and fit ``shape``, each
    given its weight's share of what is left of ``budget``."""
    searching = [c for c in CONSTRUCTIONS if c.search and c.fits(shape)]
    for i, c in enumerate(searching):
        part = budget.share(c.weight / sum(d.weight for d in searching[i:]))
        found = _checked(c, shape, part, rng)
        budget.spend(part.work)
        if found is not None:
            return found
    return None


def _product(shape: Shape, *, budget: Budget, search: bool, rng: np.random.Generator, depth: int
             ) -> Schedule | None:
    """The first product whose factors :func:`construct` builds (see :mod:`.product`)."""
    if depth >= MAX_DEPTH:
        return None
    for a_shape, m, b_shape in product_factors(shape):
        a = construct(a_shape, budget=budget, search=search, seed=rng, _depth=depth + 1)
        b = (None if b_shape is None or a is None
             else construct(b_shape, budget=budget, search=search, seed=rng, _depth=depth + 1))
        if a is None or (b_shape is not None and b is None):
            continue
        found = product_schedule(a, m, b)
        if not schedule_problems(found, shape):
            return found
    return None


def _checked(c: Construction, shape: Shape, budget: Budget, rng: np.random.Generator
             ) -> Schedule | None:
    if budget.exhausted() or not c.fits(shape):
        return None
    found = c.build(shape, budget, rng)
    return found if found is not None and not schedule_problems(found, shape) else None
