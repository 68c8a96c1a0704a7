"""Tables in: people, teams, gaps, courses and groupings from CSV, Excel and DataFrames."""

# ruff: noqa: E501  (tables of expected messages read best one per line)

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.errors import InputError, InputWarning
from cohortmatch.io import (
    Request,
    grouping_plan,
    load_table,
    read_courses,
    read_gaps,
    read_grouping,
    read_org,
    read_people,
    read_request,
    read_teams,
    request_from_tables,
    request_schema,
    select_participants,
    write_org,
    write_plan,
)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


PEOPLE = """id,team,manager,level,interest:presenting
p1,mkt,,manager,0.9
p2,mkt,p1,staff,
p3,prod,,manager,0.2
p4,prod,p3,staff,1
"""
GAPS = "team_a,team_b,weight,purpose\nmkt,prod,3,repair\n"


def test_people_csv_columns_become_fields_attributes_and_interests(tmp_path):
    people = read_people(_write(tmp_path / "people.csv", PEOPLE))
    assert [p.id for p in people] == ["p1", "p2", "p3", "p4"]
    assert people[1].manager == "p1" and people[0].manager is None
    assert people[0].attributes == {"level": "manager"}
    assert people[0].interests == {"presenting": 0.9}
    assert people[1].interests == {}
    assert people[3].interests == {"presenting": 1.0}


def test_semicolon_csv_and_bom_and_case_insensitive_headers(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes("\ufeffID;Team\np1;a\np2;b\n".encode())
    assert [(p.id, p.team) for p in read_people(path)] == [("p1", "a"), ("p2", "b")]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("id,manager\np1,\n", r"people.csv: missing column 'team'"),
        ("id,team\np1,a\np1,b\n", r"people.csv, row 3, column 'id': 'p1' is given twice \(first in row 2\)"),
        ("id,team\np1,a\n,b\n", r"people.csv, row 3, column 'id': the cell is empty"),
        ("id,team,manager\np1,a,p9\n", r"people.csv, row 2, column 'manager': unknown person 'p9'"),
        ("id,team,manager\np1,a,p1\n", r"row 2, column 'manager': a person cannot manage themself"),
        ("id,team,interest:x\np1,a,2\n", r"row 2, column 'interest:x': must be <= 1"),
        ("id,team,interest:x\np1,a,lots\n", r"row 2, column 'interest:x': must be a number; got 'lots'"),
        ("id,team,interest:\np1,a,1\n", r"column 'interest:': name the course"),
        ("id,team,team\np1,a,b\n", r"column 'team' appears twice"),
        ("", r"people.csv: the file is empty"),
        ("id,team\np1,a,extra\n", r"row 2: a value in column 3, which has no name in the header row \(row 1\)"),
    ],
)
def test_people_errors_name_file_row_and_column(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        read_people(_write(tmp_path / "people.csv", text))


def test_missing_file_and_unknown_type(tmp_path):
    with pytest.raises(InputError, match=r"nope.csv: no such file"):
        read_people(tmp_path / "nope.csv")
    with pytest.raises(InputError, match=r"unknown file type '.ods'"):
        read_people(_write(tmp_path / "people.ods", "x"))
    with pytest.raises(InputError, match=r"must be a path .* or a pandas DataFrame; got int"):
        read_people(3)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("team_a,team_b,weight\nmkt,prod,lots\n", r"gaps.csv, row 2, column 'weight': must be a number; got 'lots'"),
        ("team_a,team_b,weight\nmkt,prod,0\n", r"row 2, column 'weight': must be > 0"),
        ("team_a,team_b,weight\nmkt,prod,inf\n", r"row 2, column 'weight': must be a finite number"),
        ("team_a,team_b\nmkt,ops\n", r"gaps.csv, row 2, column 'team_b': unknown team 'ops' \(not in the teams of"),
        ("team_a,team_b\nmkt,mkt\n", r"row 2, column 'team_b': a team cannot have a gap with itself"),
        ("team_a,team_b\nmkt,prod\nprod,mkt\n", r"row 3, column 'team_a': the gap 'prod'-'mkt' is given twice \(first in row 2\)"),
        ("team_a,team_b,purpose\nmkt,prod,fun\n", r"row 2, column 'purpose': unknown purpose 'fun'"),
        ("team_a,weight\nmkt,1\n", r"gaps.csv: missing column 'team_b'"),
        ("team_a,team_b,wieght\nmkt,prod,1\n", r"gaps.csv, column 'wieght': unknown column"),
    ],
)
def test_gap_errors_name_file_row_and_column(tmp_path, text, match):
    people = _write(tmp_path / "people.csv", PEOPLE)
    with pytest.raises(InputError, match=match):
        read_org(people, _write(tmp_path / "gaps.csv", text))


