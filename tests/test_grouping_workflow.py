"""Hand-made groupings as the README's step 4 uses them: which course, how many cohorts,
people left out, the rules they break, the request's bound, and planning the rest."""

# ruff: noqa: E501  (tables of expected messages read best one per line)

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.cli import main
from cohortmatch.compiled import compile_problem
from cohortmatch.engines.construct import complete, construct, fill_targets
from cohortmatch.errors import InputError
from cohortmatch.io import (
    Grouping,
    courses_of_grouping,
    example_grouping,
    grouping_plan,
    read_grouping,
    start_problems,
    write_grouping,
)
from cohortmatch.rules import check_assignment
from cohortmatch.scoring.bounds import upper_bound

TEAMS = ("mkt", "prod", "eng", "ops")


def _org() -> cm.Organisation:
    """24 people: 4 teams of 6, a lead each managing the other five."""
    people = []
    for t in TEAMS:
        people.append(cm.Person(id=f"{t}-lead", team=t, attributes={"level": "lead"}))
        people += [cm.Person(id=f"{t}-{i}", team=t, manager=f"{t}-lead", attributes={"level": "staff"})
                   for i in range(1, 6)]
    gaps = [cm.Gap(a="mkt", b="prod", weight=3), cm.Gap(a="eng", b="ops", weight=2),
            cm.Gap(a="mkt", b="eng", weight=1)]
    return cm.Organisation(people=people, gaps=gaps)


PRESENTING = cm.Course(id="presenting", min_size=6, max_size=8)
WELLBEING = cm.Course(id="wellbeing", min_size=2, max_size=2,
                      participants=tuple(f"{t}-lead" for t in TEAMS))


def _grouping(rows: list[tuple[str, str]], *, course: str | None = None) -> Grouping:
    return Grouping("g.csv", tuple(p for p, _ in rows), tuple(c for _, c in rows),
                    (course,) * len(rows), (0,) * len(rows))


def _dealt(org: cm.Organisation, k: int, *, leave_out: int = 0) -> list[tuple[str, str]]:
    """Everyone but the last ``leave_out`` dealt round-robin into ``k`` cohorts."""
    people = [p.id for p in org.people][: len(org.people) - leave_out]
    return [(pid, f"G{i % k}") for i, pid in enumerate(people)]


# --- filling cohorts around a start ------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=8), st.integers(0, 60),
       st.integers(1, 5), st.integers(0, 5))
def test_fill_targets_keep_sizes_bounds_and_count(sizes, n, low, extra):
    sizes = np.array(sizes)
    k = sizes.shape[0]
    lo, hi = np.full(k, low), np.full(k, low + extra)
    target = fill_targets(sizes, n, lo, hi)
    possible = (sizes <= hi).all() and np.maximum(sizes, lo).sum() <= n <= hi.sum()
    assert (target is not None) == possible
    if target is not None:
        assert target.sum() == n and (target >= sizes).all() and (target >= lo).all() and (target <= hi).all()
        raised = target > np.maximum(sizes, lo)
        if raised.any():  # as even as can be: a raised cohort is at most one above any cohort below hi
            assert target[raised].max() <= target[target < hi].min(initial=hi[0]) + 1


def test_construct_keeps_the_start_and_places_the_rest():
    org = cm.Organisation(people=[cm.Person(id=f"p{i:02d}", team=f"t{i % 6}") for i in range(24)],
                          gaps=[cm.Gap(a="t0", b="t1")])
    problem = compile_problem(org, [PRESENTING])
    start = np.full(problem.n_units, -1)
    start[:10] = np.arange(10) % 3  # ten people already in three cohorts, fourteen to place
    state = construct(problem, np.random.default_rng(0), start=start)
    assert (state.assignment[:10] == start[:10]).all()
    assert not check_assignment(problem, state.assignment)


@pytest.mark.parametrize("cohorts", [3, 4])
def test_plan_places_the_people_a_start_plan_leaves_out(cohorts):
    org = _org()
    given = grouping_plan(_grouping(_dealt(org, cohorts, leave_out=4), course="presenting"), org,
                          [PRESENTING, WELLBEING])
    assert len(given.plan.unassigned) == 4 + 4  # four of presenting, all of wellbeing
    assert given.violations  # dealt in export order: leads sit with some of their reports
    plan = cm.plan(org, given.courses, start=given.plan, time_limit=None, work_limit=2000, seed=1)
    assert cm.validate(plan, org, given.courses) == [] and plan.unassigned == ()
    assert plan.metrics.objective >= given.plan.metrics.objective


def test_complete_keeps_what_it_can_of_a_start_or_gives_up():
    org = _org()
    problem = compile_problem(org, [PRESENTING], cm.Policy(separate_manager_and_reports=False))
    start = np.full(problem.n_units, -1)
    start[:4] = 0  # four of team 'eng' (eng-1..eng-4) in one cohort: fine without a team cap
    done = complete(problem, start, np.random.default_rng(0))
    assert done is not None and (done[:4] == 0).all() and not check_assignment(problem, done)
    capped = compile_problem(org, [PRESENTING], cm.Policy(max_per_team=1, separate_manager_and_reports=False))
    assert complete(capped, start, np.random.default_rng(0)) is None


