"""The plan in a notebook: its HTML summary and its DataFrames."""

from __future__ import annotations

import sys

import pytest

import cohortmatch as cm


@pytest.fixture(scope="module")
def law():
    org = cm.datasets.lazega_lawfirm()
    courses = [cm.Course(id="bizdev", min_size=6, max_size=8)]
    plan = cm.plan(org, courses, policy=cm.Policy(max_per_team=4, coverage="diminishing", decay=0.5),
                   time_limit=None, work_limit=500, seed=3)
    return org, plan


def test_repr_html_is_short_escaped_and_shows_metrics_cohorts_and_misses():
    org = cm.Organisation(people=[cm.Person(id=f"<p{i}>", team=["<a>", "b", "c"][i % 3]) for i in range(12)],
                          gaps=[cm.Gap(a="<a>", b="b", weight=2.0), cm.Gap(a="b", b="c")])
    plan = cm.plan(org, [cm.Course(id="<x>", min_size=1, max_size=1)], time_limit=None, work_limit=50, seed=0)
    page = plan._repr_html_()
    assert "<x>" not in page and "&lt;x&gt;" in page  # every value escaped
    assert "coverage" in page and "met a gap partner" in page and "proven upper bound" in page
    assert page.count("<tr><td>") == 5 and "... and 7 more cohorts" in page  # the first five
    assert "missed gaps: 2 of 2, weight 3 of 3" in page  # cohorts of one bridge nothing
    full = cm.plan(org, [cm.Course(id="y", min_size=4, max_size=4)], time_limit=None, work_limit=200, seed=0)
    assert "missed gaps: none, all 2 are bridged" in full._repr_html_()
    assert len(full._repr_html_()) < 3000


def test_to_frame_has_one_row_per_member_and_the_attributes_with_the_org(law):
    org, plan = law
    plain = plan.to_frame()
    assert list(plain.columns) == ["person", "cohort", "course", "round", "team"]
    assert len(plain) == sum(len(c.members) for c in plan.cohorts) == 71
    frame = plan.to_frame(org)
    attributes = ["status", "gender", "office", "practice", "seniority", "age", "law_school"]
    assert list(frame.columns) == list(plain.columns) + attributes
    person = org.person("law42")
    row = frame.set_index("person").loc["law42"]
    assert row["team"] == person.team and row["cohort"] == next(c.id for c in plan.cohorts if "law42" in c.members)
    assert {a: row[a] for a in attributes} == person.attributes


def test_to_frame_renames_clashing_attributes_and_rejects_strangers():
    org = cm.Organisation(people=[cm.Person(id="x", team="a", attributes={"round": "spring", "site": 1}),
                                  cm.Person(id="y", team="b")])
    plan = cm.plan(org, [cm.Course(id="c", min_size=2, max_size=2)], time_limit=None, work_limit=10, seed=0)
    frame = plan.to_frame(org)
    assert list(frame.columns)[5:] == ["attribute:round", "site"]
    assert frame["round"].tolist() == [0, 0] and frame["attribute:round"].tolist()[0] == "spring"
    other = cm.Organisation(people=[cm.Person(id="x", team="a")])
    with pytest.raises(cm.InputError, match=r"Plan.to_frame: member 'y' is not a person of the organisation"):
        plan.to_frame(other)


def test_summary_frame_has_one_row_per_cohort(law):
    _, plan = law
    frame = plan.summary_frame()
    assert list(frame["cohort"]) == [c.id for c in plan.cohorts]
    assert frame["members"].tolist() == [len(c.members) for c in plan.cohorts]
    assert frame["teams"].tolist() == [len(set(c.teams)) for c in plan.cohorts]
    assert frame["gaps_bridged"].sum() == sum(len(c.bridges) for c in plan.cohorts)
    assert frame["bridged_weight"].tolist() == pytest.approx([sum(b.weight for b in c.bridges) for c in plan.cohorts])
    assert frame["gap_pairs"].tolist() == [sum(b.pairs for b in c.bridges) for c in plan.cohorts]


def test_frames_say_how_to_install_pandas_when_it_is_missing(law, monkeypatch):
    _, plan = law
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    for method in (plan.to_frame, plan.summary_frame):
        with pytest.raises(ImportError, match=r"needs pandas: pip install 'cohortmatch\[tables\]'"):
            method()
    assert "coverage" in plan._repr_html_()  # the HTML summary needs no pandas
