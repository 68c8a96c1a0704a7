"""The mix rules in files: command-line options, the JSON request and schema, the report and plot."""

# ruff: noqa: E501  (tables of expected messages read best one per line)

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cohortmatch as cm
from cohortmatch.cli import main
from cohortmatch.io import read_courses, read_org, read_request, request_schema
from cohortmatch.plots import cohort_mix
from cohortmatch.report import markdown_report, write_report


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    """24 people in 4 teams; levels and sites to mix."""
    rows = ["id,team,manager,level,site,role"]
    for t, team in enumerate(["mkt", "prod", "eng", "ops"]):
        rows.append(f"{team}-lead,{team},,manager,{'north' if t % 2 else 'south'},first aider")
        rows += [f"{team}-{i},{team},{team}-lead,staff,{'north' if i % 3 else 'south'},staff" for i in range(1, 6)]
    paths = {"people": tmp_path / "people.csv", "gaps": tmp_path / "gaps.csv", "courses": tmp_path / "courses.csv"}
    paths["people"].write_text("\n".join(rows) + "\n")
    paths["gaps"].write_text("team_a,team_b,weight\nmkt,prod,3\neng,ops,2\nmkt,eng,1\n")
    paths["courses"].write_text("id,min_size,max_size\npresenting,6,8\n")
    return paths


def _args(files, *extra):
    return ["plan", "--people", str(files["people"]), "--gaps", str(files["gaps"]),
            "--courses", str(files["courses"]), "--seed", "1", "--time-limit", "2", *extra]


def test_mix_options_plan_and_report(files, tmp_path, capsys):
    out, report = tmp_path / "plan.json", tmp_path / "report"
    code = main(_args(files, "--balance", "level,site", "--no-isolation", "site", "--at-most", "level=manager:2",
                      "--at-least", "role=first aider:1", "--out", str(out), "--report", str(report),
                      "--compare-without-mix"))
    assert code == 0
    text = capsys.readouterr().out
    assert "mix        level, site, role counted; balance deviation 0; objective" in text
    plan = cm.Plan.from_json(out.read_text())
    org = read_org(files["people"], files["gaps"])
    policy = cm.Policy(balance=["level", "site"], no_isolation=["site"], at_most={"level": {"manager": 2}},
                       at_least={"role": {"first aider": 1}})
    assert cm.validate(plan, org, read_courses(files["courses"], people=org.people), policy) == []
    assert all(1 <= plan.mix.counts[c.id]["level"]["manager"] <= 2 for c in plan.cohorts)
    assert plan.mix.without_mix is not None
    assert (report / "mix.png").is_file()
    page = (report / "report.md").read_text()
    assert "| price of the mix | objective" in page and "Mix: level manager ×" in page


@pytest.mark.parametrize(("extra", "message"), [
    (["--balance", "levle"], "--balance: no person has the attribute 'levle'; the attributes are 'level', 'role', 'site', 'team'"),
    (["--no-isolation", "sight"], "--no-isolation: no person has the attribute 'sight'"),
    (["--at-most", "level=director:1"], "--at-most: no person has level 'director'; its values are 'manager', 'staff'"),
    (["--at-least", "role=first aider"], "--at-least 'role=first aider': write ATTRIBUTE=VALUE:COUNT"),
    (["--balance", "level=a:b"], "--balance level=a:b: bins are numbers"),
])
def test_bad_mix_options_exit_2_naming_the_option(files, capsys, extra, message):
    assert main(_args(files, *extra)) == 2
    assert message in capsys.readouterr().err


def test_infeasible_mix_exits_3_and_says_why(files, capsys):
    assert main(_args(files, "--at-least", "level=manager:2")) == 3
    assert "at_least level='manager': 3 cohorts need 6, only 4 participants have it" in capsys.readouterr().err


def test_the_json_request_holds_the_mix_rules(files):
    schema = request_schema()
    policy = schema["$defs"]["Policy"]["properties"]
    assert {"balance", "balance_mode", "no_isolation", "at_most", "at_least"} <= set(policy)
    org = read_org(files["people"], files["gaps"])
    req = cm.Request(org=org, courses=[cm.Course(id="x", min_size=6, max_size=8)],
                     policy=cm.Policy(balance={"level": None}, at_least={"role": {"first aider": 1}}))
    back = read_request(json.loads(req.to_json()))
    assert back.policy == req.policy
    with pytest.raises(cm.InputError, match=r"policy.at_most.level.manager.*valid integer"):
        read_request({**json.loads(req.to_json()), "policy": {"at_most": {"level": {"manager": "one"}}}})


def test_the_mix_plot_has_a_bar_per_cohort_stacked_by_value(files, tmp_path):
    org = read_org(files["people"], files["gaps"])
    courses = [cm.Course(id="x", min_size=6, max_size=8)]
    plan = cm.plan(org, courses, policy=cm.Policy(balance=["site"]), time_limit=None, work_limit=500, seed=0)
    fig = cohort_mix(plan)
    bars = fig.axes[0].patches
    assert len(bars) == len(plan.cohorts) * 2  # two sites
    assert sum(b.get_width() for b in bars) == 24
    assert "Mix: site north ×" in markdown_report(plan, org)
    plain = cm.plan(org, courses, time_limit=None, work_limit=100, seed=0)
    assert "mix" not in write_report(plain, org, tmp_path / "r")
    with pytest.raises(ValueError, match="needs a plan made with mix rules"):
        cohort_mix(plain)
