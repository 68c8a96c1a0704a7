"""Affine constructions of repeat-free schedules, alone and inside the golfer engine."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schedules import pair_counts

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.engines.base import Budget
from cohortmatch.engines.designs import affine_parameters, affine_schedule, library, max_affine_weeks
from cohortmatch.engines.golfer import excess_meetings, solve_golfer
from cohortmatch.rules import check_assignment

NOTE = "construction (affine:"


def golf(g, p, w, *, policy=None, teams=None, gaps=(), history=()):
    teams = teams or [f"g{i:03d}" for i in range(g * p)]
    people = [cm.Person(id=f"g{i:03d}", team=teams[i]) for i in range(g * p)]
    org = cm.Organisation(people=people, gaps=list(gaps))
    courses = [cm.Course(id="golf", min_size=p, max_size=p, cohorts=g, rounds=w)]
    return org, courses, policy or cm.Policy(max_meetings=1)


@pytest.mark.parametrize(
    ("g", "p", "w"),
    [(8, 4, 9), (4, 4, 5), (3, 3, 4), (9, 3, 13), (5, 5, 6), (8, 8, 9), (16, 4, 21), (2, 2, 3)],
)
def test_schedule_meets_every_pair_at_most_once(g, p, w):
    s = affine_schedule(g, p, w, seed=0)
    assert s.groups.shape == (w, g * p)
    for week in s.groups:
        assert np.bincount(week, minlength=g).tolist() == [p] * g
    met = pair_counts(s.groups)
    assert max(met.values()) == 1
    assert len(met) == w * g * p * (p - 1) // 2


@settings(max_examples=20, deadline=None)
@given(case=st.sampled_from([(8, 4, 9), (4, 4, 5), (9, 3, 13), (4, 2, 7), (9, 9, 10), (16, 4, 12)]),
       seed=st.integers(0, 2**32 - 1))
def test_any_seed_gives_a_repeat_free_partition(case, seed):
    g, p, w = case
    s = affine_schedule(g, p, w, seed=seed)
    assert max(pair_counts(s.groups).values()) == 1
    assert all(np.bincount(week, minlength=g).tolist() == [p] * g for week in s.groups)


def test_parameters_and_week_bounds():
    assert affine_parameters(8, 4) == (2, 5, 2)
    assert affine_parameters(8, 8) == (2, 6, 3)
    assert affine_parameters(9, 3) == (3, 3, 1)
    assert affine_parameters(7, 7) == (7, 2, 1)
    for g, p in [(6, 4), (5, 3), (10, 10), (4, 3), (1, 4), (3, 1)]:
        assert affine_parameters(g, p) is None
    assert max_affine_weeks(2, 5, 2) == 9  # not the counting bound 10 (Beutelspacher)
    assert max_affine_weeks(2, 6, 2) == 21 and max_affine_weeks(2, 6, 3) == 9
    assert max_affine_weeks(3, 3, 1) == 13 and max_affine_weeks(2, 5, 3) == 1


@pytest.mark.parametrize(("g", "p", "w"), [(8, 4, 10), (4, 4, 6), (3, 3, 5), (6, 4, 6), (2, 4, 2)])
def test_out_of_reach_gives_none(g, p, w):
    assert affine_schedule(g, p, w, seed=0) is None


def test_too_many_subspaces_are_not_enumerated():
    budget = Budget(time_limit=None, work_limit=10**6)
    assert affine_schedule(16, 16, 3, budget=budget, seed=0) is None  # 200,787 4-subspaces
    assert budget.work == 0


def test_budget_ends_the_search():
    assert affine_schedule(8, 4, 9, budget=Budget(time_limit=None, work_limit=5), seed=0) is None
    assert affine_schedule(8, 4, 9, budget=Budget(time_limit=None, work_limit=50), seed=0)


def test_same_seed_same_schedule():
    a, b = (affine_schedule(16, 4, 21, seed=7).groups for _ in range(2))
    assert np.array_equal(a, b)
    assert len({affine_schedule(16, 4, 21, seed=s).groups.tobytes() for s in range(4)}) > 1


def test_plan_8_4_9_from_the_construction():
    org, courses, policy = golf(8, 4, 9)
    plan = cm.plan(org, courses, policy=policy, time_limit=20, seed=0)
    assert plan.repeated_meetings == ()
    assert cm.validate(plan, org, courses, policy) == []
    assert any(n.startswith("golfer: repeat-free schedule from a construction (affine: 9 2-dim "
                            "subspaces of GF(2)^5 meeting pairwise only in 0)") for n in plan.notes)


def test_plan_is_repeatable():
    org, courses, policy = golf(4, 4, 5)
    plans = [cm.plan(org, courses, policy=policy, time_limit=None, work_limit=5_000, seed=3)
             for _ in range(2)]
    assert [c.members for c in plans[0].cohorts] == [c.members for c in plans[1].cohorts]


def test_gap_value_is_improved_after_the_construction():
    teams = [f"t{i % 4}" for i in range(16)]
    gaps = [cm.Gap(a="t0", b="t1", weight=3.0), cm.Gap(a="t2", b="t3", weight=1.0)]
    org, courses, policy = golf(4, 4, 5, teams=teams, gaps=gaps)
    plan = cm.plan(org, courses, policy=policy, time_limit=None, work_limit=20_000, seed=1)
    assert any(NOTE in n for n in plan.notes)
    assert cm.validate(plan, org, courses, policy) == []
    assert plan.metrics.coverage == 1.0


SOFT = cm.Policy(max_meetings=1, meetings="soft")
BUILT = "golfer: repeat-free schedule from a construction ("
STARTED = "golfer: search started from a construction ("


def _solve(org, courses, policy, history=(), work=20_000):
    prob = compile_problem(org, courses, policy, history=history)
    res = solve_golfer(prob, budget=Budget(time_limit=None, work_limit=work),
                       rng=np.random.default_rng(0))
    return prob, res


@pytest.mark.parametrize(
    ("g", "p", "w", "policy", "history"),
    [
        (7, 4, 9, SOFT, ()),  # 28 golfers: the search fails, base rounds under Z_9 do not
        (4, 4, 3, cm.Policy(max_meetings=2), ()),  # any cap: a repeat-free plan keeps it
        (4, 4, 2, SOFT, [["g000", "g001"]]),  # history: a labelling that avoids it
    ],
)
def test_construction_plans_repeat_free(g, p, w, policy, history):
    org, courses, policy = golf(g, p, w, policy=policy)
    prob, res = _solve(org, courses, policy, history, work=400_000)
    assert any(n.startswith(BUILT) for n in res.notes)
    assert excess_meetings(prob, res.assignment) == 0
    assert not check_assignment(prob, res.assignment)


def test_construction_breaking_the_team_cap_is_a_repaired_start():
    teams = [f"t{i // 4}" for i in range(16)]
    org, courses, policy = golf(4, 4, 3, policy=cm.Policy(max_meetings=1, max_per_team=1,
                                                          meetings="soft"), teams=teams)
    prob, res = _solve(org, courses, policy, work=50_000)
    assert any(n.startswith(STARTED) for n in res.notes)
    assert not check_assignment(prob, res.assignment)  # team cap kept
    assert excess_meetings(prob, res.assignment) == 0


def test_a_quick_search_comes_before_the_constructions_that_search():
    org, courses, policy = golf(10, 10, 3)  # the search needs well under a second
    prob = compile_problem(org, courses, policy)
    res = solve_golfer(prob, budget=Budget(time_limit=30), rng=np.random.default_rng(0))
    assert res.notes == [] and excess_meetings(prob, res.assignment) == 0


def test_8_4_10_from_the_invariant_construction():
    org, courses, policy = golf(8, 4, 10)  # open until 2004 (Aguado)
    prob, res = _solve(org, courses, policy, work=100_000)
    assert any(n.startswith(BUILT + "invariant") for n in res.notes)
    assert excess_meetings(prob, res.assignment) == 0
    assert not check_assignment(prob, res.assignment)


def test_search_when_no_construction_fits(monkeypatch):
    # Without the invariant construction none of the others reaches 8-4-10.
    monkeypatch.setattr(library, "CONSTRUCTIONS",
                        tuple(c for c in library.CONSTRUCTIONS if c.name != "invariant"))
    org, courses, policy = golf(8, 4, 10, policy=SOFT)
    prob, res = _solve(org, courses, policy, work=40_000)
    assert not any("construction" in n for n in res.notes)
    assert np.bincount(res.assignment, minlength=prob.n_cohorts).tolist() == [4] * 80
    assert not check_assignment(prob, res.assignment)


def test_no_construction_for_one_round_or_several_courses():
    org, courses, policy = golf(4, 4, 1)
    assert not any("construction" in n for n in _solve(org, courses, policy)[1].notes)
    two = [cm.Course(id=c, min_size=4, max_size=4, cohorts=4, rounds=2) for c in ("a", "b")]
    assert not any("construction" in n for n in _solve(org, two, policy)[1].notes)


def test_construction_can_be_turned_off():
    org, courses, policy = golf(4, 4, 5)
    prob = compile_problem(org, courses, policy)
    budget = Budget(time_limit=None, work_limit=200_000)
    res = solve_golfer(prob, budget=budget, rng=np.random.default_rng(0), construction=False)
    assert not any(NOTE in n for n in res.notes)
    assert excess_meetings(prob, res.assignment) == 0
