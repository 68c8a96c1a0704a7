"""The command line's gaps and validate verbs and plan's search options."""

# ruff: noqa: E501  (tables of expected messages read best one per line)

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cohortmatch as cm
from cohortmatch.cli import EXIT_BROKEN, main
from cohortmatch.io import read_gaps, write_org

# Krackhardt's managers: four departments and the CEO; a small advice log between them
LOG = [("m01", "m02", 3), ("m01", "m07", 1), ("m02", "m20", 2), ("m03", "m10", 5), ("m06", "m13", 1),
       ("m07", "m14", 4), ("m09", "m17", 1), ("m11", "m19", 2)]


@pytest.fixture()
def org_files(tmp_path: Path) -> dict[str, Path]:
    org = cm.datasets.krackhardt_hightech()
    paths = write_org(org, tmp_path)
    paths["interactions"] = tmp_path / "interactions.csv"
    paths["interactions"].write_text("person_a,person_b,count\n" + "".join(f"{a},{b},{n}\n" for a, b, n in LOG))
    paths["courses"] = tmp_path / "courses.csv"
    paths["courses"].write_text("id,min_size,max_size\nadvice,5,6\n")
    return paths


def _gaps_args(f, *extra):
    return ["gaps", "--interactions", str(f["interactions"]), "--people", str(f["people"]), *extra]


