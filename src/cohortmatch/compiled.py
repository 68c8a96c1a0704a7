"""Compile the input model into plain numpy arrays: the one place where indices are made.

Everything above this module (rules, scoring, engines) sees only a :class:`CompiledProblem`.

Canonical order
---------------
People are indexed in the order of their sorted ids, teams likewise, so the compiled
problem, and with it every seeded search, does not depend on the order in which the
input lists people, teams or gaps.

Units, blocks and cohorts
-------------------------
A *block* is one round of one course. A *unit* is one participant in one block: the
thing a solver assigns to a cohort. Units are stored block by block, people in canonical
order inside a block; cohorts likewise, so the units and cohorts of block ``b`` are the
contiguous ranges ``block_units[b]:block_units[b+1]`` and
``block_cohorts[b]:block_cohorts[b+1]``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .categories import Categories, categories
from .errors import InfeasibleError, InputError
from .guards import check_bytes
from .model import Course, Organisation, Person, Policy

__all__ = ["CompiledProblem", "compile_problem", "compile_grouping", "cohorts_for", "check_pair_values"]

NO_CAP = np.iinfo(np.int32).max
#: Cache keys built from every rule at once: the slot rule reads the labels, so a problem
#: :meth:`~CompiledProblem.with_slots` other labels builds them again.
_LABELLED = ("rules", "kernel_rules")


@dataclass(frozen=True, eq=False)
class CompiledProblem:
    """The planning problem as arrays (see the module docstring for the layout).

    Attributes
    ----------
    person_ids, team_ids, course_ids, cohort_ids : tuple of str
        Names of the indices.
    person_team : int32 array (P,)
        Team index of each person.
    person_manager : int32 array (P,)
        Index of each person's manager, -1 for none.
    edge_a, edge_b : int32 arrays (E,)
        Team indices of each gap, ``edge_a < edge_b``.
    edge_weight : float64 array (E,)
    edge_purpose : tuple of str (E,)
    adj_indptr, adj_team, adj_edge : arrays
        CSR adjacency of the gap graph: the neighbours of team ``t`` are
        ``adj_team[adj_indptr[t]:adj_indptr[t+1]]`` through edges ``adj_edge[...]``.
    block_course, block_round : int32 arrays (B,)
    block_units, block_cohorts : int64 arrays (B+1,)
        Offsets of each block's units and cohorts.
    unit_person, unit_team, unit_block : int32 arrays (U,)
    unit_fit : float64 array (U,)
        Interest of the unit's person in its course (0 when not given).
    cohort_block, cohort_min, cohort_max : int32 arrays (K,)
    max_per_team : int
        Cap on members of one team per cohort (``NO_CAP`` when unlimited).
    separate_managers : bool
        Whether managers are kept apart from their direct reports.
    apart_indptr, apart_persons : int64 arrays
        ``keep_apart`` groups as CSR over people: group ``i`` is
        ``apart_persons[apart_indptr[i]:apart_indptr[i+1]]`` (canonical order).
    together_indptr, together_persons : int64 arrays
        ``keep_together`` groups (those sharing a person merged), CSR over people.
    pin_unit, pin_cohort : int64 arrays
        Pinned places: unit ``pin_unit[i]`` must be in cohort ``pin_cohort[i]``
        (sorted by unit).
    mode : str
        ``cover``, ``diminishing`` or ``sum``.
    decay : float
    pair_values : float64 array (P, P), scipy.sparse CSR (P, P) or None
        Person-by-person values, canonical order, symmetric with a zero diagonal: in
        ``sum`` mode two people in the same cohort add ``pair_values[p, q]`` on top of the
        gap between their teams (see :func:`compile_grouping` and ``compile_problem``).
    max_meetings : int
        Cap on how often two people share a cohort over the programme (``NO_CAP``: none).
    meetings_soft : bool
        Whether ``max_meetings`` is a soft rule (repeats penalised, not forbidden).
    history_edge_cohorts : int64 array (E,)
        Cohorts of earlier rounds (``history``) bridging each gap; they add to :math:`c_e`.
    history_edge_pairs : float64 array (E,)
        Member pairs across each gap in those cohorts.
    history_pair_a, history_pair_b, history_pair_n : int arrays
        Person pairs (``a < b``) who met in earlier rounds, and how often.
    categories : Categories or None
        The attributes the mix rules count (``balance``, ``no_isolation``, ``at_most``,
        ``at_least``), one row per value (:mod:`cohortmatch.categories`); None without them.
    slot_ids : tuple of str (S,)
        Every time slot a course offers (``Course.slots``), sorted; empty without times.
    block_slots : bool array (B, S)
        The slots each block's course may meet at (no row set: the course has no times).
    course_slot_cap : int64 array (C,)
        ``max_cohorts_per_slot`` of each course (``NO_CAP``: none), over all its rounds.
    person_slots : bool array (P, S)
        The slots each person can attend (``Person.available``; all when not given).
    cohort_slot : int64 array (K,)
        The slot of each cohort, -1 while undecided (or for a course without times). A
        compiled request leaves them undecided; engines choose them and a plan is checked
        on the problem :meth:`with_slots` its choice (see :mod:`cohortmatch.rules.slots`).
    block_seats : int64 array (B,) or None
        With seats (:meth:`with_seats`): at most this many units of each block are placed
        (``NO_CAP``: no limit), the others may stay unplaced (-1); None: every unit is placed.
    unit_required : bool array (U,) or None
        With seats: the units that must be placed.
    cohort_optional : bool array (K,) or None
        With seats: the cohorts that may stay empty (a course may use fewer cohorts).
    fit_weight : float
        With seats: the objective adds ``fit_weight * unit_fit`` of every placed unit.
    max_courses : int
        With seats: the most courses one person is placed in (``NO_CAP``: no limit).
    """

    person_ids: tuple[str, ...]
    person_team: np.ndarray
    person_manager: np.ndarray
    team_ids: tuple[str, ...]
    edge_a: np.ndarray
    edge_b: np.ndarray
    edge_weight: np.ndarray
    edge_purpose: tuple[str, ...]
    adj_indptr: np.ndarray
    adj_team: np.ndarray
    adj_edge: np.ndarray
    course_ids: tuple[str, ...]
    block_course: np.ndarray
    block_round: np.ndarray
    block_units: np.ndarray
    block_cohorts: np.ndarray
    unit_person: np.ndarray
    unit_team: np.ndarray
    unit_block: np.ndarray
    unit_fit: np.ndarray
    cohort_ids: tuple[str, ...]
    cohort_block: np.ndarray
    cohort_min: np.ndarray
    cohort_max: np.ndarray
    max_per_team: int
    mode: str
    decay: float
    separate_managers: bool = False
    apart_indptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    apart_persons: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    together_indptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    together_persons: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pin_unit: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pin_cohort: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    max_meetings: int = int(NO_CAP)
    meetings_soft: bool = False
    history_edge_cohorts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    history_edge_pairs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    history_pair_a: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    history_pair_b: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    history_pair_n: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    pair_values: Any = None
    categories: Categories | None = None
    slot_ids: tuple[str, ...] = ()
    block_slots: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))
    course_slot_cap: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    person_slots: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))
    cohort_slot: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    block_seats: np.ndarray | None = None
    unit_required: np.ndarray | None = None
    cohort_optional: np.ndarray | None = None
    fit_weight: float = 0.0
    max_courses: int = int(NO_CAP)

    def __post_init__(self) -> None:
        if not self.slot_ids:  # no times: every array in its empty shape
            object.__setattr__(self, "block_slots", np.zeros((self.n_blocks, 0), bool))
            object.__setattr__(self, "course_slot_cap", np.full(len(self.course_ids), NO_CAP, np.int64))
            object.__setattr__(self, "person_slots", np.zeros((self.n_people, 0), bool))
        if self.cohort_slot.shape != (self.n_cohorts,):
            object.__setattr__(self, "cohort_slot", np.full(self.n_cohorts, -1, np.int64))

    @property
    def n_people(self) -> int:
        return len(self.person_ids)

    @property
    def n_teams(self) -> int:
        return len(self.team_ids)

    @property
    def n_edges(self) -> int:
        return int(self.edge_a.shape[0])

    @property
    def n_units(self) -> int:
        return int(self.unit_person.shape[0])

    @property
    def n_cohorts(self) -> int:
        return len(self.cohort_ids)

    @property
    def n_blocks(self) -> int:
        return int(self.block_course.shape[0])

    @property
    def total_weight(self) -> float:
        """Sum of all gap weights (the denominator of coverage)."""
        return float(self.edge_weight.sum())

    def neighbours(self, team: int) -> tuple[np.ndarray, np.ndarray]:
        """Neighbour teams of ``team`` in the gap graph and the edges to them."""
        lo, hi = self.adj_indptr[team], self.adj_indptr[team + 1]
        return self.adj_team[lo:hi], self.adj_edge[lo:hi]

    def cached(self, key: str, build: Any) -> Any:
        """``build()``, computed once per problem and kept (derived arrays of rules, indices)."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def groups(self, kind: str) -> list[np.ndarray]:
        """The ``keep_together`` (``kind="together"``) or ``keep_apart`` groups as person arrays."""
        indptr, persons = (
            (self.together_indptr, self.together_persons) if kind == "together"
            else (self.apart_indptr, self.apart_persons)
        )
        return self.cached(f"groups:{kind}", lambda: [  # type: ignore[no-any-return]
            persons[indptr[i] : indptr[i + 1]] for i in range(indptr.shape[0] - 1)
        ])

    def names(self, persons: Any, limit: int = 5) -> str:
        """People as ``'p1', 'p2'`` for messages (at most ``limit``, then how many more)."""
        ids = [repr(self.person_ids[int(i)]) for i in persons]
        more = f" (and {len(ids) - limit} more)" if len(ids) > limit else ""
        return ", ".join(ids[:limit]) + more

    def block_name(self, block: int) -> str:
        """How messages name a block: the course id, with ``round r`` after the first round."""
        course = self.course_ids[self.block_course[block]]
        r = int(self.block_round[block])
        return course if r == 0 else f"{course} round {r + 1}"

    def block_of_cohort_range(self, block: int) -> tuple[int, int]:
        """``(first, end)`` cohort indices of a block."""
        return int(self.block_cohorts[block]), int(self.block_cohorts[block + 1])

    def person_index(self, person_id: str) -> int:
        """Index of a person id."""
        return self.cached("person", lambda: {p: i for i, p in enumerate(self.person_ids)})[person_id]

    def unit_index(self) -> dict[tuple[str, str, int], int]:
        """``{(person id, course id, round): unit}`` for every unit (built once)."""
        return self.cached("unit", lambda: {
            (self.person_ids[person], self.course_ids[self.block_course[block]],
             int(self.block_round[block])): u
            for u, (person, block) in enumerate(
                zip(self.unit_person.tolist(), self.unit_block.tolist(), strict=True)
            )
        })

    def cohort_index(self, cohort_id: str) -> int:
        """Index of a cohort id."""
        return self.cached("cohort", lambda: {c: i for i, c in enumerate(self.cohort_ids)})[cohort_id]

    @property
    def n_slots(self) -> int:
        return len(self.slot_ids)

    @property
    def slotted(self) -> bool:
        """Whether some course meets at given times (``Course.slots``)."""
        return bool(self.block_slots.any())

    def with_slots(self, labels: Any) -> CompiledProblem:
        """The same problem with the cohorts' slots set to ``labels`` (-1: undecided).

        Derived arrays that do not depend on the slots are shared; the rules and their
        kernel arrays are built again (the slot rule reads the labels).

        Examples
        --------
        >>> org = Organisation(people=[Person(id=f"p{i}", team="t") for i in range(4)])
        >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2, slots=["mon", "tue"])])
        >>> prob.cohort_slot.tolist(), prob.with_slots([1, 0]).cohort_slot.tolist()
        ([-1, -1], [1, 0])
        """
        labels = np.array(labels, dtype=np.int64)
        if labels.shape != (self.n_cohorts,):
            raise InputError(f"The slot labels must have one entry per cohort ({self.n_cohorts}). "
                             f"Got shape {labels.shape}.")
        cache = {k: v for k, v in self._cache.items() if k not in _LABELLED}
        return dataclasses.replace(self, cohort_slot=labels, _cache=cache)

    def with_seats(self, block_seats: Any, unit_required: Any, *, cohort_optional: Any = None,
                   fit_weight: float = 0.0, max_courses: int = int(NO_CAP)) -> CompiledProblem:
        """The same problem choosing whom to place: at most ``block_seats[b]`` units of block
        ``b``, every unit with ``unit_required`` set, the ``cohort_optional`` cohorts empty
        or within their sizes (default: none may be empty; see :mod:`cohortmatch.rules.seats`).

        Examples
        --------
        >>> org = Organisation(people=[Person(id=f"p{i}", team="t") for i in range(4)])
        >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2, cohorts=1)])
        >>> prob.with_seats([2], [True, False, False, False]).block_seats.tolist()
        [2]
        """
        seats = np.array(block_seats, dtype=np.int64)
        required = np.array(unit_required, dtype=bool)
        optional = np.zeros(self.n_cohorts, bool) if cohort_optional is None else np.array(cohort_optional, bool)
        if seats.shape != (self.n_blocks,) or required.shape != (self.n_units,) or optional.shape != (
                self.n_cohorts,):
            raise InputError(f"with_seats: one seat count per block ({self.n_blocks}), one flag per unit "
                             f"({self.n_units}) and per cohort ({self.n_cohorts}). Got shapes {seats.shape}, "
                             f"{required.shape} and {optional.shape}.")
        return dataclasses.replace(self, block_seats=seats, unit_required=required, cohort_optional=optional,
                                   fit_weight=float(fit_weight), max_courses=int(max_courses), _cache={})

    def block_units_of(self, block: int) -> np.ndarray:
        """Unit of each person in ``block`` (-1 for people who do not take it), shape (P,)."""
        lo, hi = int(self.block_units[block]), int(self.block_units[block + 1])
        out = np.full(self.n_people, -1, np.int64)
        out[self.unit_person[lo:hi]] = np.arange(lo, hi)
        return out


