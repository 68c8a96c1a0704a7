"""Benchmark: the mix rules at 1,000 and 10,000 people, their price, and a category baseline.

For each size (``--people``, default 1000 and 10000) on ``org_chart(n, seed)`` (the default preset):

* **target**: cohorts of 10-14, ``max_per_team=2``, balance on ``level`` and ``location``,
  ``no_isolation`` on ``location``, at most one division head per cohort. On this data
  hard balance and no_isolation on location cannot both hold (small sites; the pre-check
  says why, recorded as ``hard_conflicts``), so the balance is soft: the deviation from the
  proportional bounds is minimised first, gap value second. Planned with ``--time``
  seconds (60 at 10,000, 10 at 1,000) and checked with :func:`cohortmatch.validate`.
* **price**: the same request without the mix rules, planned for the same time in the same
  process; the price of the mix is the difference of the objectives (both against the
  same proven bound). ``--one-call`` also runs ``plan(..., compare_without_mix=True)``.
* **baseline**: hard balance on level and location (no isolation), side by side with our
  reimplementation of anticlust's category balancing (``anticlustering(...,
  categories=)``, R package anticlust; R is not available here, so the documented idea is
  reimplemented, not the package run): the categories are merged into one (level x
  location), shuffled, sorted by category and dealt to the cohorts in turn (stratified
  assignment); exchanges that follow keep category counts, so they are what this deals.
  Both are measured by the largest deviation of a cohort's count of a value from its
  proportional share, ``max |x_vk - n_k s_v|``, per attribute.

Every run records the 1-minute load average before it. Writes one JSON document to
``--out`` after each run::

    flock /tmp/cohortmatch-bench.lock python benchmarks/mix.py --out benchmarks/results/mix.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _machine, also when imported
from _machine import machine  # noqa: E402

import cohortmatch as cm
from cohortmatch.rules import precheck

ATTRIBUTES = ("level", "location")


def target_policy(mode: str) -> cm.Policy:
    """The target request's rules (``mode``: the balance mode)."""
    return cm.Policy(max_per_team=2, balance=list(ATTRIBUTES), balance_mode=mode,
                     no_isolation=["location"], at_most={"role": {"division head": 1}})


def max_deviation(cohorts: list[list[str]], org: cm.Organisation, attribute: str) -> float:
    """``max |x_vk - n_k s_v|`` over cohorts and values (shares over everyone grouped)."""
    value = {p.id: str(p.attributes.get(attribute, "")) for p in org.people}
    everyone = Counter(value[m] for c in cohorts for m in c)
    total = sum(everyone.values())
    worst = 0.0
    for members in cohorts:
        here = Counter(value[m] for m in members)
        for v, n in everyone.items():
            worst = max(worst, abs(here[v] - len(members) * n / total))
    return worst


def stratified(org: cm.Organisation, k: int, seed: int) -> list[list[str]]:
    """Our reimplementation of anticlust's category balancing: merged categories, dealt in turn."""
    rng = np.random.default_rng(seed)
    people = [org.people[i] for i in rng.permutation(len(org.people))]
    people.sort(key=lambda p: tuple(str(p.attributes.get(a, "")) for a in ATTRIBUTES))
    cohorts: list[list[str]] = [[] for _ in range(k)]
    for i, p in enumerate(people):
        cohorts[i % k].append(p.id)
    return cohorts


def _run(org, course, policy, limit, seed, **kw) -> tuple[cm.Plan | None, dict]:  # type: ignore[no-untyped-def]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        plan = cm.plan(org, [course], policy=policy, time_limit=limit, seed=seed, **kw)
    except cm.InfeasibleError as err:
        return None, {"load_average_before": round(load, 2), "wall_s": round(time.perf_counter() - t0, 2),
                      "infeasible": err.conflicts}
    wall = time.perf_counter() - t0
    problems = cm.validate(plan, org, [course], policy)
    m = plan.metrics
    return plan, {
        "load_average_before": round(load, 2), "wall_s": round(wall, 2), "solver": plan.solver,
        "status": str(plan.status), "objective": m.objective, "bound": m.bound,
        "gap_to_bound": m.gap_to_bound, "coverage": m.coverage, "valid": problems == [],
        "violations": problems[:5], "deviation": plan.mix.deviation if plan.mix else None,
        "without_mix": plan.mix.without_mix if plan.mix else None,
    }


def size_runs(people: int, limit: float, seed: int, one_call: bool, record) -> dict:  # type: ignore[no-untyped-def]
    org = cm.org_chart(people, seed=seed)
    course = cm.Course(id="learning", min_size=10, max_size=14)
    out: dict = {"people": people, "time_limit_s": limit, "seed": seed}
    out["hard_conflicts"] = precheck(cm.Request(org=org, courses=[course], policy=target_policy("hard")).compile())
    _, out["target"] = _run(org, course, target_policy("soft"), limit, seed)
    record(out)
    _, out["without_mix"] = _run(org, course, target_policy("soft").without_mix(), limit, seed)
    if "objective" in out["target"]:
        out["price_of_mix"] = out["without_mix"]["objective"] - out["target"]["objective"]
        out["price_of_mix_share"] = out["price_of_mix"] / max(out["without_mix"]["objective"], 1e-12)
    record(out)
    if one_call:
        _, out["one_call"] = _run(org, course, target_policy("soft"), limit, seed, compare_without_mix=True)
        record(out)
    hard = cm.Policy(max_per_team=2, balance=list(ATTRIBUTES))
    ours, out["balance_only"] = _run(org, course, hard, limit, seed)
    assert ours is not None, out["balance_only"]
    k = len(ours.cohorts)
    baseline = stratified(org, k, seed)
    mine = [list(c.members) for c in ours.cohorts]
    out["baseline_comparison"] = {
        "cohorts": k,
        "ours_max_deviation": {a: round(max_deviation(mine, org, a), 4) for a in ATTRIBUTES},
        "stratified_max_deviation": {a: round(max_deviation(baseline, org, a), 4) for a in ATTRIBUTES},
        "baseline": "our reimplementation of anticlust's category balancing (merged categories, "
                    "stratified assignment); R is not available, the package was not run",
    }
    record(out)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--time", type=float, nargs="+", default=None,
                        help="seconds per plan, one per size (default 10 at 1,000, 60 at 10,000)")
    parser.add_argument("--seed", type=int, nargs="+", default=[1, 2],
                        help="organisation and plan seeds (each size runs with each)")
    parser.add_argument("--one-call", action="store_true", help="also run compare_without_mix=True")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    limits = args.time or [10.0 if n <= 1000 else 60.0 for n in args.people]
    cm.precompile()
    doc: dict = {"benchmark": "mix", "machine": machine(), "sizes": []}

    def record(entry: dict) -> None:
        if entry not in doc["sizes"]:
            doc["sizes"].append(entry)
        if args.out:
            Path(args.out).write_text(json.dumps(doc, indent=2, default=str) + "\n")

    for people, limit in zip(args.people, limits, strict=True):
        for seed in args.seed:
            size_runs(people, limit, seed, args.one_call, record)
    print(json.dumps(doc, indent=2, default=str))
    return doc


if __name__ == "__main__":
    main()
