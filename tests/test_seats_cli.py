"""Seats from files and the command line: columns, options, the waitlist, bad values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import cohortmatch as cm
from cohortmatch.cli import main
from cohortmatch.io import read_courses, read_request


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    """30 people in 5 teams with an interest in 'presenting', a gap ring, one course of 12 seats."""
    rows = ["id,team,level,interest:presenting"]
    rows += [f"p{i:02d},t{i % 5},{'new manager' if i in (3, 7) else 'staff'},{(i * 7 % 10) / 10}"
             for i in range(30)]
    paths = {"people": tmp_path / "people.csv", "gaps": tmp_path / "gaps.csv",
             "courses": tmp_path / "courses.csv"}
    paths["people"].write_text("\n".join(rows) + "\n")
    paths["gaps"].write_text("team_a,team_b,weight\n" + "".join(f"t{i},t{(i + 1) % 5},1\n" for i in range(5)))
    paths["courses"].write_text("id,min_size,max_size,seats,required\npresenting,4,6,12,level=new manager\n")
    return paths


def _args(files: dict[str, Path], *extra: str) -> list[str]:
    return ["plan", "--people", str(files["people"]), "--gaps", str(files["gaps"]),
            "--courses", str(files["courses"]), "--seed", "1", "--time-limit", "5", "--quiet", *extra]


def test_seats_and_required_columns(files: dict[str, Path]) -> None:
    org = cm.io.read_org(files["people"], files["gaps"])
    (course,) = read_courses(files["courses"], people=org.people)
    assert course.seats == 12 and course.required == ("p03", "p07")


def test_plan_writes_a_ranked_waitlist(files: dict[str, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    waitlist = tmp_path / "waitlist.csv"
    out = tmp_path / "plan.xlsx"
    assert main(_args(files, "--fit-weight", "2", "--waitlist", str(waitlist), "--out", str(out))) == 0
    assert "fit " in capsys.readouterr().out
    table = pd.read_csv(waitlist)
    assert list(table.columns) == ["course", "rank", "person", "reason"]
    assert table["rank"].tolist() == list(range(1, 19))
    assert table["reason"].str.startswith("not selected: ").all()
    assert not {"p03", "p07"} & set(table["person"])
    assert "waitlist" in pd.ExcelFile(out).sheet_names


def test_max_courses_per_person_option(files: dict[str, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    files["courses"].write_text("id,min_size,max_size,seats\nx,4,6,12\ny,4,6,12\n")
    out = tmp_path / "plan.json"
    assert main(_args(files, "--max-courses-per-person", "1", "--out", str(out), "--json")) == 0
    plan = cm.Plan.model_validate_json(out.read_text())
    seen = [m for c in plan.cohorts for m in c.members]
    assert len(seen) == len(set(seen)) == 24


@pytest.mark.parametrize("row, words", [
    ("presenting,4,6,0,", "courses.csv, row 2, column 'seats'"),
    ("presenting,4,6,many,", "courses.csv, row 2, column 'seats'"),
    ("presenting,4,6,12,p99", "courses.csv, row 2, column 'required': unknown person 'p99'"),
])
def test_bad_seat_cells_exit_2_naming_file_row_and_column(files: dict[str, Path], row: str, words: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    files["courses"].write_text("id,min_size,max_size,seats,required\n" + row + "\n")
    assert main(_args(files)) == 2
    assert words in capsys.readouterr().err


@pytest.mark.parametrize("option, value", [("--fit-weight", "-1"), ("--max-courses-per-person", "0"),
                                           ("--waitlist", "list.txt")])
def test_bad_options_exit_2(files: dict[str, Path], option: str, value: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(files, option, value)) == 2
    assert option in capsys.readouterr().err


def test_seats_in_the_json_request(files: dict[str, Path], tmp_path: Path) -> None:
    org = cm.io.read_org(files["people"], files["gaps"])
    req = cm.Request(org=org, courses=read_courses(files["courses"], people=org.people),
                     policy=cm.Policy(fit_weight=1.5, max_courses_per_person=1))
    path = tmp_path / "request.json"
    path.write_text(req.to_json())
    back = read_request(path)
    assert back.courses[0].seats == 12 and back.courses[0].required == ("p03", "p07")
    assert back.policy.fit_weight == 1.5 and back.policy.max_courses_per_person == 1
    out = tmp_path / "plan.json"
    assert main(["plan", "--request", str(path), "--quiet", "--time-limit", "5", "--seed", "0",
                 "--out", str(out)]) == 0
    assert cm.validate(cm.Plan.model_validate_json(out.read_text()), back) == []


def test_seats_smaller_than_a_cohort_is_infeasible_in_words(files: dict[str, Path],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    files["courses"].write_text("id,min_size,max_size,seats\npresenting,4,6,3\n")
    assert main(_args(files)) != 0
    assert "3 seat(s), fewer than the 4 one cohort needs" in capsys.readouterr().err
