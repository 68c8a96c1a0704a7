"""Nothing lost: every participant of every course round is placed once or listed with a reason;
partial plans of infeasible requests; interrupts return the best plan so far."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.errors import InfeasibleError, InputError
from cohortmatch.partial import reduce_request
from conftest import requests


def _reduce(org, courses, policy=None):
    return reduce_request(cm.Request(org=org, courses=courses, policy=policy or cm.Policy()))

FAST = {"time_limit": None, "work_limit": 400, "workers": 1}


def _people(teams: str, managers: dict[int, int] | None = None) -> list[cm.Person]:
    managers = managers or {}
    return [
        cm.Person(id=f"p{i:02d}", team=t, manager=f"p{managers[i]:02d}" if i in managers else None)
        for i, t in enumerate(teams)
    ]


def assert_nothing_lost(result: cm.Plan, org: cm.Organisation, courses) -> None:
    """Each participant of each course round: exactly once in a cohort or in unassigned."""
    seen: Counter[tuple[str, str, int]] = Counter()
    for c in result.cohorts:
        for m in c.members:
            seen[(m, c.course, c.round)] += 1
    for u in result.unassigned:
        assert u.reason.strip(), u
        seen[(u.person, u.course, u.round)] += 1
    expected = Counter(
        (pid, c.id, r)
        for c in courses
        for pid in (c.participants if c.participants is not None else [p.id for p in org.people])
        for r in range(c.rounds)
    )
    assert seen == expected


@st.composite
def programmes(draw):
    """A random request with extra courses, rounds, meeting caps and (sometimes) history."""
    org, courses, policy = draw(requests(max_people=10, max_teams=4))
    ids = [p.id for p in org.people]
    rounds = draw(st.integers(1, 2))
    courses = [courses[0].model_copy(update={"rounds": rounds})]
    if draw(st.booleans()):
        subset = draw(st.lists(st.sampled_from(ids), unique=True, min_size=0, max_size=len(ids)))
        lo = draw(st.integers(1, 4))
        courses.append(cm.Course(id="d", min_size=lo, max_size=lo + draw(st.integers(0, 2)),
                                 participants=tuple(subset)))
    if draw(st.booleans()):
        policy = policy.model_copy(update={
            "max_meetings": draw(st.integers(1, 2)),
            "meetings": draw(st.sampled_from(["hard", "soft"])),
        })
    history: list[cm.Plan] = []
    if draw(st.booleans()):
        size = draw(st.integers(1, max(1, len(ids))))
        first = cm.Course(id="before", min_size=1, max_size=size)
        history.append(cm.plan(org, [first], policy=cm.Policy(separate_manager_and_reports=False),
                               seed=0, **FAST))
    return org, courses, policy, history


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programmes(), st.integers(0, 3))
def test_nothing_lost(request, seed):
    org, courses, policy, history = request
    result = cm.plan(org, courses, policy=policy, history=history, on_infeasible="partial",
                     seed=seed, **FAST)
    assert_nothing_lost(result, org, courses)
    assert cm.validate(result, org, courses, policy, history=history) == []
    assert (result.status == "infeasible_partial") == bool(result.unassigned)
    try:
        strict = cm.plan(org, courses, policy=policy, history=history, seed=seed, **FAST)
    except InfeasibleError:  # an infeasible request leaves someone out, or a course is empty
        assert result.unassigned or any(n.startswith("partial: no participants")
                                        for n in result.notes)
    else:
        assert not strict.unassigned
        if not result.unassigned:  # a feasible request: partial mode changes nothing
            assert result.to_json(timings=False) == strict.to_json(timings=False)


def test_sizes_left_over():
    org = cm.Organisation(people=_people("ab" * 11 + "a"), gaps=[cm.Gap(a="a", b="b")])
    courses = [cm.Course(id="x", min_size=8, max_size=10)]
    result = cm.plan(org, courses, on_infeasible="partial", seed=1, **FAST)
    assert [len(c.members) for c in result.cohorts] == [10, 10]
    assert len(result.unassigned) == 3
    assert {u.reason for u in result.unassigned} == {
        "course 'x': 23 participants cannot form cohorts of 8-10; 3 left over"
    }
    assert result.status == "infeasible_partial"
    assert any(n.startswith("partial: 3 participant place(s)") for n in result.notes)
    assert cm.validate(result, org, courses) == []


def test_left_over_come_from_the_largest_team():
    # team a: 12 people, team b: 11; 3 must go: p22 (a), then p21 (b, the higher id), p20 (a)
    _, out = _reduce(cm.Organisation(people=_people("ab" * 11 + "a")),
                            [cm.Course(id="x", min_size=8, max_size=10)])
    assert sorted(x.person for x in out) == ["p20", "p21", "p22"]


def test_fixed_cohorts_too_many_and_too_few():
    org = cm.Organisation(people=_people("abc" * 5))
    courses = [cm.Course(id="big", min_size=2, max_size=3, cohorts=4),
               cm.Course(id="few", min_size=5, max_size=6, cohorts=4)]
    result = cm.plan(org, courses, on_infeasible="partial", seed=0, **FAST)
    reasons = Counter((u.course, u.reason) for u in result.unassigned)
    assert reasons == {
        ("big", "course 'big': 15 participants do not fit 4 cohort(s) of 2-3; 3 left over"): 3,
        ("few", "course 'few': 15 participants cannot fill 4 cohort(s) of 5-6 (needs at least "
                "20); nobody could be placed"): 15,
    }
    assert [c.course for c in result.cohorts] == ["big"] * 4
    assert cm.validate(result, org, courses) == []


def test_team_cap_overflow():
    org = cm.Organisation(people=_people("s" * 9 + "abcdefghijk"))
    courses = [cm.Course(id="c", min_size=10, max_size=10)]
    policy = cm.Policy(max_per_team=2)
    result = cm.plan(org, courses, policy=policy, on_infeasible="partial", seed=0, **FAST)
    # 5 of team s go for the cap; 15 cannot fill 2 cohorts of 10: the size cut takes the
    # largest team first, so the one cohort keeps 1 of s and 9 other teams
    out = [org.person(u.person).team for u in result.unassigned]
    assert len(out) == 10 and out.count("s") == 8
    assert [len(c.members) for c in result.cohorts] == [10]
    assert sum("team 's' has 9 participants but 2 cohort(s) x max_per_team 2 = 4 places; 5 left"
               in u.reason for u in result.unassigned) == 5
    assert_nothing_lost(result, org, courses)
    assert cm.validate(result, org, courses, policy) == []


def test_manager_who_cannot_be_separated():
    org = cm.Organisation(people=_people("abab", {1: 0, 2: 0}))
    courses = [cm.Course(id="c", min_size=1, max_size=4)]
    result = cm.plan(org, courses, on_infeasible="partial", seed=0, **FAST)
    assert [u.person for u in result.unassigned] == ["p00"]
    assert "manager" in result.unassigned[0].reason
    assert result.cohorts[0].members == ("p01", "p02", "p03")
    assert cm.validate(result, org, courses) == []


def test_manager_chain_leaves_out_a_minimum_cover():
    # p0 <- p1 <- p2 and p1 <- p3: leaving out p1 alone separates every pair
    org = cm.Organisation(people=_people("abcd", {1: 0, 2: 1, 3: 1}))
    _, out = _reduce(org, [cm.Course(id="c", min_size=1, max_size=4)])
    assert [x.person for x in out] == ["p01"]


def test_conflict_only_the_solver_finds_leaves_the_course_out():
    org = cm.Organisation(people=_people("aabbcd", {2: 0, 3: 0}))
    courses = [cm.Course(id="c", min_size=2, max_size=2, participants=("p00", "p01", "p02", "p03")),
               cm.Course(id="ok", min_size=2, max_size=2, participants=("p04", "p05"))]
    policy = cm.Policy(max_per_team=1)
    with pytest.raises(InfeasibleError):
        cm.plan(org, courses, policy=policy, seed=0, **FAST)
    result = cm.plan(org, courses, policy=policy, on_infeasible="partial", seed=0, **FAST)
    assert {u.course for u in result.unassigned} == {"c"}
    assert all(u.reason.startswith("course 'c': ") for u in result.unassigned)
    assert {c.course for c in result.cohorts} == {"ok"}
    assert cm.validate(result, org, courses, policy) == []


def test_nobody_placeable_gives_an_empty_plan():
    org = cm.Organisation(people=_people("ab"), gaps=[cm.Gap(a="a", b="b", weight=2.0)])
    courses = [cm.Course(id="c", min_size=3, max_size=4)]
    result = cm.plan(org, courses, on_infeasible="partial", seed=0, **FAST)
    assert result.cohorts == () and len(result.unassigned) == 2
    assert result.metrics.objective == 0.0 and result.metrics.total_weight == 2.0
    assert cm.validate(result, org, courses) == []


def test_on_infeasible_is_validated():
    org = cm.Organisation(people=_people("ab"))
    with pytest.raises(InputError, match="The 'on_infeasible' must be one of 'raise', 'partial'"):
        cm.plan(org, [cm.Course(id="c", min_size=1, max_size=2)], on_infeasible="skip", **FAST)


# ------------------------------------------------------------------------------ interrupts


def _interrupt_after(n: int):
    calls = []

    def progress(elapsed: float, best: float) -> None:
        calls.append(best)
        if len(calls) >= n:
            raise KeyboardInterrupt

    return progress, calls


@pytest.mark.parametrize("solver", ["heuristic", "lns", "cpsat"])
def test_interrupt_from_progress_returns_best_plan(solver):
    org = cm.org_chart(120, seed=1)
    courses = [cm.Course(id="c", min_size=5, max_size=6)]
    policy = cm.Policy(coverage="sum")  # no bound is reached: the search would run on
    progress, calls = _interrupt_after(2)
    result = cm.plan(org, courses, policy=policy, solver=solver, time_limit=30,
                     progress=progress, seed=0)
    assert len(calls) == 2  # the callback is not called again once it interrupted
    assert result.notes[-1].startswith("interrupted")
    assert result.elapsed < 20
    assert cm.validate(result, org, courses, policy) == []


def test_interrupt_inside_local_search_is_caught():
    import numpy as np

    from cohortmatch.compiled import compile_problem
    from cohortmatch.engines.base import Budget
    from cohortmatch.engines.construct import construct
    from cohortmatch.engines.local_search import local_search

    org = cm.org_chart(60, seed=2)
    problem = compile_problem(org, [cm.Course(id="c", min_size=4, max_size=5)],
                              cm.Policy(coverage="sum"))
    rng = np.random.default_rng(0)
    budget = Budget(time_limit=None, work_limit=10**6)
    state = construct(problem, rng, budget)
    start = state.assignment.copy()
    moves = {"n": 0}
    original = state.move

    def flaky_move(u, k):  # a Ctrl-C arriving in the middle of the search
        moves["n"] += 1
        if moves["n"] == 5:
            raise KeyboardInterrupt
        return original(u, k)

    state.move = flaky_move  # type: ignore[method-assign]
    best = local_search(state, rng, budget)
    assert budget.interrupted and budget.exhausted()
    from cohortmatch.rules import check_assignment
    assert not check_assignment(problem, best)
    assert best.shape == start.shape


def test_precompile_readies_the_kernels_every_engine_calls():
    """In a fresh interpreter, precompile() alone compiles (or loads) the engines' entry
    kernels, so no timed call pays for compilation."""
    import subprocess
    import sys

    script = (
        "import cohortmatch as cm\n"
        "from cohortmatch.scoring.score import _bridges_kernel\n"
        "from cohortmatch.engines import golfer, local_search, tabu\n"
        "entry = [_bridges_kernel, local_search.descent_kernel, local_search.ils_kernel,\n"
        "         tabu._descent, tabu._crossover, tabu._perturb, golfer._tabu_kernel]\n"
        "assert not any(k.signatures for k in entry)\n"
        "cm.precompile()\n"
        "print(' '.join(k.__name__ for k in entry if not k.signatures) or 'ready')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=600, check=True)
    assert out.stdout.strip() == "ready", out.stdout
