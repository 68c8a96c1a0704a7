"""The rules as the compiled search kernels see them: one tuple of arrays, and checks.

:func:`kernel_rules` gathers each active rule's arrays (its ``kernel_fields``) into a
:class:`KernelRules`; inactive rules leave their defaults, which let everything through.
The checks below combine each rule's own compiled check (in the rule's module), so that a
kernel asks one question per move, swap or group move, and the Python search
(:class:`~cohortmatch.scoring.SearchState`) asks the same one.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit

from ..compiled import NO_CAP, CompiledProblem
from . import active
from .apart import apart_ok
from .pinned import pin_ok
from .sizes import sizes_ok
from .slots import slot_ok
from .team_cap import cap_room
from .together import single

__all__ = [
    "KernelRules",
    "kernel_rules",
    "move_ok",
    "swap_ok",
    "group_move_ok",
    "move_mask",
    "placement_masks",
]


class KernelRules(NamedTuple):
    """The arrays the kernels read, one field group per rule.

    Attributes
    ----------
    cap : int
        ``max_per_team`` (``NO_CAP``: none).
    conflict_indptr, conflict_units : int64 arrays
        Keep apart: CSR over units of the units each must not share a cohort with.
    fixed : int64 array (U,)
        Pinned: the cohort of each unit, -1 when free.
    unit_group : int64 array (U,)
        Keep together: the group of each unit, -1 for none.
    group_indptr, group_units : int64 arrays
        Keep together: the groups as a CSR over units.
    cohort_slot : int64 array (K,)
        Slots: the slot of each cohort (-1: none).
    unit_avail : bool array (U, S)
        Slots: whether each unit's person can come at each slot.
    sibling_indptr, sibling_units : int64 arrays
        Slots: CSR over units of the same person's units in other blocks with times.
    """

    cap: int
    conflict_indptr: np.ndarray
    conflict_units: np.ndarray
    fixed: np.ndarray
    unit_group: np.ndarray
    group_indptr: np.ndarray
    group_units: np.ndarray
    cohort_slot: np.ndarray
    unit_avail: np.ndarray
    sibling_indptr: np.ndarray
    sibling_units: np.ndarray


def kernel_rules(problem: CompiledProblem) -> KernelRules:
    """The :class:`KernelRules` of a problem (built once and kept).

    Examples
    --------
    >>> org = Organisation(people=[Person(id="m", team="a"), Person(id="r", team="a", manager="m")])
    >>> R = kernel_rules(compile_problem(org, [Course(id="c", min_size=1, max_size=1)]))
    >>> R.conflict_units.tolist(), R.fixed.tolist(), R.cap == NO_CAP
    ([1, 0], [-1, -1], True)
    """

    def build() -> KernelRules:
        U = problem.n_units
        fields: dict[str, Any] = {
            "cap": int(NO_CAP),
            "conflict_indptr": np.zeros(U + 1, np.int64),
            "conflict_units": np.zeros(0, np.int64),
            "fixed": np.full(U, -1, np.int64),
            "unit_group": np.full(U, -1, np.int64),
            "group_indptr": np.zeros(1, np.int64),
            "group_units": np.zeros(0, np.int64),
            "cohort_slot": np.full(problem.n_cohorts, -1, np.int64),
            "unit_avail": np.zeros((U, 0), np.bool_),
            "sibling_indptr": np.zeros(U + 1, np.int64),
            "sibling_units": np.zeros(0, np.int64),
        }
        for rule in active(problem):
            fields.update(rule.kernel_fields())
        return KernelRules(**fields)

    return problem.cached("kernel_rules", build)  # type: ignore[no-any-return]


@njit(cache=True)
def move_ok(R, u, k1, k2, unit_team, assignment, counts, size, cohort_min, cohort_max):  # type: ignore[no-untyped-def]  # noqa: E501  # pragma: no cover
    """Whether unit ``u`` may move alone from ``k1`` (-1: unplaced) to ``k2`` under every kernel rule."""
    return (
        k1 != k2
        and single(R, u)
        and pin_ok(R, u, k2)
        and sizes_ok(k1, k2, 1, size, cohort_min, cohort_max)
        and cap_room(R, unit_team[u], k2, counts, 1)
        and apart_ok(R, u, k2, -1, -1, assignment)
        and slot_ok(R, u, k2, assignment)
    )


@njit(cache=True)
def swap_ok(R, u, v, unit_team, assignment, counts):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Whether units ``u`` and ``v`` (placed, same block) may exchange cohorts under every kernel rule."""
    ku = assignment[u]
    kv = assignment[v]
    if ku == kv or ku < 0 or kv < 0 or not (single(R, u) and single(R, v)):
        return False
    if not (pin_ok(R, u, kv) and pin_ok(R, v, ku) and slot_ok(R, u, kv, assignment)
            and slot_ok(R, v, ku, assignment)):
        return False
    tu = unit_team[u]
    tv = unit_team[v]
    if tu != tv and not (cap_room(R, tu, kv, counts, 1) and cap_room(R, tv, ku, counts, 1)):
        return False
    return apart_ok(R, u, kv, v, -1, assignment) and apart_ok(R, v, ku, u, -1, assignment)


