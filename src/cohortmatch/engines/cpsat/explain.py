"""Why a request has no plan: CP-SAT with every rule behind an assumption literal."""

from __future__ import annotations

import math

import numpy as np
from ortools.sat.python import cp_model

from ...compiled import CompiledProblem
from ..base import Budget
from .model import build_model
from .solve import CpsatOutcome, deterministic_time_for, seed_of, solve_model, time_for

__all__ = ["explain_or_find"]


def explain_or_find(
    problem: CompiledProblem,
    *,
    budget: Budget,
    rng: np.random.Generator,
    minimise: bool = True,
) -> CpsatOutcome:
    """Find any plan keeping every hard rule, or name a small set of rules that conflict.

    Every hard rule (cohort sizes of a course, ``max_per_team`` for a team in a course,
    a manager kept apart from their reports) is guarded by an assumption literal;
    CP-SAT's ``sufficient_assumptions_for_infeasibility`` gives a conflicting subset,
    which is then shrunk by deletion (a rule stays only if the rest is satisfiable
    without it) while time allows.

    Returns
    -------
    CpsatOutcome
        ``feasible`` with an assignment, ``infeasible`` with ``core`` in plain words, or
        ``unknown`` when the time ran out.
    """
    cm = build_model(problem, explain=True)
    seed = seed_of(rng)
    out = solve_model(
        cm,
        time_limit=time_for(budget),
        seed=seed,
        deterministic_time=deterministic_time_for(budget),
        stop=budget.progress,
    )
    if out.status != "infeasible" or not minimise:
        return out
    words_to_lit = {
        w: lit for lit, w in ((lit, cm.rules[lit.index]) for lit in cm.rule_literals.values())
    }
    core = list(out.core)
    i = 0
    while i < len(core) and len(core) > 1 and budget.remaining() > 0.1:
        trial = core[:i] + core[i + 1 :]
        cm.model.clear_assumptions()
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        limit = time_for(budget)
        if limit is not None:
            solver.parameters.max_time_in_seconds = min(limit, 5.0)
        cm.model.add_assumptions([words_to_lit[w] for w in trial])
        try:
            code = solver.solve(cm.model)
        except Exception:  # pragma: no cover - keep the core found so far
            break
        if code == cp_model.INFEASIBLE:
            core = trial
        else:
            i += 1
    cm.model.clear_assumptions()
    return CpsatOutcome("infeasible", None, math.nan, -math.inf, core)
