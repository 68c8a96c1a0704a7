# ruff: noqa: E501  (tables of expected messages read best one per line)
"""Time slots: every engine keeps them, infeasible exactly when no plan exists, the kernels
decide as the rule counts, the pre-check's claims, bad input and partial plans."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rule_checks import planned_exactly_when_a_plan_exists, valid_or_explained

import cohortmatch as cm
from cohortmatch.compiled import cohorts_for
from cohortmatch.rules import active, check_assignment
from cohortmatch.rules.kernel import kernel_rules, move_ok, swap_ok
from cohortmatch.rules.slots import Slots, label_cohorts, relabel
from cohortmatch.scoring import SearchState

# ---------------------------------------------------------------- random requests


@st.composite
def timed_requests(draw, *, max_people: int = 8, max_slots: int = 3, second: bool = True, rounds: bool = True,
                   loose: bool = False, links: bool = False):
    """A random request with time slots, availability and a second course (feasible or not;
    ``loose`` sizes make most of them feasible)."""
    n = draw(st.integers(2, max_people))
    slots = [f"s{i}" for i in range(draw(st.integers(2 if loose else 1, max_slots)))]
    n_teams = draw(st.integers(1, 3))
    ids = [f"p{i}" for i in range(n)]

    def some_slots(pool: list[str], min_size: int = 0) -> list[str]:
        return draw(st.lists(st.sampled_from(pool), min_size=min_size, unique=True))

    min_size = 1 if loose else draw(st.integers(1, max(1, n // 2)))
    max_size = draw(st.integers(min_size + 2 * loose, min_size + 2 + loose))
    courses = [cm.Course(id="c", min_size=min_size, max_size=max_size, slots=slots if loose else some_slots(slots, 1),
                         max_cohorts_per_slot=draw(st.one_of(st.none(), st.integers(1 + loose, 2 + loose))),
                         rounds=draw(st.integers(1, 2)) if rounds else 1)]
    if second and draw(st.booleans()):
        who = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4, unique=True))
        courses.append(cm.Course(id="d", min_size=1, max_size=draw(st.integers(1, 3)), participants=who,
                                 slots=some_slots(slots, 1)))
    offered = sorted({s for c in courses for s in c.slots})
    people = [cm.Person(id=pid, team=f"t{draw(st.integers(0, n_teams - 1))}",
                        available=draw(st.one_of(st.none(), st.builds(lambda: some_slots(offered, 2 * loose)))))
              for pid in ids]
    teams = sorted({p.team for p in people})
    org = cm.Organisation(people=people, gaps=[cm.Gap(a=a, b=b) for a, b in itertools.combinations(teams, 2)])
    policy = cm.Policy(
        mode=draw(st.sampled_from(["cover", "diminishing", "sum"])),
        max_per_team=draw(st.one_of(st.none(), st.integers(1 + 2 * loose, 3 + loose))),
        separate_manager_and_reports=False,
        keep_apart=[ids[:2]] if links and draw(st.booleans()) else [],
    )
    return cm.Request(org=org, courses=courses, policy=policy)


def _blocks(request: cm.Request) -> list[tuple[cm.Course, int, list[str], int]]:
    everyone = [p.id for p in request.org.people]
    out = []
    for c in request.courses:
        who = list(c.participants) if c.participants is not None else everyone
        for r in range(c.rounds):
            out.append((c, r, who, cohorts_for(len(who), c)))
    return out


def any_plan_exists(request: cm.Request) -> bool:
    """Brute force: some slot for every cohort and cohort for every participant keeps every rule."""
    people = {p.id: p for p in request.org.people}
    cap = request.policy.max_per_team
    blocks = _blocks(request)
    per_block = []  # for each block, the feasible (labels, person -> slot) pairs
    for course, _, who, k in blocks:
        options = set()
        for labels in itertools.product(course.slots, repeat=k):
            if course.max_cohorts_per_slot is not None and max(labels.count(s) for s in labels) > course.max_cohorts_per_slot:
                continue
            for cohort_of in itertools.product(range(k), repeat=len(who)):
                sizes = [cohort_of.count(i) for i in range(k)]
                if any(not course.min_size <= s <= course.max_size for s in sizes):
                    continue
                if cap is not None and any(
                        sum(1 for m, x in zip(who, cohort_of, strict=True) if x == i and people[m].team == t) > cap
                        for i in range(k) for t in {p.team for p in people.values()}):
                    continue
                at = tuple(labels[x] for x in cohort_of)
                if any(people[m].available is not None and s not in people[m].available for m, s in zip(who, at, strict=True)):
                    continue
                options.add((labels, tuple(zip(who, at, strict=True))))
        per_block.append((course.id, options))
    # capacity is per course over its rounds, clashes per person over every block
    for choice in itertools.product(*(opts for _, opts in per_block)):
        used: dict[tuple[str, str], int] = {}
        for (cid, _), (labels, _) in zip(per_block, choice, strict=True):
            for s in labels:
                used[(cid, s)] = used.get((cid, s), 0) + 1
        by_id = {c.id: c for c in request.courses}
        if any(by_id[cid].max_cohorts_per_slot is not None and n > by_id[cid].max_cohorts_per_slot
               for (cid, _), n in used.items()):
            continue
        seen = [pair for _, attends in choice for pair in attends]
        if len(seen) == len(set(seen)):
            return True
    return False


SOLVERS = ["auto", "heuristic", "lns", "cpsat"]

# -------------------------------------------------------------- every engine keeps them


@pytest.mark.parametrize("solver", SOLVERS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=st.one_of(timed_requests(links=True), timed_requests(links=True, loose=True)))
def test_every_engine_keeps_slots(solver, request):
    plan = valid_or_explained(request, solver)
    if plan is None:
        return
    timed = {c.id for c in request.courses if c.slots}
    assert all((c.slot is not None) == (c.course in timed) for c in plan.cohorts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=timed_requests(max_people=5, max_slots=3))
def test_infeasible_exactly_when_no_plan_exists(request):
    planned_exactly_when_a_plan_exists(request, any_plan_exists(request))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=timed_requests(max_people=5, max_slots=3))
def test_what_the_precheck_claims_is_true(request):
    """Every conflict the slot rule's counting reports means that no plan exists (brute force)."""
    problem = request.compile()
    claims = Slots(problem).precheck() if Slots.applies(problem) else []
    if claims:
        assert not any_plan_exists(request), claims


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=timed_requests(max_people=8))
def test_partial_places_everyone_it_can_and_says_why(request):
    plan = cm.plan(request, time_limit=None, work_limit=2_000, seed=0, on_infeasible="partial")
    assert cm.validate(plan, request) == []
    places = {(m, c.course, c.round) for c in plan.cohorts for m in c.members}
    left = {(u.person, u.course, u.round) for u in plan.unassigned}
    wanted = {(m, c.id, r) for c, r, who, _ in _blocks(request) for m in who}
    assert places | left == wanted and not places & left
    assert all(u.reason for u in plan.unassigned)