def _exit_code(argv) -> int:
    """main's exit code, also when argparse itself rejects a value (SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


def _org_args(f):
    return ["--people", str(f["people"]), "--gaps", str(f["gaps"]), "--teams", str(f["teams"]),
            "--courses", str(f["courses"])]


# --- gaps --------------------------------------------------------------------------------


def test_gaps_writes_the_gaps_of_gaps_from_interactions_and_prints_the_ties(org_files, tmp_path, capsys):
    org = cm.datasets.krackhardt_hightech()
    out = tmp_path / "new_gaps.csv"
    assert main(_gaps_args(org_files, "--out", str(out))) == 0
    text = capsys.readouterr().out
    expected = cm.gaps_from_interactions(LOG, org)
    assert read_gaps(out) == tuple(expected)
    ties = cm.tie_strengths(LOG, org)
    s0 = cm.interactions.half_saturation(ties)
    assert f"s0 = {s0:.6g}, the median strength" in text
    assert "dept1 <-> dept4: strength" in text and f"{len(expected)} gap(s)" in text
    assert f"gaps written to {out}" in text
    assert main(_gaps_args(org_files, "--json")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["level"] == "person" and doc["s0"] == pytest.approx(s0) and doc["out"] is None
    assert {(t["team_a"], t["team_b"]): t["strength"] for t in doc["ties"]} == pytest.approx(
        {(a, b): d["strength"] for a, b, d in ties.edges(data=True)})
    assert [(g["team_a"], g["team_b"]) for g in doc["gaps"]] == [(g.a, g.b) for g in expected]


def test_gaps_with_need_purpose_s0_min_weight_and_team_level(org_files, tmp_path, capsys):
    org = cm.datasets.krackhardt_hightech()
    need = tmp_path / "need.csv"
    need.write_text("team_a,team_b,need\ndept1,dept2,2\ndept3,dept4,\nceo,dept1,0\n")
    purpose = tmp_path / "purpose.csv"
    purpose.write_text("team_a,team_b,purpose\ndept2,dept1,repair\n")
    out = tmp_path / "g.xlsx"
    assert main(_gaps_args(org_files, "--need", str(need), "--purpose", str(purpose), "--s0", "0.5",
                           "--out", str(out), "--json")) == 0
    doc = json.loads(capsys.readouterr().out)
    expected = cm.gaps_from_interactions(LOG, org, need={("dept1", "dept2"): 2.0, ("dept3", "dept4"): 1.0},
                                         purpose={("dept1", "dept2"): "repair"}, s0=0.5)
    written = read_gaps(out)  # Excel keeps 15 significant digits
    assert [(g.a, g.b, g.purpose) for g in written] == [(g.a, g.b, g.purpose) for g in expected]
    assert [g.weight for g in written] == pytest.approx([g.weight for g in expected], rel=1e-14)
    assert doc["s0"] == 0.5 and not doc["s0_default"]
    assert [g.purpose for g in expected] == ["repair", "build"]  # the zero need gives no gap
    assert main(_gaps_args(org_files, "--purpose", "knowledge", "--min-weight", "0.9", "--json")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["gaps"] and all(g["purpose"] == "knowledge" and g["weight"] > 0.9 for g in doc["gaps"])
    teams_log = tmp_path / "team_log.csv"
    teams_log.write_text("team_a,team_b,count\ndept1,dept2,10\n")
    assert main(["gaps", "--interactions", str(teams_log), "--people", str(org_files["people"]), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["level"] == "team" and [(t["team_a"], t["team_b"]) for t in doc["ties"]] == [("dept1", "dept2")]


@pytest.mark.parametrize(
    ("table", "text", "match"),
    [
        ("interactions", "person_a,person_b\nm01,m99\n", r"interactions.csv, row 2, column 'person_b': unknown person 'm99'"),
        ("interactions", "person_a,person_b,count\nm01,m02,3\nm01,m03,-1\n", r"interactions.csv, row 3, column 'count': must be >= 0; got '-1'"),
        ("interactions", "person_a,person_b,count\nm01,m02,lots\n", r"interactions.csv, row 2, column 'count': must be a number; got 'lots'"),
        ("interactions", "person_a,person_b\nm01,\n", r"interactions.csv, row 2, column 'person_b': the cell is empty"),
        ("interactions", "person_a,person_b,cuont\nm01,m02,3\n", r"interactions.csv, column 'cuont': unknown column"),
        ("interactions", "person_a,count\nm01,3\n", r"interactions.csv: missing column 'person_b'"),
        ("interactions", "from,to\nm01,m02\n", r"interactions.csv: name the columns person_a, person_b"),
        ("interactions", "team_a,team_b\ndept1,sales\n", r"interactions.csv, row 2, column 'team_b': unknown team 'sales'"),
        ("need", "team_a,team_b,need\ndept1,dept2,1\ndept2,dept1,2\n", r"need.csv, row 3, column 'team_a': the pair 'dept2'-'dept1' is given twice \(first in row 2\)"),
        ("need", "team_a,team_b,need\ndept1,dept1,1\n", r"need.csv, row 2, column 'team_b': a team cannot be paired with itself"),
        ("need", "team_a,team_b,need\ndept1,dept2,inf\n", r"need.csv, row 2, column 'need': must be a finite number"),
        ("purpose", "team_a,team_b,purpose\ndept1,dept2,fun\n", r"purpose.csv, row 2, column 'purpose': unknown purpose 'fun'"),
        ("purpose", "team_a,team_b\ndept1,dept2\n", r"purpose.csv: missing column 'purpose'"),
    ],
)
def test_gaps_bad_tables_exit_2_naming_file_row_and_column(org_files, tmp_path, capsys, table, text, match):
    path = tmp_path / f"{table}.csv"
    path.write_text(text)
    extra = [] if table == "interactions" else [f"--{table}", str(path)]
    assert main(_gaps_args(org_files, *extra)) == 2
    err = capsys.readouterr().err
    assert re.search(match, err), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--s0", "0"], r"argument --s0: must be a finite number > 0; got '0'"),
        (["--s0", "nan"], r"argument --s0: must be a finite number > 0; got 'nan'"),
        (["--min-weight", "-1"], r"argument --min-weight: must be a finite number >= 0; got '-1'"),
        (["--top", "x"], r"argument --top: must be a whole number; got 'x'"),
        (["--out", "gaps.json"], r"--out gaps.json: use a file ending in .csv or .xlsx"),
        (["--out", "no-such-folder/gaps.csv"], r"--out no-such-folder/gaps.csv: the folder "
                                                r"no-such-folder does not exist"),
        (["--teams", "nowhere.csv"], r"nowhere.csv: no such file"),
        (["--purpose", "buidl"], r"purpose 'buidl': neither a purpose \(build, repair, .*\) nor a purpose table file"),
    ],
)
def test_gaps_bad_options_exit_2_naming_the_option(org_files, capsys, args, match):
    assert _exit_code(_gaps_args(org_files, *args)) == 2
    assert re.search(match, capsys.readouterr().err)


def test_gaps_needs_its_required_options(org_files, capsys):
    assert main(["gaps", "--people", str(org_files["people"])]) == 2
    assert "the following arguments are required: --interactions" in capsys.readouterr().err


# --- plan's search options -----------------------------------------------------------------


def test_plan_work_limit_json_is_byte_identical_and_options_reach_the_planner(org_files, capsys):
    args = ["plan", *_org_args(org_files), "--work-limit", "2000", "--json"]
    outputs = []
    for _ in range(2):
        assert main(args) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    doc = json.loads(outputs[0])
    assert doc["seed"] == 0 and "elapsed" not in doc  # repeatable: seed 0, no wall clock
    done = subprocess.run([sys.executable, "-m", "cohortmatch.cli", *args], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout == outputs[0]  # and in a fresh process
    assert main(["plan", *_org_args(org_files), "--solver", "heuristic", "--work-limit", "500",
                 "--workers", "1", "--seed", "4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["solver"] == "heuristic" and doc["seed"] == 4
    assert main(["plan", *_org_args(org_files), "--time-limit", "0.5", "--solver", "lns", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["solver"] == "lns" and doc["elapsed"] > 0 and doc["seed"] is None


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--solver", "fastest"], r"argument --solver: invalid choice: 'fastest'"),
        (["--workers", "0"], r"argument --workers: must be in 1\.\.2147483647; got 0"),
        (["--workers", "two"], r"argument --workers: must be a whole number; got 'two'"),
        (["--work-limit", "-5"], r"argument --work-limit: must be >= 0; got -5"),
        (["--work-limit", "1e3"], r"argument --work-limit: must be a whole number; got '1e3'"),
        (["--time-limit", "0"], r"argument --time-limit: must be a finite number > 0; got '0'"),
        (["--time-limit", "inf"], r"argument --time-limit: must be a finite number > 0; got 'inf'"),
        (["--solver", "golfer", "--work-limit", "10"], r"The 'solver' 'golfer' cannot plan this request: it needs a policy with max_meetings"),
    ],
)
def test_plan_bad_search_options_exit_2_naming_the_option(org_files, capsys, args, match):
    assert _exit_code(["plan", *_org_args(org_files), *args]) == 2
    err = capsys.readouterr().err
    assert re.search(match, err), err


# --- validate ------------------------------------------------------------------------------


@pytest.fixture()
def plan_file(org_files, tmp_path) -> Path:
    out = tmp_path / "plan.json"
    assert main(["plan", *_org_args(org_files), "--work-limit", "500", "--out", str(out), "--quiet"]) == 0
    return out


def test_validate_exits_0_for_a_valid_plan_and_4_for_broken_rules(org_files, plan_file, tmp_path, capsys):
    capsys.readouterr()
    assert main(["validate", "--plan", str(plan_file), *_org_args(org_files)]) == 0
    assert "keeps every hard rule" in capsys.readouterr().out
    assert main(["validate", "--plan", str(plan_file), *_org_args(org_files), "--max-per-team", "1"]) == EXIT_BROKEN == 4
    text = capsys.readouterr().out
    assert re.search(r"breaks \d+ hard rule\(s\):\n  - cohort 'advice-\d': \d members of team '[a-z0-9]+', max_per_team is 1", text)
    doc = json.loads(plan_file.read_text())
    doc["cohorts"][0]["members"] = doc["cohorts"][0]["members"][1:]  # someone is lost
    doc["cohorts"][0]["teams"] = doc["cohorts"][0]["teams"][1:]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    assert main(["validate", "--plan", str(broken), *_org_args(org_files), "--json"]) == 4
    out = json.loads(capsys.readouterr().out)
    assert not out["valid"] and any("is missing from course 'advice' round 0" in v for v in out["violations"])
    request = tmp_path / "request.json"
    org = cm.datasets.krackhardt_hightech()
    from cohortmatch.io import Request

    request.write_text(Request(org=org, courses=(cm.Course(id="advice", min_size=5, max_size=6),)).to_json())
    assert main(["validate", "--plan", str(plan_file), "--request", str(request), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"valid": True, "violations": [], "cohorts": 4, "unassigned": 0}


def test_validate_counts_the_history(org_files, plan_file, capsys):
    args = ["validate", "--plan", str(plan_file), *_org_args(org_files), "--max-meetings", "1"]
    assert main(args) == 0
    assert main([*args, "--history", str(plan_file)]) == 4  # the same cohorts again: everyone meets twice
    assert "meet 2 times, max_meetings is 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "name", "match"),
    [
        (None, "missing.json", r"--plan .*missing.json: no such file"),
        ("person,cohort\nm01,A\n", "plan.csv", r"--plan .*plan.csv: give the plan as JSON"),
        ("{not json", "bad.json", r"bad.json, line 1, column 2: not valid JSON"),
        ('{"cohorts": [], "status": "feasible"}', "short.json", r"short.json, metrics: Field required"),
        ('{"cohorts": [{"id": "k", "course": "advice", "members": ["m01"], "teams": ["a"], "size": 3}], '
         '"status": "feasible", "metrics": {}}', "extra.json", r"extra.json, cohorts\[0\].size \(id 'k'\): Extra inputs are not permitted"),
    ],
)
def test_validate_bad_plan_files_exit_2(org_files, tmp_path, capsys, content, name, match):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    assert main(["validate", "--plan", str(path), *_org_args(org_files)]) == 2
    err = capsys.readouterr().err
    assert re.search(match, err), err


def test_validate_needs_the_courses(org_files, plan_file, capsys):
    assert main(["validate", "--plan", str(plan_file), "--people", str(org_files["people"]),
                 "--gaps", str(org_files["gaps"])]) == 2
    assert "missing --courses (or give --request FILE.json)" in capsys.readouterr().err
