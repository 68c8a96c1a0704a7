"""``balance``: every cohort holds each value of an attribute in proportion to its share.

.. math::

    \\lfloor n_k \\, s_v \\rfloor \\le x_{vk} \\le \\lceil n_k \\, s_v \\rceil

for a value :math:`v` held by the share :math:`s_v` of a course round's participants and a
cohort :math:`k` of :math:`n_k` people holding :math:`x_{vk}` of them. ``hard`` (the
default): a rule. ``soft``: the total deviation from these bounds,
:math:`\\sum_{v,k} \\max(0, \\lfloor n_k s_v \\rfloor - x_{vk}) + \\max(0, x_{vk} - \\lceil n_k s_v \\rceil)`,
is minimised first and gap value second; the plan reports it (``Plan.mix.deviation``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from ..categories import Categories
from ..compiled import NO_CAP
from .base import CourseView, Cut
from .counts import CountRule, holders, row_terms

if TYPE_CHECKING:
    from ..engines.cpsat.model import CohortModel

__all__ = ["Balance", "balance_cost", "balance_bounds"]


def balance_bounds(size: np.ndarray, holders: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``floor`` and ``ceil`` of ``size * holders / n`` in integers (arrays broadcast).

    Examples
    --------
    >>> lo, hi = balance_bounds(np.array([14, 13]), np.array([1020, 1020]), np.array([10000, 10000]))
    >>> lo.tolist(), hi.tolist()
    ([1, 1], [2, 2])
    """
    num = np.asarray(size, np.int64) * np.asarray(holders, np.int64)
    n = np.maximum(np.asarray(n, np.int64), 1)
    return num // n, -((-num) // n)


