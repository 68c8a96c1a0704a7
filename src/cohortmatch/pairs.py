"""Group elements by person-level pair values: the maximally diverse grouping problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .compiled import compile_grouping
from .engines.base import Budget
from .engines.tabu import solve_tabu
from .errors import InputError
from .params import as_generator, run_settings
from .scoring import score, upper_bound

__all__ = ["PairGrouping", "group_by_pairs"]


@dataclass(frozen=True, eq=False)
class PairGrouping:
    """The result of :func:`group_by_pairs`.

    Attributes
    ----------
    labels : int64 array (n,)
        Group index of each element.
    objective : float
        Sum of the values of all pairs that share a group.
    sizes : int64 array (m,)
        Size of each group.
    bound : float
        A proven upper bound on the objective.
    status : str
        ``optimal`` when the bound is reached, else ``feasible``.
    elapsed : float
        Seconds spent.
    """

    labels: np.ndarray
    objective: float
    sizes: np.ndarray
    bound: float
    status: str
    elapsed: float


def group_by_pairs(
    values: Any,
    sizes: Sequence[tuple[int, int]],
    *,
    seed: int | np.random.Generator | None = None,
    time_limit: float = 10.0,
) -> PairGrouping:
    """Split ``n`` elements into groups with the largest total within-group pair value.

    .. math::

        \\max \\sum_g \\sum_{\\{i, j\\} \\subseteq g} V_{ij}
        \\quad \\text{s.t.} \\quad a_g \\le |g| \\le b_g

    This is the maximally diverse grouping problem (MDGP), or anticlustering when
    :math:`V` holds distances. The engine is the three-phase population search of
    :mod:`cohortmatch.engines.tabu` (after TPSDP [3]_), the same one
    :func:`cohortmatch.plan` uses in ``sum`` mode. The first call in a process loads its
    compiled kernels from numba's cache (about half a second), within ``time_limit``.

    Parameters
    ----------
    values : array_like or scipy.sparse matrix (n, n)
        Symmetric pair values; the diagonal is ignored.
    sizes : sequence of (int, int)
        ``(min, max)`` size of each group: group ``g`` gets between ``sizes[g][0]`` and
        ``sizes[g][1]`` elements.
    seed : None, int or numpy.random.Generator
    time_limit : float
        Seconds of search (the search also stops once it proves optimality).

    Returns
    -------
    PairGrouping

    Raises
    ------
    InputError
        Malformed ``values``, ``sizes`` or ``time_limit``.
    InfeasibleError
        The size bounds cannot add up to ``n``.

    Examples
    --------
    >>> import numpy as np
    >>> V = np.array([[0, 9, 1, 1], [9, 0, 1, 1], [1, 1, 0, 9], [1, 1, 9, 0]])
    >>> g = group_by_pairs(V, [(2, 2), (2, 2)], seed=0, time_limit=1.0)
    >>> g.objective, bool(g.labels[0] == g.labels[1])
    (18.0, True)

    References
    ----------
    .. [1] Gallego, M., Laguna, M., Martí, R., Duarte, A. (2013). Tabu search with
       strategic oscillation for the maximally diverse grouping problem. JORS 64(5),
       724-734.
    .. [2] Lai, X., Hao, J.-K. (2016). Iterated maxima search for the maximally diverse
       grouping problem. EJOR 254(3), 780-800.
    .. [3] Yang, X., Cai, Z., Jin, T., Tang, Z., Gao, S. (2022). A three-phase search
       approach with dynamic population size for solving the maximally diverse grouping
       problem. EJOR 302(3), 925-953.
    """
    settings = run_settings(time_limit=time_limit, seed=seed)
    if settings.time_limit is None:
        raise InputError("The 'time_limit' must be a positive number of seconds. Got None.")
    budget = Budget(settings.time_limit)
    rng = as_generator(settings.seed)
    problem = compile_grouping(values, sizes)
    bound = upper_bound(problem)
    result = solve_tabu(problem, budget=budget, target=bound, rng=rng)
    labels = result.assignment.astype(np.int64)
    full = score(problem, labels)
    m = problem.n_cohorts
    return PairGrouping(
        labels=labels,
        objective=full.objective,
        sizes=np.bincount(labels, minlength=m).astype(np.int64),
        bound=max(bound, full.objective),
        status=result.status,
        elapsed=budget.elapsed(),
    )
