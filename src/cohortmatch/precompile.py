"""Compile the search kernels ahead of time, outside any time limit.

cohortmatch's hot loops (full scoring, the local search, the pair-value search and the
golfer search) are numba kernels. The first call on a machine compiles them (tens of
seconds on a 2-core machine) and stores the machine code in numba's on-disk cache; later
processes load it (under a second). A time limit given to :func:`cohortmatch.plan`
counts wall-clock time for the whole call, compilation included, so a service or a
benchmark that needs its first plan on time calls :func:`precompile` once beforehand,
e.g. at start-up or in a container build step::

    python -c "import cohortmatch; cohortmatch.precompile()"
"""

from __future__ import annotations

import time

import numpy as np

from .model import Course, Organisation, Person, Policy
from .pairs import group_by_pairs
from .planner import plan
from .replanning import replan
from .synthetic import org_chart

__all__ = ["precompile"]


def precompile() -> float:
    """Compile (or load from numba's cache) every search kernel; return the seconds taken.

    Runs each engine once on a small request, through the same public calls users make,
    so every kernel a plan can reach is ready afterwards: the heuristic in every mode,
    partition search, the pair-value search, the rules' compiled checks, the golfer
    search, and the exact engine (CP-SAT and the decomposition's LP) and ``replan``,
    which load OR-Tools' solver and scipy's optimiser on their first call. A few seconds
    with numba's cache filled, tens of seconds on a machine's very first call.

    Returns
    -------
    float
        Wall-clock seconds spent.

    Examples
    --------
    >>> seconds = precompile()
    >>> seconds >= 0.0
    True
    """
    start = time.perf_counter()
    org = org_chart(120, seed=0)  # big enough that no engine stops at its bound at once
    course = [Course(id="c", min_size=6, max_size=8)]
    for coverage in ("cover", "diminishing", "sum"):  # scoring + compiled local search
        plan(org, course, policy=Policy(mode=coverage), solver="heuristic",
             time_limit=None, work_limit=3000, seed=0)
    plan(org, course, policy=Policy(mode="diminishing"), solver="lns",  # partition search
         time_limit=None, work_limit=3000, seed=0, workers=2)
    capped = Policy(mode="diminishing", max_per_team=2)  # the exact engine: OR-Tools, scipy's
    exact = plan(org, course, policy=capped, solver="cpsat", time_limit=1.0, seed=0)  # LP
    replan(exact, org, course, policy=capped, time_limit=1.0, seed=0)
    rng = np.random.default_rng(0)
    values = rng.random((24, 24))  # the pair-value (MDGP) search
    group_by_pairs(values + values.T, [(5, 7)] * 4, seed=0, time_limit=0.3)
    ids = [p.id for p in org.people if p.manager is not None]  # the rules' compiled checks
    linked = Course(id="c", min_size=6, max_size=8, pinned={ids[0]: "c-2"})
    for solver in ("heuristic", "lns"):
        plan(org, [linked], policy=Policy(keep_together=(tuple(ids[1:3]),), keep_apart=(tuple(ids[3:5]),)),
             solver=solver, time_limit=None, work_limit=3000, seed=0)
    golfers = Organisation(people=tuple(Person(id=f"g{i:02d}", team=f"g{i:02d}") for i in range(15)))
    plan(golfers, [Course(id="club", min_size=3, max_size=3, rounds=7)],  # the golfer search
         policy=Policy(max_meetings=1), solver="golfer", time_limit=None, work_limit=3000, seed=0)
    foursomes = Organisation(people=tuple(Person(id=f"g{i:02d}", team=f"g{i:02d}") for i in range(28)))
    plan(foursomes, [Course(id="club", min_size=4, max_size=4, rounds=9)],  # + constructions'
         policy=Policy(max_meetings=1, meetings="soft"), solver="golfer", time_limit=None,
         work_limit=6000, seed=0)  # cyclic search
    return time.perf_counter() - start