def cohorts_for(n: int, course: Course) -> int:
    """Number of cohorts a course gets for ``n`` participants.

    ``course.cohorts`` when given, else the fewest the size bounds allow,
    ``ceil(n / max_size)``.

    Examples
    --------
    >>> cohorts_for(23, Course(id="c", min_size=8, max_size=10))
    3
    """
    if course.cohorts is not None:
        return course.cohorts
    return max(1, math.ceil(n / course.max_size))


def _cohort_id(course: Course, round_: int, i: int) -> str:
    if course.rounds == 1:
        return f"{course.id}-{i + 1}"
    return f"{course.id}-r{round_ + 1}-{i + 1}"


def compile_problem(
    org: Organisation,
    courses: Sequence[Course],
    policy: Policy | None = None,
    *,
    pair_values: Any = None,
    history: Sequence[Sequence[str]] = (),
) -> CompiledProblem:
    """Turn an organisation, its courses and a policy into a :class:`CompiledProblem`.

    Parameters
    ----------
    org : Organisation
    courses : sequence of Course
    policy : Policy, optional
        Defaults to ``Policy()``.
    pair_values : array_like or scipy.sparse matrix (P, P), optional
        Person-by-person values in the order of ``org.people``, symmetric; the diagonal
        is ignored. Needs ``policy.mode == "sum"`` (see :func:`check_pair_values`).
    history : sequence of sequences of str
        Members of the cohorts of earlier rounds. Their bridges count in the objective and
        their meetings against ``max_meetings``; people no longer in ``org`` are ignored.

    Returns
    -------
    CompiledProblem
        Whether its hard rules can all hold is a question for the rules
        (:func:`cohortmatch.rules.precheck`): a course whose participants cannot fill its
        cohorts compiles, and its rule explains why.

    Raises
    ------
    InputError
        A course names an unknown participant, two courses share an id, a link or pin
        names an unknown person or cohort, a mix rule an attribute or value nobody has,
        or ``pair_values`` is malformed or given outside ``sum`` mode.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="ab"[i % 2]) for i in range(6)],
    ...                    gaps=[Gap(a="a", b="b", weight=1.0)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=3, max_size=3)])
    >>> prob.n_units, prob.n_cohorts, prob.n_edges
    (6, 2, 1)
    """
    policy = policy or Policy()
    if pair_values is not None and policy.mode != "sum":
        raise InputError(
            f"'pair_values' are scored in 'sum' mode only. Got mode={policy.mode!r}."
        )
    courses = _check_courses(courses)
    people = sorted(org.people, key=lambda p: p.id)
    person_ids = tuple(p.id for p in people)
    _check_request_size(courses, len(people), dense_pairs=pair_values is not None
                        and not sp.issparse(pair_values))
    if pair_values is not None:
        pair_values = _canonical_pairs(org, pair_values)
    pindex = {pid: i for i, pid in enumerate(person_ids)}
    team_ids = tuple(sorted(t.id for t in org.teams))
    tindex = {tid: i for i, tid in enumerate(team_ids)}
    person_team = np.fromiter((tindex[p.team] for p in people), np.int32, len(people))
    person_manager = np.fromiter(
        (pindex[p.manager] if p.manager is not None else -1 for p in people), np.int32, len(people)
    )
    edges = _gap_arrays(org, tindex)
    blocks = _blocks(courses, people, pindex)
    unit_person = blocks.pop("unit_person")
    block_units = blocks["block_units"]
    pins = _pins(courses, blocks, unit_person, pindex)
    return CompiledProblem(
        person_ids=person_ids,
        person_team=person_team,
        person_manager=person_manager,
        team_ids=team_ids,
        **edges,
        course_ids=tuple(c.id for c in courses),
        unit_person=unit_person,
        unit_team=person_team[unit_person].astype(np.int32),
        unit_block=np.repeat(np.arange(block_units.shape[0] - 1, dtype=np.int32), np.diff(block_units)),
        **blocks,
        max_per_team=int(policy.max_per_team) if policy.max_per_team is not None else int(NO_CAP),
        mode=str(policy.mode),
        decay=float(policy.decay),
        separate_managers=bool(policy.separate_manager_and_reports),
        **_csr_groups(policy.keep_apart, pindex, "keep_apart", "apart"),
        **_csr_groups(_merged(policy.keep_together), pindex, "keep_together", "together"),
        **pins,
        pair_values=pair_values,
        max_meetings=int(policy.max_meetings) if policy.max_meetings is not None else int(NO_CAP),
        meetings_soft=policy.meetings == "soft",
        **_history_arrays(history, pindex, person_team, edges["edge_a"], edges["edge_b"], len(team_ids)),
        categories=categories(policy, people),
        **_slot_arrays(courses, people, blocks["block_course"]),
    )


