"""Time slots: each cohort of a course with times meets at one of its slots, every member
can come then, nobody is in two cohorts at the same time, and at most
``max_cohorts_per_slot`` cohorts of a course share a slot.

The slot of each cohort is a decision, like its members. A compiled request leaves the
slots undecided (``CompiledProblem.cohort_slot`` is -1); an engine decides them
(:func:`label_cohorts` from the availability supply before construction, CP-SAT exactly
with one literal per cohort and slot) and works on the problem
:meth:`~cohortmatch.compiled.CompiledProblem.with_slots` its labels. Unit moves never
change a label, so the kernels check a move against fixed labels (:func:`slot_ok`);
:func:`relabel` changes the labels of cohorts where every member can follow.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from ..compiled import NO_CAP, CompiledProblem
from .base import CourseView, Cut, Rule
from .sizes import largest_teams_first

if TYPE_CHECKING:
    from ..engines.cpsat.model import CohortModel

__all__ = ["Slots", "slot_ok", "slot_options", "label_cohorts", "relabel"]

#: Up to this many slots in a course, the pre-check tries every set of slots (Hall's
#: condition); above, single slots and all-but-one.
SUBSET_LIMIT = 10


class Slots(Rule):
    """Cohort slots, availability, no clash and slot capacity.

    The kernels read each cohort's slot (``cohort_slot``), each unit's availability
    (``unit_avail``, by slot) and each unit's *siblings*, the same person's units in
    other blocks with times (``sibling_indptr``/``sibling_units``).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t", available=["mon"] if i < 5 else None)
    ...                            for i in range(8)])
    >>> course = Course(id="x", min_size=4, max_size=4, slots=["mon", "tue"], max_cohorts_per_slot=1)
    >>> rule = Slots(compile_problem(org, [course]))
    >>> for conflict in rule.precheck():
    ...     print(conflict)
    course 'x': 5 people can only come on 'mon', which holds at most 1 cohort of 4 (4 places)
    course 'x': the people who can come fill at most 1 of its 2 cohorts of at least 4 ('mon': 8, 'tue': 3)
    >>> Slots(rule.problem.with_slots([0, 1])).violations(np.array([1, 0, 0, 0, 0, 1, 1, 1]))  # p0 on tue
    1
    """

    name = "slots"

    def __init__(self, problem):  # type: ignore[no-untyped-def]
        super().__init__(problem)
        self.unit_avail, self.indptr, self.siblings = problem.cached("slot_units", lambda: _unit_arrays(problem))
        self.labels = problem.cohort_slot
        self.timed = problem.block_slots[problem.cohort_block].any(axis=1)  # cohorts with times

    @classmethod
    def applies(cls, problem):  # type: ignore[no-untyped-def]
        return problem.slotted

    # ------------------------------------------------------------- counting
    def label_faults(self) -> int:
        """Violations of the labels alone: undecided, not a slot of the course, over capacity."""
        p, s = self.problem, self.labels
        wrong = np.where(self.timed, (s < 0) | ~p.block_slots[p.cohort_block, np.maximum(s, 0)], s >= 0)
        return int(wrong.sum()) + int(np.maximum(_slot_counts(p, s) - p.course_slot_cap[:, None], 0).sum())

    def _unit_faults(self, assignment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Placed units at a slot they cannot come, and the clash key (person, slot) of
        every placed unit at a slot (-1 elsewhere)."""
        p = self.problem
        a = np.asarray(assignment)
        slot = np.where(a >= 0, self.labels[np.maximum(a, 0)], -1)
        timed = slot >= 0
        away = np.zeros(a.shape[0], bool)
        away[timed] = ~self.unit_avail[np.flatnonzero(timed), slot[timed]]
        key = np.where(timed, p.unit_person.astype(np.int64) * max(p.n_slots, 1) + slot, -1)
        return away, key

    def violations(self, assignment: np.ndarray) -> int:
        away, key = self._unit_faults(assignment)
        _, n = np.unique(key[key >= 0], return_counts=True)
        return self.label_faults() + int(away.sum()) + int((n - 1).sum())

    def offenders(self, assignment: np.ndarray) -> np.ndarray:
        away, key = self._unit_faults(assignment)
        _, inverse, n = np.unique(key, return_inverse=True, return_counts=True)
        clash = (n[inverse] > 1) & (key >= 0)
        return np.flatnonzero(away | clash)

    # ----------------------------------------------------------- pre-check
    def precheck(self) -> list[str]:
        p = self.problem
        out: list[str] = []
        for c in _timed_courses(p):
            blocks = np.flatnonzero(p.block_course == c)
            allowed = np.flatnonzero(p.block_slots[blocks[0]])
            where = f"course {p.course_ids[c]!r}"
            cap = int(p.course_slot_cap[c])
            k_all = int(sum(p.block_cohorts[b + 1] - p.block_cohorts[b] for b in blocks))
            if cap != NO_CAP and k_all > cap * allowed.shape[0]:
                out.append(f"{where}: {k_all} cohorts but {allowed.shape[0]} slot(s) x max_cohorts_per_slot "
                           f"{cap} = {cap * allowed.shape[0]} places in the timetable")
            for b in blocks.tolist():
                out += _block_conflicts(p, b, allowed, cap)
        out += _person_conflicts(p)
        return out

    def reduce(self, view: CourseView) -> Cut | None:
        p = self.problem
        b = int(view.blocks[0])
        allowed = np.flatnonzero(p.block_slots[b])
        if allowed.shape[0] == 0:
            return None
        can = p.person_slots[view.alive][:, allowed]
        never = view.alive[~can.any(axis=1)]
        if never.shape[0]:
            return Cut(never, f"{view.where}: can come at none of its slots ({_names(p, allowed)})")
        rounds = view.blocks.shape[0]
        short = view.alive[can.sum(axis=1) < rounds]
        if short.shape[0]:
            return Cut(short, f"{view.where}: takes {rounds} rounds but can come at fewer of its slots")
        cap = int(p.course_slot_cap[view.course])
        k_max = min(cap, view.cohorts * rounds) * allowed.shape[0] // rounds
        if k_max < view.cohorts:
            extra = int(view.alive.shape[0]) - k_max * view.hi
            if extra > 0:
                return Cut(largest_teams_first(view.alive, p.person_team, extra),
                           f"{view.where}: {allowed.shape[0]} slot(s) x max_cohorts_per_slot {cap} hold "
                           f"{k_max} cohort(s) per round; {extra} left over")
        return _confined_cut(p, view, allowed, cap)

    # --------------------------------------------------------------- CP-SAT
    def signature(self, units: np.ndarray) -> list[Any]:
        p = self.problem
        out: list[Any] = []
        for u in units.tolist():
            b = int(p.unit_block[u])
            allowed = p.block_slots[b]
            if self.indptr[u + 1] > self.indptr[u]:
                out.append(("unit", u))  # in several blocks with times: modelled on its own
            elif allowed.any() and not self.unit_avail[u, allowed].all():
                out.append(self.unit_avail[u, allowed].tobytes())
            else:
                out.append(-1)
        return out

    def pinned_cohorts(self) -> np.ndarray:
        return np.flatnonzero(self.timed)  # each has its own slot literals: no symmetry breaking

    def encode(self, cm: CohortModel) -> None:
        x = _slot_literals(cm)
        _encode_capacity(cm, x)
        _encode_availability(cm, x, self)
        _encode_clashes(cm, x, self)

    def kernel_fields(self) -> dict[str, Any]:
        return {"cohort_slot": self.labels, "unit_avail": self.unit_avail,
                "sibling_indptr": self.indptr, "sibling_units": self.siblings}