class Balance(CountRule):
    """Each value of a balanced attribute between floor and ceil of its share of a cohort.

    In ``soft`` mode the rule has no violations: :meth:`deviation` is an objective, which
    the engines that keep it minimise first (CP-SAT based engines do not, and refuse it).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team=f"t{i}", attributes={"site": "LLLLYY"[i]})
    ...                            for i in range(6)])
    >>> prob = compile_problem(org, [Course(id="x", min_size=3, max_size=3)], Policy(balance=["site"]))
    >>> Balance(prob).violations(np.array([0, 0, 0, 1, 1, 1]))   # x-1: 3 of L (2 wanted), x-2: 2 of Y
    4
    >>> Balance(prob).violations(np.array([0, 0, 1, 1, 0, 1]))
    0
    """

    name = "balance"

    def __init__(self, problem):  # type: ignore[no-untyped-def]
        super().__init__(problem)
        #: Soft balance is an objective: the CP-SAT model does not minimise it.
        self.cpsat = self.hard = not self.cats.soft

    @classmethod
    def counted(cls, cats: Categories) -> np.ndarray:
        return cats.balance

    def cell_cost(self, counts: np.ndarray, size: np.ndarray) -> np.ndarray:
        return np.zeros_like(counts) if self.cats.soft else self.deviations(counts, size)

    def deviations(self, counts: np.ndarray, size: np.ndarray) -> np.ndarray:
        """Each cell's distance to its bounds (int (C, K)); 0 outside balanced attributes."""
        p, d = self.problem, self.data
        b = p.cohort_block
        lo, hi = balance_bounds(size[None, :], d.row_block_n[:, b], d.block_n[b][None, :])
        dev = np.maximum(lo - counts, 0) + np.maximum(counts - hi, 0)
        return dev * self.counted(self.cats)[d.row_attr][:, None]  # type: ignore[no-any-return]

    def deviation(self, assignment: np.ndarray) -> int:
        """The total deviation of an assignment from the balance bounds (soft or hard)."""
        a = np.asarray(assignment)
        size = np.bincount(a[a >= 0], minlength=self.problem.n_cohorts)
        return int(self.deviations(self.counts(a), size).sum())

    # ------------------------------------------------------------- what counting proves
    def _allowed(self, c: int, b: int, with_balance: bool) -> tuple[int | None, int | None]:
        """Fewest and most people with row ``c`` any cohort of block ``b`` may hold under every
        count rule together (None, None: no cohort may hold any)."""
        p, cats, d = self.problem, self.cats, self.data
        k0 = int(p.block_cohorts[b])
        sizes = np.arange(int(p.cohort_min[k0]), int(p.cohort_max[k0]) + 1)
        lo, hi = balance_bounds(sizes, np.full(sizes.shape, d.row_block_n[c, b]), np.full(sizes.shape, d.block_n[b]))
        if not with_balance:
            lo, hi = np.zeros_like(sizes), sizes
        lo = np.maximum(lo, cats.row_lo[c])
        hi = np.minimum(np.minimum(hi, cats.row_hi[c]), sizes)
        alone = bool(cats.isolation[d.row_attr[c]]) and d.row_block_n[c, b] >= 2
        least = np.where(alone & (lo == 1), np.where(hi >= 2, 2, -1), lo)
        most = np.where(alone & (hi == 1), np.where(lo == 0, 0, -1), hi)
        ok = (lo <= hi) & (least >= 0) & (most >= 0)
        if not ok.any():
            return None, None
        return int(least[ok].min()), int(most[ok].max())

    def _conflict(self, c: int, b: int) -> str | None:
        """Why the participants with row ``c`` cannot be placed in block ``b``, or None."""
        p, cats, d = self.problem, self.cats, self.data
        k = int(p.block_cohorts[b + 1] - p.block_cohorts[b])
        n = int(d.row_block_n[c, b])
        least, most = self._allowed(c, b, True)
        if least is not None and most is not None and k * least <= n <= k * most:
            return None
        alone_least, alone_most = self._allowed(c, b, False)
        if alone_least is None or alone_most is None or not k * alone_least <= n <= k * alone_most:
            return None  # the other rules conflict on their own: they say so
        k0 = int(p.block_cohorts[b])
        smin, smax = int(p.cohort_min[k0]), int(p.cohort_max[k0])
        (flo, _), (_, chi) = (balance_bounds(np.array(s), np.array(n), np.array(d.block_n[b])) for s in (smin, smax))
        why = [f"balance allows {int(flo)}-{int(chi)} in a cohort of {smin}-{smax}"]
        if cats.isolation[d.row_attr[c]]:
            why.append("no_isolation forbids 1")
        if cats.row_lo[c]:
            why.append(f"at_least {cats.row_lo[c]}")
        if cats.row_hi[c] < NO_CAP:
            why.append(f"at_most {cats.row_hi[c]}")
        rules = " and ".join(["balance"] + [w.split()[0] for w in why[1:]])
        where = f"{self.where(b)}: {rules} on {cats.name(c)}"
        if least is None or most is None:
            return f"{where}: no cohort may hold anyone with it ({', '.join(why)}), but {holders(n)}"
        if k * least > n:
            return (f"{where}: each of the {k} cohorts needs at least {least} people with it "
                    f"({', '.join(why)}), but {holders(n)}")
        return (f"{where}: the {k} cohorts hold at most {most} people with it each ({', '.join(why)}), "
                f"but {holders(n)}")

    def precheck(self) -> list[str]:
        if self.cats.soft:
            return []
        return [w for b in range(self.problem.n_blocks) for c in self.block_rows(b).tolist()
                if (w := self._conflict(c, b)) is not None]

    def reduce(self, view: CourseView) -> Cut | None:
        """Everyone with a value that no cohort can take as balance and the other rules want."""
        if self.cats.soft:
            return None
        b = int(view.blocks[0])
        for c in self.block_rows(b).tolist():
            why = self._conflict(c, b)
            if why is None:
                continue
            a = int(self.data.row_attr[c])
            gone = view.alive[self.cats.person_row[view.alive, a] == c]
            if gone.shape[0]:
                return Cut(gone, why + "; they are left out")
        return None

    def encode(self, cm: CohortModel) -> None:
        d, data = cm.data, self.data
        terms = row_terms(cm, self.rows())
        for b in d.blocks:
            n = int(data.block_n[b])
            rows = [c for c in self.block_rows(b).tolist() if data.row_block_n[c, b] < n]
            for k in d.block_cohorts[b].tolist():
                size = sum(cm.n[g, k] for g in d.block_groups[b].tolist())
                for c in rows:
                    held = int(data.row_block_n[c, b])
                    count = sum(terms.get((c, k), []))
                    lit = cm.rule(("balance", b, c), f"{self.where(b)}: {self.cats.name(c)} in proportion "
                                                     f"to its share in every cohort (balance)")
                    cm.enforce(cm.model.add(n * count >= held * size - (n - 1)), lit)
                    cm.enforce(cm.model.add(n * count <= held * size + (n - 1)), lit)

    def kernel_fields(self) -> dict[str, Any]:
        return {**super().kernel_fields(), "attr_balance": self.cats.balance, "balance_soft": self.cats.soft}


@njit(cache=True, inline="always")
def balance_cost(R, c, k, n, s):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Distance of ``n`` people with row ``c`` in cohort ``k`` of ``s`` people to the balance bounds."""
    if not R.attr_balance[R.row_attr[c]]:
        return 0
    b = R.mix_block[k]
    num = s * R.row_block_n[c, b]
    total = max(R.block_n[b], 1)
    lo = num // total
    hi = -((-num) // total)
    return max(lo - n, 0) + max(n - hi, 0)
