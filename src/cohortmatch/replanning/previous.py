"""A published plan read against today's request: who had which cohort, who left, who joined."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiled import CompiledProblem
from ..errors import InputError
from ..result import Change, ChangeReason, Plan

__all__ = ["Previous", "read_previous"]


@dataclass(frozen=True, eq=False)
class Previous:
    """The published plan as arrays over today's compiled request.

    Every cohort of the published plan whose course round the request still has is a
    *label* (its id is kept when the re-plan continues it).

    Attributes
    ----------
    label_ids : tuple of str
        Ids of the labels, block by block, in the published order within a block.
    label_block : int64 array (L,)
        Block of each label.
    unit_label : int64 array (U,)
        Label of each unit's published cohort, -1 for units that had none (they joined).
    survivors : int64 array (L,)
        Units of each label that are still in the request.
    left : tuple of Change
        People of the published plan who no longer take the course round.
    was_unassigned : bool array (U,)
        Units listed as unassigned in the published plan.
    used_ids : frozenset of str
        Every cohort id of the published plan (new cohorts get other ids).
    """

    label_ids: tuple[str, ...]
    label_block: np.ndarray
    unit_label: np.ndarray
    survivors: np.ndarray
    left: tuple[Change, ...]
    was_unassigned: np.ndarray
    used_ids: frozenset[str]

    @property
    def n_labels(self) -> int:
        return len(self.label_ids)

    def block_labels(self, block: int) -> np.ndarray:
        """The labels of a block."""
        return np.flatnonzero(self.label_block == block)


def read_previous(previous: Plan, problem: CompiledProblem) -> Previous:
    """Map a published plan onto today's compiled request.

    Parameters
    ----------
    previous : Plan
        The published plan (from :func:`cohortmatch.plan` or an earlier re-plan).
    problem : CompiledProblem
        Today's request, compiled.

    Returns
    -------
    Previous

    Raises
    ------
    InputError
        The plan does not fit the request: a cohort of a course the request does not have
        (or of a round beyond its rounds), a cohort id used twice, or a person in two
        cohorts of one course round. The message names the cohort or person.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4)])
    >>> req = cm.Request(org=org, courses=[cm.Course(id="c", min_size=2, max_size=2)])
    >>> before = cm.plan(req, time_limit=None, work_limit=100, seed=0)
    >>> prev = read_previous(before, req.compile())
    >>> prev.label_ids, prev.survivors.tolist(), prev.left
    (('c-1', 'c-2'), [2, 2], ())
    """
    if not isinstance(previous, Plan):
        raise InputError(f"replan: the 'previous' must be a Plan. Got {type(previous).__name__}.")
    p = problem
    block_of = {(p.course_ids[c], int(r)): b
                for b, (c, r) in enumerate(zip(p.block_course.tolist(), p.block_round.tolist(), strict=True))}
    rounds = {cid: 0 for cid in p.course_ids}
    for (cid, r) in block_of:
        rounds[cid] = max(rounds[cid], r + 1)
    unit_of = p.unit_index()
    unit_label = np.full(p.n_units, -1, np.int64)
    seen_ids: set[str] = set()
    where: dict[tuple[str, str, int], str] = {}
    label_ids: list[str] = []
    label_block: list[int] = []
    left: list[Change] = []
    for c in previous.cohorts:
        _check_cohort(c.id, c.course, c.round, rounds, seen_ids)
        label = len(label_ids)
        label_ids.append(c.id)
        label_block.append(block_of[(c.course, c.round)])
        for m in c.members:
            key = (m, c.course, c.round)
            if key in where:
                raise InputError(f"previous plan: {m!r} is in two cohorts of course {c.course!r} "
                                 f"round {c.round} ({where[key]!r} and {c.id!r})")
            where[key] = c.id
            u = unit_of.get(key)
            if u is None:
                left.append(_left(p, m, c.course, c.round, c.id))
            else:
                unit_label[u] = label
    was_unassigned = np.zeros(p.n_units, dtype=bool)
    for x in previous.unassigned:
        u = unit_of.get((x.person, x.course, x.round))
        if u is not None and unit_label[u] < 0:
            was_unassigned[u] = True
    blocks = np.asarray(label_block, np.int64)
    order = np.argsort(blocks, kind="stable")  # labels block by block, published order within
    relabel = np.empty(order.shape[0], np.int64)
    relabel[order] = np.arange(order.shape[0])
    unit_label[unit_label >= 0] = relabel[unit_label[unit_label >= 0]]
    return Previous(
        label_ids=tuple(label_ids[i] for i in order.tolist()),
        label_block=blocks[order],
        unit_label=unit_label,
        survivors=np.bincount(unit_label[unit_label >= 0], minlength=order.shape[0]).astype(np.int64),
        left=tuple(left),
        was_unassigned=was_unassigned,
        used_ids=frozenset(seen_ids),
    )


def _check_cohort(cid: str, course: str, round_: int, rounds: dict[str, int], seen: set[str]) -> None:
    """Raise :class:`InputError` when a published cohort does not fit today's request."""
    if cid in seen:
        raise InputError(f"previous plan: cohort id {cid!r} is used twice")
    seen.add(cid)
    if course not in rounds:
        known = ", ".join(map(repr, rounds))
        raise InputError(f"previous plan: cohort {cid!r} is of course {course!r}, which the request "
                         f"does not have (its courses: {known})")
    if not 0 <= round_ < rounds[course]:
        raise InputError(f"previous plan: cohort {cid!r} is in round {round_} of course {course!r}, "
                         f"which has {rounds[course]} round(s) in the request (0 to {rounds[course] - 1})")


def _left(p: CompiledProblem, person: str, course: str, round_: int, cohort: str) -> Change:
    try:
        p.person_index(person)
        gone = False
    except KeyError:
        gone = True
    detail = "no longer in the organisation" if gone else f"no longer takes course {course!r}"
    return Change(person=person, course=course, round=round_, before=cohort, after=None,
                  reason=ChangeReason.LEFT, detail=detail)
