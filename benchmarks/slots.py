"""Time slots at scale, and exactly on small requests.

Usage: flock /tmp/cohortmatch-bench.lock python benchmarks/slots.py [--people 5000] [--time-limit 60]
       [--out benchmarks/results/slots.json]

Scale: a synthetic organisation (``org_chart``, preset ``silos``) of ``--people`` people;
three courses sharing ten slots (one for everyone, two for 1,000 people each, drawn at
random), each person available at a random 60% of the slots, ``max_per_team=2``, cohorts
of 10-14 and ``max_cohorts_per_slot`` leaving 20% spare room over the fewest cohorts each
course needs. ``auto`` plans it within ``--time-limit`` seconds, in ``cover`` mode (the
default) and in ``diminishing`` mode; the same request without slots, planned the same
way, gives the price of the calendar (the objective lost to it), and both report their
proven bound. ``cohortmatch.validate`` checks the plan.

Exact: requests of at most 40 people (two courses, four slots, 60% availability, a slot
cap) solved by ``solver="cpsat"`` within 30 s: status, time and bound of each.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402

import cohortmatch as cm  # noqa: E402
from cohortmatch.synthetic import org_chart  # noqa: E402

SLOTS = [f"2027-01-{d:02d} {h}" for d in (11, 12, 13, 14, 15) for h in ("09:00", "14:00")]


def timed_request(people: int, *, seed: int, slots: bool = True, share: float = 0.6,
                  min_size: int = 10, max_size: int = 14, spare: float = 0.2,
                  small: int = 1000, mode: str = "cover") -> cm.Request:
    """The scale request: everyone in course ``all``, ``small`` people each in ``b`` and ``c``."""
    rng = np.random.default_rng(seed)
    org = org_chart(people, seed=seed)
    k = round(share * len(SLOTS))
    if slots:
        org = org.model_copy(update={"people": tuple(
            p.model_copy(update={"available": tuple(sorted(rng.choice(SLOTS, size=k, replace=False)))})
            for p in org.people)})
    ids = [p.id for p in org.people]
    courses = []
    for cid, who in (("all", None), ("b", rng.choice(ids, size=min(small, people), replace=False)),
                     ("c", rng.choice(ids, size=min(small, people), replace=False))):
        n = people if who is None else len(who)
        fewest = math.ceil(n / max_size)
        timing = {"slots": SLOTS, "max_cohorts_per_slot": math.ceil((1 + spare) * fewest / len(SLOTS))} if slots else {}
        courses.append(cm.Course(id=cid, min_size=min_size, max_size=max_size,
                                 participants=None if who is None else tuple(sorted(who)), **timing))
    return cm.Request(org=org, courses=courses, policy=cm.Policy(max_per_team=2, mode=mode))


def small_request(seed: int, people: int = 36) -> cm.Request:
    """An exact-size request: ``people`` people in six teams, a course for all and one for a third."""
    rng = np.random.default_rng(seed)
    slots = SLOTS[:4]
    persons = [cm.Person(id=f"p{i:02d}", team=f"t{i % 6}", available=tuple(sorted(rng.choice(slots, 3, replace=False))))
               for i in range(people)]
    teams = [f"t{i}" for i in range(6)]
    gaps = [cm.Gap(a=a, b=b, weight=float(rng.integers(1, 4)))
            for i, a in enumerate(teams) for b in teams[i + 1:] if rng.random() < 0.5]
    org = cm.Organisation(people=persons, gaps=gaps)
    third = tuple(sorted(rng.choice([p.id for p in persons], people // 3, replace=False)))
    courses = [cm.Course(id="all", min_size=5, max_size=7, slots=slots, max_cohorts_per_slot=2),
               cm.Course(id="some", min_size=4, max_size=6, participants=third, slots=slots)]
    return cm.Request(org=org, courses=courses, policy=cm.Policy(max_per_team=2, mode="diminishing"))


def run(request: cm.Request, **kwargs) -> dict:
    t0 = time.perf_counter()
    plan = cm.plan(request, **kwargs)
    elapsed = time.perf_counter() - t0
    t1 = time.perf_counter()
    problems = cm.validate(plan, request)
    return {"elapsed_s": elapsed, "validate_s": time.perf_counter() - t1, "valid": problems == [],
            "violations": problems[:5], "status": str(plan.status), "solver": plan.solver,
            "objective": plan.metrics.objective, "bound": plan.metrics.bound,
            "gap_to_bound": plan.metrics.gap_to_bound, "coverage": plan.metrics.coverage,
            "cohorts": len(plan.cohorts), "notes": list(plan.notes)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--people", type=int, default=5000)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--small", type=int, default=5, help="exact instances of at most 40 people")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/slots.json"))
    args = ap.parse_args(argv)
    cm.precompile()
    out: dict = {"machine": machine(), "people": args.people, "time_limit_s": args.time_limit, "seed": args.seed}
    out["scale"] = {}
    for mode in ("cover", "diminishing"):
        timed = timed_request(args.people, seed=args.seed, mode=mode)
        res = out["scale"][mode] = {
            "units": sum(len(c.participants) if c.participants else args.people for c in timed.courses),
            "max_cohorts_per_slot": {c.id: c.max_cohorts_per_slot for c in timed.courses},
            "load_average_before": list(os.getloadavg()),
            "with_slots": run(timed, time_limit=args.time_limit, seed=args.seed),
            "without_slots": run(timed_request(args.people, seed=args.seed, slots=False, mode=mode),
                                 time_limit=args.time_limit, seed=args.seed),
        }
        w, wo = res["with_slots"], res["without_slots"]
        res["objective_ratio_to_without_slots"] = w["objective"] / wo["objective"] if wo["objective"] else None
        res["price_of_the_calendar"] = 1 - res["objective_ratio_to_without_slots"]
        res["objective_over_bound_without_slots"] = w["objective"] / wo["bound"] if wo["bound"] else None
        print(json.dumps({mode: res}, indent=1, default=str), flush=True)
    out["exact"] = []
    for seed in range(args.small):
        request = small_request(seed)
        result = run(request, solver="cpsat", time_limit=30.0, seed=seed)
        result["people"] = len(request.org.people)
        result["seed"] = seed
        out["exact"].append(result)
        print(json.dumps(result), flush=True)
    out["load_average_at_end"] = list(os.getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
