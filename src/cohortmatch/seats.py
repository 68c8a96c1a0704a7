"""Who gets a seat: choose the people placed when courses have fewer seats than candidates.

Used by :func:`cohortmatch.plan` when a course has ``seats`` or the policy has
``max_courses_per_person``. The choice is made in three steps, each documented here so
that a learning team can explain it:

1. **Priority tiers.** Every candidate of a course (``Course.participants``, everyone
   when omitted) gets a tier: ``0`` required (``Course.required`` and pinned people),
   ``1`` passed over earlier (``not selected`` for the course in a ``history`` plan) and
   never placed in it, ``2`` new (never placed in the course), ``3`` already attended (in
   a cohort of the course in a ``history`` plan). A candidate of a higher tier (smaller
   number) is always placed before one of a lower tier (lexicographic rule), so that a
   course run every quarter with ``history`` reaches everyone in turn.
2. **Greedy fill.** Within a tier, candidates are taken by value, highest first:
   ``fit_weight * interest``, plus half the gap weight their team can bridge with the
   course's other candidates' teams for the team's keenest candidate (a gap needs one
   person of each team; in ``cover`` mode shared among the courses the team has
   candidates in, as a gap counts once), ties by interest then id. A candidate is
   skipped when the course's seats are full, when ``max_courses_per_person`` seats are
   already theirs (courses are filled together, in this global order), or when their team
   already holds
   ``cohorts * max_per_team`` seats. The number placed is the largest count not above
   ``seats`` that cohorts of ``min_size..max_size`` can hold.
3. **Joint choice.** After the cohorts are planned, on small requests CP-SAT chooses the
   people of the boundary tier and the cohorts together (:func:`exact_problem`,
   :func:`solve_exact`); otherwise :func:`improve_selection` swaps placed and waiting
   candidates of the boundary tier (same course, same tier) while that raises
   ``gap value + fit_weight * fit`` and keeps every hard rule (not with ``balance``,
   slots or several rounds: then the greedy choice stands).

Every candidate not placed is listed in ``Plan.unassigned`` with reason ``not selected``
and what decided it, ranked (``Unassigned.rank``): the waitlist.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .compiled import NO_CAP, CompiledProblem
from .engines.cpsat.model import build_model, integer_scale
from .engines.cpsat.solve import solve_model
from .errors import InputError
from .model import Course
from .request import Request
from .result import Cohort, Unassigned
from .rules import active, check_assignment
from .scoring import score, upper_bound

__all__ = [
    "TIERS", "needs_selection", "seat_conflicts", "places_for", "Selection", "select",
    "seat_bound", "improve_selection", "reselect", "placed_pairs", "members_of", "ExactOutcome",
    "exact_problem", "solve_exact", "fit_of",
]

#: The priority tiers, best first (see the module docstring).
TIERS = ("required", "passed over earlier", "new", "already attended")
NOT_SELECTED = "not selected"


def needs_selection(request: Request) -> bool:
    """Whether the request chooses who is placed (a course with seats, or a course limit).

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id="p1", team="a")])
    >>> needs_selection(cm.Request(org=org, courses=[cm.Course(id="c", min_size=1, max_size=1, seats=1)]))
    True
    """
    return request.policy.max_courses_per_person is not None or any(
        c.seats is not None for c in request.courses)


def places_for(n: int, course: Course) -> int:
    """The most people, at most ``n``, that cohorts of the course can hold exactly.

    Examples
    --------
    >>> places_for(24, Course(id="c", min_size=8, max_size=10))
    24
    >>> places_for(23, Course(id="c", min_size=8, max_size=10))   # three cohorts need 24
    20
    >>> places_for(11, Course(id="c", min_size=8, max_size=10))
    10
    >>> places_for(7, Course(id="c", min_size=8, max_size=10))
    0
    """
    lo, hi = course.min_size, course.max_size
    if course.cohorts is not None:
        k = course.cohorts
        return min(n, k * hi) if n >= k * lo else 0
    k = math.ceil(n / hi) if n > 0 else 0
    while k > 0 and k * lo > n:  # n between (k-1)*hi and k*lo: the fullest k-1 cohorts
        k -= 1
        n = min(n, k * hi)
    return n if k > 0 else 0


def _candidates(request: Request, course: Course) -> tuple[str, ...]:
    return course.participants if course.participants is not None else tuple(
        p.id for p in request.org.people)


def seat_conflicts(request: Request) -> list[str]:
    """Seat conflicts counting proves, in words; empty when none is found.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="a") for i in range(9)])
    >>> seat_conflicts(cm.Request(org=org, courses=[cm.Course(id="c", min_size=4, max_size=5, seats=3)]))
    ["course 'c': 3 seat(s), fewer than the 4 one cohort needs (min_size)"]
    """
    out: list[str] = []
    known = {p.id for p in request.org.people}
    required_in: Counter[str] = Counter()
    for course in request.courses:
        must = _must(course)
        unknown = [p for p in must if p not in known]
        if unknown:
            raise InputError(f"course {course.id!r}, field 'required': unknown person {unknown[0]!r}")
        required_in.update(must)
        if course.seats is None:
            continue
        if course.seats < course.min_size:
            out.append(f"course {course.id!r}: {course.seats} seat(s), fewer than the {course.min_size} "
                       "one cohort needs (min_size)")
        if len(must) > course.seats:
            out.append(f"course {course.id!r}: {len(must)} people must get a seat (required or pinned), "
                       f"more than its {course.seats} seat(s)")
        n = len(_candidates(request, course))
        if course.seats >= course.min_size and places_for(min(n, course.seats), course) < len(must):
            out.append(f"course {course.id!r}: cohorts of {course.min_size}-{course.max_size} cannot "
                       f"hold the {len(must)} required people within {course.seats} seat(s) and "
                       f"{n} candidate(s)")
    k = request.policy.max_courses_per_person
    if k is not None:
        over = sorted(p for p, n in required_in.items() if n > k)
        if over:
            out.append(f"{len(over)} person(s) must get a seat in more courses than max_courses_per_person "
                       f"({k}) allows, e.g. {over[0]!r} in {required_in[over[0]]}")
    return out


def _must(course: Course) -> tuple[str, ...]:
    """Required and pinned people of a course, each once."""
    return tuple(dict.fromkeys((*course.required, *course.pinned)))


@dataclass
class Selection:
    """Who is placed in each course, and the ranked waitlist.

    ``placed[course]`` lists the ids placed (candidate order kept); ``waiting`` holds one
    :class:`~cohortmatch.result.Unassigned` per candidate, course and round not placed;
    ``tier[(person, course)]`` and ``value[(person, course)]`` are the priority terms;
    ``cohorts[course]`` a cohort count that replaces the fewest the placed people need.
    """

    placed: dict[str, list[str]]
    waiting: list[Unassigned]
    tier: dict[tuple[str, str], int] = field(default_factory=dict)
    value: dict[tuple[str, str], float] = field(default_factory=dict)
    cohorts: dict[str, int] = field(default_factory=dict)

    def courses(self, request: Request) -> list[Course]:
        """The request's courses with their placed people as participants (seats dropped,
        ``cohorts`` set where this selection sets them); courses nobody is placed in are left out."""
        out = []
        for course in request.courses:
            who = self.placed.get(course.id, [])
            if who:
                out.append(course.model_copy(update={"participants": tuple(who), "seats": None, "required": (),
                                                     "cohorts": self.cohorts.get(course.id, course.cohorts)}))
        return out

    def boundary(self, course: str) -> int | None:
        """The worst tier of the course's placed candidates who are not required (None: only
        required people are placed): the choice among them and their waiting peers is open."""
        tiers = {self.tier[(p, course)] for p in self.placed.get(course, [])} - {0}
        return max(tiers) if tiers else None


def _history_tiers(request: Request) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """``(attended, passed_over)``: (person, course) pairs from the history plans."""
    attended = {(m, c.course) for past in request.history for c in past.cohorts for m in c.members}
    passed = {(u.person, u.course) for past in request.history for u in past.unassigned
              if u.reason.startswith(NOT_SELECTED)}
    return attended, passed


def _team_values(request: Request, course: Course, people: list[str]) -> dict[str, float]:
    """Gap weight each team of ``people`` can bridge with the others' teams (history's bridges
    count as done in cover mode)."""
    team_of = {p.id: p.team for p in request.org.people}
    teams = {team_of[p] for p in people}
    done: set[tuple[str, str]] = set()
    if request.policy.mode == "cover":
        for past in request.history:
            for c in past.cohorts:
                done.update((b.a, b.b) for b in c.bridges)
    out: dict[str, float] = dict.fromkeys(teams, 0.0)
    for g in request.org.gaps:
        if g.a in teams and g.b in teams and (g.a, g.b) not in done and (g.b, g.a) not in done:
            out[g.a] += g.weight
            out[g.b] += g.weight
    return out


def _priorities(request: Request) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], float],
                                           dict[tuple[str, str], float]]:
    """Tier, value and interest of every (person, course) candidacy."""
    attended, passed = _history_tiers(request)
    people = {p.id: p for p in request.org.people}
    w = request.policy.fit_weight
    tier: dict[tuple[str, str], int] = {}
    value: dict[tuple[str, str], float] = {}
    interest: dict[tuple[str, str], float] = {}
    offered: Counter[str] = Counter()  # courses a team has candidates in: in cover mode a gap counts once
    if request.policy.mode == "cover":
        for course in request.courses:
            offered.update({people[p].team for p in _candidates(request, course)})
    for course in request.courses:
        cands = list(_candidates(request, course))
        must = set(_must(course))
        team_value = {t: v / max(1, offered[t]) for t, v in _team_values(request, course, cands).items()}
        by_interest = sorted(cands, key=lambda p: (-people[p].interests.get(course.id, 0.0), p))
        rank_in_team: Counter[str] = Counter()
        for p in by_interest:
            key = (p, course.id)
            fit = people[p].interests.get(course.id, 0.0)
            team = people[p].team
            rank_in_team[team] += 1
            interest[key] = fit
            value[key] = w * fit + (team_value[team] / 2 if rank_in_team[team] == 1 else 0.0)
            tier[key] = 0 if p in must else 3 if key in attended else 1 if key in passed else 2
    return tier, value, interest


def select(request: Request, *, blocked: dict[tuple[str, str], str] | None = None) -> Selection:
    """Choose who is placed in each course (steps 1 and 2 of the module docstring).

    Parameters
    ----------
    request : Request
    blocked : dict, optional
        ``{(person, course): reason}``: candidacies a hard rule rules out; they wait with
        that reason.

    Returns
    -------
    Selection

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2],
    ...                                         interests={"c": i / 10}) for i in range(6)])
    >>> sel = select(cm.Request(org=org, courses=[cm.Course(id="c", min_size=2, max_size=2, seats=4)],
    ...                         policy=cm.Policy(fit_weight=1.0)))
    >>> sorted(sel.placed["c"])
    ['p2', 'p3', 'p4', 'p5']
    >>> sel.waiting[0].person, sel.waiting[0].rank, sel.waiting[0].reason
    ('p1', 1, "not selected: lower fit: the course's 4 seat(s) went to candidates of higher value (interest and gap)")
    """
    blocked = dict(blocked or {})
    tier, value, interest = _priorities(request)
    order = sorted(tier, key=lambda key: (tier[key], -value[key], -interest[key], key[0], key[1]))
    for _ in range(len(request.courses) + 1):  # people cut by _trim may take another course
        taken, why = _fill(request, order, tier, blocked)
        placed = _trim(request, taken, why)
        cut = {(q, cid): why[(q, cid)] for cid, who in taken.items() for q in who[len(placed[cid]):]}
        if not cut or request.policy.max_courses_per_person is None:
            break
        blocked.update(cut)
    waiting: list[Unassigned] = []
    for course in request.courses:
        chosen = set(placed[course.id])
        rest = [key for key in order if key[1] == course.id and key[0] not in chosen]
        for rank, key in enumerate(rest, start=1):
            reason = f"{NOT_SELECTED}: {why.get(key, 'seats full')}"
            waiting += [Unassigned(person=key[0], course=course.id, round=r, reason=reason, rank=rank)
                        for r in range(course.rounds)]
    return Selection(placed=placed, waiting=waiting, tier=tier, value=value)


def _most_cohorts(n: int, course: Course) -> int:
    """The most cohorts ``n`` seated people can fill (a course gets more cohorts before
    anyone is cut for a rule): ``course.cohorts`` when fixed, else ``n // min_size``."""
    return course.cohorts if course.cohorts is not None else max(1, n // course.min_size)


def _fill(request: Request, order: list[tuple[str, str]], tier: dict[tuple[str, str], int],
          blocked: dict[tuple[str, str], str]) -> tuple[dict[str, list[str]], dict[tuple[str, str], str]]:
    """Step 2 of the module docstring: ``(taken, why)``, the people each course takes in
    ``order`` and why each other candidacy was passed over."""
    policy = request.policy
    courses = {c.id: c for c in request.courses}
    target = {c.id: places_for(min(c.seats if c.seats is not None else 2**62,
                                   len(_candidates(request, c))), c) for c in request.courses}
    team_of = {p.id: p.team for p in request.org.people}
    team_cap = {cid: (_most_cohorts(target[cid], c) * policy.max_per_team if policy.max_per_team else 2**62)
                for cid, c in courses.items()}
    taken: dict[str, list[str]] = {cid: [] for cid in courses}
    per_person: dict[str, list[str]] = {}
    per_team: Counter[tuple[str, str]] = Counter()
    why: dict[tuple[str, str], str] = {}
    k = policy.max_courses_per_person
    for key in order:
        person, cid = key
        if key in blocked:
            why[key] = blocked[key]
        elif len(taken[cid]) >= target[cid]:
            why[key] = _full_reason(courses[cid], tier, taken[cid], key)
        elif k is not None and len(per_person.get(person, [])) >= k:
            why[key] = (f"max_courses_per_person: already has {k} seat(s) ("
                        + ", ".join(map(repr, per_person[person])) + ")")
        elif per_team[(cid, team_of[person])] >= team_cap[cid]:
            why[key] = f"max_per_team: team {team_of[person]!r} already holds every seat its cap allows"
        else:
            taken[cid].append(person)
            per_person.setdefault(person, []).append(cid)
            per_team[(cid, team_of[person])] += 1
    return taken, why


def _full_reason(course: Course, tier: dict[tuple[str, str], int], taken: list[str],
                 key: tuple[str, str]) -> str:
    """Why a candidate found the seats full: a better tier took them, or higher value did."""
    mine = tier[key]
    if mine == 3:
        return "already attended: took the course in an earlier plan; the seats went to those who had not"
    if taken and tier[(taken[-1], course.id)] < mine:
        return (f"seats full: the course's {len(taken)} seat(s) went to candidates of higher priority "
                f"({', '.join(TIERS[:mine])})")
    return (f"lower fit: the course's {len(taken)} seat(s) went to candidates of higher value "
            "(interest and gap)")


def _trim(request: Request, taken: dict[str, list[str]],
          why: dict[tuple[str, str], str]) -> dict[str, list[str]]:
    """Cut each course's placed people to a count its cohorts can hold (last taken go first)."""
    out: dict[str, list[str]] = {}
    for course in request.courses:
        who = taken[course.id]
        n = places_for(len(who), course)
        for p in who[n:]:
            why[(p, course.id)] = (f"seats full: {len(who)} could be seated, but cohorts of "
                                   f"{course.min_size}-{course.max_size} hold {n} of them")
        out[course.id] = who[:n]
    return out


def seat_bound(request: Request) -> tuple[float, float]:
    """``(gap_bound, fit_bound)``: proven upper bounds over every choice of people and cohorts.

    The gap bound is :func:`cohortmatch.scoring.upper_bound` of the request with every
    candidate placed in the most cohorts the seats allow, ``floor(seats / min_size)``:
    its counting argument only grows with more people and cohorts. The fit bound is
    ``fit_weight`` times the sum, per course, of the ``seats`` largest interests.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2],
    ...                                         interests={"c": 0.5}) for i in range(6)],
    ...                       gaps=[cm.Gap(a="a", b="b")])
    >>> seat_bound(cm.Request(org=org, courses=[cm.Course(id="c", min_size=2, max_size=2, seats=2)],
    ...                       policy=cm.Policy(fit_weight=2.0)))
    (1.0, 2.0)
    """
    people = {p.id: p for p in request.org.people}
    relaxed = []
    fit = 0.0
    for course in request.courses:
        cands = _candidates(request, course)
        seats = min(course.seats if course.seats is not None else len(cands), len(cands))
        most = _most_cohorts(seats, course)
        relaxed.append(course.model_copy(update={
            "seats": None, "required": (), "cohorts": most, "pinned": {},
            "slots": (), "max_cohorts_per_slot": None}))
        best = sorted((people[p].interests.get(course.id, 0.0) for p in cands), reverse=True)[:seats]
        fit += sum(best)
    policy = request.policy.model_copy(update={"keep_together": (), "balance": {}, "at_least": {}})
    gap = upper_bound(request.model_copy(update={"courses": tuple(relaxed), "policy": policy}).compile())
    return float(gap), request.policy.fit_weight * fit


def fit_of(request: Request, placed: dict[str, list[str]]) -> float:
    """Sum of the interest of the placed people in their courses.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id="p1", team="a", interests={"c": 0.25})])
    >>> fit_of(cm.Request(org=org, courses=[cm.Course(id="c", min_size=1, max_size=1)]), {"c": ["p1"]})
    0.25
    """
    people = {p.id: p for p in request.org.people}
    return float(sum(people[p].interests.get(cid, 0.0) for cid, who in placed.items() for p in who))


def improve_selection(request: Request, selection: Selection, cohorts: Sequence[Cohort],
                      *, seconds: float | None, max_tries: int, rng: np.random.Generator,
                      ) -> tuple[dict[str, tuple[str, list[str]]], int]:
    """Swap placed and waiting candidates of a course's boundary tier while that pays.

    A swap puts a waiting candidate into a placed one's cohort; it is kept when it raises
    ``gap value + fit_weight * fit`` and breaks no hard rule more often than before (the
    rules are checked on the request with every candidate, waiting ones unplaced). First
    each team's least interested placed people are swapped for its most interested waiting
    ones (team counts, hence the gap value, stay), then (``cover``, ``diminishing``) swaps
    that keep each cohort's set of teams (so the gap value stays), then random pairs are tried until
    ``seconds`` or ``max_tries`` run out. Only courses with one round are searched.
    Returns ``{cohort id: (course, members)}`` and the number of swaps made;
    ``selection`` is updated to match.
    """
    members = {c.id: (c.course, list(c.members)) for c in cohorts}
    p, a = _full_problem(request, members)
    pools = _swap_pools(request, selection, p) if p is not None else []
    if p is None or not pools:
        return members, 0
    state = _Swaps(p, a, request.policy.fit_weight * p.unit_fit, request.policy.max_courses_per_person)
    started = time.perf_counter()

    def late() -> bool:
        return seconds is not None and time.perf_counter() - started > seconds

    for u, v in _same_team_pairs(p, pools):
        if late():
            break
        state.attempt(u, v)
    if p.mode != "sum" and p.pair_values is None:
        for u, v in _team_set_pairs(p, state.a, pools, request.policy.max_per_team):
            if late():
                break
            state.attempt(u, v, kept=True)
    for _ in range(max_tries):
        if late():
            break
        placed_units, waiting_units = pools[int(rng.integers(len(pools)))]
        state.attempt(int(placed_units[int(rng.integers(placed_units.shape[0]))]),
                      int(waiting_units[int(rng.integers(waiting_units.shape[0]))]))
    if state.swaps:
        reselect(request, selection, placed_pairs(p, state.a),
                 "lower value: swapped for a waiting candidate who adds more gap value or fit")
    return members_of(p, state.a), state.swaps


class _Swaps:
    """An assignment with waiting units, its value and rule counts, and swaps that pay."""

    def __init__(self, problem: CompiledProblem, a: np.ndarray, fit: np.ndarray, k: int | None):
        self.p, self.a, self.fit, self.k = problem, a, fit, k
        self.value = score(problem, a).objective + float(fit[a >= 0].sum())
        self.rules = check_assignment(problem, a)
        self.courses = np.bincount(problem.unit_person[a >= 0], minlength=problem.n_people)
        self.swaps = 0

    def attempt(self, u: int, v: int, *, kept: bool = False) -> None:
        """Put waiting unit ``v`` in placed unit ``u``'s cohort if that pays and keeps the rules.

        ``kept``: the caller knows the swap keeps the cohort's set of teams (then, in
        ``cover`` and ``diminishing`` mode, the gap value)."""
        p, a = self.p, self.a
        if a[u] < 0 or a[v] >= 0 or (self.k is not None and self.courses[p.unit_person[v]] >= self.k):
            return
        b = a.copy()
        b[v], b[u] = a[u], -1
        same_team = kept or (p.unit_team[u] == p.unit_team[v] and p.pair_values is None)  # team counts stay
        gain = float(self.fit[v] - self.fit[u]) if same_team else (
            score(p, b).objective + float(self.fit[b >= 0].sum()) - self.value)
        if gain <= 1e-9:
            return
        after = check_assignment(p, b)
        if any(n > self.rules.counts.get(name, 0) for name, n in after):
            return
        self.a, self.value, self.rules = b, self.value + gain, after
        self.courses[p.unit_person[u]] -= 1
        self.courses[p.unit_person[v]] += 1
        self.swaps += 1


def _same_team_pairs(problem: CompiledProblem, pools: list[tuple[np.ndarray, np.ndarray]]
                     ) -> list[tuple[int, int]]:
    """(placed, waiting) unit pairs of one team: its least interested placed with its most
    interested waiting, while the waiting one is the keener."""
    out = []
    fit = problem.unit_fit
    for placed, waiting in pools:
        for t in np.intersect1d(problem.unit_team[placed], problem.unit_team[waiting]).tolist():
            low = placed[problem.unit_team[placed] == t]
            high = waiting[problem.unit_team[waiting] == t]
            low = low[np.argsort(fit[low], kind="stable")]
            high = high[np.argsort(-fit[high], kind="stable")]
            out += [(int(u), int(v)) for u, v in zip(low.tolist(), high.tolist(), strict=False) if fit[v] > fit[u]]
    return out


def _team_set_pairs(problem: CompiledProblem, a: np.ndarray, pools: list[tuple[np.ndarray, np.ndarray]],
                    cap: int | None) -> list[tuple[int, int]]:
    """(placed, waiting) unit pairs whose swap keeps the placed one's cohort's set of teams:
    the placed one's team keeps a member there, the waiting one's team is there already
    (below ``cap``); the least interested placed people first, each with the keenest such
    waiting person, while the waiting one is the keener."""
    p, fit = problem, problem.unit_fit
    out = []
    for placed, waiting in pools:
        units = np.concatenate([placed, waiting])
        now, wait = units[a[units] >= 0], units[a[units] < 0]
        block = np.flatnonzero(p.unit_block == p.unit_block[units[0]])
        block = block[a[block] >= 0]
        count: Counter[tuple[int, int]] = Counter(zip(a[block].tolist(), p.unit_team[block].tolist(), strict=True))
        teams_in: dict[int, set[int]] = {}
        for k, t in count:
            teams_in.setdefault(k, set()).add(t)
        queue: dict[int, list[int]] = {}
        for v in wait[np.argsort(-fit[wait], kind="stable")].tolist():
            queue.setdefault(int(p.unit_team[v]), []).append(v)
        for u in now[np.argsort(fit[now], kind="stable")].tolist():
            k, tu = int(a[u]), int(p.unit_team[u])
            if count[(k, tu)] < 2:
                continue
            open_teams = [t for t in teams_in[k] if queue.get(t) and (cap is None or count[(k, t)] < cap or t == tu)]
            if not open_teams:
                continue
            t = max(open_teams, key=lambda x: fit[queue[x][0]])
            v = queue[t][0]
            if fit[v] <= fit[u]:
                continue
            queue[t].pop(0)
            count[(k, tu)] -= 1
            count[(k, t)] += 1
            out.append((u, v))
    return out


def _full_problem(request: Request, members: dict[str, tuple[str, list[str]]]):  # type: ignore[no-untyped-def]
    """The request with every candidate, cohorts fixed as planned, and the plan's
    assignment on it (waiting candidates unplaced); ``(None, None)`` when a course has
    several rounds or slots, or the policy balances attributes (no swaps then)."""
    counts = Counter(course for course, _ in members.values())
    if request.policy.balance:  # shares of the placed people: not seen with every candidate in
        return None, None
    courses = []
    for course in request.courses:
        if course.rounds != 1 or course.slots:  # slots: the cohorts' times are the engine's choice
            return None, None
        if counts[course.id]:
            courses.append(course.model_copy(update={"seats": None, "required": (),
                                                     "cohorts": counts[course.id]}))
    problem = request.with_courses(courses).compile()
    a = np.full(problem.n_units, -1, np.int64)
    unit_of = problem.unit_index()
    for cid, (course_id, who) in members.items():
        k = problem.cohort_index(cid)
        for m in who:
            a[unit_of[(m, course_id, 0)]] = k
    return problem, a


def _swap_pools(request: Request, selection: Selection, problem: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per course with cohorts: (placed units, waiting units) of its boundary tier."""
    unit_of = problem.unit_index()
    out = []
    for course in request.courses:
        t = selection.boundary(course.id)
        if t is None:
            continue
        placed = [unit_of[(q, course.id, 0)] for q in selection.placed[course.id]
                  if selection.tier[(q, course.id)] == t]
        waiting = [unit_of[(u.person, course.id, 0)] for u in selection.waiting
                   if u.course == course.id and selection.tier[(u.person, course.id)] == t]
        if placed and waiting:
            out.append((np.asarray(placed, np.int64), np.asarray(waiting, np.int64)))
    return out


def reselect(request: Request, selection: Selection, now: set[tuple[str, str]], why: str) -> None:
    """Update ``selection`` to the (person, course) pairs ``now`` placed: the candidates no
    longer placed wait with reason ``why``, and every waitlist is ranked again by (tier, value)."""
    out_reason = f"{NOT_SELECTED}: {why}"
    waiting: list[Unassigned] = []
    for course in request.courses:
        was = selection.placed.get(course.id, [])
        gone = [q for q in was if (q, course.id) not in now]
        came = {u.person for u in selection.waiting if u.course == course.id and (u.person, course.id) in now}
        selection.placed[course.id] = [q for q in was if q not in gone] + sorted(came)
        rows = [(u.person, u.reason) for u in selection.waiting if u.course == course.id
                and u.round == 0 and u.person not in came] + [(q, out_reason) for q in gone]
        rows.sort(key=lambda r: (selection.tier[(r[0], course.id)], -selection.value[(r[0], course.id)], r[0]))
        waiting += [Unassigned(person=q, course=course.id, round=r, reason=reason, rank=rank)
                    for rank, (q, reason) in enumerate(rows, start=1) for r in range(course.rounds)]
    selection.waiting = waiting


def placed_pairs(problem: CompiledProblem, a: np.ndarray) -> set[tuple[str, str]]:
    """(person, course) of every placed unit of an assignment."""
    p = problem
    return {(p.person_ids[p.unit_person[u]], p.course_ids[p.block_course[p.unit_block[u]]])
            for u in np.flatnonzero(a >= 0).tolist()}


def members_of(problem: CompiledProblem, a: np.ndarray) -> dict[str, tuple[str, list[str]]]:
    """``{cohort id: (course, member ids)}`` of an assignment."""
    out: dict[str, tuple[str, list[str]]] = {
        cid: (problem.course_ids[problem.block_course[problem.cohort_block[k]]], [])
        for k, cid in enumerate(problem.cohort_ids)}
    for u in np.flatnonzero(a >= 0).tolist():
        out[problem.cohort_ids[a[u]]][1].append(problem.person_ids[problem.unit_person[u]])
    return out


@dataclass
class ExactOutcome:
    """What :func:`solve_exact` found: the cohorts, CP-SAT's status and its proven bound on
    ``gap value + fit_weight * fit``."""

    members: dict[str, tuple[str, list[str]]]
    status: str
    bound: float


def exact_problem(request: Request, selection: Selection) -> CompiledProblem | None:
    """The compiled problem CP-SAT chooses people in, or None when it cannot.

    Candidates of a course's boundary tier are optional, those of better tiers required,
    those of worse tiers left out (the tier rule of the module docstring holds). A course
    gets as many cohorts as its seats could fill, ``floor(places / min_size)``, and may
    leave some empty (not when its cohorts are given or people are pinned): CP-SAT chooses
    the count. None when
    a course has several rounds or a rule other than sizes, ``max_per_team``,
    ``keep_apart`` (managers included) and pinned people applies.
    """
    if any(c.rounds != 1 for c in request.courses):
        return None
    courses, required = [], set()
    for course in request.courses:
        placed = selection.placed.get(course.id, [])
        if not placed:
            continue
        t = selection.boundary(course.id)
        pool = [u.person for u in selection.waiting if u.course == course.id
                and t is not None and selection.tier[(u.person, course.id)] == t]
        required |= {(q, course.id) for q in placed if t is None or selection.tier[(q, course.id)] < t}
        most = places_for(min(course.seats or 2**62, len(placed) + len(pool)), course)
        courses.append(course.model_copy(update={
            "participants": tuple(sorted({*placed, *pool})), "seats": None, "required": (),
            "cohorts": course.cohorts or max(most // course.min_size, selection.cohorts.get(course.id, 0), 1)}))
    if not courses:
        return None
    problem = request.with_courses(courses).compile()
    fixed = {c.id for c in request.courses if c.cohorts is not None or c.pinned}
    first = np.r_[True, problem.cohort_block[1:] != problem.cohort_block[:-1]]  # every course keeps one
    optional = [problem.course_ids[problem.block_course[b]] not in fixed and not f
                for b, f in zip(problem.cohort_block.tolist(), first.tolist(), strict=True)]
    if {rule.name for rule in active(problem)} - {"sizes", "max_per_team", "keep_apart", "pinned"}:
        return None
    seats = [next(c.seats for c in request.courses if c.id == problem.course_ids[ci]) or NO_CAP
             for ci in problem.block_course.tolist()]
    must = [(problem.person_ids[problem.unit_person[u]],
             problem.course_ids[problem.block_course[problem.unit_block[u]]]) in required
            for u in range(problem.n_units)]
    k = request.policy.max_courses_per_person
    return problem.with_seats(seats, must, cohort_optional=optional, fit_weight=request.policy.fit_weight,
                              max_courses=NO_CAP if k is None else k)


def solve_exact(problem: CompiledProblem, hint: dict[str, tuple[str, list[str]]] | None, *,
                time_limit: float | None, workers: int | None, seed: int, stop: Any = None,
                ) -> ExactOutcome | None:
    """Choose people and cohorts together with CP-SAT (optional units, seats as a sum);
    None when it finds no plan in time.

    ``hint`` (cohorts of a plan of the same cohort ids) warm-starts the search.
    """
    start = None
    if hint is not None:
        start = np.full(problem.n_units, -1, np.int64)
        unit_of = problem.unit_index()
        for cid, (course, who) in hint.items():
            for m in who:
                if (m, course, 0) in unit_of and cid in problem.cohort_ids:
                    start[unit_of[(m, course, 0)]] = problem.cohort_index(cid)
        if check_assignment(problem, start):
            start = None
    started = time.perf_counter()
    cm = build_model(problem, hint=start, stop=stop)
    out = solve_model(cm, time_limit=time_limit, workers=workers, seed=seed, stop=stop)
    if out.assignment is None:
        return None
    assignment = out.assignment
    bound = float(out.bound) if cm.terms else float(out.objective)  # no term: every plan is worth the same
    if out.status == "optimal":  # then, among the best plans, the most seats in the fewest cohorts
        _keep_objective(cm, out.objective)
        cm.model.maximize((len(cm.used) + 1) * sum(cm.n.values()) - sum(cm.used.values()))
        cm.scale, cm.offset = 1.0, 0.0
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - started), 0.01)
        fill = solve_model(cm, time_limit=left, workers=workers, seed=seed, stop=stop)
        if fill.assignment is not None:
            assignment = fill.assignment
    return ExactOutcome(members_of(problem, assignment), out.status, bound)


def _keep_objective(cm: Any, value: float) -> None:
    """Constrain a solved model's (maximised) objective to stay at least ``value``."""
    if not cm.terms:
        return
    scale, coef = integer_scale(np.array([v for _, v in cm.terms]))
    expr = sum(int(c) * x for (x, _), c in zip(cm.terms, coef.tolist(), strict=True))
    cm.model.add(expr >= math.floor((value - cm.offset) * scale + 1e-6))
