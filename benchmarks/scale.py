"""Scale benchmark: synthetic organisations of 1k to 100k people, planned end to end.

For every size, a fresh worker process (so that peak memory is per size) generates an
organisation with :func:`cohortmatch.synthetic.org_chart`, compiles the request, plans
it with :func:`cohortmatch.plan` under a time limit and checks the plan with
:func:`cohortmatch.validate`. It reports wall times, peak RSS, objective, coverage,
bound and gap to bound, and two baselines scored in the same process with the
library's scoring: a random grouping and the greedy construction alone. The
convergence mode plans one size with several time limits (10 s, 60 s, 600 s by default).

Results go to ``benchmarks/results/scale.json`` (machine noted); a markdown summary is
printed. Examples::

    python benchmarks/scale.py                                  # smoke test: 1k, 5 s
    python benchmarks/scale.py --sizes 1000,10000,100000 --time-limit 60
    python benchmarks/scale.py --sizes none --convergence --checkpoints 10,60,600
    python benchmarks/scale.py --sizes 100000 --coverage diminishing --time-limit 60 \
        --baseline-src ../main/src --no-baselines --output benchmarks/results/scale_17_100k.json

``--baseline-src`` runs every size a second time with another source tree of the library
(e.g. the main branch) in the same session and reports both side by side;
``--no-baselines`` skips the random and greedy baselines (a second construction costs
minutes at a million people). ``--divisions D`` builds the organisation from ``D``
organisations of ``people / D`` (seeds ``seed .. seed + D - 1``, ids prefixed ``d<i>:``),
so that no gap joins two divisions; ``--decompose always,never`` plans every size once per
value of ``plan(decompose=...)``, each in its own process::

    python benchmarks/scale.py --sizes 100000 --divisions 10 --decompose always,never \
        --coverage diminishing --time-limit 60 --no-baselines \
        --output benchmarks/results/scale_17_decompose_100k.json

``first_plan_s`` is when the first valid plan was reported
(construction and descent), the figure whose growth with size the time exponent states.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "scale.json"


# --------------------------------------------------------------------------- worker


def _rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _random_grouping(problem: Any, rng: Any) -> Any:
    """Random cohorts with valid sizes (other rules not enforced)."""
    try:
        from cohortmatch.engines.tabu import random_assignment
    except ImportError:  # pragma: no cover - older trees: shuffle balanced cohorts
        import numpy as np

        from cohortmatch.engines.construct import balanced_sizes

        a = np.empty(problem.n_units, dtype=np.int64)
        for b in range(problem.n_blocks):
            lo, hi = int(problem.block_units[b]), int(problem.block_units[b + 1])
            cs, ce = problem.block_of_cohort_range(b)
            a[lo:hi] = rng.permutation(np.repeat(np.arange(cs, ce), balanced_sizes(hi - lo,
                                                                                   ce - cs)))
        return a
    return random_assignment(problem, rng)


def run_one(config: dict[str, Any]) -> dict[str, Any]:
    """Generate, compile, plan, validate and score the baselines for one configuration."""
    import numpy as np

    import cohortmatch as cm
    from cohortmatch.compiled import compile_problem
    from cohortmatch.engines.construct import construct
    from cohortmatch.rules import check_assignment
    from cohortmatch.scoring import score
    from cohortmatch.synthetic import org_chart

    out: dict[str, Any] = {"config": config, "rss_start_mib": _rss_mib()}
    out["warmup_s"] = cm.precompile()  # compile/load the kernels outside the timed stages
    t0 = time.perf_counter()
    org = _divided(config) if config.get("divisions", 1) > 1 else org_chart(
        config["people"], preset=config["preset"], seed=config["seed"])
    out["generate_s"] = time.perf_counter() - t0
    out["people"], out["teams"], out["gaps"] = len(org.people), len(org.teams), len(org.gaps)
    courses = [cm.Course(id="course", min_size=config["min_size"], max_size=config["max_size"])]
    policy = cm.Policy(max_per_team=config["max_per_team"], coverage=config["coverage"])

    t0 = time.perf_counter()
    problem = compile_problem(org, courses, policy)
    out["compile_s"] = time.perf_counter() - t0
    out["cohorts"] = int(problem.n_cohorts)
    out["rss_after_compile_mib"] = _rss_mib()
    del problem  # plan compiles its own copy; keep one in memory at a time

    trace: list[tuple[float, float]] = []
    t0 = time.perf_counter()
    result = cm.plan(org, courses, policy=policy, seed=config["seed"],
                     time_limit=config["time_limit"], decompose=config.get("decompose", "auto"),
                     progress=lambda t, best: trace.append((round(t, 3), float(best))))
    out["plan_s"] = time.perf_counter() - t0
    out["first_plan_s"] = trace[0][0] if trace else out["plan_s"]
    out["rss_after_plan_mib"] = _rss_mib()
    m = result.metrics
    out.update(objective=m.objective, coverage=m.coverage, bound=m.bound,
               gap_to_bound=m.gap_to_bound, bridged_gaps=m.bridged_gaps, total_gaps=m.total_gaps,
               status=result.status, solver=result.solver,
               decomposed=next((n for n in result.notes if n.startswith(("decomposed", "not decomposed"))),
                               None))
    out["total_s"] = out["generate_s"] + out["plan_s"]  # loading + compiling + solving
    out["trace"] = _thin(trace, 60)

    t0 = time.perf_counter()
    problems = cm.validate(result, org, courses, policy)
    out["validate_s"] = time.perf_counter() - t0
    out["valid"] = not problems
    out["violations"] = problems[:5]

    if not config.get("baselines", True):
        out["rss_peak_mib"] = _rss_mib()
        return out
    problem = compile_problem(org, courses, policy)  # the baselines, in the same process
    rng = np.random.default_rng(config["seed"])
    t0 = time.perf_counter()
    a = _random_grouping(problem, rng)
    s = score(problem, a)
    out["random"] = {"objective": s.objective, "coverage": s.coverage,
                     "keeps_rules": not check_assignment(problem, a),
                     "seconds": time.perf_counter() - t0}
    t0 = time.perf_counter()
    try:
        state = construct(problem, rng)
    except cm.InfeasibleError as err:  # the greedy order alone may fail to repair
        out["greedy"] = {"error": str(err).splitlines()[0], "seconds": time.perf_counter() - t0}
    else:
        s = score(problem, state.assignment)
        out["greedy"] = {"objective": s.objective, "coverage": s.coverage,
                         "keeps_rules": not check_assignment(problem, state.assignment),
                         "seconds": time.perf_counter() - t0}
    out["rss_peak_mib"] = _rss_mib()
    return out


def _divided(config: dict[str, Any]) -> Any:
    """``config["divisions"]`` synthetic organisations side by side, no gap between them."""
    from cohortmatch.synthetic import org_chart, side_by_side

    d = config["divisions"]
    return side_by_side([org_chart(config["people"] // d, preset=config["preset"], seed=config["seed"] + i)
                         for i in range(d)])


def _thin(trace: list[tuple[float, float]], keep: int) -> list[tuple[float, float]]:
    """At most ``keep`` points of an improvement trace, always with the last one."""
    if len(trace) <= keep:
        return trace
    step = len(trace) / (keep - 1)
    return [trace[int(i * step)] for i in range(keep - 1)] + [trace[-1]]


# --------------------------------------------------------------------------- runner


def machine() -> dict[str, Any]:
    """CPU model, cores, versions and load of the machine running the benchmark."""
    sys.path.insert(0, str(Path(__file__).parent))
    from _machine import machine as describe  # the description every benchmark shares

    return describe()


def _spawn(config: dict[str, Any], src: str | None = None) -> dict[str, Any]:
    """Run one configuration in a fresh interpreter (with library ``src``, if given);
    return its JSON result."""
    cmd = [sys.executable, __file__, "--worker", json.dumps(config)]
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(Path(src).resolve())
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        return {"config": config, "error": " | ".join(tail), "process_s": wall}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["process_s"] = wall  # includes interpreter start and imports
    return out


def _exponent(rows: list[dict[str, Any]], key: str) -> float | None:
    """Least-squares slope of log(value) against log(people), sizes >= 10k if possible."""
    pts = [(r["people"], r[key]) for r in rows if "error" not in r and r.get(key, 0) > 0]
    big = [p for p in pts if p[0] >= 10_000]
    pts = big if len({p[0] for p in big}) >= 2 else pts
    if len({p[0] for p in pts}) < 2:
        return None
    xs = [math.log(n) for n, _ in pts]
    ys = [math.log(v) for _, v in pts]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def exponents(report: dict[str, Any]) -> dict[str, float | None]:
    """Growth exponents of the scale runs: time or memory ~ people^k."""
    rows = [
        {**r, "greedy_s": r.get("greedy", {}).get("seconds", 0.0),
         "rss_growth_mib": r["rss_peak_mib"] - r["rss_start_mib"]}
        for r in report["scale"] if "error" not in r
    ]
    return {
        "generate": _exponent(rows, "generate_s"),
        "compile": _exponent(rows, "compile_s"),
        "greedy": _exponent(rows, "greedy_s"),
        "first_plan": _exponent(rows, "first_plan_s"),
        "peak_rss": _exponent(rows, "rss_peak_mib"),
        # memory above what the interpreter and imports hold before any work
        "peak_rss_above_imports": _exponent(rows, "rss_growth_mib"),
    }


def summary(report: dict[str, Any]) -> str:
    """A markdown summary of a report."""
    m = report["machine"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, numpy {m['numpy']}, "
        f"OR-Tools {m.get('ortools')}; load average {_load(m)}. "
        f"Preset `{report['settings']['preset']}`, cohorts of "
        f"{report['settings']['min_size']}-{report['settings']['max_size']}, max "
        f"{report['settings']['max_per_team']} per team, coverage "
        f"`{report['settings']['coverage']}`.",
        "",
    ]
    rows = [(f" ({r['config']['decompose']})" if r["config"].get("decompose", "auto") != "auto" else "", r)
            for r in report["scale"]]
    rows += [(" (baseline)", r) for r in report.get("baseline", {}).get("scale", [])]
    if rows:
        lines += [
            "| people | teams | gaps | generate s | compile s | first plan s | plan s (limit) "
            "| total s | peak RSS MiB | objective | coverage | gap to bound | random cov. "
            "| greedy cov. | valid |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:--:|",
        ]
        for label, r in rows:
            if "error" in r:
                lines.append(f"| {r['config']['people']:,}{label} | error: {r['error']} |")
                continue
            cells = [r.get(b, {}).get("coverage") for b in ("random", "greedy")]
            random_cell, greedy_cell = ("-" if c is None else f"{c:.2%}" for c in cells)
            lines.append(
                f"| {r['people']:,}{label} | {r['teams']:,} | {r['gaps']:,} | {r['generate_s']:.2f} "
                f"| {r['compile_s']:.2f} | {r.get('first_plan_s', float('nan')):.1f} "
                f"| {r['plan_s']:.1f} ({r['config']['time_limit']:g}) "
                f"| {r['total_s']:.1f} | {r['rss_peak_mib']:.0f} | {r['objective']:.2f} "
                f"| {r['coverage']:.2%} | {r['gap_to_bound']:.2%} | {random_cell} "
                f"| {greedy_cell} | {'yes' if r['valid'] else 'NO'} |"
            )
        exps = report.get("exponents", {})
        if any(v is not None for v in exps.values()):
            lines += ["", "Growth exponents (time or memory ~ people^k): " + ", ".join(
                f"{k} {v:.2f}" for k, v in exps.items() if v is not None) + "."]
    conv = report.get("convergence")
    if conv:
        lines += ["", f"Convergence at {conv['people']:,} people (separate runs, seed "
                      f"{conv['seed']}):", "",
                  "| time limit s | objective | coverage | gap to bound | vs longest |",
                  "|---:|---:|---:|---:|---:|"]
        best = conv["runs"][-1].get("objective")
        for r in conv["runs"]:
            if "error" in r:
                lines.append(f"| {r['config']['time_limit']:g} | error: {r['error']} |")
                continue
            rel = (best - r["objective"]) / best if best else 0.0
            lines.append(f"| {r['config']['time_limit']:g} | {r['objective']:.3f} "
                         f"| {r['coverage']:.2%} | {r['gap_to_bound']:.3%} | -{rel:.3%} |")
    return "\n".join(lines)


def _load(m: dict[str, Any]) -> str:
    """1-minute load average at the start and the end of the run."""
    start, end = m.get("load_average_at_start"), m.get("load_average_at_end")
    if not start:
        return "unknown"
    return f"{start[0]:.1f} at start" + (f", {end[0]:.1f} at end" if end else "")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).parent))
    from _suite import add_request_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000",
                        help="comma-separated numbers of people, or 'none' (default 1000)")
    parser.add_argument("--time-limit", type=float, default=5.0,
                        help="seconds per plan (default 5)")
    add_request_arguments(parser)
    parser.add_argument("--convergence", action="store_true",
                        help="also plan one size with each time limit of --checkpoints")
    parser.add_argument("--convergence-size", type=int, default=10_000)
    parser.add_argument("--checkpoints", default="10,60,600",
                        help="time limits of the convergence runs (default 10,60,600)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--summarise", action="store_true",
                        help="only recompute the exponents and print the summary of --output")
    parser.add_argument("--baseline-src", default=None,
                        help="also run every size with the library at this source folder")
    parser.add_argument("--no-baselines", action="store_true",
                        help="skip the random and greedy baselines")
    parser.add_argument("--divisions", type=int, default=1,
                        help="build the organisation from this many disjoint organisations")
    parser.add_argument("--decompose", default="auto",
                        help="comma-separated values of plan(decompose=...), one run each (default auto)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.summarise:
        report = json.loads(args.output.read_text(encoding="utf-8"))
        report["exponents"] = exponents(report)
        args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(summary(report))
        return report

    if args.worker:
        print(json.dumps(run_one(json.loads(args.worker))))
        return {}

    base = {"preset": args.preset, "min_size": args.min_size, "max_size": args.max_size,
            "max_per_team": args.max_per_team, "coverage": args.coverage, "seed": args.seed,
            "baselines": not args.no_baselines, "divisions": args.divisions}
    sizes = [] if args.sizes.strip().lower() == "none" else [
        int(s) for s in args.sizes.split(",") if s.strip()]
    report: dict[str, Any] = {"machine": machine(), "settings": {**base,
                              "time_limit": args.time_limit}, "scale": []}
    for n in sizes:
        for how in args.decompose.split(","):
            print(f"[scale] {n:,} people, time limit {args.time_limit:g} s, decompose={how} ...",
                  file=sys.stderr)
            report["scale"].append(_spawn({**base, "people": n, "time_limit": args.time_limit,
                                           "decompose": how}))
        if args.baseline_src:
            print(f"[scale] {n:,} people with {args.baseline_src} ...", file=sys.stderr)
            report.setdefault("baseline", {"src": args.baseline_src, "scale": []})["scale"].append(
                _spawn({**base, "people": n, "time_limit": args.time_limit}, args.baseline_src))
    report["exponents"] = exponents(report)
    if args.convergence:
        limits = [float(x) for x in args.checkpoints.split(",") if x.strip()]
        runs = []
        for t in sorted(limits):
            print(f"[convergence] {args.convergence_size:,} people, time limit {t:g} s ...",
                  file=sys.stderr)
            runs.append(_spawn({**base, "people": args.convergence_size, "time_limit": t}))
        report["convergence"] = {"people": args.convergence_size, "seed": args.seed,
                                 "runs": runs}
    if hasattr(os, "getloadavg"):  # other work on the machine skews the timings
        report["machine"]["load_average_at_end"] = list(os.getloadavg())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(summary(report))
    return report


if __name__ == "__main__":
    main()
