"""The front door: check, compile, choose the engine, run it, assemble the plan."""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections import Counter
from concurrent.futures import Executor
from typing import Any

import numpy as np

from .compiled import NO_CAP, CompiledProblem, cohorts_for, compile_problem
from .cores import lease
from .decompose import BLOCK_UNITS, MAX_BLOCKS, Split, assemble, couplings, split_request, whole_request
from .engines.base import Budget, Progress, StopEvent, labelled
from .engines.construct import complete
from .engines.registry import choose
from .engines.tiebreak import break_ties
from .errors import CohortmatchError, InfeasibleError, InputError
from .guards import check_problem
from .mix import mix_of
from .model import Course, Policy
from .params import SOLVERS, Decompose, RunSettings, as_generator, run_settings
from .partial import reduce_request
from .request import Request, as_request
from .result import Plan, PlanStatus, RepeatedMeeting, Unassigned, build_plan
from .rules import active, check_assignment, raise_if_infeasible
from .rules.meetings import repeated_meetings
from .scoring import score, upper_bound
from .seats import (
    Selection,
    exact_problem,
    fit_of,
    improve_selection,
    needs_selection,
    reselect,
    seat_bound,
    seat_conflicts,
    select,
    solve_exact,
)

__all__ = ["plan", "SOLVERS", "with_repeats", "interrupt_notes"]

#: The defaults of :func:`plan`'s run keywords (a request's ``run`` section replaces them).
_DEFAULTS: dict[str, Any] = {"solver": "auto", "time_limit": 10.0, "work_limit": None,
                             "workers": None, "seed": None, "on_infeasible": "raise", "decompose": "auto"}

log = logging.getLogger("cohortmatch")

#: With seats, ``auto`` chooses people and cohorts together with CP-SAT up to this many
#: candidate places (units); above, it swaps placed and waiting candidates.
EXACT_CANDIDATES = 60
#: How often the seat choice is made again when the hard rules cut people out of it.
_SELECTION_ROUNDS = 50


