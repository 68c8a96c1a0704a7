"""The front door of re-planning: check, map the published plan, repair, improve, assemble."""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np

from ..compiled import CompiledProblem
from ..cores import lease
from ..engines.base import Budget
from ..engines.cpsat.exact import EXACT_LIMIT, CpsatEngine
from ..engines.cpsat.explain import explain_or_find
from ..engines.cpsat.model import model_size
from ..engines.cpsat.solve import reaches
from ..engines.heuristic import start_or_find
from ..errors import CohortmatchError, InfeasibleError, InputError
from ..guards import check_problem
from ..model import Policy
from ..params import Solver, as_generator, run_settings
from ..planner import interrupt_notes, with_repeats
from ..request import as_request
from ..result import ChangeReason, Plan, PlanStatus, build_plan
from ..rules import check_assignment, raise_if_infeasible
from ..scoring import SearchState, score, upper_bound
from .anchors import best_anchor, cohort_ids, home_of, initial_anchor, relabel
from .changes import changes, moved_units
from .exact import best_within, fewest_moves
from .improve import improve
from .previous import Previous, read_previous
from .repair import moves_lower_bound, repair_moves, return_home
from .value_bound import fewest_moves_value_bound

__all__ = ["replan", "REPLAN_SOLVERS"]

log = logging.getLogger("cohortmatch")

#: The engines ``replan(solver=...)`` takes.
REPLAN_SOLVERS = (Solver.AUTO, Solver.HEURISTIC, Solver.CPSAT)
#: Share of the time left that the exact move minimum may take.
FEWEST_SHARE = 0.4
#: Share of the time left for the heuristic improvement before the exact gap step.
IMPROVE_SHARE = 0.25
#: Share of the time left that the bound on the value at the fewest moves may take, and the
#: least time per unit of the request that share must give (about 1 s at 10,000 units).
BOUND_SHARE, BOUND_SECONDS_PER_UNIT = 0.2, 1e-4
#: Share of the time limit at most kept back to assemble the plan (about 0.4 s at 10,000 people).
RESERVE = 0.3
#: Work of the heuristic improvement per unit that may move, and per unit of the request.
WORK_PER_FREE, WORK_PER_UNIT = 4000, 60