@njit(cache=True)
def group_move_ok(R, g, k1, k2, unit_team, assignment, counts, size, cohort_min, cohort_max):  # type: ignore[no-untyped-def]  # noqa: E501  # pragma: no cover
    """Whether ``keep_together`` group ``g`` may move as a whole from ``k1`` (-1: unplaced) to ``k2``."""
    lo = R.group_indptr[g]
    hi = R.group_indptr[g + 1]
    if k1 == k2 or not sizes_ok(k1, k2, hi - lo, size, cohort_min, cohort_max):
        return False
    for i in range(lo, hi):
        u = R.group_units[i]
        if not (pin_ok(R, u, k2) and apart_ok(R, u, k2, -1, g, assignment) and slot_ok(R, u, k2, assignment)):
            return False
        t = unit_team[u]
        same = 0
        for j in range(lo, hi):
            if unit_team[R.group_units[j]] == t:
                same += 1
        if not cap_room(R, t, k2, counts, same):
            return False
    return True


@njit(cache=True)
def move_mask(R, u, cohorts, unit_team, assignment, counts, size, cohort_min, cohort_max):  # type: ignore[no-untyped-def]  # noqa: E501  # pragma: no cover
    """:func:`move_ok` of unit ``u`` (or of its group) for each cohort of ``cohorts``."""
    out = np.zeros(cohorts.shape[0], np.bool_)
    k1 = assignment[u]
    g = R.unit_group[u]
    for i in range(cohorts.shape[0]):
        if g >= 0:
            out[i] = group_move_ok(R, g, k1, cohorts[i], unit_team, assignment, counts, size,
                                   cohort_min, cohort_max)
        else:
            out[i] = move_ok(R, u, k1, cohorts[i], unit_team, assignment, counts, size,
                             cohort_min, cohort_max)
    return out


@njit(cache=True)
def placement_masks(R, u, cohorts, unit_team, assignment, counts):  # type: ignore[no-untyped-def]  # pragma: no cover
    """For placing unplaced unit ``u``: per cohort, whether team cap and keep-apart allow it.

    Construction relaxes rules one at a time when no cohort keeps them all, so it asks
    for them separately (sizes are its own target sizes; pins and groups it places first).
    The slot rule comes with the team cap (relaxed last).
    """
    cap = np.zeros(cohorts.shape[0], np.bool_)
    apart = np.zeros(cohorts.shape[0], np.bool_)
    for i in range(cohorts.shape[0]):
        cap[i] = cap_room(R, unit_team[u], cohorts[i], counts, 1) and slot_ok(R, u, cohorts[i], assignment)
        apart[i] = apart_ok(R, u, cohorts[i], -1, -1, assignment)
    return cap, apart
