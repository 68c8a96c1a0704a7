"""Every construction of the designs library, checked by counting every pair directly."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schedules import assert_repeat_free, pair_counts

from cohortmatch.engines.base import Budget
from cohortmatch.engines.designs import Schedule, Shape, construct, constructions_for, schedule_problems
from cohortmatch.engines.designs.cyclic import (
    Cyclic,
    cyclic_configurations,
    cyclic_fits,
    cyclic_schedule,
    orbit_table,
)
from cohortmatch.engines.designs.fields import galois_field, prime_power
from cohortmatch.engines.designs.invariant import (
    Invariant,
    invariant_configurations,
    invariant_fits,
    invariant_rounds,
    invariant_schedule,
    symmetries,
)
from cohortmatch.engines.designs.kirkman import kirkman_fits, kirkman_schedule
from cohortmatch.engines.designs.product import product_factors, product_schedule
from cohortmatch.engines.designs.roundrobin import round_robin_fits, round_robin_schedule
from cohortmatch.engines.designs.transversal import transversal_fits, transversal_schedule


def complete(met, people):
    """Every pair of ``people`` met exactly once (a resolvable design, not just a packing)."""
    return len(met) == people * (people - 1) // 2 and set(met.values()) == {1}


# -- finite fields ---------------------------------------------------------------------------

@pytest.mark.parametrize("q", [2, 3, 4, 5, 7, 8, 9, 16, 25, 27, 32, 49, 64, 81, 121, 125, 128])
def test_field_axioms(q):
    F = galois_field(q)
    A, M = F.add, F.mul
    x = np.arange(q)
    assert (A[0] == x).all() and (M[1] == x).all() and (M[0] == 0).all()
    a, b, c = np.meshgrid(x, x, x, indexing="ij") if q <= 16 else np.random.default_rng(q).integers(
        0, q, (3, 5000))
    assert (A[a, A[b, c]] == A[A[a, b], c]).all() and (M[a, M[b, c]] == M[M[a, b], c]).all()
    assert (M[a, A[b, c]] == A[M[a, b], M[a, c]]).all()
    assert sorted(F.power.tolist()) == list(range(1, q))  # a primitive element
    assert (A[x, F.neg] == 0).all()


@pytest.mark.parametrize("n", [0, 1, 6, 10, 12, 15, 100, 2048])
def test_no_field_of_other_orders(n):
    assert galois_field(n) is None
    assert (prime_power(n) is None) == (n not in (2048,))


# -- Kirkman triple systems KTS(3q) ----------------------------------------------------------

@pytest.mark.parametrize("q", [7, 13, 19, 25, 31, 37, 43])
def test_kirkman_triple_systems_meet_every_pair_once(q):
    v = 3 * q
    s = kirkman_schedule(Shape(v, q, (v - 1) // 2))
    assert complete(assert_repeat_free(s.groups, [3] * q), v)


@pytest.mark.parametrize(
    "shape",
    [Shape(21, 7, 11), Shape(15, 5, 7), Shape(27, 9, 13), Shape(28, 7, 9), Shape(33, 11, 16),
     Shape(21, 7, 0), Shape(22, 7, 3)],
)
def test_kirkman_refuses(shape):
    assert not kirkman_fits(shape) and kirkman_schedule(shape) is None


def test_kirkman_rounds_are_a_prefix():
    full = kirkman_schedule(Shape(39, 13, 19)).groups
    assert np.array_equal(kirkman_schedule(Shape(39, 13, 7)).groups, full[:7])


# -- round robins ----------------------------------------------------------------------------

@pytest.mark.parametrize("n", list(range(2, 41, 2)) + [50, 64])
def test_round_robin_of_an_even_number_meets_every_pair_once(n):
    s = round_robin_schedule(Shape(n, n // 2, n - 1))
    assert complete(assert_repeat_free(s.groups, [2] * (n // 2)), n)


@pytest.mark.parametrize("n", list(range(11, 62, 2)) + [101])
def test_round_robin_of_an_odd_number_has_one_triple(n):
    s = round_robin_schedule(Shape(n, n // 2, n - 4), seed=n)
    met = assert_repeat_free(s.groups, [2] * (n // 2 - 1) + [3])
    assert len(met) == (n - 4) * (n // 2 + 2)  # 24 pairs and 3 in a triple, every round


@pytest.mark.parametrize(
    "shape",
    [Shape(50, 25, 50), Shape(51, 25, 48), Shape(9, 4, 5), Shape(7, 3, 3), Shape(12, 4, 5),
     Shape(10, 5, 0)],
)
def test_round_robin_refuses(shape):
    assert not round_robin_fits(shape) and round_robin_schedule(shape) is None


# -- transversal designs ---------------------------------------------------------------------

@pytest.mark.parametrize("m", [2, 3, 4, 5, 7, 8, 9, 11])
def test_transversal_designs_meet_across_rows_once(m):
    for p in range(2, m + 1):
        s = transversal_schedule(Shape(p * m, m, m))
        met = assert_repeat_free(s.groups, [p] * m)
        # people (i, y) have index i * m + y: only people of different rows meet, all of them
        assert all(a // m != b // m for a, b in met)
        assert len(met) == math.comb(p, 2) * m * m


@pytest.mark.parametrize("shape", [Shape(24, 6, 6), Shape(40, 10, 10), Shape(30, 5, 5),
                                   Shape(20, 5, 6), Shape(12, 4, 5)])
def test_transversal_refuses(shape):
    assert not transversal_fits(shape) and transversal_schedule(shape) is None


# -- products --------------------------------------------------------------------------------

def test_product_triples_a_kirkman_system():
    a = kirkman_schedule(Shape(21, 7, 10))
    one = Schedule(np.zeros((1, 3), np.int64), "test", "one triple")
    s = product_schedule(a, 3, one)
    assert complete(assert_repeat_free(s.groups, [3] * 21), 63)


def test_product_doubles_round_robins():
    s = product_schedule(round_robin_schedule(Shape(10, 5, 9)), 4,
                         round_robin_schedule(Shape(4, 2, 3)))
    assert complete(assert_repeat_free(s.groups, [2] * 20), 40)


@given(seed=st.integers(0, 2**16), m=st.sampled_from([3, 4, 5, 7]))
@settings(max_examples=15, deadline=None)
def test_product_of_any_schedule_is_repeat_free(seed, m):
    a = transversal_schedule(Shape(9, 3, 3))
    labels = np.random.default_rng(seed).permutation(9)
    shuffled = Schedule(a.groups[:, labels], "test", "relabelled")
    assert_repeat_free(product_schedule(shuffled, m).groups, [3] * (3 * m))


@pytest.mark.parametrize("shape", [Shape(63, 21, 31), Shape(112, 28, 37), Shape(40, 20, 39),
                                   Shape(25, 5, 6), Shape(81, 27, 40)])
def test_product_factors_add_up(shape):
    p = shape.uniform
    assert product_factors(shape)
    for a, m, b in product_factors(shape):
        assert a.people * m == shape.people and a.uniform == p and prime_power(m) and m >= p
        assert a.rounds * m + (b.rounds if b else 0) >= shape.rounds
        assert a.rounds * (p - 1) <= a.people - 1  # the factor is not impossible by counting
        assert b is None or (b.people == m and b.uniform == p)


@pytest.mark.parametrize("shape", [Shape(32, 8, 11), Shape(51, 25, 10), Shape(24, 8, 12),
                                   Shape(30, 6, 6)])
def test_product_factors_refuse(shape):
    assert product_factors(shape) == []


def test_product_factors_of_63_triples():
    a, m, b = product_factors(Shape(63, 21, 31))[0]
    assert (a, m, b) == (Shape(21, 7, 10), 3, Shape(3, 1, 1))


# -- base rounds developed under a cyclic group ----------------------------------------------

@pytest.mark.parametrize(
    ("shape", "complete_design"),
    [
        (Shape(28, 7, 9), True),  # resolvable (28, 4, 1) design: 7-4-9
        (Shape(21, 7, 10), True),  # Kirkman triple system on 21 people: 7-3-10
        (Shape(15, 5, 7), True),  # Kirkman's schoolgirls
        (Shape(30, 6, 6), False),  # 6-5-6
        (Shape(40, 10, 10), False),  # 10-4-10
        (Shape(18, 6, 8), False),  # 6-3-8
        (Shape(51, 25, 47), False),  # pairs and a triple
    ],
)
def test_cyclic_schedules_repeat_no_pair(shape, complete_design):
    s = cyclic_schedule(shape, budget=Budget(time_limit=60), seed=1)
    met = assert_repeat_free(s.groups, shape.sizes.tolist())
    assert complete(met, shape.people) == complete_design
    assert s.describe().startswith("base rounds developed under Z_")


@pytest.mark.parametrize("shape", [Shape(28, 7, 10), Shape(32, 8, 11), Shape(15, 5, 8),
                                   Shape(12, 3, 0), Shape(500, 250, 3), Shape(10, 10, 2)])
def test_cyclic_refuses(shape):
    assert not cyclic_fits(shape) and cyclic_schedule(shape) is None


@given(n=st.integers(2, 9), levels=st.integers(1, 4), fixed=st.integers(0, 3),
       shift=st.integers(1, 8))
@settings(max_examples=40, deadline=None)
def test_orbits_are_invariant_under_translation(n, levels, fixed, shift):
    config = Cyclic(n, levels, fixed, 1)
    T, n_orbits = orbit_table(config)
    finite = n * levels
    people = np.arange(config.people)
    moved = np.where(people < finite, (people // n) * n + (people % n + shift) % n, people)
    assert np.array_equal(T[np.ix_(moved, moved)], T)
    assert np.array_equal(T, T.T) and (np.diag(T) == n_orbits).all()
    assert (T[finite:, finite:] == n_orbits).all()  # fixed people never meet


def test_cyclic_configurations_count_orbits():
    configs = cyclic_configurations(Shape(21, 7, 10))
    assert [str(c) for c in configs] == ["Z_5 x 4 levels + 1 fixed, 2 base rounds"]
    assert cyclic_configurations(Shape(32, 8, 10))[0] == Cyclic(10, 3, 2, 1)


def test_cyclic_budget_ends_the_search():
    budget = Budget(time_limit=None, work_limit=1000)
    assert cyclic_schedule(Shape(32, 8, 10), budget=budget, seed=0) is None
    assert budget.work <= 1500


def test_cyclic_is_repeatable():
    a, b = (cyclic_schedule(Shape(28, 7, 9), seed=3).groups for _ in range(2))
    assert np.array_equal(a, b)


# -- rounds invariant under a group, chosen by CP-SAT -----------------------------------------

@pytest.mark.parametrize(
    ("shape", "complete_design"),
    [
        (Shape(32, 8, 10), False),  # 8-4-10: Aguado's 10 weeks (one partner left per person)
        (Shape(32, 8, 9), False),
        (Shape(25, 5, 6), True),  # 5-5-6: the affine plane of order 5
    ],
)
def test_invariant_schedules_repeat_no_pair(shape, complete_design):
    s = invariant_schedule(shape, budget=Budget(time_limit=60), seed=0)
    met = assert_repeat_free(s.groups, shape.sizes.tolist())
    assert complete(met, shape.people) == complete_design
    assert s.describe().startswith(f"{shape.rounds} rounds invariant under Z_")


@pytest.mark.parametrize("shape", [Shape(32, 8, 11), Shape(50, 25, 49), Shape(44, 11, 11),
                                   Shape(31, 8, 9), Shape(12, 4, 1)])
def test_invariant_refuses(shape):
    assert not invariant_fits(shape)


@pytest.mark.parametrize("config", [Invariant((2, 2, 2), 4), Invariant((4, 2), 4),
                                    Invariant((3,), 5), Invariant((5,), 3)])
def test_invariant_rounds_are_invariant_partitions(config):
    size = 4 if config.people % 4 == 0 else (5 if config.people % 5 == 0 else 3)
    listing = invariant_rounds(config, size)
    m, add = config.order, config.addition()
    for r in range(len(listing.rounds)):
        groups = {tuple(sorted(g)) for g in listing.groups(r)}
        assert sorted(x for g in groups for x in g) == list(range(config.people))
        assert all(len(g) == size for g in groups)
        for a in range(m):  # translating by a gives the same round
            moved = {tuple(sorted((x // m) * m + int(add[x % m, a]) for x in g)) for g in groups}
            assert moved == groups
    # Two rounds share a pair of people exactly when their rows of `uses` share a column.
    rng = np.random.default_rng(0)
    for _ in range(200):
        r, t = rng.integers(len(listing.rounds), size=2)
        meet = pair_counts([_labels(listing.groups(r)), _labels(listing.groups(t))])
        shared = bool((listing.uses[r] & listing.uses[t]).any())
        assert (r == t or max(meet.values()) > 1) == (r == t or shared)


def _labels(groups):
    out = np.empty(sum(len(g) for g in groups), np.int64)
    for j, g in enumerate(groups):
        out[list(g)] = j
    return out


def test_invariant_symmetries_map_rounds_to_rounds():
    config = Invariant((2, 2, 2), 4)
    listing = invariant_rounds(config, 4)
    index = {frozenset(tuple(sorted(g)) for g in listing.groups(r)): r
             for r in range(len(listing.rounds))}
    for g, levels in symmetries(config):
        person = [levels[x // 8] * 8 + int(g[x % 8]) for x in range(32)]
        images = {index[frozenset(tuple(sorted(person[x] for x in grp)) for grp in listing.groups(r))]
                  for r in range(len(listing.rounds))}
        assert len(images) == len(listing.rounds)  # a permutation of the listed rounds


def test_invariant_configurations_list_each_group_once():
    orders = {c.factors for c in invariant_configurations(Shape(48, 12, 3)) if c.order == 24}
    assert orders == {(8, 3), (4, 3, 2), (3, 2, 2, 2)}  # Z_24, Z_12 x Z_2, Z_6 x Z_2 x Z_2
    first = invariant_configurations(Shape(32, 8, 10))[0]
    assert (first.factors, first.levels) == ((2, 2, 2), 4)


def test_an_interrupted_listing_resumes_where_it_stopped(monkeypatch):
    from cohortmatch.engines.designs import invariant

    monkeypatch.setattr(invariant, "_LISTINGS", {})
    monkeypatch.setattr(invariant, "_UNFINISHED", {})
    config = Invariant((4, 2), 4)
    assert invariant_rounds(config, 4, budget=Budget(time_limit=0.0)) is None
    assert (config, 4) in invariant._UNFINISHED
    resumed = invariant_rounds(config, 4)
    assert (config, 4) not in invariant._UNFINISHED
    fresh = invariant._listing(config, 4)
    try:
        while True:
            next(fresh)
    except StopIteration as done:
        whole = done.value
    assert resumed.rounds == whole.rounds and np.array_equal(resumed.uses, whole.uses)
    assert invariant_rounds(config, 4) is resumed  # kept for the next call


def test_remembered_attempts_give_what_a_fresh_run_gives(monkeypatch):
    from cohortmatch.engines.designs import invariant

    shape = Shape(32, 8, 10)
    invariant_schedule(shape, budget=Budget(time_limit=None, work_limit=50_000))
    again = Budget(time_limit=None, work_limit=50_000)
    remembered = invariant_schedule(shape, budget=again)
    monkeypatch.setattr(invariant, "_SETTLED", {})
    fresh_budget = Budget(time_limit=None, work_limit=50_000)
    fresh = invariant_schedule(shape, budget=fresh_budget)
    assert np.array_equal(remembered.groups, fresh.groups)
    assert again.work == fresh_budget.work
    short = Budget(time_limit=None, work_limit=10)  # less than the attempts took: run again
    assert invariant_schedule(shape, budget=short) is None


def test_invariant_budget_and_repeatability():
    budget = Budget(time_limit=None, work_limit=10)
    assert invariant_schedule(Shape(32, 8, 10), budget=budget, seed=0) is None
    assert budget.work <= 10 + 200  # one CP-SAT call past the limit (at least 0.01 det. s)
    a, b = (invariant_schedule(Shape(32, 8, 10), seed=5).groups for _ in range(2))
    assert np.array_equal(a, b)


# -- the library -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("shape", "construction"),
    [
        (Shape(50, 25, 49), "round robin"),
        (Shape(51, 25, 47), "round robin"),
        (Shape(32, 8, 9), "affine"),
        (Shape(21, 7, 10), "kirkman"),
        (Shape(44, 11, 11), "transversal"),
        (Shape(63, 21, 31), "product"),
        (Shape(28, 7, 9), "cyclic"),
        (Shape(32, 8, 10), "invariant"),
        (Shape(9, 3, 1), "one round"),
    ],
)
def test_construct_uses_the_first_that_fits(shape, construction):
    s = construct(shape, budget=Budget(time_limit=None, work_limit=100_000), seed=0)
    assert s.construction == construction
    assert schedule_problems(s, shape) == []
    assert max(pair_counts(s.groups).values(), default=1) == 1


def test_construct_refuses_the_impossible():
    assert construct(Shape(32, 8, 11), seed=0) is None  # 3 x 11 > 31 partners
    assert constructions_for(Shape(32, 8, 11)) == []
    assert construct(Shape(32, 8, 10), budget=Budget(time_limit=None, work_limit=200),
                     seed=0) is None  # 8-4-10 needs more work than this


def test_schedule_problems_name_what_is_wrong():
    ok = Schedule(np.array([[0, 0, 1, 1], [0, 1, 0, 1]]), "t", "")
    assert schedule_problems(ok, Shape(4, 2, 3)) == ["schedule has shape (2, 4), expected (3, 4)"]
    uneven = Schedule(np.array([[0, 0, 0, 1]]), "t", "")
    assert schedule_problems(uneven, Shape(4, 2, 1)) == ["round 0: group sizes [1, 3], expected [2, 2]"]
    outside = Schedule(np.array([[0, 0, 2, 2]]), "t", "")
    assert "outside" in schedule_problems(outside, Shape(4, 2, 1))[0]
    twice = Schedule(np.array([[0, 0, 1, 1], [1, 1, 0, 0]]), "t", "")
    assert schedule_problems(twice, Shape(4, 2, 2)) == [
        "2 pair(s) share a group more than once (e.g. people 0 and 1)"]
