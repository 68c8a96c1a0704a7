"""The front door: validate, compile, run the chosen engine, assemble the plan."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from .bounds import upper_bound
from .compiled import compile_problem
from .errors import InputError
from .feasibility import raise_if_infeasible
from .model import Course, Organisation, Policy
from .result import Plan, build_plan
from .rules import check_assignment
from .scoring import score
from .solvers.base import Budget, Progress, as_generator
from .solvers.heuristic import solve_heuristic

__all__ = ["plan", "SOLVERS"]

SOLVERS = ("auto", "heuristic")

log = logging.getLogger("cohortmatch")


def plan(
    org: Organisation,
    courses: Sequence[Course],
    *,
    policy: Policy | None = None,
    solver: str = "auto",
    time_limit: float | None = 10.0,
    work_limit: int | None = None,
    start: Plan | None = None,
    progress: Progress | None = None,
    seed: int | None = None,
) -> Plan:
    """Plan cohorts that bridge as much connection-gap weight as possible.

    .. math::

        \\max \\sum_{e=(a,b)} w_e \\, f(c_e)

    where :math:`c_e` counts the cohorts holding members of both teams of gap :math:`e`
    and :math:`f` is set by ``policy.coverage`` (see :mod:`cohortmatch.scoring`).

    Parameters
    ----------
    org : Organisation
    courses : sequence of Course
    policy : Policy, optional
        Hard rules and coverage mode; ``Policy()`` by default.
    solver : {"auto", "heuristic"}
        The engine.
    time_limit : float or None
        Wall-clock seconds for the whole call (None: no limit, then ``work_limit`` is needed).
    work_limit : int, optional
        A deterministic budget in evaluated moves; with it, the same seed gives the same
        plan on any machine.
    start : Plan, optional
        A plan of the same request to improve instead of constructing one.
    progress : callable, optional
        Called as ``progress(elapsed_seconds, best_objective)`` during the search.
    seed : int, optional
        Seed of every random choice.

    Returns
    -------
    Plan

    Raises
    ------
    InputError
        Bad parameters, or a course naming unknown participants.
    InfeasibleError
        The hard rules cannot all be met; the message says which and by how much.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(
    ...     people=[cm.Person(id=f"p{i}", team="abcd"[i % 4]) for i in range(8)],
    ...     gaps=[cm.Gap(a="a", b="b", weight=3.0), cm.Gap(a="c", b="d", weight=1.0)])
    >>> result = cm.plan(org, [cm.Course(id="intro", min_size=4, max_size=4)],
    ...                  policy=cm.Policy(max_per_team=1), time_limit=None, work_limit=2000, seed=1)
    >>> result.metrics.coverage, result.metrics.bound
    (1.0, 4.0)
    """
    if solver not in SOLVERS:
        raise InputError(f"The 'solver' must be one of {', '.join(SOLVERS)}. Got {solver!r}.")
    if time_limit is not None and not (time_limit > 0):
        raise InputError(f"The 'time_limit' must be > 0 seconds or None. Got {time_limit!r}.")
    if time_limit is None and work_limit is None:
        raise InputError("Give a 'time_limit', a 'work_limit', or both: the search needs a stop.")
    if work_limit is not None and work_limit < 0:
        raise InputError(f"The 'work_limit' must be >= 0. Got {work_limit!r}.")
    budget = Budget(time_limit, work_limit, progress=progress)
    policy = policy or Policy()
    rng = as_generator(seed)
    problem = compile_problem(org, courses, policy)
    log.info(
        "planning: %d people, %d teams, %d gaps, %d units, %d cohorts",
        problem.n_people, problem.n_teams, problem.n_edges, problem.n_units, problem.n_cohorts,
    )
    raise_if_infeasible(problem)
    start_assignment = _assignment_of(problem, start) if start is not None else None
    bound = upper_bound(problem)
    result = solve_heuristic(problem, budget=budget, start=start_assignment, target=bound, rng=rng)
    violations = check_assignment(problem, result.assignment)
    if violations:
        raise AssertionError(f"solver returned an assignment that breaks rules: {violations}")
    full = score(problem, result.assignment)
    bound = min(bound, result.bound)
    log.info("planned: objective %.6g, bound %.6g", full.objective, bound)
    return build_plan(
        problem,
        result.assignment,
        full,
        bound=bound,
        status=result.status,
        seed=seed,
        elapsed=budget.elapsed(),
        solver=result.solver,
        notes=result.notes,
    )


def _assignment_of(problem, start: Plan) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The assignment array of a plan of the same request (cohorts matched by id)."""
    a = np.full(problem.n_units, -1, dtype=np.int64)
    unit_of = {}
    for u in range(problem.n_units):
        b = problem.unit_block[u]
        key = (
            problem.person_ids[problem.unit_person[u]],
            problem.course_ids[problem.block_course[b]],
            int(problem.block_round[b]),
        )
        unit_of[key] = u
    for c in start.cohorts:
        try:
            k = problem.cohort_index(c.id)
        except KeyError:
            raise InputError(f"start plan: cohort {c.id!r} is not a cohort of this request") from None
        for m in c.members:
            u = unit_of.get((m, c.course, c.round))
            if u is None:
                raise InputError(
                    f"start plan: cohort {c.id!r} holds {m!r}, who does not take "
                    f"course {c.course!r} round {c.round}"
                )
            a[u] = k
    return a
