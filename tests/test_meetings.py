"""Tests of cohortmatch.rules.meetings: pair counts, the incremental counter, counting proofs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.rules.meetings import (
    MeetingCounter,
    assignment_meetings,
    meeting_precheck,
    repeated_meetings,
)


def golf(g, p, w, *, history=(), cap=1):
    org = cm.Organisation(people=[cm.Person(id=f"g{i:03d}", team=f"t{i}") for i in range(g * p)])
    course = cm.Course(id="golf", min_size=p, max_size=p, cohorts=g, rounds=w)
    return compile_problem(org, [course], cm.Policy(max_meetings=cap), history=history)


def test_assignment_meetings_counts_rounds_and_history():
    prob = golf(2, 2, 2, history=[["g000", "g001"], ["g002", "g003", "gone"]])
    a, b, n = assignment_meetings(prob, np.array([0, 0, 1, 1, 2, 3, 2, 3]))
    got = {(int(x), int(y)): int(z) for x, y, z in zip(a, b, n, strict=True)}
    assert got == {(0, 1): 2, (2, 3): 2, (0, 2): 1, (1, 3): 1}
    a, b, n = assignment_meetings(prob, np.array([0, 0, 1, 1, 2, 3, 2, 3]), history=False)
    assert int(n.sum()) == 4


def test_repeated_meetings_lists_only_pairs_meeting_now():
    prob = golf(2, 2, 1, history=[["g000", "g001"], ["g000", "g001"], ["g002", "g003"]])
    a, b, n = repeated_meetings(prob, np.array([0, 0, 1, 1]))
    got = [(int(x), int(y), int(z)) for x, y, z in zip(a, b, n, strict=True)]
    assert got == [(0, 1, 3), (2, 3, 2)]
    a, b, n = repeated_meetings(prob, np.array([0, 1, 0, 1]))
    assert a.shape[0] == 0  # 0-1 met 2 times before, but not now


@settings(max_examples=30, deadline=None)
@given(st.lists(
    st.tuples(st.integers(0, 7), st.lists(st.integers(0, 7), max_size=5), st.booleans()),
    max_size=25,
))
def test_dense_and_sparse_counters_agree(ops):
    dense = MeetingCounter(8, np.array([1]), np.array([2]), np.array([1]), dense=True)
    sparse = MeetingCounter(8, np.array([1]), np.array([2]), np.array([1]), dense=False)
    for person, others, join in ops:
        others = np.array(sorted(set(others)), dtype=np.int64)
        for mc in (dense, sparse):
            (mc.join if join else mc.leave)(person, others)
    everyone = np.arange(8)
    for person in range(8):
        assert dense.counts(person, everyone).tolist() == sparse.counts(person, everyone).tolist()
    assert np.array_equal(dense.matrix, dense.matrix.T)


@pytest.mark.parametrize(
    ("g", "p", "w", "impossible"),
    [(5, 3, 7, False), (5, 3, 8, True), (8, 4, 10, False), (8, 4, 11, True), (3, 4, 2, True),
     (4, 4, 5, False), (4, 4, 6, True)],
)
def test_counting_bounds_for_social_golfers(g, p, w, impossible):
    assert bool(meeting_precheck(golf(g, p, w))) is impossible


def test_counting_bound_uses_history_and_names_a_person():
    history = [[f"g{i:03d}" for i in range(3 * k, 3 * k + 3)] for k in range(5)]
    out = meeting_precheck(golf(5, 3, 7, history=history))
    assert any("must each meet 14 times" in s and "at most 12" in s for s in out)
    assert not meeting_precheck(golf(5, 3, 6, history=history))


def test_history_already_over_the_cap_is_reported():
    out = meeting_precheck(golf(2, 2, 1, history=[["g000", "g001"], ["g000", "g001"]]))
    assert any("already met more than max_meetings" in s for s in out)


def test_p_greater_than_g_is_proved_impossible():
    out = meeting_precheck(golf(3, 4, 2))
    assert any("come from its 3 cohort(s)" in s for s in out)


def pairs_and_a_triple(n, w, *, history=()):
    org = cm.Organisation(people=[cm.Person(id=f"p{i:03d}", team=f"t{i}") for i in range(n)])
    course = cm.Course(id="pairs", min_size=2, max_size=3, cohorts=n // 2, rounds=w)
    return compile_problem(org, [course], cm.Policy(max_meetings=1), history=history)


@pytest.mark.parametrize(("n", "w", "impossible"),
                         [(51, 47, False), (51, 48, True), (51, 50, True), (11, 7, False),
                          (11, 8, True), (31, 27, False), (31, 28, True)])
def test_pair_count_bounds_pairs_with_a_triple(n, w, impossible):
    out = meeting_precheck(pairs_and_a_triple(n, w))
    assert bool(out) is impossible
    if impossible:  # the partner count alone (1 partner a round) does not see it
        seated = w * (n // 2 + 2)
        assert out == [f"the rounds seat at least {seated} pairs of people together, but "
                       f"max_meetings 1 allows at most {n * (n - 1) // 2} meetings over the "
                       "programme"]


def test_pair_count_uses_history():
    history = [[f"p{i:03d}", f"p{i + 1:03d}"] for i in range(0, 50, 2)]  # 25 pairs met
    assert not meeting_precheck(pairs_and_a_triple(51, 46, history=history))
    assert meeting_precheck(pairs_and_a_triple(51, 47, history=history))


def test_policy_validation():
    with pytest.raises(ValueError, match="'meetings' setting 'soft' needs max_meetings"):
        cm.Policy(meetings="soft")
    with pytest.raises(ValueError, match="max_meetings"):
        cm.Policy(max_meetings=0)
    with pytest.raises(ValueError, match="meetings"):
        cm.Policy(max_meetings=1, meetings="sometimes")
