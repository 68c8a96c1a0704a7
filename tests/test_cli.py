"""The command line, through ``main(argv)`` and the installed ``cohortmatch`` entry point."""

# ruff: noqa: E501  (tables of expected messages read best one per line)

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import cohortmatch as cm
from cohortmatch.cli import main, progress_display
from cohortmatch.io import read_courses, read_org

TEAMS = ["mkt", "prod", "eng", "ops"]


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    """A 24-person organisation as CSV files: 4 teams x 6 people, a lead each."""
    rows = ["id,team,manager,level,site"]
    for t in TEAMS:
        rows.append(f"{t}-lead,{t},,manager,{'north' if t in ('mkt', 'eng') else 'south'}")
        rows += [f"{t}-{i},{t},{t}-lead,staff,north" for i in range(1, 6)]
    paths = {
        "people": tmp_path / "people.csv",
        "gaps": tmp_path / "gaps.csv",
        "teams": tmp_path / "teams.csv",
        "courses": tmp_path / "courses.csv",
    }
    paths["people"].write_text("\n".join(rows) + "\n")
    paths["gaps"].write_text(
        "team_a,team_b,weight,purpose\nmkt,prod,3,repair\neng,ops,2,process\nmkt,eng,1,knowledge\n"
        "prod,ops,0.5,build\n"
    )
    paths["teams"].write_text("id,name,parent\nbiz,Business,\nmkt,Marketing,biz\nprod,Product,biz\n"
                              "eng,Engineering,biz\nops,Operations,biz\n")
    paths["courses"].write_text("id,min_size,max_size,participants\npresenting,6,8,\n"
                                "wellbeing,2,2,level=manager\n")
    return paths


def _request(files):
    org = read_org(files["people"], files["gaps"], files["teams"])
    return org, read_courses(files["courses"], people=org.people)


def _plan_args(files, *extra):
    return ["plan", "--people", str(files["people"]), "--gaps", str(files["gaps"]),
            "--teams", str(files["teams"]), "--courses", str(files["courses"]),
            "--seed", "3", "--time-limit", "1", *extra]