# ------------------------------------------------- the kernels decide as the rules count


def _labelled_state(request: cm.Request, seed: int) -> SearchState | None:
    try:
        plan = cm.plan(request, solver="heuristic", time_limit=None, work_limit=300, seed=seed)
    except cm.InfeasibleError:
        return None
    problem = request.compile()
    index = {s: i for i, s in enumerate(problem.slot_ids)}
    labels = problem.cohort_slot.copy()
    a = np.full(problem.n_units, -1, np.int64)
    unit_of = problem.unit_index()
    for c in plan.cohorts:
        k = problem.cohort_index(c.id)
        labels[k] = index[c.slot] if c.slot is not None else -1
        for m in c.members:
            a[unit_of[(m, c.course, c.round)]] = k
    return SearchState(problem.with_slots(labels), a)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=timed_requests(max_people=9, loose=True), data=st.data())
def test_kernel_decisions_are_the_rules_own(request, data):
    """From a valid plan, the compiled checks allow a move or swap exactly when every rule's
    own count of violations stays zero afterwards (the slot rule's included)."""
    state = _labelled_state(request, data.draw(st.integers(0, 3)))
    if state is None:
        return
    p = state.problem
    R = kernel_rules(p)
    rules = active(p)
    assert check_assignment(p, state.assignment).total == 0
    for _ in range(20):
        a = state.assignment
        u = data.draw(st.integers(0, p.n_units - 1))
        if data.draw(st.booleans()):
            b = int(p.unit_block[u])
            k = data.draw(st.integers(int(p.block_cohorts[b]), int(p.block_cohorts[b + 1]) - 1))
            after = a.copy()
            after[u] = k
            said = move_ok(R, u, a[u], k, p.unit_team, a, state.counts, state.size, p.cohort_min, p.cohort_max)
            if k == a[u]:
                assert not said
                continue
        else:
            b = int(p.unit_block[u])
            v = data.draw(st.integers(int(p.block_units[b]), int(p.block_units[b + 1]) - 1))
            if a[u] == a[v]:
                continue
            after = a.copy()
            after[u], after[v] = a[v], a[u]
            said = swap_ok(R, u, v, p.unit_team, a, state.counts)
        counts = {r.name: r.violations(after) for r in rules}
        assert bool(said) == (sum(counts.values()) == 0), counts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=timed_requests(max_people=9, loose=True), data=st.data())