def plan(
    request: Any,
    courses: Any = None,
    *,
    policy: Policy | None = None,
    pair_values: Any = None,
    solver: str = "auto",
    time_limit: float | None = 10.0,
    work_limit: int | None = None,
    start: Plan | None = None,
    history: Any = (),
    progress: Progress | None = None,
    workers: int | None = None,
    on_infeasible: str = "raise",
    compare_without_mix: bool = False,
    seed: int | np.random.Generator | None = None,
    stop: StopEvent | None = None,
    executor: Executor | None = None,
    decompose: str = "auto",
) -> Plan:
    """Plan cohorts that bridge as much connection-gap weight as possible.

    .. math::

        \\max \\sum_{e=(a,b)} w_e \\, f(c_e)

    where :math:`c_e` counts the cohorts holding members of both teams of gap :math:`e`
    and :math:`f` is set by ``policy.mode`` (see :mod:`cohortmatch.scoring`).

    Parameters
    ----------
    request : Request or Organisation
        The whole request (:class:`~cohortmatch.Request`), or its organisation followed
        by the other pieces, ``plan(org, courses, policy=...)``.
    courses : sequence of Course, optional
        With an organisation: the courses.
    policy : Policy, optional
        Hard rules and objective mode; ``Policy()`` by default.
    pair_values : array_like or scipy.sparse matrix (P, P), optional
        Person-by-person values in the order of ``org.people`` (symmetric, diagonal
        ignored), ``coverage="sum"`` only: every pair of co-members adds its value to the
        objective, on top of team gaps (a person may be a team of one). With them ``auto``
        runs the ``tabu`` engine (:mod:`cohortmatch.engines.tabu`, the engine of
        :func:`cohortmatch.group_by_pairs`); pass the same matrix to
        :func:`cohortmatch.validate`.
    solver : {"auto", "heuristic", "cpsat", "lns", "golfer", "tabu"}
        The engine. ``cpsat``: the exact CP-SAT model, warm-started by what ``auto`` runs
        at the request's size: where ``auto`` runs ``cpsat`` or ``lns``, never worse than
        ``auto``'s plan of the same seed and work limit (status ``optimal`` when proved).
        ``lns``: the heuristic's construction and descent, then large-neighbourhood
        searches, each given time while it pays
        (:func:`cohortmatch.engines.lns.polish`): partition search (parts of the cohorts
        re-optimised by compiled local search on ``workers`` threads,
        :mod:`cohortmatch.engines.partition`) and CP-SAT on a few cohorts chosen by gap
        structure. ``heuristic``: construction and local search only. ``tabu``: the
        population search for ``sum`` mode (three-phase, after TPSDP; the name is
        historical), on requests with no rule but cohort sizes. ``golfer``: programmes
        with ``max_meetings``. ``auto`` chooses (:func:`cohortmatch.engines.registry.choose`)
        and says which in ``Plan.solver`` and ``Plan.notes``; it never picks an engine
        that cannot keep every rule, and naming one raises :class:`InputError` naming the
        rule. When the heuristic cannot construct a valid plan (not a proof), CP-SAT
        either finds one or proves that there is none.
    time_limit : float or None
        Wall-clock seconds for the whole call (None: no limit, then ``work_limit`` is needed).
    work_limit : int, optional
        A deterministic budget in evaluated moves; with it, the same seed gives the same
        plan on any machine.
    start : Plan, optional
        A plan of the same request to improve instead of constructing one. The people
        it leaves out (e.g. a hand-made grouping of part of a course) are placed first
        by construction, filling its cohorts up to even sizes
        (:func:`~cohortmatch.engines.construct.complete`).
    history : sequence of Plan
        Plans of earlier rounds of the same programme (e.g. last months' club meetings).
        Their meetings count against ``policy.max_meetings`` and the gaps they bridged
        count as bridged: metrics and bound then cover the whole programme so far. With
        ``max_meetings`` set, ``auto`` runs the ``golfer`` engine (no repeated meetings
        first, then gap value; see :mod:`cohortmatch.engines.golfer`).
    progress : callable, optional
        Called as ``progress(elapsed_seconds, best_objective)`` during the search.
    workers : int, optional
        Threads for CP-SAT, and tasks per epoch of partition search (``lns``; on the
        ``executor`` if one is given, else on as many threads); None uses every core,
        except without a ``time_limit`` (a deterministic run), where it is 1. With a
        ``work_limit`` and no ``time_limit``, plans are bit-for-bit repeatable (partition
        search also with several workers: each spends a fixed share of work per epoch).
    on_infeasible : {"raise", "partial"}
        ``raise``: a request the hard rules cannot meet raises :class:`InfeasibleError`.
        ``partial``: place as many participants as the rules allow and list the rest in
        ``Plan.unassigned``, each with the reason (status ``infeasible_partial``; see
        :mod:`cohortmatch.partial`). A request with seats (``Course(seats=...)`` or
        ``Policy(max_courses_per_person=...)``) always chooses whom to place and lists the
        others as ``not selected`` (:mod:`cohortmatch.seats`, :doc:`seats`); a conflict
        among its required people raises.
    compare_without_mix : bool
        Also plan the request without its mix rules (``balance``, ``no_isolation``,
        ``at_most``, ``at_least``), in the same call, to state the price of the mix:
        ``Plan.mix.without_mix`` is that plan's objective. Each plan gets half of
        ``time_limit`` (and all of ``work_limit``). See :doc:`mix`.
    seed : int, optional
        Seed of every random choice, CP-SAT's ``random_seed`` included.
    stop : threading.Event, optional
        Cancels the search from any thread: once ``stop.is_set()``, every engine ends
        within a fraction of a second (see docs/reliability.md) and the best plan so far
        is returned, with a note starting ``stopped on request``. Anything with an
        ``is_set()`` method will do.
    executor : concurrent.futures.Executor, optional
        Runs the independent pieces of the search (partition search's tasks: compact
        numpy payloads with explicit seeds; the blocks of a decomposed request, see
        ``decompose``) instead of threads of this process, e.g. a
        Dask cluster: ``executor=Client(address).get_executor()`` (extra ``distributed``;
        see docs/scale.md). With a ``work_limit`` and no ``time_limit`` the plan is the
        same on any executor; a task whose worker dies costs that task's moves only
        (a note says so).
    decompose : {"auto", "always", "never"}
        Split the request into blocks of divisions whose gaps stay inside them and plan
        each block on its own (on the ``executor`` if one is given), see
        :mod:`cohortmatch.decompose` and docs/scale.md. ``auto``: only when no rule links
        the divisions and there are at least two blocks of ``BLOCK_UNITS`` (10,000)
        participant places; ``always``: whenever no rule links them (a note says why
        not otherwise); ``never``. The plan's notes say into how many blocks it was
        split; its bound is proven for the whole request.

        A :class:`~cohortmatch.Request` may carry these run keywords in its ``run``
        section (:class:`~cohortmatch.request.RunOptions`); each keyword left at its
        default here takes the request's value.

    Returns
    -------
    Plan

    Raises
    ------
    InputError
        Bad parameters (the message names the parameter and what it expects), an
        engine that cannot keep a rule of the request, or a course, link or pin naming an
        unknown person or cohort.
    InfeasibleError
        The hard rules cannot all be met; the message says which and by how much
        (not with ``on_infeasible="partial"``).

    Notes
    -----
    A ``KeyboardInterrupt`` during the search (or raised by ``progress``) stops it: the
    best plan found so far is returned, with a note starting ``interrupted``. Before a
    first valid plan exists, the interrupt propagates. A set ``stop`` event ends the
    search the same way (note ``stopped on request``); the plan's construction, which
    comes first, still runs to its end.

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
    req = as_request(request, courses, policy, pair_values=pair_values, history=history)
    given: dict[str, Any] = {"solver": solver, "time_limit": time_limit, "work_limit": work_limit,
                             "workers": workers, "seed": seed, "on_infeasible": on_infeasible,
                             "decompose": decompose}
    for key, value in req.run.kwargs().items():  # the request's run section fills defaults
        if given[key] == _DEFAULTS[key]:
            given[key] = value
    settings = run_settings(progress=progress, stop=stop, executor=executor, **given)
    if start is not None and not isinstance(start, Plan):
        raise InputError(f"plan: the 'start' must be a Plan or None. Got {type(start).__name__}.")
    run = _plan_partial if settings.on_infeasible == "partial" else _plan
    if needs_selection(req):
        run = _plan_seats
    if not compare_without_mix:
        return run(req, settings, start)
    if not req.policy.mix_attributes:
        raise InputError("plan: 'compare_without_mix' needs mix rules in the policy (balance, "
                         "no_isolation, at_most or at_least)")
    half = dataclasses.replace(settings, time_limit=None if settings.time_limit is None
                               else settings.time_limit / 2)
    plain = run(req.model_copy(update={"policy": req.policy.without_mix()}), half, None)
    planned = run(req, half, start)
    if planned.mix is None:  # nobody could be placed
        return planned
    return planned.model_copy(update={
        "mix": planned.mix.model_copy(update={"without_mix": plain.metrics.objective}),
        "elapsed": planned.elapsed + plain.elapsed,
    })


def _plan(req: Request, settings: RunSettings, start: Plan | None) -> Plan:
    """Plan a request in full, or raise :class:`InfeasibleError`."""
    split_notes: list[str] = []
    if start is None and settings.decompose != Decompose.NEVER:
        decomposed, split_notes, settings = _decomposed(req, settings)
        if decomposed is not None:
            return decomposed
    budget = Budget(settings.time_limit, settings.work_limit, progress=settings.progress,
                    stop=settings.stop)
    rng = as_generator(settings.seed)
    problem = req.compile()
    check_problem(problem)  # SizeLimitError before the search allocates its dense arrays
    log.info(
        "planning: %d people, %d teams, %d gaps, %d units, %d cohorts",
        problem.n_people, problem.n_teams, problem.n_edges, problem.n_units, problem.n_cohorts,
    )
    engine, notes = choose(problem, settings.solver)
    raise_if_infeasible(problem)
    if settings.time_limit is not None:  # keep time to assemble the plan inside the limit
        budget.time_limit = settings.time_limit - min(0.1 * settings.time_limit, 0.02 + 5e-5 * problem.n_units)
    if start is not None:
        problem = _with_start_slots(problem, start)
    start_assignment = _assignment_of(problem, start) if start is not None else None
    dropped: list[str] = []
    if start_assignment is not None and (start_assignment < 0).any():  # place who it leaves out
        start_assignment = complete(problem, start_assignment, rng, budget)
        if start_assignment is None:
            dropped = ["the start plan could not be completed within the rules; planned without it"]
    bound = upper_bound(problem)
    workers = settings.workers
    if workers is None and settings.time_limit is None:
        workers = 1  # a run without a time limit is meant to be repeatable
    with lease(workers) as threads:  # without a number: the cores no other run holds
        result = engine.solve(problem, budget=budget, rng=rng, start=start_assignment, target=bound,
                              workers=threads, executor=settings.executor)
    if req.policy.tie_break == "diminishing":  # cover mode: bridge gaps again with the time left
        result = break_ties(problem, result, budget=budget, rng=rng)
    problem = labelled(problem, result)  # the cohort slots the engine chose
    violations = check_assignment(problem, result.assignment)
    if violations:
        raise CohortmatchError(
            f"the {engine.name!r} engine returned a plan that breaks rules ({violations}); "
            "this is a bug, please report it"
        )
    full = score(problem, result.assignment)
    bound = min(bound, result.bound)
    result_notes = notes + result.notes + [n for rule in active(problem) for n in rule.notes()]
    result_notes += interrupt_notes(budget)
    result_notes = [*split_notes, *dropped, *result_notes]
    log.info("planned: objective %.6g, bound %.6g", full.objective, bound)
    planned = build_plan(
        problem, result.assignment, full, bound=bound, status=result.status,
        seed=settings.seed if not isinstance(settings.seed, np.random.Generator) else None,
        elapsed=budget.elapsed(), solver=result.solver, notes=result_notes,
    )
    if problem.categories is not None:
        planned = planned.model_copy(update={"mix": mix_of(problem, result.assignment)})
    return with_repeats(problem, result.assignment, planned)


#: Least time (seconds) a block is given, so that even a late block gets a constructed plan.
_BLOCK_SECONDS = 0.05


def _decomposed(req: Request, settings: RunSettings) -> tuple[Plan | None, list[str], RunSettings]:
    """The plan of ``req`` made block by block, or None with the reason (with ``always``)
    and the settings left for planning it whole (:mod:`cohortmatch.decompose`)."""
    started = time.perf_counter()
    always = settings.decompose == Decompose.ALWAYS
    refused = couplings(req)
    units = _units(req)
    if not refused and not always and units < 2 * BLOCK_UNITS:
        refused = [f"fewer than {2 * BLOCK_UNITS} participant places"]
    least = max(1 if always else BLOCK_UNITS, units // MAX_BLOCKS)
    split = None if refused else split_request(req, min_units=least)
    if split is not None and not split.blocks:
        refused = [f"{split.divisions} division(s) of the gap graph do not make two blocks that can "
                   "each be planned on their own"]
    if split is None or not split.blocks:
        return None, [f"not decomposed: {refused[0]}"] if always else [], settings
    try:
        return _plan_split(req, split, settings, started), [], settings
    except InfeasibleError as err:
        left = None if settings.time_limit is None else max(
            settings.time_limit - (time.perf_counter() - started), _BLOCK_SECONDS)
        note = (f"not decomposed: a block cannot be planned on its own ({'; '.join(err.conflicts[:1])}); "
                "planned whole")
        return None, [note], dataclasses.replace(settings, time_limit=left)


def _units(req: Request) -> int:
    """Participant places of a request (without compiling it)."""
    everyone = len(req.org.people)
    return sum((everyone if c.participants is None else len(c.participants)) * c.rounds for c in req.courses)


def _plan_split(req: Request, split: Split, settings: RunSettings, started: float) -> Plan:
    """Plan each block, put the block plans side by side in the whole request, score it
    and bound it as a whole (the bound is :func:`~cohortmatch.decompose.whole_request`'s)."""
    problem = whole_request(req, split).compile()
    check_problem(problem)
    bound = upper_bound(problem)
    # time kept to put the blocks together, check, score and assemble the plan (measured at
    # about 6 s for 100,000 places at load 5: twice what a whole plan keeps for its assembly)
    reserve = 0.0 if settings.time_limit is None else min(0.15 * settings.time_limit,
                                                          0.05 + 1e-4 * problem.n_units)
    plans, lost = _plan_blocks(split, settings, started, reserve)
    assignment = assemble(problem, plans)
    violations = check_assignment(problem, assignment)
    if violations:
        raise CohortmatchError(f"the block plans together break rules ({violations}); "
                               "this is a bug, please report it")
    full = score(problem, assignment)
    if settings.progress is not None:  # the first plan of the whole request is this one
        settings.progress(time.perf_counter() - started, full.objective)
    notes = [f"decomposed into {len(plans)} blocks ({split.divisions} divisions of the gap graph, "
             f"{split.filler} teams without gaps), each planned on its own; the bound is the whole "
             "request's", *lost, *dict.fromkeys(n for p in plans for n in p.notes)]
    log.info("decomposed: %d blocks, objective %.6g, bound %.6g", len(plans), full.objective, bound)
    status = PlanStatus.OPTIMAL if full.objective >= bound * (1 - 1e-9) else PlanStatus.FEASIBLE
    return build_plan(
        problem, assignment, full, bound=bound, status=status,
        seed=settings.seed if not isinstance(settings.seed, np.random.Generator) else None,
        elapsed=time.perf_counter() - started, solver="+".join(dict.fromkeys(p.solver for p in plans)),
        notes=notes,
    )


def _plan_blocks(split: Split, settings: RunSettings, started: float,
                 reserve: float) -> tuple[list[Plan], list[str]]:
    """The block plans, in block order, and notes on blocks a worker lost.

    Each block gets a seed drawn from the request's seed, a share of ``work_limit`` and of
    the time left in proportion to its participant places. Without an executor the blocks
    run one after another here (each on ``workers`` threads) and unspent time passes on;
    with one, every block is a task (``_plan_block``), given its share as if ``workers``
    blocks ran at once and a wall-clock deadline it does not outlive. A task that fails
    (its worker died) is planned again here in the time left.
    """
    seeds = as_generator(settings.seed).integers(2**31 - 1, size=len(split.blocks)).tolist()
    total = sum(split.units)
    end = None if settings.time_limit is None else started + settings.time_limit - reserve

    def block_settings(i: int, share: float, local: bool, hurry: bool = False) -> RunSettings:
        seconds = None if end is None else max((end - time.perf_counter()) * share, _BLOCK_SECONDS)
        work = None if settings.work_limit is None else settings.work_limit * split.units[i] // total
        if hurry:  # interrupted or stopped: the other blocks are only constructed
            seconds, work = (None, 0) if seconds is None else (_BLOCK_SECONDS, work)
        return dataclasses.replace(
            settings, seed=seeds[i], time_limit=seconds, work_limit=work, progress=None,
            decompose=Decompose.NEVER, executor=None, stop=settings.stop if local else None)

    if settings.executor is None:
        plans: list[Plan] = []
        for i, block in enumerate(split.blocks):
            hurry = any(n.startswith(("interrupted", "stopped on request")) for p in plans for n in p.notes)
            plans.append(_plan(block, block_settings(i, split.units[i] / sum(split.units[i:]), True, hurry),
                               None))
        return plans, []
    at_once = settings.workers or 1
    not_after = None if end is None else time.time() + (end - time.perf_counter())
    futures = [settings.executor.submit(_plan_block, block, block_settings(
        i, min(1.0, at_once * split.units[i] / total), False), not_after)
        for i, block in enumerate(split.blocks)]
    plans, lost = [], []
    for i, future in enumerate(futures):
        try:
            plans.append(future.result())
        except InfeasibleError:
            raise
        except Exception as err:  # noqa: BLE001 - a lost worker costs its block's search, not the plan
            lost.append(f"block {i + 1}: its task failed ({type(err).__name__}); planned again here")
            plans.append(_plan(split.blocks[i], block_settings(i, split.units[i] / sum(split.units[i:]),
                                                               True), None))
    return plans, lost


def _plan_block(block: Request, settings: RunSettings, not_after: float | None) -> Plan:
    """One block's plan, on any executor: its time limit ends at ``not_after`` (``time.time()``)."""
    if not_after is not None and settings.time_limit is not None:
        left = max(min(settings.time_limit, not_after - time.time()), _BLOCK_SECONDS)
        settings = dataclasses.replace(settings, time_limit=left)
    return _plan(block, settings, None)


def interrupt_notes(budget: Budget) -> list[str]:
    """The note of a run ended early by the caller's ``stop`` event or a ``KeyboardInterrupt``."""
    if budget.progress.stop_requested:
        log.info("planning stopped on request: returning the best plan so far")
        return ["stopped on request: the search was ended by the 'stop' event; "
                "this is the best plan found so far"]
    if budget.interrupted:
        log.info("planning interrupted: returning the best plan so far")
        return ["interrupted: the search was stopped early (KeyboardInterrupt); "
                "this is the best plan found so far"]
    return []


def with_repeats(problem: CompiledProblem, assignment: np.ndarray, planned: Plan) -> Plan:
    """The plan with its ``repeated_meetings`` listed (with a meeting cap; else unchanged)."""
    if problem.max_meetings == NO_CAP:
        return planned
    ra, rb, rn = repeated_meetings(problem, assignment)
    repeats = tuple(
        RepeatedMeeting(a=problem.person_ids[i], b=problem.person_ids[j], times=int(n))
        for i, j, n in zip(ra.tolist(), rb.tolist(), rn.tolist(), strict=True)
    )
    return planned.model_copy(update={"repeated_meetings": repeats})


def _assignment_of(problem: CompiledProblem, start: Plan) -> np.ndarray:
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


def _with_start_slots(problem: CompiledProblem, start: Plan) -> CompiledProblem:
    """``problem`` with the slots of the start plan's cohorts (a start without slots: itself)."""
    if not problem.slotted or all(c.slot is None for c in start.cohorts):
        return problem
    index = {s: i for i, s in enumerate(problem.slot_ids)}
    labels = problem.cohort_slot.copy()
    for c in start.cohorts:
        if c.slot is None:
            continue
        k = problem.cohort_index(c.id) if c.id in problem.cohort_ids else -1
        s = index.get(c.slot, -1)
        if k < 0 or s < 0 or not problem.block_slots[problem.cohort_block[k], s]:
            raise InputError(f"start plan: cohort {c.id!r} meets at {c.slot!r}, which is not a slot of "
                             f"course {c.course!r}")
        labels[k] = s
    return problem.with_slots(labels)


def _plan_partial(req: Request, settings: RunSettings, start: Plan | None) -> Plan:
    """``plan(..., on_infeasible="partial")``: plan what the hard rules allow, list the rest.

    :func:`cohortmatch.partial.reduce_request` leaves out the fewest participants it can
    so that no counting argument proves the request infeasible. If the engine still finds
    a conflict (rules clashing in combination, meeting caps), each course that cannot be
    planned on its own, or else the last course, is left out whole, until a plan exists.
    """
    started = time.perf_counter()
    limit = settings.time_limit

    def left(share: float = 1.0) -> float | None:
        if limit is None:
            return None
        return max(limit - (time.perf_counter() - started), 0.05) * share

    def attempt(courses: list[Course], share: float = 1.0, first: Plan | None = None) -> Plan:
        sub = dataclasses.replace(settings, time_limit=left(share))
        return _plan(req.with_courses(courses), sub, first)

    reduced, left_out = reduce_request(req)
    kept = list(reduced.courses)
    out = {(x.person, x.course): x.reason for x in left_out}
    planned = None
    while kept and planned is None:
        try:
            planned = attempt(kept, first=start)
        except InfeasibleError as err:
            failing = []
            for c in kept:
                try:
                    attempt([c], share=1.0 / len(kept))
                except InfeasibleError as alone:
                    failing.append((c, alone.conflicts))
            if not failing:
                failing = [(kept[-1], ["it cannot be planned together with the other courses: "
                                       + "; ".join(err.conflicts)])]
            for c, conflicts in failing:
                reason = f"course {c.id!r}: {conflicts[0] if conflicts else 'infeasible'}"
                who = c.participants if c.participants is not None else [q.id for q in req.org.people]
                for pid in who:
                    out[(pid, c.id)] = reason + "; nobody could be placed"
            gone = {c.id for c, _ in failing}
            kept = [c for c in kept if c.id not in gone]
            start = None
    if planned is None:
        planned = _empty_plan(req, seed=settings.seed)
    rounds = {c.id: c.rounds for c in req.courses}
    empty = [c.id for c in req.courses if c.participants is not None and not c.participants]
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
        "status": PlanStatus.INFEASIBLE_PARTIAL,
        "elapsed": time.perf_counter() - started,
        "notes": (*planned.notes, f"partial: {len(unassigned)} participant place(s) could not be "
                  "assigned under the hard rules (see unassigned)"),
    })


