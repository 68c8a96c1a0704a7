"""Read people, teams, gaps, courses and groupings from CSV, Excel or pandas DataFrames.

Every error names the file (and the sheet of a workbook), the row and the column, e.g.
``people.csv, row 5, column 'team': unknown team 'sales-9' (not in teams.csv)``.
Rows are counted as a spreadsheet shows them: the header is row 1 (or the row it was found
on), the first record the row below. DataFrame rows are counted from 0, like their positions.

Real exports are read as they come: CSV in UTF-8 (with or without BOM) or UTF-16, separated
by ``,``, ``;`` or tabs, with decimal commas (``2,5``) in ``;``-separated files; title rows
above the header (the header is the first row that holds the table's required columns, or
the row a :class:`TableFile` names); case and spaces in column names and in enumerated
values (``Repair `` is ``repair``). A column a table does not know is reported as an
:class:`~cohortmatch.errors.InputWarning` and ignored (in the people table every other
column is an attribute). See ``docs/formats.md``.

CSV needs nothing beyond the standard library; ``.xlsx`` needs openpyxl, and DataFrames
come from pandas (both in the ``tables`` extra: ``pip install 'cohortmatch[tables]'``).
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import limits
from ..errors import CohortmatchError, InputError, InputWarning, RecordError
from ..model import MAX_COUNT, MAX_TOTAL_WEIGHT, PURPOSES, Course, Gap, Organisation, Person, Team, check_slot_labels

__all__ = [
    "Source",
    "Table",
    "TableFile",
    "HEADER_SEARCH_ROWS",
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
    "slot_list_cell",
    "number_cell",
]


@dataclass(frozen=True)
class TableFile:
    """A table file and where the table sits in it: the sheet of a workbook, the header row.

    Pass it wherever a path is accepted when the defaults do not find the table
    (the command line's ``--sheet`` and ``--header-row``).

    Parameters
    ----------
    path : path
        A ``.csv``, ``.tsv``, ``.txt`` or ``.xlsx`` file.
    sheet : str, optional
        The sheet of a workbook (matched without regard to case); by default the sheet
        named like the table (``people``), else the first one.
    header_row : int, optional
        The row (counting from 1, as a spreadsheet does) that holds the column names; by
        default the first of the top :data:`HEADER_SEARCH_ROWS` rows that holds the
        table's required columns, else the first non-empty row.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "people.csv"
    >>> _ = path.write_text("Staff list;\\n;\\nid;team\\np1;sales\\n")
    >>> t = load_table(TableFile(path, header_row=3))
    >>> t.columns, t.where(0)
    (('id', 'team'), '...people.csv, row 4')
    """

    path: str | os.PathLike[str]
    sheet: str | None = None
    header_row: int | None = None

    def __post_init__(self) -> None:
        row = self.header_row
        if row is not None and (isinstance(row, bool) or not isinstance(row, int) or row < 1):
            raise InputError(f"The 'header_row' must be an int >= 1 or None. Got {row!r}.")


#: Anything a table can be read from: a path to ``.csv``/``.xlsx``, a :class:`TableFile`,
#: or a pandas DataFrame.
Source = str | os.PathLike | TableFile | Any

#: How many rows from the top are searched for the header row.
HEADER_SEARCH_ROWS = 20

INTEREST_PREFIX = "interest:"
PEOPLE_COLUMNS = ("id", "team", "manager", "available")
TEAM_COLUMNS = ("id", "name", "parent")
GAP_COLUMNS = ("team_a", "team_b", "weight", "purpose")
COURSE_COLUMNS = ("id", "min_size", "max_size", "cohorts", "participants", "rounds", "pinned", "slots",
                  "max_cohorts_per_slot", "seats", "required")
#: ``team`` is what a plan exported as CSV adds; it is not read back.
GROUPING_COLUMNS = ("person", "cohort", "course", "round", "team")


@dataclass(frozen=True)
class Table:
    """A table as read from a file or DataFrame: column names and rows of plain values.

    ``rows[i][j]`` is a ``str``, ``int``, ``float``, ``bool`` or ``None`` (an empty cell).
    ``first_row`` is the number users see for ``rows[0]`` (2 in a file with a header on
    row 1); ``numbers``, when given, holds the number of every row (blank rows are skipped,
    so numbers may jump). ``header_row`` is the row the column names came from (0 for a
    DataFrame); ``decimal_comma`` says that numbers may be written ``2,5``.
    """

    source: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    first_row: int = 2
    numbers: tuple[int, ...] = ()
    header_row: int = 1
    decimal_comma: bool = False

    def row(self, i: int) -> int:
        """The number users see for the ``i``-th record."""
        return self.numbers[i] if self.numbers else self.first_row + i

    def where(self, i: int, column: str | None = None) -> str:
        """``'<source>, row <n>, column '<c>''`` for the ``i``-th record."""
        text = f"{self.source}, row {self.row(i)}"
        return text + (f", column {column!r}" if column is not None else "")

    def column_index(self, name: str) -> int | None:
        """Position of a column, matched case-insensitively (None if absent)."""
        low = name.lower()
        for j, c in enumerate(self.columns):
            if c.lower() == low:
                return j
        return None

    def require(self, *names: str) -> None:
        """Raise :class:`InputError` naming the first missing column (and the header row)."""
        _require(self.source, self.columns, names, self.header_row)

    def extra_columns(self, known: Sequence[str], *, what: str, kept: bool = False) -> list[str]:
        """The columns not in ``known``; a likely misspelling of an absent one is an error.

        The others are returned; unless ``kept`` (the people table keeps them as
        attributes), each is reported as an :class:`~cohortmatch.errors.InputWarning`:
        it is ignored.
        """
        low = {k.lower() for k in known}
        absent = [k for k in known if self.column_index(k) is None]
        extra = [c for c in self.columns if c.lower() not in low]
        for c in extra:
            near = difflib.get_close_matches(c.lower(), absent, n=1, cutoff=0.8)
            if near:
                raise InputError(f"{self.source}, column {c!r}: unknown column; did you mean "
                                 f"{near[0]!r}? (the {what} table has {', '.join(known)})")
            if not kept:
                warnings.warn(f"{self.source}, column {c!r}: not a column of the {what} table "
                              f"({', '.join(known)}); ignored", InputWarning, stacklevel=3)
        return extra


def _require(source: str, columns: Sequence[str], names: Sequence[str], header_row: int,
             hint: str = "") -> None:
    """Raise :class:`InputError` naming the first of ``names`` not in ``columns``."""
    have = {c.lower() for c in columns}
    for n in names:
        if n.lower() not in have:
            listed = ", ".join(repr(c) for c in columns) or "none"
            header = (
                "" if header_row == 0 else
                f"; the header is row {header_row}: if it is another row, name it with "
                "--header-row N (TableFile(path, header_row=N) in Python)"
            )
            raise InputError(
                f"{source}: missing column {n!r} (the columns are: {listed}{header}){hint}")


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


def load_table(source: Source, *, what: str = "table", required: Sequence[str] = ()) -> Table:
    """Read a ``.csv`` or ``.xlsx`` file, a :class:`TableFile` or a pandas DataFrame.

    An ``.xlsx`` workbook is read from the sheet named ``what`` (e.g. ``people``) when it
    has one, else from its first sheet; every message names the sheet. The header is the
    first row (of the top :data:`HEADER_SEARCH_ROWS`) that holds every ``required``
    column, else the first non-empty row. Blank rows are skipped; a column without a
    name is dropped when all its cells are empty.

    Parameters
    ----------
    source : path, TableFile or DataFrame
    what : str
        What the table holds, used to pick a sheet and in messages about DataFrames.
    required : sequence of str
        Columns the header row must hold (used to find it below title rows).

    Returns
    -------
    Table

    Raises
    ------
    InputError
        The file is missing, empty, of an unknown kind, not UTF-8 or UTF-16 text (the
        message gives the line), has a quote that is never closed, a named sheet it does
        not have, or a blank or repeated column name.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "people.csv"
    >>> _ = path.write_text("id,team\\np1,sales\\n")
    >>> t = load_table(path)
    >>> t.columns, t.rows, t.where(0, "team").endswith("row 2, column 'team'")
    (('id', 'team'), (('p1', 'sales'),), True)
    >>> _ = path.write_text("Staff on 1 May\\n\\nid,team\\np1,sales\\n")
    >>> load_table(path, required=("id", "team")).where(0)
    '...people.csv, row 4'
    """
    if _is_frame(source):
        frame: Any = source
        limits.check_shape(f"{what} DataFrame", len(frame), len(frame.columns))
        columns = tuple(str(c).strip() for c in frame.columns)
        count = limits.TableCounter(f"{what} DataFrame")
        rows = tuple(
            tuple(_clean(v) for v in count.passing(row))
            for row in frame.itertuples(index=False, name=None)
        )
        table = Table(f"{what} DataFrame", columns, rows, first_row=0, header_row=0)
        _check_header(table, table.columns)
        return table
    if not isinstance(source, str | os.PathLike | TableFile):
        raise InputError(
            f"a {what} table must be a path to a .csv or .xlsx file, a TableFile or a pandas "
            f"DataFrame; got {type(source).__name__}"
        )
    spec = source if isinstance(source, TableFile) else TableFile(source)
    path = Path(spec.path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        if spec.sheet is not None:
            raise InputError(f"{path}: a CSV file has no sheets (drop the sheet {spec.sheet!r})")
        name, hint = str(path), ""
        raw, delimiter = _read_csv(path, delimiter="\t" if suffix == ".tsv" else None)
        decimal_comma = delimiter == ";"
    elif suffix in (".xlsx", ".xlsm"):
        sheet, raw, others = _read_xlsx(path, what, spec.sheet)
        name, decimal_comma = f"{path}, sheet {sheet!r}", False
        hint = "" if not others else (
            f" (the workbook also has {', '.join(repr(o) for o in others)}: choose a sheet with "
            "--sheet NAME, TableFile(path, sheet=NAME) in Python)")
    elif suffix == ".xls":
        raise InputError(f"{path}: the old Excel format .xls is not read; save it as .xlsx "
                         "or as CSV UTF-8")
    else:
        raise InputError(f"{path}: unknown file type {suffix!r} (use .csv or .xlsx)")
    return _table(name, raw, header_row=spec.header_row, required=required,
                  decimal_comma=decimal_comma, hint=hint)


def _table(name: str, raw: list[list[Any]], *, header_row: int | None, required: Sequence[str],
           decimal_comma: bool, hint: str = "") -> Table:
    """A :class:`Table` from the raw rows of a file (row ``i`` is spreadsheet row ``i + 1``).

    ``hint`` ends the messages about a missing header (e.g. the other sheets of a workbook).
    """
    cells = [[_clean(v) for v in r] for r in raw]
    if header_row is not None:
        if header_row > len(cells) or not any(v is not None for v in cells[header_row - 1]):
            raise InputError(f"{name}: the header row {header_row} is empty or beyond the end "
                             f"of the file ({len(cells)} rows)")
        h = header_row - 1
    else:
        found = _find_header(cells, required)
        if found is None:
            raise InputError(f"{name}: the file is empty (expected a header row){hint}")
        h = found
    header = [None if v is None else str(v) for v in cells[h]]
    _require(name, [c for c in header if c is not None], required, h + 1, hint)
    body = [(i + 1, r) for i, r in enumerate(cells[h + 1:], start=h + 1)
            if any(v is not None for v in r)]
    keep = [j for j, c in enumerate(header) if c is not None]
    named = set(keep)
    for number, r in body:  # a value under no name is an error; empty unnamed columns go
        stray = next((j for j, v in enumerate(r) if v is not None and j not in named), None)
        if stray is not None:
            raise InputError(
                f"{name}, row {number}: a value in column {stray + 1}, which has no name in the "
                f"header row (row {h + 1})"
            )
    table = Table(
        name,
        tuple(str(header[j]) for j in keep),
        tuple(tuple(r[j] if j < len(r) else None for j in keep) for _, r in body),
        first_row=h + 2,
        numbers=tuple(n for n, _ in body),
        header_row=h + 1,
        decimal_comma=decimal_comma,
    )
    _check_header(table, table.columns)
    return table


def _find_header(cells: list[list[Any]], required: Sequence[str]) -> int | None:
    """The header row: the first of the top rows holding every ``required`` column name."""
    filled = [i for i, r in enumerate(cells) if any(v is not None for v in r)]
    if not filled:
        return None
    want = {c.lower() for c in required}
    for i in filled[:HEADER_SEARCH_ROWS]:
        names = {str(v).strip().lower() for v in cells[i] if v is not None}
        if want <= names:
            return i
    return filled[0]


def _check_header(table: Table, columns: Sequence[str]) -> None:
    seen: set[str] = set()
    for j, c in enumerate(columns):
        if not c:
            raise InputError(f"{table.source}: column {j + 1} has no name in the header row")
        if c.lower() in seen:
            raise InputError(
                f"{table.source}: column {c!r} appears twice in the header row"
                + (f" (row {table.header_row})" if table.header_row else "")
            )
        seen.add(c.lower())


def _read_csv(path: Path, *, delimiter: str | None) -> tuple[list[list[str]], str]:
    """Every row of a CSV file (blank rows as ``[]``) and the delimiter used."""
    limits.check_file(path)
    text = _decode(path, path.read_bytes())
    if delimiter is None:
        delimiter = _sniff(text)
    limits.check_csv_text(str(path), text, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    count = limits.TableCounter(str(path))
    try:
        for r in reader:
            count(r)
            rows.append(r)
    except csv.Error as err:
        row = len(rows) + 1
        if "end of data" in str(err):
            raise InputError(
                f"{path}, row {row}: a quote (\") opened in this row is never closed, so the "
                "rest of the file would be one cell; close it or remove it"
            ) from None
        if "expected after" in str(err):
            raise InputError(
                f"{path}, row {row}: a quoted cell goes on after its closing quote ({err}); "
                "write a quote inside a quoted cell as \"\""
            ) from None
        raise InputError(f"{path}, row {row}: not readable as CSV ({err})") from None
    return rows, delimiter


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (a BOM is fine) or UTF-16 with a BOM; else an error naming the line."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"{path}: not readable as UTF-16 text (it starts with a UTF-16 "
                             "byte order mark)") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{data[err.start]:02x}, perhaps "
            "Latin-1 or Windows-1252); save the file as UTF-8 (Excel: 'CSV UTF-8')"
        ) from None


def _sniff(text: str) -> str:
    """The delimiter: the most frequent of ``,``, ``;`` and tab over the top lines."""
    top = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    counts = {d: top.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _read_xlsx(path: Path, what: str, sheet: str | None) -> tuple[str, list[list[Any]], list[str]]:
    """The name of the sheet read, its rows (row ``i`` is spreadsheet row ``i + 1``) and, when
    the sheet was a guess (the first one), the names of the others."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(
            f"{path}: reading .xlsx files needs openpyxl: pip install 'cohortmatch[tables]'"
        ) from None
    limits.check_workbook(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a broken file
        raise InputError(f"{path}: not a readable .xlsx workbook ({type(err).__name__})") from None
    try:
        names = {n.lower(): n for n in wb.sheetnames}
        wanted = sheet if sheet is not None else what
        others: list[str] = []
        if wanted.lower() in names:
            ws = wb[names[wanted.lower()]]
        elif sheet is not None or not wb.worksheets:
            listed = ", ".join(repr(n) for n in wb.sheetnames) or "none"
            raise InputError(f"{path}: no sheet {wanted!r} (the sheets are: {listed})")
        else:
            ws = wb.worksheets[0]
            others = [n for n in wb.sheetnames if n != ws.title]
        ws.reset_dimensions()  # some writers record a wrong size; read every row there is
        count = limits.TableCounter(f"{path}, sheet {ws.title!r}")
        rows = []
        for r in ws.iter_rows(min_row=1, values_only=True):
            count(r)
            rows.append(list(r))
        return ws.title, rows, others
    except CohortmatchError:  # InputError, SizeLimitError
        raise
    except Exception as err:  # a sheet that is not a worksheet, broken cell data, ...
        raise InputError(f"{path}: not a readable .xlsx workbook ({type(err).__name__})") from None
    finally:
        wb.close()


# --- cell parsing -------------------------------------------------------------------------

#: A number written with a decimal comma: ``2,5``, ``-0,25`` (no thousands separators).
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+")


def _cell(t: Table, i: int, column: str) -> Any:
    j = t.column_index(column)
    return None if j is None else t.rows[i][j]


def _id(t: Table, i: int, column: str) -> str:
    """A required text cell."""
    v = _text(t, i, column)
    if v is None:
        raise InputError(f"{t.where(i, column)}: the cell is empty")
    return v


def _text(t: Table, i: int, column: str) -> str | None:
    v = _cell(t, i, column)
    if v is None:
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
    if isinstance(v, str) and t.decimal_comma and _DECIMAL_COMMA.fullmatch(v):
        v = v.replace(",", ".")
    try:
        x = float(v)
    except (TypeError, ValueError):
        hint = ("" if t.decimal_comma or not (isinstance(v, str) and "," in v)
                else " (a decimal comma is read in ;-separated files only)")
        raise InputError(f"{t.where(i, column)}: must be {kind}; got {v!r}{hint}") from None
    if not math.isfinite(x):
        raise InputError(f"{t.where(i, column)}: must be a finite number; got {v!r}")
    if integer and not x.is_integer():
        raise InputError(f"{t.where(i, column)}: must be a whole number; got {v!r}")
    if minimum is not None and x < minimum:
        raise InputError(f"{t.where(i, column)}: must be >= {_plain(minimum)}; got {v!r}")
    if maximum is not None and x > maximum:
        raise InputError(f"{t.where(i, column)}: must be <= {_plain(maximum)}; got {v!r}")
    if positive and not x > 0:
        raise InputError(f"{t.where(i, column)}: must be > 0; got {v!r}")
    return int(x) if integer else x


def _plain(x: float) -> str:
    """A limit as users write it: ``1``, ``0.5``, ``2147483647``, ``1e+100``."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


def _count(t: Table, i: int, column: str, *, minimum: int = 1) -> int | None:
    """A whole-number cell in ``[minimum, MAX_COUNT]`` (sizes, cohorts, rounds), or None."""
    v = _number(t, i, column, integer=True, minimum=minimum, maximum=MAX_COUNT)
    return None if v is None else int(v)


def _unique(t: Table, column: str, values: Sequence[str | None]) -> None:
    first: dict[str, int] = {}
    for i, v in enumerate(values):
        if v is None:
            continue
        if v in first:
            raise InputError(
                f"{t.where(i, column)}: {v!r} is given twice (first in row {t.row(first[v])})"
            )
        first[v] = i


def _validation_message(err: RecordError) -> str:
    return "; ".join(err.problems)


# --- people, teams, gaps ------------------------------------------------------------------


_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+")


def _attribute(value: Any, *, decimal_comma: bool = False) -> Any:
    """A CSV attribute cell: canonical numbers (``3``, ``-0.5``, not ``007``) become numbers.

    With ``decimal_comma`` (a ``;``-separated file), ``-0,5`` is a number too.
    """
    if isinstance(value, str):
        if _INT.fullmatch(value):
            return int(value)
        dotted = value.replace(",", ".") if decimal_comma else value
        if _FLOAT.fullmatch(dotted):
            return float(dotted)
    return value


def read_people(source: Source) -> tuple[Person, ...]:
    """People from a table with columns ``id``, ``team`` and optionally ``manager`` and
    ``available`` (the time slots the person can attend, separated by ``;``, e.g.
    ``2027-01-12 09:00; 2027-01-14 14:00``; empty: every slot).

    Every other column is an attribute (empty cells are left out; numbers written
    plainly, like ``3`` or ``-0.5``, are read as numbers, ``007`` stays text); a column named
    ``interest:<course>`` holds each person's fit to that course, a number in [0, 1].

    Parameters
    ----------
    source : path, TableFile or DataFrame

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
    return _people(load_table(source, what="people", required=("id", "team")))


def _people(t: Table) -> tuple[Person, ...]:
    t.require("id", "team")
    ids = [_id(t, i, "id") for i in range(len(t.rows))]
    _unique(t, "id", ids)
    known = set(ids)
    extra = t.extra_columns(PEOPLE_COLUMNS, what="people", kept=True)
    attr_cols = [(j, c) for j, c in enumerate(t.columns)
                 if c in extra and not c.lower().startswith(INTEREST_PREFIX)]
    interest_cols = [
        (j, c, c[len(INTEREST_PREFIX):].strip()) for j, c in enumerate(t.columns)
        if c.lower().startswith(INTEREST_PREFIX)
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
        attributes = {c: _attribute(row[j], decimal_comma=t.decimal_comma)
                      for j, c in attr_cols if row[j] is not None}
        interests = {}
        for _j, c, course in interest_cols:
            fit = _number(t, i, c, minimum=0.0, maximum=1.0)
            if fit is not None:
                interests[course] = float(fit)
        try:
            people.append(
                Person(id=ids[i], team=team, manager=manager, attributes=attributes,
                       interests=interests, available=slot_list_cell(t, i, "available"))
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
    return _teams(load_table(source, what="teams", required=("id",)))


def _teams(t: Table) -> tuple[Team, ...]:
    t.require("id")
    t.extra_columns(TEAM_COLUMNS, what="teams")
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

    ``weight`` defaults to 1 and must be a finite number > 0 (the weights may add up to
    at most :data:`~cohortmatch.model.MAX_TOTAL_WEIGHT`); ``purpose`` defaults to
    ``build`` and is read without regard to case.

    Parameters
    ----------
    source : path, TableFile or DataFrame
    teams : iterable of str, optional
        Known team ids; when given, a gap naming another team is an error.
    teams_source : str, optional
        Where the known teams come from, for the message.

    Examples
    --------
    >>> import pandas as pd
    >>> read_gaps(pd.DataFrame({"team_a": ["a"], "team_b": ["b"], "purpose": ["Repair "]}))
    (Gap(a='a', b='b', weight=1.0, purpose='repair'),)
    >>> df = pd.DataFrame({"team_a": ["a"], "team_b": ["b"], "weight": ["lots"]})
    >>> read_gaps(df)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: gaps DataFrame, row 0, column 'weight': must be a number...
    """
    t = load_table(source, what="gaps", required=("team_a", "team_b"))
    return _gaps(t, None if teams is None else set(teams), teams_source)


def _gaps(t: Table, known: set[str] | None, teams_source: str | None) -> tuple[Gap, ...]:
    t.require("team_a", "team_b")
    t.extra_columns(GAP_COLUMNS, what="gaps")
    first: dict[tuple[str, str], int] = {}
    gaps = []
    total = 0.0
    for i in range(len(t.rows)):
        ends = []
        for column in ("team_a", "team_b"):
            team = _id(t, i, column)
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
        weight = 1.0 if weight is None else float(weight)
        total += weight
        if not total <= MAX_TOTAL_WEIGHT:
            raise InputError(
                f"{t.where(i, 'weight')}: the weights up to this row add up to {total:g}, more "
                f"than {MAX_TOTAL_WEIGHT:g}; scale them down (only their ratios matter)"
            )
        purpose = (_text(t, i, "purpose") or "build").lower()
        if purpose not in PURPOSES:
            raise InputError(
                f"{t.where(i, 'purpose')}: unknown purpose {purpose!r} (use one of "
                f"{', '.join(PURPOSES)})"
            )
        key = (a, b) if a <= b else (b, a)
        if key in first:
            raise InputError(
                f"{t.where(i, 'team_a')}: the gap {a!r}-{b!r} is given twice (first in row "
                f"{t.row(first[key])})"
            )
        first[key] = i
        gaps.append(Gap(a=a, b=b, weight=weight, purpose=purpose))  # type: ignore[arg-type]
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
    people_t = load_table(people, what="people", required=("id", "team"))
    persons = _people(people_t)
    if teams is not None:
        teams_t = load_table(teams, what="teams", required=("id",))
        team_rows = _teams(teams_t)
        known = {t.id for t in team_rows}
        for i, p in enumerate(persons):
            if p.team not in known:
                raise InputError(f"{people_t.where(i, 'team')}: unknown team {p.team!r} "
                                 f"(not in {teams_t.source})")
        source_of_teams = teams_t.source
    else:
        team_rows = ()
        known = {p.team for p in persons}
        source_of_teams = f"the teams of {people_t.source}"
    gap_rows: tuple[Gap, ...] = ()
    if gaps is not None:
        gaps_t = load_table(gaps, what="gaps", required=("team_a", "team_b"))
        gap_rows = _gaps(gaps_t, known, source_of_teams)
    try:
        return Organisation(people=persons, teams=team_rows, gaps=gap_rows)
    except RecordError as err:
        raise InputError(f"{people_t.source}: {_validation_message(err)}") from None


# --- courses --------------------------------------------------------------------------------


def select_participants(expression: str, people: Sequence[Person]) -> tuple[str, ...]:
    """The ids a ``participants`` cell selects.

    A cell is either a ``;``-separated list of person ids, or a filter: conditions
    joined by ``&``, each ``key=value`` or ``key!=value`` (several values separated by
    ``|`` mean "any of"). ``key`` is ``team``, ``id``, ``manager`` or an attribute;
    values are compared as text. A bad cell raises :class:`~cohortmatch.InputError`.

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
                raise InputError(f"unknown person {x!r}")
        seen: set[str] = set()
        for x in ids:
            if x in seen:
                raise InputError(f"person {x!r} is listed twice")
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
            raise InputError(f"cannot read the condition {cond!r} (write key=value)")
        if key not in ("team", "id", "manager") and not any(key in p.attributes for p in people):
            raise InputError(f"no person has the attribute {key!r}")
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
        raise InputError(f"the filter {expression!r} selects nobody")
    return chosen


def _as_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_courses(source: Source, *, people: Sequence[Person] | None = None) -> tuple[Course, ...]:
    """Courses from a table with columns ``id``, ``min_size``, ``max_size`` and optionally
    ``cohorts``, ``participants``, ``rounds``, ``pinned``, ``slots``, ``max_cohorts_per_slot``,
    ``seats`` and ``required``.

    An empty ``cohorts`` takes the fewest cohorts the sizes allow; an empty
    ``participants`` means everyone, else it is a ``;``-separated list of ids or a
    filter such as ``level=manager`` (see :func:`select_participants`, which needs
    ``people``). ``pinned`` places people in given cohorts: ``p9=presenting-2; p4=presenting-1``
    (a person may appear once per round). ``slots`` lists the times a cohort can meet,
    separated by ``;`` (``2027-01-12 09:00; 2027-01-19 09:00``), and ``max_cohorts_per_slot``
    how many of its cohorts may share one (see :doc:`slots`). ``seats`` caps how many of the
    participants (the candidates) are placed, and ``required`` names those who must get a
    seat, like ``participants`` (a ``;``-separated list of ids or a filter such as
    ``level=new manager``; see :doc:`seats`).

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
    t = load_table(source, what="courses", required=("id", "min_size", "max_size"))
    t.require("id", "min_size", "max_size")
    t.extra_columns(COURSE_COLUMNS, what="courses")
    ids = [_id(t, i, "id") for i in range(len(t.rows))]
    _unique(t, "id", ids)
    courses = []
    for i in range(len(t.rows)):
        sizes = {}
        for column in ("min_size", "max_size"):
            v = _count(t, i, column)
            if v is None:
                raise InputError(f"{t.where(i, column)}: the cell is empty")
            sizes[column] = v
        if sizes["max_size"] < sizes["min_size"]:
            raise InputError(
                f"{t.where(i, 'max_size')}: must be >= min_size ({sizes['min_size']}); "
                f"got {sizes['max_size']}"
            )
        cohorts = _count(t, i, "cohorts")
        rounds = _count(t, i, "rounds")
        participants = _people_cell(t, i, "participants", people)
        required = _people_cell(t, i, "required", people) or ()
        pinned = _pins(t, i, people)
        slots = slot_list_cell(t, i, "slots") or ()
        per_slot = _count(t, i, "max_cohorts_per_slot")
        if per_slot is not None and not slots:
            raise InputError(f"{t.where(i, 'max_cohorts_per_slot')}: needs the course's 'slots'")
        try:
            courses.append(
                Course(id=ids[i], min_size=sizes["min_size"], max_size=sizes["max_size"],
                       cohorts=cohorts, participants=participants,
                       rounds=1 if rounds is None else rounds, pinned=pinned, slots=slots,
                       max_cohorts_per_slot=per_slot, seats=_count(t, i, "seats"), required=required)
            )
        except RecordError as err:
            raise InputError(f"{t.where(i)}: {_validation_message(err)}") from None
    if not courses:
        raise InputError(f"{t.source}: no courses (the table has no rows)")
    return tuple(courses)


def _people_cell(t: Table, i: int, column: str, people: Sequence[Person] | None) -> tuple[str, ...] | None:
    """A cell naming people (ids separated by ``;`` or a filter), None when empty."""
    cell = _text(t, i, column)
    if cell is None:
        return None
    if people is None:
        raise InputError(f"{t.where(i, column)}: choosing people needs the people table")
    try:
        return tuple(select_participants(cell, people))
    except InputError as err:
        raise InputError(f"{t.where(i, column)}: {err}") from None


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
    numbers : tuple of int
        Row number of every entry, when rows are not consecutive (blank rows skipped).
    """

    source: str
    person: tuple[str, ...]
    cohort: tuple[str, ...]
    course: tuple[str | None, ...]
    round: tuple[int, ...]
    first_row: int = 2
    numbers: tuple[int, ...] = ()

    def where(self, i: int, column: str) -> str:
        """``'<source>, row <n>, column '<c>''`` for the ``i``-th entry."""
        row = self.numbers[i] if self.numbers else self.first_row + i
        return f"{self.source}, row {row}, column {column!r}"


def read_grouping(source: Source) -> Grouping:
    """A hand-made grouping: columns ``person``, ``cohort`` and optionally ``course``, ``round``.

    A plan exported as CSV reads back as a grouping (its ``team`` column is not read);
    other columns are reported as an :class:`~cohortmatch.errors.InputWarning` and ignored.
    ``round`` counts from 0, like :attr:`cohortmatch.Cohort.round`.

    Examples
    --------
    >>> import pandas as pd
    >>> g = read_grouping(pd.DataFrame({"person": ["p1", "p2"], "cohort": ["A", "B"]}))
    >>> g.cohort, g.course, g.round
    (('A', 'B'), (None, None), (0, 0))
    """
    t = load_table(source, what="grouping", required=("person", "cohort"))
    t.require("person", "cohort")
    t.extra_columns(GROUPING_COLUMNS, what="grouping")
    n = len(t.rows)
    person = [_id(t, i, "person") for i in range(n)]
    cohort = [_id(t, i, "cohort") for i in range(n)]
    course = [_text(t, i, "course") for i in range(n)]
    rounds = [_count(t, i, "round", minimum=0) or 0 for i in range(n)]
    seen: dict[tuple[str, str | None, int], int] = {}
    for i in range(n):
        key = (person[i], course[i], rounds[i])
        if key in seen:
            raise InputError(
                f"{t.where(i, 'person')}: {person[i]!r} is placed twice in the same course and "
                f"round (first in row {t.row(seen[key])})"
            )
        seen[key] = i
    if n == 0:
        raise InputError(f"{t.source}: the grouping has no rows")
    return Grouping(
        source=t.source,
        person=tuple(person),
        cohort=tuple(cohort),
        course=tuple(course),
        round=tuple(rounds),
        first_row=t.first_row,
        numbers=t.numbers,
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
    return _id(table, i, column) if required else _text(table, i, column)


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


def slot_list_cell(table: Table, i: int, column: str) -> tuple[str, ...] | None:
    """A cell listing time slots separated by ``;`` (None when empty or the column is absent).

    Raises
    ------
    InputError
        An empty entry (``a;;b``), a slot listed twice; the message names file, row and column.

    Examples
    --------
    >>> t = Table("people.csv", ("id", "available"), (("p1", "2027-01-12 09:00; 2027-01-14 14:00"),
    ...                                               ("p2", "mon;;tue")))
    >>> slot_list_cell(t, 0, "available")
    ('2027-01-12 09:00', '2027-01-14 14:00')
    >>> slot_list_cell(t, 1, "available")
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: people.csv, row 3, column 'available': entry 2 is empty;...
    """
    cell = _text(table, i, column)
    if cell is None:
        return None
    parts = [x.strip() for x in cell.split(";")]
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()  # a trailing separator
    for n, x in enumerate(parts, 1):
        if not x:
            raise InputError(f"{table.where(i, column)}: entry {n} is empty; expected slots separated by ';' "
                             f"(got {cell!r})")
    try:
        return check_slot_labels(parts)
    except ValueError as err:
        raise InputError(f"{table.where(i, column)}: {err}") from None
