"""Social Golfer benchmark: g groups of p golfers for w weeks, no pair twice.

Every golfer is their own team (no gaps), the course runs w rounds of g cohorts of p,
and ``Policy(max_meetings=1)``: exactly the Social Golfer Problem, solved through the
public front door ``cohortmatch.plan`` (soft meetings, so an unsolved run still returns
the fewest repeats found). Prints one JSON document; each run says which ``method`` gave
its plan (``construction``: the golfer engine's affine construction; ``search``: the tabu
search). ``--no-construction`` measures the search alone. A tiny instance is planned first
so that loading the compiled search (numba cache) is reported as ``warmup_seconds`` and not
counted in the runs' seconds.

Usage::

    python benchmarks/sgp.py 8 4 9 --time-limit 60 --seeds 0 1 2 --jsonl benchmarks/results/sgp.jsonl
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


def instance(g: int, p: int, w: int) -> tuple[cm.Organisation, list[cm.Course]]:
    """The g-p-w Social Golfer instance as an organisation and a course."""
    people = [cm.Person(id=f"g{i:03d}", team=f"g{i:03d}") for i in range(g * p)]
    course = cm.Course(id="golf", min_size=p, max_size=p, cohorts=g, rounds=w)
    return cm.Organisation(people=people), [course]


def run(g: int, p: int, w: int, *, time_limit: float, seed: int, construction: bool = True) -> dict:
    org, courses = instance(g, p, w)
    soft = cm.Policy(max_meetings=1, meetings="soft")
    hard = cm.Policy(max_meetings=1)
    t0 = time.perf_counter()
    proof = meeting_precheck(compile_problem(org, courses, hard))
    if proof:
        return {"seed": seed, "solved": False, "impossible": True, "reason": proof,
                "seconds": round(time.perf_counter() - t0, 3)}
    search_only = mock.patch.object(  # plan() through the golfer engine without construction
        golfer, "solve_golfer", functools.partial(solve_golfer, construction=False)
    )
    with contextlib.nullcontext() if construction else search_only:
        result = cm.plan(org, courses, policy=soft, time_limit=time_limit, seed=seed)
    seconds = time.perf_counter() - t0
    repeats = sum(r.times - 1 for r in result.repeated_meetings)
    problems = cm.validate(result, org, courses, soft)
    return {
        "seed": seed,
        "solved": repeats == 0,
        "repeated_pairs": len(result.repeated_meetings),
        "repeated_meetings": repeats,
        "seconds": round(seconds, 3),
        "valid": not problems,
        "method": "construction" if any("affine construction" in n for n in result.notes)
        else "search",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("g", type=int, help="groups per week")
    ap.add_argument("p", type=int, help="golfers per group")
    ap.add_argument("w", type=int, help="weeks")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per run")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--no-construction", action="store_true",
                    help="the tabu search alone (no affine construction first)")
    ap.add_argument("--jsonl", type=Path, default=None,
                    help="also append the document as one line to this file")
    args = ap.parse_args(argv)
    load_before = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()  # load the compiled search once (numba cache), outside timings
    tiny = compile_problem(*instance(3, 2, 2), cm.Policy(max_meetings=1, meetings="soft"))
    same_twice = np.asarray(tiny.unit_block * 3 + (np.arange(tiny.n_units) % 6) // 2, np.int64)
    solve_golfer(tiny, budget=Budget(time_limit=30), start=same_twice, rng=np.random.default_rng(0))
    warmup = round(time.perf_counter() - t0, 3)
    try:
        runs = [run(args.g, args.p, args.w, time_limit=args.time_limit, seed=s,
                    construction=not args.no_construction) for s in args.seeds]
    except InfeasibleError as err:
        runs = [{"solved": False, "impossible": True, "reason": err.conflicts}]
    solved = [r for r in runs if r.get("solved")]
    out = {
        "instance": f"{args.g}-{args.p}-{args.w}",
        "time_limit": args.time_limit,
        "construction": not args.no_construction,
        "solved": len(solved),
        "runs": len(runs),
        "median_seconds_solved": (
            float(np.median([r["seconds"] for r in solved])) if solved else None
        ),
        "results": runs,
        "warmup_seconds": warmup,
        "load_average_before": load_before,
        "machine": machine(),
    }
    print(json.dumps(out, indent=2))
    if args.jsonl is not None:
        with args.jsonl.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
