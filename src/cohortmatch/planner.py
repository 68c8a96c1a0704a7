"""The front door: validate, compile, run the chosen engine, assemble the plan."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .bounds import upper_bound
from .compiled import NO_CAP, compile_problem
from .errors import InfeasibleError, InputError
from .feasibility import raise_if_infeasible
from .guards import check_problem
from .meetings import raise_if_too_many_meetings, repeated_meetings
from .model import Course, Organisation, Policy
from .partial import reduce_request
from .result import Plan, RepeatedMeeting, Unassigned, build_plan
from .rules import check_assignment
from .scoring import score
from .solvers.base import Budget, Progress, SolverResult, as_generator
from .solvers.construct import complete
from .solvers.cpsat import EXACT_LIMIT, explain_or_find, model_size, solve_exact
from .solvers.golfer import solve_golfer
from .solvers.heuristic import solve_heuristic
from .solvers.lns import polish
from .solvers.tabu import solve_tabu

__all__ = ["plan", "SOLVERS"]

SOLVERS = ("auto", "heuristic", "cpsat", "lns", "golfer", "tabu")

log = logging.getLogger("cohortmatch")


def plan(
    org: Organisation,
    courses: Sequence[Course],
    *,
    policy: Policy | None = None,
    pair_values: Any = None,
    solver: str = "auto",
    time_limit: float | None = 10.0,
    work_limit: int | None = None,
    start: Plan | None = None,
    history: Sequence[Plan] = (),
    progress: Progress | None = None,
    workers: int | None = None,
    on_infeasible: str = "raise",
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
    pair_values : array_like or scipy.sparse matrix (P, P), optional
        Person-by-person values in the order of ``org.people`` (symmetric, diagonal
        ignored), ``coverage="sum"`` only: every pair of co-members adds its value to the
        objective, on top of team gaps (a person may be a team of one). With them ``auto``
        runs the ``tabu`` engine (:mod:`cohortmatch.solvers.tabu`, the engine of
        :func:`cohortmatch.group_by_pairs`); pass the same matrix to
        :func:`cohortmatch.validate`.
    solver : {"auto", "heuristic", "cpsat", "lns", "golfer", "tabu"}
        The engine. ``cpsat``: the exact CP-SAT model, warm-started by a short heuristic
        run (status ``optimal`` when proved). ``lns``: the heuristic's construction and descent,
        then large-neighbourhood searches, each given time while it pays
        (:func:`cohortmatch.solvers.lns.polish`): partition search (parts of the cohorts
        re-optimised by compiled local search on ``workers`` threads,
        :mod:`cohortmatch.solvers.partition`) and CP-SAT on a few cohorts chosen by gap
        structure. ``heuristic``: construction and local
        search only. ``auto`` picks ``cpsat`` when the exact model is small (see
        :func:`cohortmatch.solvers.cpsat.model_size`), else ``lns``, and says which in
        ``Plan.solver`` and ``Plan.notes``. ``tabu``: the population search for ``sum``
        mode (three-phase, after TPSDP; the name is historical); problems with
        ``max_per_team`` or manager separation go to the heuristic instead (its kernels
        enforce cohort sizes only). When the heuristic cannot
        construct a valid plan (not a proof), CP-SAT either finds one or proves that there
        is none.
    time_limit : float or None
        Wall-clock seconds for the whole call (None: no limit, then ``work_limit`` is needed).
    work_limit : int, optional
        A deterministic budget in evaluated moves; with it, the same seed gives the same
        plan on any machine.
    start : Plan, optional
        A plan of the same request to improve instead of constructing one. The people
        it leaves out (e.g. a hand-made grouping of part of a course) are placed first
        by construction, filling its cohorts up to even sizes
        (:func:`~cohortmatch.solvers.construct.complete`).
    history : sequence of Plan
        Plans of earlier rounds of the same programme (e.g. last months' club meetings).
        Their meetings count against ``policy.max_meetings`` and the gaps they bridged
        count as bridged: metrics and bound then cover the whole programme so far. With
        ``max_meetings`` set, ``auto`` runs the ``golfer`` engine (no repeated meetings
        first, then gap value; see :mod:`cohortmatch.solvers.golfer`).
    progress : callable, optional
        Called as ``progress(elapsed_seconds, best_objective)`` during the search.
    workers : int, optional
        Threads for CP-SAT and for partition search (``lns``); None uses every core,
        except without a ``time_limit`` (a deterministic run), where it is 1. With a
        ``work_limit`` and no ``time_limit``, plans are bit-for-bit repeatable (partition
        search also with several workers: each spends a fixed share of work per epoch).
    on_infeasible : {"raise", "partial"}
        ``raise``: a request the hard rules cannot meet raises :class:`InfeasibleError`.
        ``partial``: place as many participants as the rules allow and list the rest in
        ``Plan.unassigned``, each with the reason (status ``infeasible_partial``; see
        :mod:`cohortmatch.partial`).
    seed : int, optional
        Seed of every random choice, CP-SAT's ``random_seed`` included.

    Returns
    -------
    Plan

    Raises
    ------
    InputError
        Bad parameters, or a course naming unknown participants.
    InfeasibleError
        The hard rules cannot all be met; the message says which and by how much
        (not with ``on_infeasible="partial"``).

    Notes
    -----
    A ``KeyboardInterrupt`` during the search (or raised by ``progress``) stops it: the
    best plan found so far is returned, with a note starting ``interrupted``. Before a
    first valid plan exists, the interrupt propagates.

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
    if on_infeasible not in ("raise", "partial"):
        raise InputError(
            f"The 'on_infeasible' must be 'raise' or 'partial'. Got {on_infeasible!r}."
        )
    if time_limit is not None and not (time_limit > 0):
        raise InputError(f"The 'time_limit' must be > 0 seconds or None. Got {time_limit!r}.")
    if time_limit is None and work_limit is None:
        raise InputError("Give a 'time_limit', a 'work_limit', or both: the search needs a stop.")
    if work_limit is not None and work_limit < 0:
        raise InputError(f"The 'work_limit' must be >= 0. Got {work_limit!r}.")
    bad_workers = isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    if workers is not None and bad_workers:
        raise InputError(f"The 'workers' must be an int >= 1 or None. Got {workers!r}.")
    policy = policy or Policy()
    if on_infeasible == "partial":
        return _plan_partial(
            org, courses, policy=policy, solver=solver, time_limit=time_limit,
            work_limit=work_limit, start=start, history=history, progress=progress,
            workers=workers, seed=seed, pair_values=pair_values,
        )
    budget = Budget(time_limit, work_limit, progress=progress)
    if policy.max_meetings is not None and solver in ("cpsat", "lns"):
        raise InputError(
            f"The 'solver' {solver!r} does not support max_meetings; use 'auto' or 'golfer'."
        )
    rng = as_generator(seed)
    problem = compile_problem(
        org, courses, policy, pair_values=pair_values,
        history=[c.members for past in history for c in past.cohorts],
    )
    check_problem(problem)  # SizeLimitError before the search allocates its dense arrays
    log.info(
        "planning: %d people, %d teams, %d gaps, %d units, %d cohorts",
        problem.n_people, problem.n_teams, problem.n_edges, problem.n_units, problem.n_cohorts,
    )
    raise_if_infeasible(problem)
    if problem.max_meetings != NO_CAP and not problem.meetings_soft:
        raise_if_too_many_meetings(problem)
    if time_limit is not None:  # keep time to assemble the plan inside the limit
        budget.time_limit = time_limit - min(0.1 * time_limit, 0.02 + 5e-5 * problem.n_units)
    start_assignment = _assignment_of(problem, start) if start is not None else None
    dropped = []
    if start_assignment is not None and (start_assignment < 0).any():  # place who it leaves out
        start_assignment = complete(problem, start_assignment, rng, budget)
        if start_assignment is None:
            dropped = ["the start plan could not be completed within the rules; planned without it"]
    bound = upper_bound(problem)
    result = _run(
        problem, solver, budget=budget, start=start_assignment, target=bound, rng=rng, workers=workers
    )
    violations = check_assignment(problem, result.assignment)
    if violations:
        raise AssertionError(f"solver returned an assignment that breaks rules: {violations}")
    full = score(problem, result.assignment)
    bound = min(bound, result.bound)
    if budget.interrupted:
        log.info("planning interrupted: returning the best plan so far")
        result.notes = [
            *result.notes,
            "interrupted: the search was stopped early (KeyboardInterrupt); "
            "this is the best plan found so far",
        ]
    result.notes = [*dropped, *result.notes]
    log.info("planned: objective %.6g, bound %.6g", full.objective, bound)
    planned = build_plan(
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
    if problem.max_meetings != NO_CAP:
        ra, rb, rn = repeated_meetings(problem, result.assignment)
        repeats = tuple(
            RepeatedMeeting(a=problem.person_ids[i], b=problem.person_ids[j], times=int(n))
            for i, j, n in zip(ra.tolist(), rb.tolist(), rn.tolist(), strict=True)
        )
        planned = planned.model_copy(update={"repeated_meetings": repeats})
    return planned


def _run(
    problem,  # type: ignore[no-untyped-def]
    solver: str,
    *,
    budget: Budget,
    start: np.ndarray | None,
    target: float,
    rng: np.random.Generator,
    workers: int | None,
) -> SolverResult:
    """Run the chosen engine (see :func:`plan`); ``auto`` picks one by model size."""
    notes = []
    if problem.max_meetings != NO_CAP and solver in ("auto", "golfer"):
        return solve_golfer(problem, budget=budget, start=start, target=target, rng=rng)
    if solver == "golfer":
        raise InputError("The 'solver' 'golfer' needs a policy with max_meetings.")
    if solver == "tabu" and problem.mode != "sum":
        raise InputError(f"The 'solver' 'tabu' needs coverage 'sum'. Got {problem.mode!r}.")
    if solver == "auto" and problem.pair_values is not None:
        solver = "tabu"
        notes.append("auto: tabu engine (population search) on pair values (sizes-only problems; else the heuristic)")
    if solver == "auto":
        size = model_size(problem)
        solver = "cpsat" if size <= EXACT_LIMIT else "lns"
        what = "exact CP-SAT" if solver == "cpsat" else "heuristic + large-neighbourhood search"
        notes.append(f"auto: {what} (exact model ~{size} variables, limit {EXACT_LIMIT})")
    if workers is None and budget.time_limit is None:
        workers = 1  # a run without a time limit is meant to be repeatable
    if solver == "cpsat":
        result = solve_exact(
            problem, budget=budget, rng=rng, start=start, target=target, workers=workers
        )
        result.notes = notes + result.notes
        return result
    engine: Any = solve_tabu if solver == "tabu" else solve_heuristic
    if solver == "lns":  # construction and descent; polish() shares out the rest
        engine = functools.partial(solve_heuristic, perturb=False)
    try:
        result = engine(problem, budget=budget, start=start, target=target, rng=rng)
    except InfeasibleError:
        if start is not None:
            raise
        # a failed repair is no proof: CP-SAT finds a valid plan or names conflicting rules
        found = explain_or_find(problem, budget=budget, rng=rng)
        if found.status == "infeasible":
            raise InfeasibleError(found.core) from None
        if found.assignment is None:
            raise
        result = engine(
            problem, budget=budget, start=found.assignment, target=target, rng=rng
        )
        notes.append(
            "the heuristic could not construct a valid plan; CP-SAT found one to start from"
        )
    if solver == "lns" and result.status != "optimal":
        polished = polish(
            problem, start=result.assignment, budget=budget, rng=rng, workers=workers,
            target=target,
        )
        polished.notes = result.notes + polished.notes
        result = polished
    result.notes = notes + result.notes
    return result


def _assignment_of(problem, start: Plan) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The assignment array of a plan of the same request (cohorts matched by id)."""
    a = np.full(problem.n_units, -1, dtype=np.int64)
    unit_of = problem.unit_index()
    for c in start.cohorts:
        try:
            k = problem.cohort_index(c.id)
        except KeyError:
            raise InputError(f"start plan: cohort {c.id!r} is not a cohort of this request") from None
        for m in c.members:
            unit = unit_of.get((m, c.course, c.round))
            if unit is None:
                raise InputError(
                    f"start plan: cohort {c.id!r} holds {m!r}, who does not take "
                    f"course {c.course!r} round {c.round}"
                )
            a[unit] = k
    return a


