"""Connection gaps from observed interactions: weak ties where collaboration is needed."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

import networkx as nx
import numpy as np

from .errors import InputError, SizeLimitError
from .model import PURPOSES, Gap, Organisation, Person, Purpose

__all__ = ["tie_strengths", "gaps_from_interactions", "gap_weights", "half_saturation"]

#: Most team pairs ``need=None`` may expand to (every pair of teams needs each other).
MAX_ALL_PAIRS = 2_000_000

Interactions: TypeAlias = "nx.Graph | Iterable[Sequence[Any]]"
TeamOf: TypeAlias = "Organisation | Sequence[Person] | Mapping[str, str]"
Need: TypeAlias = "nx.Graph | Mapping[tuple[str, str], float] | Iterable[Sequence[Any]]"
PurposeSpec: TypeAlias = "str | Mapping[tuple[str, str], str] | Callable[[str, str], str]"


def tie_strengths(
    interactions: Interactions,
    people_or_team_of: TeamOf,
    *,
    weight: str = "weight",
    level: Literal["auto", "person", "team"] = "auto",
) -> nx.Graph:
    r"""Aggregate interactions into tie strengths between teams.

    .. math::

        s_{ab} = \frac{I_{ab}}{n_a \, n_b}

    where :math:`I_{ab}` is the total count of interactions between members of teams
    :math:`a` and :math:`b` (both directions) and :math:`n_a`, :math:`n_b` are the team
    sizes: :math:`s_{ab}` is the mean number of interactions per pair of people, so
    big teams do not look close just because they are big. For 0/1 ties it is the
    share of the :math:`n_a n_b` possible ties that exist.

    Parameters
    ----------
    interactions : networkx graph or iterable of (u, v) or (u, v, count)
        Observed interactions (emails, meetings, advice, co-work...) between people or
        between teams. A graph's edges are read with ``weight`` (default 1); a
        directed or multi-graph has its arcs summed. Self-loops and interactions
        within one team are ignored. A pandas DataFrame is read row by row.
    people_or_team_of : Organisation, list of Person, or mapping
        Who belongs to which team: an organisation, its people, or ``{person: team}``.
    weight : str
        Edge attribute holding the count when ``interactions`` is a graph.
    level : {"auto", "person", "team"}
        Whether the nodes are people or teams. ``"auto"`` decides from the first
        interaction's first node.

    Returns
    -------
    networkx.Graph
        One node per team (attribute ``size``), one edge per pair of teams that
        interacted, with attributes ``count`` (:math:`I_{ab}`) and ``strength``
        (:math:`s_{ab}`).

    Raises
    ------
    InputError
        On an unknown person or team, or a count that is negative, not finite or not a
        number; the message names the interaction.

    Examples
    --------
    >>> team_of = {"p1": "a", "p2": "a", "p3": "b"}
    >>> g = tie_strengths([("p1", "p3", 4), ("p3", "p2"), ("p1", "p2", 9)], team_of)
    >>> g.edges["a", "b"]
    {'count': 5.0, 'strength': 2.5}

    Notes
    -----
    Team sizes count every member, including people with no recorded interaction.
    A team with no members is given size 1 so that team-level counts stay finite.
    """
    teams, sizes, ia, ib, counts = _team_pairs(interactions, people_or_team_of, weight, level)
    g = nx.Graph()
    for t, s in zip(teams, sizes.tolist(), strict=True):
        g.add_node(t, size=int(s))
    strength = _strength(ia, ib, counts, sizes)
    rows = zip(ia.tolist(), ib.tolist(), counts.tolist(), strength.tolist(), strict=True)
    for a, b, c, s in rows:
        g.add_edge(teams[a], teams[b], count=c, strength=s)
    return g


def gaps_from_interactions(
    interactions: Interactions,
    people_or_team_of: TeamOf,
    *,
    need: Need | None = None,
    purpose: PurposeSpec = "build",
    weight: str = "weight",
    level: Literal["auto", "person", "team"] = "auto",
    s0: float | None = None,
    min_weight: float = 0.0,
) -> list[Gap]:
    r"""Turn observed interactions and the need to collaborate into connection gaps.

    A gap between teams :math:`a` and :math:`b` is worth

    .. math::

        w_{ab} = \nu_{ab} \, \frac{s_0}{s_0 + s_{ab}}, \qquad
        s_{ab} = \frac{I_{ab}}{n_a \, n_b}

    where :math:`\nu_{ab} \ge 0` is how much the teams need to work together,
    :math:`s_{ab}` their tie strength (see :func:`tie_strengths`) and :math:`s_0 > 0`
    the strength at which half of the need is met. Teams that never interacted get the
    whole need as their gap (:math:`w_{ab} = \nu_{ab}`); the gap shrinks smoothly as
    the tie strengthens and never reaches zero. Pairs with no need get no gap.

    Parameters
    ----------
    interactions : networkx graph or iterable of (u, v) or (u, v, count)
        Observed interactions between people or teams (see :func:`tie_strengths`).
    people_or_team_of : Organisation, list of Person, or mapping
        Who belongs to which team.
    need : networkx graph, mapping or iterable of (a, b, value), optional
        Need :math:`\nu_{ab}` between teams: a graph with a ``weight`` attribute
        (default 1), ``{(a, b): value}`` or ``(a, b, value)`` triples. ``None`` means
        every pair of (non-empty) teams needs each other equally (:math:`\nu = 1`);
        this grows quadratically, so pass an explicit need for big organisations.
    purpose : str, mapping or callable
        Purpose of the gaps: one of :data:`cohortmatch.model.PURPOSES`, a mapping
        ``{(a, b): purpose}`` (either order; missing pairs get ``"build"``), or a
        function ``purpose(a, b)``.
    weight : str
        Edge attribute holding counts (and needs) in graphs.
    level : {"auto", "person", "team"}
        Whether interaction nodes are people or teams.
    s0 : float, optional
        Half-saturation strength. ``None`` takes the median strength of the team pairs
        that interacted (1.0 if none did), which makes the result independent of the
        unit of the counts.
    min_weight : float
        Drop gaps whose weight is ``<= min_weight``.

    Returns
    -------
    list of Gap
        Sorted by team pair, one per pair with positive need (and weight above
        ``min_weight``), ``a < b``.

    Raises
    ------
    InputError
        On an unknown person or team, a count or need that is negative, not finite or
        not a number, a need given twice or from a team to itself, an unknown purpose,
        or an ``s0`` that is not > 0.
    SizeLimitError
        If ``need=None`` would create more than ``MAX_ALL_PAIRS`` team pairs.

    Examples
    --------
    Two teams that interact a lot and one that is cut off:

    >>> team_of = {"p1": "a", "p2": "a", "p3": "b", "p4": "c"}
    >>> ties = [("p1", "p3", 6), ("p2", "p3", 4), ("p1", "p4", 1)]
    >>> for gap in gaps_from_interactions(ties, team_of, s0=1.0):
    ...     print(gap.a, gap.b, round(gap.weight, 3))
    a b 0.167
    a c 0.667
    b c 1.0

    Only where collaboration is needed, with a purpose:

    >>> need = {("a", "b"): 2.0, ("b", "c"): 3.0}
    >>> [(g.a, g.b, g.weight, g.purpose)
    ...  for g in gaps_from_interactions(ties, team_of, need=need, purpose="process", s0=1.0)]
    [('a', 'b', 0.333..., 'process'), ('b', 'c', 3.0, 'process')]

    Notes
    -----
    The rational form :math:`s_0 / (s_0 + s)` is bounded, monotone, and robust to a
    few extremely strong ties, which a linear or logarithmic scale is not. Scaling all
    counts by a constant leaves the default :math:`s_0` and hence the gaps unchanged.

    See Also
    --------
    tie_strengths : The strengths :math:`s_{ab}` on their own.
    cohortmatch.synthetic.org_chart : Uses this formula for synthetic organisations.
    """
    teams, sizes, ia, ib, counts = _team_pairs(interactions, people_or_team_of, weight, level)
    index = {t: i for i, t in enumerate(teams)}
    if need is None:
        na, nb, nv = _all_pairs(sizes)
    else:
        na, nb, nv = _read_need(need, index, weight)
    if s0 is not None and not (_is_number(s0) and math.isfinite(s0) and s0 > 0):
        raise InputError(f"The 's0' must be a finite number > 0. Got {s0!r}.")
    if not (_is_number(min_weight) and math.isfinite(min_weight)):
        raise InputError(f"The 'min_weight' must be a finite number. Got {min_weight!r}.")
    w, _ = gap_weights(ia, ib, counts, sizes, na, nb, nv, s0=s0)
    keep = (nv > 0) & (w > min_weight)
    na, nb, w = na[keep], nb[keep], w[keep]
    a_ids = [teams[i] for i in na.tolist()]
    b_ids = [teams[i] for i in nb.tolist()]
    pairs = sorted(zip(a_ids, b_ids, w.tolist(), strict=True))
    resolve = _purpose_resolver(purpose)
    return [Gap(a=a, b=b, weight=x, purpose=resolve(a, b)) for a, b, x in pairs]


def half_saturation(ties: nx.Graph) -> float:
    """The ``s0`` :func:`gaps_from_interactions` takes by default: the median tie strength.

    The median ``strength`` over the team pairs that interacted (1.0 if none did), read
    from a graph made by :func:`tie_strengths`.

    Examples
    --------
    >>> team_of = {"p1": "a", "p2": "a", "p3": "b", "p4": "c"}
    >>> half_saturation(tie_strengths([("p1", "p3", 6), ("p2", "p3", 4), ("p1", "p4", 1)], team_of))
    2.75
    """
    strength = np.fromiter((s for _, _, s in ties.edges(data="strength", default=0.0)), np.float64)
    return _median_strength(strength)


# --------------------------------------------------------------------------- array core


def _median_strength(strength: np.ndarray) -> float:
    """Median of the positive strengths, 1.0 when there is none."""
    positive = strength[strength > 0]
    return float(np.median(positive)) if positive.size else 1.0


def _strength(ia: np.ndarray, ib: np.ndarray, counts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Tie strength ``I_ab / (n_a n_b)`` of each aggregated team pair."""
    n = np.maximum(sizes, 1).astype(np.float64)
    return counts / (n[ia] * n[ib])


