"""The rules inside one cohort: who must leave it, fewest first (shared by repair and bound).

Every rule but cohort sizes is checked on a scratch assignment holding only the people of
one cohort (everyone else unplaced), with each rule's own ``violations``: team caps,
people kept apart (managers and reports included), pins and hard meeting caps are broken
or kept inside a cohort whatever happens elsewhere, and adding people never mends them.
So the fewest people who must leave a cohort, found here, is a lower bound on the moves
out of it in any plan, and the same search picks whom the repair moves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ..compiled import CompiledProblem
from ..rules import Rule, active

__all__ = ["LocalCheck", "Removal", "fewest_removals"]

#: Subsets one search checks before it falls back to greedy removal.
CHECK_LIMIT = 2000


class LocalCheck:
    """Rules other than sizes, checked on the people of one cohort alone.

    Examples
    --------
    >>> org = Organisation(people=[Person(id="m", team="a"), Person(id="r", team="b", manager="m"),
    ...                            Person(id="x", team="a")])
    >>> check = LocalCheck(compile_problem(org, [Course(id="c", min_size=1, max_size=3)],
    ...                                    Policy(max_per_team=1)))
    >>> check.broken(np.array([0, 1, 2]), 0)
    ['max_per_team', 'keep_apart']
    >>> check.broken(np.array([1, 2]), 0)
    []
    """

    def __init__(self, problem: CompiledProblem):
        self.rules: list[Rule] = [r for r in active(problem) if r.name != "sizes"]
        self.scratch = np.full(problem.n_units, -1, np.int64)

    def broken(self, units: np.ndarray, k: int) -> list[str]:
        """Names of the rules ``units``, all in cohort ``k``, break among themselves."""
        self.scratch[units] = k
        try:
            return [r.name for r in self.rules if r.violations(self.scratch)]
        finally:
            self.scratch[units] = -1

    def offenders(self, units: np.ndarray, k: int) -> np.ndarray:
        """Units of ``units`` (all in cohort ``k``) that take part in breaking a rule."""
        self.scratch[units] = k
        try:
            found = [r.offenders(self.scratch) for r in self.rules]
        finally:
            self.scratch[units] = -1
        return np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)


@dataclass(frozen=True)
class Removal:
    """Entities to take out of a cohort, and what is proven about how few suffice.

    Attributes
    ----------
    chosen : list of int
        Indices of the entities to remove.
    lower : int
        A proven lower bound on the units that must leave (with one unit per entity,
        exact when ``proven``).
    proven : bool
        Whether ``chosen`` removes the fewest units possible.
    """

    chosen: list[int]
    lower: int
    proven: bool


def fewest_removals(
    check: LocalCheck,
    entities: Sequence[np.ndarray],
    fixed: np.ndarray,
    k: int,
    hi: int,
    *,
    loss: Callable[[int], float] | None = None,
    limit: int = CHECK_LIMIT,
) -> Removal:
    """The fewest entities (units that move together) to take out of cohort ``k`` so that
    the rest, with the ``fixed`` units (who cannot leave; not in any entity), keep every
    rule but sizes and at most ``hi`` remain.

    Subsets of the entities that break a rule are tried by increasing number; among the
    first that work, the one removing fewest units, then losing least (``loss`` of each
    entity), is chosen. Past ``limit`` subsets, entities are removed greedily (the one
    leaving fewest broken rules first) and only the subset sizes tried are proven.
    Then, while more than ``hi`` units remain, the entities losing least per unit go.

    Examples
    --------
    >>> org = Organisation(people=[Person(id="m", team="a"), Person(id="r1", team="b", manager="m"),
    ...                            Person(id="r2", team="c", manager="m")])
    >>> check = LocalCheck(compile_problem(org, [Course(id="c", min_size=1, max_size=3)]))
    >>> fewest_removals(check, [np.array([0]), np.array([1]), np.array([2])], np.zeros(0, int), 0, 3)
    Removal(chosen=[0], lower=1, proven=True)
    """
    everyone = np.concatenate([*entities, fixed]) if entities else fixed
    chosen: list[int] = []
    tried = 0
    proven = True
    if check.broken(everyone, k):
        bad = set(check.offenders(everyone, k).tolist())
        cand = [i for i, e in enumerate(entities) if bad & set(e.tolist())]
        found, tried, proven = _smallest(check, entities, everyone, cand, k, loss, limit)
        chosen = found if found is not None else _greedy(check, entities, everyone, cand, k, loss)
    lower = len(chosen) if proven else tried + 1  # entities; each holds at least one unit
    excess = everyone.shape[0] - sum(entities[i].shape[0] for i in chosen) - hi
    if excess > 0:
        chosen += _trim(entities, chosen, excess, loss)
    return Removal(chosen, max(lower, everyone.shape[0] - hi), proven)


def _smallest(
    check: LocalCheck, entities: Sequence[np.ndarray], everyone: np.ndarray, cand: list[int], k: int,
    loss: Callable[[int], float] | None, limit: int,
) -> tuple[list[int] | None, int, bool]:
    """Subsets of ``cand`` by increasing size: (best working one or None, largest size
    proven not to work, whether the search was complete)."""
    checks = 0
    for r in range(1, len(cand) + 1):
        working: list[tuple[int, float, list[int]]] = []
        for combo in combinations(cand, r):
            checks += 1
            if checks > limit:
                return None, r - 1, False
            out = np.concatenate([entities[i] for i in combo])
            if not check.broken(np.setdiff1d(everyone, out), k):
                cost = sum(loss(i) for i in combo) if loss is not None else 0.0
                working.append((out.shape[0], cost, list(combo)))
                if loss is None:
                    break
        if working:
            return min(working)[2], r - 1, True
    return None, len(cand), False  # not even removing every candidate works (a pin elsewhere)


def _greedy(
    check: LocalCheck, entities: Sequence[np.ndarray], everyone: np.ndarray, cand: list[int], k: int,
    loss: Callable[[int], float] | None,
) -> list[int]:
    """Remove candidates one at a time, each the one that leaves fewest rules broken."""
    chosen: list[int] = []
    rest = everyone
    left = list(cand)
    while left and check.broken(rest, k):
        def key(i: int, rest: np.ndarray = rest) -> tuple[int, float]:
            return (len(check.broken(np.setdiff1d(rest, entities[i]), k)), loss(i) if loss else 0.0)
        best = min(left, key=key)
        left.remove(best)
        chosen.append(best)
        rest = np.setdiff1d(rest, entities[best])
    return chosen


def _trim(
    entities: Sequence[np.ndarray], chosen: list[int], excess: int, loss: Callable[[int], float] | None,
) -> list[int]:
    """Entities to remove, beyond ``chosen``, so that ``excess`` more units leave (least loss per unit)."""
    free = [i for i in range(len(entities)) if i not in chosen]
    free.sort(key=lambda i: ((loss(i) if loss else 0.0) / entities[i].shape[0], -entities[i].shape[0], i))
    out: list[int] = []
    for i in free:
        if excess <= 0:
            break
        out.append(i)
        excess -= entities[i].shape[0]
    return out
