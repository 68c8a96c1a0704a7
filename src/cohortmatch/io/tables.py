"""Read people, teams, gaps, courses and groupings from CSV, Excel or pandas DataFrames.

Every error names the file, the row and the column, e.g.
``people.csv, row 5, column 'team': unknown team 'sales-9' (not in teams.csv)``.
Rows are counted as a spreadsheet shows them: the header is row 1, the first record row 2.
DataFrame rows are counted from 0, like their positions.

CSV needs nothing beyond the standard library; ``.xlsx`` needs openpyxl, and DataFrames
come from pandas (both in the ``tables`` extra: ``pip install 'cohortmatch[tables]'``).
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, RecordError
from ..model import PURPOSES, Course, Gap, Organisation, Person, Team

__all__ = [
    "Source",
    "Table",
    "load_table",
    "read_people",
    "read_teams",
    "read_gaps",
    "read_courses",
    "read_org",
    "read_grouping",
    "Grouping",
    "select_participants",
    "text_cell",
    "number_cell",
]

#: Anything a table can be read from: a path to ``.csv``/``.xlsx``, or a pandas DataFrame.
Source = str | os.PathLike | Any

INTEREST_PREFIX = "interest:"
PEOPLE_COLUMNS = ("id", "team", "manager")
TEAM_COLUMNS = ("id", "name", "parent")
GAP_COLUMNS = ("team_a", "team_b", "weight", "purpose")
COURSE_COLUMNS = ("id", "min_size", "max_size", "cohorts", "participants", "rounds", "pinned")
GROUPING_COLUMNS = ("person", "cohort", "course", "round")


@dataclass(frozen=True)
class Table:
    """A table as read from a file or DataFrame: column names and rows of plain values.

    ``rows[i][j]`` is a ``str``, ``int``, ``float``, ``bool`` or ``None`` (an empty cell).
    ``first_row`` is the number users see for ``rows[0]`` (2 in a file with a header).
    """

    source: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    first_row: int = 2

    def where(self, i: int, column: str | None = None) -> str:
        """``'<source>, row <n>, column '<c>''`` for the ``i``-th record."""
        text = f"{self.source}, row {self.first_row + i}"
        return text + (f", column {column!r}" if column is not None else "")

    def column_index(self, name: str) -> int | None:
        """Position of a column, matched case-insensitively (None if absent)."""
        low = name.lower()
        for j, c in enumerate(self.columns):
            if c.lower() == low:
                return j
        return None

    def text(self, i: int, column: str, *, required: bool = False) -> str | None:
        """The ``i``-th record's cell as text (an id typed as a number reads as its digits)."""
        return _text(self, i, column, required=required)

    def require(self, *names: str) -> None:
        """Raise :class:`InputError` naming the first missing column."""
        for n in names:
            if self.column_index(n) is None:
                raise InputError(
                    f"{self.source}: missing column {n!r} (the columns are: "
                    f"{', '.join(repr(c) for c in self.columns) or 'none'})"
                )

    def only(self, allowed: Sequence[str], *, extra_prefix: str | None = None) -> None:
        """Raise :class:`InputError` naming the first column not in ``allowed``."""
        low = {a.lower() for a in allowed}
        for c in self.columns:
            if c.lower() not in low and not (extra_prefix and c.startswith(extra_prefix)):
                raise InputError(
                    f"{self.source}, column {c!r}: unknown column (expected some of "
                    f"{', '.join(allowed)})"
                )


def _clean(value: Any) -> Any:
    """A cell as a plain Python value; empty strings and NaN become None."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()  # numpy scalar
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        value = _unquote(value.strip()).strip()
        return value or None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool | int | float):
        return value
    text = str(value).strip()
    return text or None


def _unquote(text: str) -> str:
    """Undo the ``'`` that exports put before text a spreadsheet would run as a formula."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def _is_frame(source: Any) -> bool:
    return hasattr(source, "columns") and hasattr(source, "itertuples")


