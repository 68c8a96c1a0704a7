"""Cover mode's tie-break: the cover value is kept, cohorts bridge gaps again."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.engines.base import Budget, SolverResult
from cohortmatch.engines.tiebreak import break_ties, tie_break_problem
from cohortmatch.scoring import score


def _bridged_again(plan: cm.Plan) -> int:
    counts: dict[tuple[str, str], int] = {}
    for c in plan.cohorts:
        for b in c.bridges:
            counts[(b.a, b.b)] = counts.get((b.a, b.b), 0) + 1
    return sum(1 for n in counts.values() if n >= 2)


def _plans(org: cm.Organisation, courses: list[cm.Course], seed: int, **policy: object):
    kw = dict(time_limit=None, work_limit=20_000, seed=seed, workers=1)
    plain = cm.plan(org, courses, policy=cm.Policy(tie_break="none", **policy), **kw)
    tied = cm.plan(org, courses, policy=cm.Policy(**policy), **kw)
    return plain, tied


def test_demo_like_request_has_no_cohort_bridging_nothing():
    """A silos organisation whose gaps are all bridged early: without the tie-break some
    cohorts bridge nothing; with it (the default) every cohort bridges a gap and the cover
    value is the same."""
    org = cm.org_chart(1000, preset="silos", seed=2026)
    courses = [cm.Course(id="c", min_size=12, max_size=16)]
    plain, tied = _plans(org, courses, 7, max_per_team=2)
    assert plain.metrics.coverage == 1.0
    assert min(len(c.bridges) for c in plain.cohorts) == 0
    assert tied.metrics.objective == plain.metrics.objective
    assert min(len(c.bridges) for c in tied.cohorts) > 0
    assert _bridged_again(tied) > _bridged_again(plain)
    assert any(n.startswith("tie-break:") for n in tied.notes)
    assert cm.validate(tied, org, courses, cm.Policy(max_per_team=2)) == []


@settings(max_examples=15, deadline=None)
@given(people=st.integers(20, 60), teams=st.integers(3, 10), seed=st.integers(0, 10_000),
       cap=st.sampled_from([None, 2]))
def test_tie_break_never_lowers_the_cover_value(people, teams, seed, cap):
    """Same seed and work: the tie-break changes only which plan of the same cover value is
    returned, and never bridges fewer gaps a second time."""
    rng = np.random.default_rng(seed)
    names = [f"t{i}" for i in range(teams)]
    persons = [cm.Person(id=f"p{i}", team=names[int(rng.integers(teams))]) for i in range(people)]
    used = sorted({p.team for p in persons})
    gaps = [cm.Gap(a=a, b=b, weight=float(rng.integers(1, 5))) for i, a in enumerate(used)
            for b in used[i + 1:] if rng.random() < 0.5]
    org = cm.Organisation(people=persons, gaps=gaps)
    courses = [cm.Course(id="c", min_size=4, max_size=6)]
    try:
        plain, tied = _plans(org, courses, seed, max_per_team=cap)
    except cm.InfeasibleError:
        assume(False)
    assert tied.metrics.objective == plain.metrics.objective
    assert _bridged_again(tied) >= _bridged_again(plain)
    assert cm.validate(tied, org, courses, cm.Policy(max_per_team=cap)) == []


def test_break_ties_leaves_other_modes_and_spent_budgets_alone():
    org = cm.org_chart(60, preset="silos", seed=1)
    courses = [cm.Course(id="c", min_size=4, max_size=6)]
    for mode in ("diminishing", "sum"):
        problem = compile_problem(org, courses, cm.Policy(mode=mode))
        a = np.zeros(problem.n_units, np.int64)
        given_ = SolverResult(a, "feasible", float("inf"), "x")
        assert break_ties(problem, given_, budget=Budget(None, 10**6), rng=np.random.default_rng(0)) is given_
    problem = compile_problem(org, courses, cm.Policy())
    spent = Budget(None, 0)
    spent.spend(1)
    given_ = SolverResult(np.zeros(problem.n_units, np.int64), "feasible", float("inf"), "x")
    assert break_ties(problem, given_, budget=spent, rng=np.random.default_rng(0)) is given_


def test_tie_break_value_counts_a_second_bridge_at_the_tiny_decay():
    org = cm.Organisation(people=[cm.Person(id=f"p{i}", team=f"t{i % 2}") for i in range(4)],
                          gaps=[cm.Gap(a="t0", b="t1", weight=3.0)])
    problem = compile_problem(org, [cm.Course(id="c", min_size=2, max_size=2)], cm.Policy())
    twice = np.array([0, 0, 1, 1])
    assert score(problem, twice).objective == 3.0
    assert score(tie_break_problem(problem), twice).objective == pytest.approx(3.0003)


def test_policy_rejects_an_unknown_tie_break():
    with pytest.raises(Exception, match="tie_break"):
        cm.Policy(tie_break="more")
