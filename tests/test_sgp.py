"""Social Golfer instances through the golfer engine and benchmarks/sgp.py."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.solvers.base import Budget
from cohortmatch.solvers.golfer import excess_meetings, freedom_start, greedy_start, solve_golfer

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("sgp_bench", ROOT / "benchmarks" / "sgp.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def golf(g, p, w):
    people = [cm.Person(id=f"g{i:03d}", team=f"g{i:03d}") for i in range(g * p)]
    org = cm.Organisation(people=people)
    return compile_problem(org, [cm.Course(id="golf", min_size=p, max_size=p, cohorts=g, rounds=w)],
                           cm.Policy(max_meetings=1))


@pytest.mark.parametrize(("g", "p", "w", "seed"), [(5, 3, 7, 2), (10, 10, 3, 0), (4, 4, 5, 0)])
def test_golfer_solves_instances(g, p, w, seed):
    prob = golf(g, p, w)
    res = solve_golfer(prob, budget=Budget(time_limit=20), rng=np.random.default_rng(seed))
    assert excess_meetings(prob, res.assignment) == 0
    sizes = np.bincount(res.assignment, minlength=prob.n_cohorts)
    assert sizes.tolist() == [p] * (g * w)


@pytest.mark.parametrize("start", [greedy_start, freedom_start])
def test_starts_are_complete_partitions(start):
    prob = golf(5, 3, 4)
    a = start(prob, np.random.default_rng(0))
    assert (a >= 0).all()
    assert np.bincount(a, minlength=prob.n_cohorts).tolist() == [3] * 20
    assert (prob.cohort_block[a] == prob.unit_block).all()


def test_hard_rule_unsolved_in_budget_raises():
    prob = golf(8, 4, 10)
    with pytest.raises(cm.InfeasibleError, match="no plan without repeated meetings was found"):
        solve_golfer(prob, budget=Budget(time_limit=None, work_limit=10),
                     rng=np.random.default_rng(0))


def test_benchmark_script_prints_json(capsys):
    bench = _bench()
    assert bench.main(["5", "3", "7", "--time-limit", "10", "--seeds", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["instance"] == "5-3-7" and out["runs"] == 1
    r = out["results"][0]
    assert r["solved"] and r["valid"] and r["repeated_pairs"] == 0
    assert out["machine"]["cores"] >= 1


def test_benchmark_reports_impossible(capsys):
    bench = _bench()
    bench.main(["8", "4", "11", "--time-limit", "1"])
    out = json.loads(capsys.readouterr().out)
    assert out["solved"] == 0 and out["results"][0]["impossible"]
    assert "max_meetings 1 allows at most 31" in out["results"][0]["reason"][0]


def test_plan_solves_kirkman_and_validates():
    people = [cm.Person(id=f"g{i:03d}", team=f"g{i:03d}") for i in range(15)]
    org = cm.Organisation(people=people)
    courses = [cm.Course(id="golf", min_size=3, max_size=3, cohorts=5, rounds=7)]
    policy = cm.Policy(max_meetings=1)
    plan = cm.plan(org, courses, policy=policy, time_limit=20, seed=3)
    assert plan.repeated_meetings == ()
    assert cm.validate(plan, org, courses, policy) == []


def test_repeat_search_is_repeatable_under_a_work_limit():
    people = [cm.Person(id=f"g{i:03d}", team=f"g{i:03d}") for i in range(24)]
    prob = compile_problem(cm.Organisation(people=people),
                           [cm.Course(id="golf", min_size=4, max_size=4, cohorts=6, rounds=6)],
                           cm.Policy(max_meetings=1, meetings="soft"))
    runs = [
        solve_golfer(prob, budget=Budget(time_limit=None, work_limit=6_000),
                     rng=np.random.default_rng(5)).assignment
        for _ in range(2)
    ]
    assert np.array_equal(runs[0], runs[1])
    assert np.bincount(runs[0], minlength=prob.n_cohorts).tolist() == [4] * 36
