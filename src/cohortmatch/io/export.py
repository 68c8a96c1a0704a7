"""Write plans (JSON, CSV, Excel) and organisations (CSV tables) to files."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..model import Gap, Organisation
from ..result import Plan
from .calendar import plan_ics
from .tables import INTEREST_PREFIX, Grouping

__all__ = [
    "PLAN_FORMATS", "FORMULA_START", "write_plan", "plan_rows", "write_org", "write_gaps", "write_grouping",
    "safe_cell", "check_folder", "CHANGE_COLUMNS", "change_rows", "write_changes", "TIMETABLE_COLUMNS",
    "timetable_rows",
]

PLAN_FORMATS = (".json", ".csv", ".xlsx", ".ics")
TIMETABLE_COLUMNS = ("slot", "cohort", "course", "round", "size", "members")
PLAN_COLUMNS = ("person", "cohort", "course", "round", "team")
GAP_HEADER = ("team_a", "team_b", "weight", "purpose")
CHANGE_COLUMNS = ("person", "course", "round", "before", "after", "reason", "rule", "detail")
Sheets = dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]


def plan_rows(plan: Plan, *, labels: Mapping[str, str] | None = None) -> list[tuple[Any, ...]]:
    """Rows of :meth:`Plan.to_frame <cohortmatch.Plan.to_frame>` without pandas.

    ``labels`` renames cohorts (e.g. back to the labels of a hand-made grouping).

    Examples
    --------
    >>> from cohortmatch.result import Cohort, Metrics, Plan
    >>> m = Metrics(objective=0, coverage=0, bridged_gaps=0, bridged_weight=0, total_weight=0,
    ...             total_gaps=0, bound=0, gap_to_bound=0, mode="cover")
    >>> p = Plan(cohorts=[Cohort(id="c-1", course="c", members=("x",), teams=("a",))],
    ...          metrics=m, status="feasible")
    >>> plan_rows(p)
    [('x', 'c-1', 'c', 0, 'a')]
    """
    labels = labels or {}
    return [
        (m, labels.get(c.id, c.id), c.course, c.round, t)
        for c in plan.cohorts
        for m, t in zip(c.members, c.teams, strict=True)
    ]


def write_plan(plan: Plan, path: str | os.PathLike) -> Path:
    """Write a plan; the format follows the extension.

    ``.json``: the whole plan (:meth:`Plan.to_json <cohortmatch.Plan.to_json>`).
    ``.csv``: one row per person and cohort (columns ``person``, ``cohort``, ``course``,
    ``round``, ``team``), which reads back as a grouping. ``.xlsx``: that table on sheet
    ``cohorts``, plus sheets ``bridges`` (each cohort's bridged gaps), ``metrics`` and
    ``unassigned``, ``timetable`` (slot by cohort with members) when cohorts have time
    slots, and ``waitlist`` (:func:`write_waitlist`) with seats; needs openpyxl. ``.ics``:
    the timetable as an iCalendar file, one event per cohort with its members' ids as attendees
    (slot labels must be ISO 8601 date-times; see :func:`~cohortmatch.io.calendar.plan_ics`).

    Raises
    ------
    InputError
        An unknown extension, or a folder that does not exist (none is created).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from cohortmatch.result import Metrics, Plan
    >>> m = Metrics(objective=0, coverage=0, bridged_gaps=0, bridged_weight=0, total_weight=0,
    ...             total_gaps=0, bound=0, gap_to_bound=0, mode="cover")
    >>> out = write_plan(Plan(cohorts=[], metrics=m, status="feasible"),
    ...                  pathlib.Path(tempfile.mkdtemp()) / "plan.csv")
    >>> out.read_text().strip()
    'person,cohort,course,round,team'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in PLAN_FORMATS:
        raise InputError(
            f"{path}: unknown plan format {suffix or '(no extension)'!r}; use one of "
            f"{', '.join(PLAN_FORMATS)}"
        )
    check_folder(path)
    if suffix == ".json":
        path.write_text(plan.to_json() + "\n", encoding="utf-8")
    elif suffix == ".csv":
        _write_csv(path, PLAN_COLUMNS, plan_rows(plan))
    elif suffix == ".ics":
        path.write_bytes(plan_ics(plan).encode("utf-8"))
    else:
        _write_xlsx(path, _plan_sheets(plan))
    return path


#: The columns of the waitlist table (:func:`write_waitlist`).
WAITLIST_COLUMNS = ("course", "rank", "person", "reason")


def waitlist_rows(plan: Plan) -> list[tuple[Any, ...]]:
    """The ranked waitlist: one row per course and candidate not selected, by course and rank.

    Examples
    --------
    >>> from cohortmatch.result import Metrics, Plan, Unassigned
    >>> m = Metrics(objective=0, coverage=0, bridged_gaps=0, bridged_weight=0, total_weight=0,
    ...             total_gaps=0, bound=0, gap_to_bound=0, mode="cover")
    >>> p = Plan(cohorts=[], metrics=m, status="feasible", unassigned=[
    ...     Unassigned(person="p2", course="c", reason="not selected: seats full", rank=2),
    ...     Unassigned(person="p1", course="c", reason="not selected: seats full", rank=1)])
    >>> waitlist_rows(p)
    [('c', 1, 'p1', 'not selected: seats full'), ('c', 2, 'p2', 'not selected: seats full')]
    """
    rows = [(u.course, u.rank, u.person, u.reason) for u in plan.unassigned if u.rank is not None and u.round == 0]
    return sorted(rows, key=lambda r: (r[0], r[1]))


def write_waitlist(plan: Plan, path: str | os.PathLike) -> Path:
    """Write the ranked waitlist of a plan with seats, ``.csv`` or ``.xlsx`` (sheet ``waitlist``).

    Columns ``course``, ``rank`` (1: first to get a seat that frees up), ``person`` and
    ``reason`` (``not selected: ...`` and what decided it); see :doc:`seats`.

    Raises
    ------
    InputError
        An extension other than ``.csv`` or ``.xlsx``, or a folder that does not exist.
    """
    return _write_table(path, "waitlist", WAITLIST_COLUMNS, waitlist_rows(plan))


def _plan_sheets(plan: Plan) -> Sheets:
    bridges = [
        (c.id, c.course, c.round, b.a, b.b, b.weight, b.purpose, b.pairs)
        for c in plan.cohorts
        for b in c.bridges
    ]
    metrics = [(k, v) for k, v in plan.metrics.model_dump().items()]
    metrics += [("status", plan.status), ("solver", plan.solver), ("seed", plan.seed),
                ("elapsed", plan.elapsed)]
    unassigned = [(u.person, u.course, u.round, u.reason) for u in plan.unassigned]
    sheets: Sheets = {
        "cohorts": (PLAN_COLUMNS, plan_rows(plan)),
        "bridges": (("cohort", "course", "round", "team_a", "team_b", "weight", "purpose",
                     "pairs"), bridges),
        "metrics": (("metric", "value"), metrics),
        "unassigned": (("person", "course", "round", "reason"), unassigned),
    }
    if plan.changes:
        sheets["changes"] = (CHANGE_COLUMNS, change_rows(plan))
    if any(u.rank is not None for u in plan.unassigned):
        sheets["waitlist"] = (WAITLIST_COLUMNS, waitlist_rows(plan))
    if plan.timetable():
        sheets["timetable"] = (TIMETABLE_COLUMNS, timetable_rows(plan))
    return sheets


def timetable_rows(plan: Plan) -> list[tuple[Any, ...]]:
    """One row per cohort with a slot, by slot (:data:`TIMETABLE_COLUMNS` order; members
    joined by ``;``).

    Examples
    --------
    >>> from cohortmatch.result import Cohort, Metrics, Plan
    >>> m = Metrics(objective=0, coverage=0, bridged_gaps=0, bridged_weight=0, total_weight=0,
    ...             total_gaps=0, bound=0, gap_to_bound=0, mode="cover")
    >>> p = Plan(cohorts=[Cohort(id="c-1", course="c", members=("x", "y"), teams=("a", "b"), slot="mon")],
    ...          metrics=m, status="feasible")
    >>> timetable_rows(p)
    [('mon', 'c-1', 'c', 0, 2, 'x; y')]
    """
    return [(slot, c.id, c.course, c.round, len(c.members), "; ".join(c.members)) for slot, c in plan.timetable()]


def change_rows(plan: Plan) -> list[tuple[Any, ...]]:
    """One row per :class:`~cohortmatch.result.Change` of a re-plan, in :data:`CHANGE_COLUMNS` order."""
    return [(c.person, c.course, c.round, c.before, c.after, c.reason, c.rule, c.detail) for c in plan.changes]


def write_changes(plan: Plan, path: str | os.PathLike) -> Path:
    """Write what a re-plan changed (:attr:`Plan.changes <cohortmatch.Plan.changes>`), ``.csv`` or ``.xlsx``.

    Columns ``person``, ``course``, ``round``, ``before``, ``after``, ``reason`` (``left``,
    ``joined``, ``rule``, ``gap``), ``rule`` and ``detail``: the list of people to tell.

    Raises
    ------
    InputError
        An extension other than ``.csv`` or ``.xlsx``, or a folder that does not exist
        (none is created).
    """
    return _write_table(path, "changes", CHANGE_COLUMNS, change_rows(plan))


def check_folder(path: str | os.PathLike) -> None:
    """Raise :class:`InputError` unless the folder ``path`` goes into exists.

    Writers create no folders but a directory they are asked to fill, so a mistyped
    path is an error, not a tree of new folders.

    Examples
    --------
    >>> check_folder("/no/such/folder/plan.csv")
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: /no/such/folder/plan.csv: the folder /no/such/folder does not exist...
    """
    folder = Path(path).parent
    if not folder.is_dir():
        raise InputError(f"{path}: the folder {folder} does not exist (create it first, or "
                         "correct the path)")


def write_grouping(grouping: Grouping, path: str | os.PathLike) -> Path:
    """Write a grouping as ``.csv`` or ``.xlsx`` (sheet ``grouping``) that reads back.

    Columns ``person`` and ``cohort``, and ``course``/``round`` when any row has them.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from cohortmatch.io import read_grouping
    >>> g = Grouping("g", ("p1", "p2"), ("A", "B"), (None, None), (0, 0))
    >>> out = write_grouping(g, pathlib.Path(tempfile.mkdtemp()) / "grouping.csv")
    >>> out.read_text().splitlines()
    ['person,cohort', 'p1,A', 'p2,B']
    >>> read_grouping(out).cohort
    ('A', 'B')
    """
    columns: tuple[str, ...] = ("person", "cohort")
    rows: list[tuple[Any, ...]] = list(zip(grouping.person, grouping.cohort, strict=True))
    if any(c is not None for c in grouping.course) or any(grouping.round):
        columns += ("course", "round")
        rows = [(*r, c, k) for r, c, k in zip(rows, grouping.course, grouping.round, strict=True)]
    return _write_table(path, "grouping", columns, rows)


def _write_table(path: str | os.PathLike, what: str, columns: tuple[str, ...],
                 rows: list[tuple[Any, ...]]) -> Path:
    """One table as ``.csv``, or ``.xlsx`` with the sheet ``what``, into an existing folder."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(f"{path}: the {what} table is written as .csv or .xlsx; got {suffix!r}")
    check_folder(path)
    if suffix == ".csv":
        _write_csv(path, columns, rows)
    else:
        _write_xlsx(path, {what: (columns, rows)})
    return path


#: First characters that make a spreadsheet run a cell as a formula (CSV/formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell value a spreadsheet will not run: text starting like a formula gets a ``'`` prefix.

    Numbers are left alone; the readers (:func:`cohortmatch.io.load_table`) remove the prefix
    again, so exported tables read back unchanged.

    Examples
    --------
    >>> safe_cell("=SUM(A1:A9)"), safe_cell("-3"), safe_cell(-3), safe_cell("a=b")
    ("'=SUM(A1:A9)", "'-3", -3, 'a=b')
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([safe_cell(v) for v in header])
        w.writerows(["" if v is None else safe_cell(v) for v in r] for r in rows)


def _write_xlsx(path: Path, sheets: Sheets) -> None:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(
            f"{path}: writing .xlsx files needs openpyxl: pip install 'cohortmatch[tables]'"
        ) from None
    wb = openpyxl.Workbook(write_only=True)
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append([safe_cell(v) for v in header])
        for r in rows:
            ws.append([safe_cell(v) for v in r])
    wb.save(path)


def write_org(
    org: Organisation, directory: str | os.PathLike, *, fmt: str = "csv"
) -> dict[str, Path]:
    """Write ``people``, ``teams`` and ``gaps`` tables that :func:`read_org` reads back.

    People get columns ``id``, ``team``, ``manager``, one column per attribute and one
    ``interest:<course>`` column per course anyone has an interest in.

    Parameters
    ----------
    org : Organisation
    directory : path
    fmt : {"csv", "xlsx"}

    Returns
    -------
    dict
        ``{"people": path, "teams": path, "gaps": path}``.

    Raises
    ------
    InputError
        An unknown ``fmt``, or ``directory`` in a folder that does not exist (the
        directory itself is created).

    Examples
    --------
    >>> import tempfile
    >>> import cohortmatch as cm
    >>> from cohortmatch.io import read_org
    >>> org = cm.Organisation(people=[cm.Person(id="p1", team="a", attributes={"level": "lead"}),
    ...                               cm.Person(id="p2", team="b", manager="p1")],
    ...                       gaps=[cm.Gap(a="a", b="b", weight=2.5, purpose="repair")])
    >>> paths = write_org(org, tempfile.mkdtemp())
    >>> read_org(paths["people"], paths["gaps"], paths["teams"]) == org
    True
    """
    if fmt not in ("csv", "xlsx"):
        raise InputError(f"The 'fmt' must be 'csv' or 'xlsx'. Got {fmt!r}.")
    directory = Path(directory)
    check_folder(directory)
    directory.mkdir(exist_ok=True)
    attrs = list(dict.fromkeys(k for p in org.people for k in p.attributes))
    interests = list(dict.fromkeys(k for p in org.people for k in p.interests))
    people_header = ("id", "team", "manager", *attrs, *(INTEREST_PREFIX + c for c in interests))
    people_rows: list[tuple[Any, ...]] = [
        (p.id, p.team, p.manager, *(p.attributes.get(a) for a in attrs),
         *(p.interests.get(c) for c in interests))
        for p in org.people
    ]
    tables: Sheets = {
        "people": (people_header, people_rows),
        "teams": (("id", "name", "parent"), [(t.id, t.name, t.parent) for t in org.teams]),
        "gaps": (GAP_HEADER, _gap_rows(org.gaps)),
    }
    out = {}
    for name, (header, rows) in tables.items():
        path = directory / f"{name}.{fmt}"
        if fmt == "csv":
            _write_csv(path, header, rows)
        else:
            _write_xlsx(path, {name: (header, rows)})
        out[name] = path
    return out


def write_gaps(gaps: Iterable[Gap], path: str | os.PathLike) -> Path:
    """Write gaps as a ``.csv`` or ``.xlsx`` table (``team_a``, ``team_b``, ``weight``, ``purpose``).

    :func:`cohortmatch.io.read_gaps` reads it back. An extension other than ``.csv`` or
    ``.xlsx``, or a folder that does not exist (none is created), is an ``InputError``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import cohortmatch as cm
    >>> out = write_gaps([cm.Gap(a="a", b="b", weight=0.5, purpose="repair")],
    ...                  pathlib.Path(tempfile.mkdtemp()) / "gaps.csv")
    >>> out.read_text().splitlines()
    ['team_a,team_b,weight,purpose', 'a,b,0.5,repair']
    """
    return _write_table(path, "gaps", GAP_HEADER, _gap_rows(gaps))


def _gap_rows(gaps: Iterable[Gap]) -> list[tuple[Any, ...]]:
    return [(g.a, g.b, g.weight, g.purpose) for g in gaps]