def test_gap_defaults_weight_one_and_purpose_build(tmp_path):
    gaps = read_gaps(_write(tmp_path / "g.csv", "team_a,team_b\na,b\n"))
    assert (gaps[0].weight, gaps[0].purpose) == (1.0, "build")


def test_teams_table_checks_people_and_parents(tmp_path):
    people = _write(tmp_path / "people.csv", PEOPLE)
    gaps = _write(tmp_path / "gaps.csv", GAPS)
    teams = _write(tmp_path / "teams.csv", "id,name,parent\ncom,Commercial,\nmkt,Marketing,com\n")
    with pytest.raises(InputError, match=r"people.csv, row 4, column 'team': unknown team 'prod' \(not in .*teams.csv\)"):
        read_org(people, gaps, teams)
    bad = _write(tmp_path / "t2.csv", "id,parent\nmkt,xx\n")
    with pytest.raises(InputError, match=r"t2.csv, row 2, column 'parent': unknown team 'xx'"):
        read_teams(bad)
    ok = _write(tmp_path / "t3.csv", "id,name,parent\ncom,Commercial,\nmkt,,com\nprod,,com\n")
    org = read_org(people, gaps, ok)
    assert {t.id: t.parent for t in org.teams} == {"com": None, "mkt": "com", "prod": "com"}
    assert org.gaps[0].purpose == "repair"


def test_courses_table_sizes_cohorts_rounds_and_participants(tmp_path):
    people = read_people(_write(tmp_path / "people.csv", PEOPLE))
    courses = read_courses(
        _write(
            tmp_path / "courses.csv",
            "id,min_size,max_size,cohorts,participants,rounds\n"
            "presenting,2,2,2,,\nwellbeing,2,2,,level=manager,3\nlist,1,2,,p2; p4,\n",
        ),
        people=people,
    )
    assert courses[0].cohorts == 2 and courses[0].participants is None
    assert courses[1].participants == ("p1", "p3") and courses[1].rounds == 3
    assert courses[2].participants == ("p2", "p4")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("id,min_size,max_size\nc,8,6\n", r"row 2, column 'max_size': must be >= min_size \(8\); got 6"),
        ("id,min_size,max_size\nc,2.5,6\n", r"row 2, column 'min_size': must be a whole number"),
        ("id,min_size,max_size\nc,0,6\n", r"row 2, column 'min_size': must be >= 1"),
        ("id,min_size,max_size\nc,1,\n", r"row 2, column 'max_size': the cell is empty"),
        ("id,min_size,max_size\nc,1,2\nc,1,2\n", r"row 3, column 'id': 'c' is given twice"),
        ("id,min_size,max_size,participants\nc,1,2,level=boss\n", r"row 2, column 'participants': the filter 'level=boss' selects nobody"),
        ("id,min_size,max_size,participants\nc,1,2,lvl=x\n", r"column 'participants': no person has the attribute 'lvl'"),
        ("id,min_size,max_size,participants\nc,1,2,p1;p9\n", r"column 'participants': unknown person 'p9'"),
        ("id,min_size,max_size,cohort\nc,1,2,3\n", r"column 'cohort': unknown column; did you mean 'cohorts'"),
        ("id,min_size,max_size\n", r"no courses"),
    ],
)
def test_course_errors_name_file_row_and_column(tmp_path, text, match):
    people = read_people(_write(tmp_path / "people.csv", PEOPLE))
    with pytest.raises(InputError, match=match):
        read_courses(_write(tmp_path / "courses.csv", text), people=people)


def test_participant_filter_without_people_is_an_error(tmp_path):
    path = _write(tmp_path / "c.csv", "id,min_size,max_size,participants\nc,1,2,level=x\n")
    with pytest.raises(InputError, match=r"needs the people table"):
        read_courses(path)


def test_select_participants_negation_and_any_of():
    people = [cm.Person(id=f"p{i}", team="ab"[i % 2], attributes={"n": i}) for i in range(6)]
    assert select_participants("team!=a", people) == ("p1", "p3", "p5")
    assert select_participants("n=0|4 & team=a", people) == ("p0", "p4")
    with pytest.raises(cm.InputError, match="listed twice"):
        select_participants("p1;p1", people)
    with pytest.raises(cm.InputError, match="cannot read the condition"):
        select_participants("=x", people)


def test_excel_and_dataframe_read_like_csv(tmp_path):
    df = pd.read_csv(_write(tmp_path / "people.csv", PEOPLE))
    from_frame = read_people(df)
    xlsx = tmp_path / "hr.xlsx"
    with pd.ExcelWriter(xlsx) as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="notes", index=False)
        df.to_excel(writer, sheet_name="people", index=False)
    from_excel = read_people(xlsx)
    assert from_frame == from_excel == read_people(tmp_path / "people.csv")


