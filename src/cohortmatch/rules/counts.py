"""What the mix rules share: per-(value, cohort) counts of a person attribute.

``balance``, ``no_isolation``, ``at_most`` and ``at_least`` (and ``max_per_team``, the
team case of ``at_most``) each limit how many people with a value of an attribute a
cohort holds. :class:`CountRule` gives them the counts, in numpy for the rules' own checks
and in the search kernels' state: every unit has one *row* per counted attribute
(``unit_rows``), and a search state keeps ``mix_counts[cohort, row]`` up to date as units
move (:func:`bind_counts`, :func:`shift_counts`), as it keeps team counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numba import njit

from ..categories import Categories
from ..compiled import CompiledProblem
from .base import Rule

if TYPE_CHECKING:
    from ..engines.cpsat.model import CohortModel

__all__ = ["CountRule", "CountData", "count_data", "bind_counts", "shift_counts", "row_terms", "holders"]


def holders(n: int) -> str:
    """``"1 participant has it"``, ``"9 participants have it"``."""
    return f"{n} participant has it" if n == 1 else f"{n} participants have it"


class CountData(NamedTuple):
    """The arrays every count rule reads (built once per problem).

    Attributes
    ----------
    unit_rows : int64 array (U, A)
        Each unit's row (value) per counted attribute.
    row_attr : int64 array (C,)
    row_block_n : int64 array (C, B)
        Participants of each block with each value.
    block_n : int64 array (B,)
        Participants of each block.
    """

    unit_rows: np.ndarray
    row_attr: np.ndarray
    row_block_n: np.ndarray
    block_n: np.ndarray


def count_data(problem: CompiledProblem) -> CountData:
    """The :class:`CountData` of a problem with mix rules (kept on the problem)."""

    def build() -> CountData:
        p = problem
        cats = p.categories
        assert cats is not None
        unit_rows = np.ascontiguousarray(cats.person_row[p.unit_person], dtype=np.int64)
        row_block_n = np.zeros((cats.n_rows, p.n_blocks), np.int64)
        for a in range(unit_rows.shape[1]):
            np.add.at(row_block_n, (unit_rows[:, a], p.unit_block), 1)
        return CountData(unit_rows, cats.row_attr, row_block_n,
                         np.diff(p.block_units).astype(np.int64))

    return problem.cached("count_data", build)  # type: ignore[no-any-return]


class CountRule(Rule):
    """A rule on how many people with each value of an attribute a cohort holds.

    A subclass says which attributes it counts (:meth:`counted`) and what a cell costs
    (:meth:`cell_cost`: its violations for each count of a row in a cohort); violations,
    offenders and the kernel arrays follow. Counts of attributes the rule does not count
    cost nothing.
    """

    def __init__(self, problem: CompiledProblem):
        super().__init__(problem)
        cats = problem.categories
        assert cats is not None
        self.cats: Categories = cats
        self.data = count_data(problem)

    @classmethod
    def counted(cls, cats: Categories) -> np.ndarray:
        """Which attributes (bool (A,)) the rule counts."""
        raise NotImplementedError

    @classmethod
    def applies(cls, problem):  # type: ignore[no-untyped-def]
        cats = problem.categories
        return cats is not None and bool(cls.counted(cats).any())

    def rows(self) -> np.ndarray:
        """The rows of the attributes the rule counts."""
        return np.flatnonzero(self.counted(self.cats)[self.data.row_attr])

    def counts(self, assignment: np.ndarray) -> np.ndarray:
        """``n[row, cohort]`` of an assignment (int64 (C, K))."""
        p = self.problem
        a = np.asarray(assignment)
        placed = a >= 0
        C, K = self.cats.n_rows, p.n_cohorts
        keys = self.data.unit_rows[placed] * K + a[placed][:, None]
        return np.bincount(keys.ravel(), minlength=C * K).reshape(C, K)

    def cell_cost(self, counts: np.ndarray, size: np.ndarray) -> np.ndarray:
        """The rule's violations in each cell (int (C, K)), given counts and cohort sizes."""
        raise NotImplementedError

    def costs(self, assignment: np.ndarray) -> np.ndarray:
        a = np.asarray(assignment)
        size = np.bincount(a[a >= 0], minlength=self.problem.n_cohorts)
        return self.cell_cost(self.counts(a), size)

    def violations(self, assignment: np.ndarray) -> int:
        return int(self.costs(assignment).sum())

    def offenders(self, assignment: np.ndarray) -> np.ndarray:
        """The members of every cohort that breaks the rule (a value short in a cohort is
        mended by someone leaving it, as much as one in excess)."""
        a = np.asarray(assignment)
        bad = np.asarray((self.costs(a) > 0).any(axis=0))
        placed = np.flatnonzero(a >= 0)
        return placed[bad[a[placed]]]

    def signature(self, units: np.ndarray) -> list[Any]:
        cols = self.data.unit_rows[units][:, self.counted(self.cats)]
        return [tuple(r) for r in cols.tolist()]

    def kernel_fields(self) -> dict[str, Any]:
        d, cats = self.data, self.cats
        return {"unit_rows": d.unit_rows, "row_attr": d.row_attr, "attr_indptr": cats.attr_indptr,
                "row_block_n": d.row_block_n, "block_n": d.block_n,
                "mix_block": self.problem.cohort_block.astype(np.int64),
                "mix_counts": np.zeros((self.problem.n_cohorts, cats.n_rows), np.int64)}

    def block_rows(self, b: int) -> np.ndarray:
        """Rows of this rule's attributes that some participant of block ``b`` holds."""
        rows = self.rows()
        return rows[self.data.row_block_n[rows, b] > 0]

    def where(self, b: int) -> str:
        return f"course {self.problem.block_name(b)!r}"


def row_terms(cm: CohortModel, rows: np.ndarray) -> dict[tuple[int, int], list[Any]]:
    """``{(row, cohort): [n[g, k], ...]}``: the model's count variables of each value.

    Units of a model group share every row (the count rules' signatures see to that).
    """
    d = cm.data
    unit_rows = count_data(d.problem).unit_rows
    wanted = np.zeros(d.problem.categories.n_rows, dtype=bool)  # type: ignore[union-attr]
    wanted[rows] = True
    out: dict[tuple[int, int], list[Any]] = {}
    for b in d.blocks:
        for g in d.block_groups[b].tolist():
            for c in unit_rows[d.g_units[g][0]].tolist():
                if wanted[c]:
                    for k in d.block_cohorts[b].tolist():
                        out.setdefault((c, k), []).append(cm.n[g, k])
    return out


def bind_counts(R: Any, assignment: np.ndarray) -> Any:
    """``R`` with ``mix_counts`` of its own, counted from ``assignment`` (unchanged without
    count rules): a search state reads and updates them as units move."""
    if R.unit_rows.shape[1] == 0:
        return R
    a = np.asarray(assignment)
    placed = a >= 0
    counts = np.zeros_like(R.mix_counts)
    for col in range(R.unit_rows.shape[1]):
        np.add.at(counts, (a[placed], R.unit_rows[placed, col]), 1)
    return R._replace(mix_counts=counts)


@njit(cache=True)
def shift_counts(R, u, k1, k2):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Unit ``u`` moves from ``k1`` to ``k2`` (-1: unplaced): update ``R.mix_counts``."""
    for a in range(R.unit_rows.shape[1]):
        c = R.unit_rows[u, a]
        if k1 >= 0:
            R.mix_counts[k1, c] -= 1
        if k2 >= 0:
            R.mix_counts[k2, c] += 1
