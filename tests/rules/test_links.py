# ruff: noqa: E501  (tables of expected messages read best one per line)
"""keep_together, keep_apart and pinned: every engine keeps them, infeasible exactly when no
plan exists, the kernels decide as the rules count, bad input and contradictions explained."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rule_checks import (
    partial_accounts_for_everyone,
    planned_exactly_when_a_plan_exists,
    some_labelling_keeps,
    valid_or_explained,
    valid_state,
    with_soft_meetings,
)

import cohortmatch as cm
from cohortmatch.compiled import cohorts_for
from cohortmatch.rules import RULES, active, check_assignment
from cohortmatch.rules.kernel import group_move_ok, kernel_rules, move_ok, swap_ok

# ---------------------------------------------------------------- random requests


@st.composite
def linked_requests(draw, *, max_people: int = 9, max_teams: int = 4, rounds: bool = False,
                    loose: bool = False):
    """A random request with keep_together, keep_apart and pinned places (feasible or not;
    ``loose`` sizes make most of them feasible)."""
    n = draw(st.integers(2, max_people))
    n_teams = draw(st.integers(1, max_teams))
    ids = [f"p{i}" for i in range(n)]
    managers = [None] + [draw(st.sampled_from([None, None, *ids[:i]])) for i in range(1, n)]
    people = [cm.Person(id=ids[i], team=f"t{draw(st.integers(0, n_teams - 1))}", manager=managers[i])
              for i in range(n)]
    teams = sorted({p.team for p in people})
    pairs = [(a, b) for a, b in itertools.combinations(teams, 2)]
    gaps = [cm.Gap(a=a, b=b, weight=draw(st.sampled_from([0.5, 1.0, 3.0])))
            for a, b in draw(st.lists(st.sampled_from(pairs), unique=True)) ] if pairs else []
    org = cm.Organisation(people=people, gaps=gaps)

    def group() -> list[str]:
        return draw(st.lists(st.sampled_from(ids), min_size=2, max_size=3, unique=True))

    together = draw(st.lists(st.builds(group), max_size=2))
    apart = draw(st.lists(st.builds(group), max_size=2))
    min_size = 1 if loose else draw(st.integers(1, max(1, n // 2)))
    max_size = draw(st.integers(min_size + 2, min_size + 3)) if loose else draw(st.integers(min_size, min_size + 2))
    fixed = draw(st.one_of(st.none(), st.integers(1, 3))) if not loose else None
    n_rounds = draw(st.integers(1, 2)) if rounds else 1
    course = cm.Course(id="c", min_size=min_size, max_size=max_size, cohorts=fixed, rounds=n_rounds)
    k = cohorts_for(n, course)
    pins = {p: f"c-{draw(st.integers(1, k))}" for p in draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))}
    course = course.model_copy(update={"pinned": pins})
    policy = cm.Policy(
        mode=draw(st.sampled_from(["cover", "diminishing", "sum"])),
        max_per_team=draw(st.one_of(st.none(), st.integers(1, 3))),
        separate_manager_and_reports=draw(st.booleans()),
        keep_together=together,
        keep_apart=apart,
    )
    return cm.Request(org=org, courses=[course], policy=policy)


def keeps_every_rule(request: cm.Request, cohort_of: dict[str, int], k: int) -> bool:
    """An assignment of one one-round course, checked from the request alone (brute force)."""
    course, policy = request.courses[0], request.policy
    people = {p.id: p for p in request.org.people}
    sizes = [0] * k
    for c in cohort_of.values():
        sizes[c] += 1
    if any(not course.min_size <= s <= course.max_size for s in sizes):
        return False
    for c in range(k):
        members = [p for p, x in cohort_of.items() if x == c]
        teams = [people[m].team for m in members]
        if policy.max_per_team is not None and any(teams.count(t) > policy.max_per_team for t in teams):
            return False
        if policy.separate_manager_and_reports and any(people[m].manager in members for m in members):
            return False
        if any(len(set(g) & set(members)) > 1 for g in policy.keep_apart):
            return False
    for g in policy.keep_together:
        if len({cohort_of[m] for m in g}) > 1:
            return False
    return all(cohort_of[p] == int(c.rsplit("-", 1)[1]) - 1 for p, c in course.pinned.items())


def any_plan_exists(request: cm.Request) -> bool:
    return some_labelling_keeps(request, keeps_every_rule)


# -------------------------------------------------------------- every engine keeps them


@pytest.mark.parametrize("solver", ["auto", "heuristic", "lns", "cpsat"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=linked_requests())
def test_every_engine_keeps_links_and_pins(solver, request):
    valid_or_explained(request, solver)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=linked_requests(max_people=8, rounds=True))
def test_golfer_keeps_links_and_pins(request):
    valid_or_explained(with_soft_meetings(request), "golfer", work_limit=3_000)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=linked_requests(max_people=7, max_teams=3))
def test_infeasible_exactly_when_no_plan_exists(request):
    planned_exactly_when_a_plan_exists(request, any_plan_exists(request))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=linked_requests(max_people=8))
def test_partial_places_everyone_it_can_and_says_why(request):
    partial_accounts_for_everyone(request)


# ------------------------------------------------- the kernels decide as the rules count



@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=linked_requests(max_people=9, loose=True), data=st.data())
def test_kernel_decisions_are_the_rules_own(request, data):
    """From a valid plan, the compiled checks allow a move, swap or group move exactly when
    every rule's own count of violations stays zero afterwards."""
    state = valid_state(request, data.draw(st.integers(0, 3)), 200)
    if state is None:
        return
    p = state.problem
    R = kernel_rules(p)
    rules = active(p)
    for _ in range(20):
        a = state.assignment
        u = data.draw(st.integers(0, p.n_units - 1))
        if data.draw(st.booleans()):
            k = data.draw(st.integers(0, p.n_cohorts - 1))
            after = a.copy()
            g = R.unit_group[u]
            if g >= 0:
                mates = R.group_units[R.group_indptr[g] : R.group_indptr[g + 1]]
                after[mates] = k
                said = group_move_ok(R, g, a[u], k, p.unit_team, a, state.counts, state.size,
                                     p.cohort_min, p.cohort_max)
            else:
                after[u] = k
                said = move_ok(R, u, a[u], k, p.unit_team, a, state.counts, state.size,
                               p.cohort_min, p.cohort_max)
            if k == a[u]:
                assert not said
                continue
        else:
            v = data.draw(st.integers(0, p.n_units - 1))
            if a[u] == a[v]:
                continue
            after = a.copy()
            after[u], after[v] = a[v], a[u]
            said = swap_ok(R, u, v, p.unit_team, a, state.counts)
        counts = {r.name: r.violations(after) for r in rules if r.name != "max_meetings"}
        assert bool(said) == (sum(counts.values()) == 0), counts
        assert bool(said) == (check_assignment(p, after).total == 0)


