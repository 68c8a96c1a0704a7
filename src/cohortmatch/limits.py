"""Size limits of the readers: refuse a hostile or runaway file before reading it into memory.

Every reader (CSV and Excel tables, the JSON request and plan documents, MDGPLIB files)
checks the file against the process-wide :class:`Limits` before it parses it: the size on
disk, the declared unpacked sizes of an ``.xlsx`` workbook (a zip archive) and the
compression ratio of its parts, the size of its shared-strings table, an upper bound on the
cells of a CSV file, and the nesting depth of a JSON document. Rows, columns and cells are
counted again while a table is read, and reading stops at the first one over the limit.
A file over a limit raises :class:`~cohortmatch.errors.SizeLimitError` naming the file, the
limit and how to change it.

The limits live here and only here. Change them for the whole process with
:func:`configure` (e.g. at service start-up), or for a block of code with :func:`override`:

>>> from cohortmatch import limits
>>> limits.current().max_rows
2000000
>>> with limits.override(max_rows=10):
...     limits.current().max_rows
10
>>> limits.current().max_rows
2000000
"""

from __future__ import annotations

import os
import struct
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from .errors import InputError, SizeLimitError, StoppedError

__all__ = [
    "Limits", "DEFAULT", "current", "configure", "override", "refuse",
    "check_file", "check_workbook", "check_csv_text", "check_json_text", "check_shape",
    "TableCounter", "stoppable", "STOP_EVERY",
]

_MIB = 2**20


@dataclass(frozen=True)
class Limits:
    """What a reader accepts (the defaults suit 1,000,000-person organisations).

    Attributes
    ----------
    max_file_bytes : int
        A file as stored: CSV, JSON, MDGPLIB, or an ``.xlsx`` archive (256 MiB).
    max_unpacked_bytes : int
        All parts of an ``.xlsx`` archive, unpacked, as the archive declares them
        (256 MiB; about 5 million cells of sheet XML).
    max_ratio : float
        Unpacked over packed size of one ``.xlsx`` part (200); parts that unpack to less
        than ``ratio_floor`` bytes are not held to it.
    ratio_floor : int
        See ``max_ratio`` (4 MiB).
    max_shared_strings_bytes : int
        The shared-strings table of a workbook, unpacked (64 MiB): openpyxl reads it
        whole into memory.
    max_zip_entries : int
        Parts of an ``.xlsx`` archive (10,000).
    max_rows : int
        Rows of a table (2,000,000).
    max_columns : int
        Columns of a table row (16,384, Excel's own limit).
    max_cells : int
        Cells of a table (5,000,000; a read table holds about 150 bytes per cell at its peak).
    max_json_depth : int
        Nesting of arrays and objects in a JSON document (64; a request needs 5).
    """

    max_file_bytes: int = 256 * _MIB
    max_unpacked_bytes: int = 256 * _MIB
    max_ratio: float = 200.0
    ratio_floor: int = 4 * _MIB
    max_shared_strings_bytes: int = 64 * _MIB
    max_zip_entries: int = 10_000
    max_rows: int = 2_000_000
    max_columns: int = 16_384
    max_cells: int = 5_000_000
    max_json_depth: int = 64

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InputError(f"The limit {f.name!r} must be a positive number. Got {value!r}.")


#: The limits a process starts with.
DEFAULT = Limits()

_current = DEFAULT
_lock = threading.Lock()


def current() -> Limits:
    """The limits in force."""
    return _current


def configure(**changes: Any) -> Limits:
    """Change the limits of the whole process; returns the previous ones.

    Examples
    --------
    >>> previous = configure(max_cells=1_000)
    >>> current().max_cells
    1000
    >>> _ = configure(**vars(previous))
    >>> current() == DEFAULT
    True
    """
    global _current
    with _lock:
        previous = _current
        try:
            _current = replace(previous, **changes)
        except TypeError:
            known = ", ".join(f.name for f in fields(Limits))
            raise InputError(f"Unknown limit in {sorted(changes)}; the limits are: {known}.") from None
        return previous


@contextmanager
def override(**changes: Any) -> Iterator[Limits]:
    """Change the limits inside a ``with`` block (for the whole process while it runs)."""
    previous = configure(**changes)
    try:
        yield current()
    finally:
        configure(**vars(previous))


#: Rows a table reader reads between two looks at the stop event of :func:`stoppable`.
STOP_EVERY = 1024
_stop: ContextVar[Any] = ContextVar("cohortmatch_read_stop", default=None)


