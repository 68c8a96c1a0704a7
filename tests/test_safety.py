"""Safe output and size guards: no formulas in exported cells, escaped HTML, no pickle or eval,
no names or attribute values in logs, SizeLimitError before a huge allocation."""

from __future__ import annotations

import csv
import logging
import re
import tracemalloc
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.errors import InputError, SizeLimitError
from cohortmatch.io import read_grouping, read_org, write_org, write_plan
from cohortmatch.io.export import FORMULA_START
from cohortmatch.mdgplib import parse_mdgplib
from cohortmatch.report import html_report

ROOT = Path(__file__).resolve().parent.parent
FAST = {"time_limit": None, "work_limit": 300, "workers": 1}
HOSTILE_IDS = ["=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)", "=HYPERLINK(\"http://x\")",
               "<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "plain", "a=b",
               "-", "==", "@"]


@pytest.fixture(scope="module")
def hostile():
    people = [cm.Person(id=pid, team=["=evil()", "+team", "<b>t</b>"][i % 3],
                        attributes={"note": "=1+1", "level": "-senior"})
              for i, pid in enumerate(HOSTILE_IDS)]
    org = cm.Organisation(people=people, gaps=[cm.Gap(a="=evil()", b="+team", purpose="repair"),
                                               cm.Gap(a="+team", b="<b>t</b>")])
    courses = [cm.Course(id="=course", min_size=3, max_size=4),
               cm.Course(id="<i>c</i>", min_size=5, max_size=5,
                         participants=tuple(HOSTILE_IDS[:7]))]
    result = cm.plan(org, courses, on_infeasible="partial", seed=0, **FAST)
    assert result.unassigned  # 7 people cannot fill cohorts of exactly 5: reasons are exported
    assert cm.validate(result, org, courses) == []
    return org, courses, result


def _formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def test_csv_export_neutralises_formulas(hostile, tmp_path):
    org, _, result = hostile
    path = write_plan(result, tmp_path / "plan.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not [c for c in cells if _formula_like(c)]
    assert "'=cmd|' /C calc'!A0" in cells and "'-2" in cells and "a=b" in cells
    back = read_grouping(path)  # the prefix is removed again on reading
    assert set(back.person) == {m for c in result.cohorts for m in c.members}


def test_xlsx_export_writes_no_formula(hostile, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    _, _, result = hostile
    path = write_plan(result, tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(path)  # not data_only: formulas would show as data_type "f"
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert cells
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if _formula_like(c.value)]
    unassigned = wb["unassigned"]
    assert any(str(c.value).startswith("'") for row in unassigned.iter_rows() for c in row)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_org_tables_round_trip_hostile_ids(hostile, tmp_path, fmt):
    if fmt == "xlsx":
        pytest.importorskip("openpyxl")
    org, _, _ = hostile
    paths = write_org(org, tmp_path, fmt=fmt)
    if fmt == "csv":
        text = "".join(paths[k].read_text(encoding="utf-8") for k in paths)
        rows = list(csv.reader(text.splitlines()))
        assert not [c for r in rows for c in r if _formula_like(c)]
    back = read_org(paths["people"], paths["gaps"], paths["teams"])
    assert back == org


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)


def test_html_report_escapes_everything_from_the_input(hostile):
    org, _, result = hostile
    page = html_report(result, org, title="<script>x</script>",
                       labels={c.id: "<svg onload=alert(1)>" for c in result.cohorts})
    parser = _Tags()
    parser.feed(page)
    assert parser.tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3",
                           "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "p", "div",
                           "details", "summary", "img", "a", "section", "label", "input", "select",
                           "option", "script"}, parser.tags
    assert not [a for a in parser.attrs if a.startswith("on")]
    assert "<b>t</b>" not in page and "<i>c</i>" not in page and "<svg" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # one script, the same fixed text whatever the input: nothing from the input runs
    assert page.count("<script") == 1 and page.count("</script>") == 1
    plain = cm.Organisation(people=[cm.Person(id="x", team="a"), cm.Person(id="y", team="b")])
    other = html_report(cm.plan(plain, [cm.Course(id="c", min_size=2, max_size=2)], **FAST), plain)

    def script(text):
        return text.split("<script>", 1)[1].split("</script>", 1)[0]

    assert script(page) == script(other)


