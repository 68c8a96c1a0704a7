"""The exact CP-SAT engine against brute-force enumeration, and its integration in plan()."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

import cohortmatch as cm
from cohortmatch.compiled import NO_CAP, compile_problem
from cohortmatch.engines.base import Budget
from cohortmatch.engines.cpsat.decomposition import (
    Master,
    _near_optimal_patterns,
    _realise,
    decompose,
    decomposition_bound,
    integer_master,
)
from cohortmatch.engines.cpsat.exact import solve_cpsat
from cohortmatch.engines.cpsat.model import build_model, integer_scale, model_size
from cohortmatch.engines.cpsat.solve import resolve_workers, solve_model
from cohortmatch.errors import InfeasibleError
from cohortmatch.rules import check_assignment
from cohortmatch.scoring import score
from conftest import compile_sized, load_script

MODES = ("cover", "diminishing", "sum")


# ------------------------------------------------------------------ brute force
def enumerate_assignments(problem) -> np.ndarray:
    """Every assignment of units to cohorts of their block, shape (M, U)."""
    p = problem
    parts = []
    for b in range(p.n_blocks):
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
        n, k = hi - lo, ce - cs
        codes = np.arange(k**n)
        digits = (codes[:, None] // k ** np.arange(n)[None, :]) % k
        parts.append(cs + digits)
    rows = [np.concatenate(combo) for combo in itertools.product(*parts)]
    return np.asarray(rows, np.int64)


def brute_force(problem) -> tuple[float, int]:
    """(best objective, number of valid assignments), from the definitions alone."""
    p = problem
    A = enumerate_assignments(p)
    M = A.shape[0]
    counts = np.zeros((M, p.n_teams, p.n_cohorts), np.int64)
    for u in range(p.n_units):
        counts[np.arange(M), p.unit_team[u], A[:, u]] += 1
    size = counts.sum(axis=1)
    ok = np.all((size >= p.cohort_min) & (size <= p.cohort_max), axis=1)
    if p.max_per_team != NO_CAP:
        ok &= np.all(counts <= p.max_per_team, axis=(1, 2))
    for u in range(p.n_units):  # a manager apart from each direct report in the same round
        for v in range(p.n_units):
            same_round = p.unit_block[u] == p.unit_block[v]
            if p.separate_managers and same_round and p.person_manager[p.unit_person[u]] == p.unit_person[v]:
                ok &= A[:, u] != A[:, v]
    if not ok.any():
        return float("nan"), 0
    values = np.zeros(M)
    for e in range(p.n_edges):
        na, nb = counts[:, p.edge_a[e]], counts[:, p.edge_b[e]]
        w = p.edge_weight[e]
        c = ((na > 0) & (nb > 0)).sum(axis=1)
        if p.mode == "cover":
            values += w * (c > 0)
        elif p.mode == "diminishing":
            values += w * np.array([sum(p.decay**i for i in range(x)) for x in c])
        else:
            values += w * (na * nb).sum(axis=1)
    return float(values[ok].max()), int(ok.sum())


def random_request(rng: np.random.Generator, mode: str):
    """A tiny random request (<= 10 people) with managers, gaps and rules."""
    n = int(rng.integers(3, 11))
    n_teams = int(rng.integers(2, 5))
    people = []
    for i in range(n):
        manager = f"p{int(rng.integers(i))}" if i > 0 and rng.random() < 0.3 else None
        people.append(cm.Person(id=f"p{i}", team=f"t{int(rng.integers(n_teams))}", manager=manager))
    teams = sorted({p.team for p in people})
    pairs = [(a, b) for a, b in itertools.combinations(teams, 2) if rng.random() < 0.7]
    integral = rng.random() < 0.5
    gaps = [
        cm.Gap(
            a=a, b=b, weight=float(rng.integers(1, 5)) if integral else float(rng.uniform(0.1, 3))
        )
        for a, b in pairs
    ]
    org = cm.Organisation(people=people, gaps=gaps)
    k_max = 3 if n <= 9 else 2
    k = int(rng.integers(1, k_max + 1))
    lo = max(1, n // k - int(rng.integers(0, 2)))
    hi = -(-n // k) + int(rng.integers(0, 2))
    course = cm.Course(id="c", min_size=lo, max_size=hi, cohorts=k)
    policy = cm.Policy(
        coverage=mode,
        decay=float(rng.choice([0.5, 0.3, 1.0])),
        max_per_team=int(rng.integers(1, 4)) if rng.random() < 0.5 else None,
        separate_manager_and_reports=bool(rng.random() < 0.7),
    )
    return org, [course], policy


def random_feasible_problem(seed: int, mode: str):
    rng = np.random.default_rng(seed)
    while True:
        org, courses, policy = random_request(rng, mode)
        try:
            problem = compile_sized(org, courses, policy)
        except InfeasibleError:
            continue
        best, n_valid = brute_force(problem)
        if n_valid:
            return org, courses, policy, problem, best


# ------------------------------------------------------------------------ tests
@pytest.mark.parametrize("seed", range(60))
def test_exact_objective_equals_brute_force(seed):
    mode = MODES[seed % 3]
    _, _, _, problem, best = random_feasible_problem(seed, mode)
    out = solve_model(build_model(problem), time_limit=20, workers=1, seed=seed)
    assert out.status == "optimal"
    assert out.objective == pytest.approx(best, rel=1e-7, abs=1e-7)
    # the scoring core's value of the CP-SAT solution is CP-SAT's objective
    assert score(problem, out.assignment).objective == pytest.approx(
        out.objective, rel=1e-7, abs=1e-7
    )
    assert out.bound >= best - 1e-7


@pytest.mark.parametrize("mode", MODES)
def test_scoring_core_agrees_with_cpsat_on_every_solution(mode):
    """Also for solutions found with a tiny limit and from a hint (not only optimal ones)."""
    for seed in range(8):
        _, _, _, problem, _ = random_feasible_problem(100 + seed, mode)
        cm_ = build_model(problem)
        out = solve_model(cm_, deterministic_time=0.001, workers=1, seed=seed)
        if out.assignment is None:
            continue
        assert score(problem, out.assignment).objective == pytest.approx(
            out.objective, rel=1e-7, abs=1e-7
        )
        hinted = solve_model(build_model(problem, hint=out.assignment), time_limit=5, workers=1)
        assert hinted.status == "optimal"
        assert score(problem, hinted.assignment).objective == pytest.approx(
            hinted.objective, abs=1e-7
        )


@pytest.mark.parametrize("mode", MODES)
def test_plan_cpsat_is_optimal_and_valid(mode):
    org, courses, policy, problem, best = random_feasible_problem(7, mode)
    result = cm.plan(org, courses, policy=policy, solver="cpsat", time_limit=10, workers=1, seed=3)
    assert result.status == "optimal"
    assert result.solver == "cpsat"
    assert result.metrics.objective == pytest.approx(best, abs=1e-7)
    assert result.metrics.bound == pytest.approx(best, abs=1e-6)
    assert cm.validate(result, org, courses, policy) == []


def test_two_courses_and_rounds_match_brute_force():
    org = cm.Organisation(
        people=[cm.Person(id=f"p{i}", team="abc"[i % 3]) for i in range(6)],
        gaps=[cm.Gap(a="a", b="b", weight=2.0), cm.Gap(a="b", b="c", weight=1.0)],
    )
    courses = [
        cm.Course(id="x", min_size=2, max_size=2, participants=("p0", "p1", "p2", "p3")),
        cm.Course(id="y", min_size=2, max_size=3, rounds=2, participants=("p2", "p3", "p4", "p5")),
    ]
    for mode in MODES:
        problem = compile_problem(org, courses, cm.Policy(coverage=mode, decay=0.5))
        best, _ = brute_force(problem)
        out = solve_model(build_model(problem), time_limit=10, workers=1)
        assert out.status == "optimal"
        assert out.objective == pytest.approx(best)
        assert score(problem, out.assignment).objective == pytest.approx(best)


def test_bound_reported_when_tighter_than_combinatorial():
    org = cm.Organisation(
        people=[cm.Person(id=f"p{i}", team=f"t{i % 4}") for i in range(8)],
        gaps=[
            cm.Gap(a=f"t{a}", b=f"t{b}", weight=1.0) for a, b in itertools.combinations(range(4), 2)
        ],
    )
    courses = [cm.Course(id="c", min_size=2, max_size=2)]
    policy = cm.Policy(coverage="diminishing", decay=0.5)
    combinatorial = cm.upper_bound(compile_problem(org, courses, policy))
    result = cm.plan(org, courses, policy=policy, solver="cpsat", time_limit=10, workers=1, seed=0)
    assert result.status == "optimal"
    assert result.metrics.bound == pytest.approx(result.metrics.objective)
    assert result.metrics.bound <= combinatorial + 1e-9
    assert result.metrics.gap_to_bound == pytest.approx(0.0, abs=1e-9)


def test_symmetric_cohorts_are_broken_and_hint_is_relabelled():
    """A hint with cohorts in the 'wrong' order is relabelled, not rejected."""
    org = cm.Organisation(
        people=[cm.Person(id=f"p{i}", team="aabbcc"[i]) for i in range(6)],
        gaps=[cm.Gap(a="a", b="b"), cm.Gap(a="b", b="c"), cm.Gap(a="a", b="c")],
    )
    problem = compile_problem(org, [cm.Course(id="c", min_size=3, max_size=3)])
    for hint in ([1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]):
        out = solve_model(build_model(problem, hint=np.array(hint)), time_limit=5, workers=1)
        assert out.status == "optimal" and out.objective == 3.0
        # cohort 0 holds the first group's first member: the symmetric twin is excluded
        assert out.assignment[0] == 0


def test_seeded_single_worker_runs_repeat():
    org, courses, policy, *_ = random_feasible_problem(11, "sum")
    a = cm.plan(
        org, courses, policy=policy, solver="cpsat", time_limit=None, work_limit=500, seed=5
    )
    b = cm.plan(
        org, courses, policy=policy, solver="cpsat", time_limit=None, work_limit=500, seed=5
    )
    assert a.cohorts == b.cohorts


def test_time_limit_is_honoured():
    rng = np.random.default_rng(0)
    people = [cm.Person(id=f"p{i:03d}", team=f"t{int(rng.integers(12))}") for i in range(120)]
    teams = sorted({p.team for p in people})
    gaps = [
        cm.Gap(a=a, b=b, weight=float(rng.uniform(0.5, 2)))
        for a, b in itertools.combinations(teams, 2)
        if rng.random() < 0.5
    ]
    org = cm.Organisation(people=people, gaps=gaps)
    courses = [cm.Course(id="c", min_size=5, max_size=6)]
    policy = cm.Policy(coverage="sum", max_per_team=2)
    result = cm.plan(org, courses, policy=policy, solver="cpsat", time_limit=1.5, seed=0)
    assert result.elapsed <= 1.5 + 0.1
    assert result.status in ("optimal", "feasible")
    assert cm.validate(result, org, courses, policy) == []


def test_auto_says_which_engine():
    org, courses, policy, *_ = random_feasible_problem(3, "cover")
    result = cm.plan(org, courses, policy=policy, time_limit=5, seed=0)
    assert result.solver == "cpsat"
    assert any("auto: exact CP-SAT" in n for n in result.notes)


def test_integer_scale_rounds_up_and_is_exact_for_decimals():
    s, c = integer_scale(np.array([0.25, 1.0, 3.5]))
    assert s == 100.0 and c.tolist() == [25, 100, 350]
    values = np.array([1 / 3, 2 / 7])
    s, c = integer_scale(values)
    assert np.all(c / s >= values) and np.all(c / s - values <= 1 / s)


def test_model_size_grows_with_the_instance():
    org, courses, policy, problem, _ = random_feasible_problem(1, "cover")
    assert model_size(problem) > 0


def test_workers_validation():
    org, courses, policy, *_ = random_feasible_problem(2, "cover")
    with pytest.raises(cm.InputError, match="'workers' must be an int >= 1"):
        cm.plan(org, courses, policy=policy, solver="cpsat", workers=0)
    with pytest.raises(cm.CohortmatchError, match="'workers' must be >= 1"):
        resolve_workers(0)


def test_unknown_solver_is_an_error():
    org, courses, policy, *_ = random_feasible_problem(2, "cover")
    with pytest.raises(cm.InputError, match="'solver' must be one of"):
        cm.plan(org, courses, policy=policy, solver="cp-sat")


def test_solve_cpsat_without_hint_uses_budget():
    _, _, _, problem, best = random_feasible_problem(21, "diminishing")
    res = solve_cpsat(problem, budget=Budget(5.0), rng=np.random.default_rng(0), workers=1)
    assert res.status == "optimal"
    assert score(problem, res.assignment).objective == pytest.approx(best)
    assert res.bound == pytest.approx(best, abs=1e-6)


# ------------------------------------------------------------ decomposition bound
@pytest.mark.parametrize("seed", range(30))
def test_decomposition_bound_is_at_least_the_brute_force_optimum(seed):
    mode = MODES[seed % 3]
    _, _, _, problem, best = random_feasible_problem(200 + seed, mode)
    out = solve_model(build_model(problem), deterministic_time=0.01, workers=1, seed=seed)
    if out.assignment is None:
        pytest.skip("no start found within the tiny limit")
    bound = decomposition_bound(problem, start=out.assignment, time_limit=None, max_rounds=30)
    if problem.n_edges == 0:
        assert bound == float("inf")
    else:
        assert bound >= best - 1e-7


def test_decomposition_bound_proves_a_sum_plan_the_combinatorial_bound_cannot():
    """30 people, sum mode: the pattern bound closes the gap the per-unit bound leaves."""
    rng = np.random.default_rng(5)
    teams = [f"t{i}" for i in range(8)]
    people = [cm.Person(id=f"p{i:02d}", team=teams[int(rng.integers(8))]) for i in range(30)]
    present = sorted({p.team for p in people})
    gaps = [
        cm.Gap(a=a, b=b, weight=float(rng.integers(1, 6)))
        for a, b in itertools.combinations(present, 2)
        if rng.random() < 0.4
    ]
    org = cm.Organisation(people=people, gaps=gaps)
    courses = [cm.Course(id="c", min_size=5, max_size=6)]
    policy = cm.Policy(coverage="sum", max_per_team=2)
    combinatorial = cm.upper_bound(compile_problem(org, courses, policy))
    result = cm.plan(org, courses, policy=policy, solver="cpsat", time_limit=20, workers=1, seed=1)
    assert cm.validate(result, org, courses, policy) == []
    assert result.metrics.bound >= result.metrics.objective - 1e-9
    assert result.metrics.bound < combinatorial - 1.0
    assert result.metrics.gap_to_bound <= 0.05


def test_decomposition_bound_does_not_apply_to_pair_values_or_meeting_caps():
    _, _, _, problem, _ = random_feasible_problem(3, "sum")
    start = solve_model(build_model(problem), time_limit=5, workers=1).assignment
    assert decomposition_bound(
        dataclasses.replace(problem, max_meetings=1), start=start, time_limit=None
    ) == float("inf")


# ------------------------------------------------------------- integer master (sum)
def _master_for(problem, seed):
    start = solve_model(build_model(problem), deterministic_time=0.05, workers=1, seed=seed)
    if start.assignment is None:
        pytest.skip("no start found within the tiny limit")
    master = Master()
    decompose(problem, start=start.assignment, time_limit=None, max_rounds=30, master=master)
    return master


@pytest.mark.parametrize("seed", range(40))
def test_integer_master_bound_is_the_brute_force_optimum(seed):
    """The bound equals the brute-force optimum, and the master's plan is valid and scores
    what the master says."""
    _, _, _, problem, best = random_feasible_problem(300 + seed, "sum")
    if problem.n_edges == 0:
        pytest.skip("no gaps: no decomposition")
    master = _master_for(problem, seed)
    im = integer_master(problem, master, time_limit=None)
    assert im.bound >= best - 1e-7
    assert im.patterns is not None
    # the master's plan is staffed: valid, and worth what the master says
    assert im.assignment is not None
    assert not check_assignment(problem, im.assignment)
    assert score(problem, im.assignment).objective == pytest.approx(im.value, rel=1e-9, abs=1e-9)
    a, impossible = _realise(problem, im.patterns, time_limit=None)
    assert a is not None and not impossible
    assert score(problem, a).objective == pytest.approx(im.value, rel=1e-9, abs=1e-9)
    # no-goods exclude what cannot be staffed: the bound is the optimum, managers or not
    assert im.bound == pytest.approx(best, rel=1e-7, abs=1e-7)
    assert im.value == pytest.approx(best, rel=1e-7, abs=1e-7)


@pytest.mark.parametrize("seed", range(12))
def test_near_optimal_patterns_are_exactly_those_above_the_threshold(seed):
    _, _, _, problem, _ = random_feasible_problem(400 + seed, "sum")
    if problem.n_edges == 0:
        pytest.skip("no gaps: no decomposition")
    master = _master_for(problem, seed)
    b = 0
    pr = master.pricing[b]
    team_price, top = master.prices[b]
    lo, hi = int(problem.cohort_min[0]), int(problem.cohort_max[0])
    ub = np.minimum(pr.supply, min(int(problem.max_per_team), hi))
    grid = np.array(list(itertools.product(*[range(u + 1) for u in ub.tolist()])), np.int64)
    grid = grid[(grid.sum(axis=1) >= lo) & (grid.sum(axis=1) <= hi)]
    w = problem.edge_weight[pr.edges]
    reduced = (grid[:, pr.ea] * grid[:, pr.eb]) @ w - grid @ team_price
    assert reduced.max() <= top + 1e-6  # top is a proven bound
    threshold = float(np.median(reduced))
    _, found = _near_optimal_patterns(problem, master, b, threshold, limit=10**6)
    expected = grid[reduced >= threshold - 1e-9]
    assert sorted(map(tuple, found.tolist())) == sorted(map(tuple, expected.tolist()))
    assert _near_optimal_patterns(problem, master, b, threshold, limit=len(expected) - 1) is None


def _benchmark_request(n, seed, mode):
    """The request ``benchmarks/cpsat.py`` draws for ``n`` people and ``seed``."""
    return load_script("benchmarks/cpsat.py", "cpsat_bench").request(n, seed, mode)


def test_integer_master_closes_the_pattern_lp_gap():
    """24 people, sum mode: the pattern LP bound is 133, the optimum 130; the integer
    master proves it."""
    org, courses, policy = _benchmark_request(24, 1, "sum")
    problem = compile_problem(org, courses, policy)
    start = solve_model(build_model(problem), time_limit=10, workers=1, seed=0)
    assert start.status == "optimal" and start.objective == pytest.approx(130.0)
    assert decomposition_bound(problem, start=start.assignment, time_limit=None) > 132.9
    result = cm.plan(org, courses, policy=policy, solver="cpsat", time_limit=20, workers=1, seed=1)
    assert cm.validate(result, org, courses, policy) == []
    assert result.status == "optimal"
    assert result.metrics.objective == pytest.approx(130.0)
    assert result.metrics.bound == pytest.approx(130.0)
    assert any("integer master" in n for n in result.notes)


def test_no_solution_means_no_bound():
    """CP-SAT's objective bound without a solution (status unknown) is not a proof."""
    org = cm.org_chart(240, seed=11)
    problem = compile_problem(org, [cm.Course(id="c", min_size=10, max_size=12)],
                              cm.Policy(mode="diminishing", max_per_team=2))
    out = solve_model(build_model(problem), time_limit=0.001, workers=1)
    if out.status == "unknown":
        assert out.bound == float("inf")
    else:  # solved within a millisecond: then the bound must hold for what it found
        assert out.bound >= out.objective - 1e-6



