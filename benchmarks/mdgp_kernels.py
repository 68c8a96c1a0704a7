"""Search speed of the MDGP engine against its previous version, in one process.

Usage::

    git show 5db3772:src/cohortmatch/engines/tabu.py > /tmp/tabu_previous.py
    python benchmarks/mdgp_kernels.py INSTANCE.txt --previous /tmp/tabu_previous.py \
        --reference best_known.csv --seconds 10 --rounds 2 --out benchmarks/results/mdgp_kernels.json

The previous engine (a best-improvement tabu search: every iteration scans all moves and
all ``n(n-1)/2`` swaps and applies the best) is loaded from a copy of its source file; the
current one is :func:`cohortmatch.engines.tabu.three_phase_search`. Both run from the same
random start for the same wall time, alternately (``--rounds`` times each), so that the
machine's load affects them alike. Reported per run: move/swap evaluations per second,
applied moves (tabu iterations) or descents per second, and the value reached.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _machine, also when imported
from _machine import machine  # noqa: E402

from cohortmatch.compiled import compile_grouping
from cohortmatch.engines import tabu
from cohortmatch.engines.base import Budget
from cohortmatch.mdgplib import read_mdgplib
from cohortmatch.scoring import SearchState


def load_previous(path: str):
    spec = importlib.util.spec_from_file_location("cohortmatch.engines._tabu_previous", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # numba's cache finds the module again by its name
    spec.loader.exec_module(module)
    return module


def run_previous(old, problem, start, seconds: float) -> dict:
    """The previous tabu kernel, in chunks of 64 iterations, for ``seconds``."""
    state = SearchState(problem, start)
    W = np.ascontiguousarray(state.pair_matrix(0), dtype=np.float64)
    G = state.gain_matrix(0).copy()
    n, K = G.shape
    al = start.astype(np.int64).copy()
    size = np.bincount(al, minlength=K).astype(np.int64)
    kmin = problem.cohort_min.astype(np.int64)
    kmax = problem.cohort_max.astype(np.int64)
    tabu_until = np.zeros((n, K), dtype=np.int64)
    best = al.copy()
    f = np.array([state.value] * 3)
    it = np.zeros(2, dtype=np.int64)
    moves_ok = bool(np.any(kmin != kmax))
    args = (max(2, n // 20), max(3, int(0.15 * n)), max(200, 2 * n), max(2, n // 20), moves_ok, 0.5)
    t0 = time.perf_counter()
    seed = 0
    while time.perf_counter() - t0 < seconds:
        seed += 1
        old._kernel(W, G, al, size, kmin, kmax, tabu_until, best, f, it, 64, *args, np.inf, seed)
    dt = time.perf_counter() - t0
    per_iter = n * (n - 1) // 2 + (n * K if moves_ok else 0)
    return {"engine": "previous tabu (best improvement)", "seconds": round(dt, 2),
            "value": float(f[1]), "iterations_per_s": round(it[0] / dt, 1),
            "evaluations_per_s": round(it[0] * per_iter / dt)}


def run_current(problem, start, seconds: float, seed: int) -> dict:
    counts = {"descents": 0}
    descent = tabu._descent

    def counted(*a):
        counts["descents"] += 1
        return descent(*a)

    tabu._descent = counted
    try:
        state = SearchState(problem, start)
        budget = Budget(seconds)
        tabu.three_phase_search(state, 0, np.random.default_rng(seed), budget,
                                time_limit=seconds)
    finally:
        tabu._descent = descent
    dt = budget.elapsed()
    return {"engine": "three-phase population search", "seconds": round(dt, 2),
            "value": float(state.value), "descents_per_s": round(counts["descents"] / dt, 1),
            "evaluations_per_s": round(budget.work / dt)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance")
    ap.add_argument("--previous", required=True, help="a copy of the previous tabu.py")
    ap.add_argument("--reference", help="CSV with columns instance,bkv")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="-")
    args = ap.parse_args(argv)
    inst = read_mdgplib(args.instance)
    ref = None
    if args.reference:
        with open(args.reference, encoding="utf-8") as fh:
            ref = {r["instance"]: float(r["bkv"]) for r in csv.DictReader(fh)}.get(inst.name)
    problem = compile_grouping(inst.values, inst.sizes)
    start = tabu.random_assignment(problem, np.random.default_rng(args.seed), most_pairs=True)
    old = load_previous(args.previous)
    run_previous(old, problem, start, 0.5)  # load / compile both engines outside the runs
    run_current(problem, start, 0.5, args.seed)
    runs = []
    for _ in range(args.rounds):
        for row in (run_previous(old, problem, start, args.seconds),
                    run_current(problem, start, args.seconds, args.seed)):
            row["gap_pct"] = None if ref is None else round(100 * (ref - row["value"]) / ref, 4)
            row["load_average"] = list(os.getloadavg())
            runs.append(row)
            print(json.dumps(row), file=sys.stderr)
    out = {"instance": inst.name, "n": inst.n, "m": inst.m, "reference": ref, "runs": runs,
           "machine": machine()}
    text = json.dumps(out, indent=1)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
