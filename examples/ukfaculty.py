"""Plan mixed cohorts for a UK university faculty whose friendships stay inside schools.

The data (``examples/data/ukfaculty/``) is the friendship network of 81 staff of a UK
faculty in four schools (Nepusz et al., 2008, https://doi.org/10.1103/PhysRevE.77.016107),
licensed CC BY-SA 2.0 UK: see ``LICENSE.md`` next to the files and keep it with any copy.
Only 21% of the ties cross schools. The gaps between schools come from the tie strengths
(:func:`cohortmatch.interactions.gaps_from_interactions`); the plan puts people of
different schools together in cohorts of a leadership course.

Run it with ``python examples/ukfaculty.py [--time-limit 5] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

import cohortmatch as cm
from cohortmatch.interactions import gaps_from_interactions, tie_strengths

DATA = Path(__file__).parent / "data" / "ukfaculty"


def load_faculty() -> tuple[cm.Organisation, list[tuple[str, str, int]]]:
    """The faculty as an organisation (one team per school) and its friendship ties."""
    with open(DATA / "UKfaculty_nodes.csv", newline="", encoding="utf-8") as f:
        nodes = list(csv.DictReader(f))
    with open(DATA / "UKfaculty_edges.csv", newline="", encoding="utf-8") as f:
        ties = [(f"uk{int(r['source']):02d}", f"uk{int(r['target']):02d}", int(r["weight"]))
                for r in csv.DictReader(f)]
    people = [cm.Person(id=f"uk{int(r['id']):02d}", team=f"school{r['Group']}",
                        attributes={"school": int(r["Group"])}) for r in nodes]
    teams = [cm.Team(id="faculty", name="Faculty")] + [
        cm.Team(id=t, name=f"School {t[-1]}", parent="faculty")
        for t in sorted({p.team for p in people})
    ]
    # every pair of schools should know each other; weak friendship = big gap
    gaps = gaps_from_interactions(ties, people, purpose="build")
    return cm.Organisation(people=people, teams=teams, gaps=gaps), ties


def main(argv: list[str] | None = None) -> cm.Plan:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds (default 5)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    org, ties = load_faculty()
    sizes = Counter(p.team for p in org.people)
    print(f"UK faculty: {len(org.people)} people in {len(sizes)} schools "
          f"({', '.join(f'{t} {n}' for t, n in sorted(sizes.items()))}), {len(ties)} ties")
    strength = tie_strengths(ties, org)
    print("school pair            friendship strength   gap weight")
    weight = {g.key: g.weight for g in org.gaps}
    for (a, b), w in sorted(weight.items(), key=lambda kv: -kv[1]):
        s = strength.edges[a, b]["strength"] if strength.has_edge(a, b) else 0.0
        print(f"  {a}-{b}       {s:8.3f}             {w:6.3f}")

    course = cm.Course(id="leadership", min_size=8, max_size=10)
    policy = cm.Policy(max_per_team=4, coverage="diminishing", decay=0.5)
    result = cm.plan(org, [course], policy=policy, seed=args.seed, time_limit=args.time_limit)

    team_of = {p.id: p.team for p in org.people}
    print(f"\n{len(result.cohorts)} cohorts of {course.min_size}-{course.max_size}, "
          f"at most {policy.max_per_team} per school:")
    for c in result.cohorts:
        mix = Counter(team_of[m] for m in c.members)
        print(f"  {c.id}: {len(c.members)} people, "
              + ", ".join(f"{t} x{n}" for t, n in sorted(mix.items())))
    m = result.metrics
    print(f"objective {m.objective:.3f} (bound {m.bound:.3f}, gap to bound {m.gap_to_bound:.1%}); "
          f"coverage {m.coverage:.0%} of gap weight, {m.bridged_gaps}/{m.total_gaps} gaps")
    problems = cm.validate(result, org, [course], policy)
    print("plan is valid" if not problems else f"plan breaks rules: {problems}")
    return result


if __name__ == "__main__":
    main()