# ----------------------------------------------------------------- named cases, errors


def _org(n: int = 8, teams: str = "ab") -> cm.Organisation:
    return cm.Organisation(
        people=[cm.Person(id=f"p{i}", team=teams[i % len(teams)]) for i in range(n)],
        gaps=[cm.Gap(a="a", b="b")] if len(teams) > 1 else [],
    )


def test_every_rule_is_registered_once_with_its_name():
    names = [r.name for r in RULES]
    assert names == ["sizes", "max_per_team", "keep_apart", "keep_together", "pinned", "max_meetings",
                     "at_most", "at_least", "no_isolation", "balance", "slots", "seats"]


def test_a_pinned_facilitator_and_a_buddy_pair():
    org = _org(12)
    course = cm.Course(id="x", min_size=4, max_size=4, pinned={"p0": "x-2"})
    policy = cm.Policy(keep_together=[["p0", "p5"]], keep_apart=[["p1", "p3", "p7"]])
    for solver in ("heuristic", "lns", "cpsat"):
        plan = cm.plan(org, [course], policy=policy, solver=solver, time_limit=None, work_limit=3000, seed=1)
        assert cm.validate(plan, cm.Request(org=org, courses=[course], policy=policy)) == []
        second = plan.cohort("x-2").members
        assert "p0" in second and "p5" in second
        assert all(len({"p1", "p3", "p7"} & set(c.members)) <= 1 for c in plan.cohorts)


def test_pins_over_rounds_name_one_round_or_every_round():
    org = _org(8)
    course = cm.Course(id="x", min_size=4, max_size=4, rounds=2,
                       pinned={"p0": "x-2", "p1": ("x-r1-1", "x-r2-2")})
    plan = cm.plan(org, [course], time_limit=None, work_limit=500, seed=0)
    got = {(m, c.id) for c in plan.cohorts for m in c.members}
    assert {("p0", "x-r1-2"), ("p0", "x-r2-2"), ("p1", "x-r1-1"), ("p1", "x-r2-2")} <= got


@pytest.mark.parametrize(("policy", "course", "message"), [
    (cm.Policy(keep_apart=[["p0", "zz"]]), {}, r"field 'keep_apart' \(group 1\): unknown person 'zz'"),
    (cm.Policy(keep_together=[["zz", "p0"]]), {}, r"field 'keep_together' \(group 1\): unknown person 'zz'"),
    (cm.Policy(), {"pinned": {"zz": "x-1"}}, r"course 'x', field 'pinned': unknown person 'zz'"),
    (cm.Policy(), {"pinned": {"p0": "x-9"}}, r"'p0' is pinned to 'x-9', which is not a cohort of the course"),
    (cm.Policy(), {"participants": ("p1", "p2", "p3", "p4"), "pinned": {"p1": "x-r3-1"}, "rounds": 2},
     r"pinned to 'x-r3-1', which is not a cohort of the course \(its cohorts are x-r1-1 to x-r1-1"),
])
def test_bad_links_and_pins_name_the_record(policy, course, message):
    base = {"id": "x", "min_size": 4, "max_size": 4}
    with pytest.raises(cm.InputError, match=message):
        cm.plan(_org(8), [cm.Course(**{**base, **course})], policy=policy, time_limit=1)


