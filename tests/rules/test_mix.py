# ruff: noqa: E501  (tables of expected messages read best one per line)
"""The mix rules (balance, no_isolation, at_most, at_least): every engine keeps them,
infeasible exactly when no plan exists, the kernels decide as the rules count, bad input
and conflicts explained, partial plans, soft balance, the price of the mix."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
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
from cohortmatch.categories import value_label
from cohortmatch.compiled import cohorts_for
from cohortmatch.rules import active, check_assignment
from cohortmatch.rules.kernel import group_move_ok, move_ok, swap_ok
from cohortmatch.scoring import SearchState

LEVELS = ("staff", "lead", "head")
SITES = ("Leeds", "York")

# ---------------------------------------------------------------- random requests


@st.composite
def mix_requests(draw, *, max_people: int = 8, max_teams: int = 3, rounds: bool = False,
                 loose: bool = False, soft: bool | None = None):
    """A random request with random mix rules over random attributes (feasible or not)."""
    n = draw(st.integers(2, max_people))
    ids = [f"p{i}" for i in range(n)]
    people = []
    for i in range(n):
        attributes: dict[str, object] = {"level": draw(st.sampled_from(LEVELS))}
        if i == 0 or draw(st.integers(0, 4)):  # now and then the site is missing: value ""
            attributes["site"] = draw(st.sampled_from(SITES))
        attributes["years"] = draw(st.integers(0, 20))
        manager = draw(st.sampled_from([None, None, *ids[:i]])) if i else None
        people.append(cm.Person(id=ids[i], team=f"t{draw(st.integers(0, max_teams - 1))}",
                                manager=manager, attributes=attributes))
    org = cm.Organisation(people=people, gaps=[cm.Gap(a=a, b=b) for a, b in itertools.combinations(
        sorted({p.team for p in people}), 2)])
    values = {a: sorted({value_label(p.team if a == "team" else p.attributes.get(a))
                         for p in people}) for a in ("level", "site", "team")}
    names = st.sampled_from(["level", "site", "team"])
    balance = {a: None for a in draw(st.lists(names, max_size=2, unique=True))}
    if draw(st.booleans()):
        balance["years"] = (0, 7, 21)

    def limits() -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for a in draw(st.lists(names, max_size=2, unique=True)):
            out[a] = {draw(st.sampled_from(values[a])): draw(st.integers(1, 2))}
        return out

    policy = cm.Policy(
        mode=draw(st.sampled_from(["cover", "diminishing", "sum"])),
        max_per_team=draw(st.one_of(st.none(), st.integers(1, 3))),
        separate_manager_and_reports=draw(st.booleans()),
        balance=balance,
        balance_mode=("soft" if soft else "hard") if soft is not None or not balance
        else draw(st.sampled_from(["hard", "soft"])),
        no_isolation=draw(st.lists(names, max_size=2, unique=True)),
        at_most=limits(),
        at_least=limits(),
    )
    if policy.balance_mode == "soft" and not policy.balance:
        policy = policy.model_copy(update={"balance_mode": "hard"})
    min_size = 1 if loose else draw(st.integers(1, max(1, n // 2)))
    max_size = draw(st.integers(min_size + 2, min_size + 3)) if loose else draw(st.integers(min_size, min_size + 2))
    fixed = None if loose else draw(st.one_of(st.none(), st.integers(1, 3)))
    course = cm.Course(id="c", min_size=min_size, max_size=max_size, cohorts=fixed,
                       rounds=draw(st.integers(1, 2)) if rounds else 1)
    return cm.Request(org=org, courses=[course], policy=policy)


def _value(person: cm.Person, attribute: str, bins) -> str:
    raw = person.team if attribute == "team" else person.attributes.get(attribute)
    if raw is None:
        return ""
    if bins is None:
        return str(raw)
    i = max(j for j in range(len(bins) - 1) if raw >= bins[j])
    return f"bin{i}"


def keeps_every_rule(request: cm.Request, cohort_of: dict[str, int], k: int) -> bool:
    """An assignment of one one-round course, checked from the request alone (brute force)."""
    course, policy = request.courses[0], request.policy
    people = {p.id: p for p in request.org.people}
    members = [[m for m, x in cohort_of.items() if x == c] for c in range(k)]
    if any(not course.min_size <= len(ms) <= course.max_size for ms in members):
        return False
    for ms in members:
        teams = Counter(people[m].team for m in ms)
        if policy.max_per_team is not None and max(teams.values(), default=0) > policy.max_per_team:
            return False
        if policy.separate_manager_and_reports and any(people[m].manager in ms for m in ms):
            return False
    attributes = set(policy.balance) | set(policy.no_isolation) | set(policy.at_most) | set(policy.at_least)
    for a in attributes:
        bins = policy.balance.get(a)
        everyone = Counter(_value(p, a, bins) for p in people.values())
        for ms in members:
            here = Counter(_value(people[m], a, bins) for m in ms)
            for v, total in everyone.items():
                x, size = here[v], len(ms)
                if a in policy.balance and policy.balance_mode == "hard" and not (
                        size * total // len(people) <= x <= -(-size * total // len(people))):
                    return False
                if a in policy.no_isolation and x == 1 and total >= 2:
                    return False
            named = {v: n for v, n in policy.at_most.get(a, {}).items()}
            if any(here[_bin_name(v, a, bins)] > n for v, n in named.items()):
                return False
            if any(here[_bin_name(v, a, bins)] < n for v, n in policy.at_least.get(a, {}).items()):
                return False
    return True


def _bin_name(value: str, attribute: str, bins) -> str:
    """The brute force's name of a value the policy names (bins are named by their edges there)."""
    if bins is None:
        return value
    edges = [value_label(e) for e in bins]
    return f"bin{[f'{a}-{b}' for a, b in zip(edges[:-1], edges[1:], strict=True)].index(value)}"


