"""``no_isolation``: nobody is the only one with their value of an attribute in a cohort.

Each value of the attribute appears 0 or at least 2 times in every cohort. A value that
only one participant of a course round has cannot be shared: it is exempt, and the plan
says so in its notes.

A value few people hold (at most :data:`SMALL_GROUP` in a course round) is also checked
on its holders alone: they must split into groups of two or more, at most the round's
cohorts, within ``max_per_team`` and keep-apart pairs (managers and their reports). Any
plan gives such groups (its cohorts, cut down to the holders), so when CP-SAT proves that
none exists, no plan exists, and the pre-check says so; a partial plan leaves out the
fewest holders that make the rest groupable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit
from ortools.sat.python import cp_model

from ..categories import Categories
from .apart import Apart
from .base import CourseView, Cut
from .counts import CountRule, holders, row_terms

if TYPE_CHECKING:
    from ..engines.cpsat.model import CohortModel

__all__ = ["NoIsolation", "isolation_cost", "SMALL_GROUP"]

#: Values held by at most this many participants of a course round are checked on their
#: holders alone, by CP-SAT (:func:`left_over`).
SMALL_GROUP = 64
#: CP-SAT's deterministic time for one such check (about a second; the result repeats),
#: and for all the checks of one request together.
GROUPING_WORK = 1.0
GROUPING_TOTAL = 4.0


class NoIsolation(CountRule):
    """Each value of a ``no_isolation`` attribute: 0 or at least 2 people per cohort.

    Examples
    --------
    >>> sites = ["Leeds"] * 5 + ["York"] * 2 + ["Hull"]
    >>> org = Organisation(people=[Person(id=f"p{i}", team=f"t{i}", attributes={"site": s})
    ...                            for i, s in enumerate(sites)])
    >>> rule = NoIsolation(compile_problem(org, [Course(id="x", min_size=4, max_size=4)],
    ...                                    Policy(no_isolation=["site"])))
    >>> rule.violations(np.array([0, 0, 0, 1, 1, 0, 1, 1]))   # one York person in each cohort
    2
    >>> rule.notes()
    ["no_isolation: 'p7' is the only participant with site='Hull' in course 'x'"]
    """

    name = "no_isolation"

    @classmethod
    def counted(cls, cats: Categories) -> np.ndarray:
        return cats.isolation

    def exempt(self) -> np.ndarray:
        """Rows (C, B) held by one participant of a block alone."""
        return self.data.row_block_n == 1  # type: ignore[no-any-return]

    def cell_cost(self, counts: np.ndarray, size: np.ndarray) -> np.ndarray:
        rows = self.counted(self.cats)[self.data.row_attr]
        shared = ~self.exempt()[:, self.problem.cohort_block]
        return ((counts == 1) & shared & rows[:, None]).astype(np.int64)

    def notes(self) -> list[str]:
        p, out = self.problem, []
        for b in range(p.n_blocks):
            for c in self.rows()[self.exempt()[self.rows(), b]].tolist():
                lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
                a = int(self.data.row_attr[c])
                alone = lo + int(np.flatnonzero(self.data.unit_rows[lo:hi, a] == c)[0])
                out.append(f"no_isolation: {p.person_ids[p.unit_person[alone]]!r} is the only participant "
                           f"with {self.cats.name(c)} in {self.where(b)}")
        return out

    def precheck(self) -> list[str]:
        p, cats, out = self.problem, self.cats, []
        for b in range(p.n_blocks):
            k = int(p.block_cohorts[b + 1] - p.block_cohorts[b])
            for c in self._shared(b).tolist():
                n = int(self.data.row_block_n[c, b])
                need = max(2, int(cats.row_lo[c])) if cats.row_lo[c] else 0
                if cats.row_hi[c] < 2:
                    out.append(f"{self.where(b)}: no_isolation and at_most {cats.row_hi[c]} on "
                               f"{cats.name(c)}: no cohort may hold the {n} participants with it")
                elif need and k * need > n:
                    out.append(f"{self.where(b)}: no_isolation and at_least on {cats.name(c)}: {k} "
                               f"cohorts need {need} each ({k * need}), only {holders(n)}")
                elif (gone := self._left_over(b, c, self._holders(b, c), drop=False)) is not None and gone.size:
                    out.append(self._ungroupable(b, c))
        return out

    def _holders(self, b: int, c: int, persons: np.ndarray | None = None) -> np.ndarray:
        """Units of block ``b`` holding row ``c`` (of ``persons`` only, when given)."""
        p = self.problem
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        mine = self.data.unit_rows[lo:hi, int(self.data.row_attr[c])] == c
        if persons is not None:
            mine &= np.isin(p.unit_person[lo:hi], persons)
        return lo + np.flatnonzero(mine)

    def _left_over(self, b: int, c: int, units: np.ndarray, *, drop: bool) -> np.ndarray | None:
        """Holders to leave out so that the rest can be grouped (see the module), or None."""
        if not 2 <= units.shape[0] <= SMALL_GROUP:
            return None
        p = self.problem
        k = int(p.block_cohorts[b + 1] - p.block_cohorts[b])
        size = int(p.cohort_max[p.block_cohorts[b]:p.block_cohorts[b + 1]].max())
        pairs = self._apart_pairs(units)
        team, cap = p.unit_team[units], int(min(p.max_per_team, size))
        memo = p.cached("isolation_groupings", dict)  # rounds of a course repeat the same check
        key = (team.tobytes(), pairs.tobytes(), cap, k, drop)
        if key not in memo:
            spent = memo.setdefault("spent", [0.0])
            work = min(GROUPING_WORK, GROUPING_TOTAL - spent[0])
            memo[key] = left_over(team, cap, pairs, k, drop=drop, work=work, spent=spent) if work > 0 else None
        return memo[key]  # type: ignore[no-any-return]

    def _apart_pairs(self, units: np.ndarray) -> np.ndarray:
        """Keep-apart pairs among ``units``, as positions in it (P, 2)."""
        if not Apart.applies(self.problem):
            return np.zeros((0, 2), np.int64)
        apart = self.problem.cached("isolation_apart", lambda: Apart(self.problem))
        at = {int(u): i for i, u in enumerate(units.tolist())}
        return np.array([(i, at[int(v)]) for i, u in enumerate(units.tolist()) for v in apart.of(u).tolist()
                         if int(v) in at and at[int(v)] > i], np.int64).reshape(-1, 2)

    def _ungroupable(self, b: int, c: int) -> str:
        n = int(self.data.row_block_n[c, b])
        return (f"{self.where(b)}: no_isolation on {self.cats.name(c)}: its {n} participants cannot "
                "share cohorts two or more at a time within max_per_team and keep-apart pairs "
                "(managers and their direct reports); proven on these participants alone")

    def _shared(self, b: int) -> np.ndarray:
        """Rows of this rule that at least two participants of block ``b`` hold."""
        rows = self.rows()
        return rows[self.data.row_block_n[rows, b] >= 2]

    def reduce(self, view: CourseView) -> Cut | None:
        cats = self.cats
        b = int(view.blocks[0])
        for c in self._shared(b).tolist():
            if cats.row_hi[c] < 2:
                a = int(self.data.row_attr[c])
                gone = view.alive[cats.person_row[view.alive, a] == c]
                if gone.shape[0] >= 2:
                    return Cut(gone, f"{view.where}: no_isolation and at_most {cats.row_hi[c]} on "
                                     f"{cats.name(c)}: no cohort may hold them")
        for c in self._shared(b).tolist():
            units = self._holders(b, c, view.alive)
            gone = self._left_over(b, c, units, drop=True)
            if gone is not None and gone.size:
                return Cut(self.problem.unit_person[units[gone]].astype(np.int64), self._ungroupable(b, c))
        return None

    def encode(self, cm: CohortModel) -> None:
        p = cm.data.problem
        exempt = self.exempt()
        for (c, k), vs in row_terms(cm, self.rows()).items():
            b = int(p.cohort_block[k])
            ub = sum(cm.upper(v) for v in vs)
            if exempt[c, b] or ub < 1 or self.data.row_block_n[c, b] < 2:
                continue
            lit = cm.rule(("no_isolation", b, c), f"{self.where(b)}: nobody alone with {self.cats.name(c)} "
                                                  "in a cohort (no_isolation)")
            domain = cp_model.Domain.from_intervals([[0, 0], [2, max(ub, 2)]])
            cm.enforce(cm.model.add_linear_expression_in_domain(sum(vs), domain), lit)

    def kernel_fields(self) -> dict[str, Any]:
        return {**super().kernel_fields(), "attr_iso": self.cats.isolation}


def left_over(team: np.ndarray, cap: int, apart: np.ndarray, groups: int, *, drop: bool,
              work: float = GROUPING_WORK, spent: list[float] | None = None) -> np.ndarray | None:
    """Positions of people to leave out so that the rest split into at most ``groups``
    groups of two or more, each with at most ``cap`` of a team and no ``apart`` pair.

    ``drop=False`` only asks whether everyone can be grouped (an empty array: yes; every
    position: no). ``drop=True`` leaves out the fewest, the last positions first. None when
    CP-SAT did not decide within ``work`` deterministic seconds (added to ``spent[0]``).
    Group sizes above two are not bounded here (the callers' cohorts are larger than their
    small groups).

    Examples
    --------
    >>> # a manager (0) and three direct reports of one team, one more person (4), 2 per team
    >>> apart = np.array([[0, 1], [0, 2], [0, 3]])
    >>> left_over(np.array([0, 0, 0, 0, 1]), 2, apart, 3, drop=False).size > 0
    True
    >>> left_over(np.array([0, 0, 0, 0, 1]), 2, apart, 3, drop=True)
    array([3])
    """
    n = team.shape[0]
    if n < 2 or groups < 1:
        return None
    if apart.shape[0] == 0 and np.bincount(team).max() <= cap:
        return np.zeros(0, np.int64)  # one group holds them all
    g_n = min(groups, n // 2)
    m = cp_model.CpModel()
    keep = [m.new_bool_var(f"keep{i}") for i in range(n)]
    # person i sits in one group of index <= i (groups ordered by their first member)
    y = {(i, g): m.new_bool_var(f"y{i}_{g}") for i in range(n) for g in range(min(i + 1, g_n))}
    for i in range(n):
        m.add(sum(y[i, g] for g in range(min(i + 1, g_n))) == keep[i])
        if not drop:
            m.add(keep[i] == 1)
    crowded = [mates for t in np.unique(team).tolist()  # teams with more people than the cap
               if len(mates := np.flatnonzero(team == t).tolist()) > cap]
    for g in range(g_n):
        members = [y[i, g] for i in range(g, n)]
        used = m.new_bool_var(f"used{g}")
        m.add(sum(members) >= 2 * used)
        m.add(sum(members) <= n * used)
        for mates in crowded:
            mine = [y[i, g] for i in mates if g <= i]
            if len(mine) > cap:
                m.add(sum(mine) <= cap)
        for i, j in apart.tolist():
            if g <= min(i, j):
                m.add(y[i, g] + y[j, g] <= 1)
    if drop:  # the most people kept; of those, the earliest positions
        m.maximize(sum((n * n + n - i) * keep[i] for i in range(n)))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = work
    status = solver.solve(m)
    if spent is not None:
        spent[0] += solver.deterministic_time
    if status == cp_model.INFEASIBLE and not drop:
        return np.arange(n)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) and (status == cp_model.OPTIMAL or not drop):
        return np.flatnonzero([not solver.value(v) for v in keep]).astype(np.int64)
    return None


@njit(cache=True, inline="always")
def isolation_cost(R, c, k, n):  # type: ignore[no-untyped-def]  # pragma: no cover
    """1 when ``n == 1`` person with row ``c`` sits in cohort ``k`` and others could join them."""
    if n == 1 and R.attr_iso[R.row_attr[c]] and R.row_block_n[c, R.mix_block[k]] >= 2:
        return 1
    return 0