@njit(cache=True)
def slot_ok(R, u, k, assignment):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Whether unit ``u`` may be in cohort ``k``: it can come at ``k``'s slot, and none of
    its siblings (the same person in other blocks) meets then."""
    s = R.cohort_slot[k]
    if s < 0:
        return True
    if not R.unit_avail[u, s]:
        return False
    for i in range(R.sibling_indptr[u], R.sibling_indptr[u + 1]):
        kv = assignment[R.sibling_units[i]]
        if kv >= 0 and R.cohort_slot[kv] == s:
            return False
    return True


# ------------------------------------------------------------------ arrays


def _unit_arrays(problem: CompiledProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unit's availability by slot, and its siblings as a CSR over units."""
    p = problem
    avail = np.ascontiguousarray(p.person_slots[p.unit_person])
    timed = np.flatnonzero(np.asarray(p.block_slots.any(axis=1))[p.unit_block])
    persons = p.unit_person[timed].astype(np.int64)
    order = np.argsort(persons, kind="stable")
    units, persons = timed[order], persons[order]
    starts = np.flatnonzero(np.r_[True, persons[1:] != persons[:-1]]) if units.shape[0] else np.zeros(0, int)
    sizes = np.diff(np.r_[starts, units.shape[0]])
    src_parts, dst_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for m in np.unique(sizes[sizes > 1]).tolist():
        rows = units[starts[sizes == m][:, None] + np.arange(m)]
        i, j = np.nonzero(~np.eye(m, dtype=bool))
        src_parts.append(rows[:, i].ravel())
        dst_parts.append(rows[:, j].ravel())
    src, dst = np.concatenate(src_parts), np.concatenate(dst_parts)
    order = np.lexsort((dst, src))
    indptr = np.zeros(p.n_units + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=p.n_units), out=indptr[1:])
    return avail, indptr, dst[order].astype(np.int64)