def any_plan_exists(request: cm.Request) -> bool:
    return some_labelling_keeps(request, keeps_every_rule)


# -------------------------------------------------------------- every engine keeps them


@pytest.mark.parametrize("solver", ["auto", "heuristic", "lns", "cpsat"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=mix_requests(soft=False))
def test_every_engine_keeps_the_mix_rules(solver, request):
    plan = valid_or_explained(request, solver)
    if plan is None:
        return
    if request.policy.mix_attributes:
        assert plan.mix is not None and set(plan.mix.counts) == {c.id for c in plan.cohorts}
    else:
        assert plan.mix is None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=mix_requests())
def test_heuristic_keeps_the_mix_rules_soft_or_hard(request):
    valid_or_explained(request, "heuristic", seed=1)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=mix_requests(max_people=8, rounds=True))
def test_golfer_keeps_the_mix_rules(request):
    valid_or_explained(with_soft_meetings(request), "golfer", work_limit=3_000)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(request=mix_requests(max_people=7))
def test_infeasible_exactly_when_no_plan_exists(request):
    n = len(request.org.people)
    assume(cohorts_for(n, request.courses[0]) ** n <= 20_000)  # brute force in well under a second
    planned_exactly_when_a_plan_exists(request, any_plan_exists(request))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=mix_requests(max_people=8))
def test_partial_places_everyone_it_can_and_says_why(request):
    partial_accounts_for_everyone(request)


# ------------------------------------------------- the kernels decide as the rules count



def _deviation(problem, a) -> int:
    rule = next((r for r in active(problem) if r.name == "balance"), None)
    return 0 if rule is None else rule.deviation(a)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=mix_requests(max_people=9, loose=True), data=st.data())
