"""Fuzz targets for every reader: hostile and mutated files in, only CohortmatchError out.

The ``numeric`` target goes one step further: it plans requests whose sizes, counts,
weights and interests are extreme numbers and checks that every metric is finite.

Shared by ``tests/test_fuzz.py`` (a short run in the test suite) and ``benchmarks/fuzz.py``
(a long run). Each target takes one hypothesis-drawn input, feeds it to a reader and
returns; any exception other than :class:`cohortmatch.CohortmatchError` is a crash.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import struct
import tempfile
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from cohortmatch.errors import CohortmatchError, InputWarning
from cohortmatch.io import (
    read_availability,
    read_courses,
    read_gaps,
    read_grouping,
    read_interactions,
    read_links,
    read_need,
    read_org,
    read_people,
    read_purposes,
    read_request,
    read_teams,
)
from cohortmatch.io.request import read_json
from cohortmatch.mdgplib import parse_mdgplib, read_mdgplib
from cohortmatch.model import Course, Policy
from cohortmatch.planner import plan
from cohortmatch.replanning import replan
from cohortmatch.result import Plan

__all__ = ["TARGETS", "run_target"]

_DIR = Path(tempfile.mkdtemp(prefix="cohortmatch-fuzz-"))

# ------------------------------------------------------------------------------ inputs

VALID_PEOPLE = ("id,team,manager,level,interest:intro\n"
                "p1,a,,lead,0.5\np2,b,p1,staff,\np3,a,p1,staff,1\n")
VALID_TEAMS = "id,name,parent\na,Team A,\nb,Team B,a\n"
VALID_GAPS = "team_a,team_b,weight,purpose\na,b,2.5,repair\n"
VALID_COURSES = ("id,min_size,max_size,cohorts,participants,rounds\n"
                 "intro,1,2,,p1;p2,1\nall,1,3,1,level=staff,2\n")
VALID_GROUPING = "person,cohort,course,round\np1,A,intro,0\np2,B,intro,0\n"
VALID_LINKS = "person_a,person_b,kind\np1,p2,together\np2,p3,apart\n"
VALID_AVAILABILITY = "person,slot\np1,mon\np2,tue\np3,mon\n"
VALID_INTERACTIONS = "person_a,person_b,count\np1,p2,3\np2,p3,0.5\n"
VALID_TEAM_INTERACTIONS = "team_a,team_b,count\na,b,4\n"
VALID_NEED = "team_a,team_b,need\na,b,2\n"
VALID_PURPOSES = "team_a,team_b,purpose\na,b,repair\n"
VALID_MDGP = "4 2 ss 2 2 2 2\n0 1 1.5\n0 2 2\n0 3 -1\n1 2 4\n1 3 0\n2 3 7\n"
VALID_REQUEST: dict[str, Any] = {
    "org": {
        "people": [{"id": "p1", "team": "a"}, {"id": "p2", "team": "b", "manager": "p1"},
                   {"id": "p3", "team": "a", "attributes": {"level": 3}, "interests": {"c": 0.5}}],
        "teams": [{"id": "a"}, {"id": "b", "parent": "a"}],
        "gaps": [{"a": "a", "b": "b", "weight": 2, "purpose": "repair"}],
    },
    "courses": [{"id": "c", "min_size": 1, "max_size": 2, "participants": ["p1", "p2"],
                 "rounds": 2}],
    "policy": {"coverage": "diminishing", "max_per_team": 2, "max_meetings": 1},
}

_SPECIAL = ["", "\x00", "\r", "\n", "\t", ",", ";", '"', "'", "=", "+", "-", "@", "|", "&", "!=",
            "NaN", "inf", "-inf", "1e309", "9" * 400, "-0", "0x10", "\ufeff", "\u202e", "é", "𝔘",
            "None", "null", "true", "interest:", "interest:x", "id", "team", "manager"]


def _mutations(text: str) -> st.SearchStrategy[str]:
    """Valid text with characters, lines and cells inserted, deleted and replaced."""
    atoms = st.one_of(st.sampled_from(_SPECIAL), st.text(max_size=8))

    @st.composite
    def mutate(draw: Any) -> str:
        s = text
        for _ in range(draw(st.integers(1, 6))):
            op = draw(st.sampled_from(["insert", "delete", "replace", "dup_line", "drop_line"]))
            i = draw(st.integers(0, len(s)))
            if op == "insert":
                s = s[:i] + draw(atoms) + s[i:]
            elif op == "delete":
                s = s[:i] + s[i + draw(st.integers(1, 5)):]
            elif op == "replace":
                s = s[:i] + draw(atoms) + s[i + 1:]
            else:
                lines = s.split("\n")
                j = draw(st.integers(0, max(0, len(lines) - 1)))
                if op == "dup_line":
                    lines.insert(j, lines[j])
                elif len(lines) > 1:
                    del lines[j]
                s = "\n".join(lines)
        return s

    return mutate()


#: Inputs that break parsers rather than rules: a cell over the csv field limit, nesting
#: beyond the recursion limit, an integer beyond Python's digit limit, many columns.
PATHOLOGICAL = ["x" * 140_000, "[" * 50_000, "{\"a\":" * 30_000, "9" * 5000, "1e999999",
                "," * 20_000, "\"" + "a" * 10, "\r" * 100]


def _blobs(valid: str) -> st.SearchStrategy[bytes]:
    """Raw bytes: random, mutated valid text in several encodings, or truncated."""
    return st.one_of(
        st.binary(max_size=300),
        st.tuples(st.sampled_from(PATHOLOGICAL), st.integers(0, len(valid))).map(
            lambda t: (valid[:t[1]] + t[0] + valid[t[1]:]).encode()
        ),
        _mutations(valid).map(lambda s: s.encode("utf-8", "surrogatepass")),
        _mutations(valid).map(lambda s: s.encode("utf-16", "surrogatepass")),
        st.just(valid.encode()).flatmap(
            lambda b: st.integers(0, len(b)).map(lambda n: b[:n] + b"\xff\xfe" * (n % 2))
        ),
    )


_cell = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(_SPECIAL), st.text(max_size=10),
    st.datetimes(),
)

_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                       st.floats(allow_nan=False), st.text(max_size=6), st.sampled_from(_SPECIAL))
_json_any = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=20,
)


def _mutate(draw: Any, doc: Any) -> Any:
    """``doc`` with one to four values replaced by random JSON or deleted."""
    for _ in range(draw(st.integers(1, 4))):
        node, key = doc, None
        path = []
        while isinstance(node, dict | list) and node and draw(st.integers(0, 3)):
            keys = list(node.keys()) if isinstance(node, dict) else list(range(len(node)))
            key = draw(st.sampled_from(keys))
            path.append((node, key))
            node = node[key]
        if not path:
            return draw(_json_any)
        parent, key = path[-1]
        if draw(st.integers(0, 4)) == 0 and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = draw(_json_any)
    return doc


@st.composite
def _mutated_request(draw: Any) -> Any:
    """The valid request with one to four values replaced by random JSON."""
    return _mutate(draw, json.loads(json.dumps(VALID_REQUEST)))


# ------------------------------------------------------------------------------ targets


def _write(name: str, data: bytes) -> Path:
    path = _DIR / f"{os.getpid()}-{name}"
    path.write_bytes(data)
    return path


def _csv_table(data: bytes, which: str) -> None:
    path = _write(f"{which}.csv", data)
    if which == "people":
        read_people(path)
    elif which == "teams":
        read_teams(path)
    elif which == "gaps":
        read_gaps(path)
    elif which == "grouping":
        read_grouping(path)
    else:
        people = _write("people-ok.csv", VALID_PEOPLE.encode())
        read_courses(path, people=read_people(people))


def _csv_org(data: tuple[bytes, bytes, bytes]) -> None:
    people, teams, gaps = (_write(f"org-{n}.csv", d) for n, d in zip(
        ("people", "teams", "gaps"), data, strict=True))
    read_org(people, gaps, teams)


def _xlsx(data: tuple[str, list[list[Any]]]) -> None:
    import openpyxl

    which, rows = data
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = which
    buf = io.BytesIO()
    try:
        for r in rows:
            ws.append(r)
        wb.save(buf)
    except Exception:  # openpyxl refuses some cells (e.g. control characters): not our reader
        return
    path = _write(f"{which}.xlsx", buf.getvalue())
    {"people": read_people, "teams": read_teams, "gaps": read_gaps,
     "grouping": read_grouping}.get(which, read_courses)(path)


def _xlsx_bytes(data: bytes) -> None:
    read_people(_write("broken.xlsx", data))


def _json_file(data: bytes) -> None:
    read_request(_write("request.json", data))


def _json_doc(doc: Any) -> None:
    read_request(doc if isinstance(doc, dict) else {"org": doc, "courses": doc})


def _mdgp_text(text: str) -> None:
    parse_mdgplib(text, name="fuzz")


def _mdgp_file(data: bytes) -> None:
    read_mdgplib(_write("instance.txt", data))


def _valid_org() -> Any:
    return read_org(_write("ok-people.csv", VALID_PEOPLE.encode()),
                    _write("ok-gaps.csv", VALID_GAPS.encode()), _write("ok-teams.csv", VALID_TEAMS.encode()))


def _links(data: bytes) -> None:
    read_links(_write("links.csv", data), people=_valid_org().people)


def _availability(data: bytes) -> None:
    course = Course(id="c", min_size=1, max_size=3, slots=["mon", "tue"])
    read_availability(_write("availability.csv", data), _valid_org(), [course])


def _ties(data: tuple[bytes, str]) -> None:
    blob, which = data
    reader = {"interactions": read_interactions, "need": read_need, "purposes": read_purposes}[which]
    reader(_write(f"{which}.csv", blob), _valid_org())


#: The request a previous plan is re-planned for (three people, two cohorts, two rounds).
_REPLAN_COURSE = Course(id="c", min_size=1, max_size=2, rounds=2)


@functools.cache
def _previous_document() -> str:
    """A valid plan document (``plan --out plan.json``) of the re-planning request."""
    return plan(_valid_org(), [_REPLAN_COURSE], time_limit=None, work_limit=200, seed=0).to_json()


@st.composite
def _mutated_plan(draw: Any) -> Any:
    """A valid plan document with one to four values replaced by random JSON (as
    :func:`_mutated_request` does to a request)."""
    return _mutate(draw, json.loads(_previous_document()))


def _previous_plan(doc: Any) -> None:
    """Read a previous plan as ``replan --plan`` does, then re-plan today's request with it."""
    path = _write("previous.json", json.dumps(doc).encode())
    previous = Plan.from_document(read_json(path), str(path))
    replan(previous, _valid_org(), [_REPLAN_COURSE], time_limit=None, work_limit=200, seed=0)


