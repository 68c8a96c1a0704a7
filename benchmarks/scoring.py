"""Scoring microbenchmark: full score of a large plan and move gains evaluated per second.

Usage: python benchmarks/scoring.py [--people 100000] [--out benchmarks/results/scoring.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402

from cohortmatch.compiled import compile_problem  # noqa: E402
from cohortmatch.model import Course, Gap, Organisation, Person, Policy, Team  # noqa: E402
from cohortmatch.scoring import SearchState, score  # noqa: E402


def random_org(n_people: int, *, team_size: int = 8, gaps_per_team: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_teams = max(2, n_people // team_size)
    team = rng.integers(0, n_teams, n_people)
    people = [Person(id=f"p{i:06d}", team=f"t{team[i]:05d}") for i in range(n_people)]
    a = rng.integers(0, n_teams, n_teams * gaps_per_team)
    b = rng.integers(0, n_teams, n_teams * gaps_per_team)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pairs = np.unique(np.stack([lo[lo != hi], hi[lo != hi]], axis=1), axis=0)
    weights = rng.uniform(0.5, 5.0, pairs.shape[0])
    gaps = [Gap(a=f"t{x:05d}", b=f"t{y:05d}", weight=float(w)) for (x, y), w in zip(pairs, weights, strict=True)]
    teams = [Team(id=f"t{t:05d}") for t in range(n_teams)]
    return Organisation(people=people, teams=teams, gaps=gaps)


def _naive_cover_count(prob, assignment) -> int:
    """Baseline: bridged gaps counted with Python sets, one gap at a time."""
    cohorts_of: dict[int, set[int]] = {}
    for team, k in zip(prob.unit_team.tolist(), assignment.tolist(), strict=True):
        cohorts_of.setdefault(team, set()).add(k)
    empty: set[int] = set()
    return sum(
        1
        for a, b in zip(prob.edge_a.tolist(), prob.edge_b.tolist(), strict=True)
        if cohorts_of.get(a, empty) & cohorts_of.get(b, empty)
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/scoring.json"))
    args = ap.parse_args(argv)
    results = {"machine": machine(), "people": args.people}
    t0 = time.perf_counter()
    org = random_org(args.people)
    results["build_org_s"] = time.perf_counter() - t0
    for mode in ("cover", "diminishing", "sum"):
        t0 = time.perf_counter()
        prob = compile_problem(org, [Course(id="c", min_size=12, max_size=16)], Policy(coverage=mode))
        compile_s = time.perf_counter() - t0
        rng = np.random.default_rng(1)
        labels = np.repeat(np.arange(prob.n_cohorts), -(-prob.n_units // prob.n_cohorts))[: prob.n_units]
        assignment = rng.permutation(labels)
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            s = score(prob, assignment)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        naive = _naive_cover_count(prob, assignment)
        naive_s = time.perf_counter() - t0
        assert naive == int((s.edge_cohorts > 0).sum())
        state = SearchState(prob, assignment)
        units = rng.integers(0, prob.n_units, 2000)
        t0 = time.perf_counter()
        for u in units:
            state.move_gains(int(u))
        gains_s = time.perf_counter() - t0
        gains_per_s = len(units) * prob.n_cohorts / gains_s
        few = units[:20]
        t0 = time.perf_counter()
        for u in few:  # baseline: the same gains one cohort at a time
            for k in range(prob.n_cohorts):
                state.move_gain(int(u), k)
        scalar_gains_per_s = len(few) * prob.n_cohorts / (time.perf_counter() - t0)
        moves = rng.integers(0, prob.n_units, 2000)
        targets = rng.integers(0, prob.n_cohorts, 2000)
        t0 = time.perf_counter()
        for u, k in zip(moves, targets, strict=True):
            state.move(int(u), int(k))
        move_s = time.perf_counter() - t0
        results[mode] = {
            "units": prob.n_units,
            "cohorts": prob.n_cohorts,
            "teams": prob.n_teams,
            "gaps": prob.n_edges,
            "compile_s": compile_s,
            "full_score_ms_median": 1000 * float(np.median(times)),
            "full_score_ms_min": 1000 * float(np.min(times)),
            "objective": s.objective,
            "move_gain_vectors_per_s": len(units) / gains_s,
            "move_gains_per_s": gains_per_s,
            "baseline_scalar_move_gains_per_s": scalar_gains_per_s,
            "vectorised_vs_scalar_ratio": gains_per_s / scalar_gains_per_s,
            "baseline_pure_python_bridged_count_ms": 1000 * naive_s,
            "full_score_vs_pure_python_ratio": naive_s / float(np.median(times)),
            "applied_moves_per_s": len(moves) / move_s,
        }
        print(f"{mode}: full score {results[mode]['full_score_ms_median']:.1f} ms, "
              f"{gains_per_s:,.0f} move gains/s, {len(moves) / move_s:,.0f} moves/s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
