"""Team counts of cohorts, held sparsely: read from the cohorts' member lists.

A cohort holds at most ``max_size`` people, so the members of team ``t`` in cohort ``k``
are counted by scanning the cohort's member list (O(``max_size``)), and the cohorts where
team ``t`` is present are those of its units (O(team size)). Nothing grows with teams x
cohorts: a search state's memory is O(people + gaps) however large the organisation.

:class:`TeamCounts` is what the search state passes as ``counts`` to the compiled rule
checks and kernels; :func:`team_count` reads one entry, from a :class:`TeamCounts` or
from a dense team-by-cohort matrix (the ``golfer`` engine keeps one of its own).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import overload

__all__ = ["TeamCounts", "team_csr", "team_counts", "team_count", "count_as", "count_block",
           "count_pairs", "cohorts_of", "present_teams"]


class TeamCounts(NamedTuple):
    """The team counts of an assignment, as views of its cohort member lists.

    Attributes
    ----------
    members : int64 array (K, width)
        Units of each cohort, ``-1`` past its size.
    size : int64 array (K,)
        People in each cohort.
    unit_team : int array (U,)
    team_indptr, team_units : int64 arrays
        CSR over teams of their units (:func:`team_csr`).
    """

    members: np.ndarray
    size: np.ndarray
    unit_team: np.ndarray
    team_indptr: np.ndarray
    team_units: np.ndarray


def team_csr(problem: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(team_indptr, team_units)``: the units of each team (computed once per problem).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="abab"[i]) for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> [a.tolist() for a in team_csr(prob)]
    [[0, 2, 4], [0, 2, 1, 3]]
    """
    def build() -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(problem.unit_team, kind="stable").astype(np.int64)
        indptr = np.searchsorted(problem.unit_team[order], np.arange(problem.n_teams + 1))
        return indptr.astype(np.int64), order

    return problem.cached("team_csr", build)  # type: ignore[no-any-return]


def team_counts(problem: Any, members: np.ndarray, size: np.ndarray) -> TeamCounts:
    """The :class:`TeamCounts` of cohort member lists ``members`` (``size`` people each)."""
    return TeamCounts(members, size, problem.unit_team, *team_csr(problem))


@njit(cache=True)
def _scan(C, t, k):  # type: ignore[no-untyped-def]  # pragma: no cover
    n = 0
    for s in range(C.size[k]):
        if C.unit_team[C.members[k, s]] == t:
            n += 1
    return n


def team_count(counts: Any, t: int, k: int) -> int:
    """Members of team ``t`` in cohort ``k``: from a :class:`TeamCounts` (a scan of the
    cohort's members) or a dense team-by-cohort matrix. Compiled code calls it too.

    Examples
    --------
    >>> C = TeamCounts(np.array([[0, 1, -1]]), np.array([2]), np.array([5, 5]),
    ...                np.zeros(1, np.int64), np.zeros(0, np.int64))
    >>> team_count(C, 5, 0), team_count(np.array([[3]]), 0, 0)
    (2, 3)
    """
    if isinstance(counts, TeamCounts):
        return int(_scan(counts, t, k))
    return int(counts[t, k])


@overload(team_count)
def _team_count_kernel(counts, t, k):  # type: ignore[no-untyped-def]  # pragma: no cover
    if isinstance(counts, types.Array):
        return lambda counts, t, k: counts[t, k]
    return lambda counts, t, k: _scan(counts, t, k)


@njit(cache=True)
def count_as(C, t, k, xt, xa, xb):  # type: ignore[no-untyped-def]  # pragma: no cover
    """:func:`team_count` as if one member of team ``xt`` had moved from ``xa`` to ``xb``
    (``xt = -1``: none); compiled code prices a swap's second move this way before the
    first one is applied to the member lists."""
    n = team_count(C, t, k)
    if t == xt:
        if k == xa:
            n -= 1
        if k == xb:
            n += 1
    return n


@njit(cache=True)
def count_block(C, teams, cohorts):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Dense ``len(teams) x len(cohorts)`` counts (O(cohorts x max_size x log teams)).

    Examples
    --------
    >>> C = TeamCounts(np.array([[0, 1, -1], [2, -1, -1]]), np.array([2, 1]), np.array([5, 5, 7]),
    ...                np.zeros(1, np.int64), np.zeros(0, np.int64))
    >>> count_block(C, np.array([7, 5]), np.array([0, 1])).tolist()
    [[0, 1], [2, 0]]
    """
    order = np.argsort(teams)
    st = teams[order]
    out = np.zeros((teams.shape[0], cohorts.shape[0]), np.int64)
    for j in range(cohorts.shape[0]):
        k = cohorts[j]
        for s in range(C.size[k]):
            tm = C.unit_team[C.members[k, s]]
            i = np.searchsorted(st, tm)
            while i < st.shape[0] and st[i] == tm:
                out[order[i], j] += 1
                i += 1
    return out


@njit(cache=True)
def count_pairs(C, teams, cohorts):  # type: ignore[no-untyped-def]  # pragma: no cover
    """:func:`team_count` of each ``(teams[i], cohorts[i])``."""
    out = np.zeros(teams.shape[0], np.int64)
    for i in range(teams.shape[0]):
        out[i] = _scan(C, teams[i], cohorts[i])
    return out


@njit(cache=True)
def cohorts_of(C, assignment, teams):  # type: ignore[no-untyped-def]  # pragma: no cover
    """The cohorts (sorted, once each) where any of ``teams`` has a placed unit."""
    n = 0
    for t in teams:
        n += C.team_indptr[t + 1] - C.team_indptr[t]
    out = np.empty(n, np.int64)
    n = 0
    for t in teams:
        for i in range(C.team_indptr[t], C.team_indptr[t + 1]):
            k = assignment[C.team_units[i]]
            if k >= 0:
                out[n] = k
                n += 1
    return np.unique(out[:n])


def present_teams(C: TeamCounts, n_teams: int, cohorts: np.ndarray) -> np.ndarray:
    """Boolean ``n_teams x len(cohorts)``: whether each team has a member in each cohort."""
    out = np.zeros((n_teams, cohorts.shape[0]), bool)
    for j, k in enumerate(cohorts.tolist()):
        out[C.unit_team[C.members[k, : C.size[k]]], j] = True
    return out
