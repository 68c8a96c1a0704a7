"""The command line's input and output edges: JSON errors, warnings, closed pipes, output
folders, and choosing the sheet and header row of an export."""

# ruff: noqa: E501  (expected messages read best on one line)

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from cohortmatch.cli import main
from cohortmatch.errors import InputError
from cohortmatch.io import write_org, write_plan


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {n: tmp_path / f"{n}.csv" for n in ("people", "gaps", "courses")}
    paths["people"].write_text("id,team\n" + "".join(f"p{i},{'abc'[i % 3]}\n" for i in range(6)))
    paths["gaps"].write_text("team_a,team_b,weight\na,b,2\nb,c,1\n")
    paths["courses"].write_text("id,min_size,max_size\nintro,3,3\n")
    return paths


def _plan(files: dict[str, Path], *extra: str) -> list[str]:
    return ["plan", "--people", str(files["people"]), "--gaps", str(files["gaps"]),
            "--courses", str(files["courses"]), "--time-limit", "1", "--seed", "0", "--quiet", *extra]


# --- errors as JSON under --json -----------------------------------------------------------------


def test_json_errors_are_a_json_document_on_stdout(files, capsys):
    files["gaps"].write_text("team_a,team_b,weight\na,b,high\n")
    assert main(_plan(files, "--json")) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc == {"error": {"exit_code": 2, "message": f"{files['gaps']}, row 2, column 'weight': must be a number; got 'high'"}}
    assert captured.err == ""


def test_json_infeasible_errors_list_the_conflicts(files, capsys):
    files["courses"].write_text("id,min_size,max_size\nintro,4,4\n")  # 6 people, cohorts of 4
    assert main(_plan(files, "--json")) == 3
    doc = json.loads(capsys.readouterr().out)["error"]
    assert doc["exit_code"] == 3 and doc["conflicts"] and "cannot form" in doc["conflicts"][0]


def test_json_usage_errors_are_json_too(files, capsys):
    assert main(_plan(files, "--json", "--seed", "-4")) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"]["message"] == "argument --seed: must be >= 0; got -4"


# --- warnings ------------------------------------------------------------------------------------


def test_ignored_columns_are_warned_about_on_stderr(files, capsys):
    files["gaps"].write_text("team_a,team_b,weight,comment\na,b,2,survey 2024\n")
    assert main(_plan(files)) == 0
    captured = capsys.readouterr()
    assert f"cohortmatch: warning: {files['gaps']}, column 'comment': not a column of the gaps table" in captured.err
    assert "planned 6 people" in captured.out
    assert main(_plan(files, "--json")) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.err.splitlines()[0])["warning"].endswith("; ignored")
    assert json.loads(captured.out)["metrics"]["coverage"] > 0


# --- a closed pipe ---------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", [["schema"], ["synth", "--people", "30", "--json"]])
def test_a_closed_pipe_ends_quietly(tmp_path, verb):
    """The reader is gone before the first write (like ``| head -0``): exit 141, no message."""
    exe = Path(sys.executable).parent / "cohortmatch"
    if verb[0] == "synth":
        verb = [*verb, "--out", str(tmp_path / "org")]
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([str(exe), *verb], stdout=write, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(write)
    assert done.returncode == 141 and done.stderr == b""


# --- no folders are created --------------------------------------------------------------------


def test_an_output_in_a_missing_folder_is_refused_before_planning(files, tmp_path, capsys):
    out = tmp_path / "no" / "such" / "plan.csv"
    assert main(_plan(files, "--out", str(out))) == 2
    assert f"--out {out}: the folder {out.parent} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()
    report = tmp_path / "missing" / "report"
    assert main(_plan(files, "--report", str(report))) == 2
    assert "--report" in capsys.readouterr().err and not (tmp_path / "missing").exists()
    assert main(["synth", "--people", "50", "--out", str(tmp_path / "a" / "b")]) == 2
    assert not (tmp_path / "a").exists()
    assert main(_plan(files, "--report", str(tmp_path / "report"))) == 0  # the folder itself is made
    assert (tmp_path / "report" / "report.html").is_file()


def test_writers_create_no_folders(tmp_path):
    import cohortmatch as cm

    org = cm.org_chart(30, seed=0)
    with pytest.raises(InputError, match="does not exist"):
        write_org(org, tmp_path / "x" / "y")
    plan = cm.plan(org, [cm.Course(id="c", min_size=5, max_size=6)], time_limit=None, work_limit=50, seed=0)
    with pytest.raises(InputError, match="does not exist"):
        write_plan(plan, tmp_path / "x" / "plan.json")
    assert not (tmp_path / "x").exists()


# --- choosing the sheet and the header row ------------------------------------------------------------


def test_sheet_and_header_row_options(files, tmp_path, capsys):
    wb = openpyxl.Workbook()
    wb.active.title = "Summary"
    staff = wb.create_sheet("Staff")
    for row in [["Staff on 1 May"], ["prepared by HR"], ["id", "team"], *[[f"p{i}", "abc"[i % 3]] for i in range(6)]]:
        staff.append(row)
    people = tmp_path / "export.xlsx"
    wb.save(people)
    argv = _plan({**files, "people": people})
    assert main(argv) == 2
    assert "export.xlsx, sheet 'Summary': the file is empty (expected a header row) (the workbook also has 'Staff': choose a sheet with --sheet NAME" in capsys.readouterr().err
    assert main([*argv, "--sheet", "people=staff"]) == 0  # the header row is found below the title
    assert "planned 6 people" in capsys.readouterr().out
    assert main([*argv, "--sheet", "Staff", "--header-row", "people=2"]) == 2
    err = capsys.readouterr().err
    assert "sheet 'Staff': missing column 'id'" in err and "the header is row 2" in err
    # a table's own value wins over the one for every table: people are read (row 3), gaps not
    assert main([*argv, "--sheet", "Staff", "--header-row", "people=3", "--header-row", "2"]) == 2
    err = capsys.readouterr().err
    assert "gaps.csv: missing column 'team_a'" in err and "the header is row 2" in err
