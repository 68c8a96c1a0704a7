"""The scoring core: exact small cases, and incremental == full re-scoring."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.scoring import SearchState, score
from conftest import compile_sized, requests


def small_problem(mode="cover", decay=0.5):
    # teams a, b, c with 2 people each; gaps a-b (2), b-c (1), a-c (4)
    org = cm.Organisation(
        people=[cm.Person(id=f"p{i}", team="aabbcc"[i]) for i in range(6)],
        gaps=[cm.Gap(a="a", b="b", weight=2.0), cm.Gap(a="b", b="c", weight=1.0),
              cm.Gap(a="a", b="c", weight=4.0)],
    )
    return compile_problem(org, [cm.Course(id="c", min_size=3, max_size=3)],
                           cm.Policy(coverage=mode, decay=decay))


@pytest.mark.parametrize(
    ("mode", "assignment", "expected"),
    [
        ("cover", [0, 1, 0, 1, 0, 1], 7.0),        # both cohorts hold a, b, c
        ("cover", [0, 0, 1, 1, 0, 1], 5.0),        # {a,a,c} {b,b,c}: a-c and b-c
        ("diminishing", [0, 1, 0, 1, 0, 1], 10.5),  # every gap bridged twice: 7 * 1.5
        ("sum", [0, 1, 0, 1, 0, 1], 14.0),         # one pair across each gap per cohort
        ("sum", [0, 0, 1, 1, 0, 1], 4 * 2 + 1 * 2),
    ],
)
def test_exact_values(mode, assignment, expected):
    assert score(small_problem(mode), np.array(assignment)).objective == pytest.approx(expected)


def test_coverage_and_unassigned_units():
    prob = small_problem()
    s = score(prob, np.array([0, -1, -1, -1, 0, -1]))
    assert s.objective == 4.0 and s.bridged_edges == 1
    assert s.coverage == pytest.approx(4.0 / 7.0)
    assert s.edge_cohorts.tolist() == [0, 1, 0]  # edges sorted (a,b), (a,c), (b,c)


def test_move_gains_match_moves():
    prob = small_problem("diminishing")
    st_ = SearchState(prob, np.array([0, 0, 1, 1, 0, 1]))
    gains = st_.move_gains(0)
    for k in range(prob.n_cohorts):
        assert gains[k] == pytest.approx(st_.move_gain(0, k))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(max_people=14), st.data())
def test_incremental_equals_full_rescore(request, data):
    org, courses, policy = request
    try:
        prob = compile_sized(org, courses, policy)
    except cm.InfeasibleError:
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    assignment = rng.integers(-1, prob.n_cohorts, prob.n_units)
    state = SearchState(prob, assignment)
    assert state.value == pytest.approx(score(prob, state.assignment).objective)
    for _ in range(data.draw(st.integers(1, 30))):
        u = int(rng.integers(prob.n_units))
        if rng.random() < 0.5:
            k = int(rng.integers(-1, prob.n_cohorts))
            predicted = state.move_gain(u, k)
            if k >= 0 and state.assignment[u] >= 0:
                cs = prob.block_cohorts[prob.unit_block[u]]
                assert state.move_gains(u)[k - cs] == pytest.approx(predicted)
            before = state.value
            state.move(u, k)
            assert state.value - before == pytest.approx(predicted)
        else:
            v = int(rng.integers(prob.n_units))
            predicted = state.swap_delta(u, v)
            before = state.value
            state.swap(u, v)
            assert state.value - before == pytest.approx(predicted)
        full = score(prob, state.assignment)
        assert state.value == pytest.approx(full.objective, abs=1e-9)
        assert np.array_equal(state.edge_cohorts, full.edge_cohorts)
        assert np.array_equal(np.bincount(state.assignment[state.assignment >= 0],
                                          minlength=prob.n_cohorts), state.size)
        for k in range(prob.n_cohorts):
            assert sorted(state.members_of(k).tolist()) == np.flatnonzero(state.assignment == k).tolist()


@settings(max_examples=100, deadline=None)
@given(requests(max_people=14), st.integers(0, 2**32 - 1))
def test_bridges_match_a_naive_count(request, seed):
    from collections import Counter

    from cohortmatch.scoring import bridges

    org, courses, policy = request
    try:
        prob = compile_sized(org, courses, policy)
    except cm.InfeasibleError:
        return
    a = np.random.default_rng(seed).integers(-1, prob.n_cohorts, prob.n_units)
    expected = set()
    for k in range(prob.n_cohorts):
        teams = Counter(prob.unit_team[a == k].tolist())
        for e in range(prob.n_edges):
            x, y = int(prob.edge_a[e]), int(prob.edge_b[e])
            if teams[x] and teams[y]:
                expected.add((k, e, teams[x] * teams[y]))
    got = set(zip(*(x.tolist() for x in bridges(prob, a)), strict=True))
    assert got == expected
