"""Benchmark: heuristic alone vs heuristic + large-neighbourhood search at 10,000 people.

For each coverage mode and seed, on the same request, runs

* ``heuristic`` for ``--time`` seconds (default 60),
* ``lns`` for ``--time`` seconds (the heuristic until it stalls, then
  :func:`~cohortmatch.engines.lns.polish` shares the rest between local search and LNS),
* ``lns`` for half of ``--time`` (does it match the heuristic's result in half the time?),

and, with ``--convergence``, the heuristic for 10 s and ``--time`` s with the compiled
descent kernel and with the Python descent it replaced (same process, same seeds), so the
speed-up of local search shows as objective at a fixed time. Each run records the load
average before it. Writes one JSON document (machine, versions, runs) to ``--out`` after
every run, and prints it at the end.

    flock /tmp/cohortmatch-bench.lock python benchmarks/lns.py --modes diminishing cover \\
        --seeds 2 --convergence --out benchmarks/results/lns.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _machine, also when imported
from _machine import machine  # noqa: E402

import cohortmatch as cm
import cohortmatch.engines.local_search as local_search


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


def _request(people: int, seed: int, mode: str):  # type: ignore[no-untyped-def]
    org = _organisation(people, seed)
    courses = [cm.Course(id="leadership", min_size=8, max_size=12)]
    return org, courses, cm.Policy(coverage=mode, max_per_team=2)


def _one(org, courses, policy, solver, limit, seed, workers, *, kernel=True) -> dict:  # type: ignore[no-untyped-def]  # noqa: E501
    load = os.getloadavg()[0]
    local_search._KERNEL = kernel
    try:
        t0 = time.perf_counter()
        result = cm.plan(
            org, courses, policy=policy, solver=solver, time_limit=limit, seed=seed,
            workers=workers,
        )
        wall = time.perf_counter() - t0
    finally:
        local_search._KERNEL = True
    assert cm.validate(result, org, courses, policy) == []
    return {
        "solver": result.solver,
        "descent": "compiled" if kernel else "python",
        "time_limit": limit,
        "wall": round(wall, 2),
        "load_1min_before": round(load, 2),
        "objective": result.metrics.objective,
        "coverage": result.metrics.coverage,
        "bound": result.metrics.bound,
        "status": result.status,
        "notes": list(result.notes),
    }


def compare(people: int, seconds: float, seed: int, mode: str, workers: int | None) -> dict:
    """heuristic vs lns at ``seconds`` and lns at half of it."""
    org, courses, policy = _request(people, seed, mode)
    out: dict = {"people": len(org.people), "gaps": len(org.gaps), "seed": seed, "mode": mode,
                 "runs": {}}
    for name, solver, limit in (
        ("heuristic", "heuristic", seconds),
        ("lns", "lns", seconds),
        ("lns_half_time", "lns", seconds / 2),
    ):
        out["runs"][name] = _one(org, courses, policy, solver, limit, seed, workers)
    h = out["runs"]["heuristic"]["objective"]
    for name in ("lns", "lns_half_time"):
        o = out["runs"][name]["objective"]
        out["runs"][name]["vs_heuristic_pct"] = round(100.0 * (o - h) / h, 3) if h else None
    return out


def convergence(people: int, seconds: float, seed: int, mode: str) -> dict:
    """The heuristic at 10 s and ``seconds`` with the compiled and the Python descent."""
    org, courses, policy = _request(people, seed, mode)
    out: dict = {"people": len(org.people), "seed": seed, "mode": mode, "runs": {}}
    for kernel in (False, True):
        for limit in (10.0, seconds):
            name = f"{'compiled' if kernel else 'python'}_{limit:g}s"
            out["runs"][name] = _one(org, courses, policy, "heuristic", limit, seed, None,
                                     kernel=kernel)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--time", type=float, default=60.0)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--modes", nargs="+", default=["diminishing", "cover"],
                    choices=["cover", "diminishing", "sum"])
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--convergence", action="store_true",
                    help="also time the heuristic with the Python descent (diminishing mode)")
    ap.add_argument("--skip-compare", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    doc: dict = {"benchmark": "lns", "machine": machine(), "results": [], "convergence": [],
                 "warmup_s": cm.precompile()}  # kernels compiled/loaded outside the timed runs

    def save() -> None:
        if args.out is not None:
            args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")

    seeds = range(1, args.seeds + 1)
    if args.convergence:
        for s in seeds:
            doc["convergence"].append(convergence(args.people, args.time, s, "diminishing"))
            save()
    if not args.skip_compare:
        for mode in args.modes:
            for s in seeds:
                doc["results"].append(compare(args.people, args.time, s, mode, args.workers))
                save()
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
