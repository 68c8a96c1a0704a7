"""The mix of a plan: how many people with each value of the mix attributes each cohort
holds, the balance deviation, and the price of the mix.

The *price of the mix* is what the mix rules cost in gap value: ``plan(...,
compare_without_mix=True)`` plans the same request without them in the same run, and
:attr:`Mix.without_mix` holds that plan's objective next to the plan's own.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from .compiled import CompiledProblem
from .model import Record
from .rules import active
from .rules.balance import Balance
from .rules.counts import count_data

__all__ = ["Mix", "mix_of"]


class Mix(Record):
    """Counts per cohort and value of every attribute a mix rule counts.

    Attributes
    ----------
    attributes : tuple of str
        The attributes the mix rules count (balanced ones first).
    balanced : tuple of str
        Those of them that ``balance`` names.
    counts : dict
        ``{cohort id: {attribute: {value: people}}}`` (values held by nobody in a cohort
        are left out; ``""`` is a missing attribute).
    deviation : int
        Total distance of the balanced counts to their bounds (0 when balance is hard).
    without_mix : float or None
        The objective of the same request planned without the mix rules, when asked for
        (``plan(..., compare_without_mix=True)``).
    """

    attributes: tuple[str, ...]
    balanced: tuple[str, ...] = ()
    counts: dict[str, dict[str, dict[str, int]]] = Field(default_factory=dict)
    deviation: int = 0
    without_mix: float | None = None

    def headline(self, objective: float) -> list[tuple[str, str]]:
        """The report's rows on the mix, given the plan's objective.

        Examples
        --------
        >>> Mix(attributes=("level", "site"), deviation=2).headline(10.0)
        [('mix', 'counts of level, site per cohort; balance deviation 2')]
        """
        rows = [("mix", f"counts of {', '.join(self.attributes)} per cohort; balance deviation "
                        f"{self.deviation}")]
        price = self.price(objective)
        return rows + ([("price of the mix", price)] if price else [])

    def price(self, objective: float) -> str | None:
        """The price of the mix in words, given the plan's objective (None when not compared).

        Examples
        --------
        >>> Mix(attributes=("level",), without_mix=120.0).price(114.0)
        'objective 114 with the mix rules, 120 without them: the mix costs 6 (5.0%)'
        """
        if self.without_mix is None:
            return None
        cost = self.without_mix - objective
        share = cost / self.without_mix if self.without_mix else 0.0
        return (f"objective {objective:g} with the mix rules, {self.without_mix:g} without them: "
                f"the mix costs {cost:g} ({share:.1%})")


def mix_of(problem: CompiledProblem, assignment: np.ndarray) -> Mix | None:
    """The :class:`Mix` of an assignment (None without mix rules).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t", attributes={"site": "LLYY"[i]})
    ...                            for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="x", min_size=2, max_size=2)], Policy(balance=["site"]))
    >>> mix_of(prob, np.array([0, 1, 0, 1])).counts
    {'x-1': {'site': {'L': 1, 'Y': 1}}, 'x-2': {'site': {'L': 1, 'Y': 1}}}
    """
    cats = problem.categories
    if cats is None:
        return None
    a = np.asarray(assignment)
    rows = count_data(problem).unit_rows
    placed = a >= 0
    K = problem.n_cohorts
    table = np.zeros((cats.n_rows, K), np.int64)
    for col in range(rows.shape[1]):
        np.add.at(table, (rows[placed, col], a[placed]), 1)
    order = np.argsort(~cats.balance, kind="stable")
    counts = {
        problem.cohort_ids[k]: {
            cats.attributes[j]: {cats.row_value[c]: int(table[c, k]) for c in cats.rows(j) if table[c, k]}
            for j in order.tolist()
        }
        for k in range(K)
    }
    balance = next((r for r in active(problem) if isinstance(r, Balance)), None)
    return Mix(
        attributes=tuple(cats.attributes[j] for j in order.tolist()),
        balanced=tuple(n for n, b in zip(cats.attributes, cats.balance.tolist(), strict=True) if b),
        counts=counts,
        deviation=balance.deviation(a) if balance is not None and cats.soft else 0,
    )
