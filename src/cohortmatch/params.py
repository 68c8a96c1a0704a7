"""Run parameters of a planning call, checked once, at the front door.

Every public entry point that searches (:func:`cohortmatch.plan`,
:func:`cohortmatch.group_by_pairs`) passes its run parameters through :func:`run_settings`,
so that a bad value gets the same :class:`~cohortmatch.errors.InputError`, naming the
parameter and what it expects, wherever it was given.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from enum import StrEnum
from numbers import Integral, Real
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["Solver", "SOLVERS", "OnInfeasible", "Decompose", "RunSettings", "run_settings", "as_generator"]


class Solver(StrEnum):
    """The engines a plan can ask for (``solver=``); ``auto`` picks one (see :doc:`engines`)."""

    AUTO = "auto"
    HEURISTIC = "heuristic"
    CPSAT = "cpsat"
    LNS = "lns"
    GOLFER = "golfer"
    TABU = "tabu"


SOLVERS = tuple(s.value for s in Solver)


class OnInfeasible(StrEnum):
    """What :func:`cohortmatch.plan` does with a request the hard rules cannot meet."""

    RAISE = "raise"
    PARTIAL = "partial"


class Decompose(StrEnum):
    """Whether :func:`cohortmatch.plan` splits a request into independent blocks
    (:mod:`cohortmatch.decompose`): ``auto`` when it is safe and the request is large,
    ``always`` whenever it is safe, ``never``."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True)
class RunSettings:
    """Checked run parameters (see :func:`run_settings`)."""

    solver: Solver
    time_limit: float | None
    work_limit: int | None
    workers: int | None
    seed: int | np.random.Generator | None
    progress: Callable[[float, float], None] | None
    on_infeasible: OnInfeasible
    stop: Any = None
    executor: Executor | None = None
    decompose: Decompose = Decompose.AUTO


def _choice(value: Any, kind: type[StrEnum], name: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        options = ", ".join(repr(k.value) for k in kind)  # type: ignore[attr-defined]
        raise InputError(f"The {name!r} must be one of {options}. Got {value!r}.") from None


def _time_limit(value: Any, name: str = "time_limit") -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value <= 0:
        raise InputError(f"The {name!r} must be a positive number of seconds or None. Got {value!r}.")
    return float(value)


def _count(value: Any, name: str, *, low: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise InputError(f"The {name!r} must be an int >= {low} or None. Got {value!r}.")
    return int(value)


def _seed(value: Any) -> int | np.random.Generator | None:
    if value is None or isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise InputError(
            f"The 'seed' must be None, an int >= 0 or a numpy.random.Generator. Got {value!r}."
        )
    return int(value)


def run_settings(
    *,
    solver: Any = "auto",
    time_limit: Any = 10.0,
    work_limit: Any = None,
    workers: Any = None,
    seed: Any = None,
    progress: Any = None,
    on_infeasible: Any = "raise",
    stop: Any = None,
    executor: Any = None,
    decompose: Any = "auto",
    need_stop: bool = True,
) -> RunSettings:
    """Check the run parameters of a planning call; raise :class:`InputError` on a bad one.

    Parameters
    ----------
    solver : str
        One of :data:`SOLVERS`.
    time_limit : positive number or None
    work_limit : int >= 0 or None
    workers : int >= 1 or None
    seed : None, int >= 0 or numpy.random.Generator
    progress : callable or None
        Called as ``progress(elapsed_seconds, best_objective)``.
    on_infeasible : {"raise", "partial"}
    stop : threading.Event or None
        Anything with an ``is_set()`` method; once it is set (from any thread) the search
        ends and the best plan so far is returned.
    executor : concurrent.futures.Executor or None
        Runs the independent pieces of the search (partition search's tasks, the blocks of a
        decomposed request), e.g.
        ``dask.distributed.Client(address).get_executor()``; None: threads of this process.
    decompose : {"auto", "always", "never"}
        Whether to split the request into independent blocks (:class:`Decompose`).
    need_stop : bool
        Whether a search needs a ``time_limit`` or a ``work_limit`` to stop.

    Returns
    -------
    RunSettings

    Examples
    --------
    >>> run_settings(time_limit=5).time_limit
    5.0
    >>> run_settings(time_limit=5, stop=True)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: The 'stop' must be None or an event with is_set() (threading.Event()). Got True.
    >>> run_settings(seed="abc")
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: The 'seed' must be None, an int >= 0 or a numpy.random.Generator. Got 'abc'.
    >>> run_settings(time_limit=5, executor=4)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: The 'executor' must be None or a concurrent.futures.Executor ... Got 4.
    """
    settings = RunSettings(
        solver=_choice(solver, Solver, "solver"),
        time_limit=_time_limit(time_limit),
        work_limit=_count(work_limit, "work_limit", low=0),
        workers=_count(workers, "workers", low=1),
        seed=_seed(seed),
        progress=progress,
        on_infeasible=_choice(on_infeasible, OnInfeasible, "on_infeasible"),
        stop=stop,
        executor=executor,
        decompose=_choice(decompose, Decompose, "decompose"),
    )
    if executor is not None and not isinstance(executor, Executor):
        raise InputError("The 'executor' must be None or a concurrent.futures.Executor "
                         f"(e.g. dask's Client(address).get_executor()). Got {executor!r}.")
    if progress is not None and not callable(progress):
        raise InputError(f"The 'progress' must be a callable or None. Got {progress!r}.")
    if stop is not None and not callable(getattr(stop, "is_set", None)):
        raise InputError(f"The 'stop' must be None or an event with is_set() (threading.Event()). "
                         f"Got {stop!r}.")
    if need_stop and settings.time_limit is None and settings.work_limit is None:
        raise InputError("Give a 'time_limit', a 'work_limit', or both: the search needs a stop.")
    return settings


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """One ``numpy.random.Generator`` from None, an int or a generator (never seeds globally).

    Examples
    --------
    >>> int(as_generator(3).integers(10)) == int(as_generator(3).integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
