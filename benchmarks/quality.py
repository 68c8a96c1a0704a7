"""Benchmark: how close plans get to their proven bound, and whether ``cpsat`` >= ``auto``.

Rows: the synthetic presets ``silos``, ``matrix``, ``merger`` and ``remote`` at 300,
1,000 and 10,000 people (:func:`cohortmatch.synthetic.org_chart`, seed 1; one course
for everyone, cohorts of 8-12) and the shipped Krackhardt, Lazega and UK faculty
organisations (cohorts of 4-5); ``cover`` and ``diminishing``; ``max_per_team`` off and
2; managers apart from their reports (the default) wherever the data has managers.

Each row is planned with ``solver="auto"`` at every ``--times`` limit (default 10 s
and 60 s), with ``solver="cpsat"`` at every ``--cpsat-times`` limit (default 10 s), and,
with ``--long``, once more with ``auto`` for ``--long`` seconds where the run at the
last ``--times`` limit did not reach its bound. Every run takes the shared benchmark
lock (``/tmp/cohortmatch-bench.lock``, so timed runs never overlap with another
engineer's) and records the 1-minute load average before it, the wall time, the
objective, the bound the plan reports, its status and notes. The plan is checked with
:func:`cohortmatch.validate` (outside the timed part).

Results go to ``--out`` (JSON, rewritten after every run). A run already in ``--out``
(same row, solver and limit) is not repeated, so an interrupted benchmark resumes.
``--table A.json [B.json]`` prints the markdown table of one result file, or of two
(before and after: each row's bound is then the best either proved).

    python benchmarks/quality.py --out benchmarks/results/quality_after.json --long 600
    python benchmarks/quality.py --table benchmarks/results/quality_before.json \\
        benchmarks/results/quality_after.json
"""

from __future__ import annotations

import argparse
import fcntl
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _machine, also when imported
from _machine import machine  # noqa: E402

import cohortmatch as cm

ROOT = Path(__file__).resolve().parent.parent
LOCK = "/tmp/cohortmatch-bench.lock"
PRESETS = ("silos", "matrix", "merger", "remote")
SIZES = (300, 1000, 10000)
DATASETS = ("krackhardt", "lazega", "ukfaculty")
MODES = ("cover", "diminishing")
CAPS = (None, 2)


def organisations() -> list[str]:
    """Every organisation of the table, by name (``silos-300``, ..., ``ukfaculty``)."""
    return [f"{p}-{n}" for n in SIZES for p in PRESETS] + list(DATASETS)


def load(name: str) -> tuple[cm.Organisation, list[cm.Course]]:
    """The organisation called ``name`` and its course."""
    if name in DATASETS:
        if name == "krackhardt":
            org = cm.datasets.krackhardt_hightech()
        elif name == "lazega":
            org = cm.datasets.lazega_lawfirm()
        else:
            sys.path.insert(0, str(ROOT / "examples"))
            from ukfaculty import load_faculty

            org = load_faculty()[0]
        return org, [cm.Course(id="course", min_size=4, max_size=5)]
    from cohortmatch.synthetic import org_chart

    preset, people = name.rsplit("-", 1)
    org = org_chart(int(people), preset=preset, seed=1)
    return org, [cm.Course(id="course", min_size=8, max_size=12)]


def row_key(org: str, mode: str, cap: int | None) -> str:
    return f"{org}/{mode}/cap{'-' if cap is None else cap}"