def test_a_person_linked_to_themself_is_a_bad_record():
    with pytest.raises(cm.InputError, match=r"keep_apart\[0\]: 'p1' is listed twice"):
        cm.Policy(keep_apart=[["p1", "p1"]])
    with pytest.raises(cm.InputError, match="not a participant"):
        cm.Course(id="x", min_size=1, max_size=2, participants=["p1"], pinned={"p2": "x-1"})


@pytest.mark.parametrize(("policy", "pins", "message"), [
    (cm.Policy(keep_together=[["p0", "p1", "p2", "p3", "p4"]]), {},
     r"keep_together group 'p0', 'p1', 'p2', 'p3', 'p4' has 5 people, more than a cohort holds \(4\)"),
    (cm.Policy(keep_together=[["p0", "p1"]], keep_apart=[["p1", "p0"]]), {},
     r"must share a cohort, but 'p0' and 'p1' must be apart"),
    (cm.Policy(keep_apart=[["p0", "p1", "p2"]]), {},
     r"keep_apart group 'p0', 'p1', 'p2' needs 3 cohorts but has 2"),
    (cm.Policy(keep_together=[["p0", "p1"]]), {"p0": "x-1", "p1": "x-2"},
     r"must share a cohort but is pinned to 'x-1', 'x-2'"),
    (cm.Policy(), {f"p{i}": "x-1" for i in range(5)}, r"5 people are pinned to 'x-1', which holds at most 4"),
    (cm.Policy(keep_apart=[["p0", "p1"]]), {"p0": "x-1", "p1": "x-1"}, r"'p0' and 'p1' are pinned to 'x-1' but must be apart"),
    (cm.Policy(max_per_team=1, keep_together=[["p0", "p2"]]), {}, r"holds 2 members of team 'a', more than max_per_team 1"),
])
def test_contradictions_say_which_rule_and_which_people(policy, pins, message):
    course = cm.Course(id="x", min_size=4, max_size=4, pinned=pins)
    with pytest.raises(cm.InfeasibleError, match=message):
        cm.plan(_org(8), [course], policy=policy, time_limit=2)
    partial = cm.plan(_org(8), [course], policy=policy, time_limit=2, on_infeasible="partial")
    assert partial.status == "infeasible_partial"
    assert partial.unassigned and all(u.reason for u in partial.unassigned)
    assert cm.validate(partial, _org(8), [course], policy) == []


def test_together_with_a_meeting_cap_over_rounds_is_explained():
    course = cm.Course(id="x", min_size=4, max_size=4, rounds=2)
    policy = cm.Policy(max_meetings=1, keep_together=[["p0", "p1"]])
    with pytest.raises(cm.InfeasibleError, match="meets in 2 course rounds, more than max_meetings 1"):
        cm.plan(_org(8), [course], policy=policy, time_limit=2)


def test_engines_that_cannot_keep_a_rule_refuse_by_name():
    org = _org(8)
    V = np.ones((8, 8))
    policy = cm.Policy(mode="sum", max_per_team=3)
    with pytest.raises(cm.InputError, match="'tabu' cannot plan this request: it cannot keep max_per_team"):
        cm.plan(org, [cm.Course(id="x", min_size=4, max_size=4)], policy=policy, pair_values=V,
                solver="tabu", time_limit=1)
    plan = cm.plan(org, [cm.Course(id="x", min_size=4, max_size=4)], policy=policy, pair_values=V,
                   time_limit=1, seed=0)
    assert plan.solver == "heuristic"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=linked_requests(max_people=9), data=st.data())
def test_the_pair_value_engine_keeps_links_and_pins(request, data):
    n = len(request.org.people)
    V = np.asarray(data.draw(st.lists(st.floats(0, 5), min_size=n * n, max_size=n * n))).reshape(n, n)
    request = request.model_copy(update={
        "policy": request.policy.model_copy(update={"mode": "sum", "max_per_team": None}),
        "pair_values": V + V.T,
    })
    try:
        plan = cm.plan(request, solver="tabu", time_limit=None, work_limit=5_000, seed=0)
    except cm.InfeasibleError as err:
        assert err.conflicts
        return
    assert plan.solver == "tabu"
    assert cm.validate(plan, request) == []