def test_excel_error_names_the_sheet_row(tmp_path):
    xlsx = tmp_path / "gaps.xlsx"
    pd.DataFrame({"team_a": ["mkt", "mkt"], "team_b": ["prod", "prod"], "weight": [1, "x"]}).to_excel(
        xlsx, index=False
    )
    with pytest.raises(InputError, match=r"gaps.xlsx, sheet 'Sheet1', row 3, column 'weight': must be a number"):
        read_gaps(xlsx)
    broken = _write(tmp_path / "broken.xlsx", "not a zip")
    with pytest.raises(InputError, match=r"not a readable .xlsx workbook"):
        read_gaps(broken)


def test_dataframe_with_numeric_ids_and_nan_cells():
    df = pd.DataFrame({"id": [101, 102], "team": ["a", "b"], "manager": [None, 101.0],
                       "score": [1.5, float("nan")]})
    people = read_people(df)
    assert [p.id for p in people] == ["101", "102"]
    assert people[1].manager == "101" and people[1].attributes == {}
    assert people[0].attributes == {"score": 1.5}


def test_load_table_skips_blank_rows(tmp_path):
    t = load_table(_write(tmp_path / "x.csv", "id,team\np1,a\n,\n\np2,b\n"))
    assert t.rows == (("p1", "a"), ("p2", "b"))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["x", "z w", "007", 3, -0.5])),
        min_size=2, max_size=12,
    ),
    st.sampled_from(["csv", "xlsx"]),
)
def test_org_round_trips_through_tables(tmp_path_factory, rows, fmt):
    people = [cm.Person(id=f"e{i:03d}", team=t, manager="e000" if i else None,
                        attributes={"site": s}, interests={"c": 0.5} if i % 2 else {})
              for i, (t, s) in enumerate(rows)]
    teams = sorted({p.team for p in people})
    gaps = [cm.Gap(a=teams[0], b=teams[-1], weight=2.5, purpose="knowledge")] if len(teams) > 1 else []
    org = cm.Organisation(people=people, gaps=gaps)
    out = tmp_path_factory.mktemp("org")
    paths = write_org(org, out, fmt=fmt)
    back = read_org(paths["people"], paths["gaps"], paths["teams"])
    assert back == org


def test_request_json_and_schema(tmp_path):
    schema = request_schema()
    assert schema["title"] == "cohortmatch request"
    assert set(schema["required"]) == {"org", "courses"}
    req = request_from_tables(
        _write(tmp_path / "people.csv", PEOPLE), _write(tmp_path / "gaps.csv", GAPS),
        _write(tmp_path / "courses.csv", "id,min_size,max_size\npresenting,2,2\n"),
    )
    path = _write(tmp_path / "request.json", req.to_json())
    assert read_request(path) == req
    doc = json.loads(req.to_json())
    doc["org"]["people"][2]["team"] = ""
    with pytest.raises(InputError, match=r"r.json, org.people\[2\].team \(id 'p3'\): .*non-empty"):
        read_request(_write(tmp_path / "r.json", json.dumps(doc)))
    doc = json.loads(req.to_json())
    doc["courses"][0]["max_size"] = "big"
    with pytest.raises(InputError, match=r"courses\[0\].max_size \(id 'presenting'\): Input should be a valid integer"):
        read_request(doc)
    with pytest.raises(InputError, match=r"bad.json, line 1, column 2: not valid JSON"):
        read_request(_write(tmp_path / "bad.json", "{x"))
    with pytest.raises(InputError, match=r"unknown team 'nope'"):
        doc = json.loads(req.to_json())
        doc["org"]["people"][0]["team"] = "nope"
        doc["org"]["teams"] = [{"id": "mkt"}, {"id": "prod"}]
        read_request(doc)
    assert isinstance(req, Request)


def _org():
    return cm.Organisation(
        people=[cm.Person(id=f"p{i}", team="abcd"[i % 4]) for i in range(8)],
        gaps=[cm.Gap(a="a", b="b", weight=3.0), cm.Gap(a="c", b="d", weight=1.0)],
    )


