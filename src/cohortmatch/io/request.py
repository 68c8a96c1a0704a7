"""The whole request (organisation, courses, policy, history) as one JSON document, and its schema."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import limits
from ..errors import InputError
from ..model import Course, Policy
from ..request import Request
from .availability import check_available, read_availability
from .tables import Source, read_courses, read_org

__all__ = ["Request", "request_schema", "read_request", "read_json", "request_from_tables"]


def request_schema() -> dict[str, Any]:
    """The JSON Schema of a request document (what ``cohortmatch schema`` prints).

    Examples
    --------
    >>> sorted(request_schema()["properties"])
    ['courses', 'history', 'org', 'policy', 'run']
    """
    schema = Request.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cohortmatch request"
    return schema


def read_request(source: str | os.PathLike | dict[str, Any]) -> Request:
    """Read a request from a JSON file (or an already parsed dict).

    Raises
    ------
    InputError
        The file is missing or not JSON, or does not match the schema; the message
        names the place in the document (``org.people[3] (id 'p4')``) and the problem.

    Examples
    --------
    >>> read_request({"org": {"people": [{"id": "p1", "team": "a", "mangager": "p2"}]},
    ...               "courses": [{"id": "c", "min_size": 1, "max_size": 2}]})
    Traceback (most recent call last):
    ...
    cohortmatch.errors.RecordError: request, org.people[0].mangager (id 'p1'): Extra inputs...
    """
    if isinstance(source, dict):
        data: Any = source
        name = "request"
    else:
        name = str(source)
        data = read_json(source)
    if not isinstance(data, dict):
        raise InputError(f"{name}: a request is a JSON object with 'org' and 'courses'")
    return Request.from_document(data, name)  # type: ignore[no-any-return]


def read_json(source: str | os.PathLike[str]) -> Any:
    """A JSON file parsed, after the checks of :mod:`cohortmatch.limits` (size, nesting depth).

    Raises
    ------
    InputError
        The file is missing, not UTF-8 or not JSON (the message gives the line and column).
    SizeLimitError
        The file is larger or nested deeper than the limits allow.
    """
    path, name = Path(source), str(source)
    if not path.is_file():
        raise InputError(f"{name}: no such file")
    limits.check_file(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text") from None
    limits.check_json_text(name, text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            f"{name}, line {err.lineno}, column {err.colno}: not valid JSON ({err.msg})"
        ) from None
    except (RecursionError, ValueError) as err:  # integers beyond Python's digit limit
        raise InputError(f"{name}: not a readable JSON document ({type(err).__name__})") from None


def request_from_tables(
    people: Source,
    gaps: Source,
    courses: Source,
    *,
    teams: Source | None = None,
    policy: Policy | None = None,
    availability: Source | None = None,
) -> Request:
    """A request from people, gaps, courses and (optionally) teams and availability tables.

    People's time slots come from the people table's ``available`` column or from an
    ``availability`` table (``person``, ``slot``; see :func:`read_availability`); a slot
    no course offers is an :class:`InputError` naming file, row and column.

    Examples
    --------
    >>> import pandas as pd
    >>> req = request_from_tables(
    ...     pd.DataFrame({"id": ["p1", "p2", "p3", "p4"], "team": ["a", "a", "b", "b"]}),
    ...     pd.DataFrame({"team_a": ["a"], "team_b": ["b"], "weight": [1.5]}),
    ...     pd.DataFrame({"id": ["intro"], "min_size": [2], "max_size": [2]}))
    >>> req.org.gaps[0].weight, req.courses[0].id
    (1.5, 'intro')
    """
    org = read_org(people, gaps, teams)
    course_rows: Sequence[Course] = read_courses(courses, people=org.people)
    if availability is not None:
        org = read_availability(availability, org, course_rows)
    check_available(people, org, course_rows)
    return Request(org=org, courses=tuple(course_rows), policy=policy or Policy())
