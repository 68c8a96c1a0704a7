"""The whole request (organisation, courses, policy) as one JSON document, and its schema."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError
from ..model import Course, Organisation, Policy
from .tables import Source, read_courses, read_org

__all__ = ["Request", "request_schema", "read_request", "request_from_tables", "error_message"]


class Request(BaseModel):
    """Everything :func:`cohortmatch.plan` needs: ``org``, ``courses`` and ``policy``.

    Examples
    --------
    >>> doc = {"org": {"people": [{"id": "p1", "team": "a"}, {"id": "p2", "team": "b"}],
    ...                "gaps": [{"a": "a", "b": "b", "weight": 2}]},
    ...        "courses": [{"id": "intro", "min_size": 2, "max_size": 2}]}
    >>> req = Request.model_validate(doc)
    >>> req.policy.coverage, len(req.org.people)
    ('cover', 2)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    org: Organisation
    courses: tuple[Course, ...] = Field(min_length=1)
    policy: Policy = Policy()

    def to_json(self, *, indent: int | None = 2) -> str:
        """The request as a JSON document that :func:`read_request` reads back."""
        return json.dumps(self.model_dump(mode="json", exclude_defaults=True), indent=indent)


def request_schema() -> dict[str, Any]:
    """The JSON Schema of a request document (what ``cohortmatch schema`` prints).

    Examples
    --------
    >>> sorted(request_schema()["properties"])
    ['courses', 'org', 'policy']
    """
    schema = Request.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cohortmatch request"
    return schema


def error_message(err: ValidationError, source: str, data: Any = None) -> str:
    """A pydantic error as one readable line per problem, each naming where it is.

    ``org.people[3] (id 'p4'), field 'team'`` locates a problem in a JSON document.
    """
    lines = []
    for e in err.errors():
        loc = e.get("loc", ())
        path = ""
        node = data
        ident = None
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
    cohortmatch.errors.InputError: request, org.people[0].mangager (id 'p1'): Extra inputs...
    """
    if isinstance(source, dict):
        data: Any = source
        name = "request"
    else:
        path = Path(source)
        name = str(source)
        if not path.is_file():
            raise InputError(f"{name}: no such file")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise InputError(
                f"{name}, line {err.lineno}, column {err.colno}: not valid JSON ({err.msg})"
            ) from None
        except UnicodeDecodeError:
            raise InputError(f"{name}: not UTF-8 text") from None
        except (RecursionError, ValueError) as err:  # nesting or integers beyond Python's limits
            what = type(err).__name__
            raise InputError(f"{name}: not a readable JSON document ({what})") from None
    try:
        return Request.model_validate(data)
    except ValidationError as err:
        raise InputError(error_message(err, name, data)) from None


def request_from_tables(
    people: Source,
    gaps: Source,
    courses: Source,
    *,
    teams: Source | None = None,
    policy: Policy | None = None,
) -> Request:
    """A request from people, gaps, courses and (optionally) teams tables.

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
    return Request(org=org, courses=tuple(course_rows), policy=policy or Policy())