@contextmanager
def stoppable(stop: Any) -> Iterator[None]:
    """Let ``stop`` (anything with ``is_set()``, e.g. a ``threading.Event``) end the table
    reads of this block, in this thread only.

    Once it is set, the next look (every :data:`STOP_EVERY` rows of a CSV file, a
    workbook sheet or a DataFrame) raises :class:`~cohortmatch.errors.StoppedError`
    naming the file and the row. Reading the text of a CSV file, a workbook's
    shared-strings table and a JSON document happen at once and are not stopped; the
    limits above bound how long they take.

    Examples
    --------
    >>> import threading
    >>> import pandas as pd
    >>> from cohortmatch.io import read_people
    >>> stop = threading.Event()
    >>> table = pd.DataFrame({"id": [f"p{i}" for i in range(5000)], "team": "a"})
    >>> with stoppable(stop):
    ...     len(read_people(table))
    5000
    >>> stop.set()
    >>> with stoppable(stop):
    ...     read_people(table)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.StoppedError: people DataFrame: reading stopped on request after 1,024 rows
    """
    if not callable(getattr(stop, "is_set", None)):
        raise InputError(f"stop: give an event with is_set() (e.g. threading.Event()), not {type(stop).__name__}")
    token = _stop.set(stop)
    try:
        yield
    finally:
        _stop.reset(token)


def refuse(name: str, what: str, found: int | float, limit: str) -> SizeLimitError:
    """The error for ``name`` whose ``what`` (``found``) passes the limit named ``limit``."""
    value = getattr(_current, limit)
    return SizeLimitError(
        f"{name}: {what} ({_plain(found)}) passes the limit {limit} = {_plain(value)}; "
        f"refused before reading it (if the file is trusted, raise the limit with "
        f"cohortmatch.limits.configure({limit}=...))"
    )