def _empty_plan(req: Request, *, seed: Any) -> Plan:
    """A plan with no cohort; its metrics count the ``history`` alone."""
    everyone = Course(id="-", min_size=1, max_size=len(req.org.people), cohorts=1)
    problem = compile_problem(
        req.org, [everyone], Policy(mode=req.policy.mode, decay=req.policy.decay),
        history=[c.members for past in req.history for c in past.cohorts],
    )
    none = np.full(problem.n_units, -1, np.int64)
    full = score(problem, none)
    empty = build_plan(problem, none, full, bound=full.objective, status=PlanStatus.INFEASIBLE_PARTIAL,
                       seed=seed if not isinstance(seed, np.random.Generator) else None,
                       elapsed=0.0, solver="none")
    return empty.model_copy(update={"cohorts": ()})


def _plan_seats(req: Request, settings: RunSettings, start: Plan | None) -> Plan:
    """A request with seats: choose who is placed, plan their cohorts, then improve the
    choice: CP-SAT on small requests it can model, else swaps of placed and waiting
    candidates (:mod:`cohortmatch.seats`)."""
    started = time.perf_counter()
    conflicts = seat_conflicts(req)
    if conflicts:
        raise InfeasibleError(conflicts)
    selection, chosen = _selection_within_rules(req)
    _raise_if_nobody_fits(req, selection)
    exact_bound = math.inf
    if not chosen.courses:  # every candidate used up their max_courses_per_person
        planned = _empty_plan(req, seed=settings.seed)
    else:
        share = None if settings.time_limit is None else 0.3 * settings.time_limit
        # never decomposed: the seat swaps that follow read the cohorts of this plan
        planned = _plan(chosen, dataclasses.replace(settings, time_limit=share, decompose=Decompose.NEVER), start)
        planned, exact_bound = _improve_seats(req, selection, planned, settings, started)
    gap_bound, fit_bound = seat_bound(req)
    fit = fit_of(req, selection.placed)
    fit_value = req.policy.fit_weight * fit
    total = planned.metrics.objective + fit_value
    bound = max(gap_bound, planned.metrics.objective)
    total_bound = max(min(gap_bound + fit_bound, exact_bound), total)
    metrics = planned.metrics.model_copy(update={
        "bound": bound, "gap_to_bound": (bound - planned.metrics.objective) / bound if bound > 0 else 0.0,
        "fit": fit, "fit_value": fit_value, "total": total, "total_bound": total_bound})
    status = PlanStatus.OPTIMAL if total >= total_bound * (1 - 1e-9) else PlanStatus.FEASIBLE
    log.info("seats: %d candidate place(s) waiting", len(selection.waiting))
    return planned.model_copy(update={
        "metrics": metrics, "unassigned": (*planned.unassigned, *selection.waiting),
        "status": planned.status if planned.status == PlanStatus.INFEASIBLE_PARTIAL else status,
        "elapsed": time.perf_counter() - started,
        "notes": (*planned.notes, f"seats: {sum(map(len, selection.placed.values()))} placed, "
                  f"{len({(u.person, u.course) for u in selection.waiting})} waiting (see unassigned)"),
    })


