"""The README's four steps, run verbatim with the installed ``cohortmatch`` in a fresh folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

from cohortmatch.io import grouping_plan, read_courses, read_grouping, read_org

ROOT = Path(__file__).resolve().parent.parent


def _steps() -> list[str]:
    """The shell commands of the README's walk-through, continuation lines joined."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## From a spreadsheet export")
    section = text[start:text.index("5. **No gaps table", start)]  # steps 1-4; 5 needs a log
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    commands = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)
        commands += [line.strip() for line in joined.splitlines() if line.strip()]
    return commands


def test_readme_walkthrough_runs_verbatim(tmp_path):
    steps = _steps()
    assert len(steps) == 5 and steps[-2].startswith("cohortmatch score")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    outputs = []
    for command in steps:
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr and "warning" not in done.stderr
        outputs.append(done.stdout)
    assert (tmp_path / "org" / "grouping.csv").is_file()  # step 1 ships the grouping of step 4
    assert (tmp_path / "plan.xlsx").is_file() and (tmp_path / "report" / "report.html").is_file()
    score, better = outputs[-2], outputs[-1]
    org = read_org(tmp_path / "org/people.csv", tmp_path / "org/gaps.csv")
    courses = read_courses(tmp_path / "courses.csv", people=org.people)
    leads = len(courses[1].participants or ())
    # the grouping is read as the course everyone takes, with its own cohort count; the
    # people of the other course are reported as left out, and the hard rules it breaks
    assert "read as course 'presenting'" in score
    assert "course 'presenting': 42 cohorts per round, as in the grouping" in score
    assert re.search(r"breaks \d+ hard rule\(s\)", score)
    assert f"leaves out {leads} place(s) of the request" in score
    assert "courses    as the grouping is split" not in score  # the request's own bound
    assert "it leaves out" in better and "the plan adds +" in better
    plan = pd.read_csv(tmp_path / "better.csv")
    assert len(plan) == len(org.people) + leads
    # the improved plan, read back as a grouping, keeps every rule and leaves nobody out
    again = grouping_plan(read_grouping(tmp_path / "better.csv"), org, courses)
    assert again.violations == [] and again.plan.unassigned == ()
