"""Tests of person-level pair values: group_by_pairs, scoring, bounds, incremental state."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.compiled import compile_grouping, compile_problem
from cohortmatch.errors import InfeasibleError, InputError
from cohortmatch.mdgplib import read_mdgplib
from cohortmatch.planner import _assignment_of
from cohortmatch.scoring import SearchState, pair_score, score
from cohortmatch.scoring.bounds import upper_bound
from cohortmatch.validate import objective_of

DATA = Path(__file__).parent / "data" / "mdgplib"
REFS = {r["instance"]: float(r["bkv"]) for r in csv.DictReader(open(DATA / "best_known.csv"))}


def naive_value(V, labels):
    n = len(labels)
    return sum(V[i, j] for i in range(n) for j in range(i + 1, n) if labels[i] == labels[j])


@pytest.mark.parametrize("name", sorted(REFS))
def test_small_mdgplib_reaches_proven_optimum(name):
    inst = read_mdgplib(DATA / f"{name}.txt")
    g = cm.group_by_pairs(inst.values, inst.sizes, seed=3, time_limit=0.3)
    assert g.objective == pytest.approx(REFS[name], abs=5e-3)
    assert g.objective == pytest.approx(naive_value(inst.values, g.labels), abs=1e-9)
    lo, hi = np.array(inst.sizes).T
    assert np.all((g.sizes >= lo) & (g.sizes <= hi))
    assert g.bound >= g.objective


def random_symmetric(rng, n):
    A = rng.random((n, n)).round(2)
    V = np.triu(A, 1)
    return V + V.T


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 14), st.integers(1, 4), st.integers(0, 2**16))
def test_groups_always_valid(n, m, seed):
    rng = np.random.default_rng(seed)
    m = min(m, n)
    lo = rng.integers(0, n // m + 1, size=m)
    hi = lo + rng.integers(0, 3, size=m)
    short = n - hi.sum()
    if short > 0:
        hi[rng.integers(m)] += short
    if lo.sum() > n:
        lo[:] = 0
    hi = np.maximum(hi, 1)
    V = random_symmetric(rng, n)
    g = cm.group_by_pairs(V, list(zip(lo.tolist(), hi.tolist(), strict=True)), seed=seed,
                          time_limit=0.05)
    assert g.labels.shape == (n,)
    assert np.all((g.labels >= 0) & (g.labels < m))
    assert np.all((g.sizes >= lo) & (g.sizes <= hi)) and g.sizes.sum() == n
    assert g.objective == pytest.approx(naive_value(V, g.labels), abs=1e-9)
    assert upper_bound(compile_grouping(V, list(zip(lo, hi, strict=True)))) >= g.objective - 1e-9


def test_sparse_and_dense_score_alike():
    rng = np.random.default_rng(0)
    V = random_symmetric(rng, 9) * (rng.random((9, 9)) < 0.5)
    V = np.triu(V, 1) + np.triu(V, 1).T
    a = rng.integers(0, 3, size=9)
    dense = compile_grouping(V, [(0, 9)] * 3)
    sparse = compile_grouping(sp.csr_array(V), [(0, 9)] * 3)
    assert pair_score(dense, a) == pytest.approx(naive_value(V, a))
    assert pair_score(sparse, a) == pytest.approx(naive_value(V, a))
    assert upper_bound(sparse) == pytest.approx(upper_bound(dense))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**16), st.booleans())
def test_incremental_equals_full_rescore_with_pairs(seed, sparse):
    """Team gaps (sum mode) and pair values together: moves, swaps, G matrix == score()."""
    rng = np.random.default_rng(seed)
    n = 8
    people = [cm.Person(id=f"p{i}", team="abc"[i % 3]) for i in range(n)]
    org = cm.Organisation(people=people, gaps=[cm.Gap(a="a", b="b", weight=2.0),
                                               cm.Gap(a="b", b="c", weight=0.5)])
    V = random_symmetric(rng, n)
    pv = sp.csr_array(V) if sparse else V
    courses = [cm.Course(id="c", min_size=1, max_size=n, cohorts=3, rounds=2)]
    policy = cm.Policy(coverage="sum", separate_manager_and_reports=False)
    prob = compile_problem(org, courses, policy, pair_values=pv)
    a = rng.integers(0, 3, size=prob.n_units) + 3 * prob.unit_block
    st_ = SearchState(prob, a)
    G = st_.gain_matrix(0)
    for _ in range(20):
        u = int(rng.integers(prob.n_units))
        b = prob.unit_block[u]
        cs, ce = prob.block_of_cohort_range(b)
        if rng.random() < 0.5:
            k = int(rng.integers(cs, ce))
            gains = st_.move_gains(u)
            expect = st_.move_gain(u, k)
            assert gains[k - cs] == pytest.approx(expect if k != st_.assignment[u] else 0.0)
            assert st_.move(u, k) == pytest.approx(expect)
        else:
            lo, hi = int(prob.block_units[b]), int(prob.block_units[b + 1])
            v = int(rng.integers(lo, hi))
            d = st_.swap_delta(u, v)
            assert st_.swap(u, v) == pytest.approx(d)
        full = score(prob, st_.assignment)
        assert st_.value == pytest.approx(full.objective)
    fresh = SearchState(prob, st_.assignment).gain_matrix(0)
    assert np.allclose(G, fresh)
    assert upper_bound(prob) >= score(prob, st_.assignment).objective - 1e-9


def test_pair_values_reordered_to_canonical_order():
    people = [cm.Person(id=i, team=t) for i, t in [("z", "a"), ("b", "a"), ("m", "a")]]
    org = cm.Organisation(people=people)
    V = np.array([[0, 1, 5], [1, 0, 2], [5, 2, 0]])  # order z, b, m
    prob = compile_problem(org, [cm.Course(id="c", min_size=1, max_size=3)],
                           cm.Policy(coverage="sum"), pair_values=V)
    assert prob.person_ids == ("b", "m", "z")
    assert prob.pair_values.tolist() == [[0, 2, 1], [2, 0, 5], [1, 5, 0]]


@pytest.mark.parametrize(
    "values, sizes, error, match",
    [
        (np.ones((3, 2)), [(1, 3)], InputError, r"must have shape \(3, 3\)"),
        (np.array([[0, 1], [2, 0]]), [(1, 2)], InputError, "must be symmetric"),
        (np.array([[0, np.nan], [np.nan, 0]]), [(1, 2)], InputError, "must be finite"),
        ([["a", "b"], ["c", "d"]], [(1, 2)], InputError, "numeric n x n matrix"),
        (np.zeros((2, 2)), [], InputError, "at least one group"),
        (np.zeros((2, 2)), [(2, 1)], InputError, "size bounds of group 0"),
        (np.zeros((2, 2)), [("x", 1)], InputError, "list of \\(min, max\\) integer pairs"),
        (np.zeros((5, 5)), [(1, 2), (1, 2)], InfeasibleError, "cannot fill 2 groups"),
    ],
)
def test_group_by_pairs_validation(values, sizes, error, match):
    with pytest.raises(error, match=match):
        cm.group_by_pairs(values, sizes, time_limit=0.1)


def test_bad_time_limit_and_mode():
    with pytest.raises(InputError, match="'time_limit' must be a positive number"):
        cm.group_by_pairs(np.zeros((2, 2)), [(2, 2)], time_limit=0)
    org = cm.Organisation(people=[cm.Person(id="p", team="a"), cm.Person(id="q", team="a")])
    with pytest.raises(InputError, match="'sum' mode only"):
        compile_problem(org, [cm.Course(id="c", min_size=1, max_size=2)],
                        cm.Policy(coverage="cover"), pair_values=np.zeros((2, 2)))


def test_seeded_runs_are_reproducible_in_labels_validity():
    inst = read_mdgplib(DATA / "Geo_n012_ds_01.txt")
    a = cm.group_by_pairs(inst.values, inst.sizes, seed=np.random.default_rng(5), time_limit=0.2)
    assert a.status in ("optimal", "feasible")
    assert a.elapsed < 5


# ------------------------------------------------------------ pair values through plan()
def _org_and_values(n=24, teams="abcd", seed=0):
    rng = np.random.default_rng(seed)
    # ids deliberately not in sorted order: pair values follow org.people, not canonical order
    ids = [f"p{(7 * i) % n:02d}" for i in range(n)]
    org = cm.Organisation(
        people=[cm.Person(id=pid, team=teams[i % len(teams)]) for i, pid in enumerate(ids)],
        gaps=[cm.Gap(a="a", b="b", weight=2.0), cm.Gap(a="c", b="d", weight=1.0)],
    )
    V = np.triu(rng.integers(0, 10, size=(n, n)).astype(float), 1)
    return org, V + V.T


@pytest.mark.parametrize("sparse", [False, True])
def test_plan_with_pair_values_passes_validate(sparse):
    org, V = _org_and_values()
    if sparse:
        V = sp.csr_array(np.where(V > 6, V, 0.0))
    courses = [cm.Course(id="c", min_size=5, max_size=7, cohorts=4)]
    policy = cm.Policy(coverage="sum")
    p = cm.plan(org, courses, policy=policy, pair_values=V, time_limit=None, work_limit=200_000,
                seed=1)
    assert p.solver == "tabu"
    assert cm.validate(p, org, courses, policy, pair_values=V) == []
    problem = compile_problem(org, courses, policy, pair_values=V)
    full = score(problem, _assignment_of(problem, p))
    assert p.metrics.objective == pytest.approx(full.objective, abs=1e-9)
    assert full.pair_value > 0
    # the naive check sees the pair term: without it the objective no longer matches
    assert cm.validate(p, org, courses, policy) != []
    obj, _ = objective_of(p, org, policy, pair_values=V)
    assert obj == pytest.approx(p.metrics.objective)


def test_plan_with_pair_values_and_rules_uses_the_heuristic():
    org, V = _org_and_values()
    courses = [cm.Course(id="c", min_size=6, max_size=6)]
    policy = cm.Policy(coverage="sum", max_per_team=2)
    p = cm.plan(org, courses, policy=policy, pair_values=V, time_limit=None, work_limit=3_000,
                seed=2)
    assert p.solver != "tabu"
    assert cm.validate(p, org, courses, policy, pair_values=V) == []


def test_plan_pair_values_need_sum_mode():
    org, V = _org_and_values(n=8)
    with pytest.raises(InputError, match="'pair_values' are scored in 'sum' mode only"):
        cm.plan(org, [cm.Course(id="c", min_size=4, max_size=4)], pair_values=V, time_limit=1.0)
    with pytest.raises(InputError, match="The 'solver' 'tabu' cannot plan this request: it needs mode 'sum'"):
        cm.plan(org, [cm.Course(id="c", min_size=4, max_size=4)], solver="tabu", time_limit=1.0)


def test_group_by_pairs_and_plan_agree():
    inst = read_mdgplib(DATA / "RanReal_n012_ss_01.txt")
    n = inst.n
    org = cm.Organisation(people=[cm.Person(id=f"e{i:02d}", team=f"t{i:02d}") for i in range(n)])
    lo, hi = inst.sizes[0]
    courses = [cm.Course(id="c", min_size=lo, max_size=hi, cohorts=inst.m)]
    policy = cm.Policy(coverage="sum")
    p = cm.plan(org, courses, policy=policy, pair_values=inst.values, time_limit=1.0, seed=0)
    g = cm.group_by_pairs(inst.values, inst.sizes, seed=0, time_limit=1.0)
    assert cm.validate(p, org, courses, policy, pair_values=inst.values) == []
    assert p.metrics.objective == pytest.approx(g.objective, abs=1e-6)
    assert g.objective == pytest.approx(REFS["RanReal_n012_ss_01"], abs=5e-3)