def replan(
    previous: Plan,
    request: Any,
    courses: Any = None,
    *,
    policy: Policy | None = None,
    pair_values: Any = None,
    history: Any = (),
    max_moves: int | None = None,
    solver: str = "auto",
    time_limit: float | None = 10.0,
    work_limit: int | None = None,
    workers: int | None = None,
    progress: Any = None,
    seed: int | np.random.Generator | None = None,
    stop: Any = None,
) -> Plan:
    """Re-plan a published plan for today's request, moving as few people as possible.

    .. math::

        \\operatorname{lexmax} \\big( -\\#\\{\\text{moved}\\},\\;
        \\textstyle\\sum_e w_e \\, f(c_e) \\big)

    over the plans keeping every hard rule of ``request``: first the fewest people moved
    from their published cohort (people who left and newcomers are not moves), then the
    most gap value. With ``max_moves``: the most gap value over the plans with at most
    that many moves.

    A person *stays* when their cohort in the re-plan carries the id of the cohort they
    had (each published cohort is continued by at most one cohort, chosen to keep the
    most people; see :mod:`cohortmatch.replanning.anchors`). Moves are counted per place
    (person, course, round).

    Parameters
    ----------
    previous : Plan
        The published plan (from :func:`cohortmatch.plan` or an earlier re-plan, e.g.
        read with :meth:`Plan.from_json <cohortmatch.Plan.from_json>`).
    request : Request or Organisation
        Today's request (people added or removed, teams changed, new gaps and rules,
        changed course sizes), or its organisation followed by the other pieces.
    courses, policy, pair_values, history :
        With an organisation: the other pieces of the request (as :func:`cohortmatch.plan`).
    max_moves : int, optional
        At most this many moves; the gap value is then maximised under the cap.
    solver : {"auto", "heuristic", "cpsat"}
        ``cpsat``: the exact CP-SAT model with who-stays literals (status ``optimal`` when
        the fewest moves and, with them, the most gap value are proven). ``heuristic``:
        repair and local search only (the move count is proven minimal when it meets the
        counting bound). ``auto``: ``cpsat`` when the model is small, else ``heuristic``.
    time_limit, work_limit, workers, progress, seed, stop :
        As for :func:`cohortmatch.plan`.

    Returns
    -------
    Plan
        Cohort ids are stable: a cohort continuing a published one keeps its id, new
        cohorts get new ids, ``emptied_cohorts`` lists the published ids that do not go
        on. ``changes`` has one record per person and course round whose place changed
        (``left``, ``joined``, ``rule`` with the rule kept, ``gap``); ``metrics.moved``
        counts the moves and ``metrics.moves_bound`` is a proven lower bound on them.
        With a move cap in force, ``metrics.bound`` and status ``optimal`` refer to the
        plans within the cap; without one, when ``moved == moves_bound``, to the plans
        with that few moves (:mod:`cohortmatch.replanning.value_bound`).

    Raises
    ------
    InputError
        Bad parameters, or a published plan that does not fit the request (a course or
        round it no longer has, a cohort id used twice, a person twice in a course round).
    InfeasibleError
        The rules cannot all hold, or not with at most ``max_moves`` moves (the message
        says how many moves are needed at least).

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="abc"[i % 3]) for i in range(12)],
    ...                       gaps=[cm.Gap(a="a", b="b"), cm.Gap(a="b", b="c")])
    >>> course = cm.Course(id="intro", min_size=3, max_size=5)
    >>> published = cm.plan(org, [course], time_limit=None, work_limit=2000, seed=1)
    >>> first = published.cohorts[0].members
    >>> today = cm.Request(org=org, courses=[course], policy=cm.Policy(keep_apart=[first[:2]]))
    >>> new = cm.replan(published, today, time_limit=None, work_limit=2000, seed=1)
    >>> new.metrics.moved, new.metrics.moves_bound, [c.reason for c in new.changes]
    (1, 1, ['rule'])
    >>> cm.validate(new, today)
    []
    """
    settings = run_settings(solver=solver, time_limit=time_limit, work_limit=work_limit,
                            workers=workers, seed=seed, progress=progress, stop=stop)
    if settings.solver not in REPLAN_SOLVERS:
        raise InputError(f"replan: the 'solver' must be one of {', '.join(repr(s.value) for s in REPLAN_SOLVERS)}. "
                         f"Got {settings.solver.value!r}.")
    if max_moves is not None and (isinstance(max_moves, bool) or not isinstance(max_moves, Integral)
                                  or max_moves < 0):
        raise InputError(f"replan: the 'max_moves' must be an int >= 0 or None. Got {max_moves!r}.")
    if not isinstance(previous, Plan):
        raise InputError(f"replan: the 'previous' must be a Plan. Got {type(previous).__name__}.")
    req = as_request(request, courses, policy, pair_values=pair_values, history=history, name="replan")
    budget = Budget(settings.time_limit, settings.work_limit, progress=settings.progress,
                    stop=settings.stop)
    rng = as_generator(settings.seed)
    problem = req.compile()
    check_problem(problem)
    if problem.slotted:
        raise InputError("replan cannot keep time slots yet (Course.slots): plan again with the previous plan "
                         "as a start (cm.plan(request, start=previous), which keeps its slots where it can)")
    prev = read_previous(previous, problem)
    raise_if_infeasible(problem)
    exact = _exact(problem, prev, settings.solver)
    if settings.time_limit is not None:  # keep time to assemble the plan inside the limit
        budget.time_limit = settings.time_limit - min(RESERVE * settings.time_limit, 0.05 + 4e-5 * problem.n_units)
    workers = settings.workers if settings.workers is not None or settings.time_limit is not None else 1
    with lease(workers) as threads:  # without a number: the cores no other run holds
        found = _Search(problem, prev, budget, rng, threads).run(None if max_moves is None else int(max_moves), exact)
    return _assemble(problem, prev, found, budget, settings.seed)


def _exact(problem: CompiledProblem, prev: Previous, solver: Solver) -> bool:
    """Whether the exact CP-SAT model runs (``auto``: when it is small)."""
    if solver == Solver.HEURISTIC:
        return False
    reason = CpsatEngine().supports(problem)
    if solver == Solver.CPSAT:
        if reason is not None:
            raise InputError(f"The 'solver' 'cpsat' cannot re-plan this request: {reason}.")
        return True
    if reason is not None:
        return False
    labels = np.bincount(prev.label_block, minlength=problem.n_blocks)
    anchors = int((np.diff(problem.block_cohorts) * labels).sum())
    return model_size(problem) + 2 * anchors <= EXACT_LIMIT


