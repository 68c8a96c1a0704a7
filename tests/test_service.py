"""Embedding in a service: cancelling a search from another thread, and planning from many threads."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import cohortmatch as cm
from cohortmatch.errors import InputError

STOPPED = "stopped on request"


def _request(people: int, seed: int, mode: str = "diminishing", cap: int | None = 2) -> cm.Request:
    org = cm.org_chart(people, seed=seed)
    return cm.Request(org=org, courses=[cm.Course(id="c", min_size=10, max_size=14)],
                      policy=cm.Policy(max_per_team=cap, mode=mode))


def _stop_after(seconds: float) -> tuple[threading.Event, threading.Timer]:
    event = threading.Event()
    timer = threading.Timer(seconds, event.set)
    timer.start()
    return event, timer


@pytest.mark.parametrize("solver", ["heuristic", "lns", "cpsat", "auto"])
def test_stop_from_another_thread_returns_the_best_plan_so_far(solver):
    req = _request(600, seed=3)
    stop, timer = _stop_after(0.3)
    t0 = time.perf_counter()
    result = cm.plan(req, solver=solver, time_limit=60, seed=0, stop=stop)
    elapsed = time.perf_counter() - t0
    timer.join()
    assert elapsed < 20  # far below the 60 s limit (latency itself: benchmarks/service.py)
    assert cm.validate(result, req) == []
    assert any(n.startswith(STOPPED) for n in result.notes), result.notes
    assert len(result.cohorts) > 0


def test_a_plan_without_stop_has_no_stop_note():
    req = _request(60, seed=1, cap=None)
    result = cm.plan(req, time_limit=None, work_limit=2000, seed=0, stop=threading.Event())
    assert not any(n.startswith(STOPPED) for n in result.notes)


def test_stop_set_before_the_call_still_returns_a_valid_plan():
    req = _request(200, seed=2)
    stop = threading.Event()
    stop.set()
    result = cm.plan(req, time_limit=60, seed=0, stop=stop, on_infeasible="partial")
    assert cm.validate(result, req) == []
    assert any(n.startswith(STOPPED) for n in result.notes)


def test_replan_can_be_stopped():
    req = _request(300, seed=4)
    first = cm.plan(req, solver="heuristic", time_limit=None, work_limit=3000, seed=0)
    people = [p for p in req.org.people if p.id not in {first.cohorts[0].members[0]}]
    today = req.model_copy(update={"org": req.org.model_copy(update={"people": people})})
    stop = threading.Event()
    stop.set()
    result = cm.replan(first, today, time_limit=60, seed=0, stop=stop)
    assert cm.validate(result, today) == []
    assert any(n.startswith(STOPPED) for n in result.notes)


@pytest.mark.parametrize("bad", [True, "stop", 1])
def test_stop_must_be_an_event(bad):
    with pytest.raises(InputError, match="The 'stop' must be None or an event with is_set"):
        cm.plan(_request(20, seed=0, cap=None), time_limit=1, stop=bad)


@pytest.mark.parametrize("solver", ["heuristic", "lns", "cpsat"])
def test_concurrent_plans_equal_plans_made_one_at_a_time(solver):
    """Different requests planned from 4 threads at once give the plans they give alone."""
    requests = [_request(80 + 20 * i, seed=10 + i, mode=("cover", "diminishing")[i % 2], cap=None)
                for i in range(4)]

    def run(req: cm.Request) -> str:
        result = cm.plan(req, solver=solver, time_limit=None, work_limit=3000, seed=5)
        assert cm.validate(result, req) == []
        return result.to_json(timings=False)

    alone = [run(r) for r in requests]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(run, requests + requests[::-1]))
    assert together == alone + alone[::-1]
    assert len(set(alone)) == len(alone)  # different requests: the comparison can fail


def test_runs_without_a_worker_count_share_the_cores(monkeypatch):
    """A timed run with ``workers=None`` gets the cores no other run holds (at least one);
    a run that names its workers gets them; the lease ends with the run."""
    from cohortmatch import cores
    from cohortmatch.engines.heuristic import HeuristicEngine

    monkeypatch.setattr(cores, "available", lambda: 4)
    seen = []
    real = HeuristicEngine.solve

    def spy(self, problem, **kwargs):
        seen.append(kwargs["workers"])
        return real(self, problem, **kwargs)

    monkeypatch.setattr(HeuristicEngine, "solve", spy)
    req = _request(200, seed=3)
    cm.plan(req, solver="heuristic", time_limit=2, seed=0)
    with cores.lease(None) as held:
        assert held == 4
        cm.plan(req, solver="heuristic", time_limit=2, seed=0)
        cm.plan(req, solver="heuristic", time_limit=2, seed=0, workers=3)
        with cores.lease(None) as other:
            assert other == 1
    cm.plan(req, solver="heuristic", time_limit=2, seed=0)
    assert seen == [4, 1, 3, 4]
