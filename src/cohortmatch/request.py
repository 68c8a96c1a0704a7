"""One request: the organisation, its courses, the policy, pair values and earlier rounds."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from .compiled import CompiledProblem, compile_problem
from .errors import InputError
from .model import Course, Organisation, Policy, Record
from .result import Plan

__all__ = ["Request", "RunOptions", "as_request"]


class RunOptions(Record):
    """How a request document asks to be planned (its ``run`` section).

    Every field is optional; :func:`cohortmatch.plan` uses a field for each keyword the
    caller leaves at its default, and the command line for each option it is not given.
    Values are checked like the keywords (:func:`cohortmatch.params.run_settings`).

    Examples
    --------
    >>> RunOptions(solver="lns", work_limit=5000).kwargs()
    {'solver': 'lns', 'work_limit': 5000}
    """

    solver: Literal["auto", "heuristic", "cpsat", "lns", "golfer", "tabu"] | None = None
    time_limit: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    work_limit: int | None = Field(default=None, ge=0)
    workers: int | None = Field(default=None, ge=1)
    seed: int | None = Field(default=None, ge=0)
    on_infeasible: Literal["raise", "partial"] | None = None
    decompose: Literal["auto", "always", "never"] | None = None

    def kwargs(self) -> dict[str, Any]:
        """The fields that are set, as keywords of :func:`cohortmatch.plan`."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Request(Record):
    """Everything a plan is made from: what :func:`cohortmatch.plan` plans and
    :func:`cohortmatch.validate` checks against.

    Parameters
    ----------
    org : Organisation
    courses : sequence of Course
        At least one.
    policy : Policy
        Hard rules and objective mode; ``Policy()`` by default.
    pair_values : array_like or scipy.sparse matrix (P, P), optional
        Person-by-person values in the order of ``org.people`` (``sum`` mode only; not
        part of the JSON document).
    history : sequence of Plan
        Plans of earlier rounds of the same programme.
    run : RunOptions
        How to plan it (engine, limits, workers, seed), for a request read from a file.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4)])
    >>> req = cm.Request(org=org, courses=[cm.Course(id="intro", min_size=2, max_size=2)])
    >>> req.policy.mode, len(req.courses), req.compile().n_cohorts
    ('cover', 1, 2)
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, use_enum_values=True,
        arbitrary_types_allowed=True,
    )

    org: Organisation
    courses: tuple[Course, ...] = Field(min_length=1)
    policy: Policy = Policy()
    pair_values: SkipJsonSchema[Any] = Field(default=None, exclude=True)
    history: tuple[Plan, ...] = ()
    run: RunOptions = RunOptions()

    @field_validator("courses", mode="before")
    @classmethod
    def _course_list(cls, v: Any) -> Any:
        if isinstance(v, Course):
            raise ValueError("a sequence of Course is expected, not a single Course: wrap it in a list")
        return v

    @model_validator(mode="after")
    def _known_slots(self) -> Request:
        offered = {s for c in self.courses for s in c.slots}
        if offered:
            for i, p in enumerate(self.org.people):
                unknown = [s for s in p.available or () if s not in offered]
                if unknown:
                    raise ValueError(f"person {p.id!r} (org.people[{i}]), field 'available': unknown slot "
                                     f"{unknown[0]!r} (no course meets then)")
        return self

    def compile(self) -> CompiledProblem:
        """The request as arrays (:func:`cohortmatch.compiled.compile_problem`)."""
        return compile_problem(
            self.org, self.courses, self.policy, pair_values=self.pair_values,
            history=[c.members for past in self.history for c in past.cohorts],
        )

    def with_courses(self, courses: Sequence[Course]) -> Request:
        """The same request with other courses (not re-validated: they come from this one)."""
        return self.model_copy(update={"courses": tuple(courses)})

    def to_json(self, *, indent: int | None = 2) -> str:
        """The request as a JSON document that :func:`cohortmatch.io.read_request` reads back
        (``pair_values`` are left out)."""
        return json.dumps(self.model_dump(mode="json", exclude_defaults=True), indent=indent)


def as_request(
    request: Any,
    courses: Any = None,
    policy: Any = None,
    *,
    pair_values: Any = None,
    history: Any = (),
    name: str = "plan",
) -> Request:
    """A :class:`Request` from either a request or the loose pieces ``(org, courses, policy, ...)``.

    Raises
    ------
    InputError
        Both a request and pieces of one are given, or a piece has the wrong type (the
        message names the parameter and what it expects).

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id="p1", team="a")])
    >>> as_request(org, [cm.Course(id="c", min_size=1, max_size=1)]).courses[0].id
    'c'
    >>> as_request(org, [cm.Course(id="c", min_size=1, max_size=1)], policy="strict")
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: plan: the 'policy' must be a Policy or None. Got 'strict'.
    """
    if isinstance(request, Request):
        given = [n for n, v in (("courses", courses), ("policy", policy), ("pair_values", pair_values))
                 if v is not None] + (["history"] if history else [])
        if given:
            raise InputError(f"{name}: a Request holds the whole request; do not pass {', '.join(given)} too")
        return request
    if not isinstance(request, Organisation):
        raise InputError(f"{name}: the first argument must be a Request or an Organisation. "
                         f"Got {type(request).__name__}.")
    if isinstance(courses, Course):
        raise InputError(f"{name}: the 'courses' must be a sequence of Course; got a single Course "
                         "(wrap it in a list)")
    if courses is None or isinstance(courses, str | bytes) or not all(isinstance(c, Course) for c in courses):
        raise InputError(f"{name}: the 'courses' must be a sequence of Course. Got {courses!r:.80}.")
    if policy is not None and not isinstance(policy, Policy):
        raise InputError(f"{name}: the 'policy' must be a Policy or None. Got {policy!r}.")
    history = tuple(history or ())
    if not all(isinstance(h, Plan) for h in history):
        raise InputError(f"{name}: the 'history' must be a sequence of Plan.")
    return Request(org=request, courses=tuple(courses), policy=policy or Policy(),
                   pair_values=pair_values, history=history)
