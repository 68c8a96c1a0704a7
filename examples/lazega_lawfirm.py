"""A real organisation: the Lazega law firm, offices x practices.

71 lawyers of a New England corporate law firm (Lazega, 2001) in three offices and two
practices; teams are office x practice. The gaps come from who co-works with whom:
pairs of teams that rarely work together have big gaps. A business-development course
in cohorts of 6-8 mixes offices and practices; partners and associates are planned
together, at most 4 lawyers of one team in a cohort.

Run it with ``python examples/lazega_lawfirm.py [--time-limit 3] [--report DIR]``.
"""

from __future__ import annotations

import argparse
from collections import Counter

import cohortmatch as cm
from cohortmatch.datasets import lazega_lawfirm
from cohortmatch.demo import random_grouping_coverage


def main(argv: list[str] | None = None) -> cm.Plan:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--report", metavar="DIR", help="write an HTML report with plots")
    args = parser.parse_args(argv)

    org = lazega_lawfirm()
    courses = [cm.Course(id="bizdev", min_size=6, max_size=8)]
    policy = cm.Policy(max_per_team=4, coverage="diminishing", decay=0.5)
    plan = cm.plan(org, courses, policy=policy, time_limit=args.time_limit, seed=args.seed)
    assert cm.validate(plan, org, courses, policy) == []

    sizes = Counter(p.team for p in org.people)
    print(f"{len(org.people)} lawyers in {len(sizes)} office x practice teams: "
          + ", ".join(f"{t} {n}" for t, n in sizes.most_common()))
    print(f"{len(org.gaps)} gaps, total weight {plan.metrics.total_weight:.3g}")
    for c in plan.cohorts:
        offices = Counter(t.split("-")[0] for t in c.teams)
        print(f"  {c.id}: {len(c.members)} lawyers, offices {dict(offices)}, "
              f"bridges {len(c.bridges)} gaps")
    m = plan.metrics
    base = random_grouping_coverage(org, courses, policy, seed=args.seed)
    print(f"coverage {m.coverage:.0%} (random grouping {base:.0%}), "
          f"objective {m.objective:.3g}, bound {m.bound:.3g}")
    if args.report:
        from cohortmatch.report import write_report

        paths = write_report(plan, org, args.report, title="Lazega law firm: bizdev cohorts")
        print(f"report written to {paths['html']}")
    return plan


if __name__ == "__main__":
    main()
