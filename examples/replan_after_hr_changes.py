"""A month after the plan was published: HR changes, a re-plan, and the people to email.

A leadership course for a 300-person organisation was planned and the cohorts were sent
to everyone. A month later, before the first session, HR reports: three people left,
four joined, two changed team, a colleague was promoted and now manages two people of
her own cohort, and an HR case means two people must never share a cohort. Planning again
from scratch would reshuffle almost everyone; ``cm.replan`` keeps every rule of today's
request, moves as few people as possible (and proves how few suffice), keeps the cohort
ids everyone already knows, and says person by person what changed and why: the list of
people to email.

Run it with ``python examples/replan_after_hr_changes.py [--time-limit 3] [--seed 7]
[--out DIR]`` (``--out`` writes the new plan and ``changes.csv``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cohortmatch as cm
from cohortmatch.io import write_changes, write_plan
from cohortmatch.replanning import count_moves


def published_plan(seconds: float, seed: int) -> tuple[cm.Request, cm.Plan]:
    """The request as it was, and the plan everyone received."""
    org = cm.org_chart(300, preset="silos", seed=11)
    course = cm.Course(id="leading", min_size=10, max_size=12)
    request = cm.Request(org=org, courses=[course], policy=cm.Policy(mode="diminishing", max_per_team=2))
    return request, cm.plan(request, solver="lns", time_limit=seconds, seed=seed)


def a_month_of_changes(before: cm.Request, plan: cm.Plan) -> cm.Request:
    """Today's request: leavers, joiners, team changes, a promotion and an HR case."""
    people = {p.id: p for p in before.org.people}
    staff = sorted(p for p in people if people[p].manager is not None)
    cohort = {m: c for c in plan.cohorts for m in c.members}
    leavers = staff[10:13]
    for gone in leavers:
        boss = people[gone].manager
        for pid, p in list(people.items()):
            if p.manager == gone:  # reports of a leaver move up to the leaver's manager
                people[pid] = p.model_copy(update={"manager": boss})
        del people[gone]
    teams = sorted({p.team for p in people.values()})
    for i in range(4):
        team = teams[7 * i % len(teams)]
        lead = next(p.manager for p in people.values() if p.team == team and p.manager is not None)
        people[f"new{i + 1:02d}"] = cm.Person(id=f"new{i + 1:02d}", team=team, manager=lead)
    for pid in staff[20:22]:  # moved to another team, under its lead
        team = teams[(teams.index(people[pid].team) + 3) % len(teams)]
        lead = next(p.manager for p in people.values() if p.team == team and p.manager not in (None, pid))
        people[pid] = people[pid].model_copy(update={"team": team, "manager": lead})
    promoted = staff[30]
    above, boss = {promoted}, people[promoted].manager
    while boss is not None:  # her own managers cannot become her reports
        above.add(boss)
        boss = people[boss].manager
    mates = [m for m in cohort[promoted].members if m in people and m not in above][:2]
    for pid in mates:  # she now manages two colleagues of her own cohort
        people[pid] = people[pid].model_copy(update={"manager": promoted})
    case = [m for m in plan.cohorts[5].members if m in people][:2]  # an HR case
    org = cm.Organisation(people=tuple(people.values()), teams=before.org.teams, gaps=before.org.gaps)
    policy = before.policy.model_copy(update={"keep_apart": (tuple(case),)})
    return cm.Request(org=org, courses=before.courses, policy=policy)


def email(change: cm.Change) -> str:
    """One line of the message to send a person whose place changed."""
    if change.reason == "left":
        return f"{change.person}: removed from {change.before} ({change.detail})"
    if change.reason == "joined":
        return f"{change.person}: welcome, you are in {change.after}"
    why = f"to keep {change.rule}" if change.reason == "rule" else "to bridge more gaps"
    return f"{change.person}: you move from {change.before} to {change.after} ({why})"


def main(argv: list[str] | None = None) -> cm.Plan:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="write the new plan (.xlsx) and changes.csv here")
    args = parser.parse_args(argv)

    before, published = published_plan(args.time_limit, args.seed)
    today = a_month_of_changes(before, published)
    new = cm.replan(published, today, time_limit=args.time_limit, seed=args.seed)
    m = new.metrics
    print(f"published: {len(published.cohorts)} cohorts, objective {published.metrics.objective:.6g}")
    print(f"re-plan: {m.moved} people moved, at least {m.moves_bound} needed; objective {m.objective:.6g}")
    if m.moved == m.moves_bound:  # the fewest moves: the bound covers every plan with as few
        print(f"value bound: no plan with {m.moved} moves has an objective above {m.bound:.6g} (proven)")
    else:
        print(f"value bound: {m.bound:.6g} over all plans (the moves are above the counting bound)")
    fresh = cm.plan(today, solver="lns", time_limit=args.time_limit, seed=args.seed)
    print(f"from scratch: objective {fresh.metrics.objective:.6g}, but it would move "
          f"{count_moves(published, fresh, today)} people")
    kept = {c.id for c in published.cohorts} & {c.id for c in new.cohorts}
    added = sorted({c.id for c in new.cohorts} - kept)
    print(f"cohort ids: {len(kept)} of {len(published.cohorts)} published ids go on"
          + (f"; new: {', '.join(added)}" if added else "")
          + (f"; emptied: {', '.join(new.emptied_cohorts)}" if new.emptied_cohorts else ""))
    print(f"people to email ({len(new.changes)}):")
    for change in new.changes:
        print("  " + email(change))
    print(f"every rule kept: {cm.validate(new, today) == []}")
    if args.out:
        write_plan(new, args.out / "plan.xlsx")
        write_changes(new, args.out / "changes.csv")
        print(f"written: {args.out / 'plan.xlsx'}, {args.out / 'changes.csv'}")
    return new


if __name__ == "__main__":
    main()
