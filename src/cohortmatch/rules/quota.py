"""``at_most`` and ``at_least``: per-cohort limits and quotas on the values of an attribute.

``Policy(at_most={"level": {"director": 1}})`` keeps every cohort to one director;
``Policy(at_least={"role": {"first aider": 1}})`` gives every cohort a first aider.
``max_per_team`` is the team case of ``at_most`` (:mod:`.team_cap`): both use the
capacity checks of this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from ..categories import Categories
from ..compiled import NO_CAP
from .base import CourseView, Cut
from .counts import CountRule, holders, row_terms
from .sizes import largest_teams_first

if TYPE_CHECKING:
    from ..engines.cpsat.model import CohortModel

__all__ = ["AtMost", "AtLeast", "quota_cost", "capacity_conflicts", "capacity_cut"]


def _capped(n: np.ndarray, caps: np.ndarray) -> bool:
    """Whether the caps limit a cohort at all (every value capped, or one over its cap)."""
    return bool((caps < NO_CAP).all() or (n > caps).any())


def capacity_conflicts(
    where: str, n: np.ndarray, caps: np.ndarray, k: int, kmin: int,
    what: Callable[[int], str], limit: Callable[[int], str], room_words: str, kinds: str,
) -> list[str]:
    """Values with more participants than ``k`` cohorts hold under their caps, and caps that
    leave a cohort below ``kmin`` people (``n``, ``caps``: per value).

    Examples
    --------
    >>> for conflict in capacity_conflicts("course 'x'", np.array([9]), np.array([2]), 2, 4,
    ...         lambda r: "team 'sales'", lambda r: "max_per_team 2", "max_per_team 2", "teams"):
    ...     print(conflict)
    course 'x': team 'sales' has 9 participants but 2 cohorts x max_per_team 2 = 4 places
    course 'x': cohorts need at least 4 people but max_per_team 2 allows at most 2 (1 teams take part)
    """
    out = [f"{where}: {what(r)} has {n[r]} participants but {k} cohorts x {limit(r)} = {k * caps[r]} places"
           for r in np.flatnonzero(n > k * caps).tolist()]
    room = int(np.minimum(n, caps).sum())
    if room < kmin and _capped(n, caps):
        out.append(f"{where}: cohorts need at least {kmin} people but {room_words} allows at most "
                   f"{room} ({int((n > 0).sum())} {kinds} take part)")
    return out


def capacity_cut(
    view: CourseView, rows: np.ndarray, caps: np.ndarray, what: Callable[[int], str],
    limit: Callable[[int], str], room_words: str,
) -> Cut | None:
    """People to leave out of ``view`` so that every value fits its caps (``rows``: the row of
    each alive person): those beyond the places of the first value over them, highest ids
    first, or everyone when the caps leave a cohort short."""
    k = view.cohorts
    n = np.bincount(rows, minlength=caps.shape[0])
    over = np.flatnonzero(n > k * caps)
    if over.shape[0]:
        r = int(over[0])
        extra = int(n[r]) - k * int(caps[r])
        return Cut(view.alive[rows == r][-extra:],
                   f"{view.where}: {what(r)} has {n[r]} participants but {k} cohort(s) x "
                   f"{limit(r)} = {k * caps[r]} places; {extra} left over")
    room = int(np.minimum(n, caps).sum())
    if room < view.lo and _capped(n, caps):
        return Cut(view.alive, f"{view.where}: cohorts need at least {view.lo} people but "
                               f"{room_words} allows at most {room}; nobody could be placed")
    return None


def _by_row(rows: np.ndarray, words: Callable[[int], str]) -> Callable[[int], str]:
    """``words`` of a row, given its place in ``rows``."""
    return lambda r: words(int(rows[r]))


class AtMost(CountRule):
    """At most ``at_most[attribute][value]`` people with the value in each cohort.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team=f"t{i}",
    ...                                   attributes={"level": "director" if i < 5 else "staff"})
    ...                            for i in range(8)])
    >>> rule = AtMost(compile_problem(org, [Course(id="x", min_size=4, max_size=4)],
    ...                               Policy(at_most={"level": {"director": 2}})))
    >>> rule.precheck()
    ["course 'x': level 'director' has 5 participants but 2 cohorts x at_most 2 = 4 places"]
    >>> rule.violations(np.array([0, 0, 0, 1, 1, 0, 1, 1]))     # three directors in x-1
    1
    """

    name = "at_most"

    @classmethod
    def counted(cls, cats: Categories) -> np.ndarray:
        return np.array([(cats.row_hi[cats.rows(a)] < NO_CAP).any() for a in range(len(cats.attributes))],
                        dtype=bool)

    def cell_cost(self, counts: np.ndarray, size: np.ndarray) -> np.ndarray:
        return np.maximum(counts - self.cats.row_hi[:, None], 0)

    def _what(self, c: int) -> str:
        a = int(self.data.row_attr[c])
        return f"{self.cats.attributes[a]} {self.cats.row_value[c]!r}"

    def _limit(self, c: int) -> str:
        return f"at_most {self.cats.row_hi[c]}"

    def precheck(self) -> list[str]:
        p, out = self.problem, []
        for b in range(p.n_blocks):
            k = int(p.block_cohorts[b + 1] - p.block_cohorts[b])
            kmin = int(p.cohort_min[p.block_cohorts[b]]) if k else 0
            for a in np.flatnonzero(self.counted(self.cats)).tolist():
                rows = np.asarray(self.cats.rows(a), np.int64)
                out += capacity_conflicts(
                    self.where(b), self.data.row_block_n[rows, b], self.cats.row_hi[rows], k, kmin,
                    _by_row(rows, self._what), _by_row(rows, self._limit),
                    f"at_most on {self.cats.attributes[a]}", "values")
        return out

    def reduce(self, view: CourseView) -> Cut | None:
        for a in np.flatnonzero(self.counted(self.cats)).tolist():
            rows = np.asarray(self.cats.rows(a), np.int64)
            cut = capacity_cut(view, self.cats.person_row[view.alive, a] - rows[0], self.cats.row_hi[rows],
                               _by_row(rows, self._what), _by_row(rows, self._limit),
                               f"at_most on {self.cats.attributes[a]}")
            if cut is not None:
                return cut
        return None

    def encode(self, cm: CohortModel) -> None:
        p = cm.data.problem
        rows = self.rows()
        rows = rows[self.cats.row_hi[rows] < NO_CAP]
        for (c, k), vs in row_terms(cm, rows).items():
            cap = int(self.cats.row_hi[c])
            if sum(cm.upper(v) for v in vs) <= cap:
                continue
            b = int(p.cohort_block[k])
            lit = cm.rule(("at_most", b, c), f"{self.where(b)}: at most {cap} with "
                                             f"{self.cats.name(c)} per cohort (at_most)")
            cm.enforce(cm.model.add(sum(vs) <= cap), lit)

    def kernel_fields(self) -> dict[str, Any]:
        return {**super().kernel_fields(), "row_hi": self.cats.row_hi}


class AtLeast(CountRule):
    """At least ``at_least[attribute][value]`` people with the value in each cohort.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team=f"t{i}",
    ...                                   attributes={"role": "first aider" if i < 2 else "staff"})
    ...                            for i in range(12)])
    >>> rule = AtLeast(compile_problem(org, [Course(id="x", min_size=4, max_size=4)],
    ...                                Policy(at_least={"role": {"first aider": 1}})))
    >>> rule.precheck()
    ["course 'x': at_least role='first aider': 3 cohorts need 3, only 2 participants have it"]
    """

    name = "at_least"

    @classmethod
    def counted(cls, cats: Categories) -> np.ndarray:
        return np.array([(cats.row_lo[cats.rows(a)] > 0).any() for a in range(len(cats.attributes))],
                        dtype=bool)

    def cell_cost(self, counts: np.ndarray, size: np.ndarray) -> np.ndarray:
        return np.maximum(self.cats.row_lo[:, None] - counts, 0)

    def _short(self, b: int, k: int) -> list[tuple[int, int]]:
        """``(row, participants)`` of the values too few for ``k`` cohorts of block ``b``."""
        rows = np.flatnonzero(self.cats.row_lo > 0)
        n = self.data.row_block_n[rows, b]
        bad = n < k * self.cats.row_lo[rows]
        return list(zip(rows[bad].tolist(), n[bad].tolist(), strict=True))

    def precheck(self) -> list[str]:
        p, cats, out = self.problem, self.cats, []
        for b in range(p.n_blocks):
            k = int(p.block_cohorts[b + 1] - p.block_cohorts[b])
            out += [f"{self.where(b)}: at_least {cats.name(c)}: {k} cohorts need {k * cats.row_lo[c]}, "
                    f"only {holders(n)}" for c, n in self._short(b, k)]
            hi = int(p.cohort_max[p.block_cohorts[b]]) if k else 0
            for a in np.flatnonzero(self.counted(cats)).tolist():
                total = int(cats.row_lo[cats.rows(a)].sum())
                if total > hi:
                    out.append(f"{self.where(b)}: at_least on {cats.attributes[a]} asks each cohort for "
                               f"{total} people, but a cohort holds at most {hi}")
        return out

    def reduce(self, view: CourseView) -> Cut | None:
        p, cats = self.problem, self.cats
        n = np.bincount(cats.person_row[view.alive].ravel(), minlength=cats.n_rows)
        need = np.flatnonzero(n < view.cohorts * cats.row_lo)
        if need.shape[0] == 0:
            return None
        c = int(need[0])
        fits = int(n[c]) // int(cats.row_lo[c])
        why = (f"{view.where}: at_least {cats.name(c)}: {view.cohorts} cohorts need "
               f"{view.cohorts * cats.row_lo[c]}, only {holders(int(n[c]))}")
        a = int(self.data.row_attr[c])
        others = view.alive[cats.person_row[view.alive, a] != c]
        keep = fits * view.hi
        if view.fixed or fits == 0 or keep >= view.alive.shape[0] or others.shape[0] == 0:
            return Cut(view.alive, why + "; nobody could be placed")
        gone = largest_teams_first(others, p.person_team, min(view.alive.shape[0] - keep, others.shape[0]))
        return Cut(gone, why + f"; {gone.shape[0]} without it left out so that {fits} cohort(s) suffice")

    def encode(self, cm: CohortModel) -> None:
        d = cm.data
        rows = np.flatnonzero(self.cats.row_lo > 0)
        terms = row_terms(cm, rows)
        for b in d.blocks:
            for k in d.block_cohorts[b].tolist():
                for c in rows.tolist():
                    q = int(self.cats.row_lo[c])
                    lit = cm.rule(("at_least", b, c), f"{self.where(b)}: at least {q} with "
                                                      f"{self.cats.name(c)} per cohort (at_least)")
                    vs = terms.get((c, k), [])
                    cm.enforce(cm.model.add(sum(vs) >= q) if vs else cm.model.add_bool_or([]), lit)

    def kernel_fields(self) -> dict[str, Any]:
        return {**super().kernel_fields(), "row_lo": self.cats.row_lo}


@njit(cache=True, inline="always")
def quota_cost(R, c, n):  # type: ignore[no-untyped-def]  # pragma: no cover
    """``at_most`` and ``at_least`` violations of ``n`` people with row ``c`` in a cohort."""
    return max(n - R.row_hi[c], 0) + max(R.row_lo[c] - n, 0)