def _raise_if_nobody_fits(req: Request, selection: Selection) -> None:
    """A course nobody can be placed in is infeasible, unless ``max_courses_per_person``
    is set (then its candidates may have their seats elsewhere, and it is planned empty)."""
    conflicts = []
    for course in req.courses:
        if selection.placed.get(course.id):
            continue
        reasons = [u.reason.removeprefix("not selected: ") for u in selection.waiting if u.course == course.id]
        if not reasons or req.policy.max_courses_per_person is None:
            conflicts.append(f"course {course.id!r}: nobody can be placed ("
                             + (reasons[-1] if reasons else "it has no candidates") + ")")
    if conflicts:
        raise InfeasibleError(conflicts)


def _selection_within_rules(req: Request) -> tuple[Selection, Request]:
    """The selection, re-made while the hard rules' counting cuts someone out of it."""
    blocked: dict[tuple[str, str], str] = {}
    more: dict[str, int] = {}  # courses given more than the fewest cohorts, to keep the rules
    for _ in range(_SELECTION_ROUNDS):
        selection = select(req, blocked=blocked)
        selection.cohorts = more
        unseated = [u for u in selection.waiting if selection.tier[(u.person, u.course)] == 0]
        if unseated:
            raise InfeasibleError([f"course {u.course!r}: {u.person!r} must get a seat, but "
                                   + u.reason.removeprefix("not selected: ") for u in unseated[:3]])
        chosen = req.with_courses(selection.courses(req))
        if not chosen.courses:
            break
        _, cut = reduce_request(chosen)
        if not cut:
            break
        if _more_cohorts(chosen, {x.course for x in cut}, more):
            continue
        for x in cut:  # a required person cut: the course's last optional pick makes way instead
            key = (x.person, x.course)
            if selection.tier[key] == 0:
                optional = [q for q in selection.placed[x.course] if selection.tier[(q, x.course)] > 0]
                if not optional:
                    raise InfeasibleError([f"course {x.course!r}: {x.person!r} must get a seat, but "
                                           f"{x.reason}"])
                key = (optional[-1], x.course)
            blocked[key] = f"hard rule: {x.reason}"
    return selection, chosen


