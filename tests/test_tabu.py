"""Tests of the three-phase search engine (solvers.tabu): kernels, sizes, determinism, limits."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.compiled import compile_grouping
from cohortmatch.engines import tabu
from cohortmatch.engines.base import Budget
from cohortmatch.engines.tabu import most_pairs_sizes, random_assignment, solve_tabu
from cohortmatch.scoring import score


def brute_force_pairs(lo, hi, total):
    best = -1
    for s in itertools.product(*(range(a, b + 1) for a, b in zip(lo, hi, strict=True))):
        if sum(s) == total:
            best = max(best, sum(x * (x - 1) // 2 for x in s))
    return best


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3)), min_size=1, max_size=4),
       st.data())
def test_most_pairs_sizes_is_optimal_and_within_bounds(bounds, data):
    lo = np.array([a for a, _ in bounds])
    hi = lo + np.array([r for _, r in bounds])
    total = data.draw(st.integers(int(lo.sum()), int(hi.sum())))
    s = most_pairs_sizes(lo, hi, total)
    assert s.sum() == total
    assert np.all((s >= lo) & (s <= hi))
    assert int((s * (s - 1) // 2).sum()) == brute_force_pairs(lo, hi, total)


def test_most_pairs_sizes_rejects_impossible_total():
    with pytest.raises(ValueError, match="cannot add up"):
        most_pairs_sizes(np.array([2, 2]), np.array([3, 3]), 7)


@pytest.mark.parametrize("most_pairs", [False, True])
def test_random_assignment_keeps_sizes(most_pairs):
    sizes = [(1, 2), (3, 3), (2, 6), (2, 5)]
    prob = compile_grouping(np.zeros((12, 12)), sizes)
    for seed in range(5):
        a = random_assignment(prob, np.random.default_rng(seed), most_pairs=most_pairs)
        got = np.bincount(a, minlength=4)
        assert np.all((got >= [1, 3, 2, 2]) & (got <= [2, 3, 6, 5]))
        assert got.sum() == 12
    if most_pairs:
        pairs = int((got * (got - 1) // 2).sum())
        assert pairs == brute_force_pairs([1, 3, 2, 2], [2, 3, 6, 5], 12)


# ------------------------------------------------------------------ the search engine
def _random_instance(rng, n, bounds):
    V = np.triu(rng.random((n, n)) * 10, 1)
    return V + V.T


def _true_value(V, labels):
    same = labels[:, None] == labels[None, :]
    return float(np.triu(V * same, 1).sum())


@st.composite
def _grouping_cases(draw):
    m = draw(st.integers(2, 5))
    bounds = [(draw(st.integers(0, 3)), 0) for _ in range(m)]
    bounds = [(a, max(1, a + draw(st.integers(0, 3)))) for a, _ in bounds]
    lo = sum(a for a, _ in bounds)
    hi = sum(b for _, b in bounds)
    n = draw(st.integers(max(2, lo), max(2, lo, hi)))
    if n > hi:
        bounds[0] = (bounds[0][0], bounds[0][1] + n - hi)
    return n, bounds, draw(st.integers(0, 2**16))


@settings(max_examples=40, deadline=None)
@given(_grouping_cases())
def test_search_keeps_sizes_and_values_exact(case):
    n, bounds, seed = case
    rng = np.random.default_rng(seed)
    V = _random_instance(rng, n, bounds)
    prob = compile_grouping(V, bounds)
    res = solve_tabu(prob, budget=Budget(time_limit=None, work_limit=20_000), rng=rng)
    labels = res.assignment
    sizes = np.bincount(labels, minlength=len(bounds))
    lo, hi = np.array(bounds).T
    assert labels.shape == (n,) and labels.min() >= 0
    assert np.all((sizes >= lo) & (sizes <= hi))
    assert score(prob, labels).objective == pytest.approx(_true_value(V, labels), abs=1e-9)


def _free(n):
    """The kernels' rule arguments when no rule but sizes applies."""
    return False, np.ones(n, dtype=bool), np.zeros(n + 1, np.int64), np.zeros(0, np.int64)