def _slot_counts(p: CompiledProblem, labels: np.ndarray) -> np.ndarray:
    """``(C, S)``: cohorts of each course at each slot."""
    out = np.zeros((len(p.course_ids), max(p.n_slots, 1)), np.int64)
    placed = labels >= 0
    np.add.at(out, (p.block_course[p.cohort_block[placed]], labels[placed]), 1)
    return out


def _timed_courses(p: CompiledProblem) -> list[int]:
    return sorted({int(p.block_course[b]) for b in np.flatnonzero(p.block_slots.any(axis=1))})


def _names(p: CompiledProblem, slots: Any) -> str:
    return ", ".join(repr(p.slot_ids[int(s)]) for s in slots)


# ---------------------------------------------------------------- pre-check


def _block_conflicts(p: CompiledProblem, b: int, allowed: np.ndarray, cap: int) -> list[str]:
    """What counting proves about one block: people who can come at none of its slots,
    people confined to a few slots beyond their places, cohorts that cannot be filled."""
    lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
    k = int(p.block_cohorts[b + 1] - p.block_cohorts[b])
    if k == 0 or hi == lo:
        return []
    where = f"course {p.block_name(b)!r}"
    persons = p.unit_person[lo:hi]
    can = p.person_slots[persons][:, allowed]
    never = persons[~can.any(axis=1)]
    if never.shape[0]:
        return [f"{where}: {p.names(never)} can come at none of its slots ({_names(p, allowed)})"]
    kmin, kmax = int(p.cohort_min[p.block_cohorts[b]]), int(p.cohort_max[p.block_cohorts[b]])
    over, teams = [], []
    for subset, inside in _confined(can, allowed):
        cohorts = min(k, cap * len(subset)) if cap != NO_CAP else k
        if int(inside.sum()) > cohorts * kmax:
            over.append((subset, int(inside.sum())))
        teams += [(subset, t, n) for t, n in _team_excess(p, persons, inside, cohorts)]
    out: list[str] = []
    for subset, n in _smallest(over):
        cohorts = min(k, cap * len(subset)) if cap != NO_CAP else k
        out.append(f"{where}: {n} people can only come {_which(p, subset)} at most {cohorts} cohort"
                   f"{'s' if cohorts != 1 else ''} of {kmax} ({cohorts * kmax} places)")
    for t in sorted({t for _, t, _ in teams}):
        subset, _, n = next(x for x in teams if x[1] == t)  # the fewest slots first
        cohorts = min(k, cap * len(subset)) if cap != NO_CAP else k
        out.append(f"{where}: {n} people of team {p.team_ids[t]!r} can only come {_which(p, subset)} at most "
                   f"{cohorts} cohort{'s' if cohorts != 1 else ''} x max_per_team {p.max_per_team} "
                   f"({cohorts * p.max_per_team} places)")
    fill = can.sum(axis=0) // max(kmin, 1)
    if cap != NO_CAP:
        fill = np.minimum(fill, cap)
    if int(fill.sum()) < k:
        out.append(f"{where}: the people who can come fill at most {int(fill.sum())} of its {k} cohorts of at "
                   f"least {kmin} ({_counts(p, allowed, can)})")
    return out


def _which(p: CompiledProblem, subset: list[int]) -> str:
    return f"on {_names(p, subset)}, which holds" if len(subset) == 1 else f"at {_names(p, subset)}, which hold"


def _counts(p: CompiledProblem, allowed: np.ndarray, can: np.ndarray) -> str:
    return ", ".join(f"{p.slot_ids[s]!r}: {int(n)}" for s, n in zip(allowed.tolist(), can.sum(axis=0).tolist(),
                                                                     strict=True))


