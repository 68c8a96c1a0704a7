"""Re-check a finished plan from the input model alone.

Deliberately independent of the compiled problem, the scoring core and the solvers:
plain Python over the plan's cohorts, so that a bug there cannot hide itself here.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import InputError
from .model import Course, Organisation, Person, Policy
from .request import Request, as_request
from .result import Plan

__all__ = ["validate", "objective_of", "gap_partners"]


def validate(
    plan: Plan,
    request: Request | Organisation,
    courses: Sequence[Course] | None = None,
    policy: Policy | None = None,
    *,
    history: Sequence[Plan] = (),
    pair_values: Any = None,
    rel_tol: float = 1e-6,
) -> list[str]:
    """Every hard rule a plan breaks, in plain words; ``[]`` when it keeps them all.

    ``validate(plan, request)``, or with the loose pieces
    ``validate(plan, org, courses, policy, history=..., pair_values=...)``.

    Checks: each cohort belongs to a known course and round; every participant of every
    course round is in exactly one cohort or listed as unassigned, and nobody else is;
    cohort sizes and counts; ``max_per_team``; managers apart from their direct reports;
    ``keep_apart`` and ``keep_together`` groups (a group binds in each course round all
    of its members take and none is left out of); pinned people in their cohorts;
    ``max_meetings``; seats (at most ``seats`` people in each round of a course, every
    required or pinned person placed, at most ``max_courses_per_person`` courses each, and
    the reported ``fit`` and ``total``); the mix rules (``balance`` against each value's share of the people
    placed in the course round, ``no_isolation``, ``at_most``, ``at_least``; with
    ``balance_mode="soft"``, the deviation the plan reports); cohort slots (one slot of
    its course for each cohort of a course with times, members who can come then, nobody
    in two cohorts at one slot, at most ``max_cohorts_per_slot`` cohorts of a course at a
    slot); and the reported objective, coverage, bound and gap-partner figures
    (``met_gap_partner``, ``median_gap_partners``, when the plan reports them), recomputed here.

    ``history`` holds the plans of earlier rounds the plan was made with
    (``plan(..., history=...)``): their meetings count against ``max_meetings`` and their
    bridges in the objective. With ``Policy(meetings="soft")`` repeats are allowed, but
    ``plan.repeated_meetings`` must list exactly the pairs over the cap.
    ``pair_values`` are the person-level values the plan was made with
    (``plan(..., pair_values=...)``), in the order of ``org.people``.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4)],
    ...                       gaps=[cm.Gap(a="a", b="b")])
    >>> courses = [cm.Course(id="c", min_size=2, max_size=2)]
    >>> p = cm.plan(org, courses, time_limit=None, work_limit=100, seed=0)
    >>> validate(p, cm.Request(org=org, courses=courses))
    []
    """
    if not isinstance(plan, Plan):
        raise InputError(f"validate: the 'plan' must be a Plan. Got {type(plan).__name__}.")
    req = as_request(request, courses, policy, pair_values=pair_values, history=history, name="validate")
    org, courses, policy = req.org, req.courses, req.policy
    history, pair_values = req.history, req.pair_values
    out: list[str] = []
    by_id = {c.id: c for c in courses}
    people = {p.id: p for p in org.people}
    seen_ids: set[str] = set()
    placed: Counter[tuple[str, str, int]] = Counter()
    cohorts_per_block: Counter[tuple[str, int]] = Counter()
    meetings: Counter[tuple[str, str]] = Counter()
    for c in plan.cohorts:
        if c.id in seen_ids:
            out.append(f"cohort id {c.id!r} is used twice")
        seen_ids.add(c.id)
        course = by_id.get(c.course)
        if course is None:
            out.append(f"cohort {c.id!r}: unknown course {c.course!r}")
            continue
        if not 0 <= c.round < course.rounds:
            out.append(f"cohort {c.id!r}: round {c.round} is outside 0..{course.rounds - 1}")
        cohorts_per_block[(c.course, c.round)] += 1
        if not course.min_size <= len(c.members) <= course.max_size:
            out.append(
                f"cohort {c.id!r}: {len(c.members)} members, outside {course.min_size}-{course.max_size}"
            )
        unknown = [m for m in c.members if m not in people]
        if unknown:
            out.append(f"cohort {c.id!r}: unknown person {unknown[0]!r}")
            continue
        for m in c.members:
            placed[(m, c.course, c.round)] += 1
        if policy.max_per_team is not None:
            for team, n in Counter(people[m].team for m in c.members).items():
                if n > policy.max_per_team:
                    out.append(
                        f"cohort {c.id!r}: {n} members of team {team!r}, max_per_team is "
                        f"{policy.max_per_team}"
                    )
        members = set(c.members)
        if policy.separate_manager_and_reports:
            for m in sorted(members):
                boss = people[m].manager
                if boss is not None and boss in members:
                    out.append(f"cohort {c.id!r}: {m!r} sits with their manager {boss!r}")
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                meetings[(a, b)] += 1
    for (m, course_id, r), n in placed.items():
        if n > 1:
            out.append(f"person {m!r} is in {n} cohorts of course {course_id!r} round {r}")
    unassigned: Counter[tuple[str, str, int]] = Counter()
    for u in plan.unassigned:
        unassigned[(u.person, u.course, u.round)] += 1
        if not u.reason:
            out.append(f"unassigned {u.person!r} in course {u.course!r} has no reason")
    for course in courses:
        participants = course.participants if course.participants is not None else list(people)
        expected_cohorts = course.cohorts
        for r in range(course.rounds):
            for m in participants:
                n = placed[(m, course.id, r)] + unassigned[(m, course.id, r)]
                if n == 0:
                    out.append(f"person {m!r} is missing from course {course.id!r} round {r}")
            if expected_cohorts is not None and cohorts_per_block[(course.id, r)] > expected_cohorts:
                out.append(
                    f"course {course.id!r} round {r}: {cohorts_per_block[(course.id, r)]} cohorts, "
                    f"more than the {expected_cohorts} asked for"
                )
        allowed = set(participants)
        for (m, course_id, _r), _n in placed.items():
            if course_id == course.id and m not in allowed:
                out.append(f"person {m!r} is in course {course.id!r} without being a participant")
    if policy.max_meetings is not None:
        for past in history:
            for c in past.cohorts:
                ordered = sorted(set(c.members))
                for i, a in enumerate(ordered):
                    for b in ordered[i + 1 :]:
                        if meetings[(a, b)]:  # only pairs who meet in this plan can be over
                            meetings[(a, b)] += 1
        over = {(a, b): n for (a, b), n in meetings.items() if n > policy.max_meetings}
        if policy.meetings == "hard":
            for (a, b), n in sorted(over.items()):
                out.append(f"{a!r} and {b!r} meet {n} times, max_meetings is {policy.max_meetings}")
        reported = {(min(r.a, r.b), max(r.a, r.b)): r.times for r in plan.repeated_meetings}
        if reported != over:
            out.append(
                f"repeated_meetings lists {len(reported)} pair(s) over max_meetings, "
                f"the cohorts have {len(over)} (or the counts differ)"
            )
    out += _seats(plan, org, courses, policy, rel_tol)
    out += _links(plan, org, courses, policy)
    out += _mix(plan, org, policy)
    out += _slots(plan, people, by_id)
    objective, coverage = objective_of(plan, org, policy, history=history, pair_values=pair_values)
    if not math.isclose(objective, plan.metrics.objective, rel_tol=rel_tol, abs_tol=1e-9):
        out.append(f"reported objective {plan.metrics.objective} differs from the recomputed {objective}")
    if not math.isclose(coverage, plan.metrics.coverage, rel_tol=rel_tol, abs_tol=1e-9):
        out.append(f"reported coverage {plan.metrics.coverage} differs from the recomputed {coverage}")
    if plan.metrics.bound < objective * (1 - rel_tol) - 1e-9:
        out.append(f"bound {plan.metrics.bound} is below the objective {objective}")
    out += _check_partner_metrics(plan, org, rel_tol)
    return out


def _seats(plan: Plan, org: Organisation, courses: Sequence[Course], policy: Policy,
           rel_tol: float) -> list[str]:
    """``seats``, ``required`` people and ``max_courses_per_person``, and the reported fit."""
    out = []
    interest = {p.id: p.interests for p in org.people}
    seated: dict[str, set[str]] = {}
    for c in plan.cohorts:
        seated.setdefault(c.course, set()).update(c.members)
    for course in courses:
        who = seated.get(course.id, set())
        if course.seats is not None:
            for r in range(course.rounds):
                n = sum(len(c.members) for c in plan.cohorts if c.course == course.id and c.round == r)
                if n > course.seats:
                    out.append(f"course {course.id!r} round {r}: {n} people placed, more than its "
                               f"{course.seats} seat(s)")
        choosing = course.seats is not None or policy.max_courses_per_person is not None
        for person in (*course.required, *course.pinned) if choosing else ():
            if person not in who:
                out.append(f"course {course.id!r}: {person!r} must get a seat and has none")
    courses_of: Counter[str] = Counter(m for who in seated.values() for m in who)
    k = policy.max_courses_per_person
    if k is not None:
        for person, n in sorted(courses_of.items()):
            if n > k:
                out.append(f"{person!r} has seats in {n} courses, max_courses_per_person is {k}")
    reported = plan.metrics.fit
    if reported is not None:
        fit = sum(interest[m].get(cid, 0.0) for cid, who in seated.items() for m in who if m in interest)
        if not math.isclose(fit, reported, rel_tol=rel_tol, abs_tol=1e-9):
            out.append(f"reported fit {reported} differs from the recomputed {fit}")
        total = plan.metrics.objective + policy.fit_weight * fit
        if plan.metrics.total is not None and not math.isclose(total, plan.metrics.total,
                                                                rel_tol=rel_tol, abs_tol=1e-9):
            out.append(f"reported total {plan.metrics.total} differs from the recomputed {total}")
        if plan.metrics.total_bound is not None and plan.metrics.total_bound < total * (1 - rel_tol) - 1e-9:
            out.append(f"total_bound {plan.metrics.total_bound} is below the total {total}")
    return out


def _check_partner_metrics(plan: Plan, org: Organisation, rel_tol: float) -> list[str]:
    """The reported gap-partner share and median against a naive recount."""
    counts = list(gap_partners(plan, org).values())
    share = sum(1 for n in counts if n > 0) / len(counts) if counts else 0.0
    median = float(statistics.median(counts)) if counts else 0.0
    out = []
    for name, value in (("met_gap_partner", share), ("median_gap_partners", median)):
        reported = getattr(plan.metrics, name)
        if reported is not None and not math.isclose(reported, value, rel_tol=rel_tol, abs_tol=1e-9):
            out.append(f"reported {name} {reported} differs from the recomputed {value}")
    return out


def gap_partners(plan: Plan, org: Organisation) -> dict[str, int]:
    """Distinct gap partners each participant meets: ``{person: count}``.

    A gap partner is another person in one of the participant's cohorts whose team has a
    gap with the participant's team. Participants are the people in at least one cohort
    of the plan (in the order they first appear); people not in ``org`` are skipped.
    Plain Python over the plan, independent of the vectorised count behind
    :attr:`cohortmatch.Metrics.met_gap_partner`.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> from cohortmatch.result import Cohort, Metrics, Plan
    >>> org = cm.Organisation(people=[cm.Person(id=i, team=t) for i, t in
    ...                               [("x", "a"), ("y", "b"), ("z", "c")]],
    ...                       gaps=[cm.Gap(a="a", b="b")])
    >>> m = Metrics(objective=1, coverage=1, bridged_gaps=1, bridged_weight=1, total_weight=1,
    ...             total_gaps=1, bound=1, gap_to_bound=0, mode="cover")
    >>> p = Plan(cohorts=[Cohort(id="k", course="c", members=("x", "y", "z"),
    ...                          teams=("a", "b", "c"))], metrics=m, status="feasible")
    >>> gap_partners(p, org)
    {'x': 1, 'y': 1, 'z': 0}
    """
    team_of = {p.id: p.team for p in org.people}
    linked: dict[str, set[str]] = {}
    for g in org.gaps:
        linked.setdefault(g.a, set()).add(g.b)
        linked.setdefault(g.b, set()).add(g.a)
    met: dict[str, set[str]] = {}
    for c in plan.cohorts:
        members = [m for m in c.members if m in team_of]
        for m in members:
            partners = met.setdefault(m, set())
            wanted = linked.get(team_of[m], set())
            partners.update(o for o in members if team_of[o] in wanted)
    return {m: len(partners) for m, partners in met.items()}


def objective_of(
    plan: Plan,
    org: Organisation,
    policy: Policy | None = None,
    *,
    history: Sequence[Plan] = (),
    pair_values: Any = None,
) -> tuple[float, float]:
    """Objective and coverage of a plan, recomputed naively from its cohorts.

    The cohorts of the ``history`` plans count too, as in ``plan(..., history=...)``.
    With ``pair_values`` (dense or scipy.sparse, in the order of ``org.people``), the
    value of every pair of co-members of the plan's own cohorts is added.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> from cohortmatch.result import Cohort, Metrics, Plan
    >>> org = cm.Organisation(people=[cm.Person(id="x", team="a"), cm.Person(id="y", team="b")],
    ...                       gaps=[cm.Gap(a="a", b="b", weight=2.0)])
    >>> m = Metrics(objective=0, coverage=0, bridged_gaps=0, bridged_weight=0, total_weight=2,
    ...             total_gaps=1, bound=2, gap_to_bound=1, mode="cover")
    >>> p = Plan(cohorts=[Cohort(id="k", course="c", members=("x", "y"), teams=("a", "b"))],
    ...          metrics=m, status="feasible")
    >>> objective_of(p, org)
    (2.0, 1.0)
    """
    policy = policy or Policy()
    team_of = {p.id: p.team for p in org.people}
    cohorts = list(plan.cohorts) + [c for past in history for c in past.cohorts]
    counts = [Counter(team_of[m] for m in c.members if m in team_of) for c in cohorts]
    cohorts_of: dict[str, set[int]] = {}
    for k, cnt in enumerate(counts):
        for team in cnt:
            cohorts_of.setdefault(team, set()).add(k)
    objective = 0.0
    bridged = 0.0
    total = 0.0
    for g in org.gaps:
        total += g.weight
        common = cohorts_of.get(g.a, set()) & cohorts_of.get(g.b, set())
        c_e = len(common)
        pairs = sum(counts[k][g.a] * counts[k][g.b] for k in common)
        if c_e:
            bridged += g.weight
        if policy.mode == "cover":
            objective += g.weight * min(c_e, 1)
        elif policy.mode == "diminishing":
            objective += g.weight * sum(policy.decay**i for i in range(c_e))
        else:
            objective += g.weight * pairs
    if pair_values is not None:
        objective += _pair_term(plan, org, pair_values)
    return objective, (bridged / total if total > 0 else 0.0)


def _pair_term(plan: Plan, org: Organisation, pair_values: Any) -> float:
    """Sum of ``pair_values[i, j]`` over the pairs ``i < j`` of each cohort of ``plan``."""
    V = pair_values if hasattr(pair_values, "tocsr") else np.asarray(pair_values, dtype=float)
    index = {p.id: i for i, p in enumerate(org.people)}
    total = 0.0
    for c in plan.cohorts:
        idx = np.array(sorted({index[m] for m in c.members if m in index}), dtype=np.int64)
        if idx.shape[0] < 2:
            continue
        sub = V[idx][:, idx]
        sub = sub.toarray() if hasattr(sub, "toarray") else np.asarray(sub)
        total += float(np.triu(sub, 1).sum())
    return total


def _links(plan: Plan, org: Organisation, courses: Sequence[Course], policy: Policy) -> list[str]:
    """``keep_apart``, ``keep_together`` and pinned places, checked cohort by cohort."""
    out: list[str] = []
    cohort_of: dict[tuple[str, str, int], str] = {}  # (person, course, round) -> cohort id
    for c in plan.cohorts:
        for m in c.members:
            cohort_of[(m, c.course, c.round)] = c.id
    for c in plan.cohorts:
        members = set(c.members)
        for i, group in enumerate(policy.keep_apart):
            inside = sorted(members & set(group))
            if len(inside) > 1:
                out.append(f"cohort {c.id!r}: {', '.join(map(repr, inside))} must be apart "
                           f"(keep_apart[{i}])")
    everyone = [p.id for p in org.people]
    left_out = {(u.person, u.course, u.round) for u in plan.unassigned}
    for course in courses:
        taking = set(course.participants if course.participants is not None else everyone)
        for together in _together_groups(policy.keep_together):
            if not together <= taking:
                continue
            for r in range(course.rounds):
                if any((m, course.id, r) in left_out for m in together):
                    continue  # a member is left out: the group does not take this round
                where = {cohort_of[(m, course.id, r)] for m in together if (m, course.id, r) in cohort_of}
                if len(where) > 1:
                    out.append(f"course {course.id!r} round {r}: {', '.join(map(repr, sorted(together)))} "
                               f"must share a cohort (keep_together), but are in {sorted(where)}")
        for person, ids in course.pins().items():
            for cid in ids:
                for r in range(course.rounds):
                    expected = _pinned_id(course, cid, r)
                    got = cohort_of.get((person, course.id, r))
                    if expected is not None and got is not None and got != expected:
                        out.append(f"{person!r} is pinned to {expected!r} but is in {got!r}")
    return out


def _slots(plan: Plan, people: dict[str, Person], courses: dict[str, Course]) -> list[str]:
    """Cohort slots, availability, clashes and slot capacity, checked cohort by cohort."""
    out: list[str] = []
    where: dict[tuple[str, str], list[str]] = {}  # (person, slot) -> cohorts
    per_slot: Counter[tuple[str, str]] = Counter()  # (course, slot) -> cohorts
    for c in plan.cohorts:
        course = courses.get(c.course)
        if course is None:
            continue
        if not course.slots:
            if c.slot is not None:
                out.append(f"cohort {c.id!r} meets at {c.slot!r}, but course {c.course!r} has no slots")
            continue
        if c.slot is None or c.slot not in course.slots:
            out.append(f"cohort {c.id!r}: {'no slot' if c.slot is None else repr(c.slot)}, not one of "
                       f"the slots of course {c.course!r}")
            continue
        per_slot[(c.course, c.slot)] += 1
        for m in c.members:
            person = people.get(m)
            if person is not None and person.available is not None and c.slot not in person.available:
                out.append(f"cohort {c.id!r}: {m!r} cannot come at {c.slot!r}")
            where.setdefault((m, c.slot), []).append(c.id)
    for (m, slot), ids in where.items():
        if len(ids) > 1:
            out.append(f"{m!r} is in {len(ids)} cohorts at {slot!r}: {', '.join(map(repr, ids))}")
    for (course_id, slot), n in per_slot.items():
        cap = courses[course_id].max_cohorts_per_slot
        if cap is not None and n > cap:
            out.append(f"course {course_id!r}: {n} cohorts at {slot!r}, max_cohorts_per_slot is {cap}")
    return out


def _together_groups(groups: Sequence[Sequence[str]]) -> list[set[str]]:
    """``keep_together`` groups, those sharing a person merged."""
    merged: list[set[str]] = []
    for group in groups:
        new = set(group)
        for old in [g for g in merged if g & new]:
            new |= old
            merged.remove(old)
        merged.append(new)
    return merged


def _pinned_id(course: Course, cohort_id: str, r: int) -> str | None:
    """The cohort of round ``r`` a pin names (None when it names another round's)."""
    if course.rounds == 1:
        return cohort_id if r == 0 else None
    prefix = f"{course.id}-r{r + 1}-"
    if cohort_id.startswith(prefix):
        return cohort_id
    rest = cohort_id[len(course.id) + 1:]
    if cohort_id.startswith(f"{course.id}-") and rest.isdigit():
        return f"{prefix}{rest}"
    return None


def _value(person: Any, attribute: str, bins: Sequence[float] | None) -> str:
    """A person's value of an attribute as the mix rules name it (bins applied)."""
    raw = person.team if attribute == "team" else person.attributes.get(attribute)
    if raw is None:
        return ""

    def text(x: Any) -> str:
        if isinstance(x, bool):
            return str(x).lower()
        return str(int(x)) if isinstance(x, float) and x == int(x) else str(x)

    if not bins:
        return text(raw)
    i = next(j for j in range(len(bins) - 1) if raw < bins[j + 1] or j == len(bins) - 2)
    return f"{text(bins[i])}-{text(bins[i + 1])}"


def _mix(plan: Plan, org: Organisation, policy: Policy) -> list[str]:
    """``balance``, ``no_isolation``, ``at_most`` and ``at_least``, cohort by cohort."""
    attributes = list(dict.fromkeys([*policy.balance, *policy.no_isolation, *policy.at_most,
                                     *policy.at_least]))
    if not attributes:
        return []
    people = {p.id: p for p in org.people}
    out: list[str] = []
    deviation = 0
    for attribute in attributes:
        bins = policy.balance.get(attribute)
        held: dict[tuple[str, int], Counter[str]] = {}  # (course, round) -> value -> people
        for c in plan.cohorts:
            held.setdefault((c.course, c.round), Counter()).update(
                _value(people[m], attribute, bins) for m in c.members if m in people)
        for c in plan.cohorts:
            here = Counter(_value(people[m], attribute, bins) for m in c.members if m in people)
            everyone = held[(c.course, c.round)]
            total, size = sum(everyone.values()), len(c.members)
            for value, n_all in everyone.items():
                n = here[value]
                name = f"{attribute}={value!r}"
                if attribute in policy.balance:
                    lo, hi = size * n_all // total, -(-size * n_all // total)
                    off = max(lo - n, 0) + max(n - hi, 0)
                    deviation += off
                    if off and policy.balance_mode == "hard":
                        out.append(f"cohort {c.id!r}: {n} with {name}, balance wants {lo}-{hi} "
                                   f"({n_all} of {total} in the course round)")
                if attribute in policy.no_isolation and n == 1 and n_all >= 2:
                    who = next(m for m in c.members if _value(people[m], attribute, bins) == value)
                    out.append(f"cohort {c.id!r}: {who!r} is the only one with {name} (no_isolation)")
                cap = policy.at_most.get(attribute, {}).get(value)
                if cap is not None and n > cap:
                    out.append(f"cohort {c.id!r}: {n} with {name}, at_most is {cap}")
            for value, least in policy.at_least.get(attribute, {}).items():
                if here[value] < least:
                    out.append(f"cohort {c.id!r}: {here[value]} with {attribute}={value!r}, at_least is {least}")
    if policy.balance_mode == "soft" and plan.mix is not None and plan.mix.deviation != deviation:
        out.append(f"the plan reports a balance deviation of {plan.mix.deviation}, the cohorts have {deviation}")
    return out