# --- which course, how many cohorts ----------------------------------------------------------------


def test_rows_without_a_course_belong_to_the_one_course_they_fit():
    org = _org()
    given = grouping_plan(_grouping(_dealt(org, 3)), org, [WELLBEING, PRESENTING])
    assert {c.course for c in given.plan.cohorts} == {"presenting"}
    assert given.notes[0] == ("rows without a course are read as course 'presenting', the one course that takes "
                              "all their people and keeps their cohort sizes")
    leads = _grouping([(f"{t}-lead", "L") for t in TEAMS[:2]])  # both courses take them; only wellbeing's min fits
    assert {c.course for c in grouping_plan(leads, org, [PRESENTING, WELLBEING]).plan.cohorts} == {"wellbeing"}


def test_an_unclear_course_is_an_error_saying_why():
    org = _org()
    twin = PRESENTING.model_copy(update={"id": "speaking"})
    with pytest.raises(InputError, match=r"g.csv: the grouping names no course and fits 'presenting', 'speaking'; add a 'course' column to say which"):
        grouping_plan(_grouping(_dealt(org, 3)), org, [PRESENTING, twin])
    big = _grouping([(p.id, "one") for p in org.people[:12]])
    with pytest.raises(InputError, match=r"fits none of the request's courses \('mkt-1' \(and 9 more\) does not take 'wellbeing'; a cohort of 12 is over the max_size 8 of 'presenting'\); add a 'course' column"):
        grouping_plan(big, org, [WELLBEING, PRESENTING])


def test_the_cohort_count_follows_the_grouping_where_the_course_leaves_it_open():
    org = _org()
    given = grouping_plan(_grouping(_dealt(org, 4)), org, [PRESENTING])  # 4 cohorts of 6; the fewest is 3
    assert given.courses[0].cohorts == 4 and len(given.plan.cohorts) == 4
    assert given.violations == [  # dealt in export order, each lead sits with their fourth report
        "cohort 'G0': 'eng-4' sits with their manager 'eng-lead'", "cohort 'G0': 'mkt-4' sits with their manager 'mkt-lead'",
        "cohort 'G2': 'ops-4' sits with their manager 'ops-lead'", "cohort 'G2': 'prod-4' sits with their manager 'prod-lead'"]
    assert "course 'presenting': 4 cohorts per round, as in the grouping (the fewest its sizes allow is 3)" in given.notes
    assert given.plan.metrics.bound == upper_bound(compile_problem(org, given.courses))
    fixed = PRESENTING.model_copy(update={"cohorts": 3})
    with pytest.raises(InputError, match=r"g.csv, row 5, column 'cohort': course 'presenting' round 0 has 3 cohort\(s\) \(its 'cohorts'\) and this is cohort 4 of the grouping"):
        grouping_plan(_grouping(_dealt(org, 4)), org, [fixed])


def test_a_partial_grouping_is_scored_with_the_people_it_leaves_out():
    org = _org()
    given = grouping_plan(_grouping(_dealt(org, 3, leave_out=2)), org, [PRESENTING])
    assert [u.person for u in given.plan.unassigned] == ["ops-4", "ops-5"]
    assert given.plan.unassigned[0].reason == "not in the grouping g.csv"
    assert start_problems(given) == []


def test_start_problems_name_the_cohort_or_course_that_cannot_start_a_plan():
    org = _org()
    over = [(p.id, "big" if i < 9 else f"G{i % 2}") for i, p in enumerate(org.people)]
    assert start_problems(grouping_plan(_grouping(over), org, [PRESENTING])) == [
        "cohort 'big' of course 'presenting' round 0 has 9 members, more than max_size 8"]
    uneven = [(p.id, f"G{min(i // 7, 3)}") for i, p in enumerate(org.people[:22])]  # 7, 7, 7, 1 of 24
    assert start_problems(grouping_plan(_grouping(uneven), org, [PRESENTING])) == [
        "course 'presenting' round 0: bringing its 4 cohorts up to min_size 6 needs 27 people; it has 24"]


def test_example_grouping_deals_everyone_in_export_order_and_reads_back(tmp_path):
    org = cm.org_chart(50, seed=3)
    g = example_grouping(org)
    assert g.person == tuple(p.id for p in org.people)
    sizes = {c: g.cohort.count(c) for c in set(g.cohort)}
    assert len(sizes) == 5 and set(sizes.values()) == {10}
    back = read_grouping(write_grouping(g, tmp_path / "grouping.csv"))
    assert (back.person, back.cohort, back.course) == (g.person, g.cohort, g.course)
    rounds = Grouping("g", ("a", "b"), ("X", "Y"), ("c", None), (1, 0))
    back = read_grouping(write_grouping(rounds, tmp_path / "grouping.xlsx"))
    assert (back.course, back.round) == (("c", None), (1, 0))
    assert courses_of_grouping(back)[0].rounds == 2
    with pytest.raises(InputError, match="The 'size' must be an int >= 1. Got 0."):
        example_grouping(org, size=0)


