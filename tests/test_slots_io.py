# ruff: noqa: E501  (tables of expected messages read best one per line)
"""Time slots in files and out: the people, courses and availability tables, the JSON
request, the CLI's exit 2 on bad cells, and the plan's JSON, timetable sheet, report and
iCalendar export (parsed back)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import unquote

import pytest

import cohortmatch as cm
from cohortmatch.cli import main
from cohortmatch.errors import InputWarning
from cohortmatch.io import read_availability, request_from_tables, write_plan
from cohortmatch.io.calendar import PERSON_URN, plan_ics
from cohortmatch.report import html_report, markdown_report

SLOTS = ["2027-01-12 09:00", "2027-01-19 09:00", "2027-01-26 09:00"]
TEAMS = ["brand", "growth", "pm", "design"]


def _people_rows(available: dict[str, str] | None = None) -> list[str]:
    available = available or {}
    rows = ["id,team,available"]
    for t in TEAMS:
        rows += [f"{t}-{i},{t},{available.get(f'{t}-{i}', '')}" for i in range(6)]
    return rows


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    """24 people in 4 teams; the part-timers come on some sessions only; a course in three sessions."""
    part_time = {"brand-1": SLOTS[0], "growth-1": f"{SLOTS[1]}; {SLOTS[2]}", "design-4": SLOTS[2],
                 "design-3": f"{SLOTS[0]};{SLOTS[2]};"}
    paths = {name: tmp_path / f"{name}.csv" for name in ("people", "gaps", "courses", "availability")}
    paths["people"].write_text("\n".join(_people_rows(part_time)) + "\n")
    paths["gaps"].write_text("team_a,team_b,weight\nbrand,pm,3\ngrowth,design,2\nbrand,design,1\n")
    paths["courses"].write_text("id,min_size,max_size,slots,max_cohorts_per_slot\n"
                                f"presenting,6,8,{'; '.join(SLOTS)},1\n")
    paths["availability"].write_text("person,slot\n" + "".join(f"pm-{i},{SLOTS[i % 3]}\n" for i in range(6)))
    return paths


def _args(files: dict[str, Path], *extra: str) -> list[str]:
    return ["plan", "--people", str(files["people"]), "--gaps", str(files["gaps"]),
            "--courses", str(files["courses"]), "--seed", "1", "--time-limit", "2", "--quiet", *extra]


def _who_can(files: dict[str, Path]) -> dict[str, tuple[str, ...] | None]:
    req = request_from_tables(files["people"], files["gaps"], files["courses"])
    return {p.id: p.available for p in req.org.people}


def test_tables_give_slots_and_availability(files):
    req = request_from_tables(files["people"], files["gaps"], files["courses"])
    course = req.courses[0]
    assert course.slots == tuple(SLOTS) and course.max_cohorts_per_slot == 1
    who = {p.id: p for p in req.org.people}
    assert who["brand-1"].available == (SLOTS[0],)
    assert who["growth-1"].available == (SLOTS[1], SLOTS[2])
    assert who["design-3"].available == (SLOTS[0], SLOTS[2])  # a trailing ';' is no slot
    assert who["brand-0"].available is None and "available" not in who["brand-0"].attributes
    with_table = read_availability(files["availability"], req.org, req.courses)
    assert {p.id: p.available for p in with_table.people}["pm-4"] == (SLOTS[1],)


def test_cli_plans_a_timetable_and_writes_every_output(files, tmp_path, capsys):
    out = {ext: tmp_path / f"plan.{ext}" for ext in ("json", "xlsx", "ics")}
    for ext, path in out.items():
        assert main(_args(files, "--availability", str(files["availability"]), "--out", str(path),
                          *(["--report", str(tmp_path)] if ext == "json" else []))) == 0, capsys.readouterr().err
    plan = cm.Plan.model_validate_json(out["json"].read_text())
    assert {c.slot for c in plan.cohorts} == set(SLOTS)  # 3 cohorts, at most 1 per slot
    can = _who_can(files) | {f"pm-{i}": (SLOTS[i % 3],) for i in range(6)}
    for c in plan.cohorts:
        assert all(can[m] is None or c.slot in can[m] for m in c.members)
    openpyxl = pytest.importorskip("openpyxl")
    sheet = openpyxl.load_workbook(out["xlsx"])["timetable"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("slot", "cohort", "course", "round", "size", "members")
    assert sorted(r[0] for r in rows[1:]) == SLOTS
    assert all(len(r[5].split("; ")) == r[4] for r in rows[1:])
    page = (tmp_path / "report.html").read_text()
    assert "Timetable (3 slots, 3 cohorts)" in page and SLOTS[1] in page
    assert "BEGIN:VCALENDAR" in out["ics"].read_text()


def test_json_request_and_schema_carry_slots(tmp_path, capsys):
    doc = {"org": {"people": [{"id": f"p{i}", "team": "ab"[i % 2], **({"available": ["mon"]} if i < 2 else {})}
                              for i in range(8)], "gaps": [{"a": "a", "b": "b"}]},
           "courses": [{"id": "x", "min_size": 4, "max_size": 4, "slots": ["mon", "tue"], "max_cohorts_per_slot": 1}]}
    path = tmp_path / "request.json"
    path.write_text(json.dumps(doc))
    assert main(["plan", "--request", str(path), "--out", str(tmp_path / "plan.json"), "--quiet",
                 "--time-limit", "1", "--seed", "0"]) == 0
    plan = cm.Plan.model_validate_json((tmp_path / "plan.json").read_text())
    assert sorted(c.slot for c in plan.cohorts) == ["mon", "tue"]
    assert all(c.slot == "mon" for c in plan.cohorts if {"p0", "p1"} & set(c.members))
    assert main(["schema"]) == 0
    schema = capsys.readouterr().out
    assert all(f'"{name}"' in schema for name in ("available", "slots", "max_cohorts_per_slot"))
    doc["org"]["people"][0]["available"] = ["wed"]
    path.write_text(json.dumps(doc))
    assert main(["plan", "--request", str(path), "--quiet"]) == 2
    assert "org.people[0]), field 'available': unknown slot 'wed'" in capsys.readouterr().err


@pytest.mark.parametrize(("table", "text", "message"), [
    ("people", "\n".join(_people_rows({"growth-2": "2027-01-12 09:00; wed 9:00"})),
     r"people.csv, row 10, column 'available': unknown slot 'wed 9:00' (no course meets then"),
    ("people", "\n".join(_people_rows({"growth-2": "2027-01-12 09:00;;2027-01-19 09:00"})),
     r"people.csv, row 10, column 'available': entry 2 is empty; expected slots separated by ';'"),
    ("people", "\n".join(_people_rows({"growth-2": "2027-01-12 09:00; 2027-01-12 09:00"})),
     r"people.csv, row 10, column 'available': slot '2027-01-12 09:00' is listed twice"),
    ("courses", "id,min_size,max_size,slots,max_cohorts_per_slot\npresenting,6,8,,2\n",
     r"courses.csv, row 2, column 'max_cohorts_per_slot': needs the course's 'slots'"),
    ("courses", "id,min_size,max_size,slots,max_cohorts_per_slot\npresenting,6,8,mon; ;tue,\n",
     r"courses.csv, row 2, column 'slots': entry 2 is empty"),
    ("courses", "id,min_size,max_size,slots,max_cohorts_per_slot\npresenting,6,8,mon,0\n",
     r"courses.csv, row 2, column 'max_cohorts_per_slot': must be >= 1"),
    ("availability", "person,slot\npm-1,2027-01-12 09:00\npm-1,2027-01-13 09:00\n",
     r"availability.csv, row 3, column 'slot': unknown slot '2027-01-13 09:00'"),
    ("availability", "person,slot\nnobody,2027-01-12 09:00\n",
     r"availability.csv, row 2, column 'person': unknown person 'nobody'"),
    ("availability", "person,slot\npm-1,2027-01-12 09:00\npm-1,2027-01-12 09:00\n",
     r"availability.csv, row 3, column 'slot': 'pm-1' at '2027-01-12 09:00' is given twice (first in row 2)"),
    ("availability", "person,slot\nbrand-1,2027-01-12 09:00\n",
     r"availability.csv, row 2, column 'person': the people table gives 'brand-1''s availability too"),
    ("availability", "person,when\npm-1,2027-01-12 09:00\n", r"availability.csv: missing column 'slot'"),
])
def test_bad_slot_cells_exit_2_naming_file_row_and_column(files, capsys, table, text, message):
    files[table].write_text(text + ("\n" if not text.endswith("\n") else ""))
    assert main(_args(files, "--availability", str(files["availability"]))) == 2
    err = capsys.readouterr().err
    assert message in err, err


def test_a_calendar_needs_date_time_slots_and_says_so_before_planning(files, tmp_path, capsys):
    files["courses"].write_text("id,min_size,max_size,slots\npresenting,6,8,mon 9:00; tue 9:00\n")
    files["people"].write_text("\n".join(_people_rows()) + "\n")
    assert main(_args(files, "--out", str(tmp_path / "plan.ics"))) == 2
    assert "--out " in (err := capsys.readouterr().err) and "slot 'mon 9:00' is not an ISO 8601 date-time" in err
    files["courses"].write_text("id,min_size,max_size\npresenting,6,8\n")
    assert main(_args(files, "--out", str(tmp_path / "plan.ics"))) == 2
    assert "a calendar needs courses with 'slots'" in capsys.readouterr().err


# ------------------------------------------------------------------ iCalendar, parsed back


def parse_ics(text: str) -> list[dict[str, list[tuple[dict[str, str], str]]]]:
    """A small RFC 5545 reader: unfolds lines, splits events, reads name;params:value."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines: list[str] = []
    for raw in text.split("\r\n")[:-1]:
        assert len(raw.encode()) <= 75
        if raw.startswith(" "):
            lines[-1] += raw[1:]
        else:
            lines.append(raw)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    events, current = [], None
    for line in lines[1:-1]:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            head, value = _split_unquoted(line, ":", 1)
            name, *params = _split_unquoted(head, ";")
            current.setdefault(name, []).append((dict(p.split("=", 1) for p in params), value))
    return events


