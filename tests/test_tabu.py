"""Tests of the tabu engine's helpers: size profiles and random starts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cohortmatch.compiled import compile_grouping
from cohortmatch.solvers.tabu import most_pairs_sizes, random_assignment


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
