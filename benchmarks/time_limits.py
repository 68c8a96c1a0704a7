"""Time-limit check: ``plan()`` returns within ``time_limit`` + max(10 %, 1 s) at scale-suite sizes.

For each size, a synthetic organisation (:func:`cohortmatch.synthetic.org_chart`) is
generated once (not timed); then ``plan()`` runs with each time limit and solver and its
wall time, measured around the call, is compared with the allowance
``time_limit + max(0.1 * time_limit, 1 s)``. The plan is checked with
:func:`cohortmatch.validate`. Results (the overrun table) go to
``benchmarks/results/time_limits.json`` with the machine noted. Examples::

    python benchmarks/time_limits.py                                   # 1k people, 2 s and 5 s
    python benchmarks/time_limits.py --sizes 1000,10000,100000 --limits 5,30
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "time_limits.json"


def allowance(limit: float) -> float:
    """Seconds ``plan()`` may take with this ``time_limit``."""
    return limit + max(0.1 * limit, 1.0)


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    from _suite import add_request_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000", help="comma-separated numbers of people")
    parser.add_argument("--limits", default="2,5", help="comma-separated time limits (s)")
    parser.add_argument("--solvers", default="auto,heuristic")
    add_request_arguments(parser)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from _machine import machine

    import cohortmatch as cm

    warmup_s = round(cm.precompile(), 3)  # compile/load the kernels outside the timed calls
    runs: list[dict[str, Any]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        org = cm.org_chart(size, preset=args.preset, seed=args.seed)
        courses = [cm.Course(id="course", min_size=args.min_size, max_size=args.max_size)]
        policy = cm.Policy(max_per_team=args.max_per_team, coverage=args.coverage)
        for limit in (float(x) for x in args.limits.split(",")):
            for solver in args.solvers.split(","):
                t0 = time.perf_counter()
                result = cm.plan(org, courses, policy=policy, solver=solver, time_limit=limit,
                                 seed=args.seed)
                wall = time.perf_counter() - t0
                problems = cm.validate(result, org, courses, policy)
                run = {
                    "people": size, "teams": len(org.teams), "time_limit": limit,
                    "solver": solver, "engine": result.solver, "wall_s": round(wall, 3),
                    "reported_elapsed_s": round(result.elapsed, 3),
                    "allowed_s": allowance(limit), "overrun_s": round(wall - limit, 3),
                    "overrun_pct": round(100 * (wall - limit) / limit, 1),
                    "within": wall <= allowance(limit), "valid": not problems,
                    "objective": result.metrics.objective, "status": result.status,
                }
                runs.append(run)
                print(json.dumps(run), file=sys.stderr)
    report = {"benchmark": "time_limits", "machine": machine(), "warmup_s": warmup_s,
              "config": vars(args) | {"output": str(args.output)}, "runs": runs}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("| people | time_limit s | solver (engine) | wall s | overrun s | overrun % | "
          "allowed s | within | valid |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(f"| {r['people']} | {r['time_limit']:g} | {r['solver']} ({r['engine']}) | "
              f"{r['wall_s']:.2f} | {r['overrun_s']:+.2f} | {r['overrun_pct']:+.1f} | "
              f"{r['allowed_s']:.1f} | {'yes' if r['within'] else 'NO'} | "
              f"{'yes' if r['valid'] else 'NO'} |")
    return 0 if all(r["within"] and r["valid"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
