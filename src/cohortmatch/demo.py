"""The main job on an embedded default organisation: plan, print, compare with random grouping."""

from __future__ import annotations

import numpy as np

from .compiled import compile_problem
from .engines.construct import balanced_sizes
from .model import Course, Gap, Organisation, Person, Policy, Team
from .planner import plan
from .result import Plan
from .scoring import score

__all__ = ["default_org", "random_grouping_coverage", "run_demo"]


def default_org(*, seed: int = 2026) -> Organisation:
    """A small embedded organisation: 4 divisions x 3 teams x 6 people, 12 gaps.

    Examples
    --------
    >>> org = default_org()
    >>> len(org.people), len(org.gaps)
    (72, 12)
    """
    rng = np.random.default_rng(seed)
    divisions = ["sales", "product", "engineering", "operations"]
    teams: list[Team] = []
    people: list[Person] = []
    gaps: list[Gap] = []
    for d in divisions:
        teams.append(Team(id=d, name=d.title()))
        for j in range(3):
            tid = f"{d}-{j + 1}"
            teams.append(Team(id=tid, parent=d))
            lead = f"{tid}-lead"
            people.append(Person(id=lead, team=tid, attributes={"division": d, "level": "lead"}))
            for i in range(5):
                people.append(
                    Person(id=f"{tid}-{i + 1}", team=tid, manager=lead,
                           attributes={"division": d, "level": "staff"})
                )
    team_ids = [t.id for t in teams if t.parent is not None]
    purposes = ["build", "repair", "process", "knowledge", "innovation"]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < 12:
        a, b = sorted(rng.choice(len(team_ids), 2, replace=False).tolist())
        if team_ids[a].split("-")[0] != team_ids[b].split("-")[0]:
            pairs.add((a, b))
    for a, b in sorted(pairs):
        gaps.append(Gap(a=team_ids[a], b=team_ids[b], weight=float(rng.integers(1, 6)),
                        purpose=purposes[int(rng.integers(len(purposes)))]))  # type: ignore[arg-type]
    return Organisation(people=tuple(people), teams=tuple(teams), gaps=tuple(gaps))


def random_grouping_coverage(
    org: Organisation, courses: list[Course], policy: Policy, *, seed: int | None = None
) -> float:
    """Coverage of a random grouping with the same cohort sizes (the baseline)."""
    problem = compile_problem(org, courses, policy)
    rng = np.random.default_rng(seed)
    assignment = np.empty(problem.n_units, dtype=np.int64)
    for b in range(problem.n_blocks):
        lo, hi = int(problem.block_units[b]), int(problem.block_units[b + 1])
        cs, ce = problem.block_of_cohort_range(b)
        labels = np.repeat(np.arange(cs, ce), balanced_sizes(hi - lo, ce - cs))
        assignment[lo:hi] = rng.permutation(labels)
    return score(problem, assignment).coverage


def run_demo(  # type: ignore[no-untyped-def]
    *, people: int | None = 2000, time_limit: float = 10.0, seed: int = 7, shown: int = 6,
    print_fn=print,
) -> Plan:
    """Plan a synthetic organisation and print a summary: cohorts, coverage, bound, baseline.

    ``people=None`` (or a missing :mod:`cohortmatch.synthetic`) uses the small
    :func:`default_org`. Only the first ``shown`` cohorts are printed in full.
    """
    org = None
    if people is not None:
        try:
            from .synthetic import org_chart
        except ImportError:  # pragma: no cover - the synthetic module ships with the package
            org = None
        else:
            org = org_chart(people, preset="silos", seed=2026)
    if org is None:
        org = default_org()
        courses = [Course(id="presenting", min_size=8, max_size=10)]
        source = "embedded default organisation"
    else:
        courses = [Course(id="presenting", min_size=12, max_size=16)]
        source = f"synthetic organisation (preset 'silos', {people} people)"
    policy = Policy(max_per_team=2)
    result = plan(org, courses, policy=policy, seed=seed, time_limit=time_limit)
    team_of = {p.id: p.team for p in org.people}
    print_fn(f"cohortmatch demo: {source}")
    print_fn(f"  {len(org.people)} people, {len(org.teams)} teams, {len(org.gaps)} gaps; "
             f"course {courses[0].id!r}, cohorts of {courses[0].min_size}-{courses[0].max_size}, "
             f"at most {policy.max_per_team} per team, managers apart from their reports")
    print_fn(f"planned {len(result.cohorts)} cohorts in {result.elapsed:.1f} s; the first {shown}:")
    for c in result.cohorts[:shown]:
        teams = sorted({team_of[m] for m in c.members})
        listed = ", ".join(teams[:5]) + (f", +{len(teams) - 5} more" if len(teams) > 5 else "")
        print_fn(f"  {c.id}: {len(c.members)} people from {len(teams)} teams "
                 f"({listed}); bridges {len(c.bridges)} gaps")
    if len(result.cohorts) > shown:
        sizes = [len(c.bridges) for c in result.cohorts]
        print_fn(f"  ... {len(result.cohorts) - shown} more cohorts; gaps bridged per cohort: "
                 f"min {min(sizes)}, median {sorted(sizes)[len(sizes) // 2]}, max {max(sizes)}")
    m = result.metrics
    print_fn(f"coverage {m.coverage:.1%} of gap weight ({m.bridged_gaps}/{m.total_gaps} gaps)")
    print_fn(f"objective {m.objective:g}, proven bound {m.bound:g} (gap {m.gap_to_bound:.1%})")
    baseline = random_grouping_coverage(org, courses, policy, seed=seed)
    print_fn(f"random grouping coverage for comparison: {baseline:.1%}")
    print_fn("")
    best = max(result.cohorts, key=lambda c: sum(b.weight for b in c.bridges))
    print_fn("why the cohort that bridges the most gap weight looks the way it does:")
    lines = str(result.explain(best.id)).splitlines()
    print_fn("\n".join(lines[:10]))
    if len(lines) > 10:
        print_fn(f"  ... and {len(lines) - 10} lighter gaps")
    return result
