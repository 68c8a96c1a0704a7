"""Executor benchmark: the same request planned on threads and on a 2-worker Dask LocalCluster.

A synthetic organisation (:func:`cohortmatch.synthetic.org_chart`, preset ``silos``) takes
one company-wide course (cohorts of 12-16, ``max_per_team=2``, ``diminishing`` coverage
by default) with ``solver="lns"``, whose partition search submits its tasks to the
executor. Two kinds of run, each on both executors, in one process:

* ``work``: a work limit and no time limit. The plans must be the same byte for byte;
  the ratio of wall times is the overhead of the cluster (payload transport, scheduling)
  for the same work.
* ``time``: a time limit. Objectives and gaps at the same wall time, side by side.
* ``partition``: partition search alone (``solve_partition``) from the same start (the
  heuristic's construction and descent), with a work limit: the wall time of the part
  that goes to the executor, without the construction and descent that run on the
  machine that plans either way; the assignments must be equal.

Every plan is checked with :func:`cohortmatch.validate`. The cluster is started once
(its workers warmed up on a small plan, outside the timed runs). Results go to
``benchmarks/results/executor.json`` with the machine and its load average at start and
end. Run timed runs one at a time under the shared lock::

    flock /tmp/cohortmatch-bench.lock python benchmarks/executor.py --people 100000
    python benchmarks/executor.py --people 2000 --work-limit 200000 --time-limit 5   # smoke test
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine  # noqa: E402  # the description every benchmark shares

RESULTS = Path(__file__).parent / "results" / "executor.json"


def _run(cm: Any, org: Any, courses: list, policy: Any, executor: Any, **run: Any) -> dict[str, Any]:
    """One plan: wall time, objective, bound, validity and a digest of the plan."""
    started = time.perf_counter()
    plan = cm.plan(org, courses, policy=policy, solver="lns", executor=executor, **run)
    wall = time.perf_counter() - started
    problems = cm.validate(plan, org, courses, policy)
    m = plan.metrics
    return {
        "wall_s": wall, "objective": m.objective, "bound": m.bound, "gap_to_bound": m.gap_to_bound,
        "valid": problems == [], "status": str(plan.status), "notes": list(plan.notes),
        "plan_sha256": hashlib.sha256(plan.to_json(timings=False).encode()).hexdigest(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--coverage", default="diminishing", choices=["cover", "diminishing"])
    parser.add_argument("--work-limit", type=int, default=20_000_000)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="tasks per epoch of partition search")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default="work,time")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from dask.distributed import Client, LocalCluster

    import cohortmatch as cm
    from cohortmatch.synthetic import org_chart

    report: dict[str, Any] = {"machine": machine(), "settings": vars(args) | {"output": str(args.output)}}
    cm.precompile()
    org = org_chart(args.people, seed=args.seed, preset="silos")
    courses = [cm.Course(id="all-hands", min_size=12, max_size=16)]
    policy = cm.Policy(coverage=args.coverage, max_per_team=2)
    report["request"] = {"people": len(org.people), "teams": len(org.teams), "gaps": len(org.gaps)}
    runs: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        report["cluster_start_s"] = time.perf_counter() - started
        warm = org_chart(1000, seed=1)
        cm.plan(warm, courses, policy=policy, solver="lns", time_limit=None, work_limit=100_000, workers=2,
                executor=client.get_executor())  # the workers import and load the kernels
        report["worker_pids"] = sorted(client.run(os.getpid).values())
        executors = {"threads": None, "dask_2_workers": client.get_executor()}
        kinds = args.kinds.split(",")
        if "partition" in kinds:
            runs |= _partition_runs(cm, org, courses, policy, executors, args)
        for kind in (k for k in kinds if k != "partition"):
            limits = ({"time_limit": None, "work_limit": args.work_limit} if kind == "work"
                      else {"time_limit": args.time_limit})
            for name, executor in executors.items():
                print(f"{kind} / {name} ...", flush=True)
                runs[f"{kind}/{name}"] = _run(cm, org, courses, policy, executor, workers=args.workers,
                                              seed=args.seed, **limits)
    report["runs"] = runs
    report["summary"] = _summary(runs)
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    _print(report)
    return report


def _partition_runs(cm: Any, org: Any, courses: list, policy: Any, executors: dict[str, Any],
                    args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Partition search alone from one start, on each executor, with the same work limit."""
    import numpy as np

    from cohortmatch.engines.base import Budget
    from cohortmatch.engines.heuristic import solve_heuristic
    from cohortmatch.engines.partition import solve_partition
    from cohortmatch.rules import check_assignment
    from cohortmatch.scoring import score

    problem = cm.Request(org=org, courses=courses, policy=policy).compile()
    t0 = time.perf_counter()
    start = solve_heuristic(problem, budget=Budget(None, args.work_limit), rng=np.random.default_rng(args.seed),
                            perturb=False).assignment
    out: dict[str, dict[str, Any]] = {}
    print(f"start (construction and descent): {time.perf_counter() - t0:.1f} s", flush=True)
    for name, executor in executors.items():
        print(f"partition / {name} ...", flush=True)
        started = time.perf_counter()
        res = solve_partition(problem, start=start, budget=Budget(None, args.work_limit),
                              rng=np.random.default_rng(args.seed), workers=args.workers, executor=executor)
        wall = time.perf_counter() - started
        full = score(problem, res.assignment)
        out[f"partition/{name}"] = {
            "wall_s": wall, "objective": full.objective, "start_objective": score(problem, start).objective,
            "valid": check_assignment(problem, res.assignment).total == 0, "notes": res.notes,
            "plan_sha256": hashlib.sha256(res.assignment.tobytes()).hexdigest(),
            "gap_to_bound": float("nan"),
        }
    return out


def _summary(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Same plan, wall-time overhead (work runs) and objective ratio (time runs) of the cluster."""
    out: dict[str, Any] = {}
    threads, dask = runs.get("work/threads"), runs.get("work/dask_2_workers")
    if threads and dask:
        out["work_same_plan"] = threads["plan_sha256"] == dask["plan_sha256"]
        out["work_wall_ratio_dask_over_threads"] = dask["wall_s"] / threads["wall_s"]
        out["work_overhead_s"] = dask["wall_s"] - threads["wall_s"]
    threads, dask = runs.get("partition/threads"), runs.get("partition/dask_2_workers")
    if threads and dask:
        out["partition_same_assignment"] = threads["plan_sha256"] == dask["plan_sha256"]
        out["partition_wall_ratio_dask_over_threads"] = dask["wall_s"] / threads["wall_s"]
        out["partition_overhead_s"] = dask["wall_s"] - threads["wall_s"]
    threads, dask = runs.get("time/threads"), runs.get("time/dask_2_workers")
    if threads and dask:
        out["time_objective_ratio_dask_over_threads"] = dask["objective"] / threads["objective"]
    out["all_valid"] = all(r["valid"] for r in runs.values())
    return out


def _print(report: dict[str, Any]) -> None:
    print(f"\n{report['request']['people']:,} people, load {report['machine']['load_average_at_start'][0]:.2f}"
          f" -> {report['machine']['load_average_at_end'][0]:.2f}; cluster start {report['cluster_start_s']:.1f} s")
    print("| run | wall s | objective | gap to bound | valid |\n|---|---|---|---|---|")
    for name, r in report["runs"].items():
        print(f"| {name} | {r['wall_s']:.1f} | {r['objective']:.1f} | {r['gap_to_bound']:.3%} | {r['valid']} |")
    print(json.dumps(report["summary"], indent=2))


if __name__ == "__main__":
    main()
