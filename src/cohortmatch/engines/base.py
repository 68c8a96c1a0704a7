"""What every engine shares: the :class:`Engine` protocol, its result and the search budget."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..compiled import CompiledProblem

__all__ = ["Engine", "SolverResult", "Budget", "Monitor", "Progress", "StopEvent", "Deadline", "slots_of", "labelled"]

#: Called with (seconds elapsed, best objective so far) while a solver runs.
Progress = Callable[[float, float], None]


class StopEvent(Protocol):
    """What a run can be stopped with: anything with ``is_set()``, e.g. ``threading.Event``."""

    def is_set(self) -> bool: ...


@dataclass
class SolverResult:
    """An assignment and what the solver knows about it.

    Attributes
    ----------
    assignment : int64 array (U,)
        Cohort of every unit (-1: unassigned).
    status : str
        ``optimal`` when proved, else ``feasible`` (a :class:`cohortmatch.PlanStatus`).
    bound : float
        Best upper bound the solver proved (``inf`` if none).
    solver : str
    notes : list of str
    slots : int64 array (K,) or None
        The slot of every cohort (-1: none), when some course has times; the assignment
        keeps the rules on the problem :func:`labelled` with them.
    """

    assignment: np.ndarray
    status: str = "feasible"
    bound: float = float("inf")
    solver: str = "heuristic"
    notes: list[str] = field(default_factory=list)
    slots: np.ndarray | None = None


def slots_of(problem: CompiledProblem) -> np.ndarray | None:
    """The cohort slots of a problem for a :class:`SolverResult` (None without times)."""
    return problem.cohort_slot.copy() if problem.slotted else None


def labelled(problem: CompiledProblem, result: SolverResult) -> CompiledProblem:
    """``problem`` with the cohort slots ``result`` chose (itself when it chose none)."""
    return problem if result.slots is None else problem.with_slots(result.slots)


class Engine(Protocol):
    """An engine: one object behind one door (see :mod:`cohortmatch.engines.registry`).

    ``supports`` says, in words naming the rule, why the engine cannot plan a problem
    (None when it can keep every rule); ``solve`` returns an assignment that keeps every
    hard rule, within ``budget``.
    """

    name: str

    def supports(self, problem: CompiledProblem) -> str | None: ...

    def solve(
        self,
        problem: CompiledProblem,
        *,
        budget: Budget,
        rng: np.random.Generator,
        start: np.ndarray | None,
        target: float,
        workers: int | None,
        executor: Executor | None = None,
    ) -> SolverResult: ...


class Monitor:
    """The progress callback and a stop flag, shared by a budget and its sub-budgets.

    Sub-budgets are made with ``progress=budget.progress``, so they share the monitor:
    once any of them is interrupted (a ``KeyboardInterrupt``, from the user's callback
    or caught in a search loop, or the caller's ``stop`` event set from any thread),
    every budget of the run is exhausted and each solver returns the best assignment it
    holds. A callback that raises ``KeyboardInterrupt`` stops the run this way without
    the exception reaching the solver.

    Examples
    --------
    >>> def impatient(elapsed, best):
    ...     raise KeyboardInterrupt
    >>> b = Budget(time_limit=None, work_limit=10, progress=impatient)
    >>> b.report(1.0, force=True)
    >>> b.interrupted, b.spend()
    (True, False)
    """

    def __init__(self, callback: Progress | None = None, stop: StopEvent | None = None):
        self.callback = callback
        self.stop = stop
        self.interrupted = False

    @property
    def stopped(self) -> bool:
        """Whether the run must end: interrupted, or the ``stop`` event is set."""
        return self.interrupted or (self.stop is not None and self.stop.is_set())

    def is_set(self) -> bool:
        """The same as :attr:`stopped`: a monitor is itself a :class:`StopEvent`."""
        return self.stopped

    @property
    def stop_requested(self) -> bool:
        """Whether the caller's ``stop`` event ended the run."""
        return self.stop is not None and self.stop.is_set()

    def __call__(self, elapsed: float, best: float) -> None:
        if self.callback is None or self.stopped:
            return
        try:
            self.callback(elapsed, best)
        except KeyboardInterrupt:
            self.interrupted = True


class Budget:
    """When to stop: a wall-clock limit and an optional deterministic work limit.

    ``work`` counts evaluated moves (each gain vector or swap delta counts one); with a
    work limit and no time limit, a seeded search is reproducible on any machine. An
    interrupt (:meth:`interrupt`, see :class:`Monitor`) or a set ``stop`` event
    (anything with ``is_set()``, e.g. a ``threading.Event``) exhausts the budget at once.

    Examples
    --------
    >>> b = Budget(time_limit=None, work_limit=3)
    >>> [b.spend() for _ in range(4)]
    [True, True, True, False]
    """

    def __init__(
        self,
        time_limit: float | None = 10.0,
        work_limit: int | None = None,
        *,
        progress: Progress | None = None,
        stop: StopEvent | None = None,
    ):
        self.start = time.perf_counter()
        self.time_limit = time_limit
        self.work_limit = work_limit
        self.work = 0
        self.progress = progress if isinstance(progress, Monitor) else Monitor(progress, stop)
        self._next_report = 0.0

    @property
    def interrupted(self) -> bool:
        """Whether the run was interrupted (shared with every budget of the run)."""
        return self.progress.stopped

    def interrupt(self) -> None:
        """Stop the run: this budget and every budget sharing its monitor are exhausted."""
        self.progress.interrupted = True

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        """Seconds left (``inf`` without a time limit)."""
        if self.time_limit is None:
            return float("inf")
        return self.time_limit - self.elapsed()

    def spend(self, work: int = 1) -> bool:
        """Count ``work`` units; False once any limit is reached."""
        self.work += work
        if self.work_limit is not None and self.work > self.work_limit:
            return False
        if self.progress.stopped:
            return False
        return self.time_limit is None or self.elapsed() < self.time_limit

    def exhausted(self) -> bool:
        """Whether a limit is reached, without spending work."""
        return not self.spend(0)

    def share(self, fraction: float, *, seconds: float | None = None) -> Budget:
        """A sub-budget: ``fraction`` of the time left (at most ``seconds``) and of the work
        left, sharing this budget's monitor. Without a time limit it has none (work limits
        keep runs repeatable); its work is not counted here until the caller spends it.

        Examples
        --------
        >>> part = Budget(time_limit=None, work_limit=1_000).share(0.25)
        >>> part.time_limit, part.work_limit
        (None, 250)
        """
        limit = None
        if self.time_limit is not None:
            limit = fraction * max(self.remaining(), 0.0)
            limit = limit if seconds is None else min(limit, seconds)
        work = None if self.work_limit is None else int(max(self.work_limit - self.work, 0) * fraction)
        return Budget(limit, work, progress=self.progress)

    def report(self, best: float, *, force: bool = False) -> None:
        """Pass (elapsed, best) to the progress callback, at most 10 times a second."""
        if self.progress.callback is None:
            return
        now = self.elapsed()
        if force or now >= self._next_report:
            self._next_report = now + 0.1
            self.progress(now, best)


class Deadline:
    """A :class:`StopEvent` set once ``budget``'s time is up or its run is stopped.

    For long steps that cannot count work (building a CP-SAT model, the decomposition's
    pricing and integer master): they ask it between pieces and end early, so that the
    time limit holds. Without a time limit only a stop sets it.

    Examples
    --------
    >>> Deadline(Budget(time_limit=None, work_limit=10)).is_set()
    False
    >>> Deadline(Budget(time_limit=1e-9)).is_set()
    True
    """

    def __init__(self, budget: Budget):
        self.budget = budget

    def is_set(self) -> bool:
        return self.budget.progress.stopped or self.budget.remaining() <= 0
