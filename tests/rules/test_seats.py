"""Seats: who is placed, the waitlist, fit, course limits and fairness over time."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rule_checks import valid_or_explained

import cohortmatch as cm
from cohortmatch.seats import places_for, seat_conflicts


def _org(n: int, teams: int = 3, *, managers: bool = False, seed: int = 0) -> cm.Organisation:
    people = [cm.Person(id=f"p{i:02d}", team=f"t{i % teams}",
                        manager="p00" if managers and i % 4 == 1 else None,
                        interests={"x": ((i * 7 + seed) % 10) / 10, "y": ((i * 3 + seed) % 10) / 10})
              for i in range(n)]
    gaps = [cm.Gap(a=f"t{a}", b=f"t{b}", weight=1.0 + (a + b) % 3)
            for a in range(teams) for b in range(a + 1, teams)]
    return cm.Organisation(people=people, gaps=gaps)


def _waiting(plan: cm.Plan) -> set[tuple[str, str]]:
    return {(u.person, u.course) for u in plan.unassigned}


# ------------------------------------------------------------------- the model
def test_required_must_be_a_participant() -> None:
    with pytest.raises(cm.InputError, match="field 'required': 'p9' is not a participant"):
        cm.Course(id="x", min_size=2, max_size=3, participants=["p1", "p2"], required=["p9"])


def test_required_listed_twice_is_an_error() -> None:
    with pytest.raises(cm.InputError, match="required person 'p1' is given twice"):
        cm.Course(id="x", min_size=2, max_size=3, required=["p1", "p1"])


@pytest.mark.parametrize("field, value", [("fit_weight", -1.0), ("fit_weight", math.inf),
                                          ("max_courses_per_person", 0)])
def test_bad_policy_values(field: str, value: float) -> None:
    with pytest.raises(cm.InputError, match=field):
        cm.Policy(**{field: value})


def test_unknown_required_person_names_the_course() -> None:
    req = cm.Request(org=_org(6), courses=[cm.Course(id="x", min_size=2, max_size=3, seats=4,
                                                     required=["nobody"])])
    with pytest.raises(cm.InputError, match="course 'x', field 'required': unknown person 'nobody'"):
        cm.plan(req, time_limit=None, work_limit=100)


@given(n=st.integers(0, 60), lo=st.integers(1, 6), extra=st.integers(0, 4), fixed=st.none() | st.integers(1, 5))
def test_places_for_is_the_largest_count_cohorts_hold(n: int, lo: int, extra: int, fixed: int | None) -> None:
    course = cm.Course(id="c", min_size=lo, max_size=lo + extra, cohorts=fixed)
    m = places_for(n, course)

    def holds(q: int) -> bool:
        ks = [fixed] if fixed is not None else range(1, q + 1)
        return q > 0 and any(k * lo <= q <= k * (lo + extra) for k in ks)

    assert m <= n
    assert m == 0 or holds(m)
    assert not any(holds(q) for q in range(m + 1, n + 1))


# --------------------------------------------------------------- infeasibility
@pytest.mark.parametrize("course, policy, words", [
    (cm.Course(id="x", min_size=4, max_size=5, seats=3), cm.Policy(),
     "course 'x': 3 seat(s), fewer than the 4 one cohort needs"),
    (cm.Course(id="x", min_size=1, max_size=5, seats=2, required=["p01", "p02", "p03"]), cm.Policy(),
     "course 'x': 3 people must get a seat (required or pinned), more than its 2 seat(s)"),
])
def test_seat_conflicts_are_infeasible_in_words(course: cm.Course, policy: cm.Policy, words: str) -> None:
    req = cm.Request(org=_org(9), courses=[course], policy=policy)
    with pytest.raises(cm.InfeasibleError, match=words.replace("(", r"\(").replace(")", r"\)")):
        cm.plan(req, time_limit=None, work_limit=100)


def test_required_in_more_courses_than_allowed() -> None:
    courses = [cm.Course(id=c, min_size=1, max_size=3, seats=3, required=["p01"]) for c in "xy"]
    req = cm.Request(org=_org(6), courses=courses, policy=cm.Policy(max_courses_per_person=1))
    assert seat_conflicts(req) == ["1 person(s) must get a seat in more courses than "
                                   "max_courses_per_person (1) allows, e.g. 'p01' in 2"]


# -------------------------------------------------------------- plans and waitlists
def test_seats_required_and_waitlist() -> None:
    req = cm.Request(org=_org(20), courses=[cm.Course(id="x", min_size=3, max_size=4, seats=8,
                                                      required=["p19"])],
                     policy=cm.Policy(fit_weight=1.0))
    plan = cm.plan(req, time_limit=None, work_limit=2000, seed=3)
    assert cm.validate(plan, req) == []
    placed = {m for c in plan.cohorts for m in c.members}
    assert len(placed) == 8 and "p19" in placed
    assert len(plan.unassigned) == 12
    assert [u.rank for u in plan.unassigned] == list(range(1, 13))
    assert all(u.reason.startswith("not selected: ") for u in plan.unassigned)
    m = plan.metrics
    assert m.fit is not None and m.total == pytest.approx(m.objective + m.fit)
    assert m.total_bound is not None and m.total_bound >= m.total


def test_high_fit_weight_places_the_keenest() -> None:
    org = _org(12, teams=1)  # one team, no gaps: only interest counts
    req = cm.Request(org=org, courses=[cm.Course(id="x", min_size=2, max_size=3, seats=6)],
                     policy=cm.Policy(fit_weight=5.0))
    plan = cm.plan(req, time_limit=None, work_limit=500, seed=0)
    placed = sorted(p.interests["x"] for p in org.people if p.id in {m for c in plan.cohorts for m in c.members})
    waiting = [org.person(u.person).interests["x"] for u in plan.unassigned]
    assert min(placed) >= max(waiting)
    assert plan.status == "optimal"  # the fit bound is met and no gap exists


def test_max_courses_per_person_across_courses() -> None:
    courses = [cm.Course(id=c, min_size=2, max_size=3, seats=6) for c in "xyz"]
    req = cm.Request(org=_org(10), courses=courses, policy=cm.Policy(max_courses_per_person=1))
    plan = cm.plan(req, time_limit=None, work_limit=1000, seed=0)
    assert cm.validate(plan, req) == []
    seen = [m for c in plan.cohorts for m in c.members]
    assert len(seen) == len(set(seen))
    assert any("max_courses_per_person" in u.reason for u in plan.unassigned)


def test_quarterly_course_reaches_everyone_in_turn() -> None:
    org = _org(24, teams=4)
    req = cm.Request(org=org, courses=[cm.Course(id="x", min_size=3, max_size=4, seats=8)],
                     policy=cm.Policy(fit_weight=1.0))
    history: list[cm.Plan] = []
    reached: set[str] = set()
    for _quarter in range(3):
        plan = cm.plan(req.model_copy(update={"history": tuple(history)}), time_limit=None,
                       work_limit=500, seed=1)
        placed = {m for c in plan.cohorts for m in c.members}
        assert not placed & reached  # nobody twice while others wait
        reached |= placed
        history.append(plan)
    assert len(reached) == 24


def test_already_attended_reason() -> None:
    req = cm.Request(org=_org(8, teams=2), courses=[cm.Course(id="x", min_size=2, max_size=4, seats=4)])
    first = cm.plan(req, time_limit=None, work_limit=200, seed=0)
    second = cm.plan(req.model_copy(update={"history": (first,)}), time_limit=None, work_limit=200, seed=0)
    attended = {m for c in first.cohorts for m in c.members}
    reasons = {u.person: u.reason for u in second.unassigned}
    assert set(reasons) == attended
    assert all("already attended" in r for r in reasons.values())


# ------------------------------------------------------------ property tests
@st.composite
def seat_requests(draw: st.DrawFn) -> cm.Request:
    n = draw(st.integers(4, 14))
    org = _org(n, teams=draw(st.integers(1, 4)), managers=draw(st.booleans()), seed=draw(st.integers(0, 9)))
    lo = draw(st.integers(1, 3))
    hi = lo + draw(st.integers(0, 2))
    courses = []
    for cid in draw(st.sampled_from(["x", "xy"])):
        cands = draw(st.lists(st.sampled_from([p.id for p in org.people]), min_size=1, max_size=n, unique=True))
        required = draw(st.lists(st.sampled_from(cands), max_size=2, unique=True))
        courses.append(cm.Course(id=cid, min_size=lo, max_size=hi, participants=sorted(cands),
                                 seats=draw(st.integers(1, n)), required=required))
    policy = cm.Policy(fit_weight=draw(st.sampled_from([0.0, 0.5, 2.0])),
                       max_per_team=draw(st.none() | st.integers(1, 3)),
                       max_courses_per_person=draw(st.none() | st.integers(1, 2)),
                       separate_manager_and_reports=draw(st.booleans()))
    return cm.Request(org=org, courses=courses, policy=policy)


@pytest.mark.parametrize("solver", ["heuristic", "cpsat", "lns"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(req=seat_requests())
def test_every_engine_keeps_seats_and_accounts_for_everyone(solver: str, req: cm.Request) -> None:
    plan = valid_or_explained(req, solver, work_limit=400)  # validate() checks seats, required, limits
    if plan is None:
        return
    placed = {(m, c.course) for c in plan.cohorts for m in c.members}
    for course in req.courses:
        for person in course.participants or ():
            key = (person, course.id)
            assert (key in placed) != (key in _waiting(plan))
    assert all(u.reason.startswith("not selected") for u in plan.unassigned)


# ------------------------------------------------------------------ brute force
def _best_total(req: cm.Request) -> float | None:
    """The best gap value + fit over every choice of people and cohorts (one course), or None.

    A course gets up to ``K`` cohorts, as many as its seats could fill
    (``floor(places / min_size)``); each cohort used holds ``min_size..max_size`` people,
    at most ``seats`` in all.
    """
    course, policy, org = req.courses[0], req.policy, req.org
    people = {p.id: p for p in org.people}
    cands = list(course.participants or people)
    weight = {g.key: g.weight for g in org.gaps}
    k = max(1, places_for(min(course.seats or len(cands), len(cands)), course) // course.min_size)
    best = None
    for labels in itertools.product(range(k + 1), repeat=len(cands)):  # label k: not placed
        chosen = [p for p, lab in zip(cands, labels, strict=True) if lab < k]
        groups = [g for j in range(k) if (g := [p for p, lab in zip(cands, labels, strict=True) if lab == j])]
        if not chosen or len(chosen) > (course.seats or len(cands)) or not set(course.required) <= set(chosen):
            continue
        if not all(course.min_size <= len(g) <= course.max_size for g in groups):
            continue
        if policy.max_per_team and any(sum(people[p].team == people[q].team for p in g) > policy.max_per_team
                                       for g in groups for q in g):
            continue
        if policy.separate_manager_and_reports and any(people[p].manager in g for g in groups for p in g):
            continue
        bridged = {(a, b) for g in groups for a in {people[p].team for p in g}
                   for b in {people[p].team for p in g} if (a, b) in weight}
        total = sum(weight[e] for e in bridged) + policy.fit_weight * sum(
            people[p].interests.get(course.id, 0.0) for p in chosen)
        best = total if best is None else max(best, total)
    return best


@st.composite
def tiny_requests(draw: st.DrawFn) -> cm.Request:
    n = draw(st.integers(3, 5))
    org = _org(n, teams=draw(st.integers(1, 3)), managers=draw(st.booleans()), seed=draw(st.integers(0, 9)))
    lo = draw(st.integers(1, 2))
    course = cm.Course(id="x", min_size=lo, max_size=lo + draw(st.integers(0, 1)),
                       seats=draw(st.integers(1, n)),
                       required=draw(st.lists(st.sampled_from([p.id for p in org.people]), max_size=2, unique=True)))
    policy = cm.Policy(fit_weight=draw(st.sampled_from([0.0, 1.0, 3.0])), max_per_team=draw(st.none() | st.just(1)))
    return cm.Request(org=org, courses=[course], policy=policy)


@settings(max_examples=25, deadline=None)
@given(req=tiny_requests())
def test_brute_force_bounds_and_infeasibility(req: cm.Request) -> None:
    best = _best_total(req)
    plan = valid_or_explained(req, "auto", work_limit=400)
    if best is None:
        assert plan is None  # no choice of people keeps the rules: an InfeasibleError
        return
    assert plan is not None, "a plan exists but the planner raised"
    m = plan.metrics
    assert m.total is not None and m.total_bound is not None
    assert m.total <= best + 1e-9 and m.total_bound >= best - 1e-9
    assert plan.status == "optimal"  # CP-SAT chose people and cohorts together
    assert m.total == pytest.approx(best)


def test_search_engines_refuse_a_problem_with_seats() -> None:
    from cohortmatch.engines.registry import choose

    org = _org(6)
    prob = cm.compiled.compile_problem(org, [cm.Course(id="x", min_size=2, max_size=3, cohorts=1)])
    seated = prob.with_seats([3], [False] * 6)
    for name in ("heuristic", "lns"):
        with pytest.raises(cm.InputError, match="cannot keep seats"):
            choose(seated, name)
    assert choose(seated, "auto")[0].name == "cpsat"


def test_cpsat_chooses_people_and_cohorts_together() -> None:
    req = cm.Request(org=_org(30, teams=6), courses=[cm.Course(id="x", min_size=3, max_size=4, seats=8)],
                     policy=cm.Policy(fit_weight=1.0, max_per_team=1))
    plan = cm.plan(req, time_limit=None, work_limit=2000, seed=0)
    assert plan.status == "optimal"
    assert any("chosen together by CP-SAT" in n for n in plan.notes)
    assert plan.metrics.total == plan.metrics.total_bound
    assert cm.validate(plan, req) == []


@pytest.mark.parametrize("solver", ["heuristic", "lns", "auto"])
def test_seats_with_mix_rules_links_and_slots(solver: str) -> None:
    org = _org(40, teams=5)
    people = [p.model_copy(update={"attributes": {"level": "senior" if i % 3 == 0 else "junior"},
                                   "available": ("mon", "tue") if i % 2 else ("tue", "wed")})
              for i, p in enumerate(org.people)]
    org = org.model_copy(update={"people": tuple(people)})
    courses = [cm.Course(id="x", min_size=4, max_size=6, seats=18, slots=["mon", "tue", "wed"]),
               cm.Course(id="y", min_size=3, max_size=5, seats=10, required=["p05"])]
    policy = cm.Policy(max_per_team=2, keep_apart=[["p01", "p02"]], keep_together=[["p03", "p04"]],
                       balance=["level"], fit_weight=1.0, max_courses_per_person=1)
    req = cm.Request(org=org, courses=courses, policy=policy)
    plan = cm.plan(req, solver=solver, time_limit=None, work_limit=1500, seed=2)
    assert cm.validate(plan, req) == []
    assert "p05" in {m for c in plan.cohorts if c.course == "y" for m in c.members}
    assert all(u.reason.startswith("not selected") for u in plan.unassigned)


def test_the_team_cap_counts_every_cohort_the_seats_can_fill():
    """One team, max_per_team=1, cohorts of 1-2: three seats fill three cohorts of one, so
    the whole team is seated (the fewest cohorts, two, would seat only two)."""
    people = [cm.Person(id=f"p{i}", team="t0", interests={"x": v}) for i, v in enumerate([0.0, 0.7, 0.4])]
    org = cm.Organisation(people=people)
    course = cm.Course(id="x", min_size=1, max_size=2, seats=3, required=("p0", "p1"))
    plan = cm.plan(org, [course], policy=cm.Policy(max_per_team=1, fit_weight=1.0), time_limit=None,
                   work_limit=2000, seed=0)
    assert sorted(m for c in plan.cohorts for m in c.members) == ["p0", "p1", "p2"]
    assert plan.metrics.total == pytest.approx(1.1)