def test_kernel_decisions_are_the_rules_own(request, data):
    """From a valid plan, the compiled checks allow a move, swap or group move exactly when
    every rule's own count of violations stays zero afterwards (soft balance: and the
    deviation does not grow)."""
    state = valid_state(request, data.draw(st.integers(0, 3)), 300)
    if state is None:
        return
    p = state.problem
    R = state.rules
    for _ in range(20):
        a = state.assignment
        u = data.draw(st.integers(0, p.n_units - 1))
        if data.draw(st.booleans()):
            k = data.draw(st.integers(0, p.n_cohorts - 1))
            if k == a[u]:
                continue
            after = a.copy()
            after[u] = k
            said = move_ok(R, u, a[u], k, p.unit_team, a, state.counts, state.size, p.cohort_min, p.cohort_max)
        else:
            v = data.draw(st.integers(0, p.n_units - 1))
            if a[u] == a[v]:
                continue
            after = a.copy()
            after[u], after[v] = a[v], a[u]
            said = swap_ok(R, u, v, p.unit_team, a, state.counts)
        counts = {r.name: r.violations(after) for r in active(p)}
        keeps = sum(counts.values()) == 0 and _deviation(p, after) <= _deviation(p, a)
        assert bool(said) == keeps, counts
        if said and data.draw(st.booleans()):  # go on from the new plan
            if (after != a).sum() == 1:
                state.move(u, int(after[u]))
            else:
                state.swap(u, v)
            assert check_assignment(p, state.assignment).total == 0


@pytest.mark.parametrize(("sites", "start", "allowed"), [
    ("LLLLYYYY", [0, 0, 1, 1, 0, 0, 1, 1], False),          # L L Y Y | L L Y Y: one L, one Y left alone
    ("LLLLLLYYYYYY", [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1], True),   # L L L Y Y Y | L L L Y Y Y
])
def test_a_group_moves_only_where_the_counts_allow(sites, start, allowed):
    n = len(sites)
    org = cm.Organisation(people=[cm.Person(id=f"p{i:02d}", team=f"t{i}", attributes={"site": sites[i]})
                                  for i in range(n)])
    policy = cm.Policy(no_isolation=["site"], keep_together=[["p00", f"p{n // 2:02d}"]])
    problem = cm.Request(org=org, courses=[cm.Course(id="x", min_size=2, max_size=n - 2)], policy=policy).compile()
    state = SearchState(problem, np.array(start))
    assert check_assignment(problem, state.assignment).total == 0
    R = state.rules
    said = group_move_ok(R, R.unit_group[0], 0, 1, problem.unit_team, state.assignment, state.counts,
                         state.size, problem.cohort_min, problem.cohort_max)
    assert bool(said) == allowed


# ----------------------------------------------------------------- named cases, errors


def _org(levels: str, sites: str = "", teams: int = 0) -> cm.Organisation:
    names = {"s": "staff", "l": "lead", "d": "director"}
    return cm.Organisation(people=[
        cm.Person(id=f"p{i:02d}", team=f"t{i % teams}" if teams else f"t{i:02d}",
                  attributes={"level": names[x], **({"site": sites[i]} if sites else {})})
        for i, x in enumerate(levels)])


def test_a_balanced_plan_holds_each_level_in_proportion():
    org = _org("ssssssllld" * 3)
    course = cm.Course(id="x", min_size=10, max_size=10)
    policy = cm.Policy(balance=["level"])
    plan = cm.plan(org, [course], policy=policy, time_limit=None, work_limit=3000, seed=0)
    assert cm.validate(plan, cm.Request(org=org, courses=[course], policy=policy)) == []
    assert all(plan.mix.counts[c.id]["level"] == {"staff": 6, "lead": 3, "director": 1} for c in plan.cohorts)


@pytest.mark.parametrize(("policy", "message"), [
    (cm.Policy(at_least={"level": {"director": 1}}), r"at_least level='director': 3 cohorts need 3, only 1 participant has it"),
    (cm.Policy(at_most={"level": {"lead": 2}}), r"level 'lead' has 7 participants but 3 cohorts x at_most 2 = 6 places"),
    (cm.Policy(at_least={"level": {"staff": 3, "lead": 2}}), r"at_least on level asks each cohort for 5 people, but a cohort holds at most 4"),
    (cm.Policy(no_isolation=["level"], at_most={"level": {"lead": 1}}), r"no_isolation and at_most 1 on level='lead': no cohort may hold the 7 participants with it"),
    (cm.Policy(no_isolation=["site"], at_least={"site": {"Y": 1}}), r"no_isolation and at_least on site='Y': 3 cohorts need 2 each \(6\), only 3 participants have it"),
    (cm.Policy(no_isolation=["site"], balance=["site"]),
     r"balance and no_isolation on site='Y': no cohort may hold anyone with it \(balance allows 1-1 in a cohort of 4-4, no_isolation forbids 1\), but 3 participants have it"),
])
def test_conflicts_say_which_rule_and_which_value(policy, message):
    org = _org("ssssllllllld", sites="LLLLLYYYLLLL")
    course = cm.Course(id="x", min_size=4, max_size=4)
    with pytest.raises(cm.InfeasibleError, match=message):
        cm.plan(org, [course], policy=policy, time_limit=2)
    partial = cm.plan(org, [course], policy=policy, time_limit=2, on_infeasible="partial")
    assert partial.status == "infeasible_partial"
    assert partial.unassigned and all(u.reason for u in partial.unassigned)
    assert cm.validate(partial, org, [course], policy) == []


