"""Large-neighbourhood search: sub-problem values, improvement, validity, determinism."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.engines.base import Budget
from cohortmatch.engines.construct import construct
from cohortmatch.engines.cpsat.model import build_model, hint_counts
from cohortmatch.engines.cpsat.solve import solve_model
from cohortmatch.engines.heuristic import solve_heuristic
from cohortmatch.engines.lns import (
    StallBudget,
    _base_edge_cohorts,
    neighbourhood,
    polish,
    solve_lns,
)
from cohortmatch.engines.local_search import (
    _compilable,
    compiled_descent,
    compiled_ils,
    local_search,
)
from cohortmatch.rules import check_assignment
from cohortmatch.scoring import SearchState, score
from conftest import compile_sized, requests


def _request(n: int = 120, n_teams: int = 15, seed: int = 0, mode: str = "diminishing"):
    rng = np.random.default_rng(seed)
    people = []
    for i in range(n):
        manager = f"p{int(rng.integers(i)):03d}" if i > 0 and rng.random() < 0.2 else None
        people.append(
            cm.Person(id=f"p{i:03d}", team=f"t{int(rng.integers(n_teams)):02d}", manager=manager)
        )
    teams = sorted({p.team for p in people})
    gaps = [
        cm.Gap(a=a, b=b, weight=float(rng.uniform(0.5, 3)))
        for a, b in itertools.combinations(teams, 2)
        if rng.random() < 0.25
    ]
    org = cm.Organisation(people=people, gaps=gaps)
    courses = [
        cm.Course(id="c", min_size=5, max_size=6),
        cm.Course(
            id="d", min_size=6, max_size=8, rounds=2, participants=tuple(p.id for p in people[:60])
        ),
    ]
    return org, courses, cm.Policy(coverage=mode, max_per_team=2, decay=0.5)


def _start(problem, seed=0):
    return solve_heuristic(
        problem, budget=Budget(None, work_limit=300), rng=np.random.default_rng(seed)
    ).assignment


def test_neighbourhood_picks_distinct_cohorts_of_the_block():
    org, courses, policy = _request()
    problem = compile_problem(org, courses, policy)
    state = SearchState(problem, _start(problem))
    rng = np.random.default_rng(1)
    for b in range(problem.n_blocks):
        cs, ce = problem.block_of_cohort_range(b)
        for size in (1, 3, ce - cs, ce - cs + 5):
            freed = neighbourhood(state, b, size, rng)
            assert freed.shape[0] == min(size, ce - cs) == np.unique(freed).shape[0]
            assert np.all((freed >= cs) & (freed < ce))


@pytest.mark.parametrize("mode", ["cover", "diminishing", "sum"])
def test_sub_problem_objective_is_the_change_in_score(mode):
    """Fixed cohorts shift the value of bridges: the sub-model must know by how much."""
    org, courses, policy = _request(mode=mode, seed=3)
    problem = compile_problem(org, courses, policy)
    start = _start(problem)
    state = SearchState(problem, start)
    rng = np.random.default_rng(0)
    for _ in range(4):
        freed = neighbourhood(state, 0, 3, rng)
        units = np.concatenate([state.members_of(int(k)) for k in freed])
        base = _base_edge_cohorts(state, freed)
        model = build_model(problem, units=units, cohorts=freed, base_edge_cohorts=base, hint=start)
        out = solve_model(model, time_limit=10, workers=1)
        assert out.status == "optimal"
        # the value of the current assignment inside the same sub-model
        fixed = build_model(problem, units=units, cohorts=freed, base_edge_cohorts=base)
        for key, value in hint_counts(fixed, start).items():
            fixed.model.add(fixed.n[key] == value)
        current = solve_model(fixed, time_limit=10, workers=1)
        assert current.status == "optimal"
        new = start.copy()
        new[units] = out.assignment[units]
        assert check_assignment(problem, new).total == 0
        delta = score(problem, new).objective - score(problem, start).objective
        assert delta == pytest.approx(out.objective - current.objective, abs=1e-6)
        assert delta >= -1e-9


@pytest.mark.parametrize("mode", ["cover", "diminishing", "sum"])
def test_lns_improves_or_keeps_and_stays_valid(mode):
    org, courses, policy = _request(mode=mode, seed=5)
    problem = compile_problem(org, courses, policy)
    start = _start(problem)
    before = score(problem, start).objective
    result = solve_lns(
        problem,
        start=start,
        budget=Budget(None, work_limit=150),
        rng=np.random.default_rng(0),
        workers=1,
    )
    assert check_assignment(problem, result.assignment).total == 0
    after = score(problem, result.assignment).objective
    assert after >= before - 1e-9
    assert result.notes and result.notes[0].startswith("LNS:")


def test_lns_finds_improvements_on_a_weak_start():
    org, courses, policy = _request(mode="diminishing", seed=6)
    problem = compile_problem(org, courses, policy)
    weak = solve_heuristic(
        problem, budget=Budget(None, work_limit=1), rng=np.random.default_rng(0)
    ).assignment
    result = solve_lns(
        problem,
        start=weak,
        budget=Budget(None, work_limit=200),
        rng=np.random.default_rng(0),
        workers=1,
    )
    assert score(problem, result.assignment).objective > score(problem, weak).objective + 1e-6


def test_plan_lns_is_valid_and_repeatable_without_time_limit():
    org, courses, policy = _request(seed=7)
    a = cm.plan(org, courses, policy=policy, solver="lns", time_limit=None, work_limit=300, seed=2)
    b = cm.plan(org, courses, policy=policy, solver="lns", time_limit=None, work_limit=300, seed=2)
    assert a.solver == "lns"
    assert a.cohorts == b.cohorts
    assert cm.validate(a, org, courses, policy) == []


def test_auto_uses_lns_above_the_exact_limit(monkeypatch):
    import cohortmatch.engines.registry as registry

    monkeypatch.setattr(registry, "EXACT_LIMIT", 10)
    org, courses, policy = _request(seed=8)
    result = cm.plan(org, courses, policy=policy, time_limit=3, seed=0)
    assert result.solver == "lns"
    assert any("auto: heuristic + large-neighbourhood search" in n for n in result.notes)
    assert cm.validate(result, org, courses, policy) == []
    assert result.elapsed <= 3.0 + 0.1


def test_stall_budget_runs_out_only_when_gains_fall_below_the_rate():
    b = StallBudget(Budget(None, work_limit=1000), window=10, min_rate=0.1)
    b.report(0.0)
    for i in range(1, 4):  # gains 2 per 5 work units: 0.4 per unit > 0.1
        assert b.spend(5)
        b.report(2.0 * i)
    assert not b.stalled
    assert b.rate() == pytest.approx(0.4)
    for _ in range(3):  # no gain over a whole window: stalled
        b.spend(5)
        b.report(6.0)
    assert b.stalled
    assert not b.spend(0)
    with_limit = StallBudget(Budget(None, work_limit=10), window=100)
    assert with_limit.spend(10) and not with_limit.spend(1)  # the parent's work limit holds


def test_polish_probes_lns_first_after_a_stalled_local_search():
    org, courses, policy = _request(mode="diminishing", seed=6)
    problem = compile_problem(org, courses, policy)
    start = _start(problem)
    result = polish(
        problem,
        start=start,
        budget=Budget(None, work_limit=400),
        rng=np.random.default_rng(0),
        workers=1,
        local_rate=0.0,
    )
    assert check_assignment(problem, result.assignment).total == 0
    assert score(problem, result.assignment).objective >= score(problem, start).objective - 1e-9
    lns_note = next(n for n in result.notes if n.startswith("polish: LNS"))
    assert not lns_note.startswith("polish: LNS 0 ")


# ------------------------------------------------------------ compiled local search



def _assert_state_matches_rescore(problem, state):
    full = score(problem, state.assignment)
    assert state.value == pytest.approx(full.objective, abs=1e-9)
    assert np.array_equal(state.edge_cohorts, full.edge_cohorts)
    placed = state.assignment >= 0
    counts = np.zeros((problem.n_teams, problem.n_cohorts), np.int64)
    np.add.at(counts, (problem.unit_team[placed], state.assignment[placed]), 1)
    assert np.array_equal(counts, state.count_block(np.arange(problem.n_teams), np.arange(problem.n_cohorts)))
    assert np.array_equal(np.bincount(state.assignment[placed], minlength=problem.n_cohorts),
                          state.size)
    for k in range(problem.n_cohorts):
        members = sorted(state.members_of(k).tolist())
        assert members == np.flatnonzero(state.assignment == k).tolist()


def _compiled_start(request, data):
    """(problem, constructed state, rng, whether it keeps every rule) for the kernels, or None."""
    org, courses, policy = request
    try:
        problem = compile_sized(org, courses, policy)
        state = construct(problem, np.random.default_rng(0))
    except cm.InfeasibleError:
        return None
    if not _compilable(state):
        return None
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    return problem, state, rng, check_assignment(problem, state.assignment).total == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(max_people=14, modes=("cover", "diminishing")), st.data())
def test_compiled_descent_keeps_the_state_equal_to_a_full_rescore(request, data):
    """The kernel's incremental gains, counts and members agree with scoring.score."""
    start = _compiled_start(request, data)
    if start is None:
        return
    problem, state, rng, valid = start
    for _ in range(data.draw(st.integers(1, 4))):
        before = state.value
        n_swap = data.draw(st.integers(1, 3))
        visited, work, _ = compiled_descent(
            state, rng.permutation(problem.n_units), swap_candidates=n_swap
        )
        assert visited == problem.n_units and work >= visited
        assert state.value >= before - 1e-9  # only improving moves and swaps
        _assert_state_matches_rescore(problem, state)
        if valid:
            assert check_assignment(problem, state.assignment).total == 0