# --- the command line -------------------------------------------------------------------------------


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    org = _org()
    paths = {name: tmp_path / f"{name}.csv" for name in ("people", "gaps", "teams", "courses", "grouping")}
    paths["people"].write_text("id,team,manager,level\n" + "".join(
        f"{p.id},{p.team},{p.manager or ''},{p.attributes['level']}\n" for p in org.people))
    paths["gaps"].write_text("team_a,team_b,weight\n" + "".join(f"{g.a},{g.b},{g.weight}\n" for g in org.gaps))
    paths["teams"].write_text("id,name\nmkt,Marketing\nprod,Product\neng,Engineering\nops,\n")
    paths["courses"].write_text("id,min_size,max_size,participants\npresenting,6,8,\nwellbeing,2,2,level=lead\n")
    paths["grouping"].write_text("person,cohort\n" + "".join(f"{p},{c}\n" for p, c in _dealt(org, 4, leave_out=3)))
    return paths


def _args(files, verb, *extra):
    head = ["--people", str(files["people"]), "--gaps", str(files["gaps"]), "--teams", str(files["teams"])]
    return [verb, *head, *extra]


def test_score_reports_rules_broken_people_left_out_and_the_requests_bound(files, capsys):
    assert main(_args(files, "score", "--courses", str(files["courses"]), "--grouping", str(files["grouping"]))) == 0
    out = capsys.readouterr().out
    assert "grouping " in out and "4 cohorts, 21 people in 21 places" in out
    assert "course 'presenting': 4 cohorts per round, as in the grouping" in out
    assert "breaks 6 hard rule(s):" in out and "sits with their manager" in out
    assert "leaves out 7 place(s) of the request:" in out
    assert "course 'presenting' round 0: 3 (ops-3, ops-4, ops-5)" in out
    assert "course 'wellbeing' round 0: 4 (eng-lead, mkt-lead, ops-lead, prod-lead)" in out
    assert "as the grouping is split" not in out
    assert main(_args(files, "score", "--courses", str(files["courses"]), "--grouping", str(files["grouping"]), "--json")) == 0
    doc = json.loads(capsys.readouterr().out)
    org = _org()
    courses = [PRESENTING.model_copy(update={"cohorts": 4}), WELLBEING]
    assert doc["metrics"]["bound"] == pytest.approx(upper_bound(compile_problem(org, courses)))
    assert doc["courses_from"] == "request" and len(doc["unassigned"]) == 7 and len(doc["violations"]) == 6


def test_score_without_courses_says_the_bound_is_the_groupings(files, capsys):
    assert main(_args(files, "score", "--grouping", str(files["grouping"]))) == 0
    out = capsys.readouterr().out
    assert "courses    as the grouping is split ('course' 4 cohorts of 5-6), so the bound is this split's; give --courses for your request's" in out
    assert "leaves out 3 of the organisation's 24 people (ops-3, ops-4, ops-5)" in out
    assert main(_args(files, "score", "--grouping", str(files["grouping"]), "--json")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["courses_from"] == "grouping" and doc["people_not_in_grouping"] == ["ops-3", "ops-4", "ops-5"]


def test_plan_start_from_a_partial_grouping_without_a_course_column(files, tmp_path, capsys):
    out_file = tmp_path / "better.json"
    argv = _args(files, "plan", "--courses", str(files["courses"]), "--start", str(files["grouping"]),
                 "--seed", "1", "--time-limit", "2", "--out", str(out_file))
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "rows without a course are read as course 'presenting'" in out
    assert "it breaks 6 hard rule(s) (the plan keeps them all); it leaves out 7 place(s) (the plan fills them)" in out
    assert "planned 24 people (28 places) into 6 cohorts" in out
    plan = cm.Plan.from_json(out_file.read_text())
    org = _org()
    courses = [PRESENTING.model_copy(update={"cohorts": 4}), WELLBEING]
    assert cm.validate(plan, org, courses) == []
    assert main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["start"]["left_out"] == 7 and len(doc["start"]["violations"]) == 6
    assert doc["people"] == 24 and doc["places"] == 28


def test_score_names_the_teams_of_the_gaps_it_misses(files, capsys):
    by_team = "person,cohort\n" + "".join(f"{p.id},{p.team}\n" for p in _org().people)
    files["grouping"].write_text(by_team)
    assert main(_args(files, "score", "--grouping", str(files["grouping"]))) == 0
    out = capsys.readouterr().out
    assert "Marketing <-> Product: weight 3" in out and "Engineering <-> ops: weight 2" in out
