"""Re-plan benchmark: a published plan, a month of HR changes, and the re-plan.

A synthetic organisation (:func:`cohortmatch.org_chart`, preset ``silos``) takes one
course in cohorts of 10-12 (10,000 people: 834 cohorts), ``diminishing`` mode, at most 2
members of a team per cohort, managers apart from their reports. The published plan is
planned with :func:`cohortmatch.plan`. Then the month's changes: 2% of the people leave
(their reports move up to the leaver's manager), 2% join (random teams, the team's
manager), 1% change team, and 20 new ``keep_apart`` pairs, each of two people who share
a cohort in the published plan (so each forces a move). The benchmark reports, in one
process:

* ``replan``: wall time, moves, the proven lower bound on moves, gap value, status, and
  where the value goes: the stayers' value as published, the value of those who cannot
  move, and the proven bound on the value of every plan with the fewest moves
  (``value_bound``, :mod:`cohortmatch.replanning.value_bound`);
* ``scratch``: :func:`cohortmatch.plan` of today's request from scratch (same time limit),
  the gap value the re-plan is compared with, how many people it would move
  (:func:`cohortmatch.replanning.count_moves`), and ``value_bound_over_scratch``: below
  0.99, no plan with the fewest moves is within 1% of it; ``longer``: the same with three
  times the time limit (``--long-scratch``);
* ``cap``: re-plans allowed 1%, 2% and 5% of the people as moves (``max_moves``): what the
  extra moves buy;
* ``same``: re-planning the unchanged request (moves must be 0, the cohorts identical);
* ``small``: the same kind of month on a 60-person organisation, where the heuristic
  re-plan's moves are compared with the exact optimum (``solver="cpsat"``, status
  ``optimal``).

Results go to ``benchmarks/results/replan.json`` (machine and load noted). Run under the
shared lock::

    flock /tmp/cohortmatch-bench.lock python benchmarks/replan.py
    python benchmarks/replan.py --people 2000 --time-limit 5 --seeds 1 --out /tmp/replan.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import cohortmatch as cm
from cohortmatch.replanning.anchors import count_moves, home_of, initial_anchor
from cohortmatch.replanning.previous import read_previous
from cohortmatch.replanning.value_bound import fewest_moves_value_bound
from cohortmatch.scoring import score

RESULTS = Path(__file__).parent / "results" / "replan.json"


def month_of_changes(org: cm.Organisation, plan: cm.Plan, rng: np.random.Generator, *,
                     leave: float, join: float, move: float, apart: int) -> tuple[cm.Organisation, list[list[str]]]:
    """Today's organisation after a month of HR changes, and the new keep-apart pairs."""
    people = {p.id: p for p in org.people}
    ids = sorted(people)
    n = len(ids)
    leavers = set(rng.choice(ids, int(round(leave * n)), replace=False).tolist())
    movers = rng.choice([i for i in ids if i not in leavers], int(round(move * n)), replace=False).tolist()
    teams = sorted({p.team for p in org.people})
    manager_of_team = {}
    for p in org.people:
        if p.id not in leavers and p.manager is not None and p.manager not in leavers:
            manager_of_team.setdefault(p.team, p.manager)
    kept: dict[str, cm.Person] = {}
    for pid in ids:
        if pid in leavers:
            continue
        p = people[pid]
        boss = p.manager
        while boss is not None and boss in leavers:  # reports of a leaver move up
            boss = people[boss].manager
        kept[pid] = p.model_copy(update={"manager": boss})
    for pid in movers:
        team = teams[int(rng.integers(len(teams)))]
        boss = manager_of_team.get(team)
        kept[pid] = kept[pid].model_copy(update={"team": team, "manager": boss if boss != pid else None})
    for i in range(int(round(join * n))):
        team = teams[int(rng.integers(len(teams)))]
        kept[f"new{i:05d}"] = cm.Person(id=f"new{i:05d}", team=team, manager=manager_of_team.get(team))
    today = cm.Organisation(people=tuple(kept.values()), teams=org.teams, gaps=org.gaps)
    pairs: list[list[str]] = []
    cohorts = [c for c in plan.cohorts if sum(m in kept for m in c.members) >= 2]
    for i in rng.permutation(len(cohorts))[:apart].tolist():
        members = [m for m in cohorts[i].members if m in kept]
        a, b = rng.choice(len(members), 2, replace=False).tolist()
        pairs.append([members[a], members[b]])
    return today, pairs