def _check_courses(courses: Sequence[Course]) -> list[Course]:
    courses = list(courses)
    if not courses:
        raise InputError("at least one course is needed")
    seen: dict[str, int] = {}
    for i, c in enumerate(courses):
        if c.id in seen:
            raise InputError(f"course {c.id!r} is given twice: courses[{seen[c.id]}] and courses[{i}]")
        seen[c.id] = i
    return courses


def _canonical_pairs(org: Organisation, pair_values: Any) -> Any:
    """``pair_values`` checked and permuted into the canonical (sorted id) order."""
    values = check_pair_values(pair_values, len(org.people))
    canon = np.argsort(np.array([p.id for p in org.people], dtype=object), kind="stable")
    values = values[canon][:, canon]
    if sp.issparse(values):
        values = sp.csr_array(values)
        values.sort_indices()
    return values


def _gap_arrays(org: Organisation, tindex: dict[str, int]) -> dict[str, Any]:
    """The gap graph in canonical order (``a < b``, sorted by ``(a, b)``) and its CSR adjacency."""
    E = len(org.gaps)
    ga = np.fromiter((tindex[g.a] for g in org.gaps), np.int64, E)
    gb = np.fromiter((tindex[g.b] for g in org.gaps), np.int64, E)
    lo, hi = np.minimum(ga, gb), np.maximum(ga, gb)
    order = np.lexsort((hi, lo))
    edge_a = lo[order].astype(np.int32)
    edge_b = hi[order].astype(np.int32)
    adj_indptr, adj_team, adj_edge = _csr_adjacency(len(tindex), edge_a, edge_b)
    return {
        "edge_a": edge_a,
        "edge_b": edge_b,
        "edge_weight": np.fromiter((g.weight for g in org.gaps), np.float64, E)[order],
        "edge_purpose": tuple(org.gaps[i].purpose for i in order),
        "adj_indptr": adj_indptr,
        "adj_team": adj_team,
        "adj_edge": adj_edge,
    }