@pytest.mark.parametrize("mode", ["cover", "diminishing"])
def test_compiled_descent_ends_where_no_move_gains(mode):
    """At the kernel's local optimum, SearchState finds no improving feasible move either."""
    org, courses, policy = _request(n=240, n_teams=30, mode=mode, seed=4)
    policy = policy.model_copy(update={"max_per_team": 3})
    problem = compile_problem(org, courses, policy)
    state = construct(problem, np.random.default_rng(0))
    assert _compilable(state)
    rng = np.random.default_rng(1)
    for _ in range(100):
        if compiled_descent(state, rng.permutation(problem.n_units))[2] == 0:
            break
    state.reset(state.assignment)
    assert check_assignment(problem, state.assignment).total == 0
    for u in range(problem.n_units):
        gains = state.move_gains(u)
        assert not np.any(state.move_mask(u) & (gains > 1e-9)), u


def test_compiled_descent_stops_at_the_work_limit():
    org, courses, policy = _request(mode="cover", seed=2)
    problem = compile_problem(org, courses, policy)
    state = construct(problem, np.random.default_rng(0))
    visited, work, _ = compiled_descent(state, np.arange(problem.n_units), work_limit=7)
    assert visited <= 7 and work <= 7 + 12  # a unit's swap trials may finish past it
    _assert_state_matches_rescore(problem, state)


