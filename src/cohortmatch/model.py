"""Input model: people, teams, connection gaps, courses and the planning policy.

Every model is an immutable pydantic v2 model, validated on construction. A bad record
raises :class:`~cohortmatch.errors.InputError` naming it and its field, e.g.
``person 'p3' (people[2]), field 'manager': unknown person 'p99'``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from typing import Any, Literal

import networkx as nx
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import NotFoundError, RecordError

__all__ = [
    "PURPOSES",
    "MODES",
    "MAX_COUNT",
    "MAX_TOTAL_WEIGHT",
    "Mode",
    "ModeName",
    "Person",
    "Team",
    "Gap",
    "Organisation",
    "Course",
    "Policy",
    "Record",
    "error_message",
    "check_slot_labels",
]

PURPOSES = ("build", "repair", "process", "knowledge", "innovation", "other")

Purpose = Literal["build", "repair", "process", "knowledge", "innovation", "other"]
#: The values of :class:`Mode`, as a type of plain strings.
ModeName = Literal["cover", "diminishing", "sum"]
AttributeValue = str | int | float | bool

#: The largest count (cohort size, cohorts, rounds, team cap, meetings): the compiled problem
#: holds counts as 32-bit integers.
MAX_COUNT = 2**31 - 1
#: The largest total gap weight, so that every objective (a weighted count of bridges or
#: pairs) and bound stays a finite number; only the ratios of weights matter.
MAX_TOTAL_WEIGHT = 1e100


class Mode(StrEnum):
    """How bridging a gap several times counts in the objective (see :doc:`concepts`).

    ``cover``: a gap counts once, when some cohort bridges it; ``diminishing``: the
    k-th bridge of a gap is worth ``decay**(k-1)`` of its weight; ``sum``: every pair of
    co-members across a gap counts.
    """

    COVER = "cover"
    DIMINISHING = "diminishing"
    SUM = "sum"


MODES = tuple(m.value for m in Mode)


def error_message(err: ValidationError, source: str, data: Any = None) -> str:
    """A pydantic error as one readable line per problem, each naming where it is.

    ``org.people[3] (id 'p4'), field 'team'`` locates a problem in a JSON document.

    Examples
    --------
    >>> try:
    ...     Person(id="p1", team="a", mangager="p2")
    ... except RecordError as err:
    ...     print(err)
    person, mangager (id 'p1'): Extra inputs are not permitted
    """
    lines = []
    top = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
    top = top or None
    for e in err.errors():
        loc = e.get("loc", ())
        path = ""
        node = data
        ident = top
        for part in loc:
            if isinstance(part, int):
                path += f"[{part}]"
            else:
                path += ("." if path else "") + str(part)
            try:
                node = node[part] if node is not None else None
            except (KeyError, IndexError, TypeError):
                node = None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                ident = node["id"]
        where = source + (f", {path}" if path else "")
        if ident is not None and path:
            where += f" (id {ident!r})"
        msg = str(e.get("msg", "invalid value")).removeprefix("Value error, ")
        lines.append(f"{where}: {msg}")
    return "\n".join(lines)


#: How deep record constructors are nested (pydantic calls them for nested records).
_NESTED: ContextVar[int] = ContextVar("cohortmatch_record_depth", default=0)


def _record_error(err: ValidationError, source: str, data: Any = None) -> RecordError:
    problems = [str(e.get("msg", "invalid value")).removeprefix("Value error, ") for e in err.errors()]
    return RecordError(error_message(err, source, data), problems)


class Record(BaseModel):
    """Immutable, strict about unknown fields; a bad record raises :class:`InputError`."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, use_enum_values=True
    )

    def __init__(self, /, **data: Any) -> None:
        with _reporting(type(self).__name__.lower(), data):
            super().__init__(**data)

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Validate a parsed document; a bad record raises :class:`InputError`."""
        with _reporting(cls.__name__.lower(), obj):
            return super().model_validate(obj, *args, **kwargs)

    @classmethod
    def from_document(cls, data: Any, source: str) -> Any:
        """Validate a parsed document; errors name ``source`` and the place in the document.

        Examples
        --------
        >>> Person.from_document({"id": "p1", "team": ""}, "people.json")
        Traceback (most recent call last):
        ...
        cohortmatch.errors.RecordError: people.json, team (id 'p1'): the value must be a non-empty string
        """
        with _reporting(source, data):
            return super().model_validate(data)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Validate a JSON document; a bad record raises :class:`InputError`."""
        with _reporting(cls.__name__.lower(), None):
            return super().model_validate_json(json_data, *args, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        raise RecordError(f"{type(self).__name__.lower()} records cannot be changed; "
                          f"make a new one with model_copy(update={{{name!r}: ...}})")


@contextmanager
def _reporting(source: str, data: Any) -> Iterator[None]:
    """Turn pydantic's error into a :class:`RecordError` naming ``source``, at the outermost
    record only (pydantic validates nested records through their constructors)."""
    token = _NESTED.set(_NESTED.get() + 1)
    try:
        yield
    except ValidationError as err:
        if _NESTED.get() > 1:  # inside another record: the outermost one reports the whole
            raise
        raise _record_error(err, source, data) from None
    finally:
        _NESTED.reset(token)


def _check_id(value: str, what: str) -> str:
    if not value:
        raise ValueError(f"{what} must be a non-empty string")
    return value


class Person(Record):
    """A person who may take part in courses.

    Parameters
    ----------
    id : str
        Unique identifier (an employee number, never a name, is best: ids appear in logs).
    team : str
        Id of the person's team.
    manager : str, optional
        Id of the person's direct manager.
    attributes : dict
        Free attributes (level, location, ...), used to select participants and in reports.
    interests : dict
        Fit of the person to each course, ``{course_id: value in [0, 1]}``.
    available : list of str, optional
        The time slots the person can attend (labels of ``Course.slots``); ``None``: every
        slot. A person is only placed in cohorts meeting at one of them (see :doc:`slots`).

    Examples
    --------
    >>> Person(id="p1", team="marketing", manager="p9").team
    'marketing'
    >>> Person(id="p2", team="product", available=["2027-01-12 09:00"]).available
    ('2027-01-12 09:00',)
    """

    id: str
    team: str
    manager: str | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    interests: dict[str, float] = Field(default_factory=dict)
    available: tuple[str, ...] | None = None

    @field_validator("id", "team")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        return _check_id(v, "the value")

    @field_validator("interests")
    @classmethod
    def _fit_in_unit_interval(cls, v: dict[str, float]) -> dict[str, float]:
        for course, fit in v.items():
            if not (math.isfinite(fit) and 0.0 <= fit <= 1.0):
                raise ValueError(f"interest in course {course!r} must be in [0, 1]; got {fit}")
        return v

    @field_validator("available")
    @classmethod
    def _slot_list(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if v is None else check_slot_labels(v)

    @model_validator(mode="after")
    def _not_own_manager(self) -> Person:
        if self.manager is not None and self.manager == self.id:
            raise ValueError(f"person {self.id!r}, field 'manager': a person cannot manage themself")
        return self


class Team(Record):
    """A team (a node of the organisation graph).

    Examples
    --------
    >>> Team(id="marketing", parent="commercial").parent
    'commercial'
    """

    id: str
    name: str | None = None
    parent: str | None = None

    @field_validator("id")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        return _check_id(v, "the value")


class Gap(Record):
    """A connection gap between two teams: they should work together more.

    The gap is undirected; ``weight`` is how much bridging it is worth (finite, > 0).

    Examples
    --------
    >>> Gap(a="marketing", b="product", weight=3.0, purpose="repair").key
    ('marketing', 'product')
    """

    a: str
    b: str
    weight: float = 1.0
    purpose: Purpose = "build"

    @field_validator("weight")
    @classmethod
    def _positive_finite(cls, v: float) -> float:
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"weight must be finite and > 0; got {v}")
        return v

    @model_validator(mode="after")
    def _not_self(self) -> Gap:
        if self.a == self.b:
            raise ValueError(f"gap {self.a!r}-{self.b!r}: a team cannot have a gap with itself")
        return self

    @property
    def key(self) -> tuple[str, str]:
        """The unordered team pair as a sorted tuple."""
        return (self.a, self.b) if self.a <= self.b else (self.b, self.a)


class Organisation(Record):
    """People, teams and the connection gaps between teams.

    If ``teams`` is empty, one team is created for each team id the people name.

    Examples
    --------
    >>> org = Organisation(
    ...     people=[Person(id="p1", team="a"), Person(id="p2", team="b", manager="p1")],
    ...     gaps=[Gap(a="a", b="b", weight=2.0)],
    ... )
    >>> sorted(org.graph().edges(data="weight"))
    [('a', 'b', 2.0)]
    """

    people: tuple[Person, ...]
    teams: tuple[Team, ...] = ()
    gaps: tuple[Gap, ...] = ()

    @model_validator(mode="after")
    def _check_references(self) -> Organisation:
        if not self.people:
            raise ValueError("an organisation needs at least one person")
        _check_unique([p.id for p in self.people], "person", "people")
        if not self.teams:
            object.__setattr__(
                self, "teams", tuple(Team(id=t) for t in sorted({p.team for p in self.people}))
            )
        _check_unique([t.id for t in self.teams], "team", "teams")
        team_ids = {t.id for t in self.teams}
        for i, t in enumerate(self.teams):
            if t.parent is not None and t.parent not in team_ids:
                raise ValueError(
                    f"team {t.id!r} (teams[{i}]), field 'parent': unknown team {t.parent!r}"
                )
        person_ids = {p.id for p in self.people}
        for i, p in enumerate(self.people):
            if p.team not in team_ids:
                raise ValueError(f"person {p.id!r} (people[{i}]), field 'team': unknown team {p.team!r}")
            if p.manager is not None and p.manager not in person_ids:
                raise ValueError(
                    f"person {p.id!r} (people[{i}]), field 'manager': unknown person {p.manager!r}"
                )
        seen: dict[tuple[str, str], int] = {}
        for i, g in enumerate(self.gaps):
            for field in ("a", "b"):
                if getattr(g, field) not in team_ids:
                    raise ValueError(
                        f"gap {g.a!r}-{g.b!r} (gaps[{i}]), field {field!r}: "
                        f"unknown team {getattr(g, field)!r}"
                    )
            if g.key in seen:
                raise ValueError(
                    f"gap {g.a!r}-{g.b!r} is given twice: gaps[{seen[g.key]}] and gaps[{i}]"
                )
            seen[g.key] = i
        total = sum(g.weight for g in self.gaps)
        if not total <= MAX_TOTAL_WEIGHT:
            raise ValueError(
                f"the gap weights add up to {total:g}, more than {MAX_TOTAL_WEIGHT:g}: scale them "
                "down (only their ratios matter)"
            )
        _check_no_management_cycle(self.people)
        return self

    def graph(self) -> nx.Graph:
        """The team graph: one node per team, one edge per gap (``weight``, ``purpose``)."""
        g = nx.Graph()
        for t in self.teams:
            g.add_node(t.id, name=t.name, parent=t.parent)
        for gap in self.gaps:
            g.add_edge(gap.a, gap.b, weight=gap.weight, purpose=gap.purpose)
        return g

    def person(self, person_id: str) -> Person:
        """The person with this id (:class:`NotFoundError`, a ``KeyError``, naming it if there is none)."""
        index = self._person_index()
        if person_id not in index:
            raise NotFoundError(f"unknown person {person_id!r}")
        return self.people[index[person_id]]

    def _person_index(self) -> dict[str, int]:
        cached = self.__dict__.get("_person_index_cache")
        if cached is None:
            cached = {p.id: i for i, p in enumerate(self.people)}
            self.__dict__["_person_index_cache"] = cached
        return cached


def check_slot_labels(labels: Sequence[str]) -> tuple[str, ...]:
    """Slot labels as given, checked: non-empty, none twice, none holding ``;`` (the list
    separator of tables).

    Examples
    --------
    >>> check_slot_labels(["mon 9:00", "tue 9:00"])
    ('mon 9:00', 'tue 9:00')
    >>> check_slot_labels(["mon", "mon"])
    Traceback (most recent call last):
    ...
    ValueError: slot 'mon' is listed twice
    """
    seen: set[str] = set()
    for label in labels:
        if not label or not label.strip():
            raise ValueError("a slot label must be a non-empty string")
        if ";" in label:
            raise ValueError(f"slot {label!r}: a label cannot hold ';' (it separates slots in tables)")
        if label in seen:
            raise ValueError(f"slot {label!r} is listed twice")
        seen.add(label)
    return tuple(labels)


def _check_unique(ids: Sequence[str], kind: str, field: str) -> None:
    first: dict[str, int] = {}
    for i, x in enumerate(ids):
        if x in first:
            raise ValueError(f"{kind} {x!r} is given twice: {field}[{first[x]}] and {field}[{i}]")
        first[x] = i


def _check_no_management_cycle(people: Sequence[Person]) -> None:
    manager = {p.id: p.manager for p in people}
    state: dict[str, int] = {}  # 1 = on the current chain, 2 = known to reach a root
    for start in manager:
        chain: list[str] = []
        node: str | None = start
        while node is not None and state.get(node) != 2:
            if state.get(node) == 1:
                cycle = chain[chain.index(node):] + [node]
                raise ValueError("management chain has a cycle: " + " -> ".join(cycle))
            state[node] = 1
            chain.append(node)
            node = manager[node]
        for n in chain:
            state[n] = 2


class Course(Record):
    """A course whose participants are split into cohorts.

    Parameters
    ----------
    id : str
        Course id.
    min_size, max_size : int
        Bounds on the size of every cohort.
    cohorts : int, optional
        Number of cohorts. ``None`` takes the fewest the size bounds allow,
        ``ceil(n / max_size)``: fewer, larger cohorts seat more pairs of people
        together and cost fewer sessions to run.
    participants : list of str, optional
        Ids of the people who take the course; ``None`` means everyone.
    rounds : int
        How many times the course runs; participants are regrouped every round.
    pinned : dict, optional
        ``{person id: cohort id}``: people placed in a given cohort (a facilitator who
        runs cohort 2, someone who already booked a date); the planner chooses the
        other members. Cohort ids are ``<course>-<i>`` (``i`` from 1), and with several
        rounds ``<course>-r<r>-<i>`` for one round or ``<course>-<i>`` for cohort ``i``
        of every round; a person may be given a list of ids (one per round). See
        :doc:`rules`.
    slots : list of str
        The times at which a cohort of the course can meet (any labels; ISO 8601
        date-times such as ``2027-01-12 09:00`` also give an iCalendar export). Each cohort
        gets exactly one of them; the same label in two courses is the same time, and
        nobody is in two cohorts at once. Empty: the course has no times. See :doc:`slots`.
    max_cohorts_per_slot : int, optional
        At most this many cohorts of the course (over all its rounds) meet at one slot
        (rooms, trainers). Needs ``slots``.
    seats : int, optional
        At most this many of the candidates (``participants``) are placed, the same people
        in every round; the others wait (``Plan.unassigned``, reason ``not selected``).
        The cohort count follows from the people placed. ``None``: everyone is placed.
        See :doc:`seats`.
    required : list of str
        Candidates who must get a seat (new managers on a mandatory course). People
        pinned to a cohort are required too.

    Examples
    --------
    >>> Course(id="presenting", min_size=8, max_size=12).cohorts is None
    True
    >>> Course(id="presenting", min_size=8, max_size=12, pinned={"p9": "presenting-2"}).pinned
    {'p9': 'presenting-2'}
    >>> Course(id="presenting", min_size=8, max_size=12, slots=["2027-01-12 09:00", "2027-01-19 09:00"],
    ...        max_cohorts_per_slot=2).slots
    ('2027-01-12 09:00', '2027-01-19 09:00')
    >>> Course(id="presenting", min_size=8, max_size=12, seats=48, required=["p1"]).seats
    48
    """

    id: str
    min_size: int = Field(ge=1, le=MAX_COUNT)
    max_size: int = Field(ge=1, le=MAX_COUNT)
    cohorts: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    participants: tuple[str, ...] | None = None
    rounds: int = Field(default=1, ge=1, le=MAX_COUNT)
    pinned: dict[str, str | tuple[str, ...]] = Field(default_factory=dict)
    slots: tuple[str, ...] = ()
    max_cohorts_per_slot: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    seats: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    required: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        return _check_id(v, "the value")

    @field_validator("required")
    @classmethod
    def _required_ids(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for person in v:
            _check_id(person, "a required person id")
        _check_unique(v, "required person", "required")
        return v

    @field_validator("slots")
    @classmethod
    def _slot_list(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return check_slot_labels(v)

    @field_validator("pinned")
    @classmethod
    def _pins(cls, v: dict[str, str | tuple[str, ...]]) -> dict[str, str | tuple[str, ...]]:
        for person, cohorts in v.items():
            ids = (cohorts,) if isinstance(cohorts, str) else cohorts
            if not person or not ids or not all(ids):
                raise ValueError(f"pin of {person!r}: a person id and at least one cohort id")
            if len(set(ids)) < len(ids):
                raise ValueError(f"pin of {person!r}: a cohort is given twice")
        return v

    @model_validator(mode="after")
    def _sizes(self) -> Course:
        if self.max_cohorts_per_slot is not None and not self.slots:
            raise ValueError(f"course {self.id!r}, field 'max_cohorts_per_slot': needs slots")
        if self.max_size < self.min_size:
            raise ValueError(
                f"The 'max_size' of course {self.id!r} must be >= min_size ({self.min_size}). "
                f"Got {self.max_size}."
            )
        if self.participants is not None:
            _check_unique(self.participants, "participant", f"course {self.id!r} participants")
            for field, ids in (("pinned", list(self.pinned)), ("required", list(self.required))):
                outside = [p for p in ids if p not in set(self.participants)]
                if outside:
                    raise ValueError(
                        f"course {self.id!r}, field {field!r}: {outside[0]!r} is not a participant"
                    )
        return self

    def pins(self) -> dict[str, tuple[str, ...]]:
        """``pinned`` with every value as a tuple of cohort ids."""
        return {p: (c,) if isinstance(c, str) else tuple(c) for p, c in self.pinned.items()}


class Policy(Record):
    """Hard rules and the objective of a plan.

    Parameters
    ----------
    mode : {"cover", "diminishing", "sum"}
        How bridging a gap several times counts (:class:`Mode`, see :doc:`concepts`).
        ``coverage=`` is accepted as its former name.
    decay : float
        In ``diminishing`` mode, the k-th bridge of a gap is worth ``decay**(k-1)``.
    tie_break : {"diminishing", "none"}
        ``cover`` mode only. ``diminishing`` (the default): among plans of equal cover
        value, the planner prefers the one bridging more gaps a second time, so cohorts
        left with nothing to gain still bridge something (the cover value is never
        lowered for it; see :doc:`concepts`). ``none``: the first plan of best cover
        value found is returned as it is.
    max_per_team : int, optional
        At most this many members of one team in a cohort.
    separate_manager_and_reports : bool
        Keep a manager and their direct reports in different cohorts.
    keep_together : list of lists of str
        Groups of people who share one cohort in every course round that all of them
        take (a buddy, an interpreter with a colleague, a job-share pair). Groups that
        share a person are one group.
    keep_apart : list of lists of str
        Groups of people no two of whom ever share a cohort (an HR case, two people who
        cover for each other). Managers apart from their reports is the same rule.
    max_meetings : int, optional
        Over a programme of several rounds, no two people share a cohort more than this
        many times (earlier rounds passed as ``history`` count too).
    meetings : {"hard", "soft"}
        ``hard``: ``max_meetings`` is a rule; a request that cannot keep it fails.
        ``soft``: the planner first removes as many meetings beyond ``max_meetings`` as
        it can, then maximises gap value; the plan lists the repeats it could not avoid
        (``Plan.repeated_meetings``). Needs ``max_meetings``.
    balance : list of str, or dict
        Attributes whose values each cohort holds in proportion to the course round's
        participants: a value with share :math:`s` of them appears between
        :math:`\\lfloor n s \\rfloor` and :math:`\\lceil n s \\rceil` times in a cohort of
        :math:`n`. ``team`` is an attribute too. A numeric attribute with more than ten
        distinct values must be binned: ``{"tenure_years": [0, 2, 5, 10]}`` (bins
        ``[0, 2)``, ``[2, 5)``, ``[5, 10]``); ``{"level": None}`` counts values as they are.
        See :doc:`mix`.
    balance_mode : {"hard", "soft"}
        ``hard``: ``balance`` is a rule. ``soft``: the planner first minimises the total
        deviation from those bounds, then maximises gap value (``Plan.mix.deviation``).
    no_isolation : list of str
        Attributes on which nobody is alone in a cohort: each value appears 0 or at least
        2 times (a value only one participant of a course round has is reported in
        ``Plan.notes``, not an error).
    at_most, at_least : dict
        Per-cohort limits and quotas, ``{"level": {"director": 1}}``: at most one director,
        ``{"role": {"first aider": 1}}``: at least one first aider in every cohort.
        In all four mix rules, people without an attribute count as its value ``""``.
    fit_weight : float
        With seats (``Course.seats``): the objective adds ``fit_weight`` times the sum of
        the interest (``Person.interests``, in [0, 1]) of the people placed to the gap
        value. One placed person of interest 1 is then worth ``fit_weight`` units of gap
        weight: with gap weights of about 1, ``fit_weight=1`` weighs a seat for a keen
        person like one bridged gap. 0: interest only breaks ties. See :doc:`seats`.
    max_courses_per_person : int, optional
        Across the courses of the request, a person takes at most this many seats
        (placed in at most this many courses).

    Examples
    --------
    >>> Policy(max_per_team=2).mode
    'cover'
    >>> Policy(max_meetings=1, meetings="soft").meetings
    'soft'
    >>> Policy(keep_apart=[["p6", "p7", "p8"]]).keep_apart
    (('p6', 'p7', 'p8'),)
    >>> Policy(balance=["level", "location"], at_most={"level": {"director": 1}}).balance
    {'level': None, 'location': None}
    """

    mode: ModeName = Field(default="cover", validation_alias=AliasChoices("mode", "coverage"))
    decay: float = Field(default=0.5, ge=0.0, le=1.0)
    tie_break: Literal["diminishing", "none"] = "diminishing"
    max_per_team: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    separate_manager_and_reports: bool = True
    keep_together: tuple[tuple[str, ...], ...] = ()
    keep_apart: tuple[tuple[str, ...], ...] = ()
    max_meetings: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    meetings: Literal["hard", "soft"] = "hard"
    balance: dict[str, tuple[float, ...] | None] = Field(default_factory=dict)
    balance_mode: Literal["hard", "soft"] = "hard"
    no_isolation: tuple[str, ...] = ()
    at_most: dict[str, dict[str, int]] = Field(default_factory=dict)
    at_least: dict[str, dict[str, int]] = Field(default_factory=dict)
    fit_weight: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    max_courses_per_person: int | None = Field(default=None, ge=1, le=MAX_COUNT)

    @field_validator("balance", mode="before")
    @classmethod
    def _balance_names(cls, v: Any) -> Any:
        if isinstance(v, str):
            raise ValueError("a list of attribute names is expected, not one string: "
                             f"write [{v!r}]")
        if isinstance(v, list | tuple):
            return {name: None for name in v}
        return v

    @field_validator("balance")
    @classmethod
    def _bins(cls, v: dict[str, tuple[float, ...] | None]) -> dict[str, tuple[float, ...] | None]:
        for name, edges in v.items():
            _check_id(name, "an attribute name")
            if edges is None:
                continue
            if len(edges) < 2 or not all(math.isfinite(x) for x in edges) or any(
                    b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise ValueError(f"bins of {name!r}: at least two finite, increasing edges; "
                                 f"got {list(edges)}")
        return v

    @field_validator("no_isolation", mode="before")
    @classmethod
    def _isolation_names(cls, v: Any) -> Any:
        if isinstance(v, str):
            raise ValueError(f"a list of attribute names is expected, not one string: write [{v!r}]")
        return v

    @field_validator("no_isolation")
    @classmethod
    def _names(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for name in v:
            _check_id(name, "an attribute name")
        _check_unique(v, "attribute", "no_isolation")
        return v

    @field_validator("at_most", "at_least")
    @classmethod
    def _limits(cls, v: dict[str, dict[str, int]], info: Any) -> dict[str, dict[str, int]]:
        for name, limits in v.items():
            _check_id(name, "an attribute name")
            if not limits:
                raise ValueError(f"{info.field_name} {name!r}: give at least one value and its count")
            for value, n in limits.items():
                if n < 1:
                    raise ValueError(f"{info.field_name} {name}={value!r}: the count must be >= 1; got {n}")
        return v

    @field_validator("keep_together", "keep_apart")
    @classmethod
    def _groups(cls, v: tuple[tuple[str, ...], ...], info: Any) -> tuple[tuple[str, ...], ...]:
        for i, group in enumerate(v):
            where = f"{info.field_name}[{i}]"
            if len(group) < 2:
                raise ValueError(f"{where}: a group needs at least two people; got {list(group)}")
            seen: set[str] = set()
            for person in group:
                if not person:
                    raise ValueError(f"{where}: a person id must be a non-empty string")
                if person in seen:
                    raise ValueError(f"{where}: {person!r} is listed twice (linked to themself)")
                seen.add(person)
        return v

    @model_validator(mode="after")
    def _meeting_settings(self) -> Policy:
        if self.meetings == "soft" and self.max_meetings is None:
            raise ValueError("The 'meetings' setting 'soft' needs max_meetings. Got None.")
        if self.balance_mode == "soft" and not self.balance:
            raise ValueError("The 'balance_mode' setting 'soft' needs balance. Got none.")
        return self

    @property
    def mix_attributes(self) -> tuple[str, ...]:
        """The attributes the mix rules count (``balance``, ``no_isolation``, ``at_most``,
        ``at_least``), each once, in that order."""
        names = [*self.balance, *self.no_isolation, *self.at_most, *self.at_least]
        return tuple(dict.fromkeys(names))

    def without_mix(self) -> Policy:
        """The same policy without the mix rules (to state the price of the mix)."""
        return self.model_copy(update={"balance": {}, "balance_mode": "hard", "no_isolation": (),
                                       "at_most": {}, "at_least": {}})

    @property
    def coverage(self) -> str:
        """The former name of :attr:`mode` (kept so that old code keeps working)."""
        return str(self.mode)
