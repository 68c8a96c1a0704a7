"""Interaction, need and purpose tables: from an interaction log to connection gaps.

The tables :func:`gaps_from_tables` reads (CSV, ``.xlsx`` or DataFrames; errors name the
file, row and column):

- interactions, person level: ``person_a``, ``person_b`` and optionally ``count`` (default
  1; e-mails, meetings, ...), one row per interaction or per pair; or team level:
  ``team_a``, ``team_b`` and optionally ``count``;
- need (optional): ``team_a``, ``team_b`` and optionally ``need`` (default 1), one row per
  pair of teams that must work together (without it, every pair of teams);
- purpose (optional): ``team_a``, ``team_b``, ``purpose``; pairs not listed get ``build``.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import networkx as nx

from ..errors import InputError
from ..interactions import gaps_from_interactions, half_saturation, tie_strengths
from ..model import PURPOSES, Gap, Organisation
from .tables import Source, Table, load_table, number_cell, read_org, text_cell

__all__ = ["InteractionGaps", "gaps_from_tables", "read_interactions", "read_need", "read_purposes"]

PERSON_COLUMNS = ("person_a", "person_b", "count")
TEAM_COLUMNS = ("team_a", "team_b", "count")
NEED_COLUMNS = ("team_a", "team_b", "need")
PURPOSE_COLUMNS = ("team_a", "team_b", "purpose")


@dataclass(frozen=True)
class InteractionGaps:
    """What :func:`gaps_from_tables` found.

    Attributes
    ----------
    org : Organisation
        People and teams as read, with the new ``gaps``.
    ties : networkx.Graph
        Tie strengths between teams (:func:`cohortmatch.tie_strengths`): per edge
        ``count`` and ``strength``, per node ``size``.
    s0 : float
        The half-saturation strength the gap weights were computed with.
    level : {"person", "team"}
        Whether the interactions named people or teams.
    records : int
        Rows of the interaction log.
    """

    org: Organisation
    ties: nx.Graph
    s0: float
    level: Literal["person", "team"]
    records: int

    @property
    def gaps(self) -> tuple[Gap, ...]:
        """The gaps, sorted by team pair."""
        return self.org.gaps


def read_interactions(
    source: Source, org: Organisation
) -> tuple[list[tuple[str, str, float]], Literal["person", "team"]]:
    """Interactions as ``(a, b, count)`` rows and whether they name people or teams.

    Raises
    ------
    InputError
        Missing or unknown columns, an empty cell, an unknown person or team, a count that
        is not a number >= 0; the message names file, row and column.

    Examples
    --------
    >>> import pandas as pd
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id="p1", team="a"), cm.Person(id="p2", team="b")])
    >>> read_interactions(pd.DataFrame({"person_a": ["p1"], "person_b": ["p2"], "count": [3]}), org)
    ([('p1', 'p2', 3.0)], 'person')
    >>> read_interactions(pd.DataFrame({"person_a": ["p1"], "person_b": ["p9"]}), org)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: interactions DataFrame, row 0, column 'person_b': unknown person 'p9'
    """
    t = load_table(source, what="interactions")
    level: Literal["person", "team"] = "team" if t.column_index("person_a") is None else "person"
    columns = PERSON_COLUMNS if level == "person" else TEAM_COLUMNS
    if level == "team" and t.column_index("team_a") is None:
        raise InputError(
            f"{t.source}: name the columns person_a, person_b (and count) for interactions "
            "between people, or team_a, team_b (and count) between teams"
        )
    t.require(*columns[:2])
    t.extra_columns(columns, what="interactions")
    known = {p.id for p in org.people} if level == "person" else _teams(org)
    rows = []
    for i in range(len(t.rows)):
        u, v = (_known_id(t, i, c, known, level) for c in columns[:2])
        count = number_cell(t, i, "count", minimum=0)
        rows.append((u, v, 1.0 if count is None else float(count)))
    return rows, level


def read_need(source: Source, org: Organisation) -> dict[tuple[str, str], float]:
    """How much pairs of teams need each other: ``{(team_a, team_b): need}``.

    Examples
    --------
    >>> import pandas as pd
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id="p1", team="a"), cm.Person(id="p2", team="b")])
    >>> read_need(pd.DataFrame({"team_a": ["a"], "team_b": ["b"]}), org)
    {('a', 'b'): 1.0}
    """
    t = load_table(source, what="need")
    t.require("team_a", "team_b")
    t.extra_columns(NEED_COLUMNS, what="need")
    out: dict[tuple[str, str], float] = {}
    for i, pair in _team_pairs(t, org):
        need = number_cell(t, i, "need", minimum=0)
        out[pair] = 1.0 if need is None else float(need)
    return out


def read_purposes(source: Source, org: Organisation) -> dict[tuple[str, str], str]:
    """The purpose of the gap between pairs of teams: ``{(team_a, team_b): purpose}``.

    Examples
    --------
    >>> import pandas as pd
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id="p1", team="a"), cm.Person(id="p2", team="b")])
    >>> read_purposes(pd.DataFrame({"team_a": ["a"], "team_b": ["b"], "purpose": ["fun"]}), org)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: purpose DataFrame, row 0, column 'purpose': unknown purpose 'fun'...
    """
    t = load_table(source, what="purpose")
    t.require(*PURPOSE_COLUMNS)
    t.extra_columns(PURPOSE_COLUMNS, what="purpose")
    out: dict[tuple[str, str], str] = {}
    for i, pair in _team_pairs(t, org):
        purpose = text_cell(t, i, "purpose", required=True)
        if purpose not in PURPOSES:
            raise InputError(f"{t.where(i, 'purpose')}: unknown purpose {purpose!r} (use one of "
                             f"{', '.join(PURPOSES)})")
        out[pair] = purpose
    return out


def gaps_from_tables(
    interactions: Source,
    people: Source,
    *,
    teams: Source | None = None,
    need: Source | None = None,
    purpose: str | Source = "build",
    s0: float | None = None,
    min_weight: float = 0.0,
) -> InteractionGaps:
    r"""Connection gaps from an interaction log and a people table.

    Reads the tables, then applies :func:`cohortmatch.gaps_from_interactions`: the gap
    between teams :math:`a` and :math:`b` is :math:`w_{ab} = \nu_{ab}\, s_0 / (s_0 + s_{ab})`,
    with :math:`s_{ab}` the interactions per pair of people and :math:`\nu_{ab}` the need.

    Parameters
    ----------
    interactions, people : path or DataFrame
        The interaction log (see the module docstring) and the people table (``id``,
        ``team``, ...), which gives team membership and team sizes.
    teams : path or DataFrame, optional
        A teams table, so that teams without members are known too.
    need : path or DataFrame, optional
        Pairs of teams that must work together; None: every pair of teams with members.
    purpose : str, path or DataFrame
        One of :data:`cohortmatch.model.PURPOSES` for every gap, or a purpose table.
    s0 : float, optional
        Half-saturation strength; None takes :func:`cohortmatch.interactions.half_saturation`.
    min_weight : float
        Leave out gaps of at most this weight.

    Returns
    -------
    InteractionGaps

    Raises
    ------
    InputError
        Bad tables (file, row and column named) or parameters.

    Examples
    --------
    >>> import pandas as pd
    >>> people = pd.DataFrame({"id": ["p1", "p2", "p3", "p4"], "team": ["a", "a", "b", "c"]})
    >>> log = pd.DataFrame({"person_a": ["p1", "p2", "p1"], "person_b": ["p3", "p3", "p4"],
    ...                     "count": [6, 4, 1]})
    >>> found = gaps_from_tables(log, people, s0=1.0)
    >>> [(g.a, g.b, round(g.weight, 3)) for g in found.gaps]
    [('a', 'b', 0.167), ('a', 'c', 0.667), ('b', 'c', 1.0)]
    """
    base = read_org(people, None, teams)
    rows, level = read_interactions(interactions, base)
    needs = None if need is None else read_need(need, base)
    spec: Any = purpose
    if not (isinstance(purpose, str) and purpose in PURPOSES):
        if isinstance(purpose, str | os.PathLike) and not Path(purpose).is_file():
            raise InputError(f"purpose {str(purpose)!r}: neither a purpose ({', '.join(PURPOSES)}) "
                             "nor a purpose table file")
        spec = read_purposes(purpose, base)
    ties = tie_strengths(rows, base, level=level)
    s0_used = half_saturation(ties) if s0 is None else s0
    gaps = gaps_from_interactions(rows, base, need=needs, purpose=spec, level=level, s0=s0_used,
                                  min_weight=min_weight)
    org = Organisation(people=base.people, teams=base.teams, gaps=tuple(gaps))
    return InteractionGaps(org=org, ties=ties, s0=s0_used, level=level, records=len(rows))


def _teams(org: Organisation) -> set[str]:
    return {t.id for t in org.teams} | {p.team for p in org.people}


def _known_id(t: Table, i: int, column: str, known: Collection[str], kind: str) -> str:
    value = text_cell(t, i, column, required=True)
    assert value is not None
    if value not in known:
        raise InputError(f"{t.where(i, column)}: unknown {kind} {value!r}")
    return value


def _team_pairs(t: Table, org: Organisation) -> list[tuple[int, tuple[str, str]]]:
    """``(record, (team_a, team_b))`` of a table keyed by team pairs, checked."""
    known = _teams(org)
    first: dict[tuple[str, str], int] = {}
    out = []
    for i in range(len(t.rows)):
        a, b = (_known_id(t, i, c, known, "team") for c in ("team_a", "team_b"))
        if a == b:
            raise InputError(f"{t.where(i, 'team_b')}: a team cannot be paired with itself")
        key = (a, b) if a <= b else (b, a)
        if key in first:
            raise InputError(f"{t.where(i, 'team_a')}: the pair {a!r}-{b!r} is given twice "
                             f"(first in row {t.first_row + first[key]})")
        first[key] = i
        out.append((i, (a, b)))
    return out