def run(people: int, time_limit: float, seed: int, *, scratch: bool = True,
        long_scratch: float = 3.0) -> dict[str, Any]:
    """Publish, change, re-plan, and compare (see the module docstring)."""
    rng = np.random.default_rng(seed)
    org = cm.org_chart(people, preset="silos", seed=seed)
    course = cm.Course(id="course", min_size=10, max_size=12)
    policy = cm.Policy(mode="diminishing", max_per_team=2)
    before = cm.Request(org=org, courses=[course], policy=policy)
    t0 = time.perf_counter()
    published = cm.plan(before, time_limit=time_limit, seed=seed)
    out: dict[str, Any] = {"seed": seed, "people": people, "cohorts": len(published.cohorts),
                           "publish": {"seconds": time.perf_counter() - t0,
                                       "objective": published.metrics.objective}}
    today_org, pairs = month_of_changes(org, published, rng, leave=0.02, join=0.02, move=0.01,
                                        apart=max(1, round(20 * people / 10_000)))
    today = cm.Request(org=today_org, courses=[course],
                       policy=policy.model_copy(update={"keep_apart": tuple(map(tuple, pairs))}))
    out["changes"] = {"people_today": len(today_org.people), "keep_apart_pairs": len(pairs)}
    t0 = time.perf_counter()
    new = cm.replan(published, today, time_limit=time_limit, seed=seed)
    seconds = time.perf_counter() - t0
    why: dict[str, int] = {}
    for c in new.changes:
        key = c.rule or c.reason
        why[key] = why.get(key, 0) + 1
    out["replan"] = {"seconds": seconds, "moved": new.metrics.moved, "moves_bound": new.metrics.moves_bound,
                     "objective": new.metrics.objective, "status": new.status, "solver": new.solver,
                     "valid": cm.validate(new, today) == [], "changes_by_reason": why,
                     "emptied_cohorts": len(new.emptied_cohorts), **value_parts(published, today, new.metrics.moved)}
    bound = out["replan"].get("value_bound", float("nan"))  # nan: the bound does not apply
    out["replan"]["over_value_bound"] = new.metrics.objective / bound
    if scratch:
        t0 = time.perf_counter()
        fresh = cm.plan(today, time_limit=time_limit, seed=seed)
        seconds = time.perf_counter() - t0
        stayed = cm.replan(published, today, solver="heuristic", time_limit=None, work_limit=0, seed=seed)
        out["scratch"] = {"seconds": seconds, "objective": fresh.metrics.objective,
                          "moves_if_published": count_moves(published, fresh, today),
                          "replan_over_scratch": new.metrics.objective / fresh.metrics.objective,
                          "value_bound_over_scratch": bound / fresh.metrics.objective,
                          "repair_only_objective": stayed.metrics.objective}
        if long_scratch > 1:  # does the reference improve with more time?
            longer = cm.plan(today, time_limit=long_scratch * time_limit, seed=seed)
            out["scratch"]["longer"] = {"time_limit": long_scratch * time_limit,
                                        "objective": longer.metrics.objective,
                                        "value_bound_over_it": bound / longer.metrics.objective}
        out["cap"] = []
        for share in (0.01, 0.02, 0.05):  # more moves allowed: what they buy
            cap = int(share * people)
            t0 = time.perf_counter()
            capped = cm.replan(published, today, max_moves=cap, time_limit=time_limit, seed=seed)
            out["cap"].append({"max_moves": cap, "seconds": time.perf_counter() - t0,
                               "moved": capped.metrics.moved, "objective": capped.metrics.objective,
                               "over_scratch": capped.metrics.objective / fresh.metrics.objective,
                               "valid": cm.validate(capped, today) == []})
    t0 = time.perf_counter()
    same = cm.replan(published, before, time_limit=time_limit, seed=seed)
    out["same"] = {"seconds": time.perf_counter() - t0, "moved": same.metrics.moved,
                   "identical": [(c.id, c.members) for c in same.cohorts]
                   == [(c.id, c.members) for c in published.cohorts]}
    return out