@pytest.mark.parametrize(("policy", "message"), [
    (cm.Policy(balance=["levle"]), r"policy, field 'balance': no person has the attribute 'levle'; the attributes are 'level', 'site', 'team', 'years'"),
    (cm.Policy(no_isolation=["sight"]), r"policy, field 'no_isolation': no person has the attribute 'sight'"),
    (cm.Policy(at_most={"level": {"directr": 1}}), r"policy, field 'at_most': no person has level 'directr'; its values are 'director', 'staff'"),
    (cm.Policy(at_least={"team": {"t9": 1}}), r"policy, field 'at_least': no person has team 't9'"),
    (cm.Policy(balance=["years"]), r"attribute 'years' is a number with 12 distinct values \(0 to 11\): give bins"),
    (cm.Policy(balance={"years": [0, 5]}), r"person 'p06' has years 6, outside the bins \['0', '5'\]"),
])
def test_bad_mix_input_names_the_field_and_what_exists(policy, message):
    org = cm.Organisation(people=[cm.Person(id=f"p{i:02d}", team="t", attributes={
        "level": "director" if i == 0 else "staff", "site": "L", "years": i}) for i in range(12)])
    with pytest.raises(cm.InputError, match=message):
        cm.plan(org, [cm.Course(id="x", min_size=4, max_size=4)], policy=policy, time_limit=1)


def test_a_value_held_by_one_participant_is_reported_not_an_error():
    org = _org("sssssssl", sites="LLLLYYYH")
    course = cm.Course(id="x", min_size=4, max_size=4)
    policy = cm.Policy(no_isolation=["site"])
    plan = cm.plan(org, [course], policy=policy, time_limit=None, work_limit=500, seed=0)
    assert cm.validate(plan, cm.Request(org=org, courses=[course], policy=policy)) == []
    assert "no_isolation: 'p07' is the only participant with site='H' in course 'x'" in plan.notes


def test_missing_attributes_count_as_the_empty_value():
    people = [cm.Person(id=f"p{i}", team=f"t{i}", attributes={"site": "L"} if i < 4 else {}) for i in range(8)]
    org = cm.Organisation(people=people)
    policy = cm.Policy(balance=["site"])
    plan = cm.plan(org, [cm.Course(id="x", min_size=4, max_size=4)], policy=policy, time_limit=None,
                   work_limit=500, seed=0)
    assert all(plan.mix.counts[c.id]["site"] == {"L": 2, "": 2} for c in plan.cohorts)


def test_binned_numbers_are_balanced_by_bin():
    org = cm.Organisation(people=[cm.Person(id=f"p{i:02d}", team=f"t{i}", attributes={"years": i})
                                  for i in range(12)])
    policy = cm.Policy(balance={"years": [0, 4, 12]})
    plan = cm.plan(org, [cm.Course(id="x", min_size=4, max_size=4)], policy=policy, time_limit=None,
                   work_limit=500, seed=0)
    assert all(plan.mix.counts[c.id]["years"] == {"0-4": 1, "4-12": 3} or
               plan.mix.counts[c.id]["years"] == {"0-4": 2, "4-12": 2} for c in plan.cohorts)
    assert cm.validate(plan, org, [cm.Course(id="x", min_size=4, max_size=4)], policy) == []