def test_relabelling_keeps_the_rule(request, data):
    state = _labelled_state(request, data.draw(st.integers(0, 3)))
    if state is None:
        return
    moved = relabel(state.problem, state.assignment, np.random.default_rng(data.draw(st.integers(0, 9))))
    if moved is not None:
        assert check_assignment(moved, state.assignment).total == 0
        assert (moved.cohort_slot != state.problem.cohort_slot).any()


# ----------------------------------------------------------------- named cases, errors

SLOTS = ["2027-01-12 09:00", "2027-01-19 09:00", "2027-01-26 09:00"]


def _org(n: int = 24, only: dict[int, list[str]] | None = None) -> cm.Organisation:
    only = only or {}
    return cm.Organisation(
        people=[cm.Person(id=f"p{i:02d}", team="mp"[i % 2], available=only.get(i)) for i in range(n)],
        gaps=[cm.Gap(a="m", b="p")],
    )


def test_the_issue_example_is_explained_in_words():
    org = _org(26, {i: SLOTS[:1] for i in range(14)})
    course = cm.Course(id="presenting", min_size=10, max_size=12, slots=SLOTS, max_cohorts_per_slot=1)
    with pytest.raises(cm.InfeasibleError, match=r"14 people can only come on '2027-01-12 09:00', which holds at most 1 cohort of 12"):
        cm.plan(org, [course], time_limit=2)


@pytest.mark.parametrize(("course", "only", "message"), [
    ({"slots": SLOTS[:2], "max_cohorts_per_slot": 1, "min_size": 4, "max_size": 4}, {},
     r"course 'x': 6 cohorts but 2 slot\(s\) x max_cohorts_per_slot 1 = 2 places in the timetable"),
    ({"slots": SLOTS[:1]}, {0: [], 1: []},
     r"course 'x': 'p00', 'p01' can come at none of its slots \('2027-01-12 09:00'\)"),
    ({"slots": SLOTS[:2], "min_size": 8, "max_size": 8, "max_cohorts_per_slot": 2}, {i: SLOTS[:1] for i in range(20)},
     r"the people who can come fill at most 2 of its 3 cohorts of at least 8 \('2027-01-12 09:00': 24, '2027-01-19 09:00': 4\)"),
    ({"slots": SLOTS[:2], "rounds": 3}, {},
     r"take several course rounds with times but cannot come at a different slot for each"),
])
def test_contradictions_say_which_slots_and_which_people(course, only, message):
    spec = {"id": "x", "min_size": 6, "max_size": 8, **course}
    c = cm.Course(**spec)
    with pytest.raises(cm.InfeasibleError, match=message):
        cm.plan(_org(24, only), [c], time_limit=2)
    partial = cm.plan(_org(24, only), [c], time_limit=2, on_infeasible="partial")
    assert partial.status == "infeasible_partial"
    assert partial.unassigned and all(u.reason for u in partial.unassigned)
    assert cm.validate(partial, _org(24, only), [c]) == []