def test_local_search_is_repeatable_and_the_python_path_stays_for_meetings():
    org, courses, policy = _request(mode="diminishing", seed=9)
    problem = compile_problem(org, courses, policy)
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(3)
        state = construct(problem, rng)
        best = local_search(state, rng, Budget(None, work_limit=5000))
        assert check_assignment(problem, best).total == 0
        runs.append(best)
    assert np.array_equal(runs[0], runs[1])
    assert state.value == pytest.approx(score(problem, state.assignment).objective)
    met = compile_problem(org, courses[:1], policy.model_copy(update={"max_meetings": 2}))
    assert not _compilable(SearchState(met, construct(met, np.random.default_rng(0)).assignment))
    summed = compile_problem(org, courses, policy.model_copy(update={"mode": "sum"}))
    assert not _compilable(construct(summed, np.random.default_rng(0)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(max_people=14, modes=("cover", "diminishing")), st.data())
def test_compiled_ils_never_loses_value_and_undoes_exactly(request, data):
    """Kept or undone, every ILS iteration leaves a state equal to a full rescore."""
    start = _compiled_start(request, data)
    if start is None:
        return
    problem, state, rng, valid = start
    for _ in range(data.draw(st.integers(1, 3))):
        before = state.value
        done, work, kept = compiled_ils(
            state, rng, data.draw(st.integers(1, 30)), strength=data.draw(st.integers(1, 3))
        )
        assert state.value >= before - 1e-9 and kept <= done
        _assert_state_matches_rescore(problem, state)
        if valid:
            assert check_assignment(problem, state.assignment).total == 0


def test_compiled_ils_improves_a_converged_descent():
    org, courses, policy = _request(n=240, n_teams=30, mode="diminishing", seed=4)
    problem = compile_problem(org, courses, policy)
    state = construct(problem, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    while compiled_descent(state, rng.permutation(problem.n_units))[2]:
        pass
    converged = state.value
    _, _, kept = compiled_ils(state, rng, 3000)
    assert kept > 0 and state.value > converged + 1e-6
    _assert_state_matches_rescore(problem, state)
    assert check_assignment(problem, state.assignment).total == 0


@pytest.mark.parametrize("work_limit", [None, 900])
def test_compiled_ils_in_slices_equals_one_kernel_call(monkeypatch, work_limit):
    """Slicing the iterations (however the slices fall) gives the state, counts and value
    of one call over all of them, also when the work limit ends the run inside a slice."""
    from cohortmatch.engines import local_search as ls

    org, courses, policy = _request(n=240, n_teams=30, mode="diminishing", seed=4)
    problem = compile_problem(org, courses, policy)
    start = construct(problem, np.random.default_rng(0)).assignment
    runs = []
    for first, seconds in [(10**9, 1.0), (3, 1e-9), (16, 0.02)]:  # one call, tiny slices, default
        monkeypatch.setattr(ls, "SLICE_FIRST", first)
        monkeypatch.setattr(ls, "SLICE_SECONDS", seconds)
        state = SearchState(problem, start.copy())
        out = compiled_ils(state, np.random.default_rng(7), 700, work_limit=work_limit)
        runs.append((out, state.assignment.copy(), state.value))
    (out, a, v), *others = runs
    assert (out[0] == 700) == (work_limit is None) and out[2] > 0  # 900 work ends it early
    for o, b, w in others:
        assert o == out and np.array_equal(a, b) and w == pytest.approx(v, abs=1e-9)


def test_compiled_ils_ends_within_a_slice_once_halted():
    import threading

    org, courses, policy = _request(n=240, n_teams=30, mode="diminishing", seed=4)
    problem = compile_problem(org, courses, policy)
    state = SearchState(problem, construct(problem, np.random.default_rng(0)).assignment)
    halt = threading.Event()
    halt.set()
    done, _, _ = compiled_ils(state, np.random.default_rng(7), 10_000, halt=halt)
    assert 0 < done < 10_000
    _assert_state_matches_rescore(problem, state)
