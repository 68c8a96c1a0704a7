"""Presentation skills for marketing and product: cohorts that mix the two.

Marketing and product keep clashing over product knowledge, and both want better
communication skills. One presentation-skills course, with cohorts of 8-10, is the
chance to sit them together. The organisation arrives as an HR export (two tables:
people and the gaps L&D wrote down after talking to the department heads); every
marketing team has a ``repair`` gap with every product team.

Run it with ``python examples/presentation_skills.py [--time-limit 3] [--seed 7]``.
"""

from __future__ import annotations

import argparse
from collections import Counter

import pandas as pd

import cohortmatch as cm
from cohortmatch.io import request_from_tables

MARKETING = ["brand", "growth", "comms"]
PRODUCT = ["pm-core", "pm-platform", "design"]


def hr_export() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """People, gaps and courses tables, as an HR system and L&D would write them."""
    rows = []
    for division, teams in (("marketing", MARKETING), ("product", PRODUCT)):
        for t in teams:
            rows.append({"id": f"{t}-lead", "team": t, "manager": None, "division": division,
                         "level": "manager"})
            rows += [{"id": f"{t}-{i}", "team": t, "manager": f"{t}-lead", "division": division,
                      "level": "staff"} for i in range(1, 7)]
    people = pd.DataFrame(rows)
    gaps = pd.DataFrame(
        [{"team_a": m, "team_b": p, "weight": 3.0, "purpose": "repair"}
         for m in MARKETING for p in PRODUCT]
        + [{"team_a": "brand", "team_b": "growth", "weight": 1.0, "purpose": "process"},
           {"team_a": "pm-core", "team_b": "design", "weight": 1.0, "purpose": "process"}]
    )
    courses = pd.DataFrame([{"id": "presenting", "min_size": 8, "max_size": 11,
                             "participants": "division=marketing|product"}])
    return people, gaps, courses


def main(argv: list[str] | None = None) -> cm.Plan:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    req = request_from_tables(*hr_export(), policy=cm.Policy(max_per_team=2,
                                                              coverage="diminishing"))
    plan = cm.plan(req.org, req.courses, policy=req.policy, time_limit=args.time_limit,
                   seed=args.seed)
    assert cm.validate(plan, req.org, req.courses, req.policy) == []

    division = {p.id: p.attributes["division"] for p in req.org.people}
    print(f"{len(req.org.people)} people, {len(plan.cohorts)} cohorts of presenting")
    for c in plan.cohorts:
        mix = Counter(division[m] for m in c.members)
        print(f"  {c.id}: {mix['marketing']} marketing + {mix['product']} product, "
              f"bridges {len(c.bridges)} gaps")
    m = plan.metrics
    print(f"coverage {m.coverage:.0%}, objective {m.objective:g} (bound {m.bound:g})")
    mixed = all(
        {"marketing", "product"} <= {division[x] for x in c.members} for c in plan.cohorts
    )
    print("every cohort mixes marketing and product:", mixed)
    return plan


if __name__ == "__main__":
    main()
