"""Large-neighbourhood search: sub-problem values, improvement, validity, determinism."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.rules import check_assignment
from cohortmatch.scoring import SearchState, score
from cohortmatch.solvers.base import Budget
from cohortmatch.solvers.cpsat import _hint_counts, build_model, solve_model
from cohortmatch.solvers.heuristic import solve_heuristic
from cohortmatch.solvers.lns import (
    StallBudget,
    _base_edge_cohorts,
    neighbourhood,
    polish,
    solve_lns,
)


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
        for key, value in _hint_counts(fixed, start).items():
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
    assert a.solver == "heuristic+lns"
    assert a.cohorts == b.cohorts
    assert cm.validate(a, org, courses, policy) == []


def test_auto_uses_lns_above_the_exact_limit(monkeypatch):
    import cohortmatch.planner as planner

    monkeypatch.setattr(planner, "EXACT_LIMIT", 10)
    org, courses, policy = _request(seed=8)
    result = cm.plan(org, courses, policy=policy, time_limit=3, seed=0)
    assert result.solver == "heuristic+lns"
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
