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

import logging
import math
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from ..compiled import CompiledProblem
from ..cores import available
from ..rules.kernel import KernelRules, permute_cohorts
from ..scoring import SearchState
from .base import Budget, SolverResult, StopEvent
from .local_search import ILS_CHUNK, ils_slices, kernel_kwargs, kernels_cover

__all__ = [
    "applies", "partition", "solve_partition", "shared_persons", "PartTask", "PartResult",
    "run_part", "part_tasks",
]

log = logging.getLogger("cohortmatch")

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
#: How often (seconds) the caller looks at the stop event while tasks run.
POLL_SECONDS = 0.05
#: How long past the time limit the caller waits for a task's result (its transport).
LATE = 0.05
#: Epochs in a row whose every task failed after which partition search gives up.
LOST_EPOCHS = 3
_NO_QUOTA = int(np.iinfo(np.int64).max)


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
class PartTask:
    """One task of an epoch: a worker's parts as compact numpy arrays, with its own seed and budget.

    Everything a task needs travels in it, so that any ``concurrent.futures.Executor``
    can run :func:`run_part` on it: threads of this process, or worker processes of a
    Dask cluster (which serialise it: these are our own arrays, never user input).

    Attributes
    ----------
    kernel : dict
        The kernels' arguments by name (:func:`~cohortmatch.engines.local_search.kernel_kwargs`)
        in the task's cohort order: its parts' cohorts first (``0..n_local - 1``), then the
        others. ``counts`` reads the team counts from ``members`` and ``size``
        (:class:`~cohortmatch.teamcounts.TeamCounts`); :func:`run_part` points it at the
        task's own arrays again after transport.
    units : int64 array (n,)
        The units the task may move (members of its parts that no other task shares).
    n_local : int
        Cohorts of the task's parts.
    seed : int
        Seed of the task's random numbers.
    work : int
        Work quota (the kernels' work count).
    seconds : float or None
        Longest run, from the task's start (None: no time limit).
    not_after : float or None
        Wall-clock time (``time.time()``) after which the task starts no further chunk,
        so that a task that waited in a queue does not outlive the deadline either.
    strength : int
        Swaps per perturbation of the iterated local search.
    """

    kernel: dict
    units: np.ndarray
    n_local: int
    seed: int
    work: int
    seconds: float | None = None
    not_after: float | None = None
    strength: int = 2


@dataclass(frozen=True)
class PartResult:
    """What a task sends back: the cohorts of its units (in its cohort order), gain and work."""

    cohorts: np.ndarray
    gain: float
    work: int


def run_part(task: PartTask, stop: StopEvent | None = None) -> PartResult:
    """Run the ILS kernel on one task's parts until its work quota or its time is spent.

    The gain is exact for the task's parts with every other cohort as it was at the
    start of the epoch. ``stop`` (threads of this process only: the run's monitor) ends
    the task between chunks.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="aabb"[i]) for i in range(4)],
    ...                    gaps=[Gap(a="a", b="b", weight=1.0)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2)])
    >>> state = SearchState(prob, np.array([0, 0, 1, 1]))
    >>> task = part_tasks(state, partition(prob, 1, np.random.default_rng(0)), seeds=[3], work=100)[0][0]
    >>> res = run_part(task)
    >>> res.gain, sorted(res.cohorts.tolist())
    (1.0, [0, 0, 1, 1])
    """
    started = time.perf_counter()
    rng = np.random.default_rng(task.seed)
    kw = dict(task.kernel)
    kw["counts"] = kw["counts"]._replace(members=kw["members"], size=kw["size"])  # the task's own arrays
    units, strength = task.units, task.strength
    n_cohorts = kw["size"].shape[0]
    halt = _TaskHalt(stop, started, task.seconds, task.not_after)
    gain, work = 0.0, 0
    while units.shape[0] and work < task.work and not halt.is_set():
        rand = rng.integers(0, 2**62, size=(ILS_CHUNK, 3 * strength), dtype=np.int64)
        for s in range(strength):  # perturbations start from this task's units only
            rand[:, 3 * s] = units[rand[:, 3 * s] % units.shape[0]]
        _, w, _, g = ils_slices(rand, strength, lambda left: tuple({**kw, "work_limit": left}.values()),
                                n_cohorts, work_limit=task.work - work, halt=halt)
        gain += g
        work += w
    return PartResult(kw["assignment"][units], gain, work)


@dataclass(frozen=True)
class _TaskHalt:
    """Set once the run is stopped (threads only), the task's time is spent or its
    wall-clock deadline has passed."""

    stop: StopEvent | None
    started: float
    seconds: float | None
    not_after: float | None

    def is_set(self) -> bool:
        return bool(
            (self.stop is not None and self.stop.is_set())
            or (self.seconds is not None and time.perf_counter() - self.started >= self.seconds)
            or (self.not_after is not None and time.time() >= self.not_after))