def load_table(source: Source, *, what: str = "table") -> Table:
    """Read a ``.csv`` or ``.xlsx`` file, or a pandas DataFrame, into a :class:`Table`.

    An ``.xlsx`` workbook is read from the sheet named ``what`` (e.g. ``people``) when it
    has one, else from its first sheet.

    Parameters
    ----------
    source : path or DataFrame
    what : str
        What the table holds, used to pick a sheet and in messages about DataFrames.

    Returns
    -------
    Table

    Raises
    ------
    InputError
        The file is missing, empty, of an unknown kind, or has a blank or repeated column name.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "people.csv"
    >>> _ = path.write_text("id,team\\np1,sales\\n")
    >>> t = load_table(path)
    >>> t.columns, t.rows, t.where(0, "team").endswith("row 2, column 'team'")
    (('id', 'team'), (('p1', 'sales'),), True)
    """
    if _is_frame(source):
        frame: Any = source
        name = f"{what} DataFrame"
        columns = tuple(str(c).strip() for c in frame.columns)
        rows = tuple(
            tuple(_clean(v) for v in row) for row in frame.itertuples(index=False, name=None)
        )
        table = Table(name, columns, rows, first_row=0)
    else:
        if not isinstance(source, str | os.PathLike):
            raise InputError(
                f"a {what} table must be a path to a .csv or .xlsx file or a pandas DataFrame; "
                f"got {type(source).__name__}"
            )
        path = Path(source)
        name = str(source)
        if not path.is_file():
            raise InputError(f"{name}: no such file")
        suffix = path.suffix.lower()
        if suffix in (".csv", ".txt", ".tsv"):
            header, body = _read_csv(path, delimiter="\t" if suffix == ".tsv" else None)
        elif suffix in (".xlsx", ".xlsm"):
            header, body = _read_xlsx(path, what)
        else:
            raise InputError(f"{name}: unknown file type {suffix!r} (use .csv or .xlsx)")
        if header is None:
            raise InputError(f"{name}: the file is empty (expected a header row)")
        columns = tuple("" if c is None else _unquote(str(c).strip()) for c in header)
        rows = tuple(
            tuple(_clean(v) for v in r) + (None,) * (len(columns) - len(r))
            for r in body
            if any(_clean(v) is not None for v in r)
        )
        table = Table(name, columns, rows)
    seen: dict[str, int] = {}
    for j, c in enumerate(table.columns):
        if not c:
            raise InputError(f"{table.source}: column {j + 1} has no name in the header row")
        if c.lower() in seen:
            raise InputError(f"{table.source}: column {c!r} appears twice in the header row")
        seen[c.lower()] = j
    for i, r in enumerate(table.rows):
        if len(r) > len(table.columns):
            raise InputError(
                f"{table.where(i)}: {len(r)} cells but the header has {len(table.columns)} columns"
            )
    return table