def _more_cohorts(chosen: Request, courses: set[str], more: dict[str, int]) -> bool:
    """Give each of ``courses`` (whose cohort count is not given) one more cohort if its
    placed people can fill it; whether any got one."""
    grown = False
    for course in chosen.courses:
        if course.id not in courses or (course.cohorts is not None and course.id not in more):
            continue  # not cut, or its cohort count is the user's
        n = len(course.participants or ())
        k = course.cohorts if course.cohorts is not None else cohorts_for(n, course)
        if (k + 1) * course.min_size <= n:
            more[course.id] = k + 1
            grown = True
    return grown


def _improve_seats(req: Request, selection: Selection, planned: Plan, settings: RunSettings,
                   started: float) -> tuple[Plan, float]:
    """The plan after CP-SAT (small requests it models: ``auto``, ``cpsat``) or swaps chose
    the people again, and CP-SAT's proven bound on the total (``inf`` without it)."""
    seconds = None if settings.time_limit is None else max(
        0.0, 0.9 * settings.time_limit - (time.perf_counter() - started))
    problem = exact_problem(req, selection) if settings.solver in ("auto", "cpsat") else None
    if problem is not None and (problem.n_units <= EXACT_CANDIDATES or settings.solver == "cpsat"):
        seed = settings.seed if isinstance(settings.seed, int) else int(as_generator(settings.seed).integers(2**31))
        workers = settings.workers or (1 if settings.time_limit is None else None)
        hint = {c.id: (c.course, list(c.members)) for c in planned.cohorts}
        out = solve_exact(problem, hint, time_limit=seconds, workers=workers, seed=seed, stop=settings.stop)
        if out is not None:
            reselect(req, selection, {(m, course) for course, who in out.members.values() for m in who},
                     "lower value: the best choice of people and cohorts (CP-SAT) seats others")
            note = f"seats: people and cohorts chosen together by CP-SAT ({out.status})"
            return _plan_of(req, selection, out.members, planned, note), out.bound
    tries = 50 * len(selection.waiting) if settings.work_limit is None else max(1, settings.work_limit // 10)
    members, swaps = improve_selection(req, selection, planned.cohorts, seconds=seconds,
                                       max_tries=tries, rng=as_generator(settings.seed))
    if not swaps:
        return planned, math.inf
    return _plan_of(req, selection, members, planned,
                    f"seats: {swaps} swap(s) of placed and waiting candidates"), math.inf


def _plan_of(req: Request, selection: Selection, members: dict[str, tuple[str, list[str]]],
             planned: Plan, note: str) -> Plan:
    """The plan of the people ``selection`` places in the cohorts ``members`` (empty ones
    dropped, the others numbered in order)."""
    used = {cid: v for cid, v in members.items() if v[1]}
    count = Counter(course for course, _ in used.values())
    chosen = req.with_courses([c.model_copy(update={"cohorts": count[c.id]})
                               for c in selection.courses(req)])
    problem = chosen.compile()
    a = np.full(problem.n_units, -1, np.int64)
    unit_of = problem.unit_index()
    first = {ci: int(np.flatnonzero(problem.cohort_block == np.flatnonzero(problem.block_course == ci)[0])[0])
             for ci in range(len(problem.course_ids))}
    seen: Counter[str] = Counter()
    for course, who in used.values():
        k = first[problem.course_ids.index(course)] + seen[course]
        seen[course] += 1
        for m in who:
            a[unit_of[(m, course, 0)]] = k
    violations = check_assignment(problem, a)
    if violations:
        raise CohortmatchError(f"the seat choice broke rules ({violations}); this is a bug, please report it")
    full = score(problem, a)
    out = build_plan(problem, a, full, bound=planned.metrics.bound, status=PlanStatus.FEASIBLE,
                     seed=planned.seed, elapsed=planned.elapsed, solver=planned.solver,
                     notes=(*planned.notes, note))
    if problem.categories is not None:
        out = out.model_copy(update={"mix": mix_of(problem, a)})
    return with_repeats(problem, a, out)