def test_no_pickle_or_eval_in_the_source():
    pattern = re.compile(r"\bpickle\b|\beval\(|\bexec\(|\bmarshal\b|\bshelve\b|yaml\.load\(|"
                         r"allow_pickle\s*=\s*True|read_pickle")
    offenders = []
    for folder in ("src", "benchmarks", "examples"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert offenders == []
    assert pattern.search("data = pickle.loads(blob)")  # the check can fail


def test_logs_carry_ids_and_counts_only(caplog, capsys):
    secrets = ["Alice Secret-Name", "salary-98765", "Team Confidential"]
    people = [cm.Person(id=f"e{i:03d}", team=f"t{i % 5}",
                        attributes={"name": secrets[0] + str(i), "pay": secrets[1]})
              for i in range(40)]
    teams = [cm.Team(id=f"t{k}", name=secrets[2]) for k in range(5)]
    org = cm.Organisation(people=people, teams=teams,
                          gaps=[cm.Gap(a="t0", b="t1"), cm.Gap(a="t2", b="t3", weight=2)])
    with caplog.at_level(logging.DEBUG):
        for solver in ("auto", "heuristic", "lns", "cpsat"):
            cm.plan(org, [cm.Course(id="c", min_size=4, max_size=5)], solver=solver, seed=1, **FAST)
        cm.plan(org, [cm.Course(id="c", min_size=7, max_size=7)], on_infeasible="partial",
                seed=1, **FAST)
    messages = [r.getMessage() for r in caplog.records]
    assert any("planning:" in m for m in messages)  # logging is on, and was captured
    out = capsys.readouterr()
    for text in [*messages, out.out, out.err]:
        for s in secrets:
            assert s not in text


# ------------------------------------------------------------------------------ size guards


def test_many_teams_and_cohorts_fit_a_small_budget(monkeypatch):
    """Team counts are read from the member lists: 2000 teams x 1000 cohorts, once refused
    for a 3.8 MiB team-by-cohort matrix, plan within 1 MiB; a smaller budget still refuses."""
    monkeypatch.setenv("COHORTMATCH_MEMORY_BUDGET", "1M")
    org = cm.Organisation(people=[cm.Person(id=f"p{i:04d}", team=f"t{i:04d}") for i in range(2000)])
    plan = cm.plan(org, [cm.Course(id="pairs", min_size=2, max_size=2)], **FAST)
    assert len(plan.cohorts) == 1000
    monkeypatch.setenv("COHORTMATCH_MEMORY_BUDGET", "100K")
    with pytest.raises(SizeLimitError, match=r"1000 cohorts .* would need .*more than the memory budget"):
        cm.plan(org, [cm.Course(id="pairs", min_size=2, max_size=2)], **FAST)


def test_golfer_matrices_over_budget(monkeypatch):
    monkeypatch.setenv("COHORTMATCH_MEMORY_BUDGET", "100K")
    org = cm.Organisation(people=[cm.Person(id=f"p{i:03d}", team=f"t{i % 9}") for i in range(120)])
    with pytest.raises(SizeLimitError, match="meeting matrices of the golfer engine"):
        cm.plan(org, [cm.Course(id="club", min_size=4, max_size=4, rounds=3)],
                policy=cm.Policy(max_meetings=1), **FAST)


def test_rounds_beyond_memory_are_refused_before_allocating():
    org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(100)])
    tracemalloc.start()
    try:
        with pytest.raises(SizeLimitError, match="participant places"):
            compile_problem(org, [cm.Course(id="c", min_size=2, max_size=4, rounds=10**9)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20


def test_more_cohorts_than_memory_are_refused_before_allocating():
    """A fixed cohort count far beyond the participants (found by the numeric fuzz target:
    the cohorts were built, 24 GB, before the rules could call it infeasible)."""
    org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(2)])
    tracemalloc.start()
    try:
        with pytest.raises(SizeLimitError, match="100000000 cohorts"):
            cm.plan(org, [cm.Course(id="c", min_size=1, max_size=1, cohorts=10**8)],
                    time_limit=None, work_limit=100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20


def test_dense_pair_values_over_budget(monkeypatch):
    import scipy.sparse as sp

    monkeypatch.setenv("COHORTMATCH_MEMORY_BUDGET", "1M")
    org = cm.Organisation(people=[cm.Person(id=f"p{i:03d}", team="a") for i in range(300)])
    course = [cm.Course(id="c", min_size=10, max_size=10)]
    values = np.ones((300, 300))
    with pytest.raises(SizeLimitError, match="dense 300 x 300 'pair_values'.*scipy.sparse"):
        compile_problem(org, course, cm.Policy(coverage="sum"), pair_values=values)
    problem = compile_problem(org, course, cm.Policy(coverage="sum"),
                              pair_values=sp.csr_array(values))  # the sparse path is allowed
    assert problem.n_units == 300


def test_mdgplib_header_beyond_memory():
    with pytest.raises(SizeLimitError, match=r"dense 100000 x 100000 value matrix"):
        parse_mdgplib("100000 2 ss 50000 50000 50000 50000\n0 1 1\n", name="huge")


def test_memory_budget_setting_is_validated(monkeypatch):
    monkeypatch.setenv("COHORTMATCH_MEMORY_BUDGET", "lots")
    with pytest.raises(InputError, match="COHORTMATCH_MEMORY_BUDGET must be a number of bytes"):
        parse_mdgplib("2 1 ss 2 2\n0 1 1\n", name="tiny")