def _member(V, bounds, seed):
    rng = np.random.default_rng(seed)
    kmin = np.array([a for a, _ in bounds], dtype=np.int64)
    kmax = np.array([b for _, b in bounds], dtype=np.int64)
    labels = tabu._block_labels(kmin, kmax, V.shape[0], rng, False)
    return tabu._Member(np.ascontiguousarray(V), labels, len(bounds)), kmin, kmax


@pytest.mark.parametrize("seed", range(4))
def test_kernels_keep_gain_matrix_and_value_in_step(seed):
    rng = np.random.default_rng(seed)
    bounds = [(2, 6), (3, 5), (1, 7), (4, 4)]
    V = _random_instance(rng, 16, bounds)
    m, kmin, kmax = _member(V, bounds, seed)
    W = np.ascontiguousarray(V)
    for step in range(20):
        free = _free(16)
        m.value += tabu._perturb(W, m.G, m.own, m.labels, m.size, kmin, kmax, 3, True, 0.5, step, *free)
        m.value += tabu._directed(W, m.G, m.own, m.labels, m.size, 2, *free)
        gain, evals = tabu._descent(W, m.G, m.own, m.labels, m.size, kmin, kmax, True, step, *free)
        m.value += gain
        assert evals > 0
        assert m.value == pytest.approx(_true_value(V, m.labels), abs=1e-8)
        fresh = tabu._Member(W, m.labels, 4)
        np.testing.assert_allclose(m.G, fresh.G, atol=1e-8)
        np.testing.assert_array_equal(m.size, np.bincount(m.labels, minlength=4))
        assert np.all((m.size >= kmin) & (m.size <= kmax))


def test_descent_ends_in_a_local_optimum():
    rng = np.random.default_rng(7)
    bounds = [(3, 6), (3, 6), (3, 6)]
    V = _random_instance(rng, 14, bounds)
    m, kmin, kmax = _member(V, bounds, 7)
    tabu._descent(np.ascontiguousarray(V), m.G, m.own, m.labels, m.size, kmin, kmax, True, 0, *_free(14))
    base = _true_value(V, m.labels)
    for p in range(14):
        for k in range(3):  # no improving feasible move
            if k != m.labels[p] and m.size[m.labels[p]] > 3 and m.size[k] < 6:
                a = m.labels.copy()
                a[p] = k
                assert _true_value(V, a) <= base + 1e-9
        for q in range(14):  # no improving swap
            a = m.labels.copy()
            a[p], a[q] = a[q], a[p]
            assert _true_value(V, a) <= base + 1e-9


@settings(max_examples=60, deadline=None)
@given(_grouping_cases())
def test_crossover_children_have_valid_sizes(case):
    n, bounds, seed = case
    rng = np.random.default_rng(seed)
    V = np.ascontiguousarray(_random_instance(rng, n, bounds))
    kmin = np.array([a for a, _ in bounds], dtype=np.int64)
    kmax = np.array([b for _, b in bounds], dtype=np.int64)
    a1 = tabu._block_labels(kmin, kmax, n, rng, False)
    a2 = tabu._block_labels(kmin, kmax, n, rng, True)
    child = np.empty(n, dtype=np.int64)
    tabu._crossover(V, a1, a2, kmin, kmax, seed, child)
    sizes = np.bincount(child, minlength=len(bounds))
    assert child.min() >= 0
    assert np.all((sizes >= kmin) & (sizes <= kmax))


def test_crossover_of_identical_parents_returns_them():
    rng = np.random.default_rng(1)
    bounds = [(4, 4)] * 3
    V = np.ascontiguousarray(_random_instance(rng, 12, bounds))
    kmin = kmax = np.full(3, 4, dtype=np.int64)
    a = tabu._block_labels(kmin, kmax, 12, rng, False)
    child = np.empty(12, dtype=np.int64)
    tabu._crossover(V, a, a.copy(), kmin, kmax, 0, child)
    np.testing.assert_array_equal(child, a)


def test_distance_between_partitions():
    a = np.array([0, 0, 1, 1])
    assert tabu._distance(a, a) == 0.0
    assert tabu._distance(a, np.array([1, 1, 0, 0])) == 0.0  # labels do not matter
    # {0,1},{2,3} vs {0,2},{1,3}: pairs 01, 23, 02, 13 differ out of 6
    assert tabu._distance(a, np.array([0, 1, 0, 1])) == pytest.approx(4 / 6)


