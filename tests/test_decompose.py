"""Decomposition: divisions whose gaps stay inside them planned as independent blocks."""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.cli import main
from cohortmatch.decompose import couplings, split_request, whole_request
from cohortmatch.errors import InputError
from cohortmatch.request import RunOptions
from cohortmatch.scoring import upper_bound

RUN = {"time_limit": None, "work_limit": 20_000, "seed": 5}


def divisions(sizes: list[list[int]], *, filler: int = 0, seed: int = 0) -> cm.Organisation:
    """An organisation of divisions: ``sizes[d][t]`` people in team ``t`` of division ``d``,
    gaps of random positive weight along a chain and a few chords inside each division, and
    ``filler`` teams of 3 people without gaps."""
    rng = np.random.default_rng(seed)
    people, gaps = [], []
    for d, teams in enumerate(sizes):
        names = [f"d{d}t{t}" for t in range(len(teams))]
        for name, n in zip(names, teams, strict=True):
            people += [cm.Person(id=f"{name}p{i}", team=name) for i in range(n)]
        pairs = {(names[t], names[t + 1]) for t in range(len(names) - 1)}
        pairs |= {(names[0], names[t]) for t in range(2, len(names), 2)}
        gaps += [cm.Gap(a=a, b=b, weight=float(rng.integers(1, 5))) for a, b in sorted(pairs)]
    for f in range(filler):
        people += [cm.Person(id=f"f{f}p{i}", team=f"f{f}") for i in range(3)]
    return cm.Organisation(people=people, gaps=gaps)


ORG = divisions([[4, 3, 4, 3, 2], [3, 4, 3, 2], [4, 4, 3, 3, 2, 2]], filler=2)
COURSES = [cm.Course(id="intro", min_size=4, max_size=5)]
POLICY = cm.Policy(max_per_team=2)


def _json(plan: cm.Plan) -> str:
    return plan.to_json(timings=False)


# ------------------------------------------------------------------ the split
def test_divisions_become_blocks_and_the_filler_joins_the_last():
    split = split_request(cm.Request(org=ORG, courses=COURSES, policy=POLICY))
    assert (split.divisions, split.filler) == (3, 2)
    teams = [sorted({p.team for p in b.org.people}) for b in split.blocks]
    assert teams == [["d2t0", "d2t1", "d2t2", "d2t3", "d2t4", "d2t5"],
                     ["d0t0", "d0t1", "d0t2", "d0t3", "d0t4"],
                     ["d1t0", "d1t1", "d1t2", "d1t3", "f0", "f1"]]
    assert split.units == (18, 16, 18)
    for block in split.blocks:  # every gap of a block joins two of its teams
        here = {t.id for t in block.org.teams}
        assert all(g.a in here and g.b in here for g in block.org.gaps)
    assert sum(len(b.org.gaps) for b in split.blocks) == len(ORG.gaps)


def test_small_divisions_are_packed_until_a_block_is_big_enough():
    split = split_request(cm.Request(org=ORG, courses=COURSES, policy=POLICY), min_units=17)
    assert split.units == (18, 34)  # division 0 (16) waits for division 1; the filler (6) joins them
    assert split_request(cm.Request(org=ORG, courses=COURSES, policy=POLICY), min_units=30).blocks == ()


def test_a_division_that_cannot_fill_whole_cohorts_is_packed_with_others():
    org = divisions([[4, 4, 4], [2, 1], [4, 4, 4]])  # the 3 people of division 1 cannot make a cohort of 4
    split = split_request(cm.Request(org=org, courses=COURSES, policy=POLICY))
    assert split.units == (12, 15)
    assert {p.team for p in split.blocks[1].org.people} >= {"d1t0", "d1t1"}


def test_keep_together_across_divisions_joins_them():
    together = cm.Policy(max_per_team=2, keep_together=[["d0t0p0", "d1t0p0"]])
    split = split_request(cm.Request(org=ORG, courses=COURSES, policy=together))
    assert split.divisions == 2
    joined = next(b for b in split.blocks if any(p.id == "d0t0p0" for p in b.org.people))
    assert any(p.id == "d1t0p0" for p in joined.org.people)


