"""``cohortmatch replan``: a published plan, today's tables, the new plan and the changes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import cohortmatch as cm
from cohortmatch.cli import main
from cohortmatch.io import read_courses, read_org

TEAMS = ["mkt", "prod", "eng", "ops"]


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    """A 24-person organisation as CSV files and its published plan (plan.json)."""
    rows = ["id,team,manager"]
    for t in TEAMS:
        rows.append(f"{t}-lead,{t},")
        rows += [f"{t}-{i},{t},{t}-lead" for i in range(1, 6)]
    paths = {name: tmp_path / f"{name}.csv" for name in ("people", "gaps", "courses")}
    paths["people"].write_text("\n".join(rows) + "\n")
    paths["gaps"].write_text("team_a,team_b,weight\nmkt,prod,3\neng,ops,2\nmkt,eng,1\nprod,ops,0.5\n")
    paths["courses"].write_text("id,min_size,max_size,rounds\npresenting,5,7,2\n")
    paths["plan"] = tmp_path / "plan.json"
    assert main(_args(paths, "plan", "--out", str(paths["plan"]))) == 0
    return paths


def _args(files: dict[str, Path], verb: str, *extra: str) -> list[str]:
    return [verb, "--people", str(files["people"]), "--gaps", str(files["gaps"]),
            "--courses", str(files["courses"]), "--seed", "3", "--time-limit", "1", *extra]


def test_replan_writes_the_plan_and_the_changes_and_says_who_moved_and_why(files, tmp_path, capsys):
    published = cm.Plan.from_json(files["plan"].read_text())
    pair = published.cohorts[0].members[:2]
    links = tmp_path / "links.csv"
    links.write_text(f"person_a,person_b,kind\n{pair[0]},{pair[1]},apart\n")
    people = files["people"].read_text().replace("ops-5,ops,ops-lead\n", "") + "new-1,ops,ops-lead\n"
    files["people"].write_text(people)
    out, changes = tmp_path / "new.xlsx", tmp_path / "changes.csv"
    capsys.readouterr()
    assert main(_args(files, "replan", "--plan", str(files["plan"]), "--links", str(links),
                      "--out", str(out), "--changes", str(changes))) == 0
    text = capsys.readouterr().out
    shared = sum(set(pair) <= set(c.members) for c in published.cohorts)  # rounds they share
    assert f"{shared} people moved (the fewest possible): {shared} to keep keep_apart" in text
    assert "2 joined, 2 left" in text and "changes written to" in text  # one each per round
    table = pd.read_csv(changes)
    assert list(table.columns) == ["person", "course", "round", "before", "after", "reason", "rule", "detail"]
    assert set(table["reason"]) == {"rule", "joined", "left"}
    assert set(table.loc[table["reason"] == "left", "person"]) == {"ops-5"}
    assert set(pd.read_excel(out, sheet_name=None)) >= {"cohorts", "changes"}
    org = read_org(files["people"], files["gaps"])
    courses = read_courses(files["courses"], people=org.people)
    new = cm.replan(published, org, courses, policy=cm.Policy(keep_apart=[pair]), time_limit=None,
                    work_limit=2000, seed=3)
    assert new.metrics.moved == shared


def test_replan_json_and_held_rounds(files, tmp_path, capsys):
    capsys.readouterr()
    assert main(_args(files, "replan", "--plan", str(files["plan"]), "--held-rounds", "1", "--json",
                      "--max-per-team", "2")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["moved"] >= doc["moves_bound"] >= 0 and doc["status"] in ("optimal", "feasible")
    assert main(_args(files, "replan", "--plan", str(files["plan"]), "--held-rounds", "2")) == 2
    assert "--held-rounds 2: course 'presenting' has only 2 round(s)" in capsys.readouterr().err


def test_replan_of_a_plan_that_does_not_fit_exits_2_naming_what_is_wrong(files, tmp_path, capsys):
    files["courses"].write_text("id,min_size,max_size\nleading,5,7\n")
    assert main(_args(files, "replan", "--plan", str(files["plan"]))) == 2
    assert "cohort 'presenting-r1-1' is of course 'presenting', which the request does not have" in (
        capsys.readouterr().err)
    broken = tmp_path / "broken.json"
    broken.write_text('{"cohorts": [}')
    assert main(_args(files, "replan", "--plan", str(broken))) == 2
    assert f"{broken}, line 1, column 14: not valid JSON" in capsys.readouterr().err
    assert main(_args(files, "replan", "--plan", str(tmp_path / "plan.csv"))) == 2
    assert "give the plan as JSON" in capsys.readouterr().err
    assert main(_args(files, "replan", "--plan", str(tmp_path / "missing.json"))) == 2
    assert main(_args(files, "replan", "--plan", str(files["plan"]), "--changes", "x.txt")) == 2
    assert "--changes x.txt: use a file ending in .csv or .xlsx" in capsys.readouterr().err
    missing = tmp_path / "no-such-folder" / "changes.csv"  # refused before re-planning
    assert main(_args(files, "replan", "--plan", str(files["plan"]), "--changes", str(missing))) == 2
    assert "the folder" in capsys.readouterr().err and not missing.parent.exists()


def test_replan_under_a_move_cap_that_is_too_small_exits_3(files, tmp_path, capsys):
    published = cm.Plan.from_json(files["plan"].read_text())
    links = tmp_path / "links.csv"
    rows = [f"{c.members[0]},{c.members[1]},apart" for c in published.cohorts if c.round == 0]
    links.write_text("person_a,person_b,kind\n" + "\n".join(rows) + "\n")
    assert main(_args(files, "replan", "--plan", str(files["plan"]), "--links", str(links),
                      "--max-moves", "0")) == 3
    assert "at most 0 moves: at least" in capsys.readouterr().err