def value_parts(published: cm.Plan, today: cm.Request, moved: int) -> dict[str, Any]:
    """Where the gap value goes at the fewest moves (see ``docs/replan.md``); empty unless
    the re-plan's ``moved`` meets the counting bound (then they are the fewest).

    ``stayers_value``: everyone who stays where the published plan put them, newcomers not
    yet placed (today's teams, rules not checked); ``fixed_value``: the same without the
    people who may move; ``value_bound``: the proven bound on every plan with the fewest
    moves (:func:`~cohortmatch.replanning.value_bound.fewest_moves_value_bound`).
    """
    problem = today.compile()
    prev = read_previous(published, problem)
    anchor = initial_anchor(problem, prev)
    t0 = time.perf_counter()
    bound = fewest_moves_value_bound(problem, prev, anchor, moved)
    seconds = time.perf_counter() - t0
    if bound is None:
        return {}
    return {"stayers_value": score(problem, home_of(prev, anchor)).objective, "fixed_value": bound.fixed_value,
            "value_bound": bound.bound, "value_bound_seconds": seconds, "free_units": bound.free_units}


def small(seed: int, time_limit: float) -> dict[str, Any]:
    """A 60-person month: heuristic moves against the exact optimum."""
    rng = np.random.default_rng(seed)
    org = cm.org_chart(60, preset="silos", seed=seed)
    course = cm.Course(id="course", min_size=5, max_size=6)
    policy = cm.Policy(mode="diminishing", max_per_team=2)
    published = cm.plan(cm.Request(org=org, courses=[course], policy=policy), time_limit=time_limit, seed=seed)
    today_org, pairs = month_of_changes(org, published, rng, leave=0.05, join=0.05, move=0.05, apart=2)
    today = cm.Request(org=today_org, courses=[course],
                       policy=policy.model_copy(update={"keep_apart": tuple(map(tuple, pairs))}))
    heuristic = cm.replan(published, today, solver="heuristic", time_limit=time_limit, seed=seed)
    exact = cm.replan(published, today, solver="cpsat", time_limit=6 * time_limit, seed=seed)
    return {"seed": seed, "heuristic_moved": heuristic.metrics.moved,
            "heuristic_bound": heuristic.metrics.moves_bound, "exact_moved": exact.metrics.moved,
            "exact_bound": exact.metrics.moves_bound, "exact_status": exact.status,
            "heuristic_objective": heuristic.metrics.objective, "exact_objective": exact.metrics.objective}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seeds", default="1,2,3", help="seeds of the large runs, comma-separated")
    parser.add_argument("--small-seeds", type=int, default=5)
    parser.add_argument("--long-scratch", type=float, default=3.0,
                        help="also plan from scratch with this many times the time limit (1: not)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    from _machine import machine

    report: dict[str, Any] = {"machine": machine(), "precompile_s": cm.precompile()}
    report["large"] = [run(args.people, args.time_limit, int(seed), long_scratch=args.long_scratch)
                       for seed in args.seeds.split(",")]
    report["small"] = [small(s, 1.0) for s in range(1, args.small_seeds + 1)]
    report["load_average_at_end"] = list(__import__("os").getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
