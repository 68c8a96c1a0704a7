"""Large-neighbourhood search: free a few cohorts, re-optimise them jointly with CP-SAT."""

from __future__ import annotations

import math
from concurrent.futures import Executor

import numpy as np

from ..compiled import CompiledProblem
from ..rules import active, search_cannot_keep
from ..scoring import SearchState, edge_value, score
from ..teamcounts import present_teams
from . import partition
from .base import Budget, SolverResult, labelled, slots_of
from .cpsat.model import build_model
from .cpsat.solve import solve_model
from .heuristic import solve_heuristic, start_or_find

__all__ = ["LnsEngine", "StallBudget", "solve_lns", "neighbourhood", "polish"]

EPS = 1e-9
#: Seconds one sub-problem may take (wall clock), and deterministic seconds without a time limit.
SUB_TIME = 0.1
SUB_DETERMINISTIC_TIME = 0.2


class StallBudget(Budget):
    """A share of ``parent`` that also runs out once the search stalls.

    The search stalls when its best value (as given to :meth:`report`) gained at most
    ``min_rate`` per second (per unit of work without a time limit) over the last
    ``window``: the caller then gives the time to a method that gains faster. Work is
    not counted on ``parent``: the caller spends ``self.work`` there.

    Examples
    --------
    >>> b = StallBudget(Budget(time_limit=None, work_limit=100), window=10)
    >>> b.report(1.0); _ = b.spend(20); b.report(1.0)
    >>> b.stalled, b.spend()
    (True, False)
    """

    def __init__(self, parent: Budget, *, window: float, min_rate: float = 0.0):
        timed = parent.time_limit is not None
        left = None
        if not timed and parent.work_limit is not None:
            left = max(parent.work_limit - parent.work, 0)
        super().__init__(parent.remaining() if timed else None, left, progress=parent.progress)
        self.window, self.min_rate = float(window), float(min_rate)
        self.stalled = False
        self._seen: list[tuple[float, float]] = []  # (clock, best), the last window of it

    def _clock(self) -> float:
        return self.elapsed() if self.time_limit is not None else float(self.work)

    def rate(self) -> float:
        """Gain per second (or per work unit) over the last window seen."""
        if len(self._seen) < 2:
            return 0.0
        (t0, b0), (t1, b1) = self._seen[0], self._seen[-1]
        return (b1 - b0) / max(t1 - t0, 1e-9)

    def report(self, best: float, *, force: bool = False) -> None:
        super().report(best, force=force)
        now = self._clock()
        self._seen.append((now, best))
        while len(self._seen) >= 2 and self._seen[1][0] <= now - self.window:
            self._seen.pop(0)
        t0, b0 = self._seen[0]
        if now - t0 < self.window:
            return
        if best - b0 <= self.min_rate * (now - t0) + EPS:
            self.stalled = True

    def spend(self, work: int = 1) -> bool:
        return not self.stalled and super().spend(work)


def neighbourhood(
    state: SearchState, block: int, size: int, rng: np.random.Generator
) -> np.ndarray:
    """``size`` cohorts of ``block`` chosen by gap structure.

    Start from a random cohort; repeatedly take a team present in a chosen cohort and one
    of its gaps that is worth most to bridge once more (unbridged first in ``cover``
    mode, weighted by the marginal value), and add a cohort holding the other team of
    that gap. These cohorts share gaps they do not bridge, so exchanging members among
    them can bridge them. Random cohorts fill up when no such gap is left.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="aabbcc"[i]) for i in range(6)],
    ...                    gaps=[Gap(a="a", b="b")])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> st = SearchState(prob, np.array([0, 0, 1, 1, 2, 2]))
    >>> freed = neighbourhood(st, 0, 2, np.random.default_rng(0))
    >>> sorted(freed.tolist()) in ([0, 1], [0, 2], [1, 2])
    True
    """
    p = state.problem
    cs, ce = p.block_of_cohort_range(block)
    K = ce - cs
    size = min(size, K)
    chosen = [cs + int(rng.integers(K))]
    taken = np.zeros(K, dtype=bool)
    taken[chosen[0] - cs] = True
    attempts = 0
    while len(chosen) < size and attempts < 4 * size:
        attempts += 1
        k = chosen[int(rng.integers(len(chosen)))]
        teams = np.unique(p.unit_team[state.members_of(k)])
        if teams.shape[0] == 0:
            continue
        t = int(teams[rng.integers(teams.shape[0])])
        nb, eid = p.neighbours(t)
        if nb.shape[0] == 0:
            continue
        if p.mode == "sum":
            value = p.edge_weight[eid].astype(np.float64)
        else:
            c = state.edge_cohorts[eid]
            value = edge_value(p, eid, c + 1) - edge_value(p, eid, c)
        elsewhere = state.count_block(nb, np.arange(cs, ce)) > 0
        elsewhere[:, taken] = False
        ok = elsewhere.any(axis=1) & (value > 0)
        if not ok.any():
            continue
        w = np.where(ok, value, 0.0)
        j = int(rng.choice(nb.shape[0], p=w / w.sum()))
        options = np.flatnonzero(elsewhere[j])
        kk = int(options[rng.integers(options.shape[0])])
        taken[kk] = True
        chosen.append(cs + kk)
    if len(chosen) < size:
        rest = np.flatnonzero(~taken)
        extra = rng.choice(rest, size=size - len(chosen), replace=False)
        chosen.extend((cs + extra).tolist())
    return np.sort(np.asarray(chosen, np.int64))


