"""Scoring core: what a plan is worth, in full and incrementally.

The objective over gap edges :math:`e = (a, b)` with weight :math:`w_e` is

.. math::

    \\text{cover}:\\; \\sum_e w_e \\min(c_e, 1) \\qquad
    \\text{diminishing}:\\; \\sum_e w_e \\sum_{i<c_e} \\delta^i \\qquad
    \\text{sum}:\\; \\sum_e w_e \\sum_k n_{k a} n_{k b}

where :math:`c_e` is the number of cohorts holding members of both teams and
:math:`n_{kt}` the number of members of team :math:`t` in cohort :math:`k`.
Coverage is the bridged share of the total gap weight, whatever the mode.

This module is the single source of truth for the value of a plan: solvers use
:class:`SearchState`, reports use :func:`score`, and tests assert they agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..compiled import CompiledProblem
from ..teamcounts import count_as

__all__ = ["Score", "score", "bridges", "edge_value", "edge_gain", "team_move_gain",
           "team_move_gain_as", "pair_score"]


@dataclass(frozen=True, eq=False)
class Score:
    """Full evaluation of an assignment.

    Attributes
    ----------
    objective : float
        Value in the problem's coverage mode.
    coverage : float
        Bridged gap weight / total gap weight (0 when there are no gaps).
    bridged_edges : int
        Number of gaps bridged by at least one cohort.
    bridged_weight : float
    edge_cohorts : int64 array (E,)
        :math:`c_e`, cohorts bridging each gap.
    edge_pairs : float64 array (E,)
        Pairs of cohort members across each gap.
    """

    objective: float
    coverage: float
    bridged_edges: int
    bridged_weight: float
    edge_cohorts: np.ndarray
    edge_pairs: np.ndarray
    pair_value: float = 0.0


def edge_value(problem: CompiledProblem, edges: np.ndarray, cohorts: np.ndarray) -> np.ndarray:
    """Value of edges bridged by ``cohorts`` cohorts each (``cover``/``diminishing`` modes).

    Examples
    --------
    >>> org = Organisation(people=[Person(id="p1", team="a"), Person(id="p2", team="b")],
    ...                    gaps=[Gap(a="a", b="b", weight=2.0)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=1, max_size=2)],
    ...                        Policy(mode="diminishing", decay=0.5))
    >>> edge_value(prob, np.array([0, 0, 0]), np.array([0, 1, 3])).tolist()
    [0.0, 2.0, 3.5]
    """
    w = problem.edge_weight[edges]
    c = np.asarray(cohorts)
    if problem.mode == "cover":
        return w * (c > 0)
    d = problem.decay
    if d >= 1.0:
        return w * c
    return w * (1.0 - np.power(d, c)) / (1.0 - d)


@njit(cache=True)
def edge_gain(w, c, cover, decay):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Value of bridging a gap of weight ``w`` once more when ``c`` cohorts bridge it.

    The scalar form of ``edge_value(c + 1) - edge_value(c)`` (``cover``/``diminishing``).
    """
    if cover:
        return w if c == 0 else 0.0
    if decay >= 1.0:
        return w
    return w * (decay**c - decay ** (c + 1)) / (1.0 - decay)


@njit(cache=True)
def team_move_gain(t, k1, k2, counts, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay):  # type: ignore[no-untyped-def]  # noqa: E501  # pragma: no cover
    """Gain of moving a member of team ``t`` from cohort ``k1`` to ``k2`` (-1: none).

    ``cover``/``diminishing`` modes, O(degree of ``t`` x cohort size): leaving ``k1`` as
    the team's last member there unbridges its gaps to the teams present in ``k1``;
    joining ``k2`` as the team's first bridges its gaps to the teams present in ``k2``,
    each valued at the gap's bridging count after the leave. ``counts`` is a
    :class:`~cohortmatch.teamcounts.TeamCounts` (or a dense team-by-cohort matrix). The
    one formula behind :meth:`~cohortmatch.scoring.SearchState.move_gain` and the
    compiled local search (:func:`team_move_gain_as`).
    """
    return team_move_gain_as(t, k1, k2, counts, -1, -1, -1, edge_cohorts, adj_indptr, adj_team,
                             adj_edge, edge_weight, cover, decay)