def test_seeded_run_at_a_work_limit_is_reproducible():
    rng = np.random.default_rng(3)
    V = _random_instance(rng, 40, None)
    prob = compile_grouping(V, [(8, 12)] * 4)
    runs = [
        solve_tabu(prob, budget=Budget(time_limit=None, work_limit=300_000),
                   rng=np.random.default_rng(11)).assignment
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    other = solve_tabu(prob, budget=Budget(time_limit=None, work_limit=300_000),
                       rng=np.random.default_rng(12)).assignment
    assert score(prob, other).objective > 0


def test_start_is_never_made_worse():
    rng = np.random.default_rng(5)
    V = _random_instance(rng, 30, None)
    prob = compile_grouping(V, [(10, 10)] * 3)
    start = random_assignment(prob, rng)
    res = solve_tabu(prob, budget=Budget(time_limit=None, work_limit=1), start=start, rng=rng)
    assert score(prob, res.assignment).objective >= score(prob, start).objective - 1e-9


def test_time_limit_is_honoured():
    rng = np.random.default_rng(2)
    V = _random_instance(rng, 120, None)
    cm.group_by_pairs(V[:8, :8], [(4, 4), (4, 4)], seed=0, time_limit=0.5)  # load the kernels
    g = cm.group_by_pairs(V, [(12, 12)] * 10, seed=0, time_limit=0.4)
    assert g.elapsed < 0.4 + 0.3
    assert np.all(g.sizes == 12)


@pytest.mark.parametrize("seed", range(4))
def test_kernels_keep_pins_groups_and_apart_pairs(seed):
    """With rules, the pair-value kernels never move a pinned or grouped element, nor put
    two elements that must be apart together, and the gain matrix stays exact."""
    rng = np.random.default_rng(seed)
    n, bounds = 16, [(4, 4)] * 4
    V = _random_instance(rng, n, bounds)
    W = np.ascontiguousarray(V)
    labels = np.repeat(np.arange(4), 4)
    m = tabu._Member(W, labels, 4)
    free = np.ones(n, dtype=bool)
    free[[0, 5]] = False  # pinned / grouped
    pairs = [(1, 6), (2, 11), (7, 12)]  # in different groups at the start
    src = np.array([a for a, b in pairs] + [b for a, b in pairs])
    dst = np.array([b for a, b in pairs] + [a for a, b in pairs])
    order = np.lexsort((dst, src))
    cptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=cptr[1:])
    rules = (True, free, cptr, dst[order].astype(np.int64))
    kmin = kmax = np.full(4, 4, np.int64)
    for step in range(30):
        m.value += tabu._perturb(W, m.G, m.own, m.labels, m.size, kmin, kmax, 4, False, 0.0, step, *rules)
        m.value += tabu._directed(W, m.G, m.own, m.labels, m.size, 2, *rules)
        m.value += tabu._descent(W, m.G, m.own, m.labels, m.size, kmin, kmax, False, step, *rules)[0]
        assert m.labels[0] == 0 and m.labels[5] == 1
        assert all(m.labels[a] != m.labels[b] for a, b in pairs)
        assert m.value == pytest.approx(_true_value(V, m.labels), abs=1e-8)


def test_pair_values_with_links_and_pins_run_the_tabu_engine():
    org = cm.Organisation(people=[cm.Person(id=f"p{i:02d}", team=f"p{i:02d}") for i in range(24)])
    V = np.random.default_rng(0).random((24, 24))
    V = V + V.T
    course = cm.Course(id="c", min_size=6, max_size=6, pinned={"p00": "c-2"})
    policy = cm.Policy(mode="sum", keep_apart=[["p01", "p02", "p03"]], keep_together=[["p04", "p05"]])
    request = cm.Request(org=org, courses=[course], policy=policy, pair_values=V)
    plan = cm.plan(request, time_limit=None, work_limit=200_000, seed=1)
    assert plan.solver == "tabu"
    assert cm.validate(plan, request) == []
    free = cm.plan(cm.Request(org=org, courses=[course.model_copy(update={"pinned": {}})],
                              policy=cm.Policy(mode="sum"), pair_values=V),
                   time_limit=None, work_limit=200_000, seed=1)
    assert plan.metrics.objective >= 0.9 * free.metrics.objective
