"""Social Golfer instances through the golfer engine and benchmarks/sgp.py."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.engines.base import Budget
from cohortmatch.engines.golfer import (
    excess_meetings,
    freedom_start,
    greedy_start,
    restarting_search,
    solve_golfer,
)
from conftest import load_script

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    return load_script("benchmarks/sgp.py", "sgp_bench")


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
    assert bench.main(["7", "3", "10", "--time-limit", "10", "--seeds", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["instance"] == "7-3-10" and out["runs"] == 1 and out["meetings"] == "hard"
    r = out["results"][0]
    assert r["solved"] and r["valid"] and r["repeated_pairs"] == 0 and r["method"] == "construction"
    assert r["note"].startswith("golfer: repeat-free schedule from a construction (kirkman:")
    assert out["machine"]["cores"] >= 1


@pytest.mark.parametrize(("flags", "method"), [([], "construction"), (["--no-construction"], "search")])
def test_benchmark_reports_the_method(capsys, flags, method):
    bench = _bench()
    assert bench.main(["4", "4", "5", "--time-limit", "10", *flags]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["construction"] == (not flags)
    r = out["results"][0]
    assert r["solved"] and r["valid"] and r["method"] == method


def test_benchmark_reports_impossible(capsys):
    bench = _bench()
    bench.main(["8", "4", "11", "--time-limit", "1"])
    out = json.loads(capsys.readouterr().out)
    assert out["solved"] == 0 and out["results"][0]["impossible"]
    assert "max_meetings 1 allows at most 31" in out["results"][0]["reason"][0]


def test_benchmark_pairs_with_a_triple(capsys):
    bench = _bench()
    bench.main(["25", "2", "47", "--people", "51", "--time-limit", "10"])
    out = json.loads(capsys.readouterr().out)
    assert out["instance"] == "25-2-47 (51 people)" and out["solved"] == 1
    assert "round robin" in out["results"][0]["note"]
    bench.main(["25", "2", "48", "--people", "51", "--time-limit", "10"])
    out = json.loads(capsys.readouterr().out)
    assert out["results"][0]["impossible"]


@pytest.mark.parametrize(("meetings", "key"), [("hard", "reason"), ("soft", "repeated_pairs")])
def test_benchmark_unsolved_run(capsys, meetings, key):
    bench = _bench()
    bench.main(["8", "4", "10", "--time-limit", "0.5", "--no-construction", "--meetings", meetings])
    r = json.loads(capsys.readouterr().out)["results"][0]
    assert not r["solved"] and key in r


def test_benchmark_suite_writes_one_document(capsys, tmp_path):
    bench = _bench()
    target = tmp_path / "suite.json"
    assert bench.main(["--suite", "smoke", "--seeds", "0", "1", "--time-limit", "10",
                       "--json", str(target)]) == 0
    out = json.loads(target.read_text())
    assert out == json.loads(capsys.readouterr().out)
    assert [i["instance"] for i in out["instances"]] == [bench.name(*c) for c in bench.SUITES["smoke"]]
    assert all(i["solved"] == 2 for i in out["instances"])


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


def test_restarting_search_removes_repeats_and_is_repeatable():
    prob = golf(5, 3, 7)
    same = np.asarray(prob.unit_block * 5 + np.arange(prob.n_units) % 15 // 3, np.int64)
    runs = [restarting_search(prob, same, budget=Budget(time_limit=None, work_limit=400_000),
                              rng=np.random.default_rng(4), first=2_000) for _ in range(2)]
    assert runs[0][1] == 0 == excess_meetings(prob, runs[0][0])
    assert np.array_equal(runs[0][0], runs[1][0])


def _counts_from_scratch(prob, a, W):
    """A[i, k], B[i, k] (weighted mates of i in cohort k met >= / > cap times) recomputed."""
    from cohortmatch.engines.golfer import _RepeatSearch

    S = _RepeatSearch(prob, a)
    M = S.M.astype(np.int64)
    ind = np.zeros((S.Pq, prob.n_cohorts), np.int64)
    ind[S.uq, a] = 1
    cap = prob.max_meetings
    return ((M >= cap) * W) @ ind, ((M > cap) * W) @ ind, M


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=st.integers(2, 4), p=st.integers(2, 4), w=st.integers(1, 4), past=st.integers(0, 3),
       seed=st.integers(0, 2**16))
def test_incremental_counts_match_recomputation(g, p, w, past, seed):
    """The kernel's O(1) swap prices and its counts equal a full recount after every swap."""
    from cohortmatch.engines import golfer as gf

    rng = np.random.default_rng(seed)
    n = g * p
    people = [cm.Person(id=f"g{i:03d}", team=f"g{i:03d}") for i in range(n)]
    history = [[f"g{j:03d}" for j in rng.choice(n, p, replace=False)] for _ in range(past)]
    prob = compile_problem(cm.Organisation(people=people),
                           [cm.Course(id="golf", min_size=p, max_size=p, cohorts=g, rounds=w)],
                           cm.Policy(max_meetings=1, meetings="soft"), history=history)
    a = freedom_start(prob, rng)
    S = gf._RepeatSearch(prob, np.full(prob.n_units, -1, dtype=np.int64))
    M0 = S.M.astype(np.int64)
    K, U, Pq = prob.n_cohorts, prob.n_units, S.Pq
    members, size, slot = np.full((K, p), -1, np.int64), np.zeros(K, np.int64), np.zeros(U, np.int64)
    C, M, W = np.full((Pq, prob.n_blocks), -1, np.int64), M0.copy(), np.ones_like(M0)
    A, B = np.zeros((Pq, K), np.int64), np.zeros((Pq, K), np.int64)
    uq, blocks = S.uq.astype(np.int64), prob.unit_block.astype(np.int64)
    cur = a.copy()
    excess = gf._load(a, cur, uq, blocks, members, size, slot, C, M, M0, W, A, B, 1)
    assert excess == excess_meetings(prob, cur)
    for _ in range(30):
        u = int(rng.integers(U))
        lo, hi = prob.block_units[blocks[u]], prob.block_units[blocks[u] + 1]
        v = int(rng.integers(lo, hi))
        if cur[u] == cur[v]:
            continue
        if rng.random() < 0.3:  # a pair gains weight, as at a local minimum
            gf._weigh(uq[u], uq[v], M, W, A, B, C, 1)
        pu, pv, ku, kv = uq[u], uq[v], cur[u], cur[v]
        priced = A[pu, kv] + A[pv, ku] - (2 * W[pu, pv] if M[pu, pv] >= 1 else 0) \
            - B[pu, ku] - B[pv, kv]
        true_d = gf._delta(u, v, cur, uq, members, size, M, 1)
        before_w = (np.triu(np.maximum(M - 1, 0) * W, 1)).sum()
        gf._swap(u, v, cur, uq, blocks, members, size, slot, C, M, W, A, B, 1)
        excess += true_d
        assert excess == excess_meetings(prob, cur)
        assert priced == (np.triu(np.maximum(M - 1, 0) * W, 1)).sum() - before_w
        A2, B2, M2 = _counts_from_scratch(prob, cur, W)
        assert np.array_equal(M, M2) and np.array_equal(A, A2) and np.array_equal(B, B2)


