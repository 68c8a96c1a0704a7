"""Social Golfer benchmark: g groups of p golfers for w weeks, no pair twice.

Every golfer is their own team (no gaps), the course runs w rounds of g cohorts of p,
and ``Policy(max_meetings=1)``: exactly the Social Golfer Problem, solved through the
public front door ``cohortmatch.plan``. With ``--meetings hard`` (the default) a run is
solved when ``plan`` returns (an unsolved run raises ``InfeasibleError`` at its time
limit); with ``--meetings soft`` an unsolved run still returns and reports the fewest
repeats found. ``--people N`` seats N people in the g cohorts instead of g * p (sizes p
and p + 1: e.g. 51 people in 25 pairs and one group of three). Each run says which
``method`` gave its plan (``construction`` or ``search``) and the plan's note.
``--no-construction`` measures the search alone. A tiny instance is planned first so
that loading the compiled search (numba cache) is reported as ``warmup_seconds`` and not
counted in the runs' seconds.

``--suite NAME`` runs a named list of instances (``SUITES``) in one process and writes
one JSON document with every instance (``--json FILE``, rewritten after each instance).

Usage::

    python benchmarks/sgp.py 8 4 9 --time-limit 60 --seeds 0 1 2 --jsonl benchmarks/results/sgp.jsonl
    flock /tmp/cohortmatch-bench.lock python benchmarks/sgp.py --suite targets --seeds 0 1 2 3 4 \\
        --json benchmarks/results/sgp_targets.json
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _machine, also when imported
from _machine import machine  # noqa: E402

import cohortmatch as cm
import cohortmatch.engines.golfer as golfer
from cohortmatch.compiled import compile_problem
from cohortmatch.engines.base import Budget
from cohortmatch.engines.golfer import solve_golfer
from cohortmatch.errors import InfeasibleError
from cohortmatch.rules.meetings import meeting_precheck

#: Named instance lists: (groups, size, weeks, people or None for groups * size).
SUITES: dict[str, list[tuple[int, int, int, int | None]]] = {
    "today": [  # solved on the start commit of issue 21
        (5, 3, 7, None), (6, 3, 8, None), (6, 4, 6, None), (10, 10, 3, None), (9, 4, 9, None),
        (10, 4, 10, None), (11, 4, 11, None), (10, 3, 13, None), (5, 5, 6, None),
        (6, 6, 3, None), (10, 5, 7, None), (8, 4, 9, None), (4, 4, 5, None), (8, 8, 9, None),
        (16, 4, 21, None), (9, 3, 13, None), (7, 7, 8, None),
    ],
    "targets": [  # issue 21 (51 people beyond 47 rounds: proved impossible by counting)
        (7, 3, 10, None), (7, 4, 9, None), (8, 4, 10, None), (6, 5, 6, None),
        (25, 2, 49, None), (25, 2, 47, 51), (25, 2, 50, 51),
    ],
    "smoke": [(4, 4, 5, None), (5, 2, 7, 11)],  # tiny instances the tests run
}


def instance(g: int, p: int, w: int, people: int | None = None
             ) -> tuple[cm.Organisation, list[cm.Course]]:
    """The g-p-w Social Golfer instance (``people`` golfers, g * p by default)."""
    n = g * p if people is None else people
    golfers = [cm.Person(id=f"g{i:03d}", team=f"g{i:03d}") for i in range(n)]
    top = -(-n // g)
    course = cm.Course(id="golf", min_size=n // g, max_size=top, cohorts=g, rounds=w)
    return cm.Organisation(people=golfers), [course]


def name(g: int, p: int, w: int, people: int | None = None) -> str:
    """``g-p-w``, with the number of people when it is not g * p."""
    return f"{g}-{p}-{w}" + ("" if people in (None, g * p) else f" ({people} people)")


def run(g: int, p: int, w: int, *, time_limit: float, seed: int, construction: bool = True,
        people: int | None = None, meetings: str = "hard") -> dict:
    org, courses = instance(g, p, w, people)
    policy = cm.Policy(max_meetings=1, meetings=meetings)
    t0 = time.perf_counter()
    proof = meeting_precheck(compile_problem(org, courses, cm.Policy(max_meetings=1)))
    if proof:
        return {"seed": seed, "solved": False, "impossible": True, "reason": proof,
                "seconds": round(time.perf_counter() - t0, 3)}
    search_only = mock.patch.object(  # plan() through the golfer engine without construction
        golfer, "solve_golfer", functools.partial(solve_golfer, construction=False)
    )
    try:
        with contextlib.nullcontext() if construction else search_only:
            result = cm.plan(org, courses, policy=policy, time_limit=time_limit, seed=seed)
    except InfeasibleError as err:  # the hard rule, unsolved in the time limit
        return {"seed": seed, "solved": False, "reason": list(err.conflicts),
                "seconds": round(time.perf_counter() - t0, 3)}
    seconds = time.perf_counter() - t0
    repeats = sum(r.times - 1 for r in result.repeated_meetings)
    notes = [n for n in result.notes if "repeat-free schedule from" in n]
    return {
        "seed": seed,
        "solved": repeats == 0,
        "repeated_pairs": len(result.repeated_meetings),
        "repeated_meetings": repeats,
        "seconds": round(seconds, 3),
        "valid": not cm.validate(result, org, courses, policy),
        "method": "construction" if notes else "search",
        "note": notes[0] if notes else None,
    }


def measure(g: int, p: int, w: int, *, seeds: list[int], time_limit: float,
            construction: bool = True, people: int | None = None, meetings: str = "hard") -> dict:
    """Every seed of one instance, summarised."""
    runs = [run(g, p, w, time_limit=time_limit, seed=s, construction=construction,
                people=people, meetings=meetings) for s in seeds]
    solved = [r for r in runs if r.get("solved")]
    return {
        "instance": name(g, p, w, people),
        "time_limit": time_limit,
        "meetings": meetings,
        "construction": construction,
        "solved": len(solved),
        "runs": len(runs),
        "median_seconds_solved": (
            float(np.median([r["seconds"] for r in solved])) if solved else None
        ),
        "max_seconds": max(r["seconds"] for r in runs),
        "load_average_before": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "results": runs,
    }


def warm_up() -> float:
    """Seconds to load the compiled searches once (numba cache), outside the timings."""
    t0 = time.perf_counter()
    tiny = compile_problem(*instance(3, 2, 2), cm.Policy(max_meetings=1, meetings="soft"))
    same_twice = np.asarray(tiny.unit_block * 3 + (np.arange(tiny.n_units) % 6) // 2, np.int64)
    solve_golfer(tiny, budget=Budget(time_limit=30), start=same_twice, rng=np.random.default_rng(0))
    cm.plan(*instance(5, 3, 7), policy=cm.Policy(max_meetings=1, meetings="soft"), time_limit=30,
            seed=0)  # the constructions' compiled search, where there is one
    return round(time.perf_counter() - t0, 3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("g", type=int, nargs="?", help="groups per week")
    ap.add_argument("p", type=int, nargs="?", help="golfers per group")
    ap.add_argument("w", type=int, nargs="?", help="weeks")
    ap.add_argument("--people", type=int, default=None, help="golfers (default g * p)")
    ap.add_argument("--suite", choices=sorted(SUITES), default=None,
                    help="run a named list of instances instead of one")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per run")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--meetings", choices=["hard", "soft"], default="hard",
                    help="max_meetings=1 as a hard rule (default) or soft")
    ap.add_argument("--no-construction", action="store_true",
                    help="the search alone (no construction first)")
    ap.add_argument("--jsonl", type=Path, default=None,
                    help="also append the document as one line to this file")
    ap.add_argument("--json", type=Path, default=None,
                    help="also write the document to this file (rewritten after each instance)")
    args = ap.parse_args(argv)
    if args.suite is None and None in (args.g, args.p, args.w):
        ap.error("give g p w, or --suite")
    cases = SUITES[args.suite] if args.suite else [(args.g, args.p, args.w, args.people)]
    out: dict = {
        "suite": args.suite,
        "warmup_seconds": warm_up(),
        "machine": machine(),
        "instances": [],
    }
    for g, p, w, people in cases:
        out["instances"].append(measure(
            g, p, w, seeds=args.seeds, time_limit=args.time_limit,
            construction=not args.no_construction, people=people, meetings=args.meetings,
        ))
        if args.json is not None:
            args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    if args.suite is None:  # one instance: its summary at the top level, as before
        out = {**out.pop("instances")[0], **out}
    print(json.dumps(out, indent=2))
    if args.jsonl is not None:
        with args.jsonl.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
