"""Partition search on any executor: threads, a real Dask LocalCluster, lost workers.

One LocalCluster (two worker processes, one thread each) is started for the module and
closed at its end; the Dask tests are skipped, with the reason, only where the
``distributed`` extra is not installed.
"""

from __future__ import annotations

import os
import pickle
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_partition import _descended, _problem

import cohortmatch as cm
from cohortmatch.cli import main
from cohortmatch.engines.base import Budget
from cohortmatch.engines.partition import PartTask, part_tasks, partition, run_part, solve_partition
from cohortmatch.io import write_org
from cohortmatch.rules import check_assignment
from cohortmatch.scoring import SearchState, score

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
COURSES = [cm.Course(id="c", min_size=6, max_size=8)]
POLICY = cm.Policy(coverage="diminishing", max_per_team=2)
#: A work-limited run: the plan must not depend on the executor.
RUN = {"solver": "lns", "time_limit": None, "work_limit": 400_000, "seed": 3}


@pytest.fixture(scope="module")
def org() -> cm.Organisation:
    return cm.org_chart(700, seed=4)


@pytest.fixture(scope="module")
def client():
    """A Dask client of a LocalCluster of 2 worker processes; a task whose worker dies fails
    at once (``allowed_failures=0``) instead of being retried on another worker."""
    distributed = pytest.importorskip(
        "distributed", reason="the 'distributed' extra (dask[distributed]) is not installed"
    )
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
        scheduler_kwargs={"allowed_failures": 0},
    ) as cluster, distributed.Client(cluster) as c:
        yield c


def _json(plan: cm.Plan) -> str:
    return plan.to_json(timings=False)


class DyingExecutor(Executor):
    """Submits to ``inner``; the ``n``-th task instead runs ``die`` (in the worker that takes it)."""

    def __init__(self, inner: Executor, n: int, die):
        self.inner, self.n, self.die, self.submitted = inner, n, die, 0

    def submit(self, fn, /, *args, **kwargs) -> Future:
        self.submitted += 1
        if self.submitted == self.n:
            return self.inner.submit(self.die)
        return self.inner.submit(fn, *args, **kwargs)


def _raise() -> None:
    raise RuntimeError("worker lost")


# ------------------------------------------------------------------ threads (no dask needed)
@pytest.mark.parametrize("pool_size", [1, 3])
def test_a_thread_pool_of_any_size_gives_the_default_plan(org, pool_size):
    default = cm.plan(org, COURSES, policy=POLICY, workers=2, **RUN)
    with ThreadPoolExecutor(pool_size) as pool:
        pooled = cm.plan(org, COURSES, policy=POLICY, workers=2, executor=pool, **RUN)
    assert any(n.startswith("partition search: ") for n in default.notes)
    assert _json(pooled) == _json(default)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 1000), workers=st.integers(1, 4), pool_size=st.integers(1, 4))
def test_partition_search_merges_in_task_order_not_completion_order(seed, workers, pool_size):
    """Any number of tasks on a pool of any size: the same assignment as the default threads."""
    problem = _problem(people=300, seed=seed % 7)
    start = _descended(problem, seed)

    def run(executor):
        return solve_partition(problem, start=start, budget=Budget(None, 60_000), rng=np.random.default_rng(seed),
                               workers=workers, executor=executor).assignment

    with ThreadPoolExecutor(pool_size) as pool:
        assert np.array_equal(run(pool), run(None))


def test_a_task_payload_is_self_contained_numpy(org):
    """A task pickles to plain arrays and gives the same result after the round trip."""
    problem = _problem(people=300, seed=1)
    state = SearchState(problem, _descended(problem))
    tasks, orders = part_tasks(state, partition(problem, 2, np.random.default_rng(0)), seeds=[1, 2], work=5_000)
    assert len(tasks) == 2 and all(t.kernel["counts"].members is t.kernel["members"] for t in tasks)
    copy = pickle.loads(pickle.dumps(tasks[1]))
    assert "SearchState" not in repr(type(copy.kernel["R"])) and isinstance(copy, PartTask)
    here, there = run_part(tasks[1]), run_part(copy)
    assert np.array_equal(here.cohorts, there.cohorts) and here.gain == there.gain and here.work == there.work
    assert sorted(np.concatenate([o[:t.n_local] for t, o in zip(tasks, orders, strict=True)]).tolist()) == list(
        range(problem.n_cohorts))  # the tasks' parts cover every cohort once


def test_a_task_does_not_outlive_its_deadline():
    problem = _problem(people=300, seed=1)
    state = SearchState(problem, _descended(problem))
    part = partition(problem, 1, np.random.default_rng(0))
    task = part_tasks(state, part, seeds=[1], work=10**12, seconds=0.0)[0][0]
    assert run_part(task).work == 0  # its time was up before it started
    late = part_tasks(state, part, seeds=[1], work=10**12, seconds=60.0)[0][0]
    late = PartTask(**{**late.__dict__, "not_after": time.time() - 1.0})  # waited in a queue too long
    assert run_part(late).work == 0