#: Limits the zip-bomb target reads under: small, so that crafted archives cross them cheaply.
BOMB_LIMITS = {"max_unpacked_bytes": 2 << 20, "ratio_floor": 256 << 10, "max_ratio": 50.0,
               "max_shared_strings_bytes": 512 << 10, "max_rows": 5_000, "max_cells": 20_000,
               "max_zip_entries": 40}
#: Most a read of a crafted archive may allocate under ``BOMB_LIMITS`` (tracemalloc peak).
BOMB_PEAK_BYTES = 64 << 20
_PARTS = ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml",
          "[Content_Types].xml", "xl/styles.xml", "docProps/extra.bin"]
_SHEET = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
          b'spreadsheetml/2006/main"><sheetData>', b"</sheetData></worksheet>")
_SST = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main">', b"</sst>")
#: (head, repeated chunk, tail): well-formed sheets and string tables of many rows, and junk.
_BOMB_CHUNKS = [
    (_SHEET[0], b"<row><c t='inlineStr'><is><t>p</t></is></c><c t='inlineStr'><is><t>a</t></is></c>"
                b"</row>", _SHEET[1]),
    (_SHEET[0], b"<row><c r='XFD1'><v>1</v></c></row>", _SHEET[1]),
    (_SST[0], b"<si><t>aaaa</t></si>", _SST[1]),
    (b"", b"\x00" * 64, b""), (b"", b"A", b""), (b"", b"<c r='A1' t='s'><v>0</v></c>", b""),
]