def _read_csv(path: Path, *, delimiter: str | None) -> tuple[list[str] | None, list[list[str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text (save the CSV as UTF-8): {err.reason}") from None
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    try:
        header = next(reader, None)
        return header, list(reader)
    except csv.Error as err:  # e.g. a cell beyond the csv module's field size limit
        raise InputError(f"{path}, row {reader.line_num}: not readable as CSV ({err})") from None


def _read_xlsx(path: Path, what: str) -> tuple[list[Any] | None, list[list[Any]]]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(
            f"{path}: reading .xlsx files needs openpyxl: pip install 'cohortmatch[tables]'"
        ) from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a broken file
        raise InputError(f"{path}: not a readable .xlsx workbook ({type(err).__name__})") from None
    try:
        names = {n.lower(): n for n in wb.sheetnames}
        ws = wb[names[what.lower()]] if what.lower() in names else wb.worksheets[0]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    if not rows:
        return None, []
    return rows[0], rows[1:]


# --- cell parsing -------------------------------------------------------------------------


def _cell(t: Table, i: int, column: str) -> Any:
    j = t.column_index(column)
    return None if j is None else t.rows[i][j]


def _id(t: Table, i: int, column: str) -> str:
    """A required text cell."""
    v = _text(t, i, column, required=True)
    assert v is not None
    return v


def _text(t: Table, i: int, column: str, *, required: bool = False) -> str | None:
    v = _cell(t, i, column)
    if v is None:
        if required:
            raise InputError(f"{t.where(i, column)}: the cell is empty")
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # an id typed as a number in Excel
    return str(v)


def _number(
    t: Table, i: int, column: str, *, integer: bool = False, minimum: float | None = None,
    positive: bool = False, maximum: float | None = None,
) -> float | int | None:
    v = _cell(t, i, column)
    if v is None:
        return None
    kind = "a whole number" if integer else "a number"
    if isinstance(v, bool):
        raise InputError(f"{t.where(i, column)}: must be {kind}; got {v!r}")
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{t.where(i, column)}: must be {kind}; got {v!r}") from None
    if not math.isfinite(x):
        raise InputError(f"{t.where(i, column)}: must be a finite number; got {v!r}")
    if integer and not x.is_integer():
        raise InputError(f"{t.where(i, column)}: must be a whole number; got {v!r}")
    if minimum is not None and x < minimum:
        raise InputError(f"{t.where(i, column)}: must be >= {minimum:g}; got {v!r}")
    if maximum is not None and x > maximum:
        raise InputError(f"{t.where(i, column)}: must be <= {maximum:g}; got {v!r}")
    if positive and not x > 0:
        raise InputError(f"{t.where(i, column)}: must be > 0; got {v!r}")
    return int(x) if integer else x


def _unique(t: Table, column: str, values: Sequence[str | None]) -> None:
    first: dict[str, int] = {}
    for i, v in enumerate(values):
        if v is None:
            continue
        if v in first:
            raise InputError(
                f"{t.where(i, column)}: {v!r} is given twice (first in row "
                f"{t.first_row + first[v]})"
            )
        first[v] = i


def _validation_message(err: RecordError) -> str:
    return "; ".join(err.problems)


# --- people, teams, gaps ------------------------------------------------------------------


_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+")


def _attribute(value: Any) -> Any:
    """A CSV attribute cell: canonical numbers (``3``, ``-0.5``, not ``007``) become numbers."""
    if isinstance(value, str):
        if _INT.fullmatch(value):
            return int(value)
        if _FLOAT.fullmatch(value):
            return float(value)
    return value


def read_people(source: Source) -> tuple[Person, ...]:
    """People from a table with columns ``id``, ``team`` and optionally ``manager``.

    Every other column is an attribute (empty cells are left out; numbers written
    plainly, like ``3`` or ``-0.5``, are read as numbers, ``007`` stays text); a column named
    ``interest:<course>`` holds each person's fit to that course, a number in [0, 1].

    Parameters
    ----------
    source : path or DataFrame

    Returns
    -------
    tuple of Person

    Raises
    ------
    InputError
        A missing column or cell, a repeated id, an unknown manager, a bad interest;
        the message names the file, row and column.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["p1", "p2"], "team": ["a", "b"], "manager": [None, "p1"],
    ...                    "level": ["lead", "staff"], "interest:presenting": [0.5, None]})
    >>> people = read_people(df)
    >>> people[1].manager, people[1].attributes, people[0].interests
    ('p1', {'level': 'staff'}, {'presenting': 0.5})
    >>> read_people(pd.DataFrame({"id": ["p1", "p1"], "team": ["a", "b"]}))
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: people DataFrame, row 1, column 'id': 'p1' is given twice...
    """
    t = load_table(source, what="people")
    t.require("id", "team")
    ids = [_id(t, i, "id") for i in range(len(t.rows))]
    _unique(t, "id", ids)
    known = set(ids)
    fixed = {c.lower() for c in PEOPLE_COLUMNS}
    attr_cols = [
        (j, c) for j, c in enumerate(t.columns)
        if c.lower() not in fixed and not c.startswith(INTEREST_PREFIX)
    ]
    interest_cols = [
        (j, c, c[len(INTEREST_PREFIX):].strip()) for j, c in enumerate(t.columns)
        if c.startswith(INTEREST_PREFIX)
    ]
    for _, c, course in interest_cols:
        if not course:
            raise InputError(f"{t.source}, column {c!r}: name the course after 'interest:'")
    people = []
    for i, row in enumerate(t.rows):
        team = _id(t, i, "team")
        manager = _text(t, i, "manager")
        if manager is not None and manager not in known:
            raise InputError(f"{t.where(i, 'manager')}: unknown person {manager!r}")
        if manager is not None and manager == ids[i]:
            raise InputError(f"{t.where(i, 'manager')}: a person cannot manage themself")
        attributes = {c: _attribute(row[j]) for j, c in attr_cols if row[j] is not None}
        interests = {}
        for _j, c, course in interest_cols:
            fit = _number(t, i, c, minimum=0.0, maximum=1.0)
            if fit is not None:
                interests[course] = float(fit)
        try:
            people.append(
                Person(id=ids[i], team=team, manager=manager, attributes=attributes,
                       interests=interests)
            )
        except RecordError as err:
            raise InputError(f"{t.where(i)}: {_validation_message(err)}") from None
    return tuple(people)


def read_teams(source: Source) -> tuple[Team, ...]:
    """Teams from a table with columns ``id`` and optionally ``name`` and ``parent``.

    Examples
    --------
    >>> import pandas as pd
    >>> read_teams(pd.DataFrame({"id": ["sales", "emea"], "parent": [None, "sales"]}))[1].parent
    'sales'
    """
    t = load_table(source, what="teams")
    t.require("id")
    t.only(TEAM_COLUMNS)
    ids = [_id(t, i, "id") for i in range(len(t.rows))]
    _unique(t, "id", ids)
    known = set(ids)
    teams = []
    for i in range(len(t.rows)):
        parent = _text(t, i, "parent")
        if parent is not None and parent not in known:
            raise InputError(f"{t.where(i, 'parent')}: unknown team {parent!r}")
        if parent is not None and parent == ids[i]:
            raise InputError(f"{t.where(i, 'parent')}: a team cannot be its own parent")
        teams.append(Team(id=ids[i], name=_text(t, i, "name"), parent=parent))
    return tuple(teams)


def read_gaps(source: Source, *, teams: Iterable[str] | None = None,
              teams_source: str | None = None) -> tuple[Gap, ...]:
    """Gaps from a table with columns ``team_a``, ``team_b`` and optionally ``weight``, ``purpose``.

    ``weight`` defaults to 1 and must be a finite number > 0; ``purpose`` to ``build``.

    Parameters
    ----------
    source : path or DataFrame
    teams : iterable of str, optional
        Known team ids; when given, a gap naming another team is an error.
    teams_source : str, optional
        Where the known teams come from, for the message.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"team_a": ["a"], "team_b": ["b"], "weight": ["lots"]})
    >>> read_gaps(df)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: gaps DataFrame, row 0, column 'weight': must be a number...
    """
    t = load_table(source, what="gaps")
    t.require("team_a", "team_b")
    t.only(GAP_COLUMNS)
    known = set(teams) if teams is not None else None
    first: dict[tuple[str, str], int] = {}
    gaps = []
    for i in range(len(t.rows)):
        ends = []
        for column in ("team_a", "team_b"):
            team = _text(t, i, column, required=True)
            assert team is not None
            if known is not None and team not in known:
                raise InputError(
                    f"{t.where(i, column)}: unknown team {team!r}"
                    + (f" (not in {teams_source})" if teams_source else "")
                )
            ends.append(team)
        a, b = ends
        if a == b:
            raise InputError(f"{t.where(i, 'team_b')}: a team cannot have a gap with itself")
        weight = _number(t, i, "weight", positive=True)
        purpose = _text(t, i, "purpose") or "build"
        if purpose not in PURPOSES:
            raise InputError(
                f"{t.where(i, 'purpose')}: unknown purpose {purpose!r} (use one of "
                f"{', '.join(PURPOSES)})"
            )
        key = (a, b) if a <= b else (b, a)
        if key in first:
            raise InputError(
                f"{t.where(i, 'team_a')}: the gap {a!r}-{b!r} is given twice (first in row "
                f"{t.first_row + first[key]})"
            )
        first[key] = i
        gaps.append(Gap(a=a, b=b, weight=1.0 if weight is None else float(weight),
                        purpose=purpose))  # type: ignore[arg-type]
    return tuple(gaps)


def read_org(people: Source, gaps: Source | None = None, teams: Source | None = None
             ) -> Organisation:
    """An :class:`~cohortmatch.model.Organisation` from people, gaps and (optionally) teams tables.

    Without a teams table, the teams are those the people name. Cross-table references
    are checked here, so the error names the row and column of the table that refers.

    Examples
    --------
    >>> import pandas as pd
    >>> people = pd.DataFrame({"id": ["p1", "p2"], "team": ["a", "b"]})
    >>> gaps = pd.DataFrame({"team_a": ["a"], "team_b": ["c"], "weight": [2]})
    >>> read_org(people, gaps)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: gaps DataFrame, row 0, column 'team_b': unknown team 'c'...
    """
    people_t = read_people(people)
    people_name = _name(people, "people")
    if teams is not None:
        team_rows = read_teams(teams)
        teams_name = _name(teams, "teams")
        known = {t.id for t in team_rows}
        for i, p in enumerate(people_t):
            if p.team not in known:
                where = f"{people_name}, row {_first_row(people) + i}, column 'team'"
                raise InputError(f"{where}: unknown team {p.team!r} (not in {teams_name})")
        source_of_teams = teams_name
    else:
        team_rows = ()
        known = {p.team for p in people_t}
        source_of_teams = f"the teams of {people_name}"
    gap_rows = () if gaps is None else read_gaps(gaps, teams=known, teams_source=source_of_teams)
    try:
        return Organisation(people=people_t, teams=team_rows, gaps=gap_rows)
    except RecordError as err:
        raise InputError(f"{people_name}: {_validation_message(err)}") from None


def _name(source: Source, what: str) -> str:
    return f"{what} DataFrame" if _is_frame(source) else str(source)


def _first_row(source: Source) -> int:
    return 0 if _is_frame(source) else 2


# --- courses --------------------------------------------------------------------------------


def select_participants(expression: str, people: Sequence[Person]) -> tuple[str, ...]:
    """The ids a ``participants`` cell selects.

    A cell is either a ``;``-separated list of person ids, or a filter: conditions
    joined by ``&``, each ``key=value`` or ``key!=value`` (several values separated by
    ``|`` mean "any of"). ``key`` is ``team``, ``id``, ``manager`` or an attribute;
    values are compared as text.

    Examples
    --------
    >>> people = [Person(id="p1", team="a", attributes={"level": "manager", "site": "Leeds"}),
    ...           Person(id="p2", team="b", attributes={"level": "staff", "site": "Leeds"}),
    ...           Person(id="p3", team="b", attributes={"level": "manager", "site": "York"})]
    >>> select_participants("p2; p3", people)
    ('p2', 'p3')
    >>> select_participants("level=manager", people)
    ('p1', 'p3')
    >>> select_participants("level=manager & site!=York", people)
    ('p1',)
    >>> select_participants("team=a|b & level=staff", people)
    ('p2',)
    """
    expression = expression.strip()
    if "=" not in expression:
        ids = tuple(x.strip() for x in expression.split(";") if x.strip())
        known = {p.id for p in people}
        for x in ids:
            if x not in known:
                raise ValueError(f"unknown person {x!r}")
        seen: set[str] = set()
        for x in ids:
            if x in seen:
                raise ValueError(f"person {x!r} is listed twice")
            seen.add(x)
        return ids
    keep = [True] * len(people)
    for cond in expression.split("&"):
        cond = cond.strip()
        negate = "!=" in cond
        key, _, values = cond.partition("!=" if negate else "=")
        key = key.strip()
        wanted = {v.strip() for v in values.split("|") if v.strip()}
        if not key or not wanted:
            raise ValueError(f"cannot read the condition {cond!r} (write key=value)")
        if key not in ("team", "id", "manager") and not any(key in p.attributes for p in people):
            raise ValueError(f"no person has the attribute {key!r}")
        for n, p in enumerate(people):
            if key in ("team", "id", "manager"):
                v = getattr(p, key)
            else:
                v = p.attributes.get(key)
            text = None if v is None else _as_text(v)
            hit = text in wanted
            keep[n] = keep[n] and (hit != negate)
    chosen = tuple(p.id for p, k in zip(people, keep, strict=True) if k)
    if not chosen:
        raise ValueError(f"the filter {expression!r} selects nobody")
    return chosen


def _as_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_courses(source: Source, *, people: Sequence[Person] | None = None) -> tuple[Course, ...]:
    """Courses from a table with columns ``id``, ``min_size``, ``max_size`` and optionally
    ``cohorts``, ``participants``, ``rounds`` and ``pinned``.

    An empty ``cohorts`` takes the fewest cohorts the sizes allow; an empty
    ``participants`` means everyone, else it is a ``;``-separated list of ids or a
    filter such as ``level=manager`` (see :func:`select_participants`, which needs
    ``people``). ``pinned`` places people in given cohorts: ``p9=presenting-2; p4=presenting-1``
    (a person may appear once per round).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["presenting"], "min_size": [8], "max_size": [12]})
    >>> read_courses(df)[0].max_size
    12
    >>> read_courses(pd.DataFrame({"id": ["x"], "min_size": [8], "max_size": [6]}))
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: courses DataFrame, row 0, column 'max_size': must be >=...
    """
    t = load_table(source, what="courses")
    t.require("id", "min_size", "max_size")
    t.only(COURSE_COLUMNS)
    ids = [_id(t, i, "id") for i in range(len(t.rows))]
    _unique(t, "id", ids)
    courses = []
    for i in range(len(t.rows)):
        sizes = {}
        for column in ("min_size", "max_size"):
            v = _number(t, i, column, integer=True, minimum=1)
            if v is None:
                raise InputError(f"{t.where(i, column)}: the cell is empty")
            sizes[column] = int(v)
        if sizes["max_size"] < sizes["min_size"]:
            raise InputError(
                f"{t.where(i, 'max_size')}: must be >= min_size ({sizes['min_size']}); "
                f"got {sizes['max_size']}"
            )
        cohorts = _number(t, i, "cohorts", integer=True, minimum=1)
        rounds = _number(t, i, "rounds", integer=True, minimum=1)
        cell = _text(t, i, "participants")
        participants = None
        if cell is not None:
            if people is None:
                raise InputError(
                    f"{t.where(i, 'participants')}: choosing participants needs the people table"
                )
            try:
                participants = select_participants(cell, people)
            except ValueError as err:
                raise InputError(f"{t.where(i, 'participants')}: {err}") from None
        pinned = _pins(t, i, people)
        try:
            courses.append(
                Course(id=ids[i], min_size=sizes["min_size"], max_size=sizes["max_size"],
                       cohorts=None if cohorts is None else int(cohorts),
                       participants=participants, rounds=1 if rounds is None else int(rounds),
                       pinned=pinned)
            )
        except RecordError as err:
            raise InputError(f"{t.where(i)}: {_validation_message(err)}") from None
    if not courses:
        raise InputError(f"{t.source}: no courses (the table has no rows)")
    return tuple(courses)


def _pins(t: Table, i: int, people: Sequence[Person] | None) -> dict[str, str | tuple[str, ...]]:
    """A ``pinned`` cell, ``person=cohort; person=cohort``, as ``{person: cohort id(s)}``."""
    cell = _text(t, i, "pinned")
    out: dict[str, list[str]] = {}
    known = None if people is None else {p.id for p in people}
    for part in (cell or "").split(";"):
        if not part.strip():
            continue
        person, sep, cohort = (x.strip() for x in part.partition("="))
        if not sep or not person or not cohort:
            raise InputError(f"{t.where(i, 'pinned')}: expected person=cohort entries separated by ';'; "
                             f"got {part.strip()!r}")
        if known is not None and person not in known:
            raise InputError(f"{t.where(i, 'pinned')}: unknown person {person!r}")
        out.setdefault(person, []).append(cohort)
    return {p: c[0] if len(c) == 1 else tuple(c) for p, c in out.items()}


# --- groupings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Grouping:
    """A grouping made by hand: who sits in which cohort (of which course and round).

    Attributes
    ----------
    source : str
    person, cohort : tuple of str
        One entry per row.
    course : tuple of (str or None)
        ``None`` where the file has no ``course`` column (or the cell is empty).
    round : tuple of int
        0 for the first round (and where the file has no ``round`` column).
    first_row : int
        Row number users see for the first entry.
    """

    source: str
    person: tuple[str, ...]
    cohort: tuple[str, ...]
    course: tuple[str | None, ...]
    round: tuple[int, ...]
    first_row: int = 2

    def where(self, i: int, column: str) -> str:
        """``'<source>, row <n>, column '<c>''`` for the ``i``-th entry."""
        return f"{self.source}, row {self.first_row + i}, column {column!r}"


def read_grouping(source: Source) -> Grouping:
    """A hand-made grouping: columns ``person``, ``cohort`` and optionally ``course``, ``round``.

    Other columns (names, notes) are ignored; a plan exported as CSV reads back as a grouping.
    ``round`` counts from 0, like :attr:`cohortmatch.Cohort.round`.

    Examples
    --------
    >>> import pandas as pd
    >>> g = read_grouping(pd.DataFrame({"person": ["p1", "p2"], "cohort": ["A", "B"],
    ...                                 "name": ["x", "y"]}))
    >>> g.cohort, g.course, g.round
    (('A', 'B'), (None, None), (0, 0))
    """
    t = load_table(source, what="grouping")
    t.require("person", "cohort")
    n = len(t.rows)
    person = [_text(t, i, "person", required=True) for i in range(n)]
    cohort = [_text(t, i, "cohort", required=True) for i in range(n)]
    course = [_text(t, i, "course") for i in range(n)]
    rounds = [_number(t, i, "round", integer=True, minimum=0) for i in range(n)]
    seen: dict[tuple[str | None, str | None, int], int] = {}
    for i in range(n):
        key = (person[i], course[i], int(rounds[i] or 0))
        if key in seen:
            raise InputError(
                f"{t.where(i, 'person')}: {person[i]!r} is placed twice in the same course and "
                f"round (first in row {t.first_row + seen[key]})"
            )
        seen[key] = i
    if n == 0:
        raise InputError(f"{t.source}: the grouping has no rows")
    return Grouping(
        source=t.source,
        person=tuple(str(p) for p in person),
        cohort=tuple(str(c) for c in cohort),
        course=tuple(course),
        round=tuple(int(r or 0) for r in rounds),
        first_row=t.first_row,
    )


# --- cells, for the readers of other tables -----------------------------------------------


def text_cell(table: Table, i: int, column: str, *, required: bool = False) -> str | None:
    """The text of a cell of the ``i``-th record (None when empty or the column is absent).

    ``required`` makes an empty cell an :class:`InputError` naming file, row and column.

    Examples
    --------
    >>> t = Table("x.csv", ("id", "n"), (("p1", "3"),))
    >>> text_cell(t, 0, "id"), text_cell(t, 0, "note")
    ('p1', None)
    """
    return _text(table, i, column, required=required)


def number_cell(
    table: Table, i: int, column: str, *, integer: bool = False, minimum: float | None = None,
    positive: bool = False, maximum: float | None = None,
) -> float | int | None:
    """A number cell of the ``i``-th record, checked (None when empty or the column is absent).

    Raises
    ------
    InputError
        Not a (whole) number, not finite or out of range; the message names file, row and column.

    Examples
    --------
    >>> t = Table("x.csv", ("id", "n"), (("p1", "-3"),))
    >>> number_cell(t, 0, "n", minimum=0)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: x.csv, row 2, column 'n': must be >= 0; got '-3'
    """
    return _number(table, i, column, integer=integer, minimum=minimum, positive=positive,
                   maximum=maximum)