def _plan_partial(
    org: Organisation,
    courses: Sequence[Course],
    *,
    policy: Policy,
    time_limit: float | None,
    **settings,  # type: ignore[no-untyped-def]
) -> Plan:
    """``plan(..., on_infeasible="partial")``: plan what the hard rules allow, list the rest.

    :func:`cohortmatch.partial.reduce_request` leaves out the fewest participants it can
    so that no counting argument proves the request infeasible. If the solver still finds
    a conflict (rules clashing in combination, meeting caps), each course that cannot be
    planned on its own, or else the last course, is left out whole, until a plan exists.
    """
    started = time.perf_counter()

    def left() -> float | None:
        if time_limit is None:
            return None
        return max(time_limit - (time.perf_counter() - started), 0.05)

    kept, left_out = reduce_request(org, courses, policy)
    out = {(x.person, x.course): x.reason for x in left_out}
    planned = None
    while kept and planned is None:
        try:
            planned = plan(org, kept, policy=policy, time_limit=left(), **settings)
        except InfeasibleError as err:
            failing = []
            for c in kept:
                try:
                    budget = left()
                    plan(org, [c], policy=policy, **{
                        **settings, "start": None,
                        "time_limit": None if budget is None else budget / len(kept),
                    })
                except InfeasibleError as alone:
                    failing.append((c, alone.conflicts))
            if not failing:
                failing = [(kept[-1], ["it cannot be planned together with the other courses: "
                                       + "; ".join(err.conflicts)])]
            for c, conflicts in failing:
                reason = f"course {c.id!r}: {conflicts[0] if conflicts else 'infeasible'}"
                who = c.participants if c.participants is not None else [q.id for q in org.people]
                for pid in who:
                    out[(pid, c.id)] = reason + "; nobody could be placed"
            gone = {c.id for c, _ in failing}
            kept = [c for c in kept if c.id not in gone]
    if planned is None:
        planned = _empty_plan(
            org, policy, history=settings.get("history", ()), seed=settings.get("seed")
        )
    rounds = {c.id: c.rounds for c in courses}
    empty = [c.id for c in courses if c.participants is not None and not c.participants]
    if empty:
        planned = planned.model_copy(update={"notes": (
            *planned.notes, "partial: no participants, not planned: " + ", ".join(map(repr, empty))
        )})
    unassigned = sorted(
        (Unassigned(person=pid, course=cid, round=r, reason=why)
         for (pid, cid), why in out.items() for r in range(rounds[cid])),
        key=lambda u: (u.course, u.round, u.person),
    )
    if not unassigned:
        return planned
    log.info("partial plan: %d participant place(s) left out", len(unassigned))
    return planned.model_copy(update={
        "unassigned": (*planned.unassigned, *unassigned),
        "status": "infeasible_partial",
        "elapsed": time.perf_counter() - started,
        "notes": (*planned.notes, f"partial: {len(unassigned)} participant place(s) could not be "
                  "assigned under the hard rules (see unassigned)"),
    })


def _empty_plan(
    org: Organisation, policy: Policy, *, history: Sequence[Plan], seed: int | None
) -> Plan:
    """A plan with no cohort; its metrics count the ``history`` alone."""
    everyone = Course(id="-", min_size=1, max_size=len(org.people), cohorts=1)
    problem = compile_problem(
        org, [everyone], Policy(coverage=policy.coverage, decay=policy.decay),
        history=[c.members for past in history for c in past.cohorts],
    )
    none = np.full(problem.n_units, -1, np.int64)
    full = score(problem, none)
    empty = build_plan(problem, none, full, bound=full.objective, status="infeasible_partial",
                       seed=seed, elapsed=0.0, solver="none")
    return empty.model_copy(update={"cohorts": ()})