def test_search_and_searching_constructions_take_turns(monkeypatch):
    """A search that never finishes gets only its first turn (5% of the work) before the
    constructions that search get theirs: 6-4-6 comes from the cyclic construction."""
    from cohortmatch.engines import golfer

    turns = []

    def stuck(problem, assignment, *, budget, rng, **kwargs):
        turns.append(budget.work_limit)
        budget.spend(budget.work_limit)
        return assignment, 1

    monkeypatch.setattr(golfer, "minimise_repeats", stuck)
    p = golf(6, 4, 6)
    budget = Budget(time_limit=None, work_limit=2_000_000)
    result = solve_golfer(p, budget=budget, rng=np.random.default_rng(0))
    assert excess_meetings(p, result.assignment) == 0
    assert "cyclic" in " ".join(result.notes)
    assert len(turns) == 1 and turns[0] == int(0.05 * 2_000_000)


def test_a_search_solved_at_once_does_not_wait_for_constructions(monkeypatch):
    """10-10-3: no construction fits without a search, and the first turn of the search
    solves it; the searching constructions are never called."""
    from cohortmatch.engines import golfer

    called = []
    real = golfer.construction_start

    def spy(*args, **kwargs):
        called.append(kwargs.get("search", True))
        return real(*args, **kwargs)

    monkeypatch.setattr(golfer, "construction_start", spy)
    p = golf(10, 10, 3)
    result = solve_golfer(p, budget=Budget(time_limit=None, work_limit=2_000_000),
                          rng=np.random.default_rng(0))
    assert excess_meetings(p, result.assignment) == 0
    assert called == [False]
