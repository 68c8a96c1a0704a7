"""A monthly club as it really runs: new sign-ups every month, planned one month at a time.

120 members in 30 teams of 4. Each month a random 60-80 % of them sign up; they meet in
groups of 4 to 6 with at most one member of a team per group, and nobody should meet the
same person twice in the year (``max_meetings=1``, earlier months passed as ``history``).
Within that rule every month bridges as many connection gaps between teams as it can.
After each month the script prints how many signed up, the groups, the repeated meetings
so far (none) and the share of members who have met a *gap partner* (someone from a team
their team has a gap with), from :meth:`cohortmatch.Plan.acquaintances`.

Run: ``python examples/club_signups.py [--months 12] [--time-limit 2] [--seed 1]``
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

import cohortmatch as cm

TEAMS = [f"team-{t:02d}" for t in range(30)]


def club() -> cm.Organisation:
    """120 members in 30 teams of 4; each team has a gap with the teams 4, 9 and 13 places on."""
    people = [cm.Person(id=f"m{i:03d}", team=TEAMS[i // 4]) for i in range(120)]
    gaps = [cm.Gap(a=TEAMS[t], b=TEAMS[(t + d) % 30], weight=1.0 + (t + d) % 3)
            for t in range(30) for d in (4, 9, 13)]
    return cm.Organisation(people=people, gaps=gaps)


def repeated_meetings(plans: list[cm.Plan]) -> int:
    """Meetings beyond the first of any pair, over all the plans."""
    met: dict[tuple[str, str], int] = {}
    for p in plans:
        for c in p.cohorts:
            for a, b in itertools.combinations(sorted(c.members), 2):
                met[a, b] = met.get((a, b), 0) + 1
    return sum(n - 1 for n in met.values())


def main(argv: list[str] | None = None) -> list[cm.Plan]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--time-limit", type=float, default=2.0, help="seconds per month")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    org = club()
    members = [p.id for p in org.people]
    policy = cm.Policy(max_per_team=1, max_meetings=1)
    rng = np.random.default_rng(args.seed)
    history: list[cm.Plan] = []
    print(f"{len(members)} members in {len(TEAMS)} teams, {len(org.gaps)} gaps between teams")
    for month in range(1, args.months + 1):
        share = rng.uniform(0.6, 0.8)
        signed = sorted(rng.choice(members, size=round(share * len(members)), replace=False))
        course = cm.Course(id=f"club-m{month:02d}", min_size=4, max_size=6,
                           participants=tuple(str(m) for m in signed))
        result = cm.plan(org, [course], policy=policy, history=history,
                         time_limit=args.time_limit, seed=args.seed + month)
        problems = cm.validate(result, org, [course], policy, history=history)
        assert not problems, problems
        seen = result.acquaintances(org, history)
        history.append(result)
        print(f"month {month:2d}: {len(signed):3d} signed up, {len(result.cohorts):2d} groups, "
              f"repeated meetings so far {repeated_meetings(history)}, "
              f"members who met a gap partner so far {seen.share_with_gap_partner()[-1]:6.1%}")
    seen = history[-1].acquaintances(org, history[:-1])
    totals = seen.people_met[-1]
    print(f"after {args.months} months: each member met {totals.min()}-{totals.max()} people "
          f"(median {int(np.median(totals))}); repeated meetings {repeated_meetings(history)}")
    print(f"member m000: {seen.person('m000')}")
    return history


if __name__ == "__main__":
    main()