def test_max_per_team_is_the_team_case_of_at_most():
    org = _org("s" * 12, teams=3)
    course = cm.Course(id="x", min_size=4, max_size=4)
    by_cap = cm.plan(org, [course], policy=cm.Policy(max_per_team=2), time_limit=None, work_limit=500, seed=0)
    by_at_most = cm.plan(org, [course], policy=cm.Policy(at_most={"team": {"t0": 2, "t1": 2, "t2": 2}}),
                         time_limit=None, work_limit=500, seed=0)
    for plan in (by_cap, by_at_most):
        assert all(max(Counter(c.teams).values()) <= 2 for c in plan.cohorts)
    with pytest.raises(cm.InfeasibleError, match=r"team 't0' has 4 participants but 3 cohorts x max_per_team 1 = 3 places"):
        cm.plan(org, [course], policy=cm.Policy(max_per_team=1), time_limit=1)
    with pytest.raises(cm.InfeasibleError, match=r"team 't0' has 4 participants but 3 cohorts x at_most 1 = 3 places"):
        cm.plan(org, [course], policy=cm.Policy(at_most={"team": {"t0": 1}}), time_limit=1)


# ----------------------------------------------------------------------- soft balance


def test_soft_balance_minimises_the_deviation_first():
    """Balance wants 1-2 of the 4 people from Y in each cohort of 4, no_isolation 0 or 2+: hard,
    no plan; soft, the fewest deviations (brute force: 2) that keep everyone company."""
    org = _org("ssssllllllld", sites="LLLLLLLLYYYY")
    course = cm.Course(id="x", min_size=4, max_size=4)
    policy = cm.Policy(no_isolation=["site"], balance=["site"], balance_mode="soft")
    request = cm.Request(org=org, courses=[course], policy=policy)
    with pytest.raises(cm.InfeasibleError, match="balance and no_isolation on site='Y'"):
        cm.plan(request.model_copy(update={"policy": policy.model_copy(update={"balance_mode": "hard"})}),
                time_limit=2)
    plan = cm.plan(request, time_limit=None, work_limit=3000, seed=0)
    assert cm.validate(plan, request) == []
    ids = [p.id for p in org.people]
    best = min(_soft_deviation(request, dict(zip(ids, labels, strict=True)))
               for labels in itertools.product(range(3), repeat=12)
               if keeps_every_rule(request, dict(zip(ids, labels, strict=True)), 3))
    assert best == 2
    assert plan.mix.deviation == best


def _soft_deviation(request: cm.Request, cohort_of: dict[str, int]) -> int:
    people = {p.id: p for p in request.org.people}
    total = 0
    for a in request.policy.balance:
        everyone = Counter(_value(p, a, None) for p in people.values())
        for c in set(cohort_of.values()):
            ms = [m for m, x in cohort_of.items() if x == c]
            here = Counter(_value(people[m], a, None) for m in ms)
            for v, n_all in everyone.items():
                lo, hi = len(ms) * n_all // len(people), -(-len(ms) * n_all // len(people))
                total += max(lo - here[v], 0) + max(here[v] - hi, 0)
    return total


def test_engines_that_cannot_keep_soft_balance_refuse_by_name():
    org = _org("ssssllllllld", sites="LLLLLYYYLLLL")
    course = cm.Course(id="x", min_size=4, max_size=4)
    policy = cm.Policy(balance=["site"], balance_mode="soft")
    for solver in ("cpsat", "lns"):
        with pytest.raises(cm.InputError, match=f"'{solver}' cannot plan this request: it cannot keep balance"):
            cm.plan(org, [course], policy=policy, solver=solver, time_limit=1)
    plan = cm.plan(org, [course], policy=policy, time_limit=1, seed=0)
    assert plan.solver == "heuristic"
    with pytest.raises(cm.InputError, match="'tabu' cannot plan this request: it cannot keep balance"):
        cm.plan(org, [course], policy=policy.model_copy(update={"mode": "sum"}), solver="tabu",
                pair_values=np.ones((12, 12)), time_limit=1)


# ------------------------------------------------------------------ the price of the mix