@njit(cache=True)
def team_move_gain_as(t, k1, k2, counts, xt, xa, xb, edge_cohorts, adj_indptr, adj_team, adj_edge, edge_weight, cover, decay):  # type: ignore[no-untyped-def]  # noqa: E501  # pragma: no cover
    """:func:`team_move_gain` with the counts as if a member of team ``xt`` had moved from
    ``xa`` to ``xb`` (:func:`~cohortmatch.teamcounts.count_as`; ``xt = -1``: as they are)."""
    if k1 == k2:
        return 0.0
    leave = k1 >= 0 and count_as(counts, t, k1, xt, xa, xb) == 1
    join = k2 >= 0 and count_as(counts, t, k2, xt, xa, xb) == 0
    gain = 0.0
    if not (leave or join):
        return gain
    for j in range(adj_indptr[t], adj_indptr[t + 1]):
        nb = adj_team[j]
        e = adj_edge[j]
        c = edge_cohorts[e]
        if leave and count_as(counts, nb, k1, xt, xa, xb) > 0:
            c -= 1
            gain -= edge_gain(edge_weight[e], c, cover, decay)
        if join and count_as(counts, nb, k2, xt, xa, xb) > 0:
            gain += edge_gain(edge_weight[e], c, cover, decay)
    return gain


def _objective_from_counts(
    problem: CompiledProblem, edge_cohorts: np.ndarray, edge_pairs: np.ndarray
) -> float:
    if problem.mode == "sum":
        return float(problem.edge_weight @ edge_pairs)
    return float(edge_value(problem, np.arange(problem.n_edges), edge_cohorts).sum())


