"""Benchmark: the exact CP-SAT engine on instances up to 60 participants, 30 s each.

For every size and coverage mode, a random organisation (teams of 2-6 people, managers,
weighted gaps between a third of the team pairs), one course for everyone with cohorts
of 6-8 and ``max_per_team=2`` (redrawn until the pre-checks pass). Reports status,
objective, CP-SAT's proven bound and the
relative gap; the target is "optimal, or within 1% of the proven bound, in 30 s".

    python benchmarks/cpsat.py --sizes 20 40 60 --time 30
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _machine, also when imported
from _machine import machine  # noqa: E402

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.rules import precheck


def request(n: int, seed: int, mode: str):
    """A random request that passes the feasibility pre-checks (redrawn until it does)."""
    rng = np.random.default_rng(seed)
    while True:
        org, courses, policy = _draw(n, rng, mode)
        if not precheck(compile_problem(org, courses, policy)):
            return org, courses, policy


def _draw(n: int, rng: np.random.Generator, mode: str):
    n_teams = max(3, n // 4)
    people = []
    for i in range(n):
        manager = f"p{int(rng.integers(i)):03d}" if i > 0 and rng.random() < 0.3 else None
        people.append(
            cm.Person(id=f"p{i:03d}", team=f"t{int(rng.integers(n_teams)):02d}", manager=manager)
        )
    teams = sorted({p.team for p in people})
    gaps = [
        cm.Gap(a=a, b=b, weight=float(rng.integers(1, 6)))
        for a, b in itertools.combinations(teams, 2)
        if rng.random() < 1 / 3
    ]
    org = cm.Organisation(people=people, gaps=gaps)
    courses = [cm.Course(id="c", min_size=6, max_size=8)]
    return org, courses, cm.Policy(coverage=mode, max_per_team=2, decay=0.5)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 40, 60])
    ap.add_argument("--modes", nargs="+", default=["cover", "diminishing", "sum"])
    ap.add_argument("--time", type=float, default=30.0)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)
    warmup_s = cm.precompile()  # compile/load the kernels outside the timed runs
    rows = []
    for n, mode, seed in itertools.product(args.sizes, args.modes, range(1, args.seeds + 1)):
        org, courses, policy = request(n, seed, mode)
        res = cm.plan(
            org,
            courses,
            policy=policy,
            solver="cpsat",
            time_limit=args.time,
            seed=seed,
            workers=args.workers,
        )
        assert cm.validate(res, org, courses, policy) == []
        m = res.metrics
        rows.append(
            {
                "people": n,
                "mode": mode,
                "seed": seed,
                "gaps": len(org.gaps),
                "status": res.status,
                "objective": m.objective,
                "bound": m.bound,
                "gap_to_bound": m.gap_to_bound,
                "elapsed": round(res.elapsed, 2),
                "within_1pct": res.status == "optimal" or m.gap_to_bound <= 0.01,
                "notes": list(res.notes),
            }
        )
    print(
        json.dumps(
            {
                "benchmark": "cpsat",
                "time_limit": args.time,
                "machine": machine(),
                "warmup_s": round(warmup_s, 3),
                "all_within_1pct": all(r["within_1pct"] for r in rows),
                "results": rows,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
