"""Sparse team counts: the search reads team counts from the cohort member lists.

The compiled descent once kept a dense team-by-cohort count matrix and priced a move to
every cohort of the block; it now reads counts from the member lists and prices only the
cohorts where a gap neighbour is. ``_dense_pass`` below is that former kernel, written
out in Python on a dense matrix (with the same rule checks, which accept either form):
the compiled pass must make exactly the same moves and swaps, in the same order.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_lns import _assert_state_matches_rescore

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.engines.construct import construct
from cohortmatch.engines.local_search import compiled_descent, compiled_ils, kernels_cover
from cohortmatch.rules.kernel import move_ok, swap_ok
from cohortmatch.scoring import SearchState, edge_gain, score, team_move_gain
from cohortmatch.teamcounts import count_block, team_count, team_counts

EPS = 1e-9


@st.composite
def _requests(draw):
    n = draw(st.integers(8, 40))
    n_teams = draw(st.integers(2, 8))
    team = [draw(st.integers(0, n_teams - 1)) for _ in range(n)]
    people = [cm.Person(id=f"p{i:02d}", team=f"t{team[i]}") for i in range(n)]
    pairs = [(a, b) for a in range(n_teams) for b in range(a + 1, n_teams)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, min_size=1))
    gaps = [cm.Gap(a=f"t{a}", b=f"t{b}", weight=draw(st.sampled_from([0.5, 1.0, 3.0])))
            for a, b in chosen]
    org = cm.Organisation(people=people, teams=[cm.Team(id=f"t{i}") for i in range(n_teams)],
                          gaps=gaps)
    low = draw(st.integers(2, 5))
    course = cm.Course(id="c", min_size=low, max_size=low + draw(st.integers(0, 3)))
    policy = cm.Policy(mode=draw(st.sampled_from(["cover", "diminishing"])),
                       max_per_team=draw(st.sampled_from([None, 2, 3])))
    return org, [course], policy


def _dense_pass(p, R, a, members, slot, size, D, ec, order, n_swap):  # noqa: C901 - one kernel, as it was
    """One descent pass of the former kernel on a dense team-by-cohort count matrix ``D``."""
    nbr = (p.adj_indptr, p.adj_team, p.adj_edge, p.edge_weight, p.mode == "cover", float(p.decay))

    def gain_of(t, k1, k2):
        return team_move_gain(t, k1, k2, D, ec, *nbr)

    def shift(t, k1, k2):
        gain = gain_of(t, k1, k2)
        nb, eid = p.neighbours(t)
        D[t, k1] -= 1
        if D[t, k1] == 0:
            ec[eid[D[nb, k1] > 0]] -= 1
        if D[t, k2] == 0:
            ec[eid[D[nb, k2] > 0]] += 1
        D[t, k2] += 1
        return gain

    def relocate(u, k1, k2):
        last = size[k1] - 1
        moved = members[k1, last]
        members[k1, slot[u]] = moved
        slot[moved] = slot[u]
        members[k1, last] = -1
        size[k1] = last
        members[k2, size[k2]] = u
        slot[u] = size[k2]
        size[k2] += 1
        a[u] = k2

    for u in order.tolist():
        k1 = int(a[u])
        b = p.unit_block[u]
        cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
        t = int(p.unit_team[u])
        nb, eid = p.neighbours(t)
        if ce - cs < 2 or R.fixed[u] >= 0 or nb.shape[0] == 0:
            continue
        g = np.zeros(ce - cs)
        removal = 0.0
        for team, e in zip(nb.tolist(), eid.tolist(), strict=True):
            c = ec[e]
            if D[t, k1] == 1 and D[team, k1] > 0:
                c -= 1
                removal -= gain_of_edge(p, e, c)
            g[D[team, cs:ce] > 0] += gain_of_edge(p, e, c)
        g = np.where(D[t, cs:ce] > 0, removal, g + removal)
        g[k1 - cs] = 0.0
        best, best_gain = -1, EPS
        if size[k1] > p.cohort_min[k1]:
            for k in range(cs, ce):
                if g[k - cs] > best_gain and move_ok(R, u, k1, k, p.unit_team, a, D, size,
                                                     p.cohort_min, p.cohort_max):
                    best, best_gain = k, g[k - cs]
        if best >= 0:
            shift(t, k1, best)
            relocate(u, k1, best)
            continue
        tried: list[int] = []
        while len(tried) < n_swap:
            free = [k for k in range(cs, ce) if g[k - cs] > EPS and k not in tried]
            if not free:
                break
            k2 = max(free, key=lambda k: (g[k - cs], -k))
            tried.append(k2)
            done = False
            for s in range(size[k2]):
                v = int(members[k2, s])
                tv = int(p.unit_team[v])
                if tv == t or not swap_ok(R, u, v, p.unit_team, a, D):
                    continue
                first = shift(t, k1, k2)
                if first + gain_of(tv, k2, k1) > EPS:
                    shift(tv, k2, k1)
                    su, sv = slot[u], slot[v]
                    members[k1, su], members[k2, sv] = v, u
                    slot[u], slot[v] = sv, su
                    a[u], a[v] = k2, k1
                    done = True
                    break
                shift(t, k2, k1)
            if done:
                break


def gain_of_edge(p, e, c):
    return edge_gain(float(p.edge_weight[e]), int(c), p.mode == "cover", float(p.decay))


def _start(request):
    org, courses, policy = request
    try:
        problem = compile_problem(org, courses, policy)
        state = construct(problem, np.random.default_rng(0))
    except cm.InfeasibleError:
        return None
    if not kernels_cover(problem, state.assignment) or (state.rules.unit_group >= 0).any():
        return None
    return problem, state


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_requests(), st.integers(0, 2**31 - 1), st.integers(1, 3))
def test_compiled_descent_makes_the_moves_of_the_dense_kernel(request, seed, n_swap):
    start = _start(request)
    if start is None:
        return
    problem, state = start
    p, R = problem, state.rules
    a, members, slot = state.assignment.copy(), state.members.copy(), state.slot.copy()
    size = state.size.copy()
    D = np.zeros((p.n_teams, p.n_cohorts), np.int64)
    np.add.at(D, (p.unit_team, a), 1)
    ec = state.edge_cohorts.copy()
    rng = np.random.default_rng(seed)
    for _ in range(3):
        order = rng.permutation(p.n_units)
        compiled_descent(state, order, swap_candidates=n_swap)
        _dense_pass(p, R, a, members, slot, size, D, ec, order, n_swap)
        assert np.array_equal(state.assignment, a)
        assert np.array_equal(state.members, members)
        assert np.array_equal(state.edge_cohorts, ec)
        assert state.value == pytest.approx(score(p, a).objective, abs=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_requests(), st.integers(0, 2**31 - 1))
def test_ils_and_python_moves_keep_counts_equal_to_a_recount(request, seed):
    """After compiled ILS iterations and Python moves and swaps, the sparse counts equal a
    dense recount and the value a full re-score."""
    start = _start(request)
    if start is None:
        return
    problem, state = start
    rng = np.random.default_rng(seed)
    p = problem
    for _ in range(4):
        compiled_ils(state, rng, 5)
        u, v = (int(x) for x in rng.integers(0, p.n_units, 2))
        if state.swap_allowed(u, v):
            before, delta = state.value, state.swap_delta(u, v)
            state.swap(u, v)
            assert state.value - before == pytest.approx(delta, abs=1e-9)
        k = int(rng.integers(0, p.n_cohorts))
        if state.move_mask(u, np.array([k]))[0]:
            expect = state.move_gain(u, k)
            assert state.move(u, k) == pytest.approx(expect, abs=1e-9)
        _assert_state_matches_rescore(p, state)  # counts against a dense recount, too


def test_team_counts_read_the_member_lists():
    org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="aabbc"[i]) for i in range(5)])
    prob = compile_problem(org, [cm.Course(id="c", min_size=2, max_size=3)])
    state = SearchState(prob, np.array([0, 0, 1, 0, 1]))
    C = team_counts(prob, state.members, state.size)
    assert [team_count(C, t, k) for t in range(3) for k in range(2)] == [2, 0, 1, 1, 0, 1]
    assert count_block(C, np.array([2, 0]), np.array([1, 0])).tolist() == [[1, 0], [0, 2]]
    assert state.cohorts_of_teams(np.array([1])).tolist() == [0, 1]


def test_a_million_people_state_needs_no_team_by_cohort_matrix():
    """The footprint the size guard checks no longer counts teams x cohorts (issue 17:
    140,132 teams x 62,500 cohorts once needed 16.3 GiB)."""
    from cohortmatch.guards import problem_footprint

    org = cm.Organisation(people=[cm.Person(id=f"p{i:05d}", team=f"t{i // 2}") for i in range(20_000)])
    prob = compile_problem(org, [cm.Course(id="c", min_size=2, max_size=2)])
    assert sum(nbytes for nbytes, _ in problem_footprint(prob).values()) < 2**20
    state = SearchState(prob, np.repeat(np.arange(prob.n_cohorts), 2))
    assert state.value == 0.0 and state.team_count(0, 0) == 2
