"""Reports and plots show teams by their names, and count people and places apart."""

from __future__ import annotations

import cohortmatch as cm
from cohortmatch.display import named_teams, people_and_places, team_labels
from cohortmatch.plots import cohort_composition, gap_graph, gap_matrix
from cohortmatch.report import html_report, markdown_report


def _request() -> tuple[cm.Plan, cm.Organisation]:
    """Eight people in teams mkt (Marketing), prod (Product), eng and ops (no names); two courses."""
    teams = [cm.Team(id="biz", name="Business"), cm.Team(id="mkt", name="Marketing", parent="biz"),
             cm.Team(id="prod", name="Product", parent="biz"), cm.Team(id="eng", parent="biz"),
             cm.Team(id="ops", parent="biz")]
    people = [cm.Person(id=f"p{i}", team=("mkt", "prod", "eng", "ops")[i % 4]) for i in range(8)]
    org = cm.Organisation(people=people, teams=teams,
                          gaps=[cm.Gap(a="mkt", b="prod", weight=3.0), cm.Gap(a="eng", b="ops", weight=1.0),
                                cm.Gap(a="mkt", b="eng", weight=0.5)])
    courses = [cm.Course(id="all", min_size=4, max_size=4),
               cm.Course(id="pairs", min_size=2, max_size=2, participants=("p0", "p1", "p2", "p3"))]
    return cm.plan(org, courses, time_limit=None, work_limit=300, seed=0), org


def test_team_labels_are_names_where_given_and_stay_distinct():
    org = cm.Organisation(people=[cm.Person(id="x", team="a")],
                          teams=[cm.Team(id="a", name="Sales"), cm.Team(id="b", name="Sales"),
                                 cm.Team(id="c", name="a"), cm.Team(id="d")])
    assert team_labels(org) == {"a": "Sales (a)", "b": "Sales (b)", "c": "a (c)", "d": "d"}


def test_reports_show_team_names():
    plan, org = _request()
    for text in (markdown_report(plan, org), html_report(plan, org)):
        assert "Marketing" in text and "Product" in text and "eng" in text
        assert "mkt" not in text and "prod" not in text
    shown, named = named_teams(plan, org)
    assert cm.validate(shown, named, [cm.Course(id="all", min_size=4, max_size=4),
                                      cm.Course(id="pairs", min_size=2, max_size=2,
                                                participants=("p0", "p1", "p2", "p3"))]) == []


def test_plots_show_team_names():
    plan, org = _request()
    ticks = [t.get_text() for t in gap_matrix(plan, org).axes[0].get_xticklabels()]
    assert {"Marketing", "Product", "eng", "ops"} <= set(ticks)
    texts = {t.get_text() for t in gap_graph(plan, org).axes[0].texts}
    assert {"Marketing", "Product"} <= texts
    legend = cohort_composition(plan, org).axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Business"]  # the teams' parent, by name


def test_people_and_places_are_counted_and_labelled_apart():
    plan, org = _request()
    assert people_and_places(plan) == (8, 12)  # four people take both courses
    text = markdown_report(plan, org)
    assert "| people placed | 8 |" in text
    assert "| places filled | 12 (one per person, course and round) |" in text
    assert "| places not filled | 0 |" in text