def test_cpsat_warm_start_is_the_heuristic_with_half_the_run(monkeypatch):
    """Where CP-SAT finds nothing better, the exact engine returns the heuristic's plan
    of half its run (not of a short capped search), and never a worse one."""
    import cohortmatch.engines.cpsat.exact as exact
    from cohortmatch.engines.cpsat.solve import CpsatOutcome

    def stalled(cm_model, **kwargs):  # CP-SAT finds nothing within its time
        return CpsatOutcome("unknown", None, float("nan"), float("inf"))

    monkeypatch.setattr(exact, "solve_model", stalled)
    monkeypatch.setattr(exact, "decompose", lambda problem, **kw: (float("inf"), []))
    org = cm.org_chart(150, preset="matrix", seed=3)  # the heuristic stays below the bound
    courses = [cm.Course(id="c", min_size=8, max_size=12)]
    policy = cm.Policy(max_per_team=2, mode="diminishing")
    work = 40_000  # well above the short cap of 50 * units + 1000
    heuristic = cm.plan(org, courses, policy=policy, solver="heuristic", time_limit=None,
                        work_limit=work, seed=4)
    ours = cm.plan(org, courses, policy=policy, solver="cpsat", time_limit=600,
                   work_limit=2 * work, seed=4)
    assert ours.metrics.objective == pytest.approx(heuristic.metrics.objective)
    assert cm.validate(ours, cm.Request(org=org, courses=courses, policy=policy)) == []


