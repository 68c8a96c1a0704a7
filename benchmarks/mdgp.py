"""Run cohortmatch's grouping engine on MDGPLIB instances; one JSON line per run.

Usage::

    python benchmarks/mdgp.py FILE.txt [FILE.txt ...] --reference best_known.csv \
        --out benchmarks/results/mdgp.jsonl [--seed 1] [--limits 120:3,240:20,480:120]

Instance files and the reference table are passed in (the library never reads them).
Each line: instance, n, m, value, reference, gap_pct (positive = below the reference),
seconds, seed, limit, valid, engine, the load average when the run ended, and the machine
(CPU, cores, versions). Before the timed runs, one untimed call on a tiny instance loads
the engine's compiled kernels from numba's cache (``warmup_seconds`` in each line), so
the first instance does not pay for it.

``--anti-clustering PYTHON`` runs, instead, the PyPI package ``anti-clustering`` (installed
in its own environment whose interpreter is PYTHON, never a dependency of cohortmatch):
its tabu search with cold restarts (defaults: tenure 10, 2000 iterations a restart),
restarted until the same time limit is spent, on the equal-size (``ss``) instances only
(the package knows no per-group size bounds). It is fed the instance's distance matrix
through a ``.npy`` file; its objective counts every pair twice and is halved here. Its
result (an ``n x n`` co-membership matrix whose diagonal is unreliable) is read back as
groups and checked: a partition into ``m`` groups of the instance's size.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _machine, also when imported
from _machine import machine  # noqa: E402

from cohortmatch import group_by_pairs
from cohortmatch.mdgplib import read_mdgplib

DEFAULT_LIMITS = "10:1,12:1,120:3,240:20,480:120,960:600"
ENGINE = "three-phase population search (TPSDP-style)"


def warm_up() -> float:
    """Load the compiled kernels (numba cache) with one tiny call; returns its seconds."""
    t0 = time.perf_counter()
    V = np.ones((8, 8)) - np.eye(8)
    group_by_pairs(V, [(2, 5), (2, 5)], seed=0, time_limit=0.5)
    return time.perf_counter() - t0


def limits_of(spec: str) -> dict[int, float]:
    out = {}
    for item in spec.split(","):
        n, t = item.split(":")
        out[int(n)] = float(t)
    return out


def references(path: str | None) -> dict[str, float]:
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        return {row["instance"]: float(row["bkv"]) for row in csv.DictReader(f)}


_AC_SCRIPT = r"""
import json, sys, time
import numpy as np
from anti_clustering import TabuSearchHeuristicAntiClustering
path, m, limit, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
D = np.load(path, allow_pickle=False)
t0 = time.perf_counter()
best, best_a, restarts = -np.inf, None, 0
while time.perf_counter() - t0 < limit:
    alg = TabuSearchHeuristicAntiClustering(random_seed=seed + restarts, restarts=1)
    a = alg._solve(distance_matrix=D, num_groups=m)
    restarts += 1
    v = float(np.multiply(a, D).sum()) / 2.0
    if v > best:
        best, best_a = v, a
# the package's n x n co-membership matrix has an unreliable diagonal (some 1, some 0):
# set it, then read the groups back as the distinct rows and check they partition 0..n-1
M = np.asarray(best_a, dtype=bool).copy()
np.fill_diagonal(M, True)
groups = np.unique(M, axis=0)
partition = bool(np.array_equal(groups.sum(axis=0), np.ones(M.shape[0], dtype=int)))
sizes = sorted(set(int(x) for x in groups.sum(axis=1)))
print(json.dumps({"value": best, "seconds": time.perf_counter() - t0, "restarts": restarts,
                  "sizes": sizes, "groups": int(groups.shape[0]), "partition": partition}))
"""


def run_anti_clustering(python: str, inst, limit: float, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.npy")
        np.save(path, inst.values)
        done = subprocess.run(
            [python, "-c", _AC_SCRIPT, path, str(inst.m), str(limit), str(seed)],
            capture_output=True, text=True, check=True,
        )
    res = json.loads(done.stdout.strip().splitlines()[-1])
    res["valid"] = (
        res.pop("partition") and res.pop("groups") == inst.m
        and res.pop("sizes") == [inst.sizes[0][0]]
    )
    res["version"] = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('anti-clustering'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--reference", help="CSV with columns instance,bkv")
    ap.add_argument("--out", default="-")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limits", default=DEFAULT_LIMITS, help="n:seconds,... (time limit per size)")
    ap.add_argument(
        "--anti-clustering", metavar="PYTHON", help="run the anti-clustering package instead"
    )
    ap.add_argument("--engine", default=ENGINE, help="engine label written in each line")
    args = ap.parse_args(argv)
    limits = limits_of(args.limits)
    refs = references(args.reference)
    info = machine()
    warmup = None if args.anti_clustering else round(warm_up(), 2)
    out = sys.stdout if args.out == "-" else open(args.out, "a", encoding="utf-8")
    try:
        for path in args.files:
            inst = read_mdgplib(path)
            limit = limits.get(inst.n) or limits[min(limits, key=lambda k: abs(k - inst.n))]
            ref = refs.get(inst.name)
            if args.anti_clustering:
                if inst.kind != "ss":
                    continue
                res = run_anti_clustering(args.anti_clustering, inst, limit, args.seed)
                row = {
                    "instance": inst.name, "n": inst.n, "m": inst.m,
                    "value": round(res["value"], 6), "reference": ref,
                    "gap_pct": None if ref is None else round(100 * (ref - res["value"]) / ref, 4),
                    "seconds": round(res["seconds"], 2), "limit": limit, "seed": args.seed,
                    "valid": res["valid"], "restarts": res["restarts"],
                    "solver": f"anti-clustering {res['version']} TabuSearchHeuristicAntiClustering",
                    "machine": info,
                }
                out.write(json.dumps(row) + "\n")
                out.flush()
                continue
            t0 = time.perf_counter()
            g = group_by_pairs(inst.values, inst.sizes, seed=args.seed, time_limit=limit)
            seconds = time.perf_counter() - t0
            lo = np.array([a for a, _ in inst.sizes])
            hi = np.array([b for _, b in inst.sizes])
            valid = bool(
                g.labels.shape == (inst.n,)
                and np.all((g.labels >= 0) & (g.labels < inst.m))
                and np.all((g.sizes >= lo) & (g.sizes <= hi))
            )
            row = {
                "instance": inst.name, "n": inst.n, "m": inst.m, "value": round(g.objective, 6),
                "reference": ref,
                "gap_pct": None if ref is None else round(100.0 * (ref - g.objective) / ref, 4),
                "seconds": round(seconds, 2), "limit": limit, "seed": args.seed, "valid": valid,
                "solver": "cohortmatch.group_by_pairs", "engine": args.engine,
                "warmup_seconds": warmup, "load_average": list(os.getloadavg()), "machine": info,
            }
            out.write(json.dumps(row) + "\n")
            out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