def _confined(can: np.ndarray, allowed: np.ndarray) -> list[tuple[list[int], np.ndarray]]:
    """``(slots, inside)``: the rows of ``can`` (people) who can come only at those slots
    (Hall's condition), for every set of slots someone is confined to."""
    S = allowed.shape[0]
    if S > SUBSET_LIMIT:
        subsets = [[i] for i in range(S)] + [[j for j in range(S) if j != i] for i in range(S)]
    else:
        subsets = [list(c) for r in range(1, S) for c in itertools.combinations(range(S), r)]
    bits = can.astype(np.int64) @ (1 << np.arange(S, dtype=np.int64))
    out = []
    for subset in subsets:
        inside = (bits & ~int(sum(1 << i for i in subset))) == 0
        if inside.any():
            out.append((allowed[subset].tolist(), inside))
    return out


def _team_excess(p: CompiledProblem, persons: np.ndarray, inside: np.ndarray, cohorts: int) -> list[tuple[int, int]]:
    """``(team, n)``: teams with more people confined to some slots (``inside``) than the
    ``cohorts`` meeting there hold under ``max_per_team``."""
    if p.max_per_team == NO_CAP:
        return []
    n = np.bincount(p.person_team[persons[inside]], minlength=p.n_teams)
    return [(int(t), int(n[t])) for t in np.flatnonzero(n > cohorts * p.max_per_team)]


def _smallest(found: list[tuple[list[int], int]]) -> list[tuple[list[int], int]]:
    """Those of ``found`` (sets of slots, smallest first) that hold none found before."""
    out: list[tuple[list[int], int]] = []
    for subset, n in found:
        if not any(set(s) <= set(subset) for s, _ in out):
            out.append((subset, n))
    return out


def _person_conflicts(p: CompiledProblem) -> list[str]:
    """People who take more blocks with times than they have distinct slots for."""
    timed = np.asarray(p.block_slots.any(axis=1))
    if not timed.any():
        return []
    units = np.flatnonzero(timed[p.unit_block])
    seen: dict[tuple[Any, ...], bool] = {}
    short: list[int] = []
    blocks_of: dict[int, list[int]] = {}
    for u in units.tolist():
        blocks_of.setdefault(int(p.unit_person[u]), []).append(int(p.unit_block[u]))
    for person, blocks in blocks_of.items():
        if len(blocks) < 2:
            continue
        options = [p.block_slots[b] & p.person_slots[person] for b in blocks]
        if not all(o.any() for o in options):
            continue  # a block they can come at no slot of says so itself
        key = tuple(o.tobytes() for o in options)
        if key not in seen:
            seen[key] = _matching(options) == len(blocks)
        if not seen[key]:
            short.append(person)
    if not short:
        return []
    return [f"{p.names(short)} take{'s' if len(short) == 1 else ''} several course rounds with times "
            "but cannot come at a different slot for each (nobody is in two cohorts at once)"]


def _matching(options: list[np.ndarray]) -> int:
    """Size of a largest matching of blocks to distinct slots (augmenting paths)."""
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for s in np.flatnonzero(options[i]).tolist():
            if s in seen:
                continue
            seen.add(s)
            if s not in owner or augment(owner[s], seen):
                owner[s] = i
                return True
        return False

    return sum(augment(i, set()) for i in range(len(options)))


def _confined_cut(p: CompiledProblem, view: CourseView, allowed: np.ndarray, cap: int) -> Cut | None:
    """People confined to slots whose cohorts cannot seat them all (or all of their team,
    under ``max_per_team``): the extra are left out."""
    for subset, inside in _confined(p.person_slots[view.alive][:, allowed], allowed):
        cohorts = min(view.cohorts, cap * len(subset)) if cap != NO_CAP else view.cohorts
        room, n = cohorts * view.hi, int(inside.sum())
        if n > room:
            return Cut(view.alive[inside][room:], f"{view.where}: {n} people can only come at {_names(p, subset)}, "
                                                  f"which hold{'s' if len(subset) == 1 else ''} {room} places; "
                                                  f"{n - room} left over")
        for t, n in _team_excess(p, view.alive, inside, cohorts):
            room = cohorts * p.max_per_team
            team = view.alive[inside & (p.person_team[view.alive] == t)]
            return Cut(team[room:], f"{view.where}: {n} people of team {p.team_ids[t]!r} can only come at "
                                    f"{_names(p, subset)}, where {cohorts} cohort(s) x max_per_team "
                                    f"{p.max_per_team} hold {room}; {n - room} left over")
    return None