def test_a_feasible_model_with_balance_is_not_declared_infeasible():
    """OR-Tools 9.15's presolve declared this model infeasible with 40-bit symmetry keys
    although a complete valid assignment keeps every constraint; with 30 bits it does not,
    and the exact engine never turns "infeasible" into an error while its warm start keeps
    every rule."""
    from ortools.sat.python import cp_model

    from cohortmatch.engines.cpsat.model import build_model

    org = cm.org_chart(200, seed=3)
    course = cm.Course(id="x", min_size=8, max_size=10)
    policy = cm.Policy(balance=["level"], mode="diminishing")
    model = build_model(compile_problem(org, [course], policy)).model
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 2.0
    assert solver.solve(model) != cp_model.INFEASIBLE
    plan = cm.plan(org, [course], policy=policy, solver="cpsat", time_limit=3, seed=0)
    assert cm.validate(plan, org, [course], policy) == []


def _beyond_exact_limit(monkeypatch) -> None:
    """Make ``auto`` pick the LNS engine on a small request (as it does from ~400 people)."""
    import cohortmatch.engines.cpsat.exact as exact
    import cohortmatch.engines.registry as registry

    monkeypatch.setattr(exact, "EXACT_LIMIT", 500)
    monkeypatch.setattr(registry, "EXACT_LIMIT", 500)