@functools.cache
def _workbook_parts() -> tuple[tuple[str, bytes], ...]:
    """The parts of a valid people workbook (three people)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "people"
    for row in [["id", "team"], ["p1", "a"], ["p2", "b"], ["p3", "a"]]:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        return tuple((i.filename, z.read(i.filename)) for i in z.infolist())


_bombs = st.tuples(
    st.lists(st.tuples(st.sampled_from(_PARTS), st.sampled_from(_BOMB_CHUNKS),
                       st.one_of(st.integers(0, 4096), st.integers(128 << 10, 4 << 20))),
             min_size=1, max_size=3),
    st.integers(0, 30),  # extra empty parts
    st.one_of(st.none(), st.integers(0, 2**32 - 1)),  # a declared size that lies
)


def _zip_bomb(data: tuple[list[tuple[str, tuple[bytes, bytes, bytes], int]], int, int | None]) -> None:
    """A valid workbook with parts replaced or added by highly packed repeated content,
    extra parts, and perhaps a part whose declared unpacked size lies; read under
    ``BOMB_LIMITS``, the read must allocate at most ``BOMB_PEAK_BYTES``."""
    from cohortmatch import limits

    parts, extra, lie = data
    replaced = {name: head + chunk * max(1, size // len(chunk)) + tail
                for name, (head, chunk, tail), size in parts}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in _workbook_parts():
            z.writestr(name, replaced.pop(name, body))
        for name, body in replaced.items():
            z.writestr(name, body)
        for i in range(extra):
            z.writestr(f"extra/{i}.xml", b"")
    raw = bytearray(buf.getvalue())
    if lie is not None:  # the first replaced part's sizes, in its local and central headers
        _declare(raw, parts[0][0].encode(), lie)
    path = _write("bomb.xlsx", bytes(raw))
    tracemalloc.start()
    try:
        with limits.override(**BOMB_LIMITS):
            read_people(path)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if peak > BOMB_PEAK_BYTES:
            raise AssertionError(f"reading a crafted archive allocated {peak:,} bytes")


def _declare(raw: bytearray, name: bytes, size: int) -> None:
    """Write ``size`` as the unpacked size of part ``name`` in every header that names it."""
    for sig, field, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = raw.find(sig)
        while at >= 0:
            if raw[at + name_at:at + name_at + len(name)] == name:
                struct.pack_into("<I", raw, at + field, size)
            at = raw.find(sig, at + 4)


#: Numbers at and beyond every limit: zero, signs, the int32 edge, float extremes, text forms.
EXTREMES = [0, 1, 2, -1, 2**31 - 1, 2**31, 3_000_000_000, 10**30, 1e-300, 5e-324, 1e100, 9.9e99,
            1.7e308, 1e99, "1e309", "inf", "-inf", "nan", "1,5", "0x10", "1e2", "2.0", 0.5]


@st.composite
def _numeric_request(draw: Any) -> tuple[bytes, bytes, bytes, dict[str, Any]]:
    """Small people/gaps/courses CSV files, valid but for one to three numbers from
    :data:`EXTREMES` (or any float), so that most requests reach the planner."""
    teams = [f"t{i}" for i in range(draw(st.integers(2, 4)))]
    n = draw(st.integers(len(teams), 8))
    pairs = [(a, b) for i, a in enumerate(teams) for b in teams[i + 1:]]
    low = draw(st.integers(1, 2))
    fields: dict[str, Any] = {
        **{f"interest{i}": "" for i in range(n)},
        **{f"weight{j}": draw(st.sampled_from([0.5, 1, 2.5])) for j in range(len(pairs))},
        "min_size": low, "max_size": draw(st.integers(low, 4)), "cohorts": "", "rounds": 1,
        "max_per_team": None,
    }
    extreme = st.one_of(st.sampled_from(EXTREMES), st.floats(allow_nan=True, allow_infinity=True))
    for key in draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=3)):
        fields[key] = draw(extreme)
    people = "id,team,interest:c\n" + "".join(
        f"p{i},{teams[i % len(teams)]},{fields[f'interest{i}']}\n" for i in range(n))
    gaps = "team_a,team_b,weight\n" + "".join(
        f"{a},{b},{fields[f'weight{j}']}\n" for j, (a, b) in enumerate(pairs))
    courses = ("id,min_size,max_size,cohorts,rounds\nc,"
               + ",".join(str(fields[k]) for k in ("min_size", "max_size", "cohorts", "rounds"))
               + "\n")
    policy = {"max_per_team": fields["max_per_team"],
              "coverage": draw(st.sampled_from(["cover", "diminishing", "sum"]))}
    return people.encode(), gaps.encode(), courses.encode(), policy


def _numeric(data: tuple[bytes, bytes, bytes, dict[str, Any]]) -> None:
    """Read and plan a request of extreme numbers: an error of ours, or finite metrics."""
    people, gaps, courses, settings = data
    org = read_org(_write("num-people.csv", people), _write("num-gaps.csv", gaps))
    course_rows = read_courses(_write("num-courses.csv", courses), people=org.people)
    try:
        policy = Policy(**settings)
    except ValueError:  # pydantic's ValidationError: the model refused the number
        return
    result = plan(org, course_rows, policy=policy, time_limit=None, work_limit=200, seed=0)
    m = result.metrics
    values = (m.objective, m.coverage, m.bound, m.gap_to_bound, m.bridged_weight, m.total_weight)
    if not all(math.isfinite(v) for v in values):
        raise AssertionError(f"a plan reports a number that is not finite: {m}")


_tables = st.sampled_from(["people", "teams", "gaps", "courses", "grouping"])
_valid_of = {"people": VALID_PEOPLE, "teams": VALID_TEAMS, "gaps": VALID_GAPS,
             "courses": VALID_COURSES, "grouping": VALID_GROUPING}


def _header_rows(which: str) -> st.SearchStrategy[list[list[Any]]]:
    header = _valid_of[which].split("\n", 1)[0].split(",")
    rows = st.lists(st.lists(_cell, min_size=0, max_size=len(header) + 2), max_size=6)
    return st.one_of(
        rows.map(lambda r: [header, *r]),
        st.lists(st.lists(_cell, max_size=4), max_size=5),
    )


#: name -> (strategy, target)
TARGETS: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], None]]] = {
    "csv": (_tables.flatmap(lambda w: st.tuples(_blobs(_valid_of[w]), st.just(w))),
            lambda d: _csv_table(*d)),
    "csv_org": (st.tuples(_blobs(VALID_PEOPLE), _blobs(VALID_TEAMS), _blobs(VALID_GAPS)), _csv_org),
    "xlsx": (_tables.flatmap(lambda w: st.tuples(st.just(w), _header_rows(w))), _xlsx),
    "xlsx_bytes": (st.one_of(st.binary(max_size=300),
                             st.just(b"PK\x03\x04").map(lambda b: b + bytes(40))), _xlsx_bytes),
    "json_file": (_blobs(json.dumps(VALID_REQUEST)), _json_file),
    "json_doc": (st.one_of(_mutated_request(), _json_any), _json_doc),
    "mdgplib_text": (st.one_of(_mutations(VALID_MDGP), st.text(max_size=200)), _mdgp_text),
    "mdgplib_file": (_blobs(VALID_MDGP), _mdgp_file),
    "numeric": (_numeric_request(), _numeric),
    "links": (_blobs(VALID_LINKS), _links),
    "availability": (_blobs(VALID_AVAILABILITY), _availability),
    "interactions": (st.one_of(st.tuples(_blobs(VALID_INTERACTIONS), st.just("interactions")),
                               st.tuples(_blobs(VALID_TEAM_INTERACTIONS), st.just("interactions")),
                               st.tuples(_blobs(VALID_NEED), st.just("need")),
                               st.tuples(_blobs(VALID_PURPOSES), st.just("purposes"))), _ties),
    "previous_plan": (_mutated_plan(), _previous_plan),
    "zip_bomb": (_bombs, _zip_bomb),
}


def run_target(name: str, data: Any) -> None:
    """Feed ``data`` to target ``name``; the library's own errors (and warnings) are fine,
    others propagate."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputWarning)
            TARGETS[name][1](data)
    except CohortmatchError:
        pass