def _split_unquoted(line: str, sep: str, most: int = -1) -> list[str]:
    """``line`` split at ``sep`` outside double quotes (at most ``most`` times)."""
    parts, start, quoted = [], 0, False
    for i, ch in enumerate(line):
        quoted ^= ch == '"'
        if ch == sep and not quoted and len(parts) != most:
            parts.append(line[start:i])
            start = i + 1
    return [*parts, line[start:]]


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")


def test_the_calendar_reads_back_as_the_timetable(tmp_path):
    ids = [f"p{i},x;y" if i == 0 else f"p{i}" + "é" * 30 * (i == 1) for i in range(12)]
    org = cm.Organisation(people=[cm.Person(id=p, team="ab"[i % 2]) for i, p in enumerate(ids)],
                          gaps=[cm.Gap(a="a", b="b")])
    labels = ["2027-01-12 09:00", "2027-01-14T14:30:00+01:00", "2027-01-19"]
    courses = [cm.Course(id="talk", min_size=4, max_size=4, slots=labels, max_cohorts_per_slot=1)]
    plan = cm.plan(org, courses, seed=0, time_limit=None, work_limit=500)
    path = write_plan(plan, tmp_path / "plan.ics")
    events = parse_ics(path.read_bytes().decode("utf-8"))
    assert len(events) == len(plan.cohorts) == 3
    expected = {"2027-01-12 09:00": ({}, "20270112T090000"), "2027-01-14T14:30:00+01:00": ({}, "20270114T133000Z"),
                "2027-01-19": ({"VALUE": "DATE"}, "20270119")}
    by_uid = {e["UID"][0][1]: e for e in events}
    for c in plan.cohorts:
        event = next(e for uid, e in by_uid.items() if uid.startswith(f"{c.id}."))
        assert event["DTSTART"] == [expected[c.slot]]
        attendees = [(params["CN"].strip('"'), unquote(value[len(PERSON_URN):])) for params, value in event["ATTENDEE"]]
        assert [a for a, _ in attendees] == [b for _, b in attendees] == [m.replace('"', "'") for m in c.members]
        assert _unescape(event["SUMMARY"][0][1]) == f"{c.id} ({c.course}, round {c.round})"
        assert len(event["DTSTAMP"]) == 1 and event["DTSTAMP"][0][1].endswith("Z")
    stamp = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert plan_ics(plan, now=stamp) == plan_ics(plan, now=stamp)  # the same plan, the same bytes


def test_report_shows_the_timetable():
    org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(8)], gaps=[cm.Gap(a="a", b="b")])
    courses = [cm.Course(id="x", min_size=4, max_size=4, slots=["mon", "tue"], max_cohorts_per_slot=1)]
    plan = cm.plan(org, courses, seed=0, time_limit=None, work_limit=200)
    text = markdown_report(plan, org)
    assert "## Timetable" in text and "| mon | x-" in text and ", at mon:" in text
    assert "Timetable (2 slots, 2 cohorts)" in html_report(plan, org)
    untimed = cm.plan(org, [cm.Course(id="x", min_size=4, max_size=4)], seed=0, time_limit=None, work_limit=200)
    assert "Timetable" not in markdown_report(untimed, org) and "Timetable" not in html_report(untimed, org)


def test_availability_without_timed_courses_is_ignored_with_a_warning(files):
    files["courses"].write_text("id,min_size,max_size\npresenting,6,8\n")
    with pytest.warns(InputWarning, match="'available' slots are ignored: no course has 'slots'"):
        request_from_tables(files["people"], files["gaps"], files["courses"])
