"""A monthly learning club: 12 rounds planned one month at a time, with memory.

Each month the club meets in tables of three. Planning month m passes the plans of
months 1..m-1 as ``history``: nobody sits with someone they already met
(``max_meetings=1``), and gaps bridged in earlier months count as bridged, so the
search spends each new month on gaps still open. Coverage rises month by month.

Run: ``python examples/monthly_club.py``
"""

from __future__ import annotations

import itertools

import cohortmatch as cm

TEAMS = [f"team-{t:02d}" for t in range(24)]


def club() -> cm.Organisation:
    """48 members in 24 teams of 2; a gap between some pairs of teams that rarely meet."""
    people = [cm.Person(id=f"m{i:02d}", team=TEAMS[i % 24]) for i in range(48)]
    pairs = [(a, b) for a, b in itertools.combinations(range(24), 2) if (a * 7 + b * 3) % 3 != 0]
    gaps = [cm.Gap(a=TEAMS[a], b=TEAMS[b], weight=1.0 + (a + b) % 3) for a, b in pairs]
    return cm.Organisation(people=people, gaps=gaps)


def main(months: int = 12, *, seconds: float = 1.0, seed: int = 7) -> list[cm.Plan]:
    org = club()
    policy = cm.Policy(max_meetings=1)
    history: list[cm.Plan] = []
    print(f"{len(org.people)} members, {len(org.gaps)} gaps between teams")
    for month in range(1, months + 1):
        course = cm.Course(id=f"club-m{month:02d}", min_size=3, max_size=3)
        result = cm.plan(org, [course], policy=policy, history=history,
                         time_limit=seconds, seed=seed + month)
        problems = cm.validate(result, org, [course], policy, history=history)
        assert not problems, problems
        history.append(result)
        print(f"month {month:2d}: coverage {result.metrics.coverage:6.1%}, "
              f"repeated meetings {len(result.repeated_meetings)}, solver {result.solver}")
    return history


if __name__ == "__main__":
    main()
