"""The heuristic planner: valid plans always, clear errors when no plan exists."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import cohortmatch as cm
from conftest import brute_force, compile_sized, requests


def org_of(teams: str, gaps=(), managers=None):
    people = [
        cm.Person(id=f"p{i}", team=t, manager=(managers or {}).get(f"p{i}"))
        for i, t in enumerate(teams)
    ]
    return cm.Organisation(people=people, gaps=[cm.Gap(a=a, b=b, weight=w) for a, b, w in gaps])


def plan(org, courses, policy=None, **kw):
    kw.setdefault("time_limit", None)
    kw.setdefault("work_limit", 3000)
    kw.setdefault("seed", 0)
    return cm.plan(org, courses, policy=policy, **kw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(max_people=12))
def test_every_plan_keeps_every_rule(request):
    org, courses, policy = request
    try:
        result = plan(org, courses, policy, work_limit=300)
    except cm.InfeasibleError as err:
        assert err.conflicts and all(isinstance(c, str) and c for c in err.conflicts)
        return
    assert cm.validate(result, org, courses, policy) == []
    assert result.metrics.objective <= result.metrics.bound + 1e-9
    placed = sorted(m for c in result.cohorts for m in c.members)
    assert placed == sorted(p.id for p in org.people) or result.unassigned


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(max_people=7, max_teams=4))
def test_infeasible_only_when_no_plan_exists(request):
    org, courses, policy = request
    try:
        compile_sized(org, courses, policy)
    except cm.InfeasibleError:
        return
    try:
        result = plan(org, courses, policy, work_limit=500, solver="heuristic")
    except cm.InfeasibleError:
        assert brute_force(org, courses, policy) is None
        return
    best = brute_force(org, courses, policy)
    assert best is not None
    assert result.metrics.objective <= best + 1e-9
    assert result.metrics.bound >= best - 1e-9


@pytest.mark.parametrize(
    "teams",
    ["aaaaaaaa", "abcdefgh", "aabbccdd"],
    ids=["one-team", "one-person-per-team", "pairs"],
)
def test_special_shapes(teams):
    gaps = [(a, b, 1.0) for a in sorted(set(teams)) for b in sorted(set(teams)) if a < b]
    org = org_of(teams, gaps, managers={f"p{i}": "p0" for i in range(1, 8)})
    courses = [cm.Course(id="c", min_size=4, max_size=4)]
    policy = cm.Policy(separate_manager_and_reports=False)
    result = plan(org, courses, policy)
    assert cm.validate(result, org, courses, policy) == []
    assert [len(c.members) for c in result.cohorts] == [4, 4]


def test_bridges_what_can_be_bridged():
    org = org_of("aabbccdd", [("a", "b", 3.0), ("c", "d", 1.0), ("a", "d", 0.5)])
    courses = [cm.Course(id="c", min_size=4, max_size=4)]
    result = plan(org, courses, cm.Policy(max_per_team=1))
    assert result.metrics.coverage == 1.0
    assert result.status == "optimal"  # reached the proven bound
    explanation = result.explain(result.cohorts[0].id)
    assert {(b.a, b.b) for b in explanation.bridges} == {("a", "b"), ("c", "d"), ("a", "d")}
    assert "a <-> b: weight 3" in str(explanation)


def test_infeasible_sizes_say_by_how_much():
    org = org_of("ab" * 11 + "a")
    with pytest.raises(cm.InfeasibleError, match=r"course 'p': 23 participants cannot form 2 cohort"):
        plan(org, [cm.Course(id="p", min_size=8, max_size=10, cohorts=2)])
    with pytest.raises(cm.InfeasibleError, match=r"23 participants cannot form 3 cohort\(s\) of 8-10 \(needs 24-30\)"):
        plan(org, [cm.Course(id="p", min_size=8, max_size=10, cohorts=3)])


def test_infeasible_team_cap_and_manager():
    org = org_of("s" * 9 + "x" * 3)
    message = "team 's' has 9 participants but 2 cohorts x max_per_team 2 = 4 places"
    with pytest.raises(cm.InfeasibleError, match=message):
        plan(org, [cm.Course(id="x", min_size=6, max_size=6)], cm.Policy(max_per_team=2))
    org = org_of("abc", managers={"p1": "p0"})
    with pytest.raises(cm.InfeasibleError, match="manager 'p0' and reports cannot be separated with 1 cohort"):
        plan(org, [cm.Course(id="c", min_size=3, max_size=3)])


def test_bad_parameters():
    org = org_of("ab")
    course = [cm.Course(id="c", min_size=1, max_size=2)]
    with pytest.raises(cm.InputError, match="'solver' must be one of"):
        cm.plan(org, course, solver="magic")
    with pytest.raises(cm.InputError, match="'time_limit' must be a positive number"):
        cm.plan(org, course, time_limit=-1)
    with pytest.raises(cm.InputError, match="unknown person 'zz'"):
        cm.plan(org, [cm.Course(id="c", min_size=1, max_size=2, participants=["zz"])])
    with pytest.raises(cm.InputError, match="course 'c' is given twice"):
        cm.plan(org, course * 2)


def test_same_seed_same_plan_and_input_order_does_not_matter():
    rng = np.random.default_rng(3)
    teams = "".join(rng.choice(list("abcdef"), 40))
    gaps = [("a", "b", 2.0), ("b", "c", 1.0), ("c", "d", 3.0), ("a", "e", 1.5), ("e", "f", 1.0)]
    org = org_of(teams, gaps)
    shuffled = cm.Organisation(people=list(reversed(org.people)), gaps=list(reversed(org.gaps)))
    courses = [cm.Course(id="c", min_size=5, max_size=6)]
    a = plan(org, courses, work_limit=5000, seed=11)
    b = plan(org, courses, work_limit=5000, seed=11)
    c = plan(shuffled, courses, work_limit=5000, seed=11)
    assert a.cohorts == b.cohorts == c.cohorts


def test_json_round_trip_and_start():
    org = org_of("aabbccddee", [("a", "b", 1.0), ("c", "d", 2.0), ("a", "e", 1.0)])
    courses = [cm.Course(id="c", min_size=5, max_size=5)]
    result = plan(org, courses)
    text = result.to_json()
    again = cm.Plan.from_json(text)
    assert again == result
    for key in ("cohorts", "unassigned", "metrics", "status", "seed"):
        assert key in __import__("json").loads(text)
    improved = plan(org, courses, start=result, work_limit=100)
    assert improved.metrics.objective >= result.metrics.objective
    assert cm.validate(improved, org, courses) == []


def test_progress_is_reported():
    org = org_of("aabbccddee" * 3, [("a", "b", 1.0), ("c", "d", 2.0)])
    seen = []
    cm.plan(org, [cm.Course(id="c", min_size=5, max_size=6)], time_limit=0.3,
            progress=lambda t, best: seen.append((t, best)), seed=1)
    assert seen and all(t >= 0 for t, _ in seen)


def test_validate_catches_broken_plans():
    org = org_of("aabb", [("a", "b", 1.0)], managers={"p1": "p0"})
    courses = [cm.Course(id="c", min_size=2, max_size=2)]
    policy = cm.Policy(max_per_team=1)
    good = plan(org, courses, policy)
    assert cm.validate(good, org, courses, policy) == []
    c0, c1 = good.cohorts
    swapped = good.model_copy(update={"cohorts": (
        c0.model_copy(update={"members": ("p0", "p1")}), c1.model_copy(update={"members": ("p2", "p3")}))})
    problems = cm.validate(swapped, org, courses, policy)
    assert any("max_per_team" in p for p in problems)
    assert any("sits with their manager 'p0'" in p for p in problems)
    missing = good.model_copy(update={"cohorts": (c0,)})
    assert any("missing from course 'c'" in p for p in cm.validate(missing, org, courses, policy))
    lying = good.model_copy(update={"metrics": good.metrics.model_copy(update={"objective": 99.0})})
    assert any("reported objective" in p for p in cm.validate(lying, org, courses, policy))


@pytest.mark.parametrize("solver", ["auto", "heuristic", "cpsat", "lns"])
def test_a_start_that_breaks_rules_is_repaired(solver):
    # whole teams with their lead in one cohort: every lead sits with their reports
    people = [cm.Person(id=f"{t}-0", team=t) for t in "abcd"]
    people += [cm.Person(id=f"{t}-{i}", team=t, manager=f"{t}-0") for t in "abcd" for i in range(1, 4)]
    org = cm.Organisation(people=people, gaps=[cm.Gap(a="a", b="b"), cm.Gap(a="c", b="d")])
    courses = [cm.Course(id="c", min_size=4, max_size=4)]
    good = plan(org, courses)
    by_team = [tuple(f"{t}-{i}" for i in range(4)) for t in "abcd"]
    bad = good.model_copy(update={"cohorts": tuple(
        c.model_copy(update={"members": m, "teams": (m[0][0],) * 4})
        for c, m in zip(good.cohorts, by_team, strict=True))})
    assert any("sits with their manager" in v for v in cm.validate(bad, org, courses))
    fixed = plan(org, courses, start=bad, solver=solver, work_limit=500)
    assert cm.validate(fixed, org, courses) == []
