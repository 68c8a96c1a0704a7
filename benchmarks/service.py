"""Service behaviour: cancellation latency, concurrent plans, and the first call's time limit.

Three parts (``--parts``, all by default), results in ``benchmarks/results/service.json``
with the machine and the load average noted:

``cancel``
    ``plan(..., stop=event)`` on a diminishing-mode request (``--people``, 1,000) with a
    60 s limit; another thread sets the event at a random time (uniform in
    ``[0.05, --max-delay]`` s). Latency is the time from ``event.set()`` to the return
    of ``plan``; trials that finished before the event was set are counted apart.
    ``--trials`` per engine (25 x 4 engines = 100).
``concurrent``
    ``--threads`` threads each plan a different request (``--concurrent-people``) with
    ``--time-limit``, ``--rounds`` times: wall time of each call against
    ``time_limit + 10 %``, every plan valid. Then the same requests with a ``work_limit``
    and no time limit, from the threads at once and one at a time: the plans must be
    byte-identical (``to_json(timings=False)``).
``first-call``
    For each mode and engine, a fresh Python process builds the request (not timed) and
    times its first ``plan(time_limit=--first-limit)``, without and with
    ``cohortmatch.precompile()`` beforehand.

Examples::

    flock /tmp/cohortmatch-bench.lock python benchmarks/service.py
    python benchmarks/service.py --parts cancel --trials 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "service.json"
ENGINES = ("auto", "heuristic", "lns", "cpsat")
MODES = ("cover", "diminishing", "sum")


def _request(people: int, seed: int, mode: str) -> Any:
    import cohortmatch as cm

    org = cm.org_chart(people, preset="silos", seed=seed)
    return cm.Request(org=org, courses=[cm.Course(id="course", min_size=12, max_size=16)],
                      policy=cm.Policy(max_per_team=2, mode=mode))


def cancel(args: argparse.Namespace) -> dict[str, Any]:
    """Latency from ``stop.set()`` to the return of ``plan``, per engine."""
    import cohortmatch as cm

    req = _request(args.people, args.seed, "diminishing")
    rng = random.Random(args.seed)
    out: dict[str, Any] = {}
    for engine in ENGINES:
        latencies, early, invalid, noted = [], 0, 0, 0
        for _ in range(args.trials):
            stop, delay, set_at = threading.Event(), rng.uniform(0.05, args.max_delay), [0.0]

            def setter(stop: threading.Event = stop, delay: float = delay, set_at: list = set_at) -> None:
                time.sleep(delay)
                set_at[0] = time.perf_counter()
                stop.set()

            thread = threading.Thread(target=setter)
            thread.start()
            result = cm.plan(req, solver=engine, time_limit=60, seed=args.seed, stop=stop)
            returned = time.perf_counter()
            thread.join()
            invalid += bool(cm.validate(result, req))
            if returned < set_at[0]:
                early += 1
                continue
            noted += any(n.startswith("stopped on request") for n in result.notes)
            latencies.append(returned - set_at[0])
        out[engine] = _latency_summary(latencies) | {
            "trials": args.trials, "finished_before_stop": early, "invalid": invalid,
            "noted_stopped": noted}
        print(engine, json.dumps(out[engine]), file=sys.stderr)
    every = [x for e in ENGINES for x in out[e].pop("latencies_s")]
    out["all"] = _latency_summary(every)
    out["all"].pop("latencies_s")
    return out


def _latency_summary(latencies: list[float]) -> dict[str, Any]:
    return {
        "stopped_runs": len(latencies),
        "median_s": round(statistics.median(latencies), 3) if latencies else None,
        "max_s": round(max(latencies), 3) if latencies else None,
        "within_0_5_s": sum(x <= 0.5 for x in latencies),
        "latencies_s": [round(x, 3) for x in latencies],
    }


def concurrent(args: argparse.Namespace) -> dict[str, Any]:
    """Threads planning different requests at once: time limits, validity, determinism."""
    import cohortmatch as cm

    requests = [_request(args.concurrent_people, args.seed + i, MODES[i % 2])
                for i in range(args.threads)]

    def timed(req: Any) -> dict[str, Any]:
        t0 = time.perf_counter()
        result = cm.plan(req, time_limit=args.time_limit, seed=args.seed)
        wall = time.perf_counter() - t0
        return {"wall_s": round(wall, 3), "within": wall <= 1.1 * args.time_limit,
                "valid": not cm.validate(result, req), "engine": result.solver}

    rounds = []
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        for _ in range(args.rounds):
            rounds.append(list(pool.map(timed, requests)))
    calls = [c for r in rounds for c in r]

    def fixed(req: Any) -> str:
        return cm.plan(req, time_limit=None, work_limit=args.work_limit, seed=args.seed,
                       workers=1).to_json(timings=False)

    t0 = time.perf_counter()
    alone = [fixed(r) for r in requests]
    alone_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        together = list(pool.map(fixed, requests))
    together_s = time.perf_counter() - t0
    return {
        "threads": args.threads, "people": args.concurrent_people, "time_limit": args.time_limit,
        "rounds": args.rounds, "calls": len(calls),
        "max_wall_s": max(c["wall_s"] for c in calls),
        "all_within_limit_plus_10pct": all(c["within"] for c in calls),
        "all_valid": all(c["valid"] for c in calls), "per_round": rounds,
        "work_limit": args.work_limit, "identical_to_one_at_a_time": together == alone,
        "distinct_plans": len(set(alone)),
        "one_at_a_time_s": round(alone_s, 3), "together_s": round(together_s, 3),
    }


_FIRST_CALL = """
import json, sys, time
t0 = time.perf_counter()
import cohortmatch as cm
sys.path.insert(0, {bench!r})
from service import _request
imported = time.perf_counter() - t0
req = _request({people}, {seed}, {mode!r})
warm = cm.precompile() if {warm} else 0.0
t0 = time.perf_counter()
result = cm.plan(req, solver={engine!r}, time_limit={limit}, seed={seed})
wall = time.perf_counter() - t0
print(json.dumps({{"wall_s": wall, "import_s": imported, "precompile_s": warm,
                  "engine": result.solver, "valid": not cm.validate(result, req)}}))
