"""Run parameters are checked once, at the front door, with errors that name them."""

from __future__ import annotations

import numpy as np
import pytest

import cohortmatch as cm


def _request():
    org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4)],
                          gaps=[cm.Gap(a="a", b="b")])
    return org, [cm.Course(id="c", min_size=2, max_size=2)]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"policy": "strict"}, r"the 'policy' must be a Policy or None\. Got 'strict'"),
    ({"seed": "abc"}, r"The 'seed' must be None, an int >= 0 or a numpy\.random\.Generator\. Got 'abc'"),
    ({"seed": -1}, r"The 'seed' must be None, an int >= 0"),
    ({"time_limit": "5"}, r"The 'time_limit' must be a positive number of seconds or None\. Got '5'"),
    ({"time_limit": float("nan")}, r"The 'time_limit' must be a positive number"),
    ({"time_limit": True}, r"The 'time_limit' must be a positive number"),
    ({"work_limit": 2.5}, r"The 'work_limit' must be an int >= 0 or None\. Got 2\.5"),
    ({"workers": 0}, r"The 'workers' must be an int >= 1 or None\. Got 0"),
    ({"solver": "magic"}, r"The 'solver' must be one of 'auto', 'heuristic', 'cpsat', 'lns', 'golfer', 'tabu'"),
    ({"on_infeasible": "skip"}, r"The 'on_infeasible' must be one of 'raise', 'partial'"),
    ({"progress": 3}, r"The 'progress' must be a callable or None"),
    ({"time_limit": None}, r"Give a 'time_limit', a 'work_limit', or both"),
    ({"start": "plan.json"}, r"the 'start' must be a Plan or None"),
])
def test_bad_run_parameters_name_themselves(kwargs, message):
    org, courses = _request()
    with pytest.raises(cm.InputError, match=message):
        cm.plan(org, courses, **kwargs)


def test_bad_request_pieces():
    org, courses = _request()
    with pytest.raises(cm.InputError, match="got a single Course"):
        cm.plan(org, courses[0], time_limit=1)
    with pytest.raises(cm.InputError, match="the first argument must be a Request or an Organisation"):
        cm.plan({"org": 1}, courses, time_limit=1)
    request = cm.Request(org=org, courses=courses)
    with pytest.raises(cm.InputError, match="a Request holds the whole request; do not pass policy too"):
        cm.plan(request, policy=cm.Policy(), time_limit=1)
    with pytest.raises(cm.InputError, match="not a single Course"):
        cm.Request(org=org, courses=courses[0])


def test_a_request_and_loose_pieces_give_the_same_plan():
    org, courses = _request()
    a = cm.plan(org, courses, policy=cm.Policy(mode="diminishing"), time_limit=None, work_limit=300, seed=3)
    request = cm.Request(org=org, courses=courses, policy=cm.Policy(coverage="diminishing"))
    b = cm.plan(request, time_limit=None, work_limit=300, seed=3)
    assert a.cohorts == b.cohorts and a.metrics == b.metrics
    assert cm.validate(b, request) == cm.validate(b, org, courses, cm.Policy(mode="diminishing")) == []
    generator = cm.plan(request, time_limit=None, work_limit=300, seed=np.random.default_rng(3))
    assert generator.seed is None and cm.validate(generator, request) == []


def test_model_errors_are_input_errors_without_pydantic():
    with pytest.raises(cm.InputError) as info:
        cm.Course(id="c", min_size=3, max_size=2)
    assert "pydantic" not in str(info.value) and "errors.pydantic.dev" not in str(info.value)
    assert isinstance(info.value, cm.errors.RecordError)
    with pytest.raises(cm.InputError, match="cannot be changed"):
        cm.Policy().mode = "sum"  # type: ignore[misc]


def test_plan_prints_short_and_does_not_pretend_to_validate():
    org, courses = _request()
    plan = cm.plan(org, courses, time_limit=None, work_limit=100, seed=0)
    assert repr(plan).startswith("Plan(status='optimal', solver='cpsat', cohorts=2, places=4")
    assert len(str(plan)) < 200
    with pytest.raises(cm.InputError, match=r"use cohortmatch\.validate\(plan, request\)"):
        plan.validate(org, courses)
    with pytest.raises(KeyError, match="plan has no cohort 'zz'"):
        plan.cohort("zz")
    assert plan.status == cm.PlanStatus.OPTIMAL and plan.metrics.mode == cm.Mode.COVER


def test_a_request_document_carries_its_run_settings(tmp_path):
    import json

    from cohortmatch.cli import main
    from cohortmatch.io import read_request, request_schema

    org, courses = _request()
    doc = json.loads(cm.Request(org=org, courses=courses).to_json())
    doc["run"] = {"solver": "heuristic", "work_limit": 400, "seed": 5}
    path = tmp_path / "request.json"
    path.write_text(json.dumps(doc))
    request = read_request(path)
    plan = cm.plan(request)  # no time limit: the run section's work limit makes it repeatable
    assert plan.solver == "heuristic" and plan.seed == 5
    assert cm.plan(request, solver="cpsat").solver == "cpsat"  # a keyword wins over the section
    assert "run" in request_schema()["properties"]
    out = tmp_path / "plan.json"
    assert main(["plan", "--request", str(path), "--out", str(out), "--json"]) == 0
    assert cm.Plan.from_json(out.read_text()).solver == "heuristic"
    doc["run"] = {"solver": "magic"}
    path.write_text(json.dumps(doc))
    with pytest.raises(cm.InputError, match=r"run\.solver"):
        read_request(path)