@dataclass
class _Found:
    """What the search found: the plan, its status and bounds, notes."""

    assignment: np.ndarray
    status: PlanStatus
    lower: int
    gap_bound: float
    solver: str
    forced: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


class _Search:
    """The phases of a re-plan on one compiled request (see :func:`replan`)."""

    def __init__(self, problem: CompiledProblem, prev: Previous, budget: Budget,
                 rng: np.random.Generator, workers: int | None):
        self.problem, self.prev, self.budget, self.rng, self.workers = problem, prev, budget, rng, workers
        self.notes: list[str] = []

    def moves(self, a: np.ndarray) -> int:
        """Moves of a plan, with the labels that keep the most people."""
        return int(moved_units(self.prev, best_anchor(self.problem, self.prev, a), a).shape[0])

    def run(self, cap: int | None, exact: bool) -> _Found:
        p, prev = self.problem, self.prev
        anchor = initial_anchor(p, prev)
        lower = moves_lower_bound(p, prev, anchor)
        if cap is not None and lower > cap:
            raise InfeasibleError([_cap_message(cap, lower)])
        best = repair_moves(p, home_of(prev, anchor), self.rng)
        if best is None:
            self.notes.append("replan: the repair could not keep every rule")
        solver = "heuristic"
        if exact and not (cap is None and best is not None and self.moves(best) == lower):
            best, lower = self._fewest(best, lower, cap, anchor)
            solver = "cpsat"
        if best is None:
            best = self._from_scratch(anchor)
        m = self.moves(best)
        if cap is not None and m > cap:
            raise InfeasibleError([f"no plan with at most {cap} moves was found; at least {lower} are "
                                   f"needed (proven), the best plan found moves {m}"])
        limit = cap if cap is not None else m
        bound = upper_bound(p)
        if m == lower:  # the fewest moves: a better start, and (no cap) a tighter bound
            best, at_fewest = self._at_fewest(best, m, anchor)
            bound = min(bound, at_fewest) if cap is None else bound
        forced = None
        if cap is not None:  # moves beyond these fewest are for the gap value
            forced = np.zeros(p.n_units, dtype=bool)
            forced[moved_units(prev, best_anchor(p, prev, best), best)] = True
        best = self._improve(best, limit, bound, exact)
        if cap is None:  # fewest moves first: send back whoever the search left away but need not be
            state = SearchState(p, best)
            return_home(state, home_of(prev, best_anchor(p, prev, best)))
            best = state.assignment.copy()
        status, gap_bound = PlanStatus.FEASIBLE, bound
        if exact and not self.budget.exhausted():
            hint = relabel(p, prev, best, anchor)
            out = best_within(p, prev, anchor, limit, hint=hint, target=bound, budget=self.budget, share=1.0,
                              rng=self.rng, workers=self.workers)
            if out.assignment is not None and score(p, out.assignment).objective > score(p, best).objective:
                best = out.assignment
            gap_bound = min(bound, out.bound) if math.isfinite(out.bound) else bound
            solver = "cpsat"
        if reaches(score(p, best).objective, gap_bound) and (cap is not None or self.moves(best) <= lower):
            status = PlanStatus.OPTIMAL
        return _Found(best, status, lower, gap_bound, solver, forced, self.notes)

    def _at_fewest(self, best: np.ndarray, m: int, anchor: np.ndarray) -> tuple[np.ndarray, float]:
        """The linear program's placement when it keeps every rule, moves ``m`` (the fewest)
        and is worth more than ``best``; and the bound on the value at the fewest moves."""
        p = self.problem
        share = BOUND_SHARE * self.budget.remaining()
        if share < BOUND_SECONDS_PER_UNIT * p.n_units:  # no time for it: keep the time limit
            return best, math.inf
        found = fewest_moves_value_bound(p, self.prev, anchor, m, time_limit=share)
        if found is None:
            return best, math.inf
        a = found.placement
        if (a is not None and score(p, a).objective > score(p, best).objective
                and not check_assignment(p, a) and self.moves(a) == m):
            best = a
        return best, found.bound

    def _fewest(self, best: np.ndarray | None, lower: int, cap: int | None,
                anchor: np.ndarray) -> tuple[np.ndarray | None, int]:
        """The exact move minimum (within ``cap``); raises when no plan is within the cap."""
        p = self.problem
        hint = relabel(p, self.prev, best, anchor) if best is not None else None
        f = fewest_moves(p, self.prev, anchor, hint=hint, lower=lower, cap=cap, budget=self.budget,
                         share=FEWEST_SHARE, rng=self.rng, workers=self.workers)
        if f.status == "infeasible":
            if cap is not None:
                raise InfeasibleError([_cap_message(cap, f.lower) + " (proved by CP-SAT)"])
            raise InfeasibleError(explain_or_find(p, budget=self.budget, rng=self.rng).core
                                  or ["the hard rules cannot all hold together (proved by CP-SAT)"])
        if f.assignment is not None and (best is None or self.moves(f.assignment) < self.moves(best)):
            best = f.assignment
        return best, f.lower

    def _from_scratch(self, anchor: np.ndarray) -> np.ndarray:
        """A plan from scratch (the repair failed), with everyone sent back where the rules allow."""
        p = self.problem
        found = start_or_find(p, budget=self.budget, rng=self.rng, start=None, target=upper_bound(p))
        state = SearchState(p, found.assignment)
        return_home(state, home_of(self.prev, anchor))
        self.notes.append("replan: planned from scratch, then sent people back to their cohorts "
                          "where the rules allow")
        return state.assignment.copy()

    def _improve(self, best: np.ndarray, cap: int, bound: float, exact: bool) -> np.ndarray:
        """Local search on who may move (stayers pinned), within its share of the budget."""
        p, b = self.problem, self.budget
        home = home_of(self.prev, best_anchor(p, self.prev, best))
        free = int(((home < 0) | (best != home)).sum()) + max(cap - self.moves(best), 0)
        share = IMPROVE_SHARE if exact else 1.0
        work = WORK_PER_FREE * free + WORK_PER_UNIT * p.n_units
        if b.work_limit is not None:
            work = min(work, int(share * max(b.work_limit - b.work, 0)))
        left = b.remaining()
        sub = Budget(share * left if math.isfinite(left) else None, work, progress=b.progress)
        out = improve(p, home, best, cap=cap, budget=sub, rng=self.rng, target=bound)
        b.spend(sub.work)
        return out