def test_a_team_confined_to_few_slots_is_counted_against_max_per_team():
    # the 8 'm' people p00..p14 can only come on the first slot, which holds 1 cohort: at most 4 of them
    org = _org(24, {i: SLOTS[:1] for i in range(0, 16, 2)})
    c = cm.Course(id="x", min_size=6, max_size=8, slots=SLOTS, max_cohorts_per_slot=1)
    policy = cm.Policy(max_per_team=4)
    with pytest.raises(cm.InfeasibleError, match=r"8 people of team 'm' can only come on '2027-01-12 09:00', which "
                                                 r"holds at most 1 cohort x max_per_team 4 \(4 places\)"):
        cm.plan(org, [c], policy=policy, time_limit=2)
    partial = cm.plan(org, [c], policy=policy, time_limit=2, on_infeasible="partial")
    assert cm.validate(partial, org, [c], policy) == []
    left = {u.person for u in partial.unassigned}
    assert len(left) == 4 and left <= {f"p{i:02d}" for i in range(0, 16, 2)}
    assert all("people of team 'm' can only come at '2027-01-12 09:00'" in u.reason for u in partial.unassigned)


def test_a_clash_between_two_courses_is_avoided():
    org = _org(12)
    a = cm.Course(id="a", min_size=6, max_size=6, slots=SLOTS[:2])
    b = cm.Course(id="b", min_size=6, max_size=6, slots=SLOTS[:2])
    for solver in ("heuristic", "lns", "cpsat"):
        plan = cm.plan(org, [a, b], solver=solver, time_limit=None, work_limit=2_000, seed=0)
        assert cm.validate(plan, org, [a, b]) == []
        when = {}
        for c in plan.cohorts:
            for m in c.members:
                assert (m, c.slot) not in when, (m, c.slot)
                when[(m, c.slot)] = c.id


def test_pinned_people_get_a_slot_they_can_come():
    org = _org(12, {0: [SLOTS[1]]})
    course = cm.Course(id="x", min_size=4, max_size=4, slots=SLOTS, pinned={"p00": "x-1"})
    plan = cm.plan(org, [course], solver="heuristic", time_limit=None, work_limit=1_000, seed=0)
    assert plan.cohort("x-1").slot == SLOTS[1]
    assert label_cohorts(cm.Request(org=org, courses=[course]).compile(), np.random.default_rng(0)).cohort_slot[0] == 1


@pytest.mark.parametrize(("make", "message"), [
    (lambda: cm.Course(id="x", min_size=1, max_size=2, max_cohorts_per_slot=2),
     r"course 'x', field 'max_cohorts_per_slot': needs slots"),
    (lambda: cm.Course(id="x", min_size=1, max_size=2, slots=["mon", "mon"]), r"slot 'mon' is listed twice"),
    (lambda: cm.Person(id="p", team="t", available=["mon; tue"]), r"a label cannot hold ';'"),
    (lambda: cm.Person(id="p", team="t", available=[""]), r"a slot label must be a non-empty string"),
])
def test_bad_slot_input_names_the_record(make, message):
    with pytest.raises(cm.InputError, match=message):
        make()


def test_an_unknown_slot_in_availability_is_an_input_error():
    org = _org(4, {2: ["2027-02-30 09:00"]})
    with pytest.raises(cm.InputError, match=r"person .p02. \(org.people\[2\]\), field .available.: unknown slot .2027-02-30 09:00."):
        cm.plan(org, [cm.Course(id="x", min_size=2, max_size=2, slots=SLOTS)], time_limit=1)


def test_engines_that_cannot_keep_slots_refuse_by_name():
    org = _org(8)
    course = cm.Course(id="x", min_size=4, max_size=4, slots=SLOTS, rounds=2)
    with pytest.raises(cm.InputError, match="'golfer' cannot plan this request: it cannot keep slots"):
        cm.plan(org, [course], policy=cm.Policy(max_meetings=1), solver="golfer", time_limit=1)
    with pytest.raises(cm.InputError, match="'tabu' cannot plan this request: it cannot keep slots"):
        cm.plan(org, [course], policy=cm.Policy(mode="sum"), pair_values=np.ones((8, 8)), solver="tabu",
                time_limit=1)
    plan = cm.plan(org, [course], policy=cm.Policy(max_meetings=2), time_limit=None, work_limit=1_000, seed=0)
    assert plan.solver == "heuristic"
    assert cm.validate(plan, org, [course], cm.Policy(max_meetings=2)) == []


