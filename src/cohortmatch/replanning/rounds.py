"""Programmes over rounds: split a published plan into the rounds held and those still to come."""

from __future__ import annotations

from numbers import Integral

from ..errors import InputError
from ..result import Plan

__all__ = ["split_rounds"]


def split_rounds(plan: Plan, held: int) -> tuple[Plan, Plan]:
    """The rounds of ``plan`` already held, and the rounds still to come renumbered from 0.

    Re-planning a programme after ``held`` rounds have taken place: the first plan goes in
    today's request's ``history`` (its meetings count against ``max_meetings`` and the
    gaps it bridged count), the second is the ``previous`` plan of
    :func:`cohortmatch.replan`, for a request whose courses have the remaining rounds.
    Cohort ids are kept (``x-r3-2`` is still ``x-r3-2`` in round 0 of the rest).

    Both carry the metrics, status and notes of ``plan`` (only their cohorts, changes and
    unassigned places are split).

    Raises
    ------
    InputError
        ``held`` is not an int >= 0.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4)])
    >>> plan = cm.plan(org, [cm.Course(id="x", min_size=2, max_size=2, rounds=3)],
    ...                time_limit=None, work_limit=200, seed=0)
    >>> held, rest = split_rounds(plan, 2)
    >>> sorted({c.round for c in held.cohorts}), sorted({c.round for c in rest.cohorts})
    ([0, 1], [0])
    >>> rest.cohorts[0].id
    'x-r3-1'
    """
    if isinstance(held, bool) or not isinstance(held, Integral) or held < 0:
        raise InputError(f"split_rounds: the 'held' must be an int >= 0. Got {held!r}.")

    def part(keep_held: bool) -> Plan:
        shift = held if not keep_held else 0
        return plan.model_copy(update={
            "cohorts": tuple(c.model_copy(update={"round": c.round - shift})
                             for c in plan.cohorts if (c.round < held) == keep_held),
            "unassigned": tuple(u.model_copy(update={"round": u.round - shift})
                                for u in plan.unassigned if (u.round < held) == keep_held),
            "changes": tuple(c.model_copy(update={"round": c.round - shift})
                             for c in plan.changes if (c.round < held) == keep_held),
        })

    return part(True), part(False)
