"""The exact engine: a warm start, the decomposition bound, then CP-SAT on the whole model."""

from __future__ import annotations

import math
from concurrent.futures import Executor

import numpy as np

from ...compiled import CompiledProblem
from ...errors import InfeasibleError, SizeLimitError
from ...rules import active
from ...scoring import score
from ..base import Budget, Deadline, SolverResult, labelled, slots_of
from ..heuristic import solve_heuristic
from ..lns import LnsEngine
from .decomposition import Master, PricingCut, decompose, integer_master
from .explain import explain_or_find
from .model import CohortModel, ModelStopped, build_model, model_size, team_total
from .solve import deterministic_time_for, reaches, seed_of, solve_model, time_for

__all__ = [
    "EXACT_LIMIT", "MODEL_LIMIT", "CpsatEngine", "solve_cpsat", "solve_exact", "add_cut", "warm_budget",
]

#: ``solver="auto"`` uses the exact model up to this many model variables.
EXACT_LIMIT = 20_000
#: Above this many model variables ``solver="cpsat"`` refuses (``SizeLimitError``).
MODEL_LIMIT = 2_000_000


def solve_cpsat(
    problem: CompiledProblem,
    *,
    budget: Budget,
    rng: np.random.Generator,
    hint: np.ndarray | None = None,
    workers: int | None = None,
) -> SolverResult:
    """Solve the exact model with CP-SAT within the budget.

    With a ``hint`` (and at least 2.5 s, or no time limit), :func:`decomposition_bound`
    first gets up to a fifth of the time (at most 8 s). In ``sum`` mode the integer
    pattern master (:func:`integer_master`) then gets up to 40% of what is left (at
    most 12 s): it
    tightens the bound to the optimum of the plans with managers' separation relaxed,
    and its plan, realised person by person when the rules allow, replaces a worse hint.
    When the hint meets the bound it is optimal and CP-SAT does not run, else CP-SAT
    stops as soon as it finds a plan meeting it.

    Returns
    -------
    SolverResult
        Status ``optimal`` when CP-SAT or the decomposition bound proved it, else
        ``feasible``; ``bound`` is the better of CP-SAT's and the decomposition bound.

    Raises
    ------
    SizeLimitError
        The model would exceed :data:`MODEL_LIMIT` variables.
    InfeasibleError
        No plan exists (the message names a small set of conflicting rules), or none was
        found within the time limit and none was given as ``hint``.
    """
    size = model_size(problem)
    if size > MODEL_LIMIT:
        raise SizeLimitError(
            f"the exact model would need about {size} variables (limit {MODEL_LIMIT}); "
            "use solver='auto' or 'lns'"
        )
    if budget.interrupted and hint is not None:
        return SolverResult(hint.copy(), "feasible", math.inf, "cpsat", ["CP-SAT did not run"], slots_of(problem))
    dw, notes = math.inf, []
    cuts: list[PricingCut] = []
    # the decomposition's first call imports scipy.optimize (about a second): not worth
    # it in a window under half a second
    timed = budget.time_limit is not None
    if hint is not None and (not timed or 0.2 * budget.remaining() >= 0.5):
        master = Master()
        dw, cuts = decompose(
            problem,
            start=hint,
            time_limit=min(0.2 * budget.remaining(), 8.0) if timed else None,
            max_rounds=50,
            seed=seed_of(rng),
            master=master,
            stop=Deadline(budget),
        )
        value = score(problem, hint).objective
        if reaches(value, dw):
            notes = ["the warm start meets the decomposition bound: it is optimal"]
            return SolverResult(hint.copy(), "optimal", dw, "cpsat", notes, slots_of(problem))
        if math.isfinite(dw):
            notes = [f"decomposition bound {dw:.6g}"]
        if problem.mode == "sum" and math.isfinite(dw):
            hint, dw = _sum_master_step(problem, master, hint, value, dw, budget, notes)
            if reaches(score(problem, hint).objective, dw):
                notes.append("the plan meets the integer master bound: it is optimal")
                return SolverResult(hint.copy(), "optimal", dw, "cpsat", notes, slots_of(problem))
    try:  # stopped or out of time while building (seconds on large models): the hint is the plan
        cm = build_model(problem, hint=hint, stop=None if hint is None else Deadline(budget))
    except ModelStopped:
        return SolverResult(np.asarray(hint).copy(), "feasible", dw, "cpsat", [*notes, "CP-SAT did not run"],
                            slots_of(problem))
    for cut in cuts:
        add_cut(cm, cut)
    out = solve_model(
        cm,
        time_limit=time_for(budget),
        workers=workers,
        seed=seed_of(rng),
        deterministic_time=deterministic_time_for(budget),
        budget=budget,
        target=dw,
    )
    out.bound = min(out.bound, dw)
    if out.status == "infeasible" and hint is not None:  # the hint keeps every rule: not so
        return SolverResult(hint.copy(), "feasible", dw, "cpsat", [
            *notes, "CP-SAT reported the model infeasible although the warm start keeps every "
            "rule (a solver error); the warm start is the plan"], slots_of(problem))
    if out.status == "infeasible":
        raise InfeasibleError(
            explain_or_find(problem, budget=budget, rng=rng).core
            or ["the hard rules cannot all hold together (proved by CP-SAT)"]
        )
    if out.assignment is None:
        if hint is not None:
            return SolverResult(
                hint.copy(),
                "feasible",
                out.bound,
                "cpsat",
                [*notes, "CP-SAT found no better plan than its hint within the time limit"],
                slots_of(problem),
            )
        raise InfeasibleError(
            [
                "no plan keeping every hard rule was found within the time limit "
                "(infeasibility is not proven; allow more time)"
            ]
        )
    assignment = out.assignment
    slots = out.slots
    if hint is not None and out.status != "optimal":
        # CP-SAT's first solution is the hint: never return worse than what it was given
        if score(problem, hint).objective > score(problem, assignment).objective:
            assignment, slots = hint.copy(), slots_of(problem)
    status = out.status
    if status != "optimal" and reaches(score(problem, assignment).objective, out.bound):
        status = "optimal"
    return SolverResult(assignment, status, out.bound, "cpsat", notes, slots)


