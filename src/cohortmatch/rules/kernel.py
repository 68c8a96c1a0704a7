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
from .balance import balance_cost
from .isolation import isolation_cost
from .pinned import pin_ok
from .quota import quota_cost
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
    "counts_move_ok",
    "counts_move_change",
    "counts_swap_ok",
    "counts_swap_change",
    "counts_group_ok",
    "row_changes",
    "permute_cohorts",
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
    unit_rows : int64 array (U, A)
        Mix rules (:mod:`.counts`): each unit's row (value) of every counted attribute.
    mix_counts : int64 array (K, C)
        People of each row in each cohort (a cohort's counts side by side): a search state binds counts of its own
        (:func:`~cohortmatch.rules.counts.bind_counts`) and keeps them as units move.
    mix_block : int64 array (K,)
        The block of each cohort (whose participants set the shares).
    row_attr, attr_indptr, row_block_n, block_n : int64 arrays
        Each row's attribute, the rows of each attribute, the participants of each block
        with each value, and of each block.
    row_lo, row_hi : int64 arrays (C,)
        ``at_least`` and ``at_most`` of each row.
    attr_iso, attr_balance : bool arrays (A,)
        ``no_isolation`` and ``balance`` attributes; ``balance_soft``: balance is an
        objective (a move may not add to the total deviation).
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
    unit_rows: np.ndarray
    mix_counts: np.ndarray
    mix_block: np.ndarray
    row_attr: np.ndarray
    attr_indptr: np.ndarray
    row_block_n: np.ndarray
    block_n: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    attr_iso: np.ndarray
    attr_balance: np.ndarray
    balance_soft: bool
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
        U, K, B = problem.n_units, problem.n_cohorts, problem.n_blocks
        cats = problem.categories
        C, A = (cats.n_rows, len(cats.attributes)) if cats is not None else (0, 0)
        fields: dict[str, Any] = {
            "cap": int(NO_CAP),
            "conflict_indptr": np.zeros(U + 1, np.int64),
            "conflict_units": np.zeros(0, np.int64),
            "fixed": np.full(U, -1, np.int64),
            "unit_group": np.full(U, -1, np.int64),
            "group_indptr": np.zeros(1, np.int64),
            "group_units": np.zeros(0, np.int64),
            "unit_rows": np.zeros((U, 0), np.int64),
            "mix_counts": np.zeros((K, C), np.int64),
            "mix_block": problem.cohort_block.astype(np.int64),
            "row_attr": np.zeros(C, np.int64),
            "attr_indptr": np.zeros(A + 1, np.int64),
            "row_block_n": np.zeros((C, B), np.int64),
            "block_n": np.zeros(B, np.int64),
            "row_lo": np.zeros(C, np.int64),
            "row_hi": np.full(C, NO_CAP, np.int64),
            "attr_iso": np.zeros(A, np.bool_),
            "attr_balance": np.zeros(A, np.bool_),
            "balance_soft": False,
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
        and counts_move_ok(R, u, k1, k2, size)
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
    return (apart_ok(R, u, kv, v, -1, assignment) and apart_ok(R, v, ku, u, -1, assignment)
            and counts_swap_ok(R, u, v, ku, kv))


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
    return counts_group_ok(R, g, k1, k2, size)


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


# ------------------------------------------------------------------ mix rules (counts)
@njit(cache=True, inline="always")
def _cell(R, c, k, n, s):  # type: ignore[no-untyped-def]  # pragma: no cover
    """(hard, soft) violations of ``n`` people with row ``c`` in cohort ``k`` of ``s`` people."""
    hard = quota_cost(R, c, n) + isolation_cost(R, c, k, n)
    deviation = balance_cost(R, c, k, n, s)
    if R.balance_soft:
        return hard, deviation
    return hard + deviation, 0


@njit(cache=True, inline="always")
def _row_change(R, c, k, d, s0, s1):  # type: ignore[no-untyped-def]  # pragma: no cover
    """(hard, soft) change of row ``c`` of cohort ``k`` gaining ``d`` people as its size goes s0 -> s1."""
    n0 = R.mix_counts[k, c]
    h0, f0 = _cell(R, c, k, n0, s0)
    h1, f1 = _cell(R, c, k, n0 + d, s1)
    return h1 - h0, f1 - f0


@njit(cache=True)
def _cohort_change(R, k, units, lo, hi, sign, s0, s1):  # type: ignore[no-untyped-def]  # pragma: no cover
    """(worst, hard, soft) change of ``units[lo:hi]`` leaving (``sign`` -1) or joining (+1)
    cohort ``k``: the largest change of one row's hard cost, and the sums.

    Rows whose count changes are priced; with a size change, every row of a balanced
    attribute too (its bounds move).
    """
    worst = 0
    hard = 0
    soft = 0
    for a in range(R.unit_rows.shape[1]):
        whole = R.attr_balance[a] and s0 != s1
        first = R.attr_indptr[a] if whole else lo
        last = R.attr_indptr[a + 1] if whole else hi
        for i in range(first, last):
            c = i if whole else R.unit_rows[units[i], a]
            if not whole:
                seen = False
                for j in range(lo, i):
                    seen = seen or R.unit_rows[units[j], a] == c
                if seen:
                    continue
            d = 0
            for j in range(lo, hi):
                if R.unit_rows[units[j], a] == c:
                    d += sign
            h, f = _row_change(R, c, k, d, s0, s1)
            worst = max(worst, h)
            hard += h
            soft += f
    return worst, hard, soft


@njit(cache=True)
def _counts_moved(R, units, lo, hi, k1, k2, size):  # type: ignore[no-untyped-def]  # pragma: no cover
    """(worst, hard, soft) of ``units[lo:hi]`` moving from ``k1`` (-1: unplaced) to ``k2``."""
    m = hi - lo
    worst, hard, soft = _cohort_change(R, k2, units, lo, hi, 1, size[k2], size[k2] + m)
    if k1 >= 0:
        w, h, f = _cohort_change(R, k1, units, lo, hi, -1, size[k1], size[k1] - m)
        worst, hard, soft = max(worst, w), hard + h, soft + f
    return worst, hard, soft


@njit(cache=True)
def counts_move_change(R, u, k1, k2, size):  # type: ignore[no-untyped-def]  # pragma: no cover
    """(worst, hard, soft) change of the mix rules' costs when unit ``u`` moves from ``k1``
    (-1: unplaced) to ``k2``: the largest change of one count's violations, the change of
    all violations, and of the soft balance deviation."""
    if R.unit_rows.shape[1] == 0:
        return 0, 0, 0
    one = np.empty(1, np.int64)
    one[0] = u
    return _counts_moved(R, one, 0, 1, k1, k2, size)


@njit(cache=True)
def counts_move_ok(R, u, k1, k2, size):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Whether unit ``u`` may move from ``k1`` to ``k2`` under the mix rules: no count gets
    further from its limits (soft balance: the total deviation does not grow)."""
    worst, _, soft = counts_move_change(R, u, k1, k2, size)
    return worst <= 0 and soft <= 0


@njit(cache=True)
def counts_group_ok(R, g, k1, k2, size):  # type: ignore[no-untyped-def]  # pragma: no cover
    """:func:`counts_move_ok` for ``keep_together`` group ``g`` moving as a whole."""
    if R.unit_rows.shape[1] == 0:
        return True
    worst, _, soft = _counts_moved(R, R.group_units, R.group_indptr[g], R.group_indptr[g + 1], k1, k2, size)
    return worst <= 0 and soft <= 0


@njit(cache=True, inline="always")
def counts_swap_change(R, u, v, ku, kv):  # type: ignore[no-untyped-def]  # pragma: no cover
    """(worst, hard, soft) change of the mix rules' costs when units ``u`` (in ``ku``) and
    ``v`` (in ``kv``) exchange cohorts (as :func:`counts_move_change`)."""
    worst = 0
    hard = 0
    soft = 0
    for a in range(R.unit_rows.shape[1]):
        cu = R.unit_rows[u, a]
        cv = R.unit_rows[v, a]
        if cu == cv:
            continue
        for side in range(2):
            k = ku if side == 0 else kv
            s = 0
            if R.attr_balance[a]:  # sizes stay: a row's bounds need the size of its cohort
                for c in range(R.attr_indptr[a], R.attr_indptr[a + 1]):
                    s += R.mix_counts[k, c]
            h, f = _row_change(R, cu, k, 1 - 2 * (side == 0), s, s)
            h2, f2 = _row_change(R, cv, k, 2 * (side == 0) - 1, s, s)
            worst = max(worst, h, h2)
            hard += h + h2
            soft += f + f2
    return worst, hard, soft


@njit(cache=True, inline="always")
def counts_swap_ok(R, u, v, ku, kv):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Whether units ``u`` (in ``ku``) and ``v`` (in ``kv``) may exchange cohorts under the mix rules."""
    worst, _, soft = counts_swap_change(R, u, v, ku, kv)
    return worst <= 0 and soft <= 0


@njit(cache=True)
def row_changes(R, c, cs, ce, size, d, ds):  # type: ignore[no-untyped-def]  # pragma: no cover
    """(hard, soft) change of the cost of row ``c`` in each cohort ``cs..ce-1`` when its count
    changes by ``d`` and the cohort's size by ``ds`` (``d`` for a move, 0 for a swap)."""
    hard = np.zeros(ce - cs, np.int64)
    soft = np.zeros(ce - cs, np.int64)
    for k in range(cs, ce):
        n = R.mix_counts[k, c]
        if n + d < 0:
            hard[k - cs] = 1 << 40
            continue
        h0, f0 = _cell(R, c, k, n, size[k])
        h1, f1 = _cell(R, c, k, n + d, size[k] + ds)
        hard[k - cs] = h1 - h0
        soft[k - cs] = f1 - f0
    return hard, soft


def permute_cohorts(R: KernelRules, order: np.ndarray) -> KernelRules:
    """``R`` for a search that sees the cohorts in another ``order`` (new -> old), as
    partition search does: pins renamed, cohort columns, blocks and slots permuted."""
    pos = np.empty(order.shape[0], np.int64)
    pos[order] = np.arange(order.shape[0])
    return R._replace(
        fixed=np.where(R.fixed >= 0, pos[np.maximum(R.fixed, 0)], -1),
        mix_counts=R.mix_counts[order],
        mix_block=R.mix_block[order],
        cohort_slot=R.cohort_slot[order],
    )
