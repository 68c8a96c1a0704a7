"""Programmes over many rounds: rounds, coverage over rounds, history, meeting rules."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.scoring import SearchState, score
from cohortmatch.scoring.bounds import upper_bound
from cohortmatch.validate import objective_of


def org4():
    people = [cm.Person(id=f"p{i}", team="abab"[i]) for i in range(4)]
    return cm.Organisation(people=people, gaps=[cm.Gap(a="a", b="b", weight=2.0)])


def test_rounds_compile_to_blocks_and_cohorts_carry_round():
    org = org4()
    courses = [cm.Course(id="c", min_size=2, max_size=2, rounds=3)]
    prob = compile_problem(org, courses)
    assert prob.n_blocks == 3 and prob.block_round.tolist() == [0, 1, 2]
    result = cm.plan(org, courses, time_limit=None, work_limit=500, seed=0)
    assert sorted({c.round for c in result.cohorts}) == [0, 1, 2]
    assert {c.id for c in result.cohorts} >= {"c-r1-1", "c-r3-2"}
    assert cm.validate(result, org, courses) == []


@pytest.mark.parametrize(("mode", "expected"), [("cover", 2.0), ("diminishing", 2.0 + 1.0 + 0.5)])
def test_coverage_counts_over_all_rounds(mode, expected):
    org = org4()
    prob = compile_problem(org, [cm.Course(id="c", min_size=2, max_size=2, rounds=2)],
                           cm.Policy(coverage=mode, decay=0.5))
    # round 1: p0+p1 (a,b) and p2+p3 (a,b): 2 bridges; round 2: p0+p2 (a,a), p1+p3 (b,b): none
    s = score(prob, np.array([0, 0, 1, 1, 2, 3, 2, 3]))
    assert s.edge_cohorts.tolist() == [2]
    assert s.objective == pytest.approx(2.0 if mode == "cover" else 3.0)
    # bridged in three cohorts over the rounds
    s = score(prob, np.array([0, 0, 1, 1, 2, 2, 3, 3]))
    assert s.edge_cohorts.tolist() == [4] and s.coverage == 1.0
    assert s.objective == pytest.approx(2.0 if mode == "cover" else 2.0 * (1 + .5 + .25 + .125))
    assert expected > 0


def test_history_counts_as_bridged_and_meetings_count():
    org = org4()
    policy = cm.Policy(max_meetings=1, coverage="diminishing", decay=0.5)
    first = cm.plan(org, [cm.Course(id="m1", min_size=2, max_size=2)], policy=policy,
                    time_limit=2, seed=0)
    assert first.metrics.objective == pytest.approx(2.0 + 1.0)  # a-b bridged twice
    nxt = [cm.Course(id="m2", min_size=2, max_size=2)]
    second = cm.plan(org, nxt, policy=policy, history=[first], time_limit=2, seed=0)
    assert cm.validate(second, org, nxt, policy, history=[first]) == []
    # p0-p1 and p2-p3 met; the best new pairs p0-p3, p1-p2 bridge a-b a 3rd and 4th time
    assert second.metrics.objective == pytest.approx(2.0 * (1 + 0.5 + 0.25 + 0.125))
    assert second.metrics.coverage == 1.0
    assert second.metrics.bound >= second.metrics.objective
    assert any("differs from the recomputed" in s for s in cm.validate(second, org, nxt, policy))
    obj, cov = objective_of(second, org, policy, history=[first])
    assert (obj, cov) == (pytest.approx(3.75), 1.0)


def test_validate_catches_a_meeting_broken_with_history():
    org = org4()
    policy = cm.Policy(max_meetings=1)
    c1 = [cm.Course(id="m1", min_size=2, max_size=2)]
    first = cm.plan(org, c1, policy=policy, time_limit=2, seed=0)
    # re-using the same plan as the next month repeats every meeting
    again = first
    problems = cm.validate(again, org, c1, policy, history=[first])
    assert any("meet 2 times, max_meetings is 1" in s for s in problems)


def test_hard_rule_is_kept_by_search_state_and_history_adds_to_edge_counts():
    org = org4()
    prob = compile_problem(org, [cm.Course(id="c", min_size=2, max_size=2)],
                           cm.Policy(max_meetings=1), history=[["p0", "p1"]])
    assert prob.history_edge_cohorts.tolist() == [1]
    st_ = SearchState(prob, np.array([0, 1, 0, 1]))  # p0+p2, p1+p3
    assert not st_.swap_allowed(1, 2)  # would seat p0 with p1 again
    assert st_.value == score(prob, np.array([0, 1, 0, 1])).objective == 2.0


def test_history_bound_is_valid():
    org = org4()
    for mode in ("cover", "diminishing", "sum"):
        prob = compile_problem(org, [cm.Course(id="c", min_size=2, max_size=2, rounds=2)],
                               cm.Policy(coverage=mode), history=[["p0", "p1"], ["p2", "p3"]])
        best = max(score(prob, np.array(a)).objective for a in
                   ([0, 0, 1, 1, 2, 2, 3, 3], [0, 1, 0, 1, 2, 3, 2, 3], [0, 1, 1, 0, 2, 2, 3, 3]))
        assert upper_bound(prob) >= best - 1e-9


def test_soft_meetings_report_repeats_and_hard_raises():
    people = [cm.Person(id=f"p{i:02d}", team="abcdef"[i % 6]) for i in range(24)]
    org = cm.Organisation(people=people)
    courses = [cm.Course(id="x", min_size=6, max_size=6, rounds=6)]
    soft = cm.Policy(max_meetings=1, meetings="soft")
    result = cm.plan(org, courses, policy=soft, time_limit=1, seed=0)
    assert len(result.repeated_meetings) > 0
    assert all(r.times >= 2 for r in result.repeated_meetings)
    assert cm.validate(result, org, courses, soft) == []
    with pytest.raises(cm.InfeasibleError, match="must each meet 30 times"):
        cm.plan(org, courses, policy=cm.Policy(max_meetings=1), time_limit=1)
    with pytest.raises(cm.InputError, match="cannot keep max_meetings"):
        cm.plan(org, courses, policy=soft, solver="cpsat", time_limit=1)
    with pytest.raises(cm.InputError, match="needs a policy with max_meetings"):
        cm.plan(org, courses, solver="golfer", time_limit=1)


@st.composite
def programmes(draw):
    n_teams = draw(st.integers(2, 5))
    size = draw(st.integers(2, 3))
    groups = draw(st.integers(2, 4))
    n = size * groups
    people = [cm.Person(id=f"p{i:02d}", team=f"t{i % n_teams}") for i in range(n)]
    pairs = [(a, b) for a in range(n_teams) for b in range(a + 1, n_teams)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
    gaps = [cm.Gap(a=f"t{a}", b=f"t{b}", weight=float(1 + (a + b) % 3)) for a, b in chosen]
    teams = [cm.Team(id=f"t{i}") for i in range(n_teams)]  # some may have nobody
    org = cm.Organisation(people=people, teams=teams, gaps=gaps)
    rounds = draw(st.integers(1, 2))
    months = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["cover", "diminishing"]))
    return org, size, rounds, months, mode


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programmes(), st.integers(0, 3))
def test_every_plan_with_rounds_and_history_validates(case, seed):
    org, size, rounds, months, mode = case
    policy = cm.Policy(max_meetings=1, meetings="soft", coverage=mode)
    history = []
    for m in range(months):
        courses = [cm.Course(id=f"m{m}", min_size=size, max_size=size, rounds=rounds)]
        result = cm.plan(org, courses, policy=policy, history=history, time_limit=0.3, seed=seed)
        assert cm.validate(result, org, courses, policy, history=history) == []
        hard = cm.Policy(max_meetings=1, coverage=mode)
        if not result.repeated_meetings:  # then it also keeps the hard rule
            assert cm.validate(result, org, courses, hard, history=history) == []
        history.append(result)
