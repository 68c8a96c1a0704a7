"""Person-level metrics: gap partners met, vectorised and naive, in Metrics and validate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.partners import gap_partner_counts, partner_summary
from cohortmatch.result import build_plan
from cohortmatch.scoring import score


def _org():
    """a-b and b-c have gaps; d has none. Two people per team."""
    people = [cm.Person(id=f"{t}{i}", team=t) for t in "abcd" for i in range(2)]
    return cm.Organisation(people=people, gaps=[cm.Gap(a="a", b="b"), cm.Gap(a="b", b="c")])


def _plan_of(problem, assignment):
    return build_plan(problem, assignment, score(problem, assignment), bound=0.0,
                      status="feasible", seed=None, elapsed=0.0, solver="test")


def test_named_case_counts_distinct_partners_over_two_courses():
    org = _org()
    courses = [cm.Course(id="x", min_size=4, max_size=4), cm.Course(id="y", min_size=4, max_size=4)]
    prob = compile_problem(org, courses)
    idx = {pid: i for i, pid in enumerate(prob.person_ids)}
    # course x: {a0, a1, b0, d0} and {b1, c0, c1, d1}; course y: {a0, b0, c0, d0} and the rest
    cohort = {("x", "a0"): 0, ("x", "a1"): 0, ("x", "b0"): 0, ("x", "d0"): 0,
              ("x", "b1"): 1, ("x", "c0"): 1, ("x", "c1"): 1, ("x", "d1"): 1,
              ("y", "a0"): 2, ("y", "b0"): 2, ("y", "c0"): 2, ("y", "d0"): 2,
              ("y", "a1"): 3, ("y", "b1"): 3, ("y", "c1"): 3, ("y", "d1"): 3}
    a = np.full(prob.n_units, -1)
    for (course, pid), k in cohort.items():
        a[prob.unit_index()[(pid, course, 0)]] = k
    counts, placed = gap_partner_counts(prob, a)
    got = {pid: int(counts[i]) for pid, i in idx.items()}
    # a0 meets b0 twice (counted once); b0 meets a0, a1 and c0; c1 meets b1 twice
    assert got == {"a0": 1, "a1": 2, "b0": 3, "b1": 3, "c0": 2, "c1": 1, "d0": 0, "d1": 0}
    assert placed.all()
    plan = _plan_of(prob, a)
    assert cm.gap_partners(plan, org) == got
    assert plan.metrics.met_gap_partner == pytest.approx(6 / 8)
    assert plan.metrics.median_gap_partners == pytest.approx(1.5)


def test_unplaced_people_are_not_participants_and_no_gaps_give_zero():
    org = _org()
    prob = compile_problem(org, [cm.Course(id="x", min_size=2, max_size=2)])
    a = np.full(prob.n_units, -1)
    counts, placed = gap_partner_counts(prob, a)
    assert not placed.any() and not counts.any()
    assert partner_summary(counts[placed]) == (0.0, 0.0)
    plan = _plan_of(prob, a)
    assert (plan.metrics.met_gap_partner, plan.metrics.median_gap_partners) == (0.0, 0.0)
    assert cm.gap_partners(plan, org) == {}


@st.composite
def _random_assignments(draw):
    n_people = draw(st.integers(2, 10))
    n_teams = draw(st.integers(1, 4))
    teams = [f"t{i}" for i in range(n_teams)]
    people = [cm.Person(id=f"p{i}", team=teams[draw(st.integers(0, n_teams - 1))])
              for i in range(n_people)]
    pairs = [(teams[i], teams[j]) for i in range(n_teams) for j in range(i + 1, n_teams)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    org = cm.Organisation(people=people, teams=[cm.Team(id=t) for t in teams],
                          gaps=[cm.Gap(a=a, b=b) for a, b in chosen])
    courses = [cm.Course(id="x", min_size=1, max_size=n_people, rounds=draw(st.integers(1, 2))),
               cm.Course(id="y", min_size=1, max_size=n_people, cohorts=2)]
    courses = courses[: draw(st.integers(1, 2))]  # one course of one round: nobody meets twice
    prob = compile_problem(org, courses)
    a = np.array([draw(st.integers(-1, int(prob.block_cohorts[prob.unit_block[u] + 1]) - 1))
                  for u in range(prob.n_units)])
    lo = prob.block_cohorts[prob.unit_block]
    a = np.where(a < 0, -1, np.maximum(a, lo))  # a cohort of the unit's own block, or none
    return org, prob, a


@settings(max_examples=150, deadline=None)
@given(_random_assignments())
def test_vectorised_count_equals_the_naive_recount(case):
    org, prob, a = case
    counts, placed = gap_partner_counts(prob, a)
    plan = _plan_of(prob, a)
    naive = cm.gap_partners(plan, org)
    assert {prob.person_ids[i] for i in np.flatnonzero(placed)} == set(naive)
    index = {pid: i for i, pid in enumerate(prob.person_ids)}
    assert {pid: int(counts[index[pid]]) for pid in naive} == naive
    assert not counts[~placed].any()
    share, median = partner_summary(counts[placed])
    assert plan.metrics.met_gap_partner == share and plan.metrics.median_gap_partners == median


def test_plans_report_the_figures_and_validate_checks_them():
    org = cm.datasets.krackhardt_hightech()
    courses = [cm.Course(id="c", min_size=5, max_size=6)]
    plan = cm.plan(org, courses, time_limit=None, work_limit=500, seed=1)
    m = plan.metrics
    assert 0 < m.met_gap_partner <= 1 and m.median_gap_partners >= 1
    assert cm.validate(plan, org, courses) == []
    wrong = plan.model_copy(update={"metrics": m.model_copy(update={"met_gap_partner": 0.25})})
    assert cm.validate(wrong, org, courses) == [
        f"reported met_gap_partner 0.25 differs from the recomputed {m.met_gap_partner}"]
    wrong = plan.model_copy(update={"metrics": m.model_copy(update={"median_gap_partners": 99.0})})
    assert any("median_gap_partners 99.0 differs" in v for v in cm.validate(wrong, org, courses))
    old = plan.model_copy(update={"metrics": m.model_copy(
        update={"met_gap_partner": None, "median_gap_partners": None})})
    assert cm.validate(old, org, courses) == []  # a plan that does not report them
    assert cm.Plan.from_json(plan.to_json()).metrics == m