def test_the_price_of_the_mix_is_planned_in_the_same_run():
    org = cm.org_chart(200, seed=3)
    course = cm.Course(id="x", min_size=8, max_size=10)
    policy = cm.Policy(max_per_team=2, balance=["level"])
    plan = cm.plan(org, [course], policy=policy, time_limit=None, work_limit=20_000, seed=0,
                   compare_without_mix=True)
    alone = cm.plan(org, [course], policy=policy.without_mix(), time_limit=None, work_limit=20_000, seed=0)
    assert plan.mix.without_mix == pytest.approx(alone.metrics.objective)
    assert plan.mix.price(plan.metrics.objective).startswith(f"objective {plan.metrics.objective:g} with the mix rules")
    with pytest.raises(cm.InputError, match="'compare_without_mix' needs mix rules"):
        cm.plan(org, [course], policy=cm.Policy(), time_limit=1, compare_without_mix=True)


# ------------------------------------------------- small values checked on their holders alone


def _set_partitions(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        yield [[first], *part]
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1:]]


def _groupable(people, team, cap, apart, groups) -> bool:
    """Brute force: ``people`` split into <= ``groups`` groups of >= 2 within the caps."""
    bad = {frozenset(p) for p in apart}
    for part in _set_partitions(list(people)):
        if len(part) <= groups and all(
                len(g) >= 2 and max(Counter(team[i] for i in g).values()) <= cap
                and not any(frozenset((a, b)) in bad for a, b in itertools.combinations(g, 2))
                for g in part):
            return True
    return not people


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 7).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 2), min_size=n, max_size=n), st.integers(1, 3),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda t: t[0] != t[1]),
             max_size=6),
    st.integers(1, 4))))
def test_holders_alone_are_grouped_exactly_when_brute_force_groups_them(case):
    from cohortmatch.rules.isolation import left_over

    team, cap, apart, groups = case
    team_a = np.array(team)
    pairs = np.array(sorted({tuple(sorted(p)) for p in apart}), np.int64).reshape(-1, 2)
    everyone = left_over(team_a, cap, pairs, groups, drop=False)
    assert everyone is not None
    assert (everyone.size == 0) == _groupable(range(len(team)), team, cap, pairs.tolist(), groups)
    dropped = left_over(team_a, cap, pairs, groups, drop=True)
    most = max(len(s) for r in range(len(team) + 1) for s in itertools.combinations(range(len(team)), r)
               if _groupable(s, team, cap, pairs.tolist(), groups))
    assert len(team) - dropped.size == most
    assert _groupable([i for i in range(len(team)) if i not in set(dropped.tolist())],
                      team, cap, pairs.tolist(), groups)


def _one_site_team(extra: int):
    """A manager and nine reports of one team at a small site, ``extra`` colleagues of other
    teams there, and 80 people of 20 teams elsewhere."""
    people = [cm.Person(id="m", team="sp", attributes={"site": "Sao Paulo"})]
    people += [cm.Person(id=f"r{i}", team="sp", manager="m", attributes={"site": "Sao Paulo"})
               for i in range(9)]
    people += [cm.Person(id=f"x{i}", team=f"x{i}", attributes={"site": "Sao Paulo"}) for i in range(extra)]
    people += [cm.Person(id=f"h{i:02d}", team=f"h{i % 20}", attributes={"site": "London"}) for i in range(80)]
    return cm.Request(org=cm.Organisation(people=people),
                      courses=[cm.Course(id="learning", min_size=10, max_size=14)],
                      policy=cm.Policy(max_per_team=2, no_isolation=["site"]))


def test_a_small_site_that_cannot_be_grouped_is_proven_infeasible_and_cut_by_one():
    """Manager and nine reports (two of a team per cohort, the manager apart from them)
    and one colleague: an odd report or the manager is always alone at their site."""
    req = _one_site_team(extra=1)
    with pytest.raises(cm.InfeasibleError, match=r"no_isolation on site='Sao Paulo': its 11 participants "
                                                 r"cannot share cohorts.*proven on these participants alone"):
        cm.plan(req, time_limit=10, seed=0)
    plan = cm.plan(req, time_limit=10, seed=0, on_infeasible="partial")
    assert cm.validate(plan, req) == [] and len(plan.unassigned) == 1
    assert "proven on these participants alone" in plan.unassigned[0].reason
    feasible = _one_site_team(extra=2)  # one more colleague pairs with the manager
    assert cm.validate(cm.plan(feasible, time_limit=10, seed=0), feasible) == []