@pytest.mark.parametrize("mode", ["cover", "diminishing"])
def test_cpsat_is_never_worse_than_auto_with_the_same_work(monkeypatch, mode):
    """Above the exact-model limit ``auto`` runs the LNS engine; ``cpsat`` with the same
    limits starts from that very run and CP-SAT never returns worse than its hint."""
    _beyond_exact_limit(monkeypatch)
    org = cm.org_chart(120, preset="matrix", seed=2)
    courses = [cm.Course(id="c", min_size=8, max_size=12)]
    policy = cm.Policy(max_per_team=2, mode=mode)
    kw = dict(policy=policy, time_limit=None, work_limit=6_000, seed=5, workers=1)
    auto = cm.plan(org, courses, solver="auto", **kw)
    assert any("large-neighbourhood" in n for n in auto.notes)  # auto did not use the exact model
    exact = cm.plan(org, courses, solver="cpsat", **kw)
    assert exact.solver == "cpsat"
    assert exact.metrics.objective >= auto.metrics.objective - 1e-9
    assert cm.validate(exact, org, courses, policy) == []


def test_cpsat_warm_start_beyond_the_exact_limit_is_autos_whole_run(monkeypatch):
    """With CP-SAT stalled, ``cpsat`` returns exactly ``auto``'s plan of the same limits
    (the warm start is not cut to a share of the run)."""
    import cohortmatch.engines.cpsat.exact as exact
    from cohortmatch.engines.cpsat.solve import CpsatOutcome

    _beyond_exact_limit(monkeypatch)
    monkeypatch.setattr(exact, "solve_model",
                        lambda cm_model, **kw: CpsatOutcome("unknown", None, float("nan"), float("inf")))
    org = cm.org_chart(120, preset="silos", seed=4)
    courses = [cm.Course(id="c", min_size=8, max_size=12)]
    kw = dict(policy=cm.Policy(mode="diminishing"), time_limit=None, work_limit=6_000, seed=3, workers=1)
    auto = cm.plan(org, courses, solver="auto", **kw)
    ours = cm.plan(org, courses, solver="cpsat", **kw)
    assert ours.assignment() == auto.assignment()
