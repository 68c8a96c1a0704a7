"""Partition search: large neighbourhoods re-optimised by compiled local search, in parallel.

At scale, the compiled iterated local search (:func:`~cohortmatch.engines.local_search.compiled_ils`)
spends most of its time pricing moves to every cohort of a block. Partition search is a
large-neighbourhood search that frees a *part* of each block's cohorts at a time: every
epoch shuffles the cohorts of each block and cuts them into parts of about
``PART_COHORTS`` cohorts; each part is a neighbourhood re-optimised by the same kernel
while everything outside it stays fixed, so a step prices a few hundred cohorts instead
of all of them. Parts go to ``workers`` threads (the kernel releases the GIL), each with
its own copy of the gap bridge counts, so they run side by side on separate cores. At the
end of an epoch the parts are merged and scored from scratch; if two workers bridged the
same gap and the merge is worth less than one worker's part alone, that part alone is
kept. No epoch loses value.

Only ``cover``/``diminishing`` problems that the compiled kernels cover (no meeting caps,
no pair values, every unit placed) qualify; see :func:`applies`.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from ..compiled import CompiledProblem
from ..cores import available
from ..rules.kernel import KernelRules, permute_cohorts
from ..scoring import SearchState
from .base import Budget, SolverResult
from .local_search import ILS_CHUNK, ils_slices, kernel_args, kernels_cover

__all__ = ["applies", "partition", "solve_partition", "shared_persons"]

EPS = 1e-9
#: Cohorts per part (a neighbourhood): small enough that pricing a move is cheap, large
#: enough that a part holds many exchanges (benchmarks/lns.py, 10,000 people).
PART_COHORTS = 128
#: Fewest cohorts in a part when a block is split only to keep every worker busy.
MIN_PART = 16
#: Longest epoch (seconds), and its share of a time limit.
EPOCH_SECONDS = 1.0
EPOCH_SHARE = 0.05
#: Work per worker and epoch without a time limit.
EPOCH_WORK = 50_000


def applies(problem: CompiledProblem, assignment: np.ndarray) -> bool:
    """Whether partition search covers this problem and assignment.

    It needs what the compiled kernels need (``cover``/``diminishing`` mode, no meeting
    caps, no pair values, every unit placed) and a block of at least two cohorts.
    """
    return kernels_cover(problem, assignment) and bool((np.diff(problem.block_cohorts) >= 2).any())


@dataclass(frozen=True)
class Partition:
    """One epoch's parts in a shuffled cohort order.

    Attributes
    ----------
    order : int64 array (K,)
        Cohort at each new position (new -> old); each block keeps its range.
    parts : int64 array (P + 2,)
        Part ``j`` holds the new positions ``parts[j]:parts[j + 1]``; the last entry
        repeats ``K`` so that index ``P`` is an empty part (units of other workers).
    owner : int64 array (P,)
        Worker of each part.
    """

    order: np.ndarray
    parts: np.ndarray
    owner: np.ndarray

    @property
    def n_parts(self) -> int:
        return int(self.owner.shape[0])


def partition(problem: CompiledProblem, workers: int, rng: np.random.Generator) -> Partition:
    """Shuffle each block's cohorts and cut them into parts, balanced over ``workers``.

    A block is cut into about ``K_b / PART_COHORTS`` parts, and into more (of at least
    ``MIN_PART`` cohorts) when that keeps every worker busy. Parts go to the worker with
    the fewest cohorts so far, largest first.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team=f"t{i % 7}") for i in range(400)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=4, max_size=4)])
    >>> part = partition(prob, 2, np.random.default_rng(0))
    >>> part.n_parts, np.diff(part.parts).tolist(), part.owner.tolist()
    (2, [50, 50, 0], [0, 1])
    """
    bc = problem.block_cohorts
    order = np.empty(problem.n_cohorts, np.int64)
    cuts: list[int] = [0]
    for b in range(problem.n_blocks):
        cs, ce = int(bc[b]), int(bc[b + 1])
        order[cs:ce] = cs + rng.permutation(ce - cs)
        K_b = ce - cs
        if K_b == 0:
            continue
        n = max(1, round(K_b / PART_COHORTS))
        if K_b >= 2 * MIN_PART:
            n = max(n, min(workers, K_b // MIN_PART))
        cuts.extend(np.linspace(cs, ce, n + 1).round().astype(np.int64)[1:].tolist())
    parts = np.asarray(cuts + [problem.n_cohorts], np.int64)
    sizes = np.diff(parts[:-1])
    owner = np.zeros(sizes.shape[0], np.int64)
    load = np.zeros(max(workers, 1), np.int64)
    for j in np.argsort(-sizes, kind="stable"):
        w = int(np.argmin(load))
        owner[j] = w
        load[w] += sizes[j]
    return Partition(order, parts, owner)


@dataclass(frozen=True)
class _Halt:
    """Set once the run is stopped or the epoch's deadline has passed."""

    budget: Budget
    deadline: float | None

    def is_set(self) -> bool:
        return self.budget.interrupted or (
            self.deadline is not None and time.perf_counter() >= self.deadline)


