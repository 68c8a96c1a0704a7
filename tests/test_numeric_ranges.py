"""Every number a user gives is range-checked where it is read: no traceback, no inf or nan."""

# ruff: noqa: E501  (tables of expected messages read best one per line)

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from fuzzing import EXTREMES

import cohortmatch as cm
from cohortmatch.cli import main
from cohortmatch.compiled import compile_problem
from cohortmatch.errors import InputError, SizeLimitError
from cohortmatch.guards import check_problem
from cohortmatch.io import read_courses, read_gaps, read_grouping
from cohortmatch.model import MAX_COUNT, MAX_TOTAL_WEIGHT


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture()
def request_files(tmp_path: Path) -> dict[str, Path]:
    return {
        "people": _write(tmp_path / "people.csv", "id,team\np1,a\np2,b\np3,c\n"),
        "gaps": _write(tmp_path / "gaps.csv", "team_a,team_b,weight\na,b,1\nb,c,2\n"),
        "courses": _write(tmp_path / "courses.csv", "id,min_size,max_size\nc,1,3\n"),
    }


def _plan(files: dict[str, Path], *extra: str) -> list[str]:
    return ["plan", "--people", str(files["people"]), "--gaps", str(files["gaps"]),
            "--courses", str(files["courses"]), "--time-limit", "1", "--quiet", *extra]


# --- the model ----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["min_size", "max_size", "cohorts", "rounds"])
def test_course_counts_stop_at_max_count(field):
    values = {"min_size": 1, "max_size": 2, field: MAX_COUNT + 1}
    with pytest.raises(ValueError, match="less than or equal to 2147483647"):
        cm.Course(id="c", **values)
    assert getattr(cm.Course(id="c", **{**values, field: MAX_COUNT, "max_size": MAX_COUNT}), field) == MAX_COUNT


@pytest.mark.parametrize("field", ["max_per_team", "max_meetings"])
def test_policy_counts_stop_at_max_count(field):
    with pytest.raises(ValueError, match="less than or equal to 2147483647"):
        cm.Policy(**{field: 3_000_000_000})


def test_a_total_gap_weight_that_is_not_finite_is_refused():
    people = [cm.Person(id=f"p{i}", team="abc"[i]) for i in range(3)]
    gaps = [cm.Gap(a="a", b="b", weight=1.7e308), cm.Gap(a="b", b="c", weight=1.7e308)]
    with pytest.raises(ValueError, match=r"the gap weights add up to inf, more than 1e\+100: scale them down"):
        cm.Organisation(people=people, gaps=gaps)
    with pytest.raises(ValueError, match=r"add up to 1\.2e\+100"):
        cm.Organisation(people=people, gaps=[cm.Gap(a="a", b="b", weight=6e99), cm.Gap(a="b", b="c", weight=6e99)])


def test_the_largest_weights_give_finite_metrics_in_every_mode():
    people = [cm.Person(id=f"p{i}", team="abcd"[i % 4]) for i in range(8)]
    gaps = [cm.Gap(a="a", b="b", weight=MAX_TOTAL_WEIGHT / 2), cm.Gap(a="c", b="d", weight=MAX_TOTAL_WEIGHT / 2)]
    org = cm.Organisation(people=people, gaps=gaps)
    for mode in ("cover", "diminishing", "sum"):
        p = cm.plan(org, [cm.Course(id="c", min_size=4, max_size=4, rounds=2)],
                    policy=cm.Policy(coverage=mode, decay=1.0), time_limit=None, work_limit=500, seed=0)
        m = p.metrics
        assert all(math.isfinite(v) for v in (m.objective, m.coverage, m.bound, m.gap_to_bound)), m
        assert m.objective > 0