def test_validate_names_each_slot_fault():
    org = _org(4, {0: [SLOTS[0], SLOTS[2]]})
    courses = [cm.Course(id="x", min_size=2, max_size=2, slots=SLOTS[:2], max_cohorts_per_slot=1),
               cm.Course(id="y", min_size=4, max_size=4, slots=SLOTS[1:])]
    plan = cm.plan(org, courses, time_limit=None, work_limit=500, seed=0)
    assert cm.validate(plan, org, courses) == []
    bad = plan.model_copy(update={"cohorts": tuple(
        c.model_copy(update={"slot": SLOTS[1]}) for c in plan.cohorts)})
    found = "\n".join(cm.validate(bad, org, courses))
    assert "cannot come at '2027-01-19 09:00'" in found
    assert "cohorts at '2027-01-19 09:00'" in found
    assert "course 'x': 2 cohorts at '2027-01-19 09:00', max_cohorts_per_slot is 1" in found
    none = plan.model_copy(update={"cohorts": tuple(c.model_copy(update={"slot": None}) for c in plan.cohorts)})
    assert any("no slot, not one of the slots of course 'x'" in v for v in cm.validate(none, org, courses))


def test_a_start_plan_keeps_its_slots_as_a_start():
    org = _org(12)
    course = cm.Course(id="x", min_size=4, max_size=4, slots=SLOTS)
    first = cm.plan(org, [course], time_limit=None, work_limit=500, seed=0)
    again = cm.plan(org, [course], start=first, solver="heuristic", time_limit=None, work_limit=500, seed=1)
    assert cm.validate(again, org, [course]) == []
    wrong = first.model_copy(update={"cohorts": (first.cohorts[0].model_copy(update={"slot": "mon"}),
                                                 *first.cohorts[1:])})
    with pytest.raises(cm.InputError, match=r"start plan: cohort 'x-1' meets at 'mon', which is not a slot"):
        cm.plan(org, [course], start=wrong, time_limit=1)


def test_same_seed_same_timetable():
    org = _org(30, {i: SLOTS[i % 3 : i % 3 + 2] for i in range(0, 30, 3)})
    courses = [cm.Course(id="x", min_size=4, max_size=6, slots=SLOTS, max_cohorts_per_slot=2),
               cm.Course(id="y", min_size=3, max_size=5, slots=SLOTS, participants=[f"p{i:02d}" for i in range(0, 30, 2)])]
    plans = [cm.plan(org, courses, solver=s, time_limit=None, work_limit=3_000, seed=4).to_json(timings=False)
             for s in ("heuristic", "heuristic")]
    assert plans[0] == plans[1]


def test_replan_refuses_time_slots_by_name():
    org = _org(8)
    course = cm.Course(id="x", min_size=4, max_size=4, slots=SLOTS[:2])
    plan = cm.plan(org, [course], time_limit=None, work_limit=200, seed=0)
    with pytest.raises(cm.InputError, match=r"replan cannot keep time slots yet"):
        cm.replan(plan, org, [course], time_limit=1)


def test_repair_moves_people_away_from_slots_they_cannot_come():
    """Repair once skipped slot offenders (it asked every other rule whether a unit was bad)."""
    from cohortmatch.engines.construct import repair

    org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="t", available=["tue"] if i == 0 else None)
                                  for i in range(4)])
    problem = cm.Request(org=org, courses=[cm.Course(id="c", min_size=1, max_size=3, slots=["mon", "tue"])]).compile()
    state = SearchState(problem.with_slots([0, 1]), np.array([0, 0, 1, 1]))  # p0 on mon
    assert check_assignment(state.problem, state.assignment)
    assert repair(state, np.random.default_rng(0))
    assert state.assignment[0] == 1 and not check_assignment(state.problem, state.assignment)


def test_slots_with_a_hard_meeting_cap_fail_in_words_not_with_an_internal_error():
    """The golfer engine cannot keep slots and CP-SAT cannot keep max_meetings: when the
    construction fails, the error says so instead of reaching CP-SAT's model."""
    org = cm.Organisation(people=[cm.Person(id=f"p{i}", team=f"t{i}") for i in range(12)])
    course = cm.Course(id="c", min_size=3, max_size=3, rounds=3, slots=["mon", "tue", "wed"])
    request = cm.Request(org=org, courses=[course], policy=cm.Policy(max_meetings=1))
    try:
        plan = cm.plan(request, time_limit=None, work_limit=5_000, seed=0)
    except cm.InfeasibleError as err:
        assert "infeasibility is not proven" in err.conflicts[-1]
        assert "max_meetings" in err.conflicts[-1]
    else:
        assert cm.validate(plan, request) == []
