"""Links and pins in files: the links table, the courses table's pinned column, the CLI's
``--links`` and the JSON request."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import cohortmatch as cm
from cohortmatch.cli import main
from cohortmatch.io import read_courses, read_links, read_org, read_request, request_schema


@pytest.fixture()
def org_files(tmp_path: Path) -> dict[str, Path]:
    people = ["id,team,manager"] + [f"p{i},{'abc'[i % 3]}," for i in range(12)]
    paths = {n: tmp_path / f"{n}.csv" for n in ("people", "gaps", "courses", "links")}
    paths["people"].write_text("\n".join(people) + "\n")
    paths["gaps"].write_text("team_a,team_b,weight\na,b,2\nb,c,1\n")
    paths["courses"].write_text("id,min_size,max_size,pinned\nx,4,4,p0=x-2; p3=x-1\n")
    paths["links"].write_text("person_a,person_b,kind\np0,p1,together\np1,p2,Together\np4,p5,apart\n")
    return paths


def test_links_table_and_pinned_column_reach_the_plan(org_files, tmp_path, capsys):
    org = read_org(org_files["people"], org_files["gaps"])
    courses = read_courses(org_files["courses"], people=org.people)
    assert courses[0].pinned == {"p0": "x-2", "p3": "x-1"}
    links = read_links(org_files["links"], people=org.people)
    assert links.together == (("p0", "p1"), ("p1", "p2")) and links.apart == (("p4", "p5"),)
    out = tmp_path / "plan.json"
    assert main(["plan", "--people", str(org_files["people"]), "--gaps", str(org_files["gaps"]),
                 "--courses", str(org_files["courses"]), "--links", str(org_files["links"]),
                 "--time-limit", "5", "--seed", "1", "--out", str(out), "--json"]) == 0
    plan = cm.Plan.from_json(out.read_text())
    request = cm.Request(org=org, courses=courses, policy=links.apply(cm.Policy()))
    assert cm.validate(plan, request) == []
    second = set(plan.cohort("x-2").members)
    assert {"p0", "p1", "p2"} <= second and "p3" in plan.cohort("x-1").members


@pytest.mark.parametrize(("table", "message"), [
    ("person_a,person_b,kind\np0,p99,apart\n", r"links.csv, row 2, column 'person_b': unknown person 'p99'"),
    ("person_a,person_b,kind\np0,p0,apart\n", r"links.csv, row 2, column 'person_b': 'p0' is linked to themself"),
    ("person_a,person_b,kind\np0,p1,friends\n", r"links.csv, row 2, column 'kind': must be 'together' or 'apart'"),
    ("person_a,person_b\np0,p1\n", r"links.csv: missing column 'kind'"),
])
def test_bad_links_exit_2_naming_file_row_and_column(org_files, capsys, table, message):
    org_files["links"].write_text(table)
    code = main(["plan", "--people", str(org_files["people"]), "--gaps", str(org_files["gaps"]),
                 "--courses", str(org_files["courses"]), "--links", str(org_files["links"]),
                 "--time-limit", "1"])
    assert code == 2
    assert pytest.importorskip("re").search(message, capsys.readouterr().err)


@pytest.mark.parametrize(("cell", "message"), [
    ("p0", r"column 'pinned': expected person=cohort entries"),
    ("p99=x-1", r"column 'pinned': unknown person 'p99'"),
])
def test_bad_pinned_cells(org_files, cell, message):
    org = read_org(org_files["people"], org_files["gaps"])
    with pytest.raises(cm.InputError, match=message):
        read_courses(pd.DataFrame({"id": ["x"], "min_size": [4], "max_size": [4], "pinned": [cell]}),
                     people=org.people)


def test_a_pin_to_a_cohort_that_does_not_exist_exits_2(org_files, capsys):
    org_files["courses"].write_text("id,min_size,max_size,pinned\nx,4,4,p0=x-7\n")
    assert main(["plan", "--people", str(org_files["people"]), "--gaps", str(org_files["gaps"]),
                 "--courses", str(org_files["courses"]), "--time-limit", "1"]) == 2
    assert "course 'x', field 'pinned': 'p0' is pinned to 'x-7'" in capsys.readouterr().err


def test_contradicting_links_exit_3_with_the_rule(org_files, capsys):
    org_files["links"].write_text("person_a,person_b,kind\np0,p1,together\np0,p1,apart\n")
    assert main(["plan", "--people", str(org_files["people"]), "--gaps", str(org_files["gaps"]),
                 "--courses", str(org_files["courses"]), "--links", str(org_files["links"]),
                 "--time-limit", "1"]) == 3
    assert "must share a cohort, but 'p0' and 'p1' must be apart" in capsys.readouterr().err


def test_json_request_holds_links_and_pins_and_its_schema_says_so(tmp_path):
    doc = {
        "org": {"people": [{"id": f"p{i}", "team": "ab"[i % 2]} for i in range(8)]},
        "courses": [{"id": "x", "min_size": 4, "max_size": 4, "pinned": {"p0": "x-2"}}],
        "policy": {"keep_together": [["p0", "p2"]], "keep_apart": [["p4", "p6"]]},
    }
    path = tmp_path / "request.json"
    path.write_text(json.dumps(doc))
    request = read_request(path)
    assert request.policy.keep_apart == (("p4", "p6"),)
    plan = cm.plan(request, time_limit=None, work_limit=500, seed=0)
    assert {"p0", "p2"} <= set(plan.cohort("x-2").members)
    assert cm.validate(plan, request) == []
    assert json.loads(request.to_json())["policy"]["keep_together"] == [["p0", "p2"]]
    schema = request_schema()
    policy = schema["$defs"]["Policy"]["properties"]
    assert {"keep_together", "keep_apart", "mode"} <= set(policy)
    assert "pinned" in schema["$defs"]["Course"]["properties"]
    doc["policy"]["keep_apart"] = [["p4", "zz"]]
    path.write_text(json.dumps(doc))
    with pytest.raises(cm.InputError, match=r"field 'keep_apart' \(group 1\): unknown person 'zz'"):
        cm.plan(read_request(path), time_limit=1)
