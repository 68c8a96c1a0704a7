"""Hostile uploads: the readers refuse files over the limits of cohortmatch.limits before reading them."""

# ruff: noqa: E501  (expected messages read best on one line)

from __future__ import annotations

import json
import os
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cohortmatch import limits
from cohortmatch.cli import main
from cohortmatch.errors import InputError, SizeLimitError
from cohortmatch.io import read_people, read_request
from cohortmatch.io.tables import load_table
from cohortmatch.mdgplib import read_mdgplib


def _workbook(path: Path, rows: int = 3) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "people"
    ws.append(["id", "team"])
    for i in range(rows):
        ws.append([f"p{i}", "ab"[i % 2]])
    wb.save(path)
    return path


def _replace_part(path: Path, name: str, chunks, out: Path) -> Path:
    """A copy of the workbook ``path`` with part ``name`` written from ``chunks`` (streamed)."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info.filename))
        with dst.open(name, "w") as part:
            for chunk in chunks:
                part.write(chunk)
    return out


def _bomb_rows(n: int):
    yield b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    row = b'<row><c t="inlineStr"><is><t>p</t></is></c><c t="inlineStr"><is><t>a</t></is></c></row>'
    for _ in range(n // 1000):
        yield row * 1000
    yield b"</sheetData></worksheet>"


def _peak_refusing(read, path: Path, match: str) -> int:
    """Bytes allocated at the peak while ``read(path)`` raises SizeLimitError matching ``match``."""
    tracemalloc.start()
    try:
        with pytest.raises(SizeLimitError, match=match):
            read(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture()
def no_openpyxl_parse(monkeypatch):
    """Fail the test if openpyxl gets to parse the workbook (the refusal must come first)."""
    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl was asked to parse a workbook that should have been refused")
    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def test_xlsx_zip_bomb_is_refused_before_parsing(tmp_path, no_openpyxl_parse):
    # a sheet of 60,000 identical rows: about 5 MiB of XML packed about 1000-fold
    bomb = _replace_part(_workbook(tmp_path / "ok.xlsx"), "xl/worksheets/sheet1.xml",
                         _bomb_rows(60_000), tmp_path / "bomb.xlsx")
    assert bomb.stat().st_size < 100_000
    peak = _peak_refusing(read_people, bomb, r"bomb\.xlsx, part 'xl/worksheets/sheet1\.xml': the "
                          r"compression ratio \([\d,.]+\) passes the limit max_ratio = 200")
    assert peak < 2**20  # nothing was unpacked


def test_xlsx_unpacked_size_is_refused(tmp_path, no_openpyxl_parse):
    bomb = _replace_part(_workbook(tmp_path / "ok.xlsx"), "xl/worksheets/sheet1.xml",
                         _bomb_rows(20_000), tmp_path / "big.xlsx")
    with limits.override(max_unpacked_bytes=2**20), pytest.raises(
            SizeLimitError, match=r"big\.xlsx: the unpacked size of the archive in bytes \([\d,]+\) "
                                  r"passes the limit max_unpacked_bytes = 1,048,576"):
        read_people(bomb)


def test_huge_shared_strings_table_is_refused(tmp_path, no_openpyxl_parse):
    strings = (f"<si><t>{os.urandom(24).hex()}</t></si>".encode() for _ in range(40_000))
    path = _replace_part(_workbook(tmp_path / "ok.xlsx"), "xl/sharedStrings.xml",
                         strings, tmp_path / "strings.xlsx")
    with limits.override(max_shared_strings_bytes=2**20), pytest.raises(
            SizeLimitError, match=r"part 'xl/sharedStrings\.xml': the shared-strings table, unpacked, "
                                  r"in bytes \([\d,]+\) passes the limit max_shared_strings_bytes"):
        read_people(path)


def test_too_many_archive_parts_are_refused(tmp_path, no_openpyxl_parse):
    path = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(30):
            z.writestr(f"junk/{i}.xml", "")
    with limits.override(max_zip_entries=20), pytest.raises(
            SizeLimitError, match=r"the number of parts of the archive \(30\) passes the limit "
                                  r"max_zip_entries = 20"):
        read_people(path)


def test_xlsx_rows_are_counted_while_reading(tmp_path):
    path = _workbook(tmp_path / "rows.xlsx", rows=30)
    assert len(read_people(path)) == 30
    with limits.override(max_rows=20), pytest.raises(
            SizeLimitError, match=r"rows\.xlsx, sheet 'people': the number of rows \(21\) passes "
                                  r"the limit max_rows = 20"):
        read_people(path)


def test_csv_with_a_million_columns_is_refused_before_parsing(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(b"id,team" + b"," * 6_000_000 + b"\n")
    peak = _peak_refusing(load_table, path, r"wide\.csv: the number of cells \(delimiters and "
                          r"line breaks\) \(6,000,003\) passes the limit max_cells = 5,000,000")
    assert peak < 20 * 2**20  # the text (6 MiB) and no row of six million cells


def test_csv_rows_and_columns(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("id,team\n" + "".join(f"p{i},a\n" for i in range(50)))
    with limits.override(max_rows=40), pytest.raises(SizeLimitError, match=r"number of lines \(52\)"):
        load_table(path)
    # quoted delimiters count in the bound but not in the row: the row itself is checked
    path.write_text('id,team,"a,b,c,d,e,f,g,h"\np1,t,x\n')
    with limits.override(max_columns=2), pytest.raises(
            SizeLimitError, match=r"people\.csv, row 1: the number of columns \(3\) passes the limit max_columns = 2"):
        load_table(path)
    with limits.override(max_file_bytes=10), pytest.raises(
            SizeLimitError, match=r"people\.csv: the file size in bytes \(\d+\) passes the limit max_file_bytes = 10"):
        load_table(path)


def test_data_frame_shape():
    frame = pd.DataFrame({"id": ["p1", "p2"], "team": ["a", "b"]})
    assert len(read_people(frame)) == 2
    with limits.override(max_cells=3), pytest.raises(SizeLimitError, match=r"people DataFrame: the number of cells \(4\)"):
        read_people(frame)


def _nested(depth: int) -> str:
    return '{"org": {"people": []}, "courses": [], "policy": ' + "[" * depth + "]" * depth + "}"


def test_json_nested_past_the_depth_is_refused(tmp_path):
    path = tmp_path / "request.json"
    path.write_text(_nested(100))
    with pytest.raises(SizeLimitError, match=r"request\.json: the nesting depth \(101\) passes the limit max_json_depth = 64"):
        read_request(path)
    path.write_text(_nested(50))  # within the limit: read, and refused by the schema instead
    with pytest.raises(InputError):
        read_request(path)
    path.write_text(json.dumps({"org": {"people": []}, "courses": ["[[[[" * 40]}))
    with pytest.raises(InputError) as err:  # brackets inside strings do not count
        read_request(path)
    assert not isinstance(err.value, SizeLimitError)


def test_json_and_mdgplib_file_size(tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps({"org": {"people": []}, "courses": []}))
    with limits.override(max_file_bytes=16), pytest.raises(SizeLimitError, match="max_file_bytes = 16"):
        read_request(path)
    mdgp = tmp_path / "x.txt"
    mdgp.write_text("4 2 ss 2 2 2 2\n" + "0 1 1\n" * 6)
    with limits.override(max_file_bytes=16), pytest.raises(SizeLimitError, match="max_file_bytes = 16"):
        read_mdgplib(mdgp)


@pytest.mark.parametrize("escape", ['\\"[', "\\\\", '\\\\\\"{', "]]"])
def test_json_depth_ignores_strings_and_escapes(escape):
    doc = [[{"k" + escape: [escape, "x"]}], escape]
    assert limits.json_depth(json.dumps(doc)) == 4


def test_cli_exits_2_with_the_message(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text(_nested(200))
    assert main(["plan", "--request", str(path), "--time-limit", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "deep.json: the nesting depth (201) passes the limit max_json_depth = 64" in err
    assert "cohortmatch.limits.configure(max_json_depth=...)" in err


def test_limits_are_checked_and_restored():
    with pytest.raises(InputError, match="Unknown limit"):
        limits.configure(max_cels=3)
    with pytest.raises(InputError, match="'max_rows' must be a positive number. Got -1"):
        limits.configure(max_rows=-1)
    with pytest.raises(RuntimeError), limits.override(max_rows=1):
        raise RuntimeError
    assert limits.current() == limits.DEFAULT


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_read_ends_once_its_stop_event_is_set(tmp_path, suffix):
    """A table read inside ``limits.stoppable(event)`` ends with StoppedError once the event
    is set (looked at every STOP_EVERY rows); unset, or outside the block, it reads everything."""
    import threading

    from cohortmatch.errors import StoppedError

    n = 3 * limits.STOP_EVERY
    if suffix == ".csv":
        path = tmp_path / "people.csv"
        path.write_text("id,team\n" + "".join(f"p{i},t{i % 7}\n" for i in range(n)))
    else:
        path = _workbook(tmp_path / "people.xlsx", rows=n)
    stop = threading.Event()
    with limits.stoppable(stop):
        assert len(read_people(path)) == n
    stop.set()
    with limits.stoppable(stop), pytest.raises(
            StoppedError, match=rf"people\{suffix}.*: reading stopped on request after 1,024 rows"):
        read_people(path)
    assert len(read_people(path)) == n  # the event belongs to the block only


def test_a_stop_set_in_one_thread_does_not_stop_another_threads_read(tmp_path):
    import threading

    path = tmp_path / "people.csv"
    path.write_text("id,team\n" + "".join(f"p{i},a\n" for i in range(4 * limits.STOP_EVERY)))
    stop = threading.Event()
    stop.set()
    got = []
    with limits.stoppable(stop):
        reader = threading.Thread(target=lambda: got.append(len(read_people(path))))
        reader.start()
        reader.join()
    assert got == [4 * limits.STOP_EVERY]


def test_stoppable_needs_an_event():
    with pytest.raises(InputError, match="stop: give an event with is_set"), limits.stoppable(0.5):
        pass
