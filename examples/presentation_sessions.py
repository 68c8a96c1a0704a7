"""Presentation skills in three sessions a week apart, with part-time staff.

The presentation-skills course mixes marketing and product (every marketing team has a
``repair`` gap with every product team). It runs on three Tuesday mornings a week apart,
two rooms each, so at most two cohorts meet at one session. Part-time staff cannot come
to every session: the people table says when they can (its ``available`` column); the
team leads also take a coaching course in the same sessions, and nobody is in two
cohorts at once. The plan comes with its timetable and a calendar file to import.

Run it with ``python examples/presentation_sessions.py [--time-limit 3] [--seed 7] [--ics plan.ics]``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd

import cohortmatch as cm
from cohortmatch.io import request_from_tables, write_plan

MARKETING = ["brand", "growth", "comms"]
PRODUCT = ["pm-core", "pm-platform", "design"]
SESSIONS = ["2027-01-12 09:00", "2027-01-19 09:00", "2027-01-26 09:00"]
#: Part-time patterns: staff member i of each team works these weeks only.
PART_TIME = {2: SESSIONS[:2], 4: SESSIONS[1:], 6: [SESSIONS[0], SESSIONS[2]]}


def tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """People (with ``available``), gaps and courses (with ``slots``), as HR and L&D write them."""
    rows = []
    for division, teams in (("marketing", MARKETING), ("product", PRODUCT)):
        for t in teams:
            rows.append({"id": f"{t}-lead", "team": t, "manager": None, "division": division,
                         "level": "manager", "available": None})
            rows += [{"id": f"{t}-{i}", "team": t, "manager": f"{t}-lead", "division": division,
                      "level": "staff", "available": "; ".join(PART_TIME.get(i, [])) or None}
                     for i in range(1, 7)]
    people = pd.DataFrame(rows)
    gaps = pd.DataFrame([{"team_a": m, "team_b": p, "weight": 3.0, "purpose": "repair"}
                         for m in MARKETING for p in PRODUCT])
    sessions = "; ".join(SESSIONS)
    courses = pd.DataFrame([
        {"id": "presenting", "min_size": 8, "max_size": 11, "participants": None,
         "slots": sessions, "max_cohorts_per_slot": 2},
        {"id": "coaching", "min_size": 3, "max_size": 3, "participants": "level=manager",
         "slots": sessions, "max_cohorts_per_slot": 1},
    ])
    return people, gaps, courses


def main(argv: list[str] | None = None) -> cm.Plan:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ics", type=Path, help="where to write the calendar (default: a temporary folder)")
    args = parser.parse_args(argv)

    req = request_from_tables(*tables(), policy=cm.Policy(max_per_team=2, mode="diminishing"))
    plan = cm.plan(req, time_limit=args.time_limit, seed=args.seed)
    print("every rule kept:", cm.validate(plan, req) == [])

    people = {p.id: p for p in req.org.people}
    part_timers = sum(p.available is not None for p in req.org.people)
    print(f"{len(people)} people ({part_timers} part-time), {len(plan.cohorts)} cohorts, "
          f"{len(SESSIONS)} sessions")
    for slot, c in plan.timetable():
        mix = Counter(people[m].attributes["division"] for m in c.members)
        part = sum(people[m].available is not None for m in c.members)
        print(f"  {slot}  {c.id:<13} {len(c.members):>2} people: {mix['marketing']} marketing + "
              f"{mix['product']} product, {part} part-time")
    can_come = all(people[m].available is None or c.slot in people[m].available
                   for c in plan.cohorts for m in c.members)
    print("every part-timer at a session they work:", can_come)
    when = Counter((m, c.slot) for c in plan.cohorts for m in c.members)
    print("nobody in two cohorts at once:", max(when.values()) == 1)
    mixed = all({"marketing", "product"} <= {people[m].attributes["division"] for m in c.members}
                for c in plan.cohorts if c.course == "presenting")
    print("every presenting cohort mixes marketing and product:", mixed)
    m = plan.metrics
    print(f"coverage {m.coverage:.0%}, objective {m.objective:g} (bound {m.bound:g})")
    path = args.ics or Path(tempfile.mkdtemp()) / "plan.ics"
    write_plan(plan, path)
    events = path.read_text(encoding="utf-8").count("BEGIN:VEVENT")
    print(f"calendar: {events} events written to {path.name}")
    return plan


if __name__ == "__main__":
    main()