def bridges(
    problem: CompiledProblem, assignment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (cohort, gap) bridging in an assignment.

    Returns
    -------
    cohorts, edges : int64 arrays
        The i-th bridging is gap ``edges[i]`` in cohort ``cohorts[i]``, sorted by cohort.
    pairs : int64 array
        Member pairs across the gap in that cohort.

    Notes
    -----
    One compiled pass (numba) over the cohorts: mark the teams present in a cohort, then
    look up each present team's gap neighbours among the marks. Cost
    O(units + sum of the gap degrees of the (cohort, team) presences), with no
    (cohort x team) matrix and no large temporaries.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="aab"[i]) for i in range(3)],
    ...                    gaps=[Gap(a="a", b="b")])
    >>> prob = compile_problem(org, [Course(id="c", min_size=3, max_size=3)])
    >>> [x.tolist() for x in bridges(prob, np.array([0, 0, 0]))]
    [[0], [0], [2]]
    """
    return _bridges_kernel(
        np.asarray(assignment, dtype=np.int64),
        problem.unit_team,
        problem.n_cohorts,
        problem.adj_indptr,
        problem.adj_team,
        problem.adj_edge,
        problem.n_teams,
    )


@njit(cache=True)
def _bridges_kernel(assignment, unit_team, n_cohorts, adj_indptr, adj_team, adj_edge, n_teams):  # type: ignore[no-untyped-def]  # pragma: no cover
    # counting sort: the teams of each cohort's members, cohort by cohort
    ptr = np.zeros(n_cohorts + 1, np.int64)
    for u in range(assignment.shape[0]):
        if assignment[u] >= 0:
            ptr[assignment[u] + 1] += 1
    for k in range(n_cohorts):
        ptr[k + 1] += ptr[k]
    fill = ptr[:-1].copy()
    teams = np.empty(ptr[n_cohorts], np.int32)
    for u in range(assignment.shape[0]):
        k = assignment[u]
        if k >= 0:
            teams[fill[k]] = unit_team[u]
            fill[k] += 1
    stamp = np.full(n_teams, -1, np.int64)
    count = np.zeros(n_teams, np.int64)
    out_k = np.empty(64, np.int64)
    out_e = np.empty(64, np.int64)
    out_n = np.empty(64, np.int64)
    n_out = 0
    for k in range(n_cohorts):
        for i in range(ptr[k], ptr[k + 1]):
            t = teams[i]
            if stamp[t] != k:
                stamp[t] = k
                count[t] = 0
            count[t] += 1
        for i in range(ptr[k], ptr[k + 1]):
            t = teams[i]
            if count[t] < 0:  # this team's neighbours were looked up already
                continue
            for j in range(adj_indptr[t], adj_indptr[t + 1]):
                nb = adj_team[j]
                if nb > t and stamp[nb] == k:
                    if n_out == out_k.shape[0]:
                        out_k = np.concatenate((out_k, np.empty_like(out_k)))
                        out_e = np.concatenate((out_e, np.empty_like(out_e)))
                        out_n = np.concatenate((out_n, np.empty_like(out_n)))
                    out_k[n_out] = k
                    out_e[n_out] = adj_edge[j]
                    out_n[n_out] = count[t] * abs(count[nb])
                    n_out += 1
            count[t] = -count[t]  # done; the magnitude stays for later partners
    return out_k[:n_out].copy(), out_e[:n_out].copy(), out_n[:n_out].copy()


def score(problem: CompiledProblem, assignment: np.ndarray) -> Score:
    """Evaluate an assignment from scratch, vectorised.

    Parameters
    ----------
    problem : CompiledProblem
    assignment : int array (U,)
        Cohort index of every unit, -1 for unassigned.

    Returns
    -------
    Score

    See Also
    --------
    bridges : the (cohort, gap) bridgings this is computed from.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="abab"[i]) for i in range(4)],
    ...                    gaps=[Gap(a="a", b="b", weight=2.0)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> s = score(prob, np.array([0, 0, 1, 1]))   # p0 (a) with p1 (b): bridged twice
    >>> s.objective, s.coverage, s.edge_cohorts.tolist()
    (2.0, 1.0, [2])
    """
    E = problem.n_edges
    _, edges, pairs = bridges(problem, assignment)
    edge_cohorts = np.bincount(edges, minlength=E).astype(np.int64)
    edge_pairs = np.bincount(edges, weights=pairs.astype(np.float64), minlength=E)
    if problem.history_edge_cohorts.shape[0]:  # earlier rounds count as bridged
        edge_cohorts = edge_cohorts + problem.history_edge_cohorts
        edge_pairs = edge_pairs + problem.history_edge_pairs
    bridged = edge_cohorts > 0
    bridged_weight = float(problem.edge_weight[bridged].sum())
    pair_term = pair_score(problem, assignment)
    total_weight = problem.total_weight
    return Score(
        objective=_objective_from_counts(problem, edge_cohorts, edge_pairs) + pair_term,
        coverage=bridged_weight / total_weight if total_weight > 0 else 0.0,
        bridged_edges=int(bridged.sum()),
        bridged_weight=bridged_weight,
        edge_cohorts=edge_cohorts,
        edge_pairs=edge_pairs,
        pair_value=pair_term,
    )


def pair_score(problem: CompiledProblem, assignment: np.ndarray) -> float:
    """Pair-value part of the objective: ``sum`` of ``pair_values[p, q]`` over co-members.

    .. math::

        \\sum_k \\sum_{\\{p, q\\} \\subseteq k} V_{pq}

    Dense values are summed cohort by cohort over the members' sub-matrix; sparse ones
    over the stored entries whose ends share a cohort, block by block.

    Examples
    --------
    >>> from cohortmatch.compiled import compile_grouping
    >>> V = np.array([[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]])
    >>> pair_score(compile_grouping(V, [(2, 2), (2, 2)]), np.array([0, 0, 1, 1]))
    7.0
    """
    V = problem.pair_values
    if V is None:
        return 0.0
    a = np.asarray(assignment)
    total = 0.0
    if isinstance(V, np.ndarray):
        placed = np.flatnonzero(a >= 0)
        order = placed[np.argsort(a[placed], kind="stable")]
        ks = a[order]
        bounds = np.searchsorted(ks, np.arange(problem.n_cohorts + 1))
        for k in np.flatnonzero(np.diff(bounds) > 1):
            persons = problem.unit_person[order[bounds[k] : bounds[k + 1]]]
            total += float(V[np.ix_(persons, persons)].sum())
        return 0.5 * total
    rows = np.repeat(np.arange(V.shape[0]), np.diff(V.indptr))
    cols = V.indices
    for b in range(problem.n_blocks):
        lo, hi = int(problem.block_units[b]), int(problem.block_units[b + 1])
        cohort_of = np.full(problem.n_people, -1, np.int64)
        cohort_of[problem.unit_person[lo:hi]] = a[lo:hi]
        cr = cohort_of[rows]
        same = (cr >= 0) & (cr == cohort_of[cols])
        total += float(V.data[same].sum())
    return 0.5 * total
