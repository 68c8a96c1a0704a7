"""Seats at scale against two simple baselines, and exactly on small requests.

Usage: flock /tmp/cohortmatch-bench.lock python benchmarks/seats.py [--people 10000] [--time-limit 60]
       [--out benchmarks/results/seats.json]

Scale: a synthetic organisation (``org_chart``, preset ``silos``) of ``--people`` people;
each person asks for one to three of five courses (drawn at random) with a random
interest in [0, 1] for each; every course has seats for 20% of its candidates, cohorts
of 8-12, ``max_per_team=2``, ``max_courses_per_person=2`` and ``fit_weight`` equal to the
mean gap weight (a seat for a person of interest 1 is worth one average gap). ``auto``
plans it within ``--time-limit`` seconds; ``cohortmatch.validate`` checks the plan and
the proven ``total_bound`` is reported. Two baselines choose the people first and let
the planner group them (the same time limit each, same rules; a candidate whose seat
would break ``max_per_team`` capacity or ``max_courses_per_person`` is skipped):
*first come first served* (candidates in a random order of arrival) and *highest
interest first*. Each is scored as ``gap value + fit_weight * fit`` like ours.

Exact: requests of at most 40 candidates (two courses of 20 candidates with 10 seats
each, cohorts of 3-5, ``max_per_team=2``, ``max_courses_per_person=1``, ``fit_weight=1``)
planned by ``auto`` within 30 s: status (``optimal`` when people and cohorts are proved
best together), time and bound of each.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402

import cohortmatch as cm  # noqa: E402
from cohortmatch.compiled import cohorts_for  # noqa: E402
from cohortmatch.seats import places_for  # noqa: E402
from cohortmatch.synthetic import org_chart  # noqa: E402

COURSES = ("c1", "c2", "c3", "c4", "c5")


def seat_request(people: int, *, seed: int, share: float = 0.2, min_size: int = 8,
                 max_size: int = 12) -> cm.Request:
    """The scale request (see the module docstring)."""
    rng = np.random.default_rng(seed)
    org = org_chart(people, seed=seed)
    wanted: dict[str, list[str]] = {c: [] for c in COURSES}
    persons = []
    for p in org.people:
        asks = rng.choice(COURSES, size=int(rng.integers(1, 4)), replace=False)
        interests = {str(c): round(float(rng.random()), 3) for c in sorted(asks)}
        for c in interests:
            wanted[c].append(p.id)
        persons.append(p.model_copy(update={"interests": interests}))
    org = org.model_copy(update={"people": tuple(persons)})
    weight = float(np.mean([g.weight for g in org.gaps]))
    courses = [cm.Course(id=c, min_size=min_size, max_size=max_size, participants=tuple(sorted(who)),
                         seats=max(min_size, round(share * len(who)))) for c, who in wanted.items()]
    policy = cm.Policy(max_per_team=2, max_courses_per_person=2, fit_weight=weight)
    return cm.Request(org=org, courses=courses, policy=policy)


def baseline_choice(req: cm.Request, order: list[tuple[str, str]]) -> cm.Request:
    """The request with the people a simple rule seats: candidacies ``(person, course)`` in
    ``order``, skipping full courses, people with ``max_courses_per_person`` seats and teams
    at their ``max_per_team`` capacity; then the fullest count cohorts hold."""
    team = {p.id: p.team for p in req.org.people}
    courses = {c.id: c for c in req.courses}
    target = {c.id: places_for(min(c.seats or 0, len(c.participants or ())), c) for c in req.courses}
    cap = {cid: cohorts_for(target[cid], c) * (req.policy.max_per_team or 10**9) for cid, c in courses.items()}
    taken: dict[str, list[str]] = {c: [] for c in courses}
    per_person: dict[str, int] = {}
    per_team: dict[tuple[str, str], int] = {}
    for person, cid in order:
        if (len(taken[cid]) >= target[cid] or per_person.get(person, 0) >= (req.policy.max_courses_per_person or 99)
                or per_team.get((cid, team[person]), 0) >= cap[cid]):
            continue
        taken[cid].append(person)
        per_person[person] = per_person.get(person, 0) + 1
        per_team[(cid, team[person])] = per_team.get((cid, team[person]), 0) + 1
    chosen = [c.model_copy(update={"participants": tuple(taken[c.id][:places_for(len(taken[c.id]), c)]),
                                   "seats": None}) for c in req.courses]
    return req.with_courses(chosen)


def total_of(plan: cm.Plan, req: cm.Request) -> tuple[float, float, float]:
    """``(gap value, fit, total)`` of a plan, fit from the people it places."""
    interest = {p.id: p.interests for p in req.org.people}
    fit = sum(interest[m].get(c.course, 0.0) for c in plan.cohorts for m in c.members)
    return plan.metrics.objective, fit, plan.metrics.objective + req.policy.fit_weight * fit


def run_scale(people: int, time_limit: float, seed: int) -> dict:
    t0 = time.perf_counter()
    req = seat_request(people, seed=seed)
    built = time.perf_counter() - t0
    out: dict = {"people": people, "candidacies": sum(len(c.participants or ()) for c in req.courses),
                 "seats": {c.id: c.seats for c in req.courses}, "fit_weight": req.policy.fit_weight,
                 "build_seconds": round(built, 2), "load_before": os.getloadavg()[0]}
    t0 = time.perf_counter()
    plan = cm.plan(req, time_limit=time_limit, seed=seed)
    elapsed = time.perf_counter() - t0
    problems = cm.validate(plan, req)
    m = plan.metrics
    out["ours"] = {"seconds": round(elapsed, 2), "status": plan.status, "valid": not problems,
                   "problems": problems[:5], "gap_value": m.objective, "fit": m.fit, "total": m.total,
                   "total_bound": m.total_bound, "gap_bound": m.bound,
                   "placed": sum(len(c.members) for c in plan.cohorts),
                   "waiting": len({(u.person, u.course) for u in plan.unassigned}), "notes": list(plan.notes)}
    rng = np.random.default_rng(seed + 1)
    candidacies = [(p, c.id) for c in req.courses for p in (c.participants or ())]
    arrival = [candidacies[i] for i in rng.permutation(len(candidacies))]
    interest = {p.id: p.interests for p in req.org.people}
    keen = sorted(candidacies, key=lambda pc: (-interest[pc[0]][pc[1]], pc))
    for name, order in (("first_come_first_served", arrival), ("highest_interest_first", keen)):
        chosen = baseline_choice(req, order)
        t0 = time.perf_counter()
        base = cm.plan(chosen, time_limit=time_limit, seed=seed, on_infeasible="partial")
        gap, fit, total = total_of(base, req)
        out[name] = {"seconds": round(time.perf_counter() - t0, 2), "status": base.status,
                     "gap_value": gap, "fit": fit, "total": total,
                     "placed": sum(len(c.members) for c in base.cohorts)}
        out[f"ours_over_{name}"] = out["ours"]["total"] / total if total else None
    out["load_after"] = os.getloadavg()[0]
    return out


def exact_request(seed: int) -> cm.Request:
    rng = np.random.default_rng(seed)
    people = [cm.Person(id=f"p{i:02d}", team=f"t{i % 8}",
                        interests={"a": round(float(rng.random()), 2), "b": round(float(rng.random()), 2)})
              for i in range(30)]
    gaps = [cm.Gap(a=f"t{i}", b=f"t{j}", weight=float(rng.integers(1, 4)))
            for i in range(8) for j in range(i + 1, 8) if rng.random() < 0.35]
    ids = [p.id for p in people]
    courses = [cm.Course(id=c, min_size=3, max_size=5, seats=10,
                         participants=tuple(sorted(rng.choice(ids, size=20, replace=False))))
               for c in ("a", "b")]
    return cm.Request(org=cm.Organisation(people=people, gaps=gaps), courses=courses,
                      policy=cm.Policy(max_per_team=2, max_courses_per_person=1, fit_weight=1.0))


def run_exact(seeds: int) -> list[dict]:
    rows = []
    for seed in range(seeds):
        req = exact_request(seed)
        t0 = time.perf_counter()
        plan = cm.plan(req, time_limit=30, seed=seed)
        rows.append({"seed": seed, "candidates": sum(len(c.participants or ()) for c in req.courses),
                     "status": plan.status, "seconds": round(time.perf_counter() - t0, 2),
                     "total": plan.metrics.total, "total_bound": plan.metrics.total_bound,
                     "valid": cm.validate(plan, req) == [], "load": os.getloadavg()[0]})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--exact-seeds", type=int, default=5)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "seats.json"))
    args = ap.parse_args()
    doc = {"benchmark": "seats", "machine": machine(),
           "scale": run_scale(args.people, args.time_limit, args.seed), "exact": run_exact(args.exact_seeds)}
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
