"""Checks the rule tests share: planned exactly when a plan exists, partial plans account
for everyone, and a search state from a valid plan (for the kernel tests)."""

from __future__ import annotations

import itertools

import numpy as np

import cohortmatch as cm
from cohortmatch.compiled import cohorts_for
from cohortmatch.scoring import SearchState


def some_labelling_keeps(request: cm.Request, keeps) -> bool:  # type: ignore[no-untyped-def]
    """Brute force over a one-course request: whether some cohort label per person (of the
    fewest cohorts its sizes allow) passes ``keeps(request, {person: label}, k)``."""
    course = request.courses[0]
    ids = [p.id for p in request.org.people]
    k = cohorts_for(len(ids), course)
    return any(keeps(request, dict(zip(ids, labels, strict=True)), k)
               for labels in itertools.product(range(k), repeat=len(ids)))


def valid_or_explained(request: cm.Request, solver: str = "auto", *, work_limit: int = 2_000,
                       seed: int = 0) -> cm.Plan | None:
    """Plan with ``solver``: the plan passes ``validate``, or ``InfeasibleError`` names
    its conflicts (then None)."""
    try:
        plan = cm.plan(request, solver=solver, time_limit=None, work_limit=work_limit, seed=seed)
    except cm.InfeasibleError as err:
        assert err.conflicts and all(c for c in err.conflicts)
        return None
    assert cm.validate(plan, request) == []
    return plan


def with_soft_meetings(request: cm.Request) -> cm.Request:
    """``request`` with ``max_meetings=1`` as an objective, for the golfer engine."""
    return request.model_copy(update={"policy": request.policy.model_copy(
        update={"max_meetings": 1, "meetings": "soft"})})


def planned_exactly_when_a_plan_exists(request: cm.Request, exists: bool) -> None:
    """``plan`` raises ``InfeasibleError`` exactly when brute force found no plan (``exists``)."""
    try:
        plan = cm.plan(request, time_limit=20, seed=0)
    except cm.InfeasibleError:
        assert not exists
        return
    assert exists
    assert cm.validate(plan, request) == []


def partial_accounts_for_everyone(request: cm.Request) -> None:
    """A partial plan is valid, and places or lists (with a reason) every person."""
    plan = cm.plan(request, time_limit=None, work_limit=2_000, seed=0, on_infeasible="partial")
    assert cm.validate(plan, request) == []
    placed = {m for c in plan.cohorts for m in c.members}
    left = {u.person for u in plan.unassigned}
    assert placed | left == {p.id for p in request.org.people}
    assert all(u.reason for u in plan.unassigned)


def valid_state(request: cm.Request, seed: int, work_limit: int) -> SearchState | None:
    """The search state of a heuristic plan of ``request`` (None when it is infeasible)."""
    try:
        plan = cm.plan(request, solver="heuristic", time_limit=None, work_limit=work_limit, seed=seed)
    except cm.InfeasibleError:
        return None
    problem = request.compile()
    a = np.full(problem.n_units, -1, np.int64)
    unit_of = problem.unit_index()
    for c in plan.cohorts:
        for m in c.members:
            a[unit_of[(m, c.course, c.round)]] = problem.cohort_index(c.id)
    return SearchState(problem, a)