def solve_partition(
    problem: CompiledProblem,
    *,
    start: np.ndarray,
    budget: Budget,
    rng: np.random.Generator,
    workers: int | None = None,
    target: float = math.inf,
    swap_candidates: int = 2,
    executor: Executor | None = None,
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
        the limit); without one, each task spends ``EPOCH_WORK`` per epoch, so a
        seeded run gives the same plan on any executor, finishing in any order.
    rng : numpy.random.Generator
    workers : int or None
        Tasks per epoch (None: every core this process may use with a time limit, else
        1, so that a work-limited plan does not depend on the machine). The plan depends
        on it, never on the executor that runs the tasks.
    target : float
        A proven upper bound; the search stops on reaching it.
    executor : concurrent.futures.Executor or None
        Runs the tasks (:func:`run_part` on a :class:`PartTask`): None for a pool of
        ``workers`` threads, or e.g. ``dask.distributed.Client(address).get_executor()``.
        A task that fails (its worker died) costs that task's moves only; the notes say so.

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
    timed = budget.time_limit is not None
    if workers is None:  # every core, but not where the core count would change the plan
        workers = available() if timed else 1
    W = max(int(workers), 1)
    if executor is not None:
        return _search(problem, start, budget, rng, W, target, swap_candidates, executor)
    with ThreadPoolExecutor(max_workers=W) as pool:
        return _search(problem, start, budget, rng, W, target, swap_candidates, pool)


