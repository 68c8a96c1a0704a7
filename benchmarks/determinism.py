"""Determinism check: same request, seed and work budget with one worker give byte-identical plans.

For each seed, each solver plans a synthetic organisation
(:func:`cohortmatch.synthetic.org_chart`) three times with ``time_limit=None``, a
``work_limit`` and ``workers=1``: twice as given and once with people, teams, gaps (and
the ends of each gap) and course participants listed in a shuffled order. The plan JSON
without timings (``Plan.to_json(timings=False)``) must be the same bytes every time.
Results (SHA-256 of each plan, wall times, pass/fail) go to
``benchmarks/results/determinism.json`` with the machine noted. Examples::

    python benchmarks/determinism.py                          # 20 seeds, heuristic + auto
    python benchmarks/determinism.py --seeds 5 --solvers heuristic,lns,cpsat --people 300
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import cohortmatch as cm

RESULTS = Path(__file__).parent / "results" / "determinism.json"


def shuffled(org: cm.Organisation, courses: list[cm.Course], seed: int):
    """The same request, every list in another order (gap ends swapped at random)."""
    r = random.Random(seed)
    people, teams = list(org.people), list(org.teams)
    r.shuffle(people)
    r.shuffle(teams)
    gaps = [cm.Gap(a=g.b, b=g.a, weight=g.weight, purpose=g.purpose) if r.random() < 0.5 else g
            for g in org.gaps]
    r.shuffle(gaps)
    out = [c.model_copy(update={"participants": tuple(r.sample(c.participants,
                                                               len(c.participants)))})
           if c.participants is not None else c for c in courses]
    return cm.Organisation(people=people, teams=teams, gaps=gaps), out


def check(seed: int, solver: str, args: argparse.Namespace) -> dict[str, Any]:
    """Plan one request three times (twice as given, once shuffled); compare the JSON bytes."""
    org = cm.org_chart(args.people, seed=seed)
    ids = sorted(p.id for p in org.people)
    courses = [
        cm.Course(id="main", min_size=args.min_size, max_size=args.max_size),
        cm.Course(id="club", min_size=4, max_size=5, participants=tuple(ids[::3]), rounds=2),
    ]
    policy = cm.Policy(coverage=args.coverage, max_per_team=args.max_per_team)
    digests, times = [], []
    for k in range(3):
        o, cs = shuffled(org, courses, seed) if k == 2 else (org, courses)
        t0 = time.perf_counter()
        p = cm.plan(o, cs, policy=policy, solver=solver, time_limit=None,
                    work_limit=args.work_limit, workers=1, seed=seed)
        times.append(time.perf_counter() - t0)
        digests.append(hashlib.sha256(p.to_json(timings=False).encode()).hexdigest())
        if k == 0:
            problems = cm.validate(p, org, courses, policy)
            objective = p.metrics.objective
    return {
        "seed": seed, "solver": solver, "identical": len(set(digests)) == 1,
        "sha256": digests, "seconds": [round(t, 3) for t in times], "objective": objective,
        "valid": not problems,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1")
    parser.add_argument("--solvers", default="heuristic,auto")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--min-size", type=int, default=8)
    parser.add_argument("--max-size", type=int, default=10)
    parser.add_argument("--max-per-team", type=int, default=3)
    parser.add_argument("--coverage", default="cover", choices=["cover", "diminishing", "sum"])
    parser.add_argument("--work-limit", type=int, default=5000)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    from _machine import machine

    runs = [check(seed, solver, args) for solver in args.solvers.split(",")
            for seed in range(args.seeds)]
    summary = {
        solver: {
            "seeds": sum(r["solver"] == solver for r in runs),
            "identical": sum(r["identical"] for r in runs if r["solver"] == solver),
            "valid": sum(r["valid"] for r in runs if r["solver"] == solver),
            "distinct_plans": len({r["sha256"][0] for r in runs if r["solver"] == solver}),
            "mean_seconds": round(sum(sum(r["seconds"]) / 3 for r in runs if r["solver"] == solver)
                                  / max(1, sum(r["solver"] == solver for r in runs)), 3),
        }
        for solver in args.solvers.split(",")
    }
    report = {"benchmark": "determinism", "machine": machine(), "config": vars(args) | {
        "output": str(args.output)}, "summary": summary, "runs": runs}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("| solver | seeds | identical (3 runs each) | valid | distinct plans | mean s/run |")
    print("|---|---|---|---|---|---|")
    for solver, s in summary.items():
        print(f"| {solver} | {s['seeds']} | {s['identical']} | {s['valid']} | "
              f"{s['distinct_plans']} | {s['mean_seconds']} |")
    return 0 if all(r["identical"] and r["valid"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
