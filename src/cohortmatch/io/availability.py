"""When people can come: the availability table (``person``, ``slot``), and slot labels
checked against the courses' slots with the file, row and column that name them."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from ..errors import InputError, InputWarning
from ..model import Course, Organisation
from .tables import Source, load_table, text_cell

__all__ = ["AVAILABILITY_COLUMNS", "read_availability", "check_available"]

AVAILABILITY_COLUMNS = ("person", "slot")


def _offered(courses: Sequence[Course]) -> set[str]:
    return {s for c in courses for s in c.slots}


def _unknown(slot: str, offered: set[str]) -> str:
    known = ", ".join(repr(s) for s in sorted(offered)) if offered else "none: no course has 'slots'"
    return f"unknown slot {slot!r} (no course meets then; the courses' slots: {known})"


def read_availability(source: Source, org: Organisation, courses: Sequence[Course]) -> Organisation:
    """``org`` with each person's ``available`` slots read from an availability table.

    The table has one row per person and slot they can attend (columns ``person`` and
    ``slot``). People it does not list keep what the people table says (empty there:
    every slot).

    Raises
    ------
    InputError
        A missing column or cell, an unknown person, a slot no course offers, a row given
        twice, or a person whose availability the people table gives too; the message names
        file, row and column.

    Examples
    --------
    >>> import pandas as pd
    >>> org = Organisation(people=[Person(id="p1", team="a"), Person(id="p2", team="b")])
    >>> courses = [Course(id="c", min_size=1, max_size=2, slots=["mon", "tue"])]
    >>> table = pd.DataFrame({"person": ["p1", "p1"], "slot": ["tue", "mon"]})
    >>> [p.available for p in read_availability(table, org, courses).people]
    [('tue', 'mon'), None]
    >>> read_availability(pd.DataFrame({"person": ["p2"], "slot": ["wed"]}), org, courses)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: availability DataFrame, row 0, column 'slot': unknown slot 'wed' (no course...
    """
    t = load_table(source, what="availability", required=AVAILABILITY_COLUMNS)
    t.require(*AVAILABILITY_COLUMNS)
    t.extra_columns(AVAILABILITY_COLUMNS, what="availability")
    people = {p.id: p for p in org.people}
    offered = _offered(courses)
    slots: dict[str, list[str]] = {}
    first: dict[tuple[str, str], int] = {}
    for i in range(len(t.rows)):
        person = text_cell(t, i, "person", required=True) or ""
        slot = text_cell(t, i, "slot", required=True) or ""
        if person not in people:
            raise InputError(f"{t.where(i, 'person')}: unknown person {person!r}")
        if people[person].available is not None:
            raise InputError(f"{t.where(i, 'person')}: the people table gives {person!r}'s availability "
                             "too; give it in one place")
        if slot not in offered:
            raise InputError(f"{t.where(i, 'slot')}: {_unknown(slot, offered)}")
        if (person, slot) in first:
            raise InputError(f"{t.where(i, 'slot')}: {person!r} at {slot!r} is given twice "
                             f"(first in row {t.row(first[person, slot])})")
        first[person, slot] = i
        slots.setdefault(person, []).append(slot)
    updated = [p.model_copy(update={"available": tuple(slots[p.id])}) if p.id in slots else p
               for p in org.people]
    return org.model_copy(update={"people": tuple(updated)})


def check_available(people: Source, org: Organisation, courses: Sequence[Course]) -> None:
    """Raise :class:`InputError` naming the row of the ``people`` table (``available``
    column) where someone can come at a slot no course offers.

    ``org`` was read from ``people``; the table is read again only to name the row. When
    no course has slots, availability plays no part: an :class:`InputWarning` says so.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"id": ["p1"], "team": ["a"], "available": ["mon; wed"]})
    >>> org = Organisation(people=[Person(id="p1", team="a", available=["mon", "wed"])])
    >>> check_available(table, org, [Course(id="c", min_size=1, max_size=2, slots=["mon", "tue"])])
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: people DataFrame, row 0, column 'available': unknown slot 'wed' (no course...
    """
    offered = _offered(courses)
    if not offered:
        if any(p.available is not None for p in org.people):
            warnings.warn("the people's 'available' slots are ignored: no course has 'slots'", InputWarning,
                          stacklevel=2)
        return
    bad = next(((p, s) for p in org.people for s in p.available or () if s not in offered), None)
    if bad is None:
        return
    person, slot = bad
    t = load_table(people, what="people", required=("id", "team"))
    i = next((i for i in range(len(t.rows)) if text_cell(t, i, "id") == person.id), None)
    where = t.where(i, "available") if i is not None else f"person {person.id!r}, field 'available'"
    raise InputError(f"{where}: {_unknown(slot, offered)}")
