"""Re-planning a published plan: fewest moves, stable ids, what changed and why."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from replan_cases import brute_force_moves, brute_force_value_at_fewest, edit, random_request

import cohortmatch as cm
from cohortmatch.replanning.anchors import best_anchor, count_moves, initial_anchor
from cohortmatch.replanning.changes import moved_units
from cohortmatch.replanning.previous import read_previous
from cohortmatch.replanning.repair import moves_lower_bound
from cohortmatch.replanning.value_bound import fewest_moves_value_bound
from cohortmatch.result import build_plan
from cohortmatch.rules import check_assignment
from cohortmatch.scoring import score

RUN = {"time_limit": None, "work_limit": 5000, "seed": 3}


def given_plan(req: cm.Request, cohorts: list[list[str]], ids: list[str] | None = None) -> cm.Plan:
    """A published plan with these cohorts (in the course's cohort order), scored."""
    problem = req.compile()
    index = problem.unit_index()
    a = np.full(problem.n_units, -1, np.int64)
    for k, members in enumerate(cohorts):
        for m in members:
            a[index[(m, req.courses[0].id, 0)]] = k
    plan = build_plan(problem, a, score(problem, a), bound=float("inf"), status="feasible", seed=None,
                      elapsed=0.0, solver="hand-made")
    if ids is not None:
        plan = plan.model_copy(update={"cohorts": tuple(c.model_copy(update={"id": i})
                                                        for c, i in zip(plan.cohorts, ids, strict=True))})
    return plan


def org_of(teams: str, **managers: str) -> cm.Organisation:
    """People p0, p1, ... in the teams named by the letters; gaps between consecutive teams."""
    names = sorted(set(teams))
    people = [cm.Person(id=f"p{i}", team=t, manager=managers.get(f"p{i}")) for i, t in enumerate(teams)]
    gaps = [cm.Gap(a=a, b=b) for a, b in zip(names, names[1:], strict=False)]
    return cm.Organisation(people=people, gaps=gaps)


def moved_people(plan: cm.Plan) -> list[str]:
    return sorted(c.person for c in plan.changes if c.reason in ("rule", "gap"))


# ------------------------------------------------------------------- named cases


def test_an_unchanged_request_moves_nobody_and_gives_the_same_plan():
    req = cm.Request(org=org_of("aabbccdd", p1="p0"), courses=[cm.Course(id="c", min_size=2, max_size=4)],
                     policy=cm.Policy(max_per_team=1))
    published = cm.plan(req, **RUN)
    for solver in ("heuristic", "cpsat"):
        again = cm.replan(published, req, solver=solver, **RUN)
        assert again.metrics.moved == 0 and again.metrics.moves_bound == 0
        assert again.changes == () and again.emptied_cohorts == ()
        assert [(c.id, c.members) for c in again.cohorts] == [(c.id, c.members) for c in published.cohorts]
        assert cm.validate(again, req) == []


def test_a_new_keep_apart_pair_moves_one_of_them_for_that_rule():
    req = cm.Request(org=org_of("abcabcabc"), courses=[cm.Course(id="c", min_size=2, max_size=4)])
    published = given_plan(req, [["p0", "p1", "p2"], ["p3", "p4", "p5"], ["p6", "p7", "p8"]])
    today = req.model_copy(update={"policy": cm.Policy(keep_apart=[["p0", "p1"]])})
    for solver in ("heuristic", "cpsat"):
        new = cm.replan(published, today, solver=solver, **RUN)
        assert cm.validate(new, today) == []
        assert new.metrics.moved == new.metrics.moves_bound == 1
        (change,) = new.changes
        assert change.person in ("p0", "p1") and change.before == "c-1" and change.after in ("c-2", "c-3")
        assert (change.reason, change.rule) == ("rule", "keep_apart")
        assert "staying in 'c-1' would break keep_apart" in change.detail
        assert {c.id for c in new.cohorts} == {"c-1", "c-2", "c-3"}


def test_leavers_and_newcomers_are_listed_but_are_not_moves():
    req = cm.Request(org=org_of("abab"), courses=[cm.Course(id="c", min_size=2, max_size=2)])
    published = given_plan(req, [["p0", "p1"], ["p2", "p3"]])
    people = [p for p in req.org.people if p.id != "p3"] + [cm.Person(id="n1", team="a")]
    today = req.model_copy(update={"org": cm.Organisation(people=people, gaps=req.org.gaps)})
    new = cm.replan(published, today, **RUN)
    assert cm.validate(new, today) == []
    assert new.metrics.moved == 0
    by_reason = {c.reason: c for c in new.changes}
    assert by_reason["left"].person == "p3" and by_reason["left"].before == "c-2"
    assert by_reason["left"].after is None and "no longer in the organisation" in by_reason["left"].detail
    assert by_reason["joined"].person == "n1" and by_reason["joined"].after == "c-2"
    assert by_reason["joined"].before is None


def test_someone_leaving_a_course_is_left_with_that_detail():
    org = org_of("abab")
    req = cm.Request(org=org, courses=[cm.Course(id="c", min_size=1, max_size=2)])
    published = given_plan(req, [["p0", "p1"], ["p2", "p3"]])
    today = req.with_courses([cm.Course(id="c", min_size=1, max_size=2, participants=["p0", "p1", "p2"])])
    new = cm.replan(published, today, **RUN)
    (left,) = new.changes
    assert (left.person, left.reason, left.detail) == ("p3", "left", "no longer takes course 'c'")


def test_fewer_cohorts_close_one_and_list_it_and_more_cohorts_get_new_ids():
    req = cm.Request(org=org_of("abcabcabc"), courses=[cm.Course(id="c", min_size=2, max_size=3)])
    published = given_plan(req, [["p0", "p1", "p2"], ["p3", "p4", "p5"], ["p6", "p7", "p8"]])
    fewer = req.with_courses([cm.Course(id="c", min_size=4, max_size=5)])
    new = cm.replan(published, fewer, **RUN)
    assert cm.validate(new, fewer) == []
    assert len(new.emptied_cohorts) == 1 and len(new.cohorts) == 2
    assert {c.id for c in new.cohorts} | set(new.emptied_cohorts) == {"c-1", "c-2", "c-3"}
    closed = [c for c in new.changes if c.before == new.emptied_cohorts[0]]
    assert closed and all(c.rule == "sizes" and "does not go on" in c.detail for c in closed)
    assert new.metrics.moved == new.metrics.moves_bound == 3
    more = req.with_courses([cm.Course(id="c", min_size=2, max_size=3, cohorts=4)])
    new = cm.replan(published, more, **RUN)
    assert cm.validate(new, more) == []
    assert sorted(c.id for c in new.cohorts) == ["c-1", "c-2", "c-3", "c-4"]
    assert new.metrics.moved == new.metrics.moves_bound == 2  # a new cohort of two


def test_new_ids_never_reuse_a_published_id():
    req = cm.Request(org=org_of("abab"), courses=[cm.Course(id="c", min_size=1, max_size=2)])
    published = given_plan(req, [["p0", "p1"], ["p2", "p3"]], ids=["c-1", "c-7"])
    more = req.with_courses([cm.Course(id="c", min_size=1, max_size=2, cohorts=3)])
    new = cm.replan(published, more, **RUN)
    assert sorted(c.id for c in new.cohorts) == ["c-1", "c-7", "c-8"]


def test_a_pin_to_another_cohort_moves_the_person_there_and_keeps_the_id():
    course = cm.Course(id="c", min_size=2, max_size=4)
    req = cm.Request(org=org_of("abcabc"), courses=[course])
    published = given_plan(req, [["p0", "p1", "p2"], ["p3", "p4", "p5"]])
    today = req.with_courses([course.model_copy(update={"pinned": {"p0": "c-2"}})])
    for solver in ("heuristic", "cpsat"):
        new = cm.replan(published, today, solver=solver, **RUN)
        assert cm.validate(new, today) == []
        (change,) = new.changes
        assert (change.person, change.before, change.after, change.rule) == ("p0", "c-1", "c-2", "pinned")


def test_a_new_keep_together_pair_gathers_where_it_breaks_nothing():
    req = cm.Request(org=org_of("abcabc", p3="p1"), courses=[cm.Course(id="c", min_size=2, max_size=4)])
    published = given_plan(req, [["p0", "p1", "p2"], ["p3", "p4", "p5"]])
    today = req.model_copy(update={"policy": cm.Policy(keep_together=[["p0", "p3"]])})
    for solver in ("heuristic", "cpsat"):
        new = cm.replan(published, today, solver=solver, **RUN)
        assert cm.validate(new, today) == []
        assert new.metrics.moved == new.metrics.moves_bound == 1
        assert new.changes[0].rule == "keep_together"


def test_max_moves_too_small_says_how_many_are_needed():
    req = cm.Request(org=org_of("abcabcabc"), courses=[cm.Course(id="c", min_size=3, max_size=3)])
    published = given_plan(req, [["p0", "p1", "p2"], ["p3", "p4", "p5"], ["p6", "p7", "p8"]])
    today = req.model_copy(update={"policy": cm.Policy(keep_apart=[["p0", "p1"], ["p3", "p4"]])})
    for solver in ("heuristic", "cpsat"):
        with pytest.raises(cm.InfeasibleError, match="at most 1 moves: at least 2 are needed"):
            cm.replan(published, today, solver=solver, max_moves=1, **RUN)
    new = cm.replan(published, today, max_moves=2, **RUN)
    assert new.metrics.moved == 2 and cm.validate(new, today) == []


def test_more_moves_allowed_buy_gap_value_and_say_so():
    req = cm.Request(org=org_of("aabb"), courses=[cm.Course(id="c", min_size=2, max_size=2)])
    published = given_plan(req, [["p0", "p1"], ["p2", "p3"]])  # bridges nothing
    assert cm.replan(published, req, **RUN).metrics.moved == 0
    for solver in ("heuristic", "cpsat"):
        new = cm.replan(published, req, solver=solver, max_moves=2, **RUN)
        assert new.metrics.objective == 1.0 and new.metrics.moved == 2
        assert {c.reason for c in new.changes} == {"gap"}
        assert cm.validate(new, req) == []


def test_loose_pieces_and_a_request_give_the_same_replan():
    req = cm.Request(org=org_of("abcabc"), courses=[cm.Course(id="c", min_size=2, max_size=4)],
                     policy=cm.Policy(keep_apart=[["p0", "p3"]]))
    published = given_plan(req, [["p0", "p1", "p3"], ["p2", "p4", "p5"]])
    a = cm.replan(published, req, **RUN)
    b = cm.replan(published, req.org, list(req.courses), policy=req.policy, **RUN)
    assert a.to_json(timings=False) == b.to_json(timings=False)


def test_same_seed_and_work_limit_give_the_same_replan():
    rng = np.random.default_rng(5)
    req = random_request(rng, people=(30, 30), teams=5)
    published = cm.plan(req, **RUN)
    pairs = [c.members[:2] for c in published.cohorts[:3]]
    gone = published.cohorts[4].members[0]
    people = [p.model_copy(update={"manager": None if p.manager == gone else p.manager})
              for p in req.org.people if p.id != gone]
    org = cm.Organisation(people=people, teams=req.org.teams, gaps=req.org.gaps)
    today = cm.Request(org=org, courses=req.courses, policy=cm.Policy(keep_apart=pairs))
    a, b = (cm.replan(published, today, solver="heuristic", **RUN) for _ in range(2))
    assert a.to_json(timings=False) == b.to_json(timings=False)


def test_a_replan_reads_back_from_json_with_its_changes():
    req = cm.Request(org=org_of("abcabc"), courses=[cm.Course(id="c", min_size=2, max_size=4)],
                     policy=cm.Policy(keep_apart=[["p0", "p1"]]))
    new = cm.replan(given_plan(req, [["p0", "p1", "p2"], ["p3", "p4", "p5"]]), req, **RUN)
    again = cm.Plan.from_json(new.to_json())
    assert again.changes == new.changes and again.metrics.moved == 1
    assert cm.replan(again, req, **RUN).metrics.moved == 0  # a re-plan is a published plan too


def test_meeting_caps_are_kept_on_the_heuristic_path():
    org = org_of("abcd" * 4)
    course = cm.Course(id="g", min_size=4, max_size=4, rounds=2)
    req = cm.Request(org=org, courses=[course], policy=cm.Policy(max_meetings=1))
    published = cm.plan(req, **RUN)
    today = req.model_copy(update={"policy": cm.Policy(max_meetings=1, max_per_team=1)})
    new = cm.replan(published, today, **RUN)
    assert cm.validate(new, today) == [] and new.solver == "heuristic"
    with pytest.raises(cm.InputError, match="'cpsat' cannot re-plan this request: it cannot keep max_meetings"):
        cm.replan(published, today, solver="cpsat", **RUN)


def test_held_rounds_become_history_and_the_rest_is_replanned():
    org = org_of("aabbccdd")
    course = cm.Course(id="x", min_size=2, max_size=4, rounds=3)
    req = cm.Request(org=org, courses=[course], policy=cm.Policy(max_meetings=2))
    published = cm.plan(req, **RUN)
    held, rest = cm.split_rounds(published, 1)
    assert {c.round for c in held.cohorts} == {0} and {c.round for c in rest.cohorts} == {0, 1}
    pair = list(rest.cohorts[0].members[:2])
    today = cm.Request(org=org, courses=[course.model_copy(update={"rounds": 2})],
                       policy=cm.Policy(max_meetings=2, keep_apart=[pair]), history=[held])
    new = cm.replan(rest, today, **RUN)
    assert cm.validate(new, today) == []
    assert {c.id for c in new.cohorts} <= {c.id for c in rest.cohorts} | set(new.emptied_cohorts) | {
        c.id for c in new.cohorts if c.id not in {x.id for x in rest.cohorts}}
    assert any(c.id.startswith("x-r2-") for c in new.cohorts)  # published ids of round 2 go on
    assert new.metrics.moved >= 1 and all(c.round in (0, 1) for c in new.changes)
    with pytest.raises(cm.InputError, match="'held' must be an int >= 0"):
        cm.split_rounds(published, -1)


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize("change, message", [
    (lambda p: p.model_copy(update={"cohorts": (p.cohorts[0].model_copy(update={"course": "gone"}),)}),
     "previous plan: cohort 'c-1' is of course 'gone', which the request does not have"),
    (lambda p: p.model_copy(update={"cohorts": (p.cohorts[0].model_copy(update={"round": 2}),)}),
     "previous plan: cohort 'c-1' is in round 2 of course 'c', which has 1 round"),
    (lambda p: p.model_copy(update={"cohorts": (p.cohorts[0], p.cohorts[0])}),
     "previous plan: cohort id 'c-1' is used twice"),
    (lambda p: p.model_copy(update={"cohorts": (p.cohorts[0], p.cohorts[1].model_copy(
        update={"members": ("p0", "p3"), "teams": ("a", "b")}))}),
     "previous plan: 'p0' is in two cohorts of course 'c' round 0 \\('c-1' and 'c-2'\\)"),
])
def test_a_published_plan_that_does_not_fit_the_request_is_an_input_error(change, message):
    req = cm.Request(org=org_of("abab"), courses=[cm.Course(id="c", min_size=2, max_size=2)])
    published = given_plan(req, [["p0", "p1"], ["p2", "p3"]])
    with pytest.raises(cm.InputError, match=message):
        cm.replan(change(published), req, **RUN)


@pytest.mark.parametrize("kwargs, message", [
    ({"max_moves": -1}, "the 'max_moves' must be an int >= 0 or None. Got -1"),
    ({"max_moves": 1.5}, "the 'max_moves' must be an int >= 0 or None"),
    ({"solver": "lns"}, "replan: the 'solver' must be one of 'auto', 'heuristic', 'cpsat'. Got 'lns'"),
    ({"seed": "x"}, "The 'seed' must be None"),
    ({"time_limit": None, "work_limit": None}, "the search needs a stop"),
])
def test_bad_parameters_are_input_errors(kwargs, message):
    req = cm.Request(org=org_of("abab"), courses=[cm.Course(id="c", min_size=2, max_size=2)])
    published = given_plan(req, [["p0", "p1"], ["p2", "p3"]])
    with pytest.raises(cm.InputError, match=message):
        cm.replan(published, req, **{**RUN, **kwargs})
    with pytest.raises(cm.InputError, match="the 'previous' must be a Plan. Got dict"):
        cm.replan({}, req, **RUN)


# ------------------------------------------------------------------- properties


def _published(seed: int, people: tuple[int, int]) -> tuple[np.random.Generator, cm.Request, cm.Plan] | None:
    rng = np.random.default_rng(seed)
    req = random_request(rng, people=people)
    try:
        return rng, req, cm.plan(req, time_limit=None, work_limit=2000, seed=seed)
    except cm.InfeasibleError:
        return None


@given(seed=st.integers(0, 2**32 - 1), solver=st.sampled_from(["heuristic", "cpsat"]))
@example(seed=137, solver="heuristic")  # the search left a person away for the gap value
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_edits_give_valid_replans_whose_every_move_has_a_reason(seed, solver):
    found = _published(seed, (6, 14))
    if found is None:
        return
    rng, req, published = found
    today = edit(rng, req, published)
    try:
        new = cm.replan(published, today, solver=solver, time_limit=None, work_limit=3000, seed=seed)
    except cm.InfeasibleError:
        with pytest.raises(cm.InfeasibleError):
            cm.plan(today, solver="cpsat", time_limit=None, work_limit=20000, seed=seed)
        return
    assert cm.validate(new, today) == []
    before, after = published.assignment(), new.assignment()
    listed = {(c.person, c.course, c.round): c for c in new.changes}
    for key, cohort in before.items():
        if key in after and after[key] != cohort:
            assert listed[key].reason in ("rule", "gap") and listed[key].after == after[key]
        elif key in after:
            assert key not in listed
        else:
            assert listed[key].reason == "left"
    for key in after.keys() - before.keys():
        assert listed[key].reason == "joined"
    assert new.metrics.moved == sum(c.reason in ("rule", "gap") for c in new.changes)
    assert new.metrics.moved >= new.metrics.moves_bound
    assert all(c.reason != "gap" for c in new.changes)  # no cap: no move for the gap value
    assert not {c.id for c in new.cohorts} & set(new.emptied_cohorts)


@given(seed=st.integers(0, 2**32 - 1))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_without_an_edit_nobody_moves(seed):
    found = _published(seed, (4, 16))
    if found is None:
        return
    _, req, published = found
    new = cm.replan(published, req, time_limit=None, work_limit=3000, seed=seed)
    assert new.metrics.moved == 0 and new.changes == ()
    assert [(c.id, c.members) for c in new.cohorts] == [(c.id, c.members) for c in published.cohorts]


def _tiny_month(seed: int) -> tuple[cm.Plan, cm.Request, int | None, Any, Any] | None:
    """A tiny published plan, a random edit, its fewest moves by brute force, today compiled."""
    found = _published(seed, (4, 8))
    if found is None:
        return None
    rng, req, published = found
    today = edit(rng, req, published)
    problem = today.compile()
    return published, today, brute_force_moves(today, published), problem, read_previous(published, problem)


@given(seed=st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_brute_force_the_bound_holds_and_optimal_means_fewest_moves(seed):
    month = _tiny_month(seed)
    if month is None:
        return
    published, today, fewest, problem, prev = month
    if fewest is not None:
        assert moves_lower_bound(problem, prev, initial_anchor(problem, prev)) <= fewest
    for solver in ("heuristic", "cpsat"):
        try:
            new = cm.replan(published, today, solver=solver, time_limit=None, work_limit=20000, seed=seed)
        except cm.InfeasibleError:
            assert fewest is None or solver == "heuristic"
            continue
        assert fewest is not None
        assert new.metrics.moves_bound <= fewest <= new.metrics.moved
        if new.status == "optimal":
            assert new.metrics.moved == fewest


def test_brute_force_no_plan_with_the_fewest_moves_beats_the_value_bound():
    applied = placed = 0
    for seed in range(60):
        month = _tiny_month(seed)
        if month is None or month[2] is None:
            continue
        published, today, fewest, problem, prev = month
        vb = fewest_moves_value_bound(problem, prev, initial_anchor(problem, prev), fewest)
        if vb is None:
            continue
        applied += 1
        best = brute_force_value_at_fewest(today, published)
        assert best is not None and best <= vb.bound + 1e-9, (seed, best, vb)
        assert vb.fixed_value <= best + 1e-9
        a = vb.placement
        if a is not None and not check_assignment(problem, a):  # a plan with the fewest moves
            placed += 1
            assert moved_units(prev, best_anchor(problem, prev, a), a).shape[0] == fewest
            assert score(problem, a).objective <= best + 1e-9
    assert applied >= 20 and placed >= 10, (applied, placed)


def test_the_value_bound_at_the_fewest_moves_is_the_plans_bound_and_proves_it_optimal():
    # a-b and c-d gaps; p0 (a) and p1 (b) must now be apart: one of them moves, and the
    # plan can keep every bridge only by moving the one whose team the other cohort lacks
    org = cm.Organisation(people=[cm.Person(id=f"p{i}", team=t) for i, t in enumerate("abcdabcd")],
                          gaps=[cm.Gap(a="a", b="b"), cm.Gap(a="c", b="d", weight=2.0)])
    course = cm.Course(id="c", min_size=3, max_size=5)
    req = cm.Request(org=org, courses=[course], policy=cm.Policy(mode="cover"))
    published = given_plan(req, [["p0", "p1", "p2", "p3"], ["p4", "p5", "p6", "p7"]])
    today = req.model_copy(update={"policy": cm.Policy(mode="cover", keep_apart=[("p0", "p1")])})
    new = cm.replan(published, today, solver="heuristic", **RUN)
    assert new.metrics.moved == 1 and new.metrics.objective == 3.0
    assert new.metrics.bound == 3.0 and new.status == "optimal"
    assert cm.plan(today, **RUN).metrics.bound >= 3.0


def test_the_value_bound_does_not_apply_above_the_fewest_moves():
    org = org_of("abab")
    req = cm.Request(org=org, courses=[cm.Course(id="c", min_size=2, max_size=2)])
    published = given_plan(req, [["p0", "p1"], ["p2", "p3"]])
    problem = req.compile()
    prev = read_previous(published, problem)
    anchor = initial_anchor(problem, prev)
    assert fewest_moves_value_bound(problem, prev, anchor, 1) is None
    vb = fewest_moves_value_bound(problem, prev, anchor, 0)
    assert vb is not None and vb.free_units == 0 and vb.bound == vb.fixed_value == 1.0  # one gap, bridged (cover)


def test_the_matching_keeps_the_most_people_whatever_the_cohort_order():
    req = cm.Request(org=org_of("abcabc"), courses=[cm.Course(id="c", min_size=3, max_size=3)])
    published = given_plan(req, [["p0", "p1", "p2"], ["p3", "p4", "p5"]])
    problem = req.compile()
    prev = read_previous(published, problem)
    swapped = np.array([1, 1, 1, 0, 0, 0])  # the same cohorts, numbered the other way
    assert best_anchor(problem, prev, swapped).tolist() == [1, 0]


def test_someone_unassigned_before_and_placed_now_joined():
    req = cm.Request(org=org_of("abcab"), courses=[cm.Course(id="c", min_size=2, max_size=3)])
    published = given_plan(req, [["p0", "p1"], ["p2", "p3"]])
    published = published.model_copy(update={"unassigned": (
        cm.Unassigned(person="p4", course="c", reason="no room"),)})
    new = cm.replan(published, req, **RUN)
    (joined,) = new.changes
    assert (joined.person, joined.reason, joined.detail) == ("p4", "joined", "was not placed in the published plan")


def test_count_moves_counts_what_publishing_another_plan_would_move():
    req = cm.Request(org=org_of("abcabc"), courses=[cm.Course(id="c", min_size=3, max_size=3)])
    published = given_plan(req, [["p0", "p1", "p2"], ["p3", "p4", "p5"]])
    renumbered = given_plan(req, [["p3", "p4", "p5"], ["p0", "p1", "p2"]])
    swapped = given_plan(req, [["p0", "p1", "p5"], ["p3", "p4", "p2"]])
    assert count_moves(published, renumbered, req) == 0  # the same cohorts, numbered otherwise
    assert count_moves(published, swapped, req) == 2
    partial = swapped.model_copy(update={"cohorts": swapped.cohorts[:1]})
    with pytest.raises(cm.InputError, match="count_moves: the plan leaves out 'p2'"):
        count_moves(published, partial, req)
