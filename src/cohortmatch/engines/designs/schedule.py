"""A regrouping schedule: who sits in which group in every round, and its check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Shape", "Schedule", "schedule_problems", "balanced_group_sizes"]


def balanced_group_sizes(people: int, groups: int) -> np.ndarray:
    """Sizes of ``groups`` groups seating ``people``, as equal as possible, largest last.

    Examples
    --------
    >>> balanced_group_sizes(51, 25).tolist()[-3:], balanced_group_sizes(32, 8).tolist()
    ([2, 2, 3], [4, 4, 4, 4, 4, 4, 4, 4])
    """
    base, extra = divmod(people, groups)
    return np.array([base] * (groups - extra) + [base + 1] * extra, dtype=np.int64)


@dataclass(frozen=True)
class Shape:
    """What a construction is asked for: ``people`` in ``groups`` groups for ``rounds`` rounds.

    Group sizes are as equal as possible (:func:`balanced_group_sizes`): ``g-p-w`` golfers
    are ``Shape(g * p, g, w)``; 51 people in pairs and one group of three are
    ``Shape(51, 25, w)``.
    """

    people: int
    groups: int
    rounds: int

    @property
    def sizes(self) -> np.ndarray:
        """The group sizes of every round (int64 array (groups,), largest last)."""
        return balanced_group_sizes(self.people, self.groups)

    @property
    def uniform(self) -> int | None:
        """The common group size, or None when sizes differ."""
        return self.people // self.groups if self.people % self.groups == 0 else None

    def __str__(self) -> str:
        k = self.uniform
        lo = self.people // self.groups
        size = str(k) if k is not None else f"{lo}..{lo + 1}"
        return f"{self.groups}-{size}-{self.rounds} ({self.people} people)"


@dataclass(frozen=True)
class Schedule:
    """A schedule of ``rounds`` rounds in which no two people share a group twice.

    Attributes
    ----------
    groups : int64 array (rounds, people)
        ``groups[t, x]``: the group (0 to ``g - 1``) of person ``x`` in round ``t``.
    construction : str
        The construction's name (e.g. ``kirkman``).
    description : str
        The construction in words, as the plan's note quotes it.
    """

    groups: np.ndarray
    construction: str
    description: str

    def describe(self) -> str:
        """The construction in words."""
        return self.description


def schedule_problems(schedule: Schedule, shape: Shape) -> list[str]:
    """Why ``schedule`` is not a repeat-free schedule of ``shape``; empty when it is.

    Every round must split the people into groups of the shape's sizes, and every pair of
    people is counted directly: no pair may share a group in two rounds.

    Examples
    --------
    >>> ok = Schedule(np.array([[0, 0, 1, 1], [0, 1, 0, 1]]), "test", "two rounds")
    >>> schedule_problems(ok, Shape(4, 2, 2))
    []
    >>> twice = Schedule(np.array([[0, 0, 1, 1], [1, 1, 0, 0]]), "test", "repeats")
    >>> schedule_problems(twice, Shape(4, 2, 2))
    ['2 pair(s) share a group more than once (e.g. people 0 and 1)']
    """
    G = np.asarray(schedule.groups)
    if G.shape != (shape.rounds, shape.people):
        return [f"schedule has shape {G.shape}, expected {(shape.rounds, shape.people)}"]
    want = np.sort(shape.sizes)
    out = []
    for t in range(shape.rounds):
        if G[t].min(initial=0) < 0 or G[t].max(initial=0) >= shape.groups:
            out.append(f"round {t}: a group index outside 0..{shape.groups - 1}")
            continue
        sizes = np.sort(np.bincount(G[t], minlength=shape.groups))
        if not np.array_equal(sizes, want):
            out.append(f"round {t}: group sizes {sizes.tolist()}, expected {want.tolist()}")
    if out:
        return out
    n = shape.people
    met = np.zeros((n, n), dtype=np.int64)
    for t in range(shape.rounds):
        same = G[t][:, None] == G[t][None, :]
        met += same
    np.fill_diagonal(met, 0)
    over = np.argwhere(np.triu(met > 1))
    if over.shape[0]:
        i, j = over[0]
        out.append(f"{over.shape[0]} pair(s) share a group more than once (e.g. people {i} and {j})")
    return out
