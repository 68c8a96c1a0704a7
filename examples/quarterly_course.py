"""A course with fewer seats than people who ask: planned every quarter, everyone reached in turn.

180 of 240 people ask for "presenting" (each with an interest between 0 and 1); each
quarter it has 48 seats (cohorts of 8-12, at most two people of a team in a cohort), and
two new managers must take it in the first quarter. Each quarter is planned with the
earlier quarters as ``history``: people passed over before come first, people who took
the course come last (the tier rule of ``cohortmatch.seats``), and within a tier the
planner chooses who goes and the cohorts together, for gap value plus
``fit_weight * interest``. The waitlist says why each waiting person waits.

Run: ``python examples/quarterly_course.py [--time-limit 5] [--waitlist waitlist.csv]``
"""

from __future__ import annotations

import argparse

import numpy as np

import cohortmatch as cm
from cohortmatch.io import write_waitlist

TEAMS = [f"team-{t:02d}" for t in range(30)]


def organisation(seed: int = 3) -> tuple[cm.Organisation, list[str]]:
    """240 people in 30 teams of 8, a ring of gaps plus some chords; 180 of them ask for the course."""
    rng = np.random.default_rng(seed)
    asking = set(rng.choice(240, size=180, replace=False).tolist())
    people = [cm.Person(id=f"e{i:03d}", team=TEAMS[i % 30],
                        interests={"presenting": round(float(rng.random()), 2)} if i in asking else {})
              for i in range(240)]
    gaps = [cm.Gap(a=TEAMS[t], b=TEAMS[(t + 1) % 30], weight=2.0) for t in range(30)]
    gaps += [cm.Gap(a=TEAMS[t], b=TEAMS[(t + 7) % 30], weight=1.0) for t in range(0, 30, 2)]
    return cm.Organisation(people=people, gaps=gaps), sorted(f"e{i:03d}" for i in asking)


def main(argv: list[str] | None = None) -> cm.Plan:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=5.0)
    ap.add_argument("--waitlist", help="write the last quarter's waitlist (.csv or .xlsx)")
    args = ap.parse_args(argv)
    org, asking = organisation()
    policy = cm.Policy(max_per_team=2, fit_weight=1.0)
    history: list[cm.Plan] = []
    reached: set[str] = set()
    print(f"{len(asking)} of {len(org.people)} people ask for the course; 48 seats a quarter")
    for quarter in range(1, 5):
        course = cm.Course(id="presenting", min_size=8, max_size=12, seats=48, participants=asking,
                           required=asking[:2] if quarter == 1 else [])
        request = cm.Request(org=org, courses=[course], policy=policy, history=tuple(history))
        plan = cm.plan(request, time_limit=args.time_limit, seed=quarter)
        assert cm.validate(plan, request) == [], cm.validate(plan, request)
        placed = {m for c in plan.cohorts for m in c.members}
        new = placed - reached
        reached |= placed
        m = plan.metrics
        print(f"quarter {quarter}: {len(placed)} placed ({len(new)} for the first time), "
              f"reached {len(reached)}/{len(asking)}; gap value {m.objective:g}, "
              f"fit {m.fit:.2f} (x fit_weight {policy.fit_weight:g}), total {m.total:.2f} "
              f"(bound {m.total_bound:.2f})")
        history.append(plan)
    first = plan.unassigned[0] if plan.unassigned else None
    if first is not None:
        print(f"first on the waitlist: {first.person} (rank {first.rank}): {first.reason}")
    print(f"everybody who asked reached in 4 quarters: {reached == set(asking)}")
    if args.waitlist:
        print(f"waitlist written to {write_waitlist(plan, args.waitlist)}")
    return plan


if __name__ == "__main__":
    main()