def _sum_master_step(
    problem: CompiledProblem,
    master: Master,
    hint: np.ndarray,
    value: float,
    bound: float,
    budget: Budget,
    notes: list[str],
) -> tuple[np.ndarray, float]:
    """``sum`` mode: tighten ``bound`` by the exact integer master, and take its plan as
    the hint when it can be realised and beats ``value`` (the hint's). Appends notes.
    """
    timed = budget.time_limit is not None
    im = integer_master(
        problem,
        master,
        incumbent=value,
        time_limit=min(0.4 * budget.remaining(), 12.0) if timed else None,
        stop=Deadline(budget),
    )
    if im.bound < bound:
        bound = im.bound
        notes.append(f"integer master bound {bound:.6g} ({im.columns} patterns)")
    a = im.assignment
    if a is not None and not problem.slotted and score(problem, a).objective > value:  # its slots are not read
        hint = a
        notes.append("the integer master's plan improved the warm start")
    return hint, bound



def add_cut(cm: CohortModel, cut: PricingCut) -> None:
    """A pricing cut on every cohort of its block (terms absent from the model are 0)."""
    d = cm.data
    if cut.block not in d.block_cohorts:
        return
    for k in d.block_cohorts[cut.block].tolist():
        expr = [
            c * cm.b[e, k]
            for e, c in zip(cut.edges.tolist(), cut.term_coef.tolist(), strict=True)
            if c > 0 and (e, k) in cm.b
        ]
        expr += [
            c * team_total(cm, t, k)
            for t, c in zip(cut.teams.tolist(), cut.team_coef.tolist(), strict=True)
            if c != 0 and (t, k) in cm.team_count
        ]
        if expr:
            cm.model.add(sum(expr) <= cut.rhs)