class Lock:
    """The shared benchmark lock, held for one timed run."""

    def __enter__(self) -> Lock:
        self.fh = open(LOCK, "a")  # noqa: SIM115
        fcntl.flock(self.fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def run_one(
    org: cm.Organisation, courses: list[cm.Course], policy: cm.Policy, solver: str, limit: float,
    seed: int,
) -> dict[str, Any]:
    """One timed plan under the lock; what it reports."""
    with Lock():
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        try:
            result = cm.plan(org, courses, policy=policy, solver=solver, time_limit=limit, seed=seed)
        except cm.CohortmatchError as err:
            return {"error": f"{type(err).__name__}: {err}", "wall": time.perf_counter() - t0,
                    "load_1min_before": round(load_before, 2)}
        wall = time.perf_counter() - t0
    problems = cm.validate(result, org, courses, policy)
    m = result.metrics
    bridged = [len(c.bridges) for c in result.cohorts]
    out = {
        "wall": round(wall, 2),
        "load_1min_before": round(load_before, 2),
        "objective": m.objective,
        "bound": m.bound,
        "gap_to_bound": m.gap_to_bound,
        "coverage": m.coverage,
        "status": str(result.status),
        "solver": result.solver,
        "cohorts": len(result.cohorts),
        "cohorts_bridging_nothing": sum(1 for b in bridged if b == 0),
        "valid": not problems,
        "notes": list(result.notes),
    }
    for extra in ("bound_method", "bound_seconds"):  # later versions of Plan say more
        if hasattr(result, extra):
            out[extra] = getattr(result, extra)
    return out


def rows(selected: list[str] | None) -> Iterator[tuple[str, str, int | None]]:
    for org, mode, cap in itertools.product(organisations(), MODES, CAPS):
        key = row_key(org, mode, cap)
        if selected is None or any(s in key for s in selected):
            yield org, mode, cap


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run(args: argparse.Namespace) -> dict[str, Any]:
    path = Path(args.out)
    doc: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {
        "benchmark": "quality", "machine": machine(), "commit": _commit(),
        "cohortmatch_file": cm.__file__, "command": sys.argv, "seed": args.seed, "runs": [],
    }
    done = {(r["row"], r["solver_asked"], r["time_limit"]) for r in doc["runs"]}

    def record(key: str, solver: str, limit: float, result: dict[str, Any]) -> None:
        doc["runs"].append({"row": key, "solver_asked": solver, "time_limit": limit, **result})
        done.add((key, solver, limit))
        path.write_text(json.dumps(doc, indent=1))
        print(key, solver, limit, {k: result.get(k) for k in
                                   ("objective", "bound", "gap_to_bound", "wall", "error")},
              flush=True)

    cm.precompile()
    for name in organisations():
        todo = [(o, m, c) for o, m, c in rows(args.rows) if o == name]
        if not todo:
            continue
        org, courses = load(name)
        for _, mode, cap in todo:
            key = row_key(name, mode, cap)
            policy = cm.Policy(mode=mode, max_per_team=cap)
            plan_runs = [("auto", t) for t in args.times] + [("cpsat", t) for t in args.cpsat_times]
            for solver, limit in plan_runs:
                if (key, solver, limit) not in done:
                    record(key, solver, limit, run_one(org, courses, policy, solver, limit, args.seed))
            if args.long and (key, "auto", args.long) not in done:
                last = _find(doc, key, "auto", max(args.times))
                if last is not None and last.get("gap_to_bound", 1.0) > 1e-9:
                    record(key, "auto", args.long,
                           run_one(org, courses, policy, "auto", args.long, args.seed))
    return doc


def _find(doc: dict[str, Any], key: str, solver: str, limit: float) -> dict[str, Any] | None:
    for r in doc["runs"]:
        if r["row"] == key and r["solver_asked"] == solver and r["time_limit"] == limit:
            return r
    return None


def _fmt(x: float | None, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}g}"


def table(paths: list[str]) -> str:
    """A markdown table of one result file, or of a before and an after file."""
    docs = [json.loads(Path(p).read_text()) for p in paths]
    keys = list(dict.fromkeys(r["row"] for d in docs for r in d["runs"]))
    head = ["row"]
    for i in range(len(docs)):
        tag = "" if len(docs) == 1 else (" before" if i == 0 else " after")
        head += [f"10 s{tag}", f"60 s{tag}", f"600 s{tag}", f"cpsat 10 s{tag}", f"bound{tag}"]
    longest = max((r["time_limit"] for r in docs[-1]["runs"] if r["solver_asked"] == "auto"), default=60.0)
    head += ["best bound", f"gap at {longest:g} s" + (" (after)" if len(docs) > 1 else ""), "cpsat >= auto"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    gaps = []
    for key in keys:
        cells = [key]
        bounds = []
        for d in docs:
            rs = [r for r in d["runs"] if r["row"] == key and "objective" in r]
            bounds += [r["bound"] for r in rs]
            get = {(r["solver_asked"], r["time_limit"]): r for r in rs}

            def obj(solver: str, limit: float, get: dict[Any, Any] = get) -> str:
                r = get.get((solver, limit))
                return "-" if r is None else _fmt(r["objective"], 6)

            own = min((r["bound"] for r in rs), default=None)
            cells += [obj("auto", 10.0), obj("auto", 60.0), obj("auto", 600.0), obj("cpsat", 10.0),
                      _fmt(own, 6)]
        best = min(bounds, default=None)
        last = [r for r in docs[-1]["runs"] if r["row"] == key and r["solver_asked"] == "auto"
                and r["time_limit"] == longest and "objective" in r]
        gap = None
        if best and last:
            gap = (best - last[0]["objective"]) / best
            gaps.append(gap)
        got = {r["solver_asked"]: r["objective"] for r in docs[-1]["runs"]
               if r["row"] == key and r["time_limit"] == 10.0 and "objective" in r}
        at_least = "-" if len(got) < 2 else ("yes" if got["cpsat"] >= got["auto"] - 1e-9 else "**no**")
        cells += [_fmt(best, 6), "-" if gap is None else f"{100 * gap:.2f}%", at_least]
        lines.append("| " + " | ".join(cells) + " |")
    if gaps:
        lines.append("")
        lines.append(f"{len(gaps)} rows; median gap at {longest:g} s {100 * statistics.median(gaps):.2f}%, "
                     f"rows within 1%: {sum(g <= 0.01 for g in gaps)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/results/quality.json")
    ap.add_argument("--rows", nargs="*", default=None,
                    help="only rows whose key contains one of these (e.g. silos-300 /cover/)")
    ap.add_argument("--times", type=float, nargs="+", default=[10.0, 60.0])
    ap.add_argument("--cpsat-times", type=float, nargs="*", default=[10.0])
    ap.add_argument("--long", type=float, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--table", nargs="+", default=None, metavar="JSON")
    args = ap.parse_args(argv)
    if args.table:
        print(table(args.table))
        return
    run(args)


if __name__ == "__main__":
    main()
