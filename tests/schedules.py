"""Test helper: count, from a schedule alone, how often each pair of people shares a group."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np


def pair_counts(groups) -> Counter:
    """``{(x, y): rounds in which x < y share a group}``, counted pair by pair."""
    met: Counter = Counter()
    for week in np.asarray(groups).tolist():
        by_group: dict[int, list[int]] = {}
        for person, group in enumerate(week):
            by_group.setdefault(group, []).append(person)
        for members in by_group.values():
            met.update(itertools.combinations(members, 2))
    return met


def assert_repeat_free(groups, sizes) -> Counter:
    """Every round has the group ``sizes`` (any order) and no pair meets twice; the counts."""
    groups = np.asarray(groups)
    for week in groups:
        assert sorted(np.bincount(week).tolist()) == sorted(sizes)
    met = pair_counts(groups)
    assert max(met.values(), default=0) == 1
    return met