def test_plan_writes_json_csv_xlsx_and_report(files, tmp_path, capsys):
    org, courses = _request(files)
    for ext in ("json", "csv", "xlsx"):
        out = tmp_path / f"plan.{ext}"
        assert main(_plan_args(files, "--out", str(out))) == 0
        assert out.is_file()
    text = capsys.readouterr().out
    assert "coverage" in text and "bound" in text and "plan written to" in text
    plan = cm.Plan.from_json((tmp_path / "plan.json").read_text())
    assert cm.validate(plan, org, courses) == []
    df = pd.read_csv(tmp_path / "plan.csv")
    assert set(df.columns) == {"person", "cohort", "course", "round", "team"}
    assert len(df) == 24 + 4
    report = tmp_path / "report"
    assert main(_plan_args(files, "--report", str(report), "--json")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["report"] == str(report / "report.html")
    assert {p.name for p in report.iterdir()} >= {"report.html", "report.md", "gap_matrix.png",
                                                  "gap_graph.png", "composition.png"}


def test_plan_json_output_and_policy_options(files, capsys):
    assert main(_plan_args(files, "--json", "--max-per-team", "3", "--coverage", "diminishing",
                           "--decay", "0.5")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metrics"]["mode"] == "diminishing"
    assert 0 < doc["metrics"]["objective"] <= doc["metrics"]["bound"] + 1e-9
    assert doc["cohorts"] == 3 + 2


def test_plan_tie_break_option(files, capsys):
    assert main(_plan_args(files, "--json", "--tie-break", "none")) == 0
    assert "tie-break:" not in " ".join(json.loads(capsys.readouterr().out).get("notes", []))
    assert main(_plan_args(files, "--tie-break", "sometimes")) == 2
    assert "--tie-break" in capsys.readouterr().err


def test_plan_from_json_request(files, tmp_path, capsys):
    org, courses = _request(files)
    from cohortmatch.io import Request

    req = tmp_path / "request.json"
    req.write_text(Request(org=org, courses=courses, policy=cm.Policy(max_per_team=3)).to_json())
    out = tmp_path / "plan.json"
    assert main(["plan", "--request", str(req), "--out", str(out), "--time-limit", "1",
                 "--seed", "1", "--quiet"]) == 0
    plan = cm.Plan.from_json(out.read_text())
    assert cm.validate(plan, org, courses, cm.Policy(max_per_team=3)) == []
    assert main(["plan", "--request", str(req), "--people", str(files["people"])]) == 2
    assert "--request holds the whole request; drop --people" in capsys.readouterr().err


def test_plan_start_improves_a_hand_made_grouping(files, tmp_path, capsys):
    org, courses = _request(files)
    # a poor grouping: each presenting cohort mostly from one pair of teams, no gap bridged twice
    rows = ["person,cohort,course"]
    people = [p.id for p in org.people]
    for i, pid in enumerate(sorted(people)):
        rows.append(f"{pid},G{i // 8},presenting")
    leads = [f"{t}-lead" for t in TEAMS]
    rows += [f"{leads[0]},W1,wellbeing", f"{leads[1]},W1,wellbeing",
             f"{leads[2]},W2,wellbeing", f"{leads[3]},W2,wellbeing"]
    grouping = tmp_path / "grouping.csv"
    grouping.write_text("\n".join(rows) + "\n")
    out = tmp_path / "plan.json"
    assert main(_plan_args(files, "--start", str(grouping), "--json", "--out", str(out))) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["start"]["improvement"] >= 0
    assert doc["metrics"]["objective"] == pytest.approx(
        doc["start"]["metrics"]["objective"] + doc["start"]["improvement"])
    assert cm.validate(cm.Plan.from_json(out.read_text()), org, courses) == []
    assert main(_plan_args(files, "--start", str(grouping))) == 0
    assert "hand-made grouping: coverage" in capsys.readouterr().out
    # a grouping that leaves people out is a start: the plan places them
    grouping.write_text("\n".join(rows[:-4]) + "\n")
    assert main(_plan_args(files, "--start", str(grouping), "--out", str(out))) == 0
    assert "it leaves out 4 place(s) (the plan fills them)" in capsys.readouterr().out
    assert cm.validate(cm.Plan.from_json(out.read_text()), org, courses) == []
    # a cohort over max_size cannot start a plan
    grouping.write_text("\n".join(rows[:1] + [r.replace(",G1,", ",G0,") for r in rows[1:]]) + "\n")
    assert main(_plan_args(files, "--start", str(grouping))) == 2
    assert ("cannot be a start plan: cohort 'G0' of course 'presenting' round 0 has 16 members, "
            "more than max_size 8") in capsys.readouterr().err


def test_score_a_hand_made_grouping(files, tmp_path, capsys):
    grouping = tmp_path / "grouping.csv"
    # cohorts by team: bridges nothing
    org, _ = _request(files)
    grouping.write_text("person,cohort\n" + "".join(f"{p.id},{p.team}\n" for p in org.people))
    base = ["score", "--people", str(files["people"]), "--gaps", str(files["gaps"]),
            "--grouping", str(grouping)]
    assert main([*base, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metrics"]["objective"] == 0 and doc["metrics"]["coverage"] == 0
    assert doc["metrics"]["bound"] == pytest.approx(6.5)
    assert [g["weight"] for g in doc["missed_gaps"]] == [3, 2, 1, 0.5]
    assert any("sits with their manager" in v for v in doc["violations"])
    assert {c["label"] for c in doc["cohorts"]} == set(TEAMS)
    assert main([*base, "--allow-managers-with-reports", "--report", str(tmp_path / "r")]) == 0
    text = capsys.readouterr().out
    assert "keeps every hard rule" in text and "misses 4 gap(s)" in text
    assert "mkt <-> prod: weight 3, repair" in text
    assert "mkt (" in (tmp_path / "r" / "report.md").read_text()


def test_score_with_courses_file(files, tmp_path, capsys):
    grouping = tmp_path / "g.csv"
    org, _ = _request(files)
    ids = sorted(p.id for p in org.people)
    grouping.write_text("person,cohort,course\n" + "".join(
        f"{pid},{i % 3},presenting\n" for i, pid in enumerate(ids)) + "".join(
        f"{t}-lead,{i // 2},wellbeing\n" for i, t in enumerate(TEAMS)))
    assert main(["score", "--people", str(files["people"]), "--gaps", str(files["gaps"]),
                 "--courses", str(files["courses"]), "--grouping", str(grouping), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metrics"]["coverage"] > 0
    assert [c["id"] for c in doc["courses"]] == ["presenting", "wellbeing"]


@pytest.mark.parametrize(
    ("target", "text", "match"),
    [
        ("people", "id,manager\nx,\n", r"people.csv: missing column 'team'"),
        ("people", None, r"people.csv, row 3, column 'team': unknown team 'sales' \(not in .*teams.csv\)"),
        ("people", "DUP", r"people.csv, row 5, column 'id': 'mkt-2' is given twice \(first in row 4\)"),
        ("gaps", "team_a,team_b,weight\nmkt,prod,3\neng,ops,high\n", r"gaps.csv, row 3, column 'weight': must be a number; got 'high'"),
        ("gaps", "team_a,team_b,weight\nmkt,sales,3\n", r"gaps.csv, row 2, column 'team_b': unknown team 'sales'"),
        ("courses", "id,min_size,max_size\npresenting,6,eight\n", r"courses.csv, row 2, column 'max_size': must be a whole number"),
    ],
)
def test_bad_files_exit_2_naming_file_row_and_column(files, capsys, target, text, match):
    path = files[target]
    lines = path.read_text().splitlines()
    if text is None:
        lines[2] = lines[2].replace(",mkt,", ",sales,")
        text = "\n".join(lines) + "\n"
    elif text == "DUP":
        lines[4] = lines[4].replace("mkt-3", "mkt-2")
        text = "\n".join(lines) + "\n"
    path.write_text(text)
    assert main(_plan_args(files)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    import re

    assert re.search(match, err), err


def test_infeasible_exits_3(files, capsys):
    files["courses"].write_text("id,min_size,max_size,cohorts\npresenting,20,20,2\n")
    assert main(_plan_args(files)) == 3
    err = capsys.readouterr().err
    assert "No plan can satisfy the hard rules" in err and "Traceback" not in err


def test_usage_errors_exit_2(files, tmp_path, capsys):
    assert main(["plan", "--bogus"]) == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    assert main(["plan", "--people", str(files["people"])]) == 2
    assert "missing --gaps, --courses" in capsys.readouterr().err
    assert main(_plan_args(files, "--out", str(tmp_path / "plan.txt"))) == 2
    assert "use a file ending in .json, .csv, .xlsx" in capsys.readouterr().err
    assert main(_plan_args(files, "--max-per-team", "0")) == 2
    assert "argument --max-per-team: must be in 1..2147483647; got 0" in capsys.readouterr().err


def test_synth_writes_tables_that_plan_reads(tmp_path, capsys):
    out = tmp_path / "org"
    assert main(["synth", "--people", "120", "--preset", "silos", "--seed", "5", "--out", str(out),
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["people"] == 120
    assert {p.name for p in out.iterdir()} == {"people.csv", "teams.csv", "gaps.csv", "grouping.csv"}
    org = read_org(out / "people.csv", out / "gaps.csv", out / "teams.csv")
    from cohortmatch.synthetic import org_chart

    assert org == org_chart(120, preset="silos", seed=5)
    assert main(["synth", "--people", "120", "--out", str(tmp_path / "x"), "--format", "xlsx"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["synth", "--people", "3", "--out", str(tmp_path / "y")]) == 2
    assert main(["synth", "--people", "50", "--preset", "nope", "--out", str(tmp_path / "y")]) == 2


def test_schema_prints_the_request_and_plan_schemas(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert set(schema["properties"]) == {"org", "courses", "policy", "history", "run"}
    assert main(["schema", "--plan"]) == 0
    assert "metrics" in json.loads(capsys.readouterr().out)["properties"]


def test_demo_prints_a_summary(capsys):
    assert main(["demo", "--people", "200", "--time-limit", "1", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "coverage" in text and "proven bound" in text and "random grouping coverage" in text
    assert text.count("\n") < 50


def test_progress_display_draws_on_a_terminal_and_not_otherwise():
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100)
    with progress_display(2.0, enabled=True, console=console) as update:
        assert update is not None
        update(0.5, 12.5)
        update(1.0, 13.0)
    assert "best objective: 13" in buf.getvalue()
    with progress_display(2.0) as update:  # pytest's stdout is not a terminal
        assert update is None


def _entry_point() -> list[str]:
    exe = Path(sys.executable).parent / "cohortmatch"
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("cohortmatch")
    return [found] if found else [sys.executable, "-m", "cohortmatch.cli"]


def test_installed_entry_point_runs_plan_and_reports_bad_input(files, tmp_path):
    env = {**os.environ, "COLUMNS": "100"}
    out = tmp_path / "plan.csv"
    ok = subprocess.run([*_entry_point(), *_plan_args(files, "--out", str(out))],
                        capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "coverage" in ok.stdout and out.is_file()
    assert "\x1b[" not in ok.stdout + ok.stderr  # no progress bar when not on a terminal
    files["gaps"].write_text("team_a,team_b,weight\nmkt,prod,lots\n")
    bad = subprocess.run([*_entry_point(), *_plan_args(files)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert bad.returncode == 2
    assert "gaps.csv, row 2, column 'weight'" in bad.stderr and "Traceback" not in bad.stderr
