"""Wellbeing training for first-line managers, across the whole business.

First-line managers (team leads) carry their teams' worries and rarely meet peers
outside their own department. A wellbeing course for all of them, in cohorts of 6-8,
should build support networks across the organisation: participants are chosen by an
attribute (``role=team lead``), at most one member per team in a cohort, every cohort
holds the divisions in proportion (``balance``) and nobody is the only one from their
site (``no_isolation``), and the cohorts bridge as many connection gaps between the
leads' teams as possible. The script reports each cohort's mix and what the mix costs
in gap value (the same request planned without the mix rules, in the same call).

Run it with ``python examples/wellbeing_managers.py [--people 1500] [--time-limit 3]``.
"""

from __future__ import annotations

import argparse
from collections import Counter

import cohortmatch as cm
from cohortmatch.io import select_participants
from cohortmatch.synthetic import org_chart


def main(argv: list[str] | None = None) -> cm.Plan:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--time-limit", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    org = org_chart(args.people, preset="matrix", seed=args.seed)
    leads = select_participants("role=team lead", org.people)
    course = cm.Course(id="wellbeing", min_size=6, max_size=8, participants=leads)
    policy = cm.Policy(max_per_team=1, balance=["division"], no_isolation=["location"])
    request = cm.Request(org=org, courses=[course], policy=policy)
    plan = cm.plan(request, time_limit=args.time_limit, seed=args.seed, compare_without_mix=True)
    assert cm.validate(plan, request) == []
    assert plan.mix is not None

    print(f"{len(org.people)} people, {len(leads)} first-line managers, "
          f"{len(plan.cohorts)} wellbeing cohorts")
    divisions = Counter(len(plan.mix.counts[c.id]["division"]) for c in plan.cohorts)
    print(f"divisions per cohort: {sorted(divisions.items())}")
    alone = sum(n == 1 for c in plan.cohorts for n in plan.mix.counts[c.id]["location"].values())
    print(f"leads alone from their site in a cohort: {alone}")
    first = plan.cohorts[0]
    print(f"cohort {first.id}: " + "; ".join(
        f"{a} " + ", ".join(f"{v} x{n}" for v, n in sorted(plan.mix.counts[first.id][a].items()))
        for a in plan.mix.attributes))
    m = plan.metrics
    print(f"coverage {m.coverage:.1%} of the gap weight among the leads' teams, "
          f"objective {m.objective:.3g} (bound {m.bound:.3g})")
    print(f"price of the mix: {plan.mix.price(m.objective)}")
    for note in plan.notes:
        if note.startswith("no_isolation"):
            print(f"note: {note}")
    return plan


if __name__ == "__main__":
    main()