def _cap_message(cap: int, lower: int) -> str:
    return f"no plan keeps the rules with at most {cap} moves: at least {lower} are needed"


def _assemble(problem: CompiledProblem, prev: Previous, found: _Found, budget: Budget, seed: Any) -> Plan:
    """The plan: cohorts under their stable ids, changes, moves, notes."""
    p, a = problem, found.assignment
    violations = check_assignment(p, a)
    if violations:
        raise CohortmatchError(f"the re-plan breaks rules ({violations}); this is a bug, please report it")
    label = best_anchor(p, prev, a)
    ids, emptied = cohort_ids(p, prev, label)
    changed = changes(p, prev, a, label, ids, forced=found.forced)
    moved = [c for c in changed if c.reason in (ChangeReason.RULE, ChangeReason.GAP)]
    if len(moved) < found.lower:
        raise CohortmatchError(f"the re-plan moves {len(moved)}, below its lower bound {found.lower}; "
                               "this is a bug, please report it")
    proven = "the fewest possible" if len(moved) <= found.lower else f"at least {found.lower} needed"
    why = Counter(c.rule or "gap value" for c in moved)
    summary = (f"replan: {len(moved)} moved ({proven}"
               + "".join(f"; {r} {n}" for r, n in sorted(why.items()))
               + f"), {sum(c.reason == ChangeReason.JOINED for c in changed)} joined, "
               f"{sum(c.reason == ChangeReason.LEFT for c in changed)} left")
    log.info(summary)
    full = score(p, a)
    planned = build_plan(p, a, full, bound=found.gap_bound, status=found.status,
                         seed=seed if not isinstance(seed, np.random.Generator) else None,
                         elapsed=budget.elapsed(), solver=found.solver,
                         notes=[*found.notes, *interrupt_notes(budget), summary])
    cohorts = tuple(c.model_copy(update={"id": ids[k]}) for k, c in enumerate(planned.cohorts))
    metrics = planned.metrics.model_copy(update={"moved": len(moved), "moves_bound": found.lower})
    planned = planned.model_copy(update={"cohorts": cohorts, "metrics": metrics, "changes": tuple(changed),
                                         "emptied_cohorts": tuple(emptied)})
    return with_repeats(p, a, planned)
