"""Plots: the gap matrix, the gap graph and cohort composition draw what the plan holds."""

# ruff: noqa: E501  (tables of expected messages read best one per line)

from __future__ import annotations

import io

import numpy as np

import cohortmatch as cm
from cohortmatch.plots import cohort_composition, gap_graph, gap_matrix


def _plan(n_teams=6):
    teams = [f"t{i}" for i in range(n_teams)]
    org = cm.Organisation(
        people=[cm.Person(id=f"p{i:02d}", team=teams[i % n_teams],
                          attributes={"site": "ny" if i % 2 else "ldn"}) for i in range(4 * n_teams)],
        teams=[cm.Team(id="root")] + [cm.Team(id=t, parent="root") for t in teams],
        gaps=[cm.Gap(a=teams[i], b=teams[(i + 1) % n_teams], weight=1.0 + i) for i in range(n_teams)],
    )
    courses = [cm.Course(id="c", min_size=3, max_size=3)]
    plan = cm.plan(org, courses, time_limit=None, work_limit=300, seed=1)
    assert cm.validate(plan, org, courses) == []
    return plan, org


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_gap_matrix_marks_exactly_the_bridged_cells():
    plan, org = _plan()
    fig = gap_matrix(plan, org)
    after = fig.axes[1]
    dots = after.collections[0].get_offsets()
    bridged = {tuple(sorted((b.a, b.b))) for c in plan.cohorts for b in c.bridges}
    assert len(dots) == 2 * len(bridged)  # symmetric matrix
    before = fig.axes[0].images[0].get_array()
    assert np.ma.count(before) == 2 * len(org.gaps)
    assert _png(fig).startswith(b"\x89PNG")


def test_gap_matrix_keeps_the_heaviest_teams_of_a_large_org():
    plan, org = _plan(n_teams=12)
    fig = gap_matrix(plan, org, max_teams=5)
    assert fig.axes[0].images[0].get_array().shape == (5, 5)


def test_gap_graph_colours_bridged_edges():
    plan, org = _plan()
    fig = gap_graph(plan, org)
    bridged = sum(1 for g in org.gaps
                  if any({b.a, b.b} == {g.a, g.b} for c in plan.cohorts for b in c.bridges))
    assert fig.axes[0].get_title() == f"Gap graph: 6 teams, 6 gaps, {bridged} bridged"
    assert _png(fig).startswith(b"\x89PNG")


def test_cohort_composition_bars_add_up_to_cohort_sizes():
    plan, org = _plan()
    fig = cohort_composition(plan, org, by="site")
    ax = fig.axes[0]
    widths = np.zeros(len(plan.cohorts))
    for bar in ax.patches:
        widths[int(round(bar.get_y() + bar.get_height() / 2))] += bar.get_width()
    assert widths.tolist() == [len(c.members) for c in plan.cohorts]
    assert "by site" in ax.get_title()
    assert "parent unit" in cohort_composition(plan, org).axes[0].get_title()
    assert "by team" in cohort_composition(plan).axes[0].get_title()
    small = cohort_composition(plan, org, max_cohorts=2)
    assert "(first 2 of 8)" in small.axes[0].get_title()
