"""Gap partners: cost of the vectorised count in build_plan against the full score and the naive recount.

Usage: python benchmarks/partners.py [--people 100000] [--out benchmarks/results/partners.json]

On random organisations (sparse: teams of 8 with 5 gaps each, where few members meet a gap
partner; dense: teams of 1,000 with 20 gaps each, where most do, the costly case), cohorts of
12-16 and 32-40, a random assignment: the median time of
``gap_partner_counts``, of the full ``score`` (what ``build_plan`` already costs), of the
whole ``build_plan``, and of ``validate.gap_partners`` (plain Python, the baseline).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402
from scoring import random_org  # noqa: E402

from cohortmatch.compiled import compile_problem  # noqa: E402
from cohortmatch.model import Course, Policy  # noqa: E402
from cohortmatch.partners import gap_partner_counts  # noqa: E402
from cohortmatch.result import build_plan  # noqa: E402
from cohortmatch.scoring import score  # noqa: E402
from cohortmatch.validate import gap_partners  # noqa: E402


def _median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/partners.json"))
    args = ap.parse_args(argv)
    results: dict = {"machine": machine(), "people": args.people, "runs": []}
    orgs = {"sparse": random_org(args.people),
            "dense": random_org(args.people, team_size=1000, gaps_per_team=20)}
    for (shape, org), (lo, hi) in itertools.product(orgs.items(), ((12, 16), (32, 40))):
        prob = compile_problem(org, [Course(id="c", min_size=lo, max_size=hi)], Policy())
        rng = np.random.default_rng(1)
        labels = np.repeat(np.arange(prob.n_cohorts), -(-prob.n_units // prob.n_cohorts))[: prob.n_units]
        a = rng.permutation(labels)
        full = score(prob, a)
        counts, placed = gap_partner_counts(prob, a)  # warm-up (numba kernel of bridges)
        plan = build_plan(prob, a, full, bound=full.objective, status="feasible", seed=0, elapsed=0.0,
                          solver="bench")
        naive_s = _median_s(lambda plan=plan, org=org: gap_partners(plan, org), 1)
        naive = gap_partners(plan, org)
        index = {pid: i for i, pid in enumerate(prob.person_ids)}
        assert all(int(counts[index[p]]) == n for p, n in naive.items())  # same answer
        run = {
            "org": shape,
            "cohort_sizes": [lo, hi],
            "units": prob.n_units,
            "cohorts": prob.n_cohorts,
            "gaps": prob.n_edges,
            "median_gap_partners": plan.metrics.median_gap_partners,
            "met_gap_partner": plan.metrics.met_gap_partner,
            "gap_partner_counts_ms": 1000 * _median_s(lambda prob=prob, a=a: gap_partner_counts(prob, a), args.repeat),
            "score_ms": 1000 * _median_s(lambda prob=prob, a=a: score(prob, a), args.repeat),
            "build_plan_ms": 1000 * _median_s(
                lambda prob=prob, a=a, full=full: build_plan(prob, a, full, bound=full.objective,
                                                             status="feasible", seed=0, elapsed=0.0,
                                                             solver="bench"), args.repeat),
            "baseline_naive_gap_partners_ms": 1000 * naive_s,
        }
        run["naive_vs_vectorised_ratio"] = run["baseline_naive_gap_partners_ms"] / run["gap_partner_counts_ms"]
        run["share_of_build_plan"] = run["gap_partner_counts_ms"] / run["build_plan_ms"]
        results["runs"].append(run)
        print(json.dumps(run), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