"""


def first_call(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The first ``plan`` of a fresh process, per mode and engine, cold and after precompile()."""
    runs = []
    for warm in (False, True):
        for mode in MODES:
            for engine in ENGINES:
                code = _FIRST_CALL.format(bench=str(Path(__file__).parent), people=args.people,
                                          seed=args.seed, mode=mode, warm=warm, engine=engine,
                                          limit=args.first_limit)
                done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                      check=True, env=os.environ | {"PYTHONHASHSEED": "0"})
                run = json.loads(done.stdout.strip().splitlines()[-1])
                limit = args.first_limit
                run |= {"mode": mode, "solver": engine, "precompiled": warm, "time_limit": limit,
                        "overrun_s": round(run["wall_s"] - limit, 3),
                        "within": run["wall_s"] <= limit + max(0.1 * limit, 1.0)}
                run = {k: round(v, 3) if isinstance(v, float) else v for k, v in run.items()}
                runs.append(run)
                print(json.dumps(run), file=sys.stderr)
    return runs


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="cancel,concurrent,first-call")
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=25, help="cancellation trials per engine")
    parser.add_argument("--max-delay", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--concurrent-people", type=int, default=2000)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work-limit", type=int, default=20_000)
    parser.add_argument("--first-limit", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from _machine import machine

    import cohortmatch as cm

    report: dict[str, Any] = {"benchmark": "service", "machine": machine(),
                              "config": vars(args) | {"output": str(args.output)}}
    parts = args.parts.split(",")
    if "first-call" in parts:  # fresh processes first, before this one warms anything up
        report["first_call"] = first_call(args)
    report["precompile_s"] = round(cm.precompile(), 3)
    if "cancel" in parts:
        report["cancel"] = cancel(args)
    if "concurrent" in parts:
        report["concurrent"] = concurrent(args)
    report["load_average_at_end"] = list(os.getloadavg())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k in ("cancel", "precompile_s")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