def test_a_manager_in_another_block_is_left_out_of_the_block_and_pairs_across_are_dropped():
    people = [p.model_copy(update={"manager": "d1t0p0"}) if p.id == "d0t0p1" else p for p in ORG.people]
    org = cm.Organisation(people=people, gaps=ORG.gaps)
    policy = cm.Policy(max_per_team=2, keep_apart=[["d0t0p0", "d1t0p1"], ["d0t0p0", "d0t1p0", "d1t1p0"]])
    split = split_request(cm.Request(org=org, courses=COURSES, policy=policy))
    block = next(b for b in split.blocks if any(p.id == "d0t0p1" for p in b.org.people))
    assert next(p for p in block.org.people if p.id == "d0t0p1").manager is None
    assert block.policy.keep_apart == (("d0t0p0", "d0t1p0"),)


@pytest.mark.parametrize(("change", "reason"), [
    ({"policy": cm.Policy(mode="sum")}, "mode 'sum'"),
    ({"policy": cm.Policy(max_meetings=1)}, "max_meetings"),
    ({"policy": cm.Policy(balance=["team"])}, "mix rules"),
    ({"courses": [COURSES[0].model_copy(update={"cohorts": 11})]}, "fixes its cohort count"),
    ({"courses": [COURSES[0].model_copy(update={"pinned": {"d0t0p0": "intro-1"}})]}, "pins people"),
    ({"courses": [COURSES[0].model_copy(update={"slots": ("mon",)})]}, "has slots"),
    ({"courses": [COURSES[0].model_copy(update={"seats": 40})]}, "has seats"),
])
def test_rules_that_couple_divisions_refuse_decomposition(change, reason):
    req = cm.Request(org=ORG, courses=COURSES, policy=POLICY).model_copy(update=change)
    found = couplings(req)
    assert found and reason in found[0]


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_blocks_hold_every_participant_once_and_no_gap_crosses_them(data):
    teams = [f"t{i}" for i in range(data.draw(st.integers(2, 12)))]
    people = [cm.Person(id=f"p{i}", team=data.draw(st.sampled_from(teams), label="team"))
              for i in range(data.draw(st.integers(4, 40)))]
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(teams), st.sampled_from(teams)), max_size=8))
    gaps = {tuple(sorted(p)): cm.Gap(a=p[0], b=p[1], weight=1.0) for p in pairs if p[0] != p[1]}
    org = cm.Organisation(people=people, teams=[cm.Team(id=t) for t in teams], gaps=list(gaps.values()))
    low = data.draw(st.integers(1, 4))
    half = tuple(p.id for p in people[::2])
    courses = [cm.Course(id="all", min_size=low, max_size=low + data.draw(st.integers(0, 3))),
               cm.Course(id="half", min_size=1, max_size=3, participants=half)]
    policy = cm.Policy(max_per_team=data.draw(st.sampled_from([None, 1, 2])),
                       mode=data.draw(st.sampled_from(["cover", "diminishing"])))
    req = cm.Request(org=org, courses=courses, policy=policy)
    split = split_request(req, min_units=data.draw(st.integers(1, 20)))
    if not split.blocks:
        return
    assert len(split.blocks) >= 2
    for course in courses:
        placed = [m for b in split.blocks for c in b.courses if c.id == course.id
                  for m in (c.participants if c.participants is not None else [q.id for q in b.org.people])]
        want = course.participants if course.participants is not None else [q.id for q in people]
        assert sorted(placed) == sorted(want)  # every participant in exactly one block
    block_of = {t.id: i for i, b in enumerate(split.blocks) for t in b.org.teams}
    assert all(block_of.get(g.a) == block_of.get(g.b) for g in org.gaps)  # (None: two teams nobody is in)
    for block in split.blocks:  # each block fills whole cohorts within the team cap
        for c in block.courses:
            n = len(c.participants) if c.participants is not None else len(block.org.people)
            k = -(-n // c.max_size)
            assert k * c.min_size <= n
            if policy.max_per_team is not None:
                who = set(c.participants) if c.participants is not None else {q.id for q in block.org.people}
                sizes = Counter(q.team for q in block.org.people if q.id in who)
                assert max(sizes.values()) <= policy.max_per_team * k


# ------------------------------------------------------------------ the plan
@pytest.mark.parametrize("mode", ["cover", "diminishing"])
def test_a_decomposed_plan_is_valid_bounded_and_as_good_as_the_whole(mode):
    policy = cm.Policy(max_per_team=2, mode=mode)
    split = cm.plan(ORG, COURSES, policy=policy, decompose="always", **RUN)
    whole = cm.plan(ORG, COURSES, policy=policy, decompose="never", **RUN)
    assert cm.validate(split, ORG, COURSES, policy) == []
    assert split.notes[0].startswith("decomposed into 3 blocks (3 divisions of the gap graph, 2 teams")
    assert not any(n.startswith("decomposed") for n in whole.notes)
    assert split.metrics.objective <= split.metrics.bound + 1e-9
    assert split.metrics.objective >= whole.metrics.objective - 0.02 * whole.metrics.bound
    assert len({c.id for c in split.cohorts}) == len(split.cohorts)


def test_the_decomposed_plan_is_the_same_on_every_executor():
    default = cm.plan(ORG, COURSES, policy=POLICY, decompose="always", **RUN)
    assert _json(cm.plan(ORG, COURSES, policy=POLICY, decompose="always", **RUN)) == _json(default)
    for size in (1, 3):
        with ThreadPoolExecutor(size) as pool:
            planned = cm.plan(ORG, COURSES, policy=POLICY, decompose="always", executor=pool, **RUN)
        assert _json(planned) == _json(default)


def test_auto_leaves_small_requests_whole_and_never_never_decomposes():
    planned = cm.plan(ORG, COURSES, policy=POLICY, **RUN)
    assert not any("decomposed" in n for n in planned.notes)


def test_always_says_why_it_did_not_decompose():
    fixed = [COURSES[0].model_copy(update={"cohorts": 11})]
    planned = cm.plan(ORG, fixed, policy=POLICY, decompose="always", **RUN)
    assert planned.notes[0] == ("not decomposed: course 'intro' fixes its cohort count (11), which the blocks "
                                "would share")


def test_a_block_that_cannot_be_planned_alone_falls_back_to_the_whole():
    """A manager with three reports in a division of four: in cohorts of two, the manager
    needs someone of another division."""
    people = [cm.Person(id="m", team="a"), cm.Person(id="r1", team="a", manager="m"),
              cm.Person(id="r2", team="b", manager="m"), cm.Person(id="r3", team="b", manager="m"),
              *(cm.Person(id=f"x{i}", team="cd"[i % 2]) for i in range(4))]
    org = cm.Organisation(people=people, gaps=[cm.Gap(a="a", b="b"), cm.Gap(a="c", b="d")])
    courses = [cm.Course(id="pairs", min_size=2, max_size=2)]
    planned = cm.plan(org, courses, decompose="always", **RUN)
    assert planned.notes[0].startswith("not decomposed: a block cannot be planned on its own")
    assert cm.validate(planned, org, courses, cm.Policy()) == []


def test_the_time_limit_holds_when_decomposed():
    org = divisions([[5] * 40, [5] * 40, [5] * 40], seed=1)
    courses = [cm.Course(id="big", min_size=8, max_size=10)]
    policy = cm.Policy(mode="diminishing", max_per_team=2)
    planned = cm.plan(org, courses, policy=policy, decompose="always", time_limit=2.0, seed=0)
    with ThreadPoolExecutor(2) as pool:
        pooled = cm.plan(org, courses, policy=policy, decompose="always", time_limit=2.0, seed=0, executor=pool)
    for each in (planned, pooled):
        assert each.elapsed < 2.5
        assert each.notes[0].startswith("decomposed into 3 blocks")
        assert cm.validate(each, org, courses, policy) == []


# ------------------------------------------------------------------ the bound
def _tiny(draw) -> tuple[cm.Organisation, list[cm.Course], cm.Policy]:
    sizes = [[draw(st.integers(1, 3)) for _ in range(draw(st.integers(2, 3)))]
             for _ in range(draw(st.integers(2, 3)))]
    org = divisions(sizes, filler=draw(st.integers(0, 1)), seed=draw(st.integers(0, 9)))
    low = draw(st.integers(2, 3))
    course = cm.Course(id="c", min_size=low, max_size=low + draw(st.integers(0, 2)))
    policy = cm.Policy(mode=draw(st.sampled_from(["cover", "diminishing"])),
                       max_per_team=draw(st.sampled_from([None, 2])))
    return org, [course], policy


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_bound_is_at_least_both_optima(data):
    """The reported bound holds for the request as given (its fewest cohorts) and for the
    request with the blocks' cohort count, both solved to optimality by CP-SAT."""
    org, courses, policy = _tiny(data.draw)
    req = cm.Request(org=org, courses=courses, policy=policy)
    split = split_request(req)
    if not split.blocks:
        return
    try:
        planned = cm.plan(req, decompose="always", **RUN)
    except cm.InfeasibleError:
        return
    if not planned.notes[0].startswith("decomposed"):
        return  # a block could not be planned alone: planned whole
    assert cm.validate(planned, org, courses, policy) == []
    wider = whole_request(req, split)
    assert upper_bound(wider.compile()) >= upper_bound(req.compile()) - 1e-9
    for each in (req, wider):
        try:
            best = cm.plan(each, solver="cpsat", decompose="never", time_limit=20, workers=1, seed=0)
        except cm.InfeasibleError:
            continue
        if best.status == "optimal":
            assert planned.metrics.bound >= best.metrics.objective - 1e-9
    assert planned.metrics.bound >= planned.metrics.objective - 1e-9


# ------------------------------------------------------------------ parameters, request, CLI
def test_a_bad_decompose_value_names_the_choices():
    with pytest.raises(InputError, match="The 'decompose' must be one of 'auto', 'always', 'never'"):
        cm.plan(ORG, COURSES, decompose="yes", **RUN)


def test_the_request_run_section_asks_for_decomposition():
    req = cm.Request(org=ORG, courses=COURSES, policy=POLICY, run=RunOptions(decompose="always", **RUN))
    assert cm.plan(req).notes[0].startswith("decomposed into 3 blocks")
    assert json.loads(req.to_json())["run"]["decompose"] == "always"


def test_the_cli_decompose_option(tmp_path, capsys):
    req = cm.Request(org=ORG, courses=COURSES, policy=POLICY)
    path = tmp_path / "request.json"
    path.write_text(req.to_json())
    out = tmp_path / "plan.json"
    code = main(["plan", "--request", str(path), "--decompose", "always", "--work-limit", "20000",
                 "--seed", "5", "--out", str(out), "--quiet"])
    assert code == 0
    assert cm.Plan.from_json(out.read_text()).notes[0].startswith("decomposed into 3 blocks")
    capsys.readouterr()
    assert main(["plan", "--request", str(path), "--decompose", "sometimes"]) == 2
    assert "argument --decompose: invalid choice: 'sometimes'" in capsys.readouterr().err


# ------------------------------------------------------------------ blocks as executor tasks
BIG = divisions([[5] * 30, [4] * 40, [5] * 30], seed=2)
BIG_COURSES = [cm.Course(id="c", min_size=6, max_size=8)]
BIG_POLICY = cm.Policy(mode="diminishing", max_per_team=2)
BIG_RUN = {"solver": "lns", "time_limit": None, "work_limit": 60_000, "seed": 7, "decompose": "always"}


class FailingExecutor(ThreadPoolExecutor):
    """A thread pool whose ``n``-th task raises, as if its worker had died."""

    def __init__(self, n: int):
        super().__init__(2)
        self.n, self.submitted = n, 0

    def submit(self, fn, /, *args, **kwargs):
        self.submitted += 1
        if self.submitted == self.n:
            return super().submit(_lost)
        return super().submit(fn, *args, **kwargs)


def _lost() -> None:
    raise RuntimeError("worker lost")


def test_blocks_searched_by_lns_give_the_same_plan_on_threads():
    default = cm.plan(BIG, BIG_COURSES, policy=BIG_POLICY, **BIG_RUN)
    assert default.notes[0].startswith("decomposed into 3 blocks")
    assert default.solver == "lns"
    with ThreadPoolExecutor(2) as pool:
        assert _json(cm.plan(BIG, BIG_COURSES, policy=BIG_POLICY, executor=pool, **BIG_RUN)) == _json(default)


def test_a_lost_block_task_is_planned_again_here():
    default = cm.plan(BIG, BIG_COURSES, policy=BIG_POLICY, **BIG_RUN)
    with FailingExecutor(2) as pool:
        planned = cm.plan(BIG, BIG_COURSES, policy=BIG_POLICY, executor=pool, **BIG_RUN)
    assert "block 2: its task failed (RuntimeError); planned again here" in planned.notes
    assert cm.validate(planned, BIG, BIG_COURSES, BIG_POLICY) == []
    assert planned.cohorts == default.cohorts  # the same seed and work: the same block plan


def test_a_stop_event_ends_every_block():
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    planned = cm.plan(BIG, BIG_COURSES, policy=BIG_POLICY, decompose="always", time_limit=30, seed=1, stop=stop)
    assert planned.elapsed < 5.0
    assert any(n.startswith("stopped on request") for n in planned.notes)
    assert cm.validate(planned, BIG, BIG_COURSES, BIG_POLICY) == []
