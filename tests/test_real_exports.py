"""Real HR exports: European CSV, title rows, workbooks with several sheets, stray columns,
broken quoting and encodings. Each is read, or refused with the file, sheet, row and column."""

# ruff: noqa: E501  (tables of expected messages read best one per line)

from __future__ import annotations

import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cohortmatch.errors import InputError, InputWarning
from cohortmatch.io import (
    TableFile,
    load_table,
    read_courses,
    read_gaps,
    read_grouping,
    read_org,
    read_people,
    read_teams,
)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


# --- European CSV --------------------------------------------------------------------------


def test_semicolon_files_read_decimal_commas(tmp_path):
    gaps = read_gaps(_write(tmp_path / "gaps.csv", "team_a;team_b;weight;purpose\nmkt;prod;2,5;repair\nmkt;ops;-0,5;build\n"
                            .replace("-0,5", "0,75")))
    assert [g.weight for g in gaps] == [2.5, 0.75]
    people = read_people(_write(tmp_path / "people.csv", "id;team;fte;interest:intro\np1;mkt;0,8;0,5\np2;prod;1;\n"))
    assert people[0].attributes == {"fte": 0.8} and people[0].interests == {"intro": 0.5}
    assert people[1].attributes == {"fte": 1}


def test_tab_separated_and_utf16_exports_are_read(tmp_path):
    text = "id\tteam\tmanager\np1\tmkt\t\np2\tprod\tp1\n"
    for name, encoding in (("people.txt", "utf-8"), ("people-utf16.txt", "utf-16")):
        people = read_people(_write(tmp_path / name, text, encoding))
        assert [(p.id, p.team, p.manager) for p in people] == [("p1", "mkt", None), ("p2", "prod", "p1")]


# --- title rows and the header ---------------------------------------------------------------


def test_the_header_is_found_below_title_rows(tmp_path):
    path = _write(tmp_path / "people.csv", "Staff list, May 2025\n\nExported by HR\nid,team,manager\np1,mkt,\n\np2,prod,p9\n")
    with pytest.raises(InputError, match=r"people.csv, row 7, column 'manager': unknown person 'p9'"):
        read_people(path)  # rows keep their numbers: the header is row 4, a blank row 6 is skipped
    assert load_table(path, required=("id", "team")).header_row == 4


def test_a_header_not_found_says_which_row_was_taken_and_how_to_choose(tmp_path):
    path = _write(tmp_path / "people.csv", "Staff list\nemployee,unit\np1,mkt\n")
    with pytest.raises(InputError, match=r"people.csv: missing column 'id' \(the columns are: 'Staff list'; the header is row 1: if it is another row, name it with --header-row N"):
        read_people(path)


def test_table_file_names_the_header_row_and_sheet(tmp_path):
    path = _workbook(tmp_path / "export.xlsx", {
        "Summary": [["nothing here"]],
        "Staff": [["HR export"], ["id", "team"], ["p1", "mkt"], ["p2", "prod"]],
    })
    people = read_people(TableFile(path, sheet="staff", header_row=2))
    assert [p.id for p in people] == ["p1", "p2"]
    with pytest.raises(InputError, match=r"export.xlsx: no sheet 'People' \(the sheets are: 'Summary', 'Staff'\)"):
        read_people(TableFile(path, sheet="People"))
    with pytest.raises(InputError, match=r"header row 9 is empty or beyond the end of the file \(4 rows\)"):
        read_people(TableFile(path, sheet="Staff", header_row=9))
    with pytest.raises(InputError, match=r"The 'header_row' must be an int >= 1 or None. Got 0."):
        TableFile(path, header_row=0)
    with pytest.raises(InputError, match=r"a CSV file has no sheets"):
        read_people(TableFile(_write(tmp_path / "p.csv", "id,team\np1,a\n"), sheet="Staff"))


def test_every_workbook_message_names_the_sheet(tmp_path):
    path = _workbook(tmp_path / "export.xlsx", {"Report": [["Gaps survey"], [], ["team_a", "team_b", "weight"], ["mkt", "prod", "lots"]]})
    with pytest.raises(InputError, match=r"export.xlsx, sheet 'Report', row 4, column 'weight': must be a number; got 'lots'"):
        read_gaps(path)
    with pytest.raises(InputError, match=r"export.xlsx, sheet 'Report': missing column 'id'"):
        read_teams(path)


def test_unnamed_columns_are_dropped_when_empty_and_refused_when_not(tmp_path):
    people = read_people(_write(tmp_path / "people.csv", "id,team,,\np1,mkt,,\np2,prod,,\n"))
    assert [p.attributes for p in people] == [{}, {}]
    with pytest.raises(InputError, match=r"people.csv, row 3: a value in column 3, which has no name in the header row \(row 1\)"):
        read_people(_write(tmp_path / "people.csv", "id,team,\np1,mkt,\np2,prod,x\n"))


# --- values -----------------------------------------------------------------------------------


