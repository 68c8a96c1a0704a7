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
    Meetings are counted per (cohort, team) group from the gaps each cohort bridges
    (:func:`cohortmatch.scoring.bridges`): O(units log units + bridges). Only people in
    several cohorts (several courses or rounds) can meet a partner twice; for them the
    member pairs across each bridged gap are listed (never all pairs of a cohort) to
    count each partner once.
    """
    p = problem
    a = np.asarray(assignment, dtype=np.int64)
    units = np.flatnonzero(a >= 0)
    per_person = np.bincount(p.unit_person[units], minlength=p.n_people)
    counts = _meetings(p, a)
    if (per_person > 1).any():  # only people in several cohorts can meet a partner twice
        again = np.where((per_person[p.unit_person] > 1) & (a >= 0), a, -1)
        pairs = _partner_pairs(p, again)
        n = np.int64(p.n_people)
        unique = np.unique(pairs)
        for keys, sign in ((pairs, -1), (unique, 1)):
            counts += sign * (np.bincount(keys // n, minlength=p.n_people)
                              + np.bincount(keys % n, minlength=p.n_people))
    return counts, per_person > 0


def _groups(problem: CompiledProblem, assignment: np.ndarray) -> tuple[np.ndarray, ...]:
    """Placed members grouped by (cohort, team), and the bridged gaps' two groups.

    Returns ``persons`` (sorted by group), the groups' ``start`` and ``size``, and for each
    bridged (cohort, gap) the groups ``ga``, ``gb`` of its two teams.
    """
    p = problem
    units = np.flatnonzero(assignment >= 0)
    n_teams = np.int64(p.n_teams)
    key = assignment[units] * n_teams + p.unit_team[units]
    order = np.argsort(key, kind="stable")
    persons = p.unit_person[units][order].astype(np.int64)
    group_key, start, size = np.unique(key[order], return_index=True, return_counts=True)
    k_bridge, e_bridge, _ = bridges(p, assignment)
    ga = np.searchsorted(group_key, k_bridge * n_teams + p.edge_a[e_bridge])
    gb = np.searchsorted(group_key, k_bridge * n_teams + p.edge_b[e_bridge])
    return persons, start, size, ga, gb


def _meetings(problem: CompiledProblem, assignment: np.ndarray) -> np.ndarray:
    """Gap partners met per person, counted once per cohort shared: O(units + bridges)."""
    persons, start, size, ga, gb = _groups(problem, assignment)
    per_group = (np.bincount(ga, weights=size[gb], minlength=size.size)
                 + np.bincount(gb, weights=size[ga], minlength=size.size))
    per_member = np.repeat(per_group, size)
    return np.bincount(persons, weights=per_member, minlength=problem.n_people).astype(np.int64)


def _partner_pairs(problem: CompiledProblem, assignment: np.ndarray) -> np.ndarray:
    """Key ``min * P + max`` of every (person, gap partner) meeting, once per cohort shared."""
    persons, start, size, ga, gb = _groups(problem, assignment)
    n_pairs = size[ga] * size[gb]
    pair = np.repeat(np.arange(ga.size), n_pairs)
    offset = np.arange(pair.size) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
    width = size[gb][pair]
    left = persons[start[ga][pair] + offset // width]
    right = persons[start[gb][pair] + offset % width]
    return np.minimum(left, right) * np.int64(problem.n_people) + np.maximum(left, right)


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
