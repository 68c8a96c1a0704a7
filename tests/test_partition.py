"""Partition search: parts cover every cohort once, workers keep every rule, no value lost."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.engines.base import Budget
from cohortmatch.engines.heuristic import solve_heuristic
from cohortmatch.engines.partition import applies, partition, solve_partition
from cohortmatch.rules import check_assignment
from cohortmatch.scoring import score
from cohortmatch.synthetic import org_chart
from conftest import compile_sized


def _problem(people: int = 700, seed: int = 1, mode: str = "diminishing"):
    """Three blocks (a course, and a second one over two rounds), team cap, managers apart."""
    org = org_chart(people, seed=seed)
    ids = tuple(p.id for p in org.people)
    courses = [
        cm.Course(id="a", min_size=6, max_size=8),
        cm.Course(id="b", min_size=5, max_size=7, rounds=2, participants=ids[: people // 2]),
    ]
    policy = cm.Policy(coverage=mode, max_per_team=2)
    return compile_problem(org, courses, policy)


def _descended(problem, seed: int = 0) -> np.ndarray:
    """A valid assignment at the end of the heuristic's descent (before perturbation)."""
    return solve_heuristic(
        problem, budget=Budget(None, 20_000), rng=np.random.default_rng(seed), perturb=False
    ).assignment


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_partition_cuts_each_block_into_parts_that_cover_it_once(workers):
    problem = _problem()
    part = partition(problem, workers, np.random.default_rng(workers))
    K = problem.n_cohorts
    assert sorted(part.order.tolist()) == list(range(K))
    bc = problem.block_cohorts
    for b in range(problem.n_blocks):  # a block keeps its range, shuffled
        assert sorted(part.order[bc[b] : bc[b + 1]].tolist()) == list(range(bc[b], bc[b + 1]))
        assert {int(bc[b]), int(bc[b + 1])} <= set(part.parts.tolist())
    sizes = np.diff(part.parts[:-1])
    assert (sizes >= 1).all() and part.parts[-1] == part.parts[-2] == K  # and one empty part
    assert set(part.owner.tolist()) == set(range(min(workers, part.n_parts)))
    load = np.bincount(part.owner, weights=sizes, minlength=workers)
    assert load.max() - load.min() <= sizes.max()


@pytest.mark.parametrize("mode", ["cover", "diminishing"])
@pytest.mark.parametrize("workers", [1, 2])
def test_partition_search_keeps_every_rule_and_never_loses_value(mode, workers):
    problem = _problem(mode=mode)
    start = _descended(problem)
    assert applies(problem, start)
    result = solve_partition(
        problem, start=start, budget=Budget(None, 300_000), rng=np.random.default_rng(0),
        workers=workers,
    )
    assert check_assignment(problem, result.assignment).total == 0
    assert score(problem, result.assignment).objective >= score(problem, start).objective - 1e-9
    assert "partition search:" in result.notes[0]


def test_partition_search_improves_a_converged_descent():
    problem = _problem(mode="diminishing", seed=3)
    start = _descended(problem)
    result = solve_partition(
        problem, start=start, budget=Budget(None, 300_000), rng=np.random.default_rng(1),
        workers=2,
    )
    assert score(problem, result.assignment).objective > score(problem, start).objective + 1e-6


@pytest.mark.parametrize("workers", [1, 2])
def test_partition_search_with_a_work_limit_is_repeatable(workers):
    problem = _problem(seed=2)
    start = _descended(problem)

    def run() -> np.ndarray:
        return solve_partition(
            problem, start=start, budget=Budget(None, 200_000), rng=np.random.default_rng(5),
            workers=workers,
        ).assignment

    assert np.array_equal(run(), run())


def test_partition_search_stops_at_the_time_limit():
    problem = _problem()
    start = _descended(problem)
    budget = Budget(time_limit=0.5)
    solve_partition(problem, start=start, budget=budget, rng=np.random.default_rng(0), workers=2)
    assert budget.elapsed() < 1.5


def test_partition_search_does_not_apply_to_sum_mode():
    problem = _problem(mode="sum")
    assert not applies(problem, _descended(problem))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    people=st.integers(80, 400), seed=st.integers(0, 10_000), workers=st.integers(1, 3),
    mode=st.sampled_from(["cover", "diminishing"]), cap=st.sampled_from([1, 2, None]),
)
def test_partition_search_plans_pass_an_independent_check(people, seed, workers, mode, cap):
    """Random org charts, caps and worker counts: the plan keeps every rule (validate)."""
    org = org_chart(people, seed=seed)
    courses = [cm.Course(id="c", min_size=4, max_size=6)]
    policy = cm.Policy(coverage=mode, max_per_team=cap)
    try:
        problem = compile_sized(org, courses, policy)
        start = _descended(problem, seed)
    except cm.InfeasibleError:
        return
    result = solve_partition(
        problem, start=start, budget=Budget(None, 30_000), rng=np.random.default_rng(seed),
        workers=workers,
    )
    assert check_assignment(problem, result.assignment).total == 0
    assert score(problem, result.assignment).objective >= score(problem, start).objective - 1e-9
    sizes = np.bincount(result.assignment, minlength=problem.n_cohorts)
    assert ((sizes >= 4) & (sizes <= 6)).all()


def test_plan_lns_runs_partition_search_and_is_repeatable_with_two_workers():
    org = org_chart(700, seed=4)
    courses = [cm.Course(id="c", min_size=6, max_size=8)]
    policy = cm.Policy(coverage="diminishing", max_per_team=2)

    def run() -> cm.Plan:
        return cm.plan(org, courses, policy=policy, solver="lns", time_limit=None,
                       work_limit=400_000, seed=3, workers=2)

    first, second = run(), run()
    assert cm.validate(first, org, courses, policy) == []
    assert any(n.startswith("partition search:") for n in first.notes)
    assert [c.members for c in first.cohorts] == [c.members for c in second.cohorts]
