"""Input model: people, teams, connection gaps, courses and the planning policy.

Every model is an immutable pydantic v2 model, validated on construction. Errors
name the offending record and field, e.g.
``person 'p3' (people[2]), field 'manager': unknown person 'p99'``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "PURPOSES",
    "COVERAGE_MODES",
    "MAX_COUNT",
    "MAX_TOTAL_WEIGHT",
    "Person",
    "Team",
    "Gap",
    "Organisation",
    "Course",
    "Policy",
]

PURPOSES = ("build", "repair", "process", "knowledge", "innovation", "other")
COVERAGE_MODES = ("cover", "diminishing", "sum")

Purpose = Literal["build", "repair", "process", "knowledge", "innovation", "other"]
CoverageMode = Literal["cover", "diminishing", "sum"]
AttributeValue = str | int | float | bool

#: The largest count (cohort size, cohorts, rounds, team cap, meetings): the compiled problem
#: holds counts as 32-bit integers.
MAX_COUNT = 2**31 - 1
#: The largest total gap weight, so that every objective (a weighted count of bridges or
#: pairs) and bound stays a finite number; only the ratios of weights matter.
MAX_TOTAL_WEIGHT = 1e100


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _check_id(value: str, what: str) -> str:
    if not value:
        raise ValueError(f"{what} must be a non-empty string")
    return value


class Person(_Frozen):
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

    Examples
    --------
    >>> Person(id="p1", team="marketing", manager="p9").team
    'marketing'
    """

    id: str
    team: str
    manager: str | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    interests: dict[str, float] = Field(default_factory=dict)

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

    @model_validator(mode="after")
    def _not_own_manager(self) -> Person:
        if self.manager is not None and self.manager == self.id:
            raise ValueError(f"person {self.id!r}, field 'manager': a person cannot manage themself")
        return self


class Team(_Frozen):
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


class Gap(_Frozen):
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


class Organisation(_Frozen):
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
        """The person with this id (``KeyError`` naming it if there is none)."""
        index = self._person_index()
        if person_id not in index:
            raise KeyError(f"unknown person {person_id!r}")
        return self.people[index[person_id]]

    def _person_index(self) -> dict[str, int]:
        cached = self.__dict__.get("_person_index_cache")
        if cached is None:
            cached = {p.id: i for i, p in enumerate(self.people)}
            self.__dict__["_person_index_cache"] = cached
        return cached


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


class Course(_Frozen):
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

    Examples
    --------
    >>> Course(id="presenting", min_size=8, max_size=12).cohorts is None
    True
    """

    id: str
    min_size: int = Field(ge=1, le=MAX_COUNT)
    max_size: int = Field(ge=1, le=MAX_COUNT)
    cohorts: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    participants: tuple[str, ...] | None = None
    rounds: int = Field(default=1, ge=1, le=MAX_COUNT)

    @field_validator("id")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        return _check_id(v, "the value")

    @model_validator(mode="after")
    def _sizes(self) -> Course:
        if self.max_size < self.min_size:
            raise ValueError(
                f"The 'max_size' of course {self.id!r} must be >= min_size ({self.min_size}). "
                f"Got {self.max_size}."
            )
        if self.participants is not None:
            _check_unique(self.participants, "participant", f"course {self.id!r} participants")
        return self


class Policy(_Frozen):
    """Hard rules and the objective of a plan.

    Parameters
    ----------
    coverage : {"cover", "diminishing", "sum"}
        How bridging a gap several times counts (see :doc:`concepts`).
    decay : float
        In ``diminishing`` mode, the k-th bridge of a gap is worth ``decay**(k-1)``.
    max_per_team : int, optional
        At most this many members of one team in a cohort.
    separate_manager_and_reports : bool
        Keep a manager and their direct reports in different cohorts.
    max_meetings : int, optional
        Over a programme of several rounds, no two people share a cohort more than this
        many times (earlier rounds passed as ``history`` count too).
    meetings : {"hard", "soft"}
        ``hard``: ``max_meetings`` is a rule; a request that cannot keep it fails.
        ``soft``: the planner first removes as many meetings beyond ``max_meetings`` as
        it can, then maximises gap value; the plan lists the repeats it could not avoid
        (``Plan.repeated_meetings``). Needs ``max_meetings``.

    Examples
    --------
    >>> Policy(max_per_team=2).coverage
    'cover'
    >>> Policy(max_meetings=1, meetings="soft").meetings
    'soft'
    """

    coverage: CoverageMode = "cover"
    decay: float = Field(default=0.5, ge=0.0, le=1.0)
    max_per_team: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    separate_manager_and_reports: bool = True
    max_meetings: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    meetings: Literal["hard", "soft"] = "hard"

    @model_validator(mode="after")
    def _meeting_settings(self) -> Policy:
        if self.meetings == "soft" and self.max_meetings is None:
            raise ValueError("The 'meetings' setting 'soft' needs max_meetings. Got None.")
        return self
