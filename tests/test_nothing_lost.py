"""Nothing lost under failure: with ``on_infeasible="partial"`` and every rule at once, each
participant of each course round is in a cohort of it or in ``unassigned`` with a reason.

The requests are random and often infeasible (tight sizes, links that conflict, quotas no
cohort can meet, slots nobody can attend); the checks use only the plan and the input:
``cm.validate`` (which re-checks every rule from the model alone) and the participant
lists written out below.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cohortmatch as cm

LEVELS = ["staff", "lead", "director"]
SITES = ["london", "leeds"]
SLOTS = ["mon", "tue", "wed"]


@st.composite
def every_rule(draw) -> cm.Request:
    """A random request of 2-14 people that may use every rule of the policy and course."""
    n = draw(st.integers(2, 14))
    n_teams = draw(st.integers(1, 4))
    offered = SLOTS[:draw(st.integers(0, 3))]  # the slots of the courses that have times
    people = []
    for i in range(n):
        manager = f"p{draw(st.integers(0, i - 1))}" if i and draw(st.integers(0, 3)) == 0 else None
        available = (tuple(draw(st.lists(st.sampled_from(offered), min_size=1, unique=True)))
                     if offered and draw(st.integers(0, 3)) == 0 else None)
        people.append(cm.Person(
            id=f"p{i}", team=f"t{draw(st.integers(0, n_teams - 1))}", manager=manager,
            attributes={"level": draw(st.sampled_from(LEVELS)), "site": draw(st.sampled_from(SITES))}
            if i else {"level": "director", "site": "london"},  # the values the quotas name exist
            available=available))
    teams = sorted({p.team for p in people})
    gaps = [cm.Gap(a=a, b=b, weight=draw(st.sampled_from([0.5, 1.0, 3.0])))
            for i, a in enumerate(teams) for b in teams[i + 1:] if draw(st.booleans())]
    org = cm.Organisation(people=people, gaps=gaps)
    ids = [p.id for p in people]
    pair = st.lists(st.sampled_from(ids), min_size=2, max_size=2, unique=True).map(tuple)
    courses = []
    for c in range(draw(st.integers(1, 2))):
        who = draw(st.lists(st.sampled_from(ids), min_size=1, unique=True)) if c else None
        lo = draw(st.integers(1, 4))
        rounds = draw(st.integers(1, 2))
        slots = tuple(offered) if c == 0 or draw(st.booleans()) else ()
        course = cm.Course(id=f"c{c}", min_size=lo, max_size=lo + draw(st.integers(0, 3)),
                           cohorts=draw(st.one_of(st.none(), st.integers(1, 3))), rounds=rounds,
                           participants=None if who is None else tuple(who), slots=slots)
        if draw(st.booleans()):  # pin someone of the course to its first cohort
            member = draw(st.sampled_from(who or ids))
            course = course.model_copy(update={"pinned": {member: f"c{c}-1"}})
        courses.append(course)
    policy = cm.Policy(
        mode=draw(st.sampled_from(["cover", "diminishing"])),
        max_per_team=draw(st.one_of(st.none(), st.integers(1, 3))),
        separate_manager_and_reports=draw(st.booleans()),
        keep_together=tuple(draw(st.lists(pair, max_size=2))),
        keep_apart=tuple(draw(st.lists(pair, max_size=2))),
        max_meetings=draw(st.one_of(st.none(), st.just(1))),
        balance=draw(st.sampled_from([[], ["level"], ["site"]])),
        no_isolation=draw(st.sampled_from([(), ("site",)])),
        at_most=draw(st.sampled_from([{}, {"level": {"director": 1}}])),
        at_least=draw(st.sampled_from([{}, {"site": {"london": 1}}])),
    )
    return cm.Request(org=org, courses=courses, policy=policy)


def _participants(request: cm.Request) -> set[tuple[str, str, int]]:
    """Every (person, course, round) the request asks to place, from the input alone."""
    everyone = [p.id for p in request.org.people]
    return {(person, c.id, r) for c in request.courses for r in range(c.rounds)
            for person in (everyone if c.participants is None else c.participants)}


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(every_rule(), st.sampled_from(["auto", "heuristic"]))
def test_a_partial_plan_places_or_lists_everyone_under_every_rule(request, solver):
    try:
        plan = cm.plan(request, solver=solver, time_limit=None, work_limit=1_500, seed=0,
                       on_infeasible="partial")
    except cm.InfeasibleError as exc:  # only when no partial plan can be made: then say why
        assert str(exc)
        return
    assert cm.validate(plan, request) == []
    placed = [(m, c.course, c.round) for c in plan.cohorts for m in c.members]
    left = [(u.person, u.course, u.round) for u in plan.unassigned]
    assert len(placed) == len(set(placed)) and not set(placed) & set(left)
    assert set(placed) | set(left) == _participants(request)
    assert all(u.reason.strip() for u in plan.unassigned)
