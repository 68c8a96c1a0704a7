"""Checks the rule tests share: planned exactly when a plan exists, partial plans account
for everyone, and a search state from a valid plan (for the kernel tests)."""

from __future__ import annotations

import numpy as np

import cohortmatch as cm
from cohortmatch.scoring import SearchState


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