def test_a_failed_task_costs_its_moves_not_the_plan(org):
    with ThreadPoolExecutor(2) as pool:
        plan = cm.plan(org, COURSES, policy=POLICY, workers=2, executor=DyingExecutor(pool, 3, _raise), **RUN)
    assert cm.validate(plan, org, COURSES, POLICY) == []
    lost = [n for n in plan.notes if "task(s) lost" in n]
    assert lost and "RuntimeError: worker lost" in lost[0]


def test_an_executor_that_refuses_every_task_ends_partition_search_with_a_valid_plan():
    problem = _problem(people=300, seed=1)
    start = _descended(problem)
    pool = ThreadPoolExecutor(1)
    pool.shutdown()  # submit raises from now on
    result = solve_partition(problem, start=start, budget=Budget(None, 10**9), rng=np.random.default_rng(0),
                             workers=2, executor=pool)
    assert np.array_equal(result.assignment, start)
    assert "partition search: 3 epochs" in result.notes[0]
    assert "every task of 3 epochs in a row failed; partition search stopped" in result.notes[1]


def test_the_executor_must_be_an_executor(org):
    with pytest.raises(cm.InputError, match="'executor' must be None or a concurrent.futures.Executor"):
        cm.plan(org, COURSES, policy=POLICY, executor="tcp://127.0.0.1:8786", **RUN)


def test_the_cli_scheduler_option_names_what_is_missing(capsys):
    assert main(["plan", "--request", "none.json", "--scheduler", "tcp://127.0.0.1:1", "--json"]) == 2


# ------------------------------------------------------------------ a real Dask LocalCluster
def test_a_dask_cluster_of_two_or_one_worker_processes_gives_the_default_plan(org, client):
    default = cm.plan(org, COURSES, policy=POLICY, workers=3, **RUN)
    both = cm.plan(org, COURSES, policy=POLICY, workers=3, executor=client.get_executor(), **RUN)
    one_worker = sorted(client.scheduler_info()["workers"])[:1]
    one = cm.plan(org, COURSES, policy=POLICY, workers=3, executor=client.get_executor(workers=one_worker), **RUN)
    assert _json(both) == _json(default)
    assert _json(one) == _json(default)


def test_the_time_limit_holds_on_a_dask_cluster(client):
    problem = _problem(people=700, seed=2)
    start = _descended(problem)
    budget = Budget(time_limit=1.0)
    result = solve_partition(problem, start=start, budget=budget, rng=np.random.default_rng(0), workers=2,
                             executor=client.get_executor())
    assert budget.elapsed() < 2.0
    assert check_assignment(problem, result.assignment).total == 0
    assert score(problem, result.assignment).objective >= score(problem, start).objective - 1e-9


def test_the_dask_example_runs_on_a_given_scheduler(client, capsys):
    import runpy

    module = runpy.run_path(str(EXAMPLES / "dask_cluster.py"), run_name="example")
    address = client.scheduler_info()["address"]
    plan = module["main"](["--scheduler", address, "--people", "800", "--work-limit", "100000"])
    out = capsys.readouterr().out
    assert "same plan on the cluster as on threads: True" in out
    assert plan.cohorts


def test_the_cli_plans_on_a_scheduler_as_on_threads(org, client, tmp_path, capsys):
    paths = write_org(org, tmp_path)
    (tmp_path / "courses.csv").write_text("id,min_size,max_size\nc,6,8\n")
    args = ["plan", "--people", str(paths["people"]), "--gaps", str(paths["gaps"]), "--teams", str(paths["teams"]),
            "--courses", str(tmp_path / "courses.csv"), "--coverage", "diminishing", "--max-per-team", "2",
            "--solver", "lns", "--work-limit", "200000", "--workers", "2", "--seed", "3", "--json"]
    assert main(args) == 0
    threads = capsys.readouterr().out
    assert main([*args, "--scheduler", client.scheduler_info()["address"]]) == 0
    assert capsys.readouterr().out == threads


def test_a_worker_process_that_dies_costs_its_task_not_the_plan(org, client):
    """The third task's worker process exits mid-run; the plan is valid and says so."""
    pids = set(client.run(os.getpid).values())
    dying = DyingExecutor(client.get_executor(), 3, partial(os._exit, 1))
    plan = cm.plan(org, COURSES, policy=POLICY, workers=2, executor=dying, **RUN)
    assert cm.validate(plan, org, COURSES, POLICY) == []
    lost = [n for n in plan.notes if "task(s) lost" in n]
    assert lost and "KilledWorker" in lost[0]
    assert dying.submitted > 3  # the search went on after the loss
    client.wait_for_workers(2, timeout=60)  # the nanny started a new worker process
    assert set(client.run(os.getpid).values()) != pids


def test_a_decomposed_plan_is_the_same_on_a_dask_cluster(client):
    """Each block of a decomposed request is one task on the cluster."""
    from test_decompose import BIG, BIG_COURSES, BIG_POLICY, BIG_RUN

    default = cm.plan(BIG, BIG_COURSES, policy=BIG_POLICY, **BIG_RUN)
    on_dask = cm.plan(BIG, BIG_COURSES, policy=BIG_POLICY, executor=client.get_executor(), **BIG_RUN)
    assert default.notes[0].startswith("decomposed into 3 blocks")
    assert _json(on_dask) == _json(default)
