"""A leadership course with buddies, an HR case and facilitators who run given cohorts.

Three things a learning team knows before any optimisation: two job-sharers (and an
interpreter with the colleague they support) must sit together; three people in an open
HR case must never share a cohort; and two facilitators have already booked their cohorts.
The planner keeps all of it, and still bridges as many weak ties as it can: the example
plans with and without the three rules (engine ``lns``) and prints what they cost. The same
rules come from files as a links table (``person_a, person_b, kind``) and a ``pinned``
column of the courses table.

Run it with ``python examples/buddies_and_facilitators.py [--time-limit 3] [--seed 7]``.
"""

from __future__ import annotations

import argparse

import cohortmatch as cm


def request() -> cm.Request:
    """A 240-person organisation, one course in cohorts of 10-12, and the three rules."""
    org = cm.org_chart(240, preset="silos", seed=11)
    first_of_team: dict[str, str] = {}  # one staff member per team, so team caps can hold
    for p in sorted(org.people, key=lambda p: p.id):
        if p.manager is not None:
            first_of_team.setdefault(p.team, p.id)
    staff = sorted(first_of_team.values())
    buddies = [staff[0:2], staff[2:5]]                   # job-sharers; interpreter + two
    hr_case = [staff[5:8]]                               # never in one cohort
    facilitators = {staff[8]: "leading-1", staff[9]: "leading-2"}
    course = cm.Course(id="leading", min_size=10, max_size=12, pinned=facilitators)
    policy = cm.Policy(mode="diminishing", max_per_team=2, keep_together=buddies, keep_apart=hr_case)
    return cm.Request(org=org, courses=[course], policy=policy)


def main(argv: list[str] | None = None) -> cm.Plan:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    req = request()
    plan = cm.plan(req, solver="lns", time_limit=args.time_limit, seed=args.seed)
    assert cm.validate(plan, req) == []
    cohort_of = {m: c.id for c in plan.cohorts for m in c.members}
    policy, course = req.policy, req.courses[0]
    for group in policy.keep_together:
        print(f"together {', '.join(group)}: {sorted({cohort_of[m] for m in group})}")
    for group in policy.keep_apart:
        print(f"apart {', '.join(group)}: {[cohort_of[m] for m in group]}")
    for person, cohort in course.pinned.items():
        print(f"facilitator {person} pinned to {cohort}: in {cohort_of[person]}")
    free = cm.plan(req.model_copy(update={"policy": cm.Policy(mode="diminishing", max_per_team=2),
                                          "courses": (course.model_copy(update={"pinned": {}}),)}),
                   solver="lns", time_limit=args.time_limit, seed=args.seed)
    m = plan.metrics
    print(f"{len(plan.cohorts)} cohorts, objective {m.objective:.6g} (bound {m.bound:.6g}); "
          f"without the three rules {free.metrics.objective:.6g}")
    print(f"engine {plan.solver}; every rule kept: {cm.validate(plan, req) == []}")
    return plan


if __name__ == "__main__":
    main()
