"""Wellbeing training for first-line managers, across the whole business.

First-line managers (team leads) carry their teams' worries and rarely meet peers
outside their own department. A wellbeing course for all of them, in cohorts of 6-8,
should build support networks across the organisation: participants are chosen by an
attribute (``role=team lead``), at most one member per team in a cohort, and the
cohorts bridge as many connection gaps between the leads' teams as possible. The
script reports how far each cohort spreads over departments and divisions.

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
    policy = cm.Policy(max_per_team=1)
    plan = cm.plan(org, [course], policy=policy, time_limit=args.time_limit, seed=args.seed)
    assert cm.validate(plan, org, [course], policy) == []

    dept = {p.id: p.attributes.get("department") for p in org.people}
    division = {p.id: p.attributes.get("division") for p in org.people}
    spread = [len({dept[m] for m in c.members}) / len(c.members) for c in plan.cohorts]
    divisions = [len({division[m] for m in c.members}) for c in plan.cohorts]
    print(f"{len(org.people)} people, {len(leads)} first-line managers, "
          f"{len(plan.cohorts)} wellbeing cohorts")
    print(f"members from distinct departments: {sum(spread) / len(spread):.0%} on average")
    print(f"divisions per cohort: {Counter(divisions).most_common()}")
    m = plan.metrics
    print(f"coverage {m.coverage:.1%} of the gap weight among the leads' teams, "
          f"objective {m.objective:.3g} (bound {m.bound:.3g})")
    return plan


if __name__ == "__main__":
    main()
