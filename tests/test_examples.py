"""The worked examples in examples/ run, and the notebook executes."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

SCRIPTS = {
    "presentation_skills.py": ["every cohort mixes marketing and product: True"],
    "wellbeing_managers.py": ["first-line managers", "coverage", "divisions per cohort",
                              "price of the mix: objective"],
    "lazega_lawfirm.py": ["71 lawyers in 6 office x practice teams", "random grouping"],
    "company_wide_course.py": ["heuristic: objective", "lns vs heuristic:",
                               "note: partition search:"],
    "group_of_companies.py": ["decompose= never: objective", "decompose=always: objective",
                              "note: decomposed into 4 blocks (3 divisions of the gap graph"],
    "presentation_sessions.py": ["every rule kept: True", "every part-timer at a session they work: True",
                                 "nobody in two cohorts at once: True",
                                 "every presenting cohort mixes marketing and product: True",
                                 "calendar: 6 events written to plan.ics"],
    "buddies_and_facilitators.py": ["facilitator e0009 pinned to leading-1: in leading-1",
                                    "every rule kept: True"],
    "hr_service.py": ["read 300 people", "passes the limit max_rows = 50,000", "stopped on request",
                      "4 users planned at once, every rule kept: True"],
    "quarterly_course.py": ["reached 180/180", "everybody who asked reached in 4 quarters: True",
                            "not selected: already attended"],
    "no_wasted_cohort.py": ["tie_break='diminishing': cover value", "cohorts bridging nothing: 0 of",
                            "cover value kept by the tie-break: True"],
    "replan_after_hr_changes.py": ["people moved, at least", "value bound: ", "people to email", "welcome, you are in",
                                   "25 of 25 published ids go on; new: leading-26", "every rule kept: True"],
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_example_script_runs(name, tmp_path, capsys):
    """Each script's ``main(argv)`` runs in-process (the scripts import nothing else)."""
    module = runpy.run_path(str(EXAMPLES / name), run_name="example")
    args = ["--time-limit", "1"]
    if name == "lazega_lawfirm.py":
        args += ["--report", str(tmp_path / "report")]
    if name == "company_wide_course.py":
        args += ["--people", "800"]
    if name == "group_of_companies.py":
        args += ["--people", "900", "--companies", "3"]
    plan = module["main"](args)
    out = capsys.readouterr().out
    for text in SCRIPTS[name]:
        assert text in out
    assert plan.cohorts
    if name == "lazega_lawfirm.py":
        assert (tmp_path / "report" / "report.html").is_file()


def test_example_script_runs_as_a_program():
    done = subprocess.run([sys.executable, str(EXAMPLES / "presentation_skills.py"),
                           "--time-limit", "0.5"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr
    assert "every cohort mixes marketing and product: True" in done.stdout


def test_notebook_executes(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(EXAMPLES / "from_hr_export.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "coverage" in text and "bound" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2
    assert "meet a gap partner, median" in text
    pages = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("cohortmatch-plan" in p and "met a gap partner" in p for p in pages)  # Plan._repr_html_
    assert any("gaps_bridged" in p for p in pages)  # summary_frame
    assert any("company" in p and "mean" in p for p in pages)  # gap partners by company
