"""The exact re-plan: the CP-SAT model of the request, extended by who stays where they were.

The extension (a :class:`~cohortmatch.engines.cpsat.model.ModelExtension`) tells units
apart by their published cohort (their *label*), so the model's group counts ``n[g,k]``
say how many people of each published cohort sit in each cohort, and adds, per block,

* ``a[k,l]`` (bool): cohort ``k`` continues label ``l`` (at most one label per cohort
  and one cohort per label; a pinned cohort's label is fixed, see
  :func:`~cohortmatch.replanning.anchors.fixed_labels`);
* ``s[k,l] <= sum of n[g,k] over the groups of label l`` and ``s[k,l] <= |l| a[k,l]``:
  the people who stay.

Moves are the labelled units less ``sum s``. Cohorts nobody is pinned to stay
interchangeable (a permutation of cohorts carries their labels along), so the model's
symmetry breaking still holds. :func:`fewest_moves` maximises the stays (CP-SAT's bound
is a proven lower bound on the moves); :func:`best_within` maximises the gap value with
at most ``cap`` moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..compiled import CompiledProblem
from ..engines.base import Budget
from ..engines.cpsat.model import CohortModel, build_model
from ..engines.cpsat.solve import CpsatOutcome, deterministic_time_for, seed_of, solve_model
from .anchors import FREE, fixed_labels
from .previous import Previous

__all__ = ["MoveCount", "fewest_moves", "best_within"]


class MoveCount:
    """The stays of a re-plan in the CP-SAT model (the model extension).

    Parameters
    ----------
    problem : CompiledProblem
    prev : Previous
    anchor : int64 array (K,)
        A first label of each cohort (:func:`~cohortmatch.replanning.anchors.initial_anchor`).
        In a block with at least as many free cohorts as published cohorts to continue,
        it is kept: which free cohort continues which label does not matter (they are
        interchangeable), so the stays are plain sums of counts. Elsewhere (fewer cohorts
        than before) the model chooses the labels.
    cap : int, optional
        At most this many moves.
    minimise : bool
        Replace the gap objective by the number of stays (maximised).
    """

    def __init__(self, problem: CompiledProblem, prev: Previous, anchor: np.ndarray, *,
                 cap: int | None = None, minimise: bool = False):
        self.problem, self.prev, self.anchor = problem, prev, anchor
        self.cap, self.minimise = cap, minimise
        self.total = int((prev.unit_label >= 0).sum())
        fixed = fixed_labels(problem, prev)
        self.chosen = np.zeros(problem.n_blocks, dtype=bool)  # blocks whose labels the model chooses
        for b in range(problem.n_blocks):
            cs, ce = problem.block_of_cohort_range(b)
            alive = [x for x in prev.block_labels(b).tolist()
                     if prev.survivors[x] > 0 and x not in set(fixed[cs:ce].tolist())]
            self.chosen[b] = len(alive) > int((fixed[cs:ce] == FREE).sum())

    def signature(self, units: np.ndarray) -> list[Any]:
        return self.prev.unit_label[units].tolist()  # type: ignore[no-any-return]

    def pinned_cohorts(self) -> np.ndarray:
        kept = (self.anchor >= 0) & ~self.chosen[self.problem.cohort_block]
        return np.flatnonzero(kept)

    def encode(self, cm: CohortModel) -> None:
        d, m = cm.data, cm.model
        fixed = fixed_labels(self.problem, self.prev)
        members: dict[tuple[int, int], list[Any]] = {}  # (label, cohort) -> n[g,k] of its groups
        for b in d.blocks:
            for g in d.block_groups[b].tolist():
                x = int(self.prev.unit_label[d.g_units[g][0]])
                if x >= 0:
                    for k in d.block_cohorts[b].tolist():
                        members.setdefault((x, k), []).append(cm.n[g, k])
        stays: list[Any] = []
        for b in d.blocks:
            ks = d.block_cohorts[b].tolist()
            labels = sorted({x for (x, k) in members if k == ks[0]})
            if not self.chosen[b]:
                stays += [v for k in ks if self.anchor[k] in labels for v in members[(int(self.anchor[k]), k)]]
                continue
            forced = {int(fixed[k]): k for k in ks if fixed[k] >= 0}
            stays += [v for x, k in forced.items() if x in labels for v in members[(x, k)]]
            stays += self._chosen(m, [k for k in ks if fixed[k] == FREE],
                                  [x for x in labels if x not in forced], members)
        total = sum(stays) if stays else 0
        if self.cap is not None:
            m.add(total >= self.total - self.cap)
        if self.minimise:
            m.maximize(total)
            cm.scale, cm.offset = 1.0, 0.0

    def _chosen(self, m: Any, free: list[int], labels: list[int],
                members: dict[tuple[int, int], list[Any]]) -> list[Any]:
        """Stays where the model chooses which free cohort continues which label:
        ``a[k,l]``, ``s[k,l]`` (see the module docstring)."""
        stays: list[Any] = []
        anchors: dict[int, list[Any]] = {k: [] for k in free}
        for x in labels:
            size = int(self.prev.survivors[x])
            chosen = []
            for k in free:
                a = m.new_bool_var(f"a[{k},{x}]")
                s = m.new_int_var(0, size, f"s[{k},{x}]")
                m.add(s <= sum(members[(x, k)]))
                m.add(s <= size * a)
                chosen.append(a)
                anchors[k].append(a)
                stays.append(s)
            m.add_at_most_one(chosen)
        for lits in anchors.values():
            m.add_at_most_one(lits)
        return stays


@dataclass
class Fewest:
    """What :func:`fewest_moves` found: a plan (None if none), its status, a lower bound on moves."""

    assignment: np.ndarray | None
    status: str
    lower: int


def fewest_moves(
    problem: CompiledProblem,
    prev: Previous,
    anchor: np.ndarray,
    *,
    hint: np.ndarray | None,
    lower: int,
    cap: int | None,
    budget: Budget,
    share: float,
    rng: np.random.Generator,
    workers: int | None,
) -> Fewest:
    """Fewest moves over every plan of the request (at most ``cap``), with CP-SAT.

    ``lower`` is a lower bound already known (CP-SAT stops when it meets it); ``share``
    the part of the budget's remaining time (or work) to spend.

    Returns
    -------
    Fewest
        Status ``optimal`` when the move count is proven minimal, ``infeasible`` when no
        plan has at most ``cap`` moves (or none keeps the rules), else ``feasible`` or
        ``unknown``; ``lower`` is the best proven lower bound on the moves.
    """
    ext = MoveCount(problem, prev, anchor, cap=cap, minimise=True)
    cm = build_model(problem, hint=hint, extension=ext)
    out = _solve(cm, budget, share, rng, workers, target=ext.total - lower, report=False)
    if out.status == "infeasible":
        return Fewest(None, "infeasible", lower if cap is None else max(lower, cap + 1))
    if math.isfinite(out.bound):
        lower = max(lower, ext.total - int(math.floor(out.bound + 1e-6)))
    return Fewest(out.assignment, out.status, lower)


def best_within(
    problem: CompiledProblem,
    prev: Previous,
    anchor: np.ndarray,
    cap: int,
    *,
    hint: np.ndarray,
    target: float,
    budget: Budget,
    share: float,
    rng: np.random.Generator,
    workers: int | None,
) -> CpsatOutcome:
    """The most gap value over the plans with at most ``cap`` moves, with CP-SAT.

    ``hint`` is a plan within the cap; ``target`` a proven upper bound on the gap value
    (CP-SAT stops when it meets it). The outcome's ``bound`` bounds the gap value of the
    plans within the cap.
    """
    cm = build_model(problem, hint=hint, extension=MoveCount(problem, prev, anchor, cap=cap))
    return _solve(cm, budget, share, rng, workers, target=target, report=True)


def _solve(cm: CohortModel, budget: Budget, share: float, rng: np.random.Generator,
           workers: int | None, *, target: float, report: bool) -> CpsatOutcome:
    """Solve with ``share`` of what is left of the budget (time, or work as deterministic time)."""
    left = budget.remaining()
    dtime = deterministic_time_for(budget)
    return solve_model(
        cm,
        time_limit=max(share * left, 0.01) if math.isfinite(left) else None,
        workers=workers,
        seed=seed_of(rng),
        deterministic_time=share * dtime if dtime is not None else None,
        budget=budget if report else None,
        target=target,
        stop=budget.progress,
    )