def _worker(
    job: dict, units: np.ndarray, rng: np.random.Generator, deadline: float | None,
    work_quota: int, budget: Budget, strength: int = 2,
) -> tuple[float, int]:
    """Run the ILS kernel on one worker's parts until the deadline or its work quota.

    Returns the gain (exact for the worker's parts with every other cohort as it was at
    the start of the epoch) and the work spent.
    """
    gain, work = 0.0, 0
    if units.shape[0] == 0:
        return gain, work
    n_cohorts = job["view"]["members"].shape[0]
    while work < work_quota and not budget.interrupted:
        if deadline is not None and time.perf_counter() >= deadline:
            break
        rand = rng.integers(0, 2**62, size=(ILS_CHUNK, 3 * strength), dtype=np.int64)
        for s in range(strength):  # perturbations start from this worker's units only
            rand[:, 3 * s] = units[rand[:, 3 * s] % units.shape[0]]
        _, w, _, g = ils_slices(
            rand, strength,
            lambda left: kernel_args(job["state"], job["swap_candidates"], left, **job["view"]),
            n_cohorts, work_limit=work_quota - work, halt=_Halt(budget, deadline),
        )
        gain += g
        work += w
    return gain, work


def solve_partition(
    problem: CompiledProblem,
    *,
    start: np.ndarray,
    budget: Budget,
    rng: np.random.Generator,
    workers: int | None = None,
    target: float = math.inf,
    swap_candidates: int = 2,
) -> SolverResult:
    """Improve a valid assignment by partition search until the budget runs out.

    Parameters
    ----------
    problem : CompiledProblem
        A problem :func:`applies` accepts.
    start : int array (U,)
        A valid assignment.
    budget : Budget
        With a time limit, epochs last ``EPOCH_SECONDS`` (at most ``EPOCH_SHARE`` of
        the limit); without one, each worker spends ``EPOCH_WORK`` per epoch, so a
        seeded run gives the same plan with any number of threads finishing in any order.
    rng : numpy.random.Generator
    workers : int or None
        Threads (None: every core this process may use with a time limit, else 1, so that
        a work-limited plan does not depend on the machine). 1 runs the parts in turn.
    target : float
        A proven upper bound; the search stops on reaching it.

    Returns
    -------
    SolverResult
        ``solver="partition"``; the notes give epochs, workers and parts.

    Examples
    --------
    >>> from cohortmatch.synthetic import org_chart
    >>> from cohortmatch.scoring import score
    >>> from cohortmatch.engines.heuristic import solve_heuristic
    >>> prob = compile_problem(org_chart(600, seed=1), [Course(id="c", min_size=6, max_size=8)],
    ...                        Policy(mode="diminishing"))
    >>> start = solve_heuristic(prob, budget=Budget(None, 5_000), rng=np.random.default_rng(0),
    ...                         perturb=False).assignment   # construction and descent
    >>> res = solve_partition(prob, start=start, budget=Budget(None, 200_000),
    ...                       rng=np.random.default_rng(0), workers=2)
    >>> bool(score(prob, res.assignment).objective > score(prob, start).objective)
    True
    """
    p = problem
    timed = budget.time_limit is not None
    if workers is None:  # every core, but not where the core count would change the plan
        workers = available() if timed else 1
    W = max(int(workers), 1)
    state = SearchState(p, start)
    first = state.value
    epoch_s = min(EPOCH_SECONDS, EPOCH_SHARE * budget.remaining()) if timed else None
    epochs = fallbacks = 0
    n_parts = 0
    with ThreadPoolExecutor(max_workers=W) as pool:
        while state.value < target - EPS and budget.spend(0):
            part = partition(p, W, rng)
            n_parts = part.n_parts
            base = state.assignment
            asg, jobs, units_of = _epoch_arrays(state, part, W, swap_candidates)
            quota = EPOCH_WORK
            if not timed and budget.work_limit is not None:
                quota = max(min(quota, (budget.work_limit - budget.work) // W), 1)
            deadline = time.perf_counter() + max(min(epoch_s or 0.0, budget.remaining()), 0.0) if timed else None  # noqa: E501
            seeds = rng.integers(0, 2**63 - 1, size=W)
            futures = [
                pool.submit(_worker, jobs[w], units_of[w], np.random.default_rng(int(seeds[w])),
                            deadline, quota if not timed else np.iinfo(np.int64).max, budget)
                for w in range(W)
            ]
            try:
                results = [f.result() for f in futures]
            except KeyboardInterrupt:  # stop the workers; keep the last merged plan
                budget.interrupt()
                wait(futures)
                break
            epochs += 1
            budget.spend(sum(r[1] for r in results))
            jobs = []  # frees the epoch's member lists before the state is rebuilt (memory)
            before = state.value
            state.reset(part.order[asg])
            if state.value < before - EPS * max(1.0, abs(before)):  # workers bridged the same gaps
                fallbacks += 1
                best = int(np.argmax([r[0] for r in results]))
                mine = units_of[best]
                a = base.copy()
                a[mine] = part.order[asg[mine]]
                state.reset(a)
            budget.report(state.value)
    notes = [
        f"partition search: {epochs} epochs, {W} worker(s), {n_parts} parts per epoch, "
        f"objective {first:.6g} -> {state.value:.6g}"
        + (f" ({fallbacks} epochs kept one worker's part alone)" if fallbacks else "")
    ]
    status = "optimal" if state.value >= target - EPS * max(1.0, abs(target)) else "feasible"
    return SolverResult(state.assignment.copy(), status, math.inf, "partition", notes)


def shared_persons(R: KernelRules, unit_owner: np.ndarray) -> np.ndarray:
    """Units with a sibling (the same person in another block with times) another worker
    owns: they stay put this epoch, since two workers moving the same person's units at
    once could put them in two cohorts at one slot.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t") for i in range(4)])
    >>> courses = [Course(id=c, min_size=2, max_size=2, slots=["mon", "tue"]) for c in ("a", "b")]
    >>> from cohortmatch.rules.kernel import kernel_rules
    >>> R = kernel_rules(compile_problem(org, courses))  # units 0-3 take a, 4-7 take b
    >>> shared_persons(R, np.array([0, 0, 0, 0, 0, 1, 0, 1])).astype(int).tolist()
    [0, 1, 0, 1, 0, 1, 0, 1]
    """
    counts = np.diff(R.sibling_indptr)
    cross = unit_owner[R.sibling_units] != np.repeat(unit_owner, counts)
    out = np.zeros(unit_owner.shape[0], bool)
    out[np.repeat(np.arange(unit_owner.shape[0]), counts)[cross]] = True
    return out


def _epoch_arrays(
    state: SearchState, part: Partition, workers: int, swap_candidates: int
) -> tuple[np.ndarray, list[dict], list[np.ndarray]]:
    """The shared state in the epoch's cohort order and each worker's kernel arguments.

    Workers write disjoint cohorts (rows of ``members``, which the team counts are read
    from) and disjoint units; each gets its own copy of the gap bridge counts.
    """
    p = state.problem
    K = p.n_cohorts
    pos = np.empty(K, np.int64)
    pos[part.order] = np.arange(K)
    asg = pos[state.assignment]
    size = state.size[part.order].copy()
    members = state.members[part.order].copy()
    slot = state.slot.copy()
    cmin = p.cohort_min[part.order].copy()
    cmax = p.cohort_max[part.order].copy()
    rules = permute_cohorts(state.rules, part.order)  # pins, mix counts, slots in the epoch's order
    part_of = np.searchsorted(part.parts[:-1], np.arange(K), side="right") - 1
    unit_part = part_of[asg]
    unit_owner = part.owner[unit_part]
    shared = shared_persons(rules, unit_owner)
    widest = max(int(np.diff(part.parts).max()), 1)
    jobs, units_of = [], []
    for w in range(workers):
        mine = (unit_owner == w) & ~shared
        view = dict(
            assignment=asg, size=size, members=members, slot=slot,
            edge_cohorts=state.edge_cohorts.copy(),
            unit_block=np.where(mine, unit_part, part.n_parts).astype(p.unit_block.dtype),
            block_cohorts=part.parts, cohort_min=cmin, cohort_max=cmax, R=rules,
            g=np.zeros(widest), tried=np.zeros(widest, np.int64), seen=np.zeros(widest + 1, np.int64),
            touched=np.zeros(widest, np.int64),
        )
        jobs.append({"state": state, "swap_candidates": swap_candidates, "view": view})
        units_of.append(np.flatnonzero(mine))
    return asg, jobs, units_of
