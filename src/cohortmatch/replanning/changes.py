"""What changed between a published plan and its re-plan, person by person, and why.

The reason of a move is read from the finished plan, whoever made it: a person moved to
keep a rule when going back alone (with their ``keep_together`` group when all of it came
from the same cohort) to the cohort continuing theirs would break that rule, today, in
that plan; a person whose cohort does not go on moved to keep cohort sizes; anyone else
moved to improve the gap value. With a move cap above the fewest moves, only the people a
plan with the fewest moves moved can have moved for a rule: the others moved for the gap
value.
"""

from __future__ import annotations

import numpy as np

from ..compiled import CompiledProblem
from ..result import Change, ChangeReason
from ..rules.kernel import kernel_rules
from .anchors import FREE, fixed_labels, home_of
from .local import LocalCheck
from .previous import Previous

__all__ = ["changes", "moved_units"]


def moved_units(prev: Previous, label: np.ndarray, assignment: np.ndarray) -> np.ndarray:
    """Units of the published plan still in the request whose cohort does not continue theirs."""
    home = home_of(prev, label)
    return np.flatnonzero((prev.unit_label >= 0) & (np.asarray(assignment) != home))


def changes(
    problem: CompiledProblem,
    prev: Previous,
    assignment: np.ndarray,
    label: np.ndarray,
    ids: list[str],
    *,
    forced: np.ndarray | None = None,
) -> list[Change]:
    """One :class:`~cohortmatch.result.Change` per person and course round whose place changed.

    Parameters
    ----------
    problem : CompiledProblem
    prev : Previous
    assignment : int64 array (U,)
        The re-plan (keeps every rule).
    label : int64 array (K,)
        The published cohort each cohort continues (-1: new).
    ids : list of str
        The id of each cohort in the re-plan.
    forced : bool array (U,), optional
        With a move cap: the units a plan with the fewest moves moved; other moves are
        for the gap value.

    Returns
    -------
    list of Change
        Ordered by course, round and person: people who left, joined or moved.
    """
    p = problem
    a = np.asarray(assignment, np.int64)
    out = list(prev.left)
    for u in np.flatnonzero(prev.unit_label < 0).tolist():
        detail = "was not placed in the published plan" if prev.was_unassigned[u] else "new to the course round"
        out.append(_change(p, u, None, ids[a[u]], ChangeReason.JOINED, None, detail))
    check = LocalCheck(p)
    home = home_of(prev, label)
    closing = _closing(p, prev)
    order = np.argsort(a, kind="stable")
    bounds = np.searchsorted(a[order], np.arange(p.n_cohorts + 1))
    members = [order[bounds[k] : bounds[k + 1]] for k in range(p.n_cohorts)]
    for u in moved_units(prev, label, a).tolist():
        before = prev.label_ids[prev.unit_label[u]]
        if home[u] < 0:
            why = ("the course round has fewer cohorts now" if closing[p.unit_block[u]]
                   else "none of its people could stay in it")
            out.append(_change(p, u, before, ids[a[u]], ChangeReason.RULE, "sizes",
                               f"{before!r} does not go on: {why}"))
            continue
        broken = [] if forced is not None and not forced[u] else _broken_if_back(p, check, a, members, home, u)
        if broken:
            rule = next((r for r in broken if r != "sizes"), "sizes")
            out.append(_change(p, u, before, ids[a[u]], ChangeReason.RULE, rule,
                               f"staying in {before!r} would break {', '.join(broken)}"))
        else:
            out.append(_change(p, u, before, ids[a[u]], ChangeReason.GAP, None,
                               "moved to improve the gap value"))
    return sorted(out, key=lambda c: (c.course, c.round, c.person))


def _change(p: CompiledProblem, u: int, before: str | None, after: str | None, reason: ChangeReason,
            rule: str | None, detail: str) -> Change:
    b = int(p.unit_block[u])
    return Change(person=p.person_ids[p.unit_person[u]], course=p.course_ids[p.block_course[b]],
                  round=int(p.block_round[b]), before=before, after=after, reason=reason, rule=rule,
                  detail=detail)


def _broken_if_back(p: CompiledProblem, check: LocalCheck, a: np.ndarray, members: list[np.ndarray],
                    home: np.ndarray, u: int) -> list[str]:
    """The rules broken if ``u`` (with its group, when all of it shares ``u``'s home) went home."""
    R = kernel_rules(p)
    h, k = int(home[u]), int(a[u])
    back = np.array([u], np.int64)
    broken: list[str] = []
    g = int(R.unit_group[u])
    if g >= 0:
        mates = R.group_units[R.group_indptr[g] : R.group_indptr[g + 1]]
        if np.all(home[mates] == h) and np.all(a[mates] == k):
            back = mates
        else:
            broken.append("keep_together")
    broken += [r for r in check.broken(np.union1d(members[h], back), h) if r not in broken]
    if members[h].shape[0] + back.shape[0] > p.cohort_max[h] or members[k].shape[0] - back.shape[0] < p.cohort_min[k]:
        broken.append("sizes")
    return broken


def _closing(p: CompiledProblem, prev: Previous) -> np.ndarray:
    """Per block: whether it has more published cohorts with people left than free cohorts."""
    fixed = fixed_labels(p, prev)
    out = np.zeros(p.n_blocks, dtype=bool)
    for b in range(p.n_blocks):
        cs, ce = p.block_of_cohort_range(b)
        taken = set(fixed[cs:ce][fixed[cs:ce] >= 0].tolist())
        alive = [x for x in prev.block_labels(b).tolist() if x not in taken and prev.survivors[x] > 0]
        out[b] = len(alive) > int((fixed[cs:ce] == FREE).sum())
    return out
