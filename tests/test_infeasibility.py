"""Requests no plan can meet raise InfeasibleError naming the conflicting rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cpsat import brute_force

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.engines.base import Budget
from cohortmatch.engines.cpsat.explain import explain_or_find
from cohortmatch.errors import InfeasibleError
from cohortmatch.rules import precheck
from conftest import compile_sized

RULE_WORDS = ("cannot form", "max_per_team", "manager", "cohorts of", "no participants")


def _people(teams: str, managers: dict[int, int] | None = None) -> list[cm.Person]:
    managers = managers or {}
    return [
        cm.Person(id=f"p{i}", team=t, manager=f"p{managers[i]}" if i in managers else None)
        for i, t in enumerate(teams)
    ]


@pytest.mark.parametrize("solver", ["auto", "heuristic", "cpsat", "lns"])
def test_sizes(solver):
    org = cm.Organisation(people=_people("ab" * 11 + "a"))
    with pytest.raises(InfeasibleError, match=r"23 participants cannot form 3 cohort\(s\) of 8-10"):
        cm.plan(
            org, [cm.Course(id="presenting", min_size=8, max_size=10, cohorts=3)], solver=solver
        )


@pytest.mark.parametrize("solver", ["auto", "heuristic", "cpsat", "lns"])
def test_team_cap(solver):
    org = cm.Organisation(people=_people("s" * 9 + "abcdefghijk"))
    courses = [cm.Course(id="c", min_size=10, max_size=10)]
    with pytest.raises(
        InfeasibleError, match="team 's' has 9 participants but 2 cohorts x max_per_team 2 = 4"
    ):
        cm.plan(org, courses, policy=cm.Policy(max_per_team=2), solver=solver, time_limit=5)


def test_team_cap_starves_cohort_sizes():
    org = cm.Organisation(people=_people("aabbcc"))
    courses = [cm.Course(id="c", min_size=6, max_size=6)]
    with pytest.raises(
        InfeasibleError, match="cohorts need at least 6 people but max_per_team 1 allows at most 3"
    ):
        cm.plan(org, courses, policy=cm.Policy(max_per_team=1), time_limit=5)


@pytest.mark.parametrize("solver", ["auto", "heuristic", "cpsat", "lns"])
def test_manager_with_one_cohort(solver):
    org = cm.Organisation(people=_people("abab", {1: 0, 2: 0}))
    with pytest.raises(
        InfeasibleError, match="manager 'p0' and reports cannot be separated with 1 cohort"
    ):
        cm.plan(org, [cm.Course(id="c", min_size=4, max_size=4)], solver=solver, time_limit=5)


def test_manager_with_too_many_reports():
    org = cm.Organisation(people=_people("abababab", {i: 0 for i in range(1, 8)}))
    with pytest.raises(
        InfeasibleError, match="manager 'p0' has 7 direct reports taking it, more than the 4"
    ):
        cm.plan(org, [cm.Course(id="c", min_size=4, max_size=4)], time_limit=5)


def test_manager_cohort_cannot_fill():
    org = cm.Organisation(people=_people("abababab", {i: 0 for i in range(1, 6)}))
    with pytest.raises(
        InfeasibleError, match="manager 'p0' needs a cohort of at least 4 without their 5"
    ):
        cm.plan(org, [cm.Course(id="c", min_size=4, max_size=4)], time_limit=5)


@pytest.mark.parametrize("solver", ["auto", "heuristic", "cpsat", "lns"])
def test_team_cap_and_manager_together(solver):
    """Each rule alone is satisfiable; together they are not: CP-SAT names both."""
    # teams a: p0 p1, b: p2 p3; max_per_team 1 puts one a and one b in each cohort of 2,
    # so p0's cohort holds p2 or p3 -- both report to p0.
    org = cm.Organisation(people=_people("aabb", {2: 0, 3: 0}))
    courses = [cm.Course(id="c", min_size=2, max_size=2)]
    policy = cm.Policy(max_per_team=1)
    problem = compile_problem(org, courses, policy)
    assert precheck(problem) == []
    with pytest.raises(InfeasibleError) as info:
        cm.plan(org, courses, policy=policy, solver=solver, time_limit=5, seed=0)
    text = str(info.value)
    assert "manager 'p0' in a different cohort from their direct reports" in text
    assert "max_per_team" in text
    assert "Traceback" not in text
    # each rule on its own is satisfiable
    assert cm.plan(
        org,
        courses,
        policy=cm.Policy(max_per_team=1, separate_manager_and_reports=False),
        time_limit=5,
        seed=0,
    ).status in ("optimal", "feasible")
    assert cm.plan(org, courses, time_limit=5, seed=0).status in ("optimal", "feasible")


def test_core_is_minimised():
    org = cm.Organisation(people=_people("aabbcdcd", {2: 0, 3: 0}))
    courses = [
        cm.Course(id="x", min_size=2, max_size=2, participants=("p0", "p1", "p2", "p3")),
        cm.Course(id="y", min_size=2, max_size=2, participants=("p4", "p5", "p6", "p7")),
    ]
    problem = compile_problem(org, courses, cm.Policy(max_per_team=1))
    out = explain_or_find(problem, budget=Budget(5.0), rng=np.random.default_rng(0))
    assert out.status == "infeasible"
    assert all("'y'" not in c for c in out.core), out.core  # course y is not part of the conflict
    assert 1 <= len(out.core) <= 3


def test_explain_or_find_returns_a_plan_when_feasible():
    org = cm.Organisation(people=_people("aabb", {2: 0}))
    problem = compile_problem(
        org, [cm.Course(id="c", min_size=2, max_size=2)], cm.Policy(max_per_team=1)
    )
    out = explain_or_find(problem, budget=Budget(5.0), rng=np.random.default_rng(0))
    assert out.status in ("feasible", "optimal")
    assert out.assignment[0] != out.assignment[2]


@st.composite
def requests(draw):
    n = draw(st.integers(2, 7))
    teams = draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n))
    managers = {}
    for i in range(1, n):
        if draw(st.booleans()):
            managers[i] = draw(st.integers(0, i - 1))
    k = draw(st.integers(1, 3))
    if draw(st.integers(0, 4)) == 0:  # sizes that may not add up
        lo = draw(st.integers(1, 4))
        hi = draw(st.integers(lo, 5))
    else:  # sizes that add up: the conflict, if any, is between other rules
        lo = draw(st.integers(1, max(1, n // k)))
        hi = draw(st.integers(max(lo, -(-n // k)), max(lo, -(-n // k)) + 1))
    cap = draw(st.one_of(st.none(), st.integers(1, 3)))
    org = cm.Organisation(
        people=_people("".join(teams), managers),
        gaps=[cm.Gap(a="a", b="b"), cm.Gap(a="b", b="c", weight=2.0)]
        if len(set(teams)) == 3
        else [],
    )
    return (
        org,
        [cm.Course(id="c", min_size=lo, max_size=hi, cohorts=k)],
        cm.Policy(max_per_team=cap),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_random_requests_are_planned_or_explained(request_):
    org, courses, policy = request_
    try:
        problem = compile_sized(org, courses, policy)
    except InfeasibleError as err:
        assert all("cannot form" in c for c in err.conflicts)
        return
    _, n_valid = brute_force(problem)
    if n_valid == 0:
        with pytest.raises(InfeasibleError) as info:
            cm.plan(org, courses, policy=policy, time_limit=5, seed=0)
        assert info.value.conflicts
        for conflict in info.value.conflicts:
            assert any(w in conflict for w in RULE_WORDS), conflict
    else:
        result = cm.plan(org, courses, policy=policy, time_limit=5, seed=0)
        assert cm.validate(result, org, courses, policy) == []
    # without the pre-checks, CP-SAT alone decides the same and names the rules
    out = explain_or_find(problem, budget=Budget(5.0), rng=np.random.default_rng(0))
    assert (out.status == "infeasible") == (n_valid == 0)
    if n_valid == 0:
        assert out.core and all(any(w in c for w in RULE_WORDS) for c in out.core), out.core
