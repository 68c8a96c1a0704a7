"""Long fuzz run of every reader (CSV, Excel, JSON, MDGPLIB): only CohortmatchError may escape.

Uses the hypothesis strategies and targets of ``tests/fuzzing.py`` (the test suite runs
them briefly in ``tests/test_fuzz.py``). Each target gets ``--iterations`` inputs; a crash
(any other exception) is recorded with its type, message, the reader frame it came
from and the input, and the run goes on. Results go to ``benchmarks/results/fuzz.json``
with the machine noted. Examples::

    python benchmarks/fuzz.py                       # 2000 inputs per target
    python benchmarks/fuzz.py --iterations 20000 --targets csv,json_doc
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results" / "fuzz.json"


def fuzz(name: str, iterations: int, seed: int) -> dict[str, Any]:
    """Run one target ``iterations`` times; return counts and the distinct crashes."""
    from fuzzing import TARGETS, run_target
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    strategy, _ = TARGETS[name]
    crashes: dict[str, dict[str, Any]] = {}
    count = {"n": 0}

    @hseed(seed)
    @settings(max_examples=iterations, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(data: Any) -> None:
        count["n"] += 1
        try:
            run_target(name, data)
        except Exception as exc:  # a crash: record it, keep fuzzing
            frames = [f for f in traceback.extract_tb(exc.__traceback__)
                      if "cohortmatch" in f.filename]
            last = frames[-1] if frames else None
            where = f"{last.filename.split('src/')[-1]}:{last.lineno}" if last else "?"
            key = f"{type(exc).__name__} at {where}"
            entry = crashes.setdefault(key, {"count": 0, "message": str(exc)[:200],
                                             "input": repr(data)[:300]})
            entry["count"] += 1

    t0 = time.perf_counter()
    one()
    return {"target": name, "iterations": count["n"], "seconds": round(time.perf_counter() - t0, 2),
            "crashes": crashes}


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(HERE.parent / "tests"))
    sys.path.insert(0, str(HERE))
    from _machine import machine
    from fuzzing import TARGETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000, help="inputs per target")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = [fuzz(name, args.iterations, args.seed) for name in args.targets.split(",")]
    report = {"benchmark": "fuzz", "machine": machine(),
              "config": {"iterations": args.iterations, "seed": args.seed}, "targets": results}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("| target | iterations | seconds | crashes (distinct) |")
    print("|---|---|---|---|")
    for r in results:
        print(f"| {r['target']} | {r['iterations']} | {r['seconds']} | {len(r['crashes'])} |")
        for key, c in r["crashes"].items():
            print(f"|   | {key} x{c['count']}: {c['message'][:80]!r} |  |  |")
    return 1 if any(r["crashes"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