def _base_edge_cohorts(state: SearchState, freed: np.ndarray) -> np.ndarray:
    """Cohorts outside ``freed`` bridging each gap."""
    p = state.problem
    present = present_teams(state.counts, p.n_teams, freed)
    inside = (present[p.edge_a] & present[p.edge_b]).sum(axis=1)
    return np.asarray(state.edge_cohorts, np.int64) - inside


def solve_lns(
    problem: CompiledProblem,
    *,
    start: np.ndarray,
    budget: Budget,
    rng: np.random.Generator,
    workers: int | None = 1,
    target: float = math.inf,
    max_free: int = 10,
) -> SolverResult:
    """Polish a valid assignment by large-neighbourhood search until the budget runs out.

    Each step frees a few cohorts of one block (:func:`neighbourhood`), builds the exact
    CP-SAT model of their members with everything else fixed (the gaps they bridge
    elsewhere shift the value of bridging them again; with times, the freed cohorts'
    slots are decided too), solves it from the current plan as
    a hint and keeps the result when the scoring core says it is better. The number of
    freed cohorts grows while sub-problems are solved to optimality and shrinks when they
    time out.

    Parameters
    ----------
    problem : CompiledProblem
    start : int array (U,)
        A valid assignment.
    budget : Budget
        Without a time limit, each step costs the number of freed units in work and a
        sub-problem gets a deterministic time: with ``workers=1`` the search is repeatable.
    rng : numpy.random.Generator
    workers : int or None
        CP-SAT workers per sub-problem (None: every core).
    target : float
        A proven upper bound; the search stops on reaching it.
    max_free : int
        Most cohorts freed at once.

    Returns
    -------
    SolverResult
        ``solver="lns"``; notes count the steps and improvements.
    """
    p = problem
    state = SearchState(p, start)
    K_b = np.diff(p.block_cohorts)
    blocks = np.flatnonzero(K_b >= 2)
    if blocks.shape[0] == 0:
        return SolverResult(
            state.assignment.copy(),
            "feasible",
            math.inf,
            "lns",
            ["no course round has two cohorts: nothing to exchange"],
        )
    weights = K_b[blocks] / K_b[blocks].sum()
    size = min(4, int(K_b.max()))
    steps = improvements = 0
    first = state.value
    while state.value < target - EPS and budget.spend(0):
        steps += 1
        b = int(blocks[rng.choice(blocks.shape[0], p=weights)])
        freed = neighbourhood(state, b, size, rng)
        units = np.concatenate([state.members_of(int(k)) for k in freed])
        if not budget.spend(int(units.shape[0])):
            break
        base = _base_edge_cohorts(state, freed) if p.mode != "sum" else None
        cm = build_model(
            state.problem, units=units, cohorts=freed, base_edge_cohorts=base, hint=state.assignment
        )
        timed = budget.time_limit is not None
        out = solve_model(
            cm,
            time_limit=min(SUB_TIME, max(budget.remaining(), 0.01)) if timed else None,
            deterministic_time=None if timed else SUB_DETERMINISTIC_TIME,
            workers=workers,
            seed=int(rng.integers(2**31 - 1)),
            stop=budget.progress,
        )
        if out.status == "optimal":
            size = min(size + 1, max_free, int(K_b[b]))
        elif size > 2:
            size -= 1
        if out.assignment is None:
            continue
        new = out.assignment[units]
        old = state.assignment[units]
        moved = new != old
        if not moved.any():
            continue
        before, kept = state.value, state.problem
        if out.slots is not None and (out.slots != kept.cohort_slot).any():  # the freed cohorts' slots
            state.relabel(kept.with_slots(out.slots))
        _apply(state, units[moved], new[moved])
        if state.value > before + EPS * max(1.0, abs(before)):
            improvements += 1
            budget.report(state.value)
        else:
            _apply(state, units[moved], old[moved])
            state.relabel(kept)
    notes = [
        f"LNS: {steps} steps, {improvements} improvements, "
        f"objective {first:.6g} -> {state.value:.6g}"
    ]
    status = "optimal" if state.value >= target - EPS * max(1.0, abs(target)) else "feasible"
    return SolverResult(state.assignment.copy(), status, math.inf, "lns", notes, slots_of(state.problem))