def _aggregate(
    ia: np.ndarray, ib: np.ndarray, counts: np.ndarray, n_teams: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum counts per unordered team pair, dropping within-team pairs; pairs sorted."""
    ia = np.asarray(ia, dtype=np.int64)
    ib = np.asarray(ib, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.float64)
    lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
    other = lo != hi
    key = lo[other] * n_teams + hi[other]
    keys, inverse = np.unique(key, return_inverse=True)
    total = np.bincount(inverse, weights=counts[other], minlength=keys.size)
    return keys // n_teams, keys % n_teams, total


def gap_weights(
    ia: np.ndarray,
    ib: np.ndarray,
    counts: np.ndarray,
    sizes: np.ndarray,
    na: np.ndarray,
    nb: np.ndarray,
    need: np.ndarray,
    *,
    s0: float | None = None,
) -> tuple[np.ndarray, float]:
    """Gap weight of each need pair ``(na, nb)`` given aggregated, sorted interactions.

    ``ia < ib`` pairs must be unique and sorted by ``ia * T + ib`` (as `_aggregate`
    returns them). Returns the weights and the ``s0`` used.
    """
    n_teams = sizes.size
    strength = _strength(ia, ib, counts, sizes)
    if s0 is None:
        s0 = _median_strength(strength)
    keys = ia * n_teams + ib
    lo, hi = np.minimum(na, nb), np.maximum(na, nb)
    want = lo.astype(np.int64) * n_teams + hi
    pos = np.searchsorted(keys, want)
    pos_c = np.minimum(pos, max(keys.size - 1, 0))
    s = np.zeros(want.size)
    if keys.size:
        found = keys[pos_c] == want
        s[found] = strength[pos_c[found]]
    return need * (s0 / (s0 + s)), s0


# --------------------------------------------------------------------------- input reading


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _team_index(people_or_team_of: TeamOf) -> tuple[list[str], dict[str, int], dict[str, int]]:
    """Team ids (sorted), person -> team index, team -> index."""
    if isinstance(people_or_team_of, Organisation):
        pairs = [(p.id, p.team) for p in people_or_team_of.people]
        extra = [t.id for t in people_or_team_of.teams]
    elif isinstance(people_or_team_of, Mapping):
        pairs = list(people_or_team_of.items())
        extra = []
        for i, (p, t) in enumerate(pairs):
            if not isinstance(p, str) or not isinstance(t, str):
                raise InputError(
                    f"people_or_team_of entry {i} ({p!r}: {t!r}): person and team ids must be str"
                )
    else:
        pairs = []
        for i, person in enumerate(people_or_team_of):
            if not isinstance(person, Person):
                raise InputError(
                    f"people_or_team_of[{i}]: expected a Person, got {type(person).__name__}"
                )
            pairs.append((person.id, person.team))
        extra = []
    teams = sorted({t for _, t in pairs}.union(extra))
    tindex = {t: i for i, t in enumerate(teams)}
    pindex = {p: tindex[t] for p, t in pairs}
    return teams, pindex, tindex


def _records(interactions: Interactions, weight: str) -> Iterable[tuple[str, str, Any, Any, Any]]:
    """Yield ``(record, field, u, v, count)`` for every interaction record."""
    if isinstance(interactions, nx.Graph):
        field = f"attribute {weight!r}"
        if interactions.is_multigraph():
            edges = interactions.edges(keys=True, data=weight, default=1)
            for u, v, k, c in edges:
                yield f"interaction edge ({u!r}, {v!r}, key {k!r})", field, u, v, c
        else:
            for u, v, c in interactions.edges(data=weight, default=1):
                yield f"interaction edge ({u!r}, {v!r})", field, u, v, c
        return
    itertuples = getattr(interactions, "itertuples", None)  # a pandas DataFrame
    rows = itertuples(index=False, name=None) if itertuples is not None else interactions
    for i, row in enumerate(rows):
        row = tuple(row)
        if len(row) not in (2, 3):
            raise InputError(
                f"interaction {i}: expected (u, v) or (u, v, count), got {len(row)} values"
            )
        u, v = row[0], row[1]
        c = row[2] if len(row) == 3 else 1
        yield f"interaction {i} ({u!r}, {v!r})", "field 'count'", u, v, c


def _team_pairs(
    interactions: Interactions, people_or_team_of: TeamOf, weight: str, level: str
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate interactions; return teams, sizes and aggregated team pairs."""
    if level not in ("auto", "person", "team"):
        raise InputError(f"The 'level' must be 'auto', 'person' or 'team'. Got {level!r}.")
    teams, pindex, tindex = _team_index(people_or_team_of)
    sizes = np.bincount(np.fromiter(pindex.values(), np.int64, len(pindex)), minlength=len(teams))
    ia: list[int] = []
    ib: list[int] = []
    counts: list[float] = []
    lookup: dict[str, int] | None = None if level == "auto" else (
        pindex if level == "person" else tindex
    )
    kind = level
    for where, field, u, v, c in _records(interactions, weight):
        if lookup is None:
            kind = "person" if u in pindex else "team" if u in tindex else "person"
            lookup = pindex if kind == "person" else tindex
        for node in (u, v):
            if node not in lookup:
                raise InputError(f"{where}: unknown {kind} {node!r}")
        _check_amount(c, where, field)
        ia.append(lookup[u])
        ib.append(lookup[v])
        counts.append(float(c))
    a, b, total = _aggregate(np.array(ia, np.int64), np.array(ib, np.int64),
                             np.array(counts, np.float64), len(teams))
    return teams, sizes, a, b, total


def _all_pairs(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of non-empty teams, with need 1."""
    nonempty = np.flatnonzero(sizes > 0)
    k = nonempty.size
    if k * (k - 1) // 2 > MAX_ALL_PAIRS:
        raise SizeLimitError(
            f"need=None would create {k * (k - 1) // 2:,} team pairs (more than "
            f"{MAX_ALL_PAIRS:,}); pass an explicit 'need' between the teams that must collaborate"
        )
    i, j = np.triu_indices(k, 1)
    return nonempty[i], nonempty[j], np.ones(i.size)


def _read_need(
    need: Need, index: Mapping[str, int], weight: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(need, nx.Graph):
        rows: Iterable[tuple[str, str, Any, Any, Any]] = (
            (f"need edge ({a!r}, {b!r})", f"attribute {weight!r}", a, b, v)
            for a, b, v in need.edges(data=weight, default=1)
        )
    elif isinstance(need, Mapping):
        rows = _need_mapping(need)
    else:
        rows = _need_rows(need)
    seen: dict[tuple[int, int], str] = {}
    na: list[int] = []
    nb: list[int] = []
    nv: list[float] = []
    for where, field, a, b, v in rows:
        for node in (a, b):
            if node not in index:
                raise InputError(f"{where}: unknown team {node!r}")
        if a == b:
            raise InputError(f"{where}: a team cannot need itself")
        _check_amount(v, where, field)
        i, j = sorted((index[a], index[b]))
        if (i, j) in seen:
            raise InputError(f"{where}: the pair is given twice (also as {seen[(i, j)]})")
        seen[(i, j)] = where
        na.append(i)
        nb.append(j)
        nv.append(float(v))
    return np.array(na, np.int64), np.array(nb, np.int64), np.array(nv, np.float64)


def _need_mapping(need: Mapping[Any, Any]) -> Iterable[tuple[str, str, Any, Any, Any]]:
    for key, v in need.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise InputError(f"need key {key!r}: expected a pair of team ids (a, b)")
        yield f"need ({key[0]!r}, {key[1]!r})", "value", key[0], key[1], v


def _need_rows(need: Iterable[Sequence[Any]]) -> Iterable[tuple[str, str, Any, Any, Any]]:
    for i, row in enumerate(need):
        row = tuple(row)
        if len(row) not in (2, 3):
            raise InputError(f"need {i}: expected (a, b) or (a, b, value), got {len(row)} values")
        v = row[2] if len(row) == 3 else 1
        yield f"need {i} ({row[0]!r}, {row[1]!r})", "field 'value'", row[0], row[1], v


def _check_amount(value: Any, where: str, field: str) -> None:
    """A count or a need must be a finite real number >= 0."""
    if not _is_number(value):
        raise InputError(f"{where}, {field}: must be a number; got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise InputError(f"{where}, {field}: must be finite and >= 0; got {value!r}")


def _purpose_resolver(purpose: PurposeSpec) -> Callable[[str, str], Purpose]:
    def check(p: Any, a: str, b: str) -> Purpose:
        if p not in PURPOSES:
            raise InputError(
                f"gap ({a!r}, {b!r}), field 'purpose': must be one of {', '.join(PURPOSES)}; "
                f"got {p!r}"
            )
        return p

    if isinstance(purpose, str):
        fixed = check(purpose, "*", "*")
        return lambda a, b: fixed
    if isinstance(purpose, Mapping):
        table: dict[tuple[str, str], Purpose] = {}
        for key, p in purpose.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise InputError(f"purpose key {key!r}: expected a pair of team ids (a, b)")
            a, b = key
            table[(a, b) if a <= b else (b, a)] = check(p, a, b)
        return lambda a, b: table.get((a, b) if a <= b else (b, a), "build")
    if callable(purpose):
        return lambda a, b: check(purpose(a, b), a, b)
    raise InputError(
        f"The 'purpose' must be a str, a mapping or a callable. Got {type(purpose).__name__}."
    )