def test_enumerated_values_ignore_case_and_spaces(tmp_path):
    gaps = read_gaps(_write(tmp_path / "gaps.csv", "Team_A,TEAM_B,Purpose\nmkt,prod,Repair \nmkt,ops, KNOWLEDGE\n"))
    assert [g.purpose for g in gaps] == ["repair", "knowledge"]
    assert read_gaps(pd.DataFrame({"team_a": ["a"], "team_b": ["b"], "purpose": ["Process"]}))[0].purpose == "process"


# --- extra columns: one rule for every table -------------------------------------------------


@pytest.mark.parametrize(
    ("reader", "text"),
    [
        (read_teams, "id,name,comment\nmkt,Marketing,hi\n"),
        (read_gaps, "team_a,team_b,comment\nmkt,prod,hi\n"),
        (lambda p: read_courses(p), "id,min_size,max_size,comment\nc,1,2,hi\n"),
        (read_grouping, "person,cohort,comment\np1,A,hi\n"),
    ],
)
def test_an_extra_column_is_ignored_with_a_warning_in_every_table(tmp_path, reader, text):
    path = _write(tmp_path / "table.csv", text)
    with pytest.warns(InputWarning, match=r"table.csv, column 'comment': not a column of the \w+ table \(.*\); ignored"):
        reader(path)


def test_people_keep_extra_columns_as_attributes_without_warning(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        people = read_people(_write(tmp_path / "people.csv", "id,team,comment\np1,mkt,hi\n"))
    assert people[0].attributes == {"comment": "hi"}


@pytest.mark.parametrize(
    ("reader", "text", "match"),
    [
        (read_people, "id,team,mangager\np1,mkt,\n", r"people.csv, column 'mangager': unknown column; did you mean 'manager'\?"),
        (read_gaps, "team_a,team_b,wieght\nmkt,prod,2\n", r"gaps.csv, column 'wieght': unknown column; did you mean 'weight'\?"),
        (read_teams, "id,parnet\nmkt,\n", r"teams.csv, column 'parnet': unknown column; did you mean 'parent'\?"),
    ],
)
def test_a_misspelt_column_is_an_error_in_every_table(tmp_path, reader, text, match):
    name = match.split(".csv")[0]
    with pytest.raises(InputError, match=match):
        reader(_write(tmp_path / f"{name}.csv", text))


# --- broken files ---------------------------------------------------------------------------


def test_an_unbalanced_quote_is_reported_as_such(tmp_path):
    path = _write(tmp_path / "people.csv", 'id,team\np1,"mkt\np2,prod\np3,ops\n')
    with pytest.raises(InputError, match=r'people.csv, row 2: a quote \(\"\) opened in this row is never closed'):
        read_people(path)
    path = _write(tmp_path / "people.csv", 'id,team\np1,"mkt"x\n')
    with pytest.raises(InputError, match=r"people.csv, row 2: a quoted cell goes on after its closing quote"):
        read_people(path)


def test_a_quoted_cell_may_hold_a_line_break(tmp_path):
    people = read_people(_write(tmp_path / "people.csv", 'id,team,note\np1,mkt,"two\nlines"\np2,prod,\n'))
    assert people[0].attributes == {"note": "two\nlines"} and people[1].id == "p2"


@pytest.mark.parametrize(
    ("name", "text", "encoding", "match"),
    [
        ("gaps.csv", 'team_a,team_b,weight\nmkt,prod,"2,5"\n', "utf-8", r"gaps.csv, row 2, column 'weight': must be a number; got '2,5' \(a decimal comma is read in ;-separated files only\)"),
        ("gaps.csv", "team_a;team_b;weight\nmkt;prod;1.234,5\n", "utf-8", r"row 2, column 'weight': must be a number; got '1.234,5'"),  # no thousands separators
        ("people.csv", "id,team\np1,mkt\np2,Qualité\n", "latin-1", r"people.csv, line 3: not UTF-8 text \(byte 0xe9, perhaps Latin-1 or Windows-1252\); save the file as UTF-8"),
        ("people.xls", "binary", "utf-8", r"people.xls: the old Excel format .xls is not read; save it as .xlsx"),
    ],
)
def test_refused_exports_say_why(tmp_path, name, text, encoding, match):
    reader = read_gaps if name.startswith("gaps") else read_people
    with pytest.raises(InputError, match=match):
        reader(_write(tmp_path / name, text, encoding))


def test_read_org_names_the_sheet_and_row_of_a_cross_table_error(tmp_path):
    people = _workbook(tmp_path / "org.xlsx", {"people": [["Export"], ["id", "team"], ["p1", "mkt"], ["p2", "sales"]],
                                                 "teams": [["id"], ["mkt"]]})
    with pytest.raises(InputError, match=r"org.xlsx, sheet 'people', row 4, column 'team': unknown team 'sales' \(not in .*org.xlsx, sheet 'teams'\)"):
        read_org(people, None, people)
