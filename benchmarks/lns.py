"""Benchmark: heuristic alone vs heuristic + large-neighbourhood search at 10,000 people.

Runs, on the same request and seed,

* ``heuristic`` for ``--time`` seconds (default 60),
* ``lns`` for ``--time`` seconds (the heuristic for half, LNS for the other half),
* ``lns`` for half of ``--time`` (does LNS match the heuristic's result in half the time?),

and prints one JSON document (machine, versions, per-run objective, elapsed, notes).

    python benchmarks/lns.py --people 10000 --time 60 --seeds 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _machine, also when imported
from _machine import machine  # noqa: E402

import cohortmatch as cm


def _organisation(people: int, seed: int) -> cm.Organisation:
    try:
        from cohortmatch.synthetic import org_chart
    except ImportError:  # pragma: no cover - fallback generator
        org_chart = None
    if org_chart is not None:
        return org_chart(people, seed=seed)
    rng = np.random.default_rng(seed)
    n_teams = people // 8
    persons = [
        cm.Person(id=f"p{i:05d}", team=f"t{int(rng.integers(n_teams)):04d}") for i in range(people)
    ]
    teams = sorted({p.team for p in persons})
    gaps = {}
    for _ in range(3 * len(teams)):
        a, b = rng.choice(len(teams), 2, replace=False)
        key = (teams[min(a, b)], teams[max(a, b)])
        gaps[key] = cm.Gap(a=key[0], b=key[1], weight=float(rng.uniform(0.5, 3.0)))
    return cm.Organisation(people=persons, gaps=list(gaps.values()))


def run(people: int, seconds: float, seed: int, mode: str, workers: int | None) -> dict:
    org = _organisation(people, seed)
    courses = [cm.Course(id="leadership", min_size=8, max_size=12)]
    policy = cm.Policy(coverage=mode, max_per_team=2)
    out: dict = {
        "people": len(org.people),
        "gaps": len(org.gaps),
        "seed": seed,
        "mode": mode,
        "runs": {},
    }
    for name, solver, limit in (
        ("heuristic", "heuristic", seconds),
        ("lns", "lns", seconds),
        ("lns_half_time", "lns", seconds / 2),
    ):
        t0 = time.perf_counter()
        result = cm.plan(
            org, courses, policy=policy, solver=solver, time_limit=limit, seed=seed, workers=workers
        )
        wall = time.perf_counter() - t0
        assert cm.validate(result, org, courses, policy) == []
        out["runs"][name] = {
            "solver": result.solver,
            "time_limit": limit,
            "wall": round(wall, 2),
            "objective": result.metrics.objective,
            "coverage": result.metrics.coverage,
            "bound": result.metrics.bound,
            "notes": list(result.notes),
        }
    h = out["runs"]["heuristic"]["objective"]
    for name in ("lns", "lns_half_time"):
        o = out["runs"][name]["objective"]
        out["runs"][name]["vs_heuristic_pct"] = round(100.0 * (o - h) / h, 3) if h else None
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--time", type=float, default=60.0)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--mode", default="cover", choices=["cover", "diminishing", "sum"])
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)
    results = [
        run(args.people, args.time, s, args.mode, args.workers) for s in range(1, args.seeds + 1)
    ]
    print(json.dumps({"benchmark": "lns", "machine": machine(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