def polish(
    problem: CompiledProblem,
    *,
    start: np.ndarray,
    budget: Budget,
    rng: np.random.Generator,
    workers: int | None = 1,
    target: float = math.inf,
    chunk: float = 0.1,
    probe: float = 0.03,
    local_rate: float | None = None,
    executor: Executor | None = None,
) -> SolverResult:
    """Improve a valid assignment with local search and LNS, giving time to whichever pays.

    The local search is :func:`~cohortmatch.engines.partition.solve_partition` (parts of
    the cohorts re-optimised by the compiled kernels on ``workers`` threads) where it
    applies, else the heuristic's local search; the LNS is :func:`solve_lns` (CP-SAT on
    a few cohorts chosen by gap structure). Time (work without a time limit) goes to the
    method with the best gain per second (per unit of work) in its latest run. LNS runs
    in chunks (``chunk`` of the total, ``probe`` for the first). Local search runs in one
    piece for as long as it gains faster than LNS did, judged over a sliding window of
    ``chunk`` of the total (:class:`StallBudget`), so it is not restarted while it pays.
    ``local_rate`` is the rate of a local search run just before (e.g. the heuristic's,
    stopped when it stalled): LNS is then probed first. ``executor`` runs partition
    search's tasks (None: its own threads).

    Returns
    -------
    SolverResult
        ``solver="lns"``; notes give each method's chunks and gains.
    """
    timed = budget.time_limit is not None
    total = budget.remaining() if timed else float(budget.work_limit or 0)
    a = np.asarray(start, np.int64).copy()
    value = score(problem, a).objective
    local = "partition search" if partition.applies(problem, a) else "local search"
    rate: dict[str, float] = {} if local_rate is None else {local: local_rate}
    gained = {local: 0.0, "LNS": 0.0}
    runs = {local: 0, "LNS": 0}
    status = "feasible"
    details: list[str] = []
    while status != "optimal" and budget.spend(0):
        if local not in rate:
            arm, share = local, chunk
        elif "LNS" not in rate:
            arm, share = "LNS", probe
        else:
            arm, share = max(rate, key=lambda k: rate[k]), chunk
        left = budget.remaining() if timed else float((budget.work_limit or 0) - budget.work)
        amount = min(share * total, left)
        if amount <= 0:
            break
        sub: Budget
        if arm == "LNS":
            sub = Budget(
                amount if timed else None,
                None if timed else max(int(amount), 1),
                progress=budget.progress,
            )
            res = solve_lns(problem, start=a, budget=sub, rng=rng, workers=workers, target=target)
        else:
            sub = StallBudget(budget, window=chunk * total, min_rate=rate.get("LNS", 0.0))
            if local == "partition search":
                res = partition.solve_partition(
                    problem, start=a, budget=sub, rng=rng, workers=workers, target=target, executor=executor
                )
                details = res.notes
            else:
                res = solve_heuristic(problem, budget=sub, start=a, target=target, rng=rng)
        if not timed:
            budget.spend(sub.work)
        new = score(problem, res.assignment).objective
        spent = sub.elapsed() if timed else max(sub.work, 1)
        rate[arm] = (new - value) / max(spent, 1e-9)
        if isinstance(sub, StallBudget):
            rate[arm] = sub.rate()  # its pace at the end, not its average
        runs[arm] += 1
        if new >= value:
            gained[arm] += new - value
            a, value, problem = res.assignment, new, labelled(problem, res)
        status = "optimal" if value >= target - EPS * max(1.0, abs(target)) else "feasible"
    notes = [f"polish: {name} {runs[name]} chunk(s), +{gained[name]:.6g}" for name in (local, "LNS")]
    notes += details  # the last partition search run's notes
    if not any(runs.values()) and status != "optimal":
        notes = ["polish: no time left after construction and descent"]
    return SolverResult(a, status, math.inf, "lns", notes, slots_of(problem))


def _apply(state: SearchState, units: np.ndarray, cohorts: np.ndarray) -> None:
    """Move ``units`` to ``cohorts`` (through 'unassigned', so any permutation works)."""
    for u in units.tolist():
        state.move(u, -1)
    for u, k in zip(units.tolist(), cohorts.tolist(), strict=True):
        state.move(u, k)


class LnsEngine:
    """``solver="lns"``: construction and descent, then :func:`polish` (partition search and
    CP-SAT neighbourhoods, each given time while it pays)."""

    name = "lns"

    def supports(self, problem: CompiledProblem) -> str | None:
        if (reason := search_cannot_keep(problem)) is not None:
            return reason
        for rule in active(problem):
            if not rule.cpsat:
                return f"it cannot keep {rule.name} (its CP-SAT neighbourhoods cannot)"
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
        result = start_or_find(problem, budget=budget, rng=rng, start=start, target=target,
                               perturb=False)
        if result.status == "optimal":
            result.solver = self.name
            return result
        polished = polish(labelled(problem, result), start=result.assignment, budget=budget, rng=rng,
                          workers=workers, target=target, executor=executor)
        polished.notes = result.notes + polished.notes
        return polished