# ------------------------------------------------------------------- CP-SAT


def _slot_literals(cm: CohortModel) -> dict[tuple[int, int], Any]:
    """``x[k,s]``: cohort ``k`` meets at slot ``s``; exactly one per cohort, hinted by the labels."""
    d, p = cm.data, cm.data.problem
    for b in d.blocks:
        allowed = np.flatnonzero(p.block_slots[b]).tolist()
        if not allowed:
            continue
        for k in d.block_cohorts[b].tolist():
            lits = [cm.model.new_bool_var(f"slot[{k},{s}]") for s in allowed]
            cm.model.add_exactly_one(lits)
            for s, lit in zip(allowed, lits, strict=True):
                cm.slot_lits[k, s] = lit
                if p.cohort_slot[k] >= 0:
                    cm.model.add_hint(lit, int(p.cohort_slot[k] == s))
    return cm.slot_lits


def _encode_capacity(cm: CohortModel, x: dict[tuple[int, int], Any]) -> None:
    """At most ``max_cohorts_per_slot`` cohorts of a course at a slot (those outside the model count)."""
    d, p = cm.data, cm.data.problem
    inside = np.zeros(p.n_cohorts, bool)
    for b in d.blocks:
        inside[d.block_cohorts[b]] = True
    outside = _slot_counts(p, np.where(inside, -1, p.cohort_slot))
    for c in _timed_courses(p):
        cap = int(p.course_slot_cap[c])
        ks = [k for k in np.flatnonzero(inside & (p.block_course[p.cohort_block] == c)).tolist()]
        if cap == NO_CAP or not ks:
            continue
        lit = cm.rule(("slot_cap", c), f"course {p.course_ids[c]!r}: at most {cap} cohort(s) per slot "
                                        "(max_cohorts_per_slot)")
        for s in np.flatnonzero(p.block_slots[p.cohort_block[ks[0]]]).tolist():
            room = cap - int(outside[c, s])
            if len(ks) > room:
                cm.enforce(cm.model.add(sum(x[k, s] for k in ks) <= room), lit)


def _encode_availability(cm: CohortModel, x: dict[tuple[int, int], Any], rule: Slots) -> None:
    """A group of units is never in a cohort at a slot its members cannot come."""
    d, p = cm.data, cm.data.problem
    for b in d.blocks:
        allowed = np.flatnonzero(p.block_slots[b])
        if allowed.shape[0] == 0:
            continue
        lit = cm.rule(("available", b), f"course {p.block_name(b)!r}: everyone meets at a slot they can "
                                        "come (Person.available)")
        for g in d.block_groups[b].tolist():
            bad = allowed[~rule.unit_avail[d.g_units[g][0], allowed]].tolist()
            for k in d.block_cohorts[b].tolist() if bad else []:
                present = cm.presence(g, k)
                for s in bad:
                    cm.enforce(cm.model.add_bool_or([~present, ~x[k, s]]), lit)


def _encode_clashes(cm: CohortModel, x: dict[tuple[int, int], Any], rule: Slots) -> None:
    """Nobody in two cohorts at one slot: ``t[u,s]`` (unit ``u`` meets at ``s``), at most
    one per person and slot; a sibling outside the model (a sub-model) fixes its slot."""
    d, p = cm.data, cm.data.problem
    outside = d.outside
    by_person: dict[int, list[int]] = {}
    for u in d.units.tolist():
        if rule.indptr[u + 1] > rule.indptr[u]:
            by_person.setdefault(int(p.unit_person[u]), []).append(u)
    for person, units in by_person.items():
        lit = cm.rule(("clash", person), f"{p.person_ids[person]!r} is in one cohort at a time")
        taken: dict[int, list[Any]] = {}
        for u in units:
            g, b = cm.group_of(u), int(p.unit_block[u])
            ks = d.block_cohorts[b].tolist()
            for s in np.flatnonzero(p.block_slots[b]).tolist() if len(units) > 1 else []:
                t = cm.model.new_bool_var(f"t[{u},{s}]")
                for k in ks:
                    cm.enforce(cm.model.add_bool_or([~cm.n[g, k], ~x[k, s], t]), lit)
                cm.derive(t, lambda v, g=g, ks=ks, s=s: int(any(
                    v[cm.n[g, k].index] and p.cohort_slot[k] == s for k in ks)))
                taken.setdefault(s, []).append(t)
            for v in rule.siblings[rule.indptr[u] : rule.indptr[u + 1]].tolist():
                kv = -1 if outside is None or cm.group_of(v) >= 0 else int(outside[v])
                if kv >= 0 and p.cohort_slot[kv] >= 0:
                    for k in ks:  # the sibling's cohort is fixed outside the model
                        if (k, int(p.cohort_slot[kv])) in x:
                            cm.enforce(cm.model.add_bool_or([~cm.n[g, k], ~x[k, int(p.cohort_slot[kv])]]), lit)
        for ts in taken.values():
            if len(ts) > 1:
                cm.enforce(cm.model.add_at_most_one(ts), lit)


