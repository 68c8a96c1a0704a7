"""``no_isolation``: nobody is the only one with their value of an attribute in a cohort.

Each value of the attribute appears 0 or at least 2 times in every cohort. A value that
only one participant of a course round has cannot be shared: it is exempt, and the plan
says so in its notes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit
from ortools.sat.python import cp_model

from ..categories import Categories
from .base import CourseView, Cut
from .counts import CountRule, holders, row_terms

if TYPE_CHECKING:
    from ..engines.cpsat.model import CohortModel

__all__ = ["NoIsolation", "isolation_cost"]


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
        return out

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


@njit(cache=True, inline="always")
def isolation_cost(R, c, k, n):  # type: ignore[no-untyped-def]  # pragma: no cover
    """1 when ``n == 1`` person with row ``c`` sits in cohort ``k`` and others could join them."""
    if n == 1 and R.attr_iso[R.row_attr[c]] and R.row_block_n[c, R.mix_block[k]] >= 2:
        return 1
    return 0
