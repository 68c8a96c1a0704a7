"""Cohort sizes: every participant of a course round in exactly one of its cohorts, each
cohort holding ``min_size`` to ``max_size`` people."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from .base import CourseView, Cut, Rule

if TYPE_CHECKING:
    from ..engines.cpsat.model import CohortModel

__all__ = ["Sizes", "sizes_ok", "largest_teams_first"]


class Sizes(Rule):
    """Every unit placed once, in a cohort of its block, within the cohort's size bounds.

    A problem with seats (:meth:`~cohortmatch.compiled.CompiledProblem.with_seats`) places
    its required units and may leave the others out (the seats rule,
    :mod:`cohortmatch.rules.seats`, caps how many are placed).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="a") for i in range(5)])
    >>> rule = Sizes(compile_problem(org, [Course(id="x", min_size=4, max_size=4)]))
    >>> rule.precheck()
    ["course 'x': 5 participants cannot form 2 cohort(s) of 4-4 (needs 8-8)"]
    >>> rule.violations(np.array([0, 0, 0, 0, -1]))    # one unplaced, cohort 2 four short
    5
    """

    name = "sizes"

    @classmethod
    def applies(cls, problem):  # type: ignore[no-untyped-def]
        return True

    def violations(self, assignment: np.ndarray) -> int:
        p = self.problem
        a = np.asarray(assignment)
        placed = a >= 0
        wrong_block = placed & (p.cohort_block[np.where(placed, a, 0)] != p.unit_block)
        size = np.bincount(a[placed], minlength=p.n_cohorts)
        short = np.maximum(p.cohort_min - size, 0) * ~((size == 0) & self._may_be_empty())
        off = short.sum() + np.maximum(size - p.cohort_max, 0).sum()
        return int((~placed & self._must()).sum() + wrong_block.sum() + off)

    def _may_be_empty(self) -> np.ndarray | bool:
        """Which cohorts may stay empty (with seats, the optional ones; else none)."""
        optional = self.problem.cohort_optional
        return False if optional is None else optional

    def _must(self) -> np.ndarray | bool:
        """Which units must be placed: every one, or the required ones with seats."""
        return True if self.problem.unit_required is None else self.problem.unit_required

    def offenders(self, assignment: np.ndarray) -> np.ndarray:
        p = self.problem
        a = np.asarray(assignment)
        placed = a >= 0
        size = np.bincount(a[placed], minlength=p.n_cohorts)
        off = (size < p.cohort_min) | (size > p.cohort_max)
        return np.flatnonzero((~placed & self._must()) | (placed & off[np.where(placed, a, 0)]))

    def precheck(self) -> list[str]:
        p = self.problem
        out = []
        for ci, course in enumerate(p.course_ids):
            b = int(np.flatnonzero(p.block_course == ci)[0])
            n = int(p.block_units[b + 1] - p.block_units[b])
            cs, ce = p.block_of_cohort_range(b)
            k = ce - cs
            lo, hi = int(p.cohort_min[cs]), int(p.cohort_max[cs])
            if p.unit_required is not None:  # with seats: the seats rule counts them
                continue
            if n == 0:
                out.append(f"course {course!r} has no participants")
            elif not k * lo <= n <= k * hi:
                out.append(f"course {course!r}: {n} participants cannot form {k} cohort(s) of {lo}-{hi} "
                           f"(needs {k * lo}-{k * hi})")
        return out

    def reduce(self, view: CourseView) -> Cut | None:
        n, k, lo, hi = int(view.alive.shape[0]), view.cohorts, view.lo, view.hi
        team = self.problem.person_team
        if not view.fixed and k * lo > n:
            keep = (n // lo) * hi
            why = (f"{view.where}: {n} participants cannot form cohorts of {lo}-{hi}; {n - keep} left over"
                   if keep else f"{view.where}: {n} participant(s), fewer than the {lo} a cohort needs")
            return Cut(largest_teams_first(view.alive, team, n - keep), why)
        if view.fixed and n > k * hi:
            return Cut(largest_teams_first(view.alive, team, n - k * hi),
                       f"{view.where}: {n} participants do not fit {k} cohort(s) of {lo}-{hi}; "
                       f"{n - k * hi} left over")
        if view.fixed and n < k * lo:
            return Cut(view.alive, f"{view.where}: {n} participants cannot fill {k} cohort(s) of "
                                   f"{lo}-{hi} (needs at least {k * lo}); nobody could be placed")
        return None

    def encode(self, cm: CohortModel) -> None:
        d, p = cm.data, cm.data.problem
        count = d.g_count
        for b in d.blocks:
            ks = d.block_cohorts[b].tolist()
            if not ks:
                continue
            lo, hi = int(p.cohort_min[ks[0]]), int(p.cohort_max[ks[0]])
            lit = cm.rule(("size", b), f"course {p.block_name(b)!r}: cohorts of {lo}-{hi} people")
            for g in d.block_groups[b].tolist():  # every unit in one cohort of its block
                placed = sum(cm.n[g, k] for k in ks)
                must = p.unit_required is None or bool(p.unit_required[d.g_units[g][0]])
                cm.enforce(cm.model.add(placed == int(count[g]) if must else placed <= int(count[g])), lit)
            for k in ks:
                size = sum(cm.n[g, k] for g in d.block_groups[b].tolist())
                if p.cohort_optional is not None and p.cohort_optional[k]:  # empty, or within its sizes
                    used = cm.used[k] = cm.model.new_bool_var(f"used[{k}]")
                    xs = [cm.n[g, k] for g in d.block_groups[b].tolist()]
                    cm.derive(used, lambda v, xs=xs: int(sum(v[x.index] for x in xs) > 0))
                    cm.enforce(cm.model.add(size >= int(p.cohort_min[k]) * used), lit)
                    cm.enforce(cm.model.add(size <= int(p.cohort_max[k]) * used), lit)
                    continue
                cm.enforce(cm.model.add(size >= int(p.cohort_min[k])), lit)
                cm.enforce(cm.model.add(size <= int(p.cohort_max[k])), lit)


@njit(cache=True)
def sizes_ok(k1, k2, s, size, cohort_min, cohort_max):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Whether ``s`` units may leave cohort ``k1`` (-1: unplaced) for ``k2`` within the size bounds."""
    if k1 >= 0 and size[k1] - s < cohort_min[k1]:
        return False
    return size[k2] + s <= cohort_max[k2]


def largest_teams_first(alive: np.ndarray, team: np.ndarray, count: int) -> np.ndarray:
    """``count`` people of ``alive``, taken from the largest teams first, highest ids first.

    Examples
    --------
    >>> largest_teams_first(np.arange(5), np.array([0, 0, 0, 1, 1]), 2).tolist()
    [2, 4]
    """
    if count <= 0:
        return alive[:0]
    t = team[alive]
    order = np.lexsort((-alive, t))  # by team, then id descending
    ts = t[order]
    starts = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]])
    sizes = np.diff(np.r_[starts, ts.shape[0]])
    rank = np.arange(ts.shape[0]) - np.repeat(starts, sizes)  # 0 = highest id of the team
    left = np.repeat(sizes, sizes) - rank  # how many of the team remain before this one goes
    pick = np.lexsort((-alive[order], -left))[:count]
    return np.sort(alive[order][pick])
