"""A group of companies: one all-staff course, planned as independent blocks.

A holding company runs one programme for the staff of its companies. No gap joins two
companies (their teams do not work together), so a cohort that mixes companies bridges
nothing: ``cm.plan(..., decompose="always")`` plans each company as a block of its own
and puts the block plans side by side, with the bound proven for the whole request
(docs/scale.md, "When to decompose"). The script plans the same request whole and
decomposed under the same time limit and prints what each reached and the notes.

Run it with ``python examples/group_of_companies.py [--companies 4] [--people 8000] [--time-limit 20]``.
"""

from __future__ import annotations

import argparse

import cohortmatch as cm
from cohortmatch.synthetic import org_chart, side_by_side


def main(argv: list[str] | None = None) -> cm.Plan:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=4)
    parser.add_argument("--people", type=int, default=8000, help="people in the whole group")
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    group = side_by_side([org_chart(args.people // args.companies, seed=args.seed + i)
                          for i in range(args.companies)])
    course = cm.Course(id="all-staff", min_size=10, max_size=14)
    policy = cm.Policy(coverage="diminishing", max_per_team=2)
    print(f"{len(group.people)} people in {args.companies} companies, {len(group.gaps)} gaps")
    plans = {}
    for how in ("never", "always"):
        plan = cm.plan(group, [course], policy=policy, decompose=how, time_limit=args.time_limit,
                       seed=args.seed)
        assert cm.validate(plan, group, [course], policy) == []
        m = plan.metrics
        print(f"decompose={how:>6}: objective {m.objective:.1f}, bound {m.bound:.1f} "
              f"(gap {m.gap_to_bound:.2%}), {len(plan.cohorts)} cohorts, {plan.elapsed:.1f} s")
        plans[how] = plan
    print(f"note: {plans['always'].notes[0]}")
    return plans["always"]


if __name__ == "__main__":
    main()
