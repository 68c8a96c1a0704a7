"""A company-wide leadership course: the heuristic and large-neighbourhood search side by side.

Every employee of a large organisation takes a leadership course in cohorts of 8-12,
at most two per team, managers apart from their reports. Each gap is worth bridging
more than once, with less for each further cohort (``coverage="diminishing"``). At
this size ``solver="auto"`` runs ``lns``: the heuristic's construction and descent,
then partition search (parts of the cohorts re-optimised by compiled local search on
every core, see docs/engines.md) and CP-SAT neighbourhoods when local search stalls.
The script plans the same request with ``solver="heuristic"`` and ``solver="lns"``
under the same time limit and prints what each reached and the ``lns`` plan's notes.

Run it with ``python examples/company_wide_course.py [--people 5000] [--time-limit 20]``.
"""

from __future__ import annotations

import argparse

import cohortmatch as cm
from cohortmatch.synthetic import org_chart


def main(argv: list[str] | None = None) -> cm.Plan:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    org = org_chart(args.people, seed=args.seed)
    course = cm.Course(id="leadership", min_size=8, max_size=12)
    policy = cm.Policy(coverage="diminishing", max_per_team=2)
    print(f"{len(org.people)} people in {len({p.team for p in org.people})} teams, "
          f"{len(org.gaps)} gaps; {args.time_limit:g} s per engine")
    plans = {}
    for solver in ("heuristic", "lns"):
        plan = cm.plan(org, [course], policy=policy, solver=solver,
                       time_limit=args.time_limit, seed=args.seed)
        assert cm.validate(plan, org, [course], policy) == []
        m = plan.metrics
        print(f"{solver:>9}: objective {m.objective:.1f}, coverage {m.coverage:.2%}, "
              f"{len(plan.cohorts)} cohorts, bound {m.bound:.1f} (gap {m.gap_to_bound:.1%})")
        plans[solver] = plan
    gain = plans["lns"].metrics.objective / plans["heuristic"].metrics.objective - 1.0
    print(f"lns vs heuristic: {gain:+.2%}")
    for note in plans["lns"].notes:
        print(f"  note: {note}")
    return plans["lns"]


if __name__ == "__main__":
    main()
