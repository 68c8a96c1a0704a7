"""Which cohort of a re-plan continues which published cohort, and so keeps its id.

A cohort of today's request *continues* a published cohort (its *label*) when the re-plan
gives it that cohort's id. A person stays when their cohort continues the cohort they had;
every other person of the published plan who still takes the course round moves. Cohorts
nobody is pinned to are interchangeable, so the labels they continue are chosen to keep as
many people as possible (a maximum-weight matching); a cohort someone is pinned to has
the id the pin names, and continues the published cohort of that id if there is one.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components

from ..compiled import CompiledProblem
from ..errors import InputError
from ..request import Request
from ..result import Plan
from .previous import Previous, read_previous

__all__ = ["FREE", "fixed_labels", "initial_anchor", "best_anchor", "matching", "relabel", "home_of", "stays",
           "cohort_ids", "count_moves"]

#: ``fixed_labels`` value of a cohort nobody is pinned to (its label is chosen).
FREE = -2
#: Above this many cells a component of the matching is solved greedily, not exactly.
DENSE_MATCHING = 4_000_000


def fixed_labels(problem: CompiledProblem, prev: Previous) -> np.ndarray:
    """Per cohort: the label a pinned cohort must continue (-1: none, a new cohort), or :data:`FREE`.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> from cohortmatch.replanning.previous import read_previous
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="t") for i in range(4)])
    >>> req = cm.Request(org=org, courses=[cm.Course(id="c", min_size=2, max_size=2)])
    >>> before = cm.plan(req, time_limit=None, work_limit=100, seed=0)
    >>> pinned = cm.Request(org=org, courses=[cm.Course(id="c", min_size=2, max_size=2,
    ...                                                 pinned={"p3": "c-2"})])
    >>> problem = pinned.compile()
    >>> fixed_labels(problem, read_previous(before, problem)).tolist()
    [-2, 1]
    """
    p = problem
    out = np.full(p.n_cohorts, FREE, np.int64)
    by_id = {(int(prev.label_block[i]), cid): i for i, cid in enumerate(prev.label_ids)}
    for k in np.unique(p.pin_cohort).tolist():
        out[k] = by_id.get((int(p.cohort_block[k]), p.cohort_ids[k]), -1)
    return out


def initial_anchor(problem: CompiledProblem, prev: Previous) -> np.ndarray:
    """A first label for every cohort (-1: new), before any search.

    Pinned cohorts take their fixed label. In each block the published cohorts with the
    most people still taking the course round are continued, as many as the block has
    free cohorts: by the cohort of the same id where there is one, else in order.

    Returns
    -------
    int64 array (K,)
    """
    p = problem
    fixed = fixed_labels(p, prev)
    label = np.where(fixed == FREE, -1, fixed)
    taken = np.zeros(prev.n_labels, dtype=bool)
    taken[fixed[fixed >= 0]] = True
    for b in range(p.n_blocks):
        cs, ce = p.block_of_cohort_range(b)
        free = [k for k in range(cs, ce) if fixed[k] == FREE]
        mine = [int(x) for x in prev.block_labels(b) if not taken[x] and prev.survivors[x] > 0]
        mine.sort(key=lambda x: -int(prev.survivors[x]))
        keep = mine[: len(free)]
        by_id = {p.cohort_ids[k]: k for k in free}
        rest = []
        for x in keep:
            k = by_id.pop(prev.label_ids[x], None)
            if k is None:
                rest.append(x)
            else:
                label[k] = x
        for x, k in zip(rest, sorted(by_id.values()), strict=False):
            label[k] = x
    return label


def best_anchor(problem: CompiledProblem, prev: Previous, assignment: np.ndarray) -> np.ndarray:
    """The labels that keep the most people of ``assignment`` in their published cohorts.

    A maximum-weight matching of free cohorts to free labels (weight: the people of the
    label in the cohort), solved exactly per connected component
    (``scipy.optimize.linear_sum_assignment``); a component of more than
    :data:`DENSE_MATCHING` cells is matched greedily, heaviest pair first. A label no
    one stays with is not continued (its cohort gets a new id).

    Returns
    -------
    int64 array (K,)
        Label of each cohort, -1 for a new cohort.
    """
    p = problem
    a = np.asarray(assignment, np.int64)
    fixed = fixed_labels(p, prev)
    label = np.where(fixed == FREE, -1, fixed)
    taken = np.zeros(prev.n_labels, dtype=bool)
    taken[fixed[fixed >= 0]] = True
    lab = prev.unit_label
    ok = (a >= 0) & (lab >= 0)
    ok[ok] = (fixed[a[ok]] == FREE) & ~taken[lab[ok]]
    for k, x in matching(a[ok], lab[ok], p.n_cohorts, prev.n_labels):
        label[k] = x
    return label


def matching(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> list[tuple[int, int]]:
    """A maximum-weight one-to-one matching of rows to columns, weighted by how often each
    ``(row, col)`` pair occurs (one per unit); only pairs of positive weight are returned.

    Examples
    --------
    >>> matching(np.array([0, 0, 1, 1, 1]), np.array([1, 1, 1, 0, 0]), 2, 2)
    [(0, 1), (1, 0)]
    """
    if rows.shape[0] == 0:
        return []
    keys, weight = np.unique(np.asarray(rows, np.int64) * n_cols + cols, return_counts=True)
    rows, cols = keys // n_cols, keys % n_cols
    graph = sp.coo_matrix((np.ones(rows.shape[0]), (rows, n_rows + cols)),
                          shape=(n_rows + n_cols, n_rows + n_cols))
    _, comp = connected_components(graph, directed=False)
    edge_comp = comp[rows]
    order = np.argsort(edge_comp, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(edge_comp[order]) != 0, True])
    single = np.diff(bounds) == 1  # a component of one pair: matched as it is
    out = list(zip(rows[order[bounds[:-1][single]]].tolist(), cols[order[bounds[:-1][single]]].tolist(),
                   strict=True))
    for lo, hi in zip(bounds[:-1][~single].tolist(), bounds[1:][~single].tolist(), strict=True):
        idx = order[lo:hi]
        out += _match(rows[idx], cols[idx], weight[idx])
    return sorted(out)


def _match(rows: np.ndarray, cols: np.ndarray, weight: np.ndarray) -> list[tuple[int, int]]:
    """Maximum-weight matching of one component, as ``(cohort, label)`` pairs."""
    ur, ri = np.unique(rows, return_inverse=True)
    uc, ci = np.unique(cols, return_inverse=True)
    if ur.shape[0] * uc.shape[0] <= DENSE_MATCHING:
        dense = np.zeros((ur.shape[0], uc.shape[0]))
        dense[ri, ci] = weight
        r, c = linear_sum_assignment(dense, maximize=True)
        keep = dense[r, c] > 0
        return list(zip(ur[r[keep]].tolist(), uc[c[keep]].tolist(), strict=True))
    out, used_r, used_c = [], set(), set()
    for i in np.lexsort((cols, rows, -weight)).tolist():
        if rows[i] not in used_r and cols[i] not in used_c:
            used_r.add(rows[i])
            used_c.add(cols[i])
            out.append((int(rows[i]), int(cols[i])))
    return out


def relabel(problem: CompiledProblem, prev: Previous, assignment: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """The same plan with its free cohorts renumbered, block by block, so that the labels
    :func:`best_anchor` finds for it sit in the cohorts ``anchor`` gives them (where it can).

    Free cohorts are interchangeable, so the plan keeps every rule and its value.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> from cohortmatch.replanning.previous import read_previous
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4)])
    >>> req = cm.Request(org=org, courses=[cm.Course(id="c", min_size=2, max_size=2)])
    >>> problem = req.compile()
    >>> prev = read_previous(cm.plan(req, time_limit=None, work_limit=100, seed=0), problem)
    >>> a = prev.unit_label                       # the published plan itself
    >>> relabel(problem, prev, 1 - a, best_anchor(problem, prev, a)).tolist() == a.tolist()
    True
    """
    p = problem
    a = np.asarray(assignment, np.int64)
    fixed = fixed_labels(p, prev)
    now = best_anchor(p, prev, a)
    cohort_of = np.full(prev.n_labels, -1, np.int64)
    cohort_of[anchor[anchor >= 0]] = np.flatnonzero(anchor >= 0)
    to = np.arange(p.n_cohorts)
    for b in range(p.n_blocks):
        cs, ce = p.block_of_cohort_range(b)
        free = [k for k in range(cs, ce) if fixed[k] == FREE]
        target: dict[int, int] = {}
        for k in free:
            x = int(now[k])
            if x >= 0 and cohort_of[x] >= 0 and fixed[cohort_of[x]] == FREE:
                target[k] = int(cohort_of[x])
        rest = [k for k in free if k not in set(target.values())]
        for k in free:
            if k not in target:
                target[k] = rest.pop(0)
        for k, j in target.items():
            to[k] = j
    return np.where(a >= 0, to[np.maximum(a, 0)], -1)


def home_of(prev: Previous, label: np.ndarray) -> np.ndarray:
    """Per unit: the cohort continuing its published cohort (-1: none; a newcomer or a closed cohort)."""
    cohort_of = np.full(prev.n_labels + 1, -1, np.int64)
    kept = np.flatnonzero(label >= 0)
    cohort_of[label[kept]] = kept
    return cohort_of[np.where(prev.unit_label >= 0, prev.unit_label, prev.n_labels)]


def stays(prev: Previous, label: np.ndarray, assignment: np.ndarray) -> np.ndarray:
    """Boolean mask over units: in the cohort continuing their published one."""
    home = home_of(prev, label)
    return (home >= 0) & (np.asarray(assignment) == home)


_NUMBERED = re.compile(r"^(.*)-(\d+)$")


def cohort_ids(problem: CompiledProblem, prev: Previous, label: np.ndarray) -> tuple[list[str], list[str]]:
    """The id of every cohort, and the published ids no cohort continues (emptied cohorts).

    A cohort continuing a label has the label's id; a pinned cohort with no label the id the
    pin names; any other cohort a new id, numbered on from the block's published ids
    (``x-9`` after ``x-1`` to ``x-8``), never one the published plan used.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> from cohortmatch.replanning.previous import read_previous
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="t") for i in range(6)])
    >>> req = cm.Request(org=org, courses=[cm.Course(id="c", min_size=2, max_size=2)])
    >>> before = cm.plan(req, time_limit=None, work_limit=100, seed=0)
    >>> problem = req.compile()
    >>> cohort_ids(problem, read_previous(before, problem), np.array([2, -1, 0]))
    (['c-3', 'c-4', 'c-1'], ['c-2'])
    """
    p = problem
    fixed = fixed_labels(p, prev)
    used = set(prev.used_ids) | {p.cohort_ids[k] for k in np.flatnonzero(fixed == -1).tolist()}
    ids: list[str] = []
    for b in range(p.n_blocks):
        cs, ce = p.block_of_cohort_range(b)
        stem, n = _numbering(p.cohort_ids[cs], [prev.label_ids[x] for x in prev.block_labels(b).tolist()])
        for k in range(cs, ce):
            if label[k] >= 0:
                ids.append(prev.label_ids[label[k]])
            elif fixed[k] == -1:
                ids.append(p.cohort_ids[k])
            else:
                while f"{stem}-{n}" in used:
                    n += 1
                ids.append(f"{stem}-{n}")
                used.add(ids[-1])
    continued = set(label[label >= 0].tolist())
    emptied = [cid for x, cid in enumerate(prev.label_ids) if x not in continued]
    return ids, emptied


def _numbering(compiled_id: str, published: list[str]) -> tuple[str, int]:
    """Stem and first number of new ids in a block: the published ids' if they share
    ``<stem>-<n>``, else today's naming."""
    found = [m for cid in published if (m := _NUMBERED.match(cid)) is not None]
    stems = {m.group(1) for m in found}
    if found and len(found) == len(published) and len(stems) == 1:
        return stems.pop(), max(int(m.group(2)) for m in found) + 1
    match = _NUMBERED.match(compiled_id)
    return (match.group(1) if match else compiled_id), 1