def slot_options(problem: CompiledProblem, assignment: np.ndarray, units: np.ndarray) -> np.ndarray:
    """How many cohorts of its block each of ``units`` could meet at: a slot it can come,
    not taken by its siblings placed so far (``assignment``). Units of blocks without
    times (or undecided slots) count every cohort.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t", available=["mon"] if i == 0 else None)
    ...                            for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2, slots=["mon", "tue"])])
    >>> slot_options(prob.with_slots([0, 1]), np.full(4, -1), np.arange(4)).tolist()
    [1, 2, 2, 2]
    """
    p = problem
    units = np.asarray(units, np.int64)
    avail, indptr, siblings = p.cached("slot_units", lambda: _unit_arrays(p))
    out = np.zeros(units.shape[0], np.int64)
    a = np.asarray(assignment)
    for b in np.unique(p.unit_block[units]).tolist():
        mine = np.flatnonzero(p.unit_block[units] == b)
        cs, ce = p.block_of_cohort_range(b)
        labels = p.cohort_slot[cs:ce]
        if (labels < 0).all():
            out[mine] = ce - cs
            continue
        us = units[mine]
        ok = np.where(labels >= 0, avail[us][:, np.maximum(labels, 0)], True)
        for i, u in enumerate(us.tolist()):
            ks = a[siblings[indptr[u] : indptr[u + 1]]]
            taken = p.cohort_slot[ks[ks >= 0]]
            if taken.shape[0]:
                ok[i] &= ~np.isin(labels, taken[taken >= 0]) | (labels < 0)
        out[mine] = ok.sum(axis=1)
    return out


# ------------------------------------------------------------- choosing labels


def label_cohorts(
    problem: CompiledProblem, rng: np.random.Generator, assignment: np.ndarray | None = None
) -> CompiledProblem:
    """The problem with a slot for every undecided cohort, chosen from the availability supply.

    Course by course and round by round, each cohort goes to the slot with the most
    demand per cohort already there (a person spreads one unit of demand over the slots
    they can come), within ``max_cohorts_per_slot`` and, where possible, at slots with
    enough people for one more cohort of ``min_size``. The slots are then given out so
    that a cohort someone is pinned to gets one all its pinned people can come, and, with
    an ``assignment`` (a start), each cohort one most of its members can come. Labels
    already decided are kept.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t", available=["tue"] if i < 4 else None)
    ...                            for i in range(8)])
    >>> prob = compile_problem(org, [Course(id="x", min_size=4, max_size=4, slots=["mon", "tue"],
    ...                                     max_cohorts_per_slot=1)])
    >>> label_cohorts(prob, np.random.default_rng(0), np.array([0, 0, 0, 0, 1, 1, 1, 1])).cohort_slot.tolist()
    [1, 0]
    """
    p = problem
    if not p.slotted or (p.cohort_slot[np.flatnonzero(p.block_slots[p.cohort_block].any(axis=1))] >= 0).all():
        return p
    labels = p.cohort_slot.copy()
    fit = _fit(p, assignment)
    for b in np.flatnonzero(p.block_slots.any(axis=1)).tolist():
        c = int(p.block_course[b])
        cs, ce = p.block_of_cohort_range(b)
        open_ = np.asarray([k for k in range(cs, ce) if labels[k] < 0], np.int64)
        if not open_.shape[0]:
            continue
        allowed = np.flatnonzero(p.block_slots[b])
        can = p.person_slots[p.unit_person[p.block_units[b] : p.block_units[b + 1]]][:, allowed]
        options = np.maximum(can.sum(axis=1, keepdims=True), 1)
        demand = (can / options).sum(axis=0) + 1e-9 * rng.random(allowed.shape[0])
        fill = can.sum(axis=0) // max(int(p.cohort_min[cs]), 1)
        here = np.bincount(labels[cs:ce][labels[cs:ce] >= 0], minlength=p.n_slots)[allowed]
        chosen = _allocate(demand, fill, _slot_counts(p, labels)[c, allowed], int(p.course_slot_cap[c]),
                           open_.shape[0], here)
        slots = rng.permutation(allowed[np.repeat(np.arange(allowed.shape[0]), chosen)])
        labels[open_] = _give_out(fit[open_], slots)
    return p.with_slots(labels)