def _participants(course: Course, pindex: dict[str, int], n_people: int) -> np.ndarray:
    """Sorted person indices of a course's participants."""
    if course.participants is None:
        return np.arange(n_people, dtype=np.int32)
    missing = [pid for pid in course.participants if pid not in pindex]
    if missing:
        raise InputError(
            f"course {course.id!r}, field 'participants': unknown person {missing[0]!r}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    return np.sort(np.fromiter((pindex[p] for p in course.participants), np.int32))


def _blocks(courses: Sequence[Course], people: Sequence[Person], pindex: dict[str, int]) -> dict[str, Any]:
    """Blocks (course rounds), their units and cohorts, block by block."""
    block_course: list[int] = []
    block_round: list[int] = []
    block_units: list[int] = [0]
    block_cohorts: list[int] = [0]
    unit_person_parts: list[np.ndarray] = [np.zeros(0, np.int32)]
    unit_fit_parts: list[np.ndarray] = [np.zeros(0, np.float64)]
    cohort_ids: list[str] = []
    cohort_block, cohort_min, cohort_max = [], [], []
    for ci, course in enumerate(courses):
        members = _participants(course, pindex, len(people))
        n = int(members.shape[0])
        k = cohorts_for(n, course)
        fit = np.fromiter((people[p].interests.get(course.id, 0.0) for p in members), np.float64, n)
        for r in range(course.rounds):
            b = len(block_course)
            block_course.append(ci)
            block_round.append(r)
            unit_person_parts.append(members)
            unit_fit_parts.append(fit)
            block_units.append(block_units[-1] + n)
            for i in range(k):
                cohort_ids.append(_cohort_id(course, r, i))
                cohort_block.append(b)
                cohort_min.append(course.min_size)
                cohort_max.append(min(course.max_size, n))  # no cohort holds more than all of them
            block_cohorts.append(block_cohorts[-1] + k)
    return {
        "unit_person": np.concatenate(unit_person_parts).astype(np.int32),
        "unit_fit": np.concatenate(unit_fit_parts),
        "block_course": np.asarray(block_course, np.int32),
        "block_round": np.asarray(block_round, np.int32),
        "block_units": np.asarray(block_units, np.int64),
        "block_cohorts": np.asarray(block_cohorts, np.int64),
        "cohort_ids": tuple(cohort_ids),
        "cohort_block": np.asarray(cohort_block, np.int32),
        "cohort_min": np.asarray(cohort_min, np.int32),
        "cohort_max": np.asarray(cohort_max, np.int32),
    }


def _slot_arrays(courses: Sequence[Course], people: Sequence[Person], block_course: np.ndarray) -> dict[str, Any]:
    """The courses' time slots and the people's availability (see :class:`CompiledProblem`).

    Availability at a slot no course offers plays no part (a :class:`~cohortmatch.Request`
    refuses it as an unknown slot; part of a request, e.g. a partial plan's courses,
    may offer fewer slots).
    """
    slot_ids = tuple(sorted({s for c in courses for s in c.slots}))
    if not slot_ids:
        return {}
    index = {s: i for i, s in enumerate(slot_ids)}
    course_mask = np.zeros((len(courses), len(slot_ids)), bool)
    for ci, c in enumerate(courses):
        course_mask[ci, [index[s] for s in c.slots]] = True
    person_slots = np.ones((len(people), len(slot_ids)), bool)
    for i, p in enumerate(people):
        if p.available is None:
            continue
        person_slots[i] = False
        person_slots[i, [index[s] for s in p.available if s in index]] = True
    cap = [c.max_cohorts_per_slot if c.max_cohorts_per_slot is not None else NO_CAP for c in courses]
    return {
        "slot_ids": slot_ids,
        "block_slots": course_mask[block_course],
        "course_slot_cap": np.asarray(cap, np.int64),
        "person_slots": person_slots,
    }


def _pins(
    courses: Sequence[Course], blocks: dict[str, Any], unit_person: np.ndarray, pindex: dict[str, int]
) -> dict[str, Any]:
    """``Course.pinned`` as (unit, cohort) index pairs; unknown people or cohorts are input errors."""
    cohort_of = {c: i for i, c in enumerate(blocks["cohort_ids"])}
    block_course, block_round = blocks["block_course"], blocks["block_round"]
    block_units, block_cohorts = blocks["block_units"], blocks["block_cohorts"]
    units: list[int] = []
    cohorts: list[int] = []
    for ci, course in enumerate(courses):
        if not course.pinned:
            continue
        course_blocks = np.flatnonzero(block_course == ci)
        k = int(block_cohorts[course_blocks[0] + 1] - block_cohorts[course_blocks[0]])
        names = f"{_cohort_id(course, 0, 0)} to {_cohort_id(course, 0, k - 1)}" if k else "none"
        for person, ids in course.pins().items():
            where = f"course {course.id!r}, field 'pinned'"
            if person not in pindex:
                raise InputError(f"{where}: unknown person {person!r}")
            taken: set[int] = set()
            for cid in ids:
                targets = _pin_targets(course, cid, cohort_of, course_blocks, block_round, block_cohorts)
                if not targets:
                    raise InputError(
                        f"{where}: {person!r} is pinned to {cid!r}, which is not a cohort of the "
                        f"course (its cohorts are {names}"
                        + (", with -r<round>- in each id)" if course.rounds > 1 else ")")
                    )
                for b, kk in targets:
                    if b in taken:
                        raise InputError(f"{where}: {person!r} is pinned twice in round {block_round[b] + 1}")
                    taken.add(b)
                    lo, hi = int(block_units[b]), int(block_units[b + 1])
                    at = np.searchsorted(unit_person[lo:hi], pindex[person])
                    if at >= hi - lo or unit_person[lo + at] != pindex[person]:
                        raise InputError(f"{where}: {person!r} does not take course {course.id!r}")
                    units.append(lo + int(at))
                    cohorts.append(kk)
    order = np.argsort(np.asarray(units, np.int64), kind="stable")
    return {
        "pin_unit": np.asarray(units, np.int64)[order],
        "pin_cohort": np.asarray(cohorts, np.int64)[order],
    }


def _pin_targets(
    course: Course,
    cohort_id: str,
    cohort_of: dict[str, int],
    course_blocks: np.ndarray,
    block_round: np.ndarray,
    block_cohorts: np.ndarray,
) -> list[tuple[int, int]]:
    """``(block, cohort)`` pairs a pinned cohort id names (every round for a round-less id)."""
    k = cohort_of.get(cohort_id)
    if k is not None and int(np.searchsorted(block_cohorts, k, side="right")) - 1 in course_blocks:
        return [(int(np.searchsorted(block_cohorts, k, side="right")) - 1, k)]
    prefix = f"{course.id}-"
    if course.rounds == 1 or not cohort_id.startswith(prefix) or not cohort_id[len(prefix):].isdigit():
        return []
    i = int(cohort_id[len(prefix):]) - 1
    out = []
    for b in course_blocks.tolist():
        if 0 <= i < block_cohorts[b + 1] - block_cohorts[b]:
            out.append((b, int(block_cohorts[b]) + i))
    return out if len(out) == len(course_blocks) else []


def _merged(groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """Groups that share a person, merged (union-find); each sorted, ordered by first member."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for group in groups:
        for person in group[1:]:
            ra, rb = find(group[0]), find(person)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    out: dict[str, list[str]] = {}
    for person in parent:
        out.setdefault(find(person), []).append(person)
    return sorted(sorted(g) for g in out.values())


def _csr_groups(
    groups: Sequence[Sequence[str]], pindex: dict[str, int], field_name: str, prefix: str
) -> dict[str, Any]:
    """Groups of person ids as a CSR over canonical person indices (``<prefix>_indptr``/``_persons``)."""
    indptr = [0]
    persons: list[int] = []
    for i, group in enumerate(groups):
        for person in group:
            if person not in pindex:
                raise InputError(f"policy, field '{field_name}' (group {i + 1}): unknown person {person!r}")
        persons.extend(sorted(pindex[p] for p in group))
        indptr.append(len(persons))
    return {
        f"{prefix}_indptr": np.asarray(indptr, np.int64),
        f"{prefix}_persons": np.asarray(persons, np.int64),
    }


def _check_request_size(courses: Sequence[Course], n_people: int, *, dense_pairs: bool) -> None:
    """Refuse (``SizeLimitError``) a request whose arrays would exceed the memory budget."""
    units = cohorts = 0
    for c in courses:
        n = len(c.participants) if c.participants is not None else n_people
        units += n * c.rounds
        cohorts += cohorts_for(n, c) * c.rounds  # as many as are built, even if infeasible
    slots = len({s for c in courses for s in c.slots})
    # a cohort costs ~130 bytes in arrays and ~100 in the Python lists it is built from
    check_bytes(64 * units + 256 * cohorts + 2 * slots * (n_people + units),
                f"the request's {units} participant places, {cohorts} cohorts and {slots} slots",
                hint="plan fewer cohorts, rounds or courses per request")
    if dense_pairs:
        check_bytes(3 * 8 * n_people**2, f"a dense {n_people} x {n_people} 'pair_values' matrix",
                    hint="pass a scipy.sparse matrix")


def _history_arrays(
    history: Sequence[Sequence[str]],
    pindex: dict[str, int],
    person_team: np.ndarray,
    edge_a: np.ndarray,
    edge_b: np.ndarray,
    n_teams: int,
) -> dict[str, Any]:
    """Gap bridgings and person-pair meetings of earlier cohorts (see ``compile_problem``)."""
    P, E = len(pindex), int(edge_a.shape[0])
    cohorts = [np.unique(np.fromiter((pindex[m] for m in c if m in pindex), np.int64)) for c in history]
    cohorts = [c for c in cohorts if c.shape[0] > 0]
    out = {
        "history_edge_cohorts": np.zeros(E, np.int64),
        "history_edge_pairs": np.zeros(E, np.float64),
        "history_pair_a": np.zeros(0, np.int32),
        "history_pair_b": np.zeros(0, np.int32),
        "history_pair_n": np.zeros(0, np.int64),
    }
    if not cohorts:
        return out
    sizes = np.fromiter((c.shape[0] for c in cohorts), np.int64, len(cohorts))
    persons = np.concatenate(cohorts)
    rows = np.repeat(np.arange(len(cohorts)), sizes)
    counts = sp.csr_matrix(
        (np.ones(persons.shape[0]), (rows, person_team[persons])), shape=(len(cohorts), n_teams)
    )
    if E:
        na, nb = counts[:, edge_a].tocsr(), counts[:, edge_b].tocsr()
        out["history_edge_cohorts"] = np.asarray(
            (na > 0).multiply(nb > 0).sum(axis=0), np.int64
        ).ravel()
        out["history_edge_pairs"] = np.asarray(na.multiply(nb).sum(axis=0), np.float64).ravel()
    a_parts, b_parts = [], []
    for c in cohorts:
        i, j = np.triu_indices(c.shape[0], 1)
        a_parts.append(c[i])
        b_parts.append(c[j])
    keys, n = np.unique(np.concatenate(a_parts) * P + np.concatenate(b_parts), return_counts=True)
    out["history_pair_a"] = (keys // P).astype(np.int32)
    out["history_pair_b"] = (keys % P).astype(np.int32)
    out["history_pair_n"] = n.astype(np.int64)
    return out


def _csr_adjacency(
    n_teams: int, edge_a: np.ndarray, edge_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    E = edge_a.shape[0]
    src = np.concatenate([edge_a, edge_b]).astype(np.int64)
    dst = np.concatenate([edge_b, edge_a]).astype(np.int32)
    eid = np.concatenate([np.arange(E), np.arange(E)]).astype(np.int32)
    order = np.lexsort((dst, src))
    indptr = np.zeros(n_teams + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n_teams), out=indptr[1:])
    return indptr, dst[order], eid[order]


def check_pair_values(values: Any, n: int, *, name: str = "pair_values") -> Any:
    """Validate a symmetric ``n x n`` value matrix; returns float64 dense or CSR, zero diagonal.

    Examples
    --------
    >>> check_pair_values([[5, 1], [1, 0]], 2).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    if sp.issparse(values):
        v = sp.csr_array(values, dtype=np.float64)
    else:
        try:
            v = np.array(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"The {name!r} must be a numeric n x n matrix: {exc}") from None
    if v.ndim != 2 or v.shape != (n, n):
        raise InputError(f"The {name!r} must have shape ({n}, {n}). Got {tuple(v.shape)}.")
    data = v.data if sp.issparse(v) else v
    if not np.all(np.isfinite(data)):
        raise InputError(f"The {name!r} must be finite (no NaN or inf).")
    if sp.issparse(v):
        v = v.tolil()
        v.setdiag(0.0)
        v = sp.csr_array(v)
        v.eliminate_zeros()
        asym = abs(v - v.T).max() if v.nnz else 0.0
    else:
        np.fill_diagonal(v, 0.0)
        asym = float(np.max(np.abs(v - v.T))) if n else 0.0
    scale = max(1.0, float(abs(data).max()) if data.size else 0.0)
    if asym > 1e-9 * scale:
        raise InputError(f"The {name!r} must be symmetric. Got |V - V.T| up to {asym:.6g}.")
    return v


def compile_grouping(values: Any, sizes: Sequence[tuple[int, int]]) -> CompiledProblem:
    """The compiled problem of grouping ``n`` elements by pair values (MDGP / anticlustering).

    Every element is a person in a team of its own, there are no gaps, one course with one
    cohort per entry of ``sizes``, cohort ``g`` holding ``sizes[g][0]..sizes[g][1]`` members,
    scored in ``sum`` mode by ``values``.

    Parameters
    ----------
    values : array_like or scipy.sparse matrix (n, n)
        Symmetric pair values; the diagonal is ignored.
    sizes : sequence of (int, int)
        ``(min, max)`` size of each group.

    Returns
    -------
    CompiledProblem

    Raises
    ------
    InputError
        Malformed ``values`` or ``sizes``.
    InfeasibleError
        The bounds cannot add up to ``n``.

    Examples
    --------
    >>> prob = compile_grouping(np.ones((4, 4)), [(2, 2), (1, 3)])
    >>> prob.n_units, prob.n_cohorts, prob.cohort_max.tolist(), prob.mode
    (4, 2, [2, 3], 'sum')
    """
    shape = getattr(values, "shape", None)
    n = int(shape[0]) if shape is not None and len(shape) >= 1 else len(values)
    v = check_pair_values(values, n, name="values")
    try:
        bounds = np.array([(int(a), int(b)) for a, b in sizes], dtype=np.int64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise InputError("The 'sizes' must be a list of (min, max) integer pairs.") from None
    m = bounds.shape[0]
    if m == 0:
        raise InputError("The 'sizes' must name at least one group.")
    for g, (a, b) in enumerate(bounds.tolist()):
        if a < 0 or b < max(a, 1):
            raise InputError(f"The size bounds of group {g} must satisfy 0 <= min <= max, max >= 1. Got ({a}, {b}).")
    lo, hi = int(bounds[:, 0].sum()), int(bounds[:, 1].sum())
    if not lo <= n <= hi:
        raise InfeasibleError([f"{n} elements cannot fill {m} groups holding {lo}..{hi} in total"])
    width = len(str(max(n - 1, 0)))
    ids = tuple(f"{i:0{width}d}" for i in range(n))
    idx = np.arange(n, dtype=np.int32)
    empty32 = np.zeros(0, np.int32)
    return CompiledProblem(
        person_ids=ids,
        person_team=idx,
        person_manager=np.full(n, -1, np.int32),
        team_ids=ids,
        edge_a=empty32,
        edge_b=empty32,
        edge_weight=np.zeros(0, np.float64),
        edge_purpose=(),
        adj_indptr=np.zeros(n + 1, np.int64),
        adj_team=empty32,
        adj_edge=empty32,
        course_ids=("groups",),
        block_course=np.zeros(1, np.int32),
        block_round=np.zeros(1, np.int32),
        block_units=np.array([0, n], np.int64),
        block_cohorts=np.array([0, m], np.int64),
        unit_person=idx.copy(),
        unit_team=idx.copy(),
        unit_block=np.zeros(n, np.int32),
        unit_fit=np.zeros(n, np.float64),
        cohort_ids=tuple(f"group-{g + 1}" for g in range(m)),
        cohort_block=np.zeros(m, np.int32),
        cohort_min=bounds[:, 0].astype(np.int32),
        cohort_max=bounds[:, 1].astype(np.int32),
        max_per_team=int(NO_CAP),
        mode="sum",
        decay=1.0,
        pair_values=v,
    )
