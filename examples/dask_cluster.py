"""The same plan on a Dask cluster as on the threads of one machine.

A company-wide course (cohorts of 12-16, at most two per team, ``diminishing``
coverage) is planned twice with the same seed, work limit and ``workers`` (tasks per
epoch of partition search): once on this process's threads, once with
``executor=client.get_executor()`` on a Dask cluster. With a ``work_limit`` and no
``time_limit`` the two plans are the same, byte for byte; the script prints both
objectives and wall times. Without ``--scheduler`` it starts a local cluster of two
worker processes (``pip install "cohortmatch[distributed]"``); see docs/scale.md for a
real cluster.

Run it with ``python examples/dask_cluster.py [--scheduler tcp://host:8786] [--people 20000]``.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import cohortmatch as cm
from cohortmatch.synthetic import org_chart


def main(argv: list[str] | None = None) -> cm.Plan:
    from dask.distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", default=None, help="address of a Dask scheduler (default: a local cluster)")
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--work-limit", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=2, help="tasks per epoch of partition search")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    org = org_chart(args.people, seed=args.seed, preset="silos")
    course = cm.Course(id="all-hands", min_size=12, max_size=16)
    policy = cm.Policy(coverage="diminishing", max_per_team=2)
    run = dict(policy=policy, solver="lns", time_limit=None, work_limit=args.work_limit,
               workers=args.workers, seed=args.seed)
    plans = {}
    with contextlib.ExitStack() as stack:
        if args.scheduler is None:
            cluster = stack.enter_context(LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                                       dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(args.scheduler))
        for where, executor in (("threads", None), ("cluster", client.get_executor())):
            started = time.perf_counter()
            plan = cm.plan(org, [course], executor=executor, **run)
            seconds = time.perf_counter() - started
            assert cm.validate(plan, org, [course], policy) == []
            print(f"{where:>8}: objective {plan.metrics.objective:.1f}, gap to bound "
                  f"{plan.metrics.gap_to_bound:.2%}, {seconds:.1f} s")
            plans[where] = plan
    same = plans["threads"].to_json(timings=False) == plans["cluster"].to_json(timings=False)
    print(f"same plan on the cluster as on threads: {same}")
    return plans["cluster"]


if __name__ == "__main__":
    main()
