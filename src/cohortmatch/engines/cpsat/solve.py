"""Solve a built CP-SAT model within a budget and read the solution back as an assignment."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from ...cores import available
from ...errors import CohortmatchError
from ..base import Budget, Monitor, StopEvent
from .model import CohortModel

__all__ = [
    "CpsatOutcome", "solve_model", "resolve_workers", "reaches", "seed_of", "time_for",
    "deterministic_time_for", "MARGIN", "stop_watch",
]

#: Seconds kept back from the time limit for reading the solution and building the plan.
MARGIN = 0.05

#: Seconds between two looks at the stop event while CP-SAT runs.
_WATCH = 0.02


@dataclass
class CpsatOutcome:
    """What a CP-SAT solve returned.

    Attributes
    ----------
    status : str
        ``optimal``, ``feasible``, ``infeasible`` or ``unknown``.
    assignment : int64 array (U,) or None
        Cohort of every unit of the model (-1 elsewhere); None without a solution.
    objective : float
        CP-SAT's objective divided by the scale, plus the offset (nan without a solution).
    bound : float
        CP-SAT's proven upper bound in the same units (``inf`` if none).
    core : list of str
        ``explain`` mode, infeasible: a small set of rules that cannot hold together.
    slots : int64 array (K,) or None
        With a solution of a problem with times: the slot of every cohort (the model's
        choice, the problem's elsewhere).
    """

    status: str
    assignment: np.ndarray | None
    objective: float
    bound: float
    core: list[str] = field(default_factory=list)
    slots: np.ndarray | None = None


_STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.UNKNOWN: "unknown",
}


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(
        self, budget: Budget | None, scale: float, offset: float, target: float = math.inf
    ):
        super().__init__()
        self._budget, self._scale, self._offset = budget, scale, offset
        self._target = target

    def on_solution_callback(self) -> None:
        value = self.objective_value / self._scale + self._offset
        if self._budget is not None:
            self._budget.report(value)
            if self._budget.interrupted:  # e.g. the progress callback raised KeyboardInterrupt
                self.stop_search()
        if reaches(value, self._target):  # a proven bound is met: nothing better exists
            self.stop_search()


@contextmanager
def stop_watch(solver: cp_model.CpSolver, stop: StopEvent | None) -> Iterator[None]:
    """Stop ``solver`` from a watcher thread once ``stop`` is set (a run's monitor, an event).

    CP-SAT calls back only on a new solution; the watcher wakes every 20 ms (between
    solutions too) and calls ``stop_search`` until the solve returns. No thread is
    started for a monitor without a caller's stop event (a ``KeyboardInterrupt`` is
    caught by CP-SAT itself).
    """
    if stop is None or (isinstance(stop, Monitor) and stop.stop is None):
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(_WATCH):
            if stop.is_set():
                solver.stop_search()  # a no-op until the solve has begun: repeat until it ends

    watcher = threading.Thread(target=watch, name="cohortmatch-cpsat-stop", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def reaches(value: float, bound: float) -> bool:
    """``value`` meets the proven upper ``bound`` up to floating-point slack."""
    return value >= bound - 1e-6 * max(1.0, abs(bound))


def resolve_workers(workers: int | None) -> int:
    """Number of CP-SAT workers: ``None`` means every core.

    Examples
    --------
    >>> resolve_workers(1)
    1
    """
    if workers is None:
        return available()
    if int(workers) < 1:
        raise CohortmatchError(f"The 'workers' must be >= 1 or None. Got {workers!r}.")
    return int(workers)


def solve_model(
    cm: CohortModel,
    *,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int = 0,
    deterministic_time: float | None = None,
    budget: Budget | None = None,
    target: float = math.inf,
    stop: StopEvent | None = None,
) -> CpsatOutcome:
    """Solve a built model and read the solution back as an assignment.

    ``explain`` models are solved under the assumption that every rule holds; when
    infeasible, :attr:`CpsatOutcome.core` names a small conflicting set of rules.
    The search stops early at a solution worth ``target`` (a proven bound), and soon
    after ``stop`` is set (by default the run's monitor, ``budget.progress``).
    """
    d, p = cm.data, cm.data.problem
    solver = cp_model.CpSolver()
    prm = solver.parameters
    if time_limit is not None:
        prm.max_time_in_seconds = max(float(time_limit), 0.001)
    if deterministic_time is not None:
        prm.max_deterministic_time = max(float(deterministic_time), 0.001)
    prm.num_workers = 1 if cm.explain else resolve_workers(workers)
    prm.random_seed = int(seed) % (2**31 - 1)
    prm.log_search_progress = False
    if cm.explain:
        cm.model.clear_assumptions()
        cm.model.add_assumptions(list(cm.rule_literals.values()))
    callback = None
    reporting = budget is not None and budget.progress.callback is not None
    if (reporting or math.isfinite(target)) and not cm.explain:
        callback = _Progress(budget if reporting else None, cm.scale, cm.offset, target)
    try:
        with stop_watch(solver, stop if stop is not None or budget is None else budget.progress):
            code = solver.solve(cm.model, callback)
    except Exception as exc:  # an OR-Tools failure must not reach the user as a traceback
        raise CohortmatchError(f"the CP-SAT engine failed: {type(exc).__name__}: {exc}") from None
    if code == cp_model.MODEL_INVALID:
        raise CohortmatchError(f"the CP-SAT model is invalid: {cm.model.validate()}")
    status = _STATUS.get(code, "unknown")
    if status == "infeasible":
        core = []
        if cm.explain:
            core = [
                cm.rules[i]
                for i in solver.sufficient_assumptions_for_infeasibility()
                if i in cm.rules
            ]
        return CpsatOutcome("infeasible", None, math.nan, -math.inf, core)
    has_objective = cm.model.has_objective()
    bound = solver.best_objective_bound / cm.scale + cm.offset if has_objective else math.inf
    if status == "unknown":  # no solution: CP-SAT's objective bound is not one to trust
        return CpsatOutcome("unknown", None, math.nan, math.inf)
    # --- read back
    a = np.full(p.n_units, -1, np.int64)
    for b in d.blocks:
        ks = d.block_cohorts[b].tolist()
        for g in d.block_groups[b].tolist():
            counts = [int(solver.value(cm.n[g, k])) for k in ks]
            placed = np.repeat(np.asarray(ks, np.int64), counts)  # with seats, maybe fewer than |g|
            a[d.g_units[g][: placed.shape[0]]] = placed
    objective = solver.objective_value / cm.scale + cm.offset if has_objective else cm.offset
    slots = p.cohort_slot.copy() if p.slotted else None
    for (k, s), lit in cm.slot_lits.items():
        if solver.boolean_value(lit):
            slots[k] = s  # type: ignore[index]  # slot literals exist only with times
    return CpsatOutcome(status, a, objective, bound, slots=slots)


def seed_of(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


def time_for(budget: Budget) -> float | None:
    if budget.time_limit is None:
        return None
    return max(budget.remaining() - MARGIN, 0.01)


def deterministic_time_for(budget: Budget) -> float | None:
    """Without a time limit, ``work_limit`` moves buy ``work_limit / 1e4`` deterministic seconds."""
    if budget.time_limit is None and budget.work_limit is not None:
        return max(budget.work_limit / 1e4, 0.01)
    return None