def _plain(x: int | float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def _over(value: int | float, limit: str) -> bool:
    return bool(value > getattr(_current, limit))


def check_file(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Refuse a file larger than ``max_file_bytes`` on disk (missing files pass: the reader says so)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return
    if _over(size, "max_file_bytes"):
        raise refuse(name or os.fspath(path), "the file size in bytes", size, "max_file_bytes")


def check_workbook(path: str | os.PathLike[str]) -> None:
    """Refuse an ``.xlsx`` archive whose declared parts are too many, too large or too packed.

    Python's :mod:`zipfile` (which openpyxl uses) never unpacks more than a part's declared
    size (a part that would is a broken archive), so the declared sizes bound what reading
    can allocate. A file that is not a zip archive passes: openpyxl reports it.
    """
    name = os.fspath(path)
    check_file(path)
    entries = _zip_entries(path)
    if entries is not None and _over(entries, "max_zip_entries"):
        raise refuse(name, "the number of parts of the archive", entries, "max_zip_entries")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return
    total = 0
    for info in infos:
        total += info.file_size
        part = f"{name}, part {info.filename!r}"
        if "sharedstrings" in info.filename.lower() and _over(info.file_size, "max_shared_strings_bytes"):
            raise refuse(part, "the shared-strings table, unpacked, in bytes", info.file_size,
                         "max_shared_strings_bytes")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= _current.ratio_floor and _over(ratio, "max_ratio"):
            raise refuse(part, "the compression ratio", ratio, "max_ratio")
    if _over(total, "max_unpacked_bytes"):
        raise refuse(name, "the unpacked size of the archive in bytes", total, "max_unpacked_bytes")


def _zip_entries(path: str | os.PathLike[str]) -> int | None:
    """The number of parts a zip archive declares (its end record), None if it has none."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 65_557))  # the end record (22 bytes) and a comment of up to 64 KiB
            tail = f.read()
    except OSError:
        return None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count: int = struct.unpack_from("<H", tail, at + 10)[0]
    locator = at - 20  # a zip64 archive keeps the true count in its own end record
    if count == 0xFFFF and locator >= 0 and tail[locator:locator + 4] == b"PK\x06\x07":
        return 2**64  # only archives of more than 65,534 parts need zip64 counts: far too many
    return count


def check_csv_text(name: str, text: str, delimiter: str) -> None:
    """Refuse CSV text that may hold more than ``max_cells`` cells or ``max_rows`` rows.

    The bound counts every delimiter and line break, quoted or not, so it is never below
    the true count; it is exact for files without quotes.
    """
    lines = text.count("\n") + 1
    if _over(lines, "max_rows"):
        raise refuse(name, "the number of lines", lines, "max_rows")
    cells = text.count(delimiter) + lines
    if _over(cells, "max_cells"):
        raise refuse(name, "the number of cells (delimiters and line breaks)", cells, "max_cells")


def check_json_text(name: str, text: str) -> None:
    """Refuse a JSON document nested deeper than ``max_json_depth`` (strings do not count).

    Examples
    --------
    >>> check_json_text("doc.json", '{"a": [1, "[[[[", {"b": []}]}')
    >>> with override(max_json_depth=2):
    ...     check_json_text("doc.json", '{"a": [1, {"b": []}]}')
    Traceback (most recent call last):
    ...
    cohortmatch.errors.SizeLimitError: doc.json: the nesting depth (4) passes the limit max_json_depth = 2; ...
    """
    depth = json_depth(text)
    if _over(depth, "max_json_depth"):
        raise refuse(name, "the nesting depth", depth, "max_json_depth")


_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1
_CHUNK = 1 << 22


def json_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings (malformed text is still measured).

    Linear time, in chunks of 4 MiB, so that measuring never costs more than the text.

    Examples
    --------
    >>> json_depth('[[1, 2], {"x": "]]]}"}, [[["["]]]]')
    4
    """
    raw = text.encode("utf-8", "surrogatepass")
    depth = deepest = 0
    in_string = odd_run = False  # state carried from one chunk to the next
    for start in range(0, len(raw), _CHUNK):
        data = np.frombuffer(raw, dtype=np.uint8, count=min(_CHUNK, len(raw) - start), offset=start)
        plain = np.flatnonzero(data != ord("\\"))
        quotes = np.flatnonzero(data == ord('"'))
        quotes = quotes[_run_before(plain, quotes, odd_run) % 2 == 0]  # drop escaped quotes
        brackets = np.flatnonzero(_STEP[data])
        outside = (np.searchsorted(quotes, brackets) + in_string) % 2 == 0
        steps = _STEP[data[brackets[outside]]].astype(np.int64)
        if steps.size:
            levels = depth + np.cumsum(steps)
            deepest = max(deepest, int(levels.max()))
            depth = int(levels[-1])
        in_string = bool((in_string + quotes.size) % 2)
        odd_run = bool(_run_before(plain, np.array([data.size]), odd_run)[0] % 2)
    return deepest


def _run_before(plain: np.ndarray, at: np.ndarray, odd_run: bool) -> np.ndarray:
    """How many backslashes stand right before each position of ``at`` in a chunk.

    ``plain`` holds the positions of the other bytes; ``odd_run`` whether the chunk
    before ended with an odd run of backslashes (only the parity matters).
    """
    k = np.searchsorted(plain, at) - 1  # the last plain byte before each position
    last = np.where(k >= 0, plain[np.maximum(k, 0)] if plain.size else -1, -1)
    return at - 1 - last + np.where(k < 0, int(odd_run), 0)


def check_shape(name: str, rows: int, columns: int) -> None:
    """Refuse a table of more than ``max_rows`` rows, ``max_columns`` columns or ``max_cells`` cells."""
    if _over(rows, "max_rows"):
        raise refuse(name, "the number of rows", rows, "max_rows")
    if _over(columns, "max_columns"):
        raise refuse(name, "the number of columns", columns, "max_columns")
    if _over(rows * columns, "max_cells"):
        raise refuse(name, "the number of cells", rows * columns, "max_cells")


class TableCounter:
    """Counts the rows and cells of a table as it is read; raises at the first one over a limit.

    Examples
    --------
    >>> count = TableCounter("people.csv")
    >>> with override(max_columns=3):
    ...     count(["a", "b", "c"])
    ...     count(["a", "b", "c", "d"])
    Traceback (most recent call last):
    ...
    cohortmatch.errors.SizeLimitError: people.csv, row 2: the number of columns (4) passes the limit max_columns = 3;...
    """

    def __init__(self, name: str):
        self.name = name
        self.rows = 0
        self.cells = 0

    def __call__(self, row: Any) -> None:
        self.rows += 1
        self.cells += len(row)
        if _over(len(row), "max_columns"):
            raise refuse(f"{self.name}, row {self.rows}", "the number of columns", len(row), "max_columns")
        if _over(self.rows, "max_rows"):
            raise refuse(self.name, "the number of rows", self.rows, "max_rows")
        if _over(self.cells, "max_cells"):
            raise refuse(self.name, "the number of cells", self.cells, "max_cells")
        if self.rows % STOP_EVERY == 0 and (stop := _stop.get()) is not None and stop.is_set():
            raise StoppedError(f"{self.name}: reading stopped on request after {self.rows:,} rows")

    def passing(self, row: Any) -> Any:
        """Count ``row`` and return it (for comprehensions)."""
        self(row)
        return row
