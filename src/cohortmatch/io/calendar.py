"""A plan's timetable as an iCalendar file (RFC 5545): one event per cohort with a slot.

Slot labels must be ISO 8601 date-times (``2027-01-12 09:00``, ``2027-01-12T09:00:00+01:00``)
or dates (``2027-01-12``: an all-day event). A label without a UTC offset is a local
("floating") time; one with an offset is written in UTC. Cohorts have no duration, so an
event has a start only. Each member is an attendee, named by their id
(``ATTENDEE;CN=<id>:urn:cohortmatch:person:<id>``): the plan holds no e-mail addresses.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

from ..errors import InputError
from ..result import Cohort, Plan

__all__ = ["plan_ics", "slot_time", "PERSON_URN"]

#: Attendees' calendar addresses: this prefix and the person's id (percent-encoded).
PERSON_URN = "urn:cohortmatch:person:"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def slot_time(label: str) -> dt.datetime | dt.date:
    """The date-time (or date) a slot label stands for.

    Raises
    ------
    InputError
        The label is not an ISO 8601 date-time or date.

    Examples
    --------
    >>> slot_time("2027-01-12 09:00")
    datetime.datetime(2027, 1, 12, 9, 0)
    >>> slot_time("2027-01-12")
    datetime.date(2027, 1, 12)
    >>> slot_time("Tuesday 9:00")
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: slot 'Tuesday 9:00' is not an ISO 8601 date-time (like '2027-01-12 09:00')...
    """
    text = label.strip()
    try:
        if _DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"slot {label!r} is not an ISO 8601 date-time (like '2027-01-12 09:00'); "
                         "an iCalendar export needs one") from None


def _stamp(when: dt.datetime | dt.date) -> str:
    if not isinstance(when, dt.datetime):
        return f";VALUE=DATE:{when:%Y%m%d}"
    if when.tzinfo is not None:
        return f":{when.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    return f":{when:%Y%m%dT%H%M%S}"


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545, 3.3.11)."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _param(value: str) -> str:
    """A parameter value, quoted (it may hold ``:;,``); a double quote cannot appear in one."""
    return '"' + value.replace('"', "'").replace("\n", " ") + '"'


def _fold(line: str) -> list[str]:
    """A content line folded at 75 octets (each continuation line starts with a space)."""
    out, part, size = [], "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > 75:
            out.append(part)
            part, size = " ", 1
        part += ch
        size += n
    return [*out, part]


def _event(c: Cohort, stamp: str) -> list[str]:
    assert c.slot is not None
    lines = [
        "BEGIN:VEVENT",
        f"UID:{quote(c.id, safe='')}.{quote(c.course, safe='')}.r{c.round}@cohortmatch",
        f"DTSTAMP:{stamp}",
        f"DTSTART{_stamp(slot_time(c.slot))}",
        f"SUMMARY:{_text(f'{c.id} ({c.course}, round {c.round})')}",
        f"DESCRIPTION:{_text(f'{len(c.members)} members: ' + ', '.join(c.members))}",
    ]
    lines += [f"ATTENDEE;CN={_param(m)}:{PERSON_URN}{quote(m, safe='')}" for m in c.members]
    return [*lines, "END:VEVENT"]


def plan_ics(plan: Plan, *, now: dt.datetime | None = None) -> str:
    """The plan's timetable as iCalendar text (CRLF line ends), one event per cohort.

    Parameters
    ----------
    plan : Plan
    now : datetime, optional
        The time written as each event's ``DTSTAMP`` (default: now, UTC).

    Raises
    ------
    InputError
        No cohort has a slot, or a slot label is not an ISO 8601 date-time.

    Examples
    --------
    >>> from cohortmatch.result import Metrics
    >>> m = Metrics(objective=0, coverage=0, bridged_gaps=0, bridged_weight=0, total_weight=0,
    ...             total_gaps=0, bound=0, gap_to_bound=0, mode="cover")
    >>> p = Plan(cohorts=[Cohort(id="x-1", course="x", members=("ann", "bo"), teams=("a", "b"),
    ...                          slot="2027-01-12 09:00")], metrics=m, status="feasible")
    >>> text = plan_ics(p, now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    >>> for line in text.splitlines():
    ...     if line.startswith(("DTSTART", "ATTENDEE")):
    ...         print(line)
    DTSTART:20270112T090000
    ATTENDEE;CN="ann":urn:cohortmatch:person:ann
    ATTENDEE;CN="bo":urn:cohortmatch:person:bo
    """
    timed = plan.timetable()
    if not timed:
        raise InputError("an iCalendar export needs cohorts with a time slot (Course.slots); this plan has none")
    for slot, _ in timed:
        slot_time(slot)  # every label checked before anything is written
    stamp = f"{(now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//cohortmatch//cohort timetable//EN", "CALSCALE:GREGORIAN"]
    for _, c in timed:
        lines += _event(c, stamp)
    lines.append("END:VCALENDAR")
    return "".join(x + "\r\n" for line in lines for x in _fold(line))