# --- the tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("id,min_size,max_size\nbig,1,3000000000\n", r"courses.csv, row 2, column 'max_size': must be <= 2147483647; got '3000000000'"),
        ("id,min_size,max_size,cohorts\nbig,1,3,1e30\n", r"row 2, column 'cohorts': must be <= 2147483647; got '1e30'"),
        ("id,min_size,max_size,rounds\nbig,1,3,3000000000\n", r"row 2, column 'rounds': must be <= 2147483647"),
        ("id,min_size,max_size,rounds\nbig,1,3,0\n", r"row 2, column 'rounds': must be >= 1; got '0'"),
        ("id,min_size,max_size\nbig,1,1e999\n", r"row 2, column 'max_size': must be a finite number; got '1e999'"),
    ],
)
def test_course_numbers_are_range_checked(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        read_courses(_write(tmp_path / "courses.csv", text))


def test_gap_weights_and_their_sum_are_range_checked(tmp_path):
    with pytest.raises(InputError, match=r"gaps.csv, row 3, column 'weight': the weights up to this row add up to 1\.7e\+308, more than 1e\+100"):
        read_gaps(_write(tmp_path / "gaps.csv", "team_a,team_b,weight\na,b,1e99\nb,c,1.7e308\n"))
    with pytest.raises(InputError, match=r"row 3, column 'weight': the weights up to this row add up to 1\.2e\+100"):
        read_gaps(_write(tmp_path / "gaps.csv", "team_a,team_b,weight\na,b,6e99\nb,c,6e99\n"))
    assert [g.weight for g in read_gaps(_write(tmp_path / "gaps.csv", "team_a,team_b,weight\na,b,5e99\nb,c,5e99\n"))] == [5e99, 5e99]


def test_grouping_rounds_are_range_checked(tmp_path):
    with pytest.raises(InputError, match=r"g.csv, row 2, column 'round': must be <= 2147483647; got '9999999999'"):
        read_grouping(_write(tmp_path / "g.csv", "person,cohort,round\np1,A,9999999999\n"))


# --- the command line: exit 2 and one line, never a traceback -----------------------------------------


def test_cli_refuses_a_cohort_size_beyond_int32(request_files, capsys):
    _write(request_files["courses"], "id,min_size,max_size\nbig,1,3000000000\n")
    assert main(_plan(request_files)) == 2
    err = capsys.readouterr().err
    assert "column 'max_size': must be <= 2147483647; got '3000000000'" in err and "Traceback" not in err


def test_cli_refuses_gap_weights_whose_sum_is_not_finite(request_files, capsys):
    _write(request_files["gaps"], "team_a,team_b,weight\na,b,1.7e308\nb,c,1.7e308\n")
    assert main(_plan(request_files)) == 2
    assert "the weights up to this row add up to" in capsys.readouterr().err


def test_cli_refuses_huge_sizes_in_a_json_request(tmp_path, capsys):
    doc = {"org": {"people": [{"id": "p1", "team": "a"}]},
           "courses": [{"id": "c", "min_size": 1, "max_size": 3_000_000_000}]}
    path = _write(tmp_path / "request.json", json.dumps(doc))
    assert main(["plan", "--request", str(path), "--time-limit", "1", "--quiet"]) == 2
    assert "courses[0].max_size (id 'c'): Input should be less than or equal to 2147483647" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--seed", "-1"], "argument --seed: must be >= 0; got -1"),
        (["--seed", "x"], "argument --seed: must be a whole number; got 'x'"),
        (["--time-limit", "inf"], "argument --time-limit: must be a finite number > 0; got 'inf'"),
        (["--time-limit", "nan"], "argument --time-limit: must be a finite number > 0; got 'nan'"),
        (["--time-limit", "0"], "argument --time-limit: must be a finite number > 0; got '0'"),
        (["--max-per-team", "3000000000"], "argument --max-per-team: must be in 1..2147483647; got 3000000000"),
        (["--max-meetings", "0"], "argument --max-meetings: must be in 1..2147483647; got 0"),
        (["--decay", "1.5"], "argument --decay: must be a finite number >= 0 and <= 1; got '1.5'"),
        (["--header-row", "people=0"], "argument --header-row: must be in 1..2147483647; got 0"),
    ],
)
def test_cli_options_are_range_checked(request_files, capsys, extra, match):
    assert main(_plan(request_files, *extra)) == 2
    err = capsys.readouterr().err
    assert match in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["synth", "--people", "100000000000", "--out", "x"], "argument --people: must be in 1..1000000"),
        (["synth", "--people", "50", "--seed", "-2", "--out", "x"], "argument --seed: must be >= 0; got -2"),
        (["demo", "--people", "0"], "argument --people: must be in 1..1000000; got 0"),
        (["score", "--people", "p.csv", "--gaps", "g.csv", "--grouping", "x.csv", "--top", "-1"], "argument --top: must be in 0..2147483647; got -1"),
    ],
)
def test_other_verbs_range_check_their_numbers(capsys, argv, match):
    assert main(argv) == 2
    assert match in capsys.readouterr().err


def test_extremes_cover_the_limits():
    """The numeric fuzz target (tests/fuzzing.py) draws numbers at every limit checked here."""
    assert {MAX_COUNT, MAX_COUNT + 1, 1.7e308, "inf", "nan", 0, -1} <= set(EXTREMES)


def test_an_unbounded_max_size_costs_no_memory():
    """A max_size of MAX_COUNT ("no limit") for 8 people: the cohorts hold at most 8 (the
    search once sized its member lists by max_size: 16 GiB; found by the numeric fuzz target)."""
    org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="abc"[i % 3]) for i in range(8)],
                          gaps=[cm.Gap(a="a", b="b")])
    course = cm.Course(id="c", min_size=2, max_size=MAX_COUNT)
    assert int(compile_problem(org, [course]).cohort_max.max()) == 8  # checked first: no 16 GiB try
    plan = cm.plan(org, [course], time_limit=None, work_limit=200, seed=0)
    assert cm.validate(plan, org, [course]) == [] and len(plan.cohorts) == 1


def test_the_cohort_member_lists_are_guarded():
    org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4000)])
    problem = compile_problem(org, [cm.Course(id="c", min_size=1, max_size=4000, cohorts=4000)])
    with pytest.raises(SizeLimitError, match=r"cohort member lists \(4000 cohorts x 4001 places\) would need 122\.1 MiB, more than the memory budget of 64\.0 MiB"):
        check_problem(problem, budget=64 * 2**20)
