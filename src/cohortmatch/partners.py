"""Gap partners: the people a participant meets from the teams their team has a gap with."""

from __future__ import annotations

import numpy as np

from .compiled import CompiledProblem
from .scoring import bridges

__all__ = ["gap_partner_counts", "partner_summary"]


def gap_partner_counts(problem: CompiledProblem, assignment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many gap partners each person meets in an assignment, vectorised.

    A *gap partner* of a participant is another person who shares one of their cohorts
    and belongs to a team their team has a gap with. Each partner counts once, however
    many cohorts the two share; cohorts of the problem's ``history`` do not count.

    Parameters
    ----------
    problem : CompiledProblem
    assignment : int array (U,)
        Cohort of every unit, -1 for unassigned.

    Returns
    -------
    counts : int64 array (P,)
        Distinct gap partners of each person (0 for people in no cohort).
    placed : bool array (P,)
        Whether the person is in at least one cohort (a *participant*).

    Examples
    --------
    >>> from cohortmatch.compiled import compile_problem
    >>> from cohortmatch.model import Course, Gap, Organisation, Person
    >>> org = Organisation(people=[Person(id=f"p{i}", team="aabc"[i]) for i in range(4)],
    ...                    gaps=[Gap(a="a", b="b")])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> counts, placed = gap_partner_counts(prob, np.array([0, 1, 0, 1]))
    >>> counts.tolist(), placed.tolist()
    ([1, 0, 1, 0], [True, True, True, True])

    Notes
    -----
    The cost is O(units log units) plus the number of (member, gap partner) meetings:
    only the member pairs of the gaps each cohort bridges (from
    :func:`cohortmatch.scoring.bridges`) are listed, never all pairs of a cohort.
    """
    p = problem
    a = np.asarray(assignment, dtype=np.int64)
    units = np.flatnonzero(a >= 0)
    placed = np.zeros(p.n_people, dtype=bool)
    placed[p.unit_person[units]] = True
    counts = np.zeros(p.n_people, dtype=np.int64)
    k_bridge, e_bridge, n_bridge = bridges(p, a)
    if k_bridge.size == 0:
        return counts, placed
    # members grouped by (cohort, team): group g holds persons[start[g]:start[g] + size[g]]
    n_teams = np.int64(p.n_teams)
    key = a[units] * n_teams + p.unit_team[units]
    order = np.argsort(key, kind="stable")
    persons = p.unit_person[units][order].astype(np.int64)
    group_key, start, size = np.unique(key[order], return_index=True, return_counts=True)
    ga = np.searchsorted(group_key, k_bridge * n_teams + p.edge_a[e_bridge])
    gb = np.searchsorted(group_key, k_bridge * n_teams + p.edge_b[e_bridge])
    # every member pair across each bridged gap: n_bridge[i] = size[ga[i]] * size[gb[i]]
    pair = np.repeat(np.arange(k_bridge.size), n_bridge)
    offset = np.arange(pair.size) - np.repeat(np.cumsum(n_bridge) - n_bridge, n_bridge)
    width = size[gb][pair]
    left = persons[start[ga][pair] + offset // width]
    right = persons[start[gb][pair] + offset % width]
    n_people = np.int64(p.n_people)
    met = np.unique(np.minimum(left, right) * n_people + np.maximum(left, right))
    counts += np.bincount(met // n_people, minlength=p.n_people)
    counts += np.bincount(met % n_people, minlength=p.n_people)
    return counts, placed


def partner_summary(counts: np.ndarray) -> tuple[float, float]:
    """Share of participants with at least one gap partner, and the median count.

    ``counts`` holds one entry per participant; both figures are 0 when it is empty.

    Examples
    --------
    >>> partner_summary(np.array([0, 1, 3, 2]))
    (0.75, 1.5)
    """
    counts = np.asarray(counts)
    if counts.size == 0:
        return 0.0, 0.0
    return float(np.mean(counts > 0)), float(np.median(counts))