def _search(
    problem: CompiledProblem, start: np.ndarray, budget: Budget, rng: np.random.Generator, W: int,
    target: float, swap_candidates: int, pool: Executor,
) -> SolverResult:
    """The epochs of :func:`solve_partition` on ``pool``."""
    timed = budget.time_limit is not None
    state = SearchState(problem, start)
    first = state.value
    epoch_s = min(EPOCH_SECONDS, EPOCH_SHARE * budget.remaining()) if timed else None
    epochs = fallbacks = n_parts = late = idle = 0
    lag = 0.0  # seconds an epoch took beyond its tasks' time (transport, merge): tasks end that much sooner
    lost: list[str] = []
    while state.value < target - EPS and budget.spend(0):
        part = partition(problem, W, rng)
        n_parts = part.n_parts
        quota = EPOCH_WORK
        if not timed and budget.work_limit is not None:
            quota = max(min(quota, (budget.work_limit - budget.work) // W), 1)
        seconds = min(epoch_s or 0.0, budget.remaining() - lag) if timed else None
        if seconds is not None and seconds <= 0:
            break
        started = time.perf_counter()
        seeds = rng.integers(0, 2**63 - 1, size=W)
        tasks, orders = part_tasks(state, part, seeds=seeds.tolist(), work=quota if not timed else _NO_QUOTA,
                                   seconds=seconds, swap_candidates=swap_candidates)
        results = _run_tasks(pool, tasks, budget)
        lost += [f"task {i} of epoch {epochs + 1}: {r}" for i, r in enumerate(results) if isinstance(r, str)]
        late += 0 if budget.interrupted else sum(r is None for r in results)
        done = [(t, o, r) for t, o, r in zip(tasks, orders, results, strict=True) if isinstance(r, PartResult)]
        if budget.interrupted and len(done) < W:  # stopped while waiting: keep the last merged plan
            break
        epochs += 1
        budget.spend(sum(r.work for _, _, r in done) + (0 if timed else quota * (W - len(done))))
        fallbacks += _merge(state, done)
        lag = max(time.perf_counter() - started - (seconds or 0.0), 0.0)
        budget.report(state.value)
        idle = 0 if done else idle + 1
        if idle >= LOST_EPOCHS:  # the executor keeps failing: stop with the plan so far
            lost.append(f"every task of {idle} epochs in a row failed; partition search stopped")
            break
    notes = [
        f"partition search: {epochs} epochs, {W} worker(s), {n_parts} parts per epoch, "
        f"objective {first:.6g} -> {state.value:.6g}"
        + (f" ({fallbacks} epochs kept one worker's part alone)" if fallbacks else "")
    ]
    if lost:
        log.warning("partition search: %d task(s) lost", len(lost))
        notes.append(f"partition search: {len(lost)} task(s) lost, their parts kept the cohorts they had "
                     f"(the plan keeps every rule); first: {lost[0]}; last: {lost[-1]}")
    if late:
        notes.append(f"partition search: {late} task(s) still running at the time limit were left out")
    status = "optimal" if state.value >= target - EPS * max(1.0, abs(target)) else "feasible"
    return SolverResult(state.assignment.copy(), status, math.inf, "partition", notes)


def _run_tasks(pool: Executor, tasks: list[PartTask], budget: Budget) -> list[PartResult | str | None]:
    """Submit the tasks and collect their results in task order (never completion order).

    A task that raised (e.g. its worker process died) gives a short description of
    what happened; one still running at the time limit (plus ``LATE`` seconds) or
    when the run is stopped gives None and is cancelled.
    """
    stop = budget.progress if isinstance(pool, ThreadPoolExecutor) else None  # in this process only
    futures: list[Future] = []
    out: list[PartResult | str | None] = [None] * len(tasks)
    try:
        for task in tasks:
            futures.append(pool.submit(run_part, task, stop))
        pending = set(futures)
        while pending and not budget.interrupted:
            wait_s = POLL_SECONDS if budget.time_limit is None else min(POLL_SECONDS, budget.remaining() + LATE)
            if wait_s <= 0:
                break
            _, pending = wait(pending, timeout=wait_s, return_when=FIRST_COMPLETED)
    except KeyboardInterrupt:  # stop the tasks; keep the last merged plan
        budget.interrupt()
    except Exception as exc:  # the executor refused a task (shut down, broken)
        out[min(len(futures), len(tasks) - 1)] = _failure(exc)
    for i, f in enumerate(futures):
        if not f.done():
            f.cancel()
        elif f.cancelled():
            out[i] = "cancelled"
        elif f.exception() is not None:
            out[i] = _failure(f.exception())
        else:
            out[i] = f.result()
    return out


def _failure(exc: BaseException | None) -> str:
    """A task's failure in words (its type and first line; never data of the request)."""
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _merge(state: SearchState, done: list[tuple[PartTask, np.ndarray, PartResult]]) -> int:
    """Apply the tasks' moves to ``state`` in task order; 1 if only the best task's part was
    kept (two tasks bridged the same gaps and the merge was worth less), else 0."""
    base, before = state.assignment, state.value
    state.reset(_moved(base, done))
    if not done or state.value >= before - EPS * max(1.0, abs(before)):
        return 0
    state.reset(_moved(base, [done[int(np.argmax([r.gain for _, _, r in done]))]]))
    return 1


def _moved(base: np.ndarray, done: list[tuple[PartTask, np.ndarray, PartResult]]) -> np.ndarray:
    """``base`` with each task's units in the (state) cohorts the task sent back."""
    a = base.copy()
    for task, order, res in done:
        a[task.units] = order[res.cohorts]
    return a


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


def part_tasks(
    state: SearchState,
    part: Partition,
    *,
    seeds: list[int],
    work: int,
    seconds: float | None = None,
    swap_candidates: int = 2,
) -> tuple[list[PartTask], list[np.ndarray]]:
    """One :class:`PartTask` per worker of ``part`` (as many as ``seeds``), and each task's
    cohort order (task -> state cohort): the one place an epoch's payloads are built.

    A task sees its own parts' cohorts first; it moves only the units of its parts that
    no other task shares (:func:`shared_persons`) and has its own copy of everything it
    writes, so tasks run side by side in threads or in other processes.
    """
    p = state.problem
    K = p.n_cohorts
    rules = state.rules
    epoch_pos = np.empty(K, np.int64)
    epoch_pos[part.order] = np.arange(K)
    part_of = np.searchsorted(part.parts[:-1], np.arange(K), side="right") - 1
    unit_part = part_of[epoch_pos[state.assignment]]
    unit_owner = part.owner[unit_part]
    shared = shared_persons(rules, unit_owner)
    widest = max(int(np.diff(part.parts).max()), 1)
    not_after = None if seconds is None else time.time() + seconds
    tasks, orders = [], []
    for w, seed in enumerate(seeds):
        mine_parts = np.flatnonzero(part.owner == w)
        sizes = part.parts[mine_parts + 1] - part.parts[mine_parts]
        inside = np.isin(part_of, mine_parts)  # epoch positions of the task's parts
        order = part.order[np.concatenate([np.flatnonzero(inside), np.flatnonzero(~inside)])]
        pos = np.empty(K, np.int64)
        pos[order] = np.arange(K)
        n_local = int(sizes.sum())
        local_part = np.full(part.n_parts + 1, mine_parts.shape[0], np.int64)
        local_part[mine_parts] = np.arange(mine_parts.shape[0])
        mine = (unit_owner == w) & ~shared
        bounds = np.concatenate([[0], np.cumsum(sizes), [n_local]]).astype(np.int64)
        kernel = kernel_kwargs(
            state, swap_candidates, None,
            assignment=pos[state.assignment], size=state.size[order],
            members=state.members[order], slot=state.slot.copy(), edge_cohorts=state.edge_cohorts.copy(),
            unit_block=np.where(mine, local_part[unit_part], mine_parts.shape[0]).astype(p.unit_block.dtype),
            block_cohorts=bounds, cohort_min=p.cohort_min[order], cohort_max=p.cohort_max[order],
            R=permute_cohorts(rules, order), g=np.zeros(widest), tried=np.zeros(widest, np.int64),
        )
        tasks.append(PartTask(kernel, np.flatnonzero(mine), n_local, int(seed), int(work), seconds, not_after))
        orders.append(order)
    return tasks, orders