def test_grouping_plan_scores_like_the_scoring_core(tmp_path):
    org = _org()
    path = _write(tmp_path / "g.csv", "person,cohort,name\n" + "".join(
        f"p{i},{'XY'[i // 4]},someone\n" for i in range(8)))
    with pytest.warns(InputWarning, match="column 'name': not a column of the grouping table"):
        grouping = read_grouping(path)
    gp = grouping_plan(grouping, org)
    assert gp.labels == {"course-1": "X", "course-2": "Y"}
    assert gp.plan.metrics.coverage == 1.0 and gp.plan.metrics.objective == 4.0
    assert gp.violations == []
    assert cm.validate(gp.plan, org, gp.courses) == []
    # a plan written as CSV reads back as the same grouping
    out = write_plan(gp.plan, tmp_path / "plan.csv")
    again = grouping_plan(read_grouping(out), org, gp.courses)
    assert again.plan.metrics == gp.plan.metrics


def test_grouping_errors_name_row_and_column(tmp_path):
    org = _org()
    courses = [cm.Course(id="c", min_size=4, max_size=4)]
    cases = [
        ("person,cohort\np1,A\np1,B\n", r"g.csv, row 3, column 'person': 'p1' is placed twice"),
        ("person,cohort\np99,A\n", r"g.csv, row 2, column 'person': unknown person 'p99'"),
        ("person,cohort,course\np1,A,zz\n", r"row 2, column 'course': unknown course 'zz'"),
        ("person,cohort,round\np1,A,1\n", r"row 2, column 'round': course 'c' has rounds 0..0"),
        ("person,cohort\n" + "".join(f"p{i},{i}\n" for i in range(3)),
         r"g.csv: course 'c' has 3 cohorts in a round of the grouping, more than its 8 "
         r"participants can fill to min_size 4"),
        ("person,team\np1,a\n", r"g.csv: missing column 'cohort'"),
    ]
    for text, match in cases:
        with pytest.raises(InputError, match=match):
            grouping_plan(read_grouping(_write(tmp_path / "g.csv", text)), org, courses)


def test_grouping_with_rule_breaks_lists_them():
    org = cm.Organisation(
        people=[cm.Person(id="m", team="a"), cm.Person(id="r", team="b", manager="m"),
                cm.Person(id="x", team="a"), cm.Person(id="y", team="b")],
        gaps=[cm.Gap(a="a", b="b")],
    )
    from cohortmatch.io import Grouping

    g = Grouping("g.csv", ("m", "r", "x", "y"), ("A", "A", "B", "B"), (None,) * 4, (0,) * 4)
    gp = grouping_plan(g, org, policy=cm.Policy(max_per_team=1))
    assert "cohort 'A': 'r' sits with their manager 'm'" in gp.violations
    assert gp.plan.metrics.coverage == 1.0


def test_plan_to_frame_and_excel_export(tmp_path):
    org = _org()
    courses = [cm.Course(id="c", min_size=4, max_size=4)]
    plan = cm.plan(org, courses, time_limit=None, work_limit=500, seed=1)
    assert cm.validate(plan, org, courses) == []
    df = plan.to_frame()
    assert list(df.columns) == ["person", "cohort", "course", "round", "team"]
    assert len(df) == 8 and set(df["person"]) == {f"p{i}" for i in range(8)}
    xlsx = write_plan(plan, tmp_path / "plan.xlsx")
    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert set(sheets) == {"cohorts", "bridges", "metrics", "unassigned"}
    assert len(sheets["cohorts"]) == 8
    metrics = dict(zip(sheets["metrics"]["metric"], sheets["metrics"]["value"], strict=True))
    assert float(metrics["coverage"]) == plan.metrics.coverage
    js = write_plan(plan, tmp_path / "plan.json")
    assert cm.Plan.from_json(js.read_text()) == plan
    with pytest.raises(InputError, match=r"unknown plan format '.txt'"):
        write_plan(plan, tmp_path / "plan.txt")


def test_table_writers_create_no_folders(tmp_path):
    """write_gaps, write_changes and write_grouping share one writer: a missing folder is
    an error naming it, and nothing is created."""
    from cohortmatch.io import Grouping, write_changes, write_gaps, write_grouping

    plan = cm.plan(cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4)]),
                   [cm.Course(id="c", min_size=2, max_size=2)], time_limit=None, work_limit=200, seed=0)
    grouping = Grouping("g", ("p1",), ("A",), (None,), (0,))
    missing = tmp_path / "no-such-folder"
    for write, what in ((lambda p: write_gaps([cm.Gap(a="a", b="b")], p), "gaps"),
                        (lambda p: write_changes(plan, p), "changes"),
                        (lambda p: write_grouping(grouping, p), "grouping")):
        with pytest.raises(cm.InputError, match="the folder .*no-such-folder does not exist"):
            write(missing / f"{what}.csv")
        with pytest.raises(cm.InputError, match=f"the {what} table is written as .csv or .xlsx"):
            write(tmp_path / f"{what}.txt")
        assert write(tmp_path / f"{what}.xlsx").exists()
    assert not missing.exists()