def _fit(p: CompiledProblem, assignment: np.ndarray | None) -> np.ndarray:
    """``(K, S)``: how well each slot suits each cohort: its pinned people first (each
    counts as many as a whole cohort), then its members in ``assignment``, who can come."""
    fit = np.zeros((p.n_cohorts, p.n_slots))
    np.add.at(fit, p.pin_cohort, (int(p.cohort_max.max(initial=0)) + 1) * p.person_slots[p.unit_person[p.pin_unit]])
    if assignment is not None:
        a = np.asarray(assignment)
        placed = np.flatnonzero(a >= 0)
        np.add.at(fit, a[placed], p.person_slots[p.unit_person[placed]])
    return fit


def _give_out(fit: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """``slots`` (one per cohort) given out greedily: the cohort that fits one best takes it."""
    out = np.full(fit.shape[0], -1, np.int64)
    left = list(slots.tolist())
    for i in np.argsort(-fit.max(axis=1, initial=0), kind="stable").tolist():
        j = max(range(len(left)), key=lambda j: fit[i, left[j]])
        out[i] = left.pop(j)
    return out


def _allocate(demand: np.ndarray, fill: np.ndarray, used: np.ndarray, cap: int, n: int,
              here: np.ndarray) -> np.ndarray:
    """How many of ``n`` cohorts each slot gets: highest demand per cohort first (D'Hondt),
    within the cap, at slots that can fill one more cohort while there are such slots."""
    chosen = np.zeros(demand.shape[0], np.int64)
    for _ in range(n):
        room = used + chosen < cap
        fillable = room & (here + chosen < fill)
        pool = fillable if fillable.any() else room if room.any() else np.ones_like(room)
        quota = np.where(pool, demand / (here + chosen + 1), -np.inf)
        chosen[int(np.argmax(quota))] += 1
    return chosen


def relabel(problem: CompiledProblem, assignment: np.ndarray, rng: np.random.Generator,
            *, tries: int = 64) -> CompiledProblem | None:
    """Another labelling that keeps every slot rule for ``assignment``, or None.

    Up to ``tries`` random changes are tried: a cohort moves to a slot of its course with
    room under ``max_cohorts_per_slot``, or two cohorts of a course exchange slots; a
    change is taken when every member can come at the new slot and nobody clashes.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t") for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2, slots=["mon", "tue"])])
    >>> new = relabel(prob.with_slots([0, 0]), np.array([0, 0, 1, 1]), np.random.default_rng(0))
    >>> new.cohort_slot.tolist() != [0, 0]
    True
    """
    p = problem
    timed = np.flatnonzero(p.block_slots[p.cohort_block].any(axis=1))
    if timed.shape[0] == 0:
        return None
    counts = _slot_counts(p, p.cohort_slot)
    course = p.block_course[p.cohort_block]
    for _ in range(tries):
        k = int(timed[rng.integers(timed.shape[0])])
        c = int(course[k])
        allowed = np.flatnonzero(p.block_slots[p.cohort_block[k]])
        s = int(allowed[rng.integers(allowed.shape[0])])
        if s == p.cohort_slot[k]:
            continue
        labels = p.cohort_slot.copy()
        if counts[c, s] < p.course_slot_cap[c]:
            labels[k] = s
        else:
            there = timed[(course[timed] == c) & (p.cohort_slot[timed] == s)]
            j = int(there[rng.integers(there.shape[0])])
            labels[k], labels[j] = s, p.cohort_slot[k]
        candidate = p.with_slots(labels)
        if Slots(candidate).violations(assignment) == 0:
            return candidate
    return None