def solve_exact(
    problem: CompiledProblem,
    *,
    budget: Budget,
    rng: np.random.Generator,
    start: np.ndarray | None = None,
    target: float = math.inf,
    workers: int | None = None,
    executor: Executor | None = None,
) -> SolverResult:
    """The exact engine: a warm start, then CP-SAT.

    The warm start is what ``solver="auto"`` runs on a model of this size: the
    heuristic when the model is within :data:`EXACT_LIMIT` variables, else the
    heuristic and its polish (:class:`~cohortmatch.engines.lns.LnsEngine`, whose LNS
    stage is CP-SAT on a few cohorts at a time), with the share of the run
    :func:`warm_budget` gives it. Its plan is CP-SAT's hint, and CP-SAT never returns a
    worse plan than its hint, so the exact engine returns at least what ``auto`` finds
    with that share. If the warm start reaches ``target`` (a proven bound) it is optimal
    already. If its repair fails (not a proof), CP-SAT starts without a hint and either
    finds a plan or proves there is none.
    """
    notes: list[str] = []
    hint = None
    # the warm start; a given start is repaired and improved the same way
    warm = warm_budget(problem, budget)
    try:
        h = _warm_start(problem, warm, rng, start, target, workers, executor)
    except InfeasibleError:
        if start is not None:
            raise
        notes.append("the heuristic found no valid start; CP-SAT searched from scratch")
    else:
        if h.status == "optimal":
            return SolverResult(
                h.assignment,
                "optimal",
                h.bound,
                "cpsat",
                ["the warm start reached the proven bound; CP-SAT was not needed"],
                h.slots,
            )
        hint = h.assignment
        problem = labelled(problem, h)  # its slots hint CP-SAT's, which it decides again
        notes += h.notes
    if hint is not None and budget.exhausted():
        return SolverResult(hint.copy(), "feasible", math.inf, "cpsat",
                            [*notes, "CP-SAT did not run: the warm start had the whole time"], slots_of(problem))
    result = solve_cpsat(problem, budget=budget, rng=rng, hint=hint, workers=workers)
    result.notes = notes + result.notes
    return result


def _warm_start(
    problem: CompiledProblem,
    warm: Budget,
    rng: np.random.Generator,
    start: np.ndarray | None,
    target: float,
    workers: int | None,
    executor: Executor | None,
) -> SolverResult:
    """``auto``'s run on a model of this size: the heuristic, or above
    :data:`EXACT_LIMIT` the heuristic with its polish (when the LNS engine keeps every rule)."""
    if _beyond_exact(problem):
        return LnsEngine().solve(problem, budget=warm, rng=rng, start=start, target=target,
                                 workers=workers, executor=executor)
    return solve_heuristic(problem, budget=warm, rng=rng, target=target, start=start)


def _beyond_exact(problem: CompiledProblem) -> bool:
    """Whether ``auto`` would not use the exact model here and runs the LNS engine instead."""
    size = problem.cached("model_size", lambda: model_size(problem))  # asked twice per run
    return size > EXACT_LIMIT and LnsEngine().supports(problem) is None


def warm_budget(problem: CompiledProblem, budget: Budget) -> Budget:
    """The warm start's budget: what ``auto`` would give it.

    On a model above :data:`EXACT_LIMIT` variables ``auto`` runs the LNS engine for
    the whole run, and so does the warm start: all the time of a timed run (CP-SAT on
    the whole model, which takes longer to build than such runs last, then does not
    run), and all of a work limit (CP-SAT then gets its own deterministic time, so the
    exact engine returns at least ``auto``'s plan of the same seed). Otherwise, with a
    time limit the heuristic gets half of what is left and no work cap (on requests
    CP-SAT cannot close, the heuristic's plan is what the run returns, so it must not
    be starved); with a work limit alone, at most ``50 * units + 1000`` of it.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team=f"t{i % 3}") for i in range(12)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=4, max_size=4)])
    >>> warm = warm_budget(prob, Budget(time_limit=10.0, work_limit=None))
    >>> round(warm.time_limit), warm.work_limit
    (5, None)
    >>> warm_budget(prob, Budget(time_limit=None, work_limit=10**9)).work_limit
    1600
    """
    if _beyond_exact(problem):
        whole = None if budget.time_limit is None else budget.remaining()
        return Budget(time_limit=whole, work_limit=budget.work_limit, progress=budget.progress)
    cap = 50 * problem.n_units + 1000
    remaining = budget.remaining()
    if math.isfinite(remaining):
        work = None if budget.work_limit is None else max(1, budget.work_limit // 2)
        return Budget(time_limit=0.5 * remaining, work_limit=work, progress=budget.progress)
    return Budget(time_limit=None, work_limit=min(budget.work_limit or cap, cap),
                  progress=budget.progress)


class CpsatEngine:
    """``solver="cpsat"``: the exact model (:func:`solve_exact`), status ``optimal`` when proved."""

    name = "cpsat"

    def supports(self, problem: CompiledProblem) -> str | None:
        for rule in active(problem):
            if not rule.cpsat:
                return f"it cannot keep {rule.name} (the CP-SAT model has no such constraint)"
        return None

    def solve(
        self,
        problem: CompiledProblem,
        *,
        budget: Budget,
        rng: np.random.Generator,
        start: np.ndarray | None,
        target: float,
        workers: int | None,
        executor: Executor | None = None,
    ) -> SolverResult:
        return solve_exact(problem, budget=budget, rng=rng, start=start, target=target, workers=workers,
                           executor=executor)