def count_moves(previous: Plan, plan: Plan, request: Request) -> int:
    """How many places of ``previous`` a plan of today's ``request`` moves.

    The count :func:`cohortmatch.replan` minimises, for any plan: its cohorts are matched
    one to one to the published ones so as to keep the most people (pins aside), and every
    person of the published plan who still takes the course round and is not in the match
    of their cohort moves. Use it to see what publishing a plan made from scratch would cost.

    Raises
    ------
    InputError
        Either plan does not fit the request (see
        :func:`~cohortmatch.replanning.previous.read_previous`), or ``plan`` leaves a
        participant out.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(6)])
    >>> req = cm.Request(org=org, courses=[cm.Course(id="c", min_size=3, max_size=3)])
    >>> before = cm.plan(req, time_limit=None, work_limit=100, seed=0)
    >>> count_moves(before, before, req), count_moves(before, cm.plan(req, time_limit=None,
    ...                                                             work_limit=100, seed=5), req) >= 0
    (0, True)
    """
    problem = request.compile()
    prev = read_previous(previous, problem)
    now = read_previous(plan, problem)
    if np.any(now.unit_label < 0):
        u = int(np.flatnonzero(now.unit_label < 0)[0])
        raise InputError(f"count_moves: the plan leaves out {problem.person_ids[problem.unit_person[u]]!r}")
    mine, theirs = now.unit_label[prev.unit_label >= 0], prev.unit_label[prev.unit_label >= 0]
    match_of = np.full(prev.n_labels, -1, np.int64)
    for r, c in matching(mine, theirs, now.n_labels, prev.n_labels):
        match_of[c] = r
    return int((match_of[theirs] != mine).sum())
