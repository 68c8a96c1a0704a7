"""Synthetic organisations: hierarchy, reporting lines, attributes and connection gaps."""

from __future__ import annotations

import gc
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .errors import InputError
from .interactions import gap_weights
from .model import Organisation

__all__ = ["Preset", "PRESETS", "org_chart", "org_statistics", "side_by_side"]

#: Locations and their UTC offsets (hours), in the order divisions pick them.
LOCATIONS: tuple[tuple[str, float], ...] = (
    ("London", 0.0),
    ("New York", -5.0),
    ("Berlin", 1.0),
    ("Bangalore", 5.5),
    ("Singapore", 8.0),
    ("San Francisco", -8.0),
    ("Sao Paulo", -3.0),
    ("Sydney", 10.0),
)
_LOCATION_WEIGHTS = np.array([0.22, 0.18, 0.14, 0.14, 0.1, 0.1, 0.06, 0.06])

#: Functions a team can serve; ``matrix`` organisations link teams of one function.
FUNCTIONS = (
    "engineering", "product", "sales", "marketing", "operations",
    "finance", "support", "research", "people", "legal",
)
_FUNCTION_WEIGHTS = np.array([0.26, 0.1, 0.14, 0.08, 0.12, 0.06, 0.1, 0.06, 0.04, 0.04])

#: Tenure bands (years with the organisation) and their upper edges.
TENURE_BANDS = ("<1y", "1-2y", "3-5y", "6-10y", ">10y")
_TENURE_EDGES = np.array([1.0, 3.0, 6.0, 11.0])

_ROLES = ("ceo", "division head", "group head", "department head", "team lead", "member")
_CLASSES = ("department", "division", "function", "company", "cross")
_RATE = 0.5  # interactions per pair of people per period, within a department


@dataclass(frozen=True)
class Preset:
    """Parameters of a family of synthetic organisations.

    Parameters
    ----------
    name : str
        Name of the preset.
    gaps_per_team : float
        Mean number of needed collaborations each team starts; the organisation gets
        about this many gaps per team (fewer after duplicates are merged).
    need_mix : tuple of 5 floats
        Shares of needed collaborations with a sibling team of the same department,
        another department of the same division, a team of the same function, a team
        of the other former company, and a team of another division.
    decay : float
        Interaction rate multiplier per level of organisational distance.
    cross_link : float
        Probability that a pair of teams has a strong informal tie (former colleagues,
        a shared project) whatever their distance.
    function_closeness : float
        Interaction rate multiplier for teams of the same function.
    companies : int
        1, or 2 for two former companies (the first ~60% of divisions are company A).
    company_factor : float
        Interaction rate multiplier across former companies.
    home_share : float
        Probability that a team sits at its division's home location.
    colocated : float
        Probability that a member sits at their team's location.
    tz_hours : float
        Interaction rate multiplier ``exp(-dt / tz_hours)`` for a time-zone difference
        of ``dt`` hours between two teams.

    Examples
    --------
    >>> PRESETS["merger"].companies
    2
    >>> from dataclasses import replace
    >>> org = org_chart(60, preset=replace(PRESETS["silos"], gaps_per_team=1.0), seed=1)
    >>> len(org.people)
    60
    """

    name: str
    gaps_per_team: float = 3.0
    need_mix: tuple[float, float, float, float, float] = (0.4, 0.3, 0.0, 0.0, 0.3)
    decay: float = 0.25
    cross_link: float = 0.05
    function_closeness: float = 1.0
    companies: int = 1
    company_factor: float = 1.0
    home_share: float = 0.8
    colocated: float = 0.9
    tz_hours: float = 12.0

    def __post_init__(self) -> None:
        mix = np.asarray(self.need_mix, dtype=float)
        if mix.shape != (5,) or not np.all(np.isfinite(mix)) or mix.min() < 0 or mix.sum() <= 0:
            raise InputError(
                f"The 'need_mix' of preset {self.name!r} must be 5 finite shares >= 0 with a "
                f"positive sum. Got {self.need_mix!r}."
            )
        for f in fields(self):
            if f.name in ("name", "need_mix"):
                continue
            v = getattr(self, f.name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise InputError(
                    f"The {f.name!r} of preset {self.name!r} must be a finite number >= 0. "
                    f"Got {v!r}."
                )
        if self.companies not in (1, 2):
            raise InputError(
                f"The 'companies' of preset {self.name!r} must be 1 or 2. Got {self.companies!r}."
            )
        if self.tz_hours <= 0:
            raise InputError(
                f"The 'tz_hours' of preset {self.name!r} must be > 0. Got {self.tz_hours!r}."
            )


#: The built-in presets (see :func:`org_chart` for what each models).
PRESETS: dict[str, Preset] = {
    "silos": Preset(
        name="silos", need_mix=(0.45, 0.35, 0.0, 0.0, 0.20), decay=0.15, cross_link=0.02,
        home_share=0.9, colocated=0.95,
    ),
    "matrix": Preset(
        name="matrix", need_mix=(0.3, 0.2, 0.3, 0.0, 0.2), decay=0.4, cross_link=0.10,
        function_closeness=3.0, home_share=0.6,
    ),
    "merger": Preset(
        name="merger", need_mix=(0.35, 0.2, 0.0, 0.35, 0.1), decay=0.3, cross_link=0.03,
        companies=2, company_factor=0.1, home_share=0.85, colocated=0.95,
    ),
    "remote": Preset(
        name="remote", need_mix=(0.4, 0.3, 0.0, 0.0, 0.3), decay=0.35, cross_link=0.05,
        home_share=0.3, colocated=0.35, tz_hours=3.0,
    ),
}


def org_chart(
    people: int,
    *,
    preset: str | Preset = "silos",
    team_size: tuple[int, int] = (5, 12),
    span: tuple[int, int] = (3, 8),
    divisions: int | None = None,
    gaps_per_team: float | None = None,
    seed: int | np.random.Generator | None = None,
) -> Organisation:
    r"""Generate a realistic organisation of ``people`` people with connection gaps.

    The hierarchy is a CEO, divisions, zero or more levels of groups, departments and
    teams. Teams of ``team_size`` people (the lead included) form departments of
    ``span`` teams; departments are grouped ``span`` at a time until no division head
    has more than ``span[1]`` direct reports, so big organisations get deeper, not
    wider. Every unit above the teams is a :class:`~cohortmatch.model.Team` record
    too (``org`` at the root, ``divNN``, ``grpNNN``, ``depNNNN``), holding only its
    head; every team's ``parent`` is its department.

    Each team starts about ``gaps_per_team`` needed collaborations :math:`\nu_{ab}`
    (mean 1) with a partner drawn by the preset's ``need_mix``. Interactions
    between the partners are Poisson counts with rate per pair of people

    .. math::

        \lambda_{ab} = 0.5 \, \delta^{d_{ab} - 1} \, \phi_{ab} \,
                       \kappa_{ab} \, e^{-\Delta t_{ab} / \tau}

    (:math:`d` the number of levels up to the lowest common unit, :math:`\delta` the
    ``decay``, :math:`\phi` the ``function_closeness`` for teams of one function,
    :math:`\kappa` the ``company_factor`` across former companies, :math:`\Delta t`
    the time-zone difference and :math:`\tau` the ``tz_hours``), raised to at least
    :math:`0.25` for random cross links. Gaps follow with
    :func:`cohortmatch.interactions.gaps_from_interactions`'s formula: weak ties
    where collaboration is needed are big gaps.

    Parameters
    ----------
    people : int
        Number of people, at least ``team_size[0] + 3``.
    preset : {"silos", "matrix", "merger", "remote"} or Preset
        ``silos``: strong divisions, co-located, few cross links; needs mostly inside
        departments and divisions. ``matrix``: a second, functional line; teams of one
        function need and talk to each other across divisions. ``merger``: two former
        companies (attribute ``company``); a third of needs cross the old border,
        where interactions are rare: many ``repair`` gaps. ``remote``: teams and
        people spread over eight time zones; interactions fade with the time-zone
        difference, so locations matter.
    team_size : (int, int)
        Smallest and largest team, lead included. Teams fall short of the smallest
        size only when no exact split of the people exists (e.g. ``(8, 8)``).
    span : (int, int)
        Smallest and largest number of units a unit head manages.
    divisions : int, optional
        Number of divisions (at most the number of teams); ``None`` takes
        ``round(log2(people)) - 4`` within [1, 12], at least 2 for two companies.
    gaps_per_team : float, optional
        Overrides the preset's ``gaps_per_team``.
    seed : None, int or numpy.random.Generator
        Randomness; the same seed gives the same organisation.

    Returns
    -------
    Organisation
        People ``e0000`` (the CEO), ``e0001``, ... (zero-padded to the width of the
        largest id; heads of units first, then the teams, lead first). ``manager`` is
        set: team members report to their team lead, leads to their department head,
        heads to the head of the unit above, division heads to the CEO. Attributes:
        ``division``, ``department`` (for heads: the unit they run), ``role``,
        ``level`` (1 for the CEO), ``function``, ``location``, ``utc_offset``,
        ``tenure`` (a band of :data:`TENURE_BANDS`) and, for two companies,
        ``company``. Gaps join leaf teams
        only; their purpose is ``repair`` across former companies, else ``build``
        within a department, ``process`` (hand-offs) within a division, ``knowledge``
        across divisions within a function and ``innovation`` otherwise.

    Raises
    ------
    InputError
        If a parameter is out of range or the preset is unknown.

    Examples
    --------
    >>> org = org_chart(1000, preset="silos", seed=7)
    >>> len(org.people), len(org.gaps) > 0
    (1000, True)
    >>> stats = org_statistics(org)
    >>> 5 <= stats["team_size_min"] and stats["team_size_max"] <= 12
    True
    >>> org.person("e0042").attributes["role"]
    'member'
    >>> org == org_chart(1000, preset="silos", seed=7)
    True

    Notes
    -----
    Everything is vectorised over people, teams and pairs; the number of gaps is
    :math:`O(\text{teams})`. 100,000 people take about two seconds on a quiet
    machine, most of it in pydantic's validation of the people; the cyclic garbage
    collector is paused meanwhile (it would find nothing to collect). Statistics of
    each preset at 10,000 people are in ``docs/synthetic.md``.

    See Also
    --------
    org_statistics : Team sizes, spans and gap mix of an organisation.
    cohortmatch.interactions.gaps_from_interactions : The gap formula.
    """
    p = _check_preset(preset)
    lo, hi = _check_range(team_size, "team_size", 2)
    s_lo, s_hi = _check_range(span, "span", 2)
    if isinstance(people, bool) or not isinstance(people, int | np.integer) or people < lo + 3:
        raise InputError(
            f"The 'people' must be an int >= team_size[0] + 3 ({lo + 3}). Got {people!r}."
        )
    if divisions is not None and (
        isinstance(divisions, bool) or not isinstance(divisions, int | np.integer) or divisions < 1
    ):
        raise InputError(f"The 'divisions' must be an int >= 1 or None. Got {divisions!r}.")
    g = p.gaps_per_team if gaps_per_team is None else gaps_per_team
    if isinstance(g, bool) or not isinstance(g, int | float) or not (math.isfinite(g) and g >= 0):
        raise InputError(f"The 'gaps_per_team' must be a finite number >= 0. Got {g!r}.")
    rng = np.random.default_rng(seed)
    n = int(people)

    h = _structure(n, lo, hi, s_lo, s_hi, divisions, p.companies, rng)
    places = _places(h, p, rng)
    with _gc_paused():
        people_rows = _people(h, places, p, rng)
        gaps = _gaps(h, places, p, float(g), rng)
        return Organisation.model_validate(
            {"people": people_rows, "teams": _team_rows(h, places), "gaps": gaps}
        )


def side_by_side(orgs: list[Organisation]) -> Organisation:
    """Organisations side by side as one, with no gap between them (a group of companies).

    Every person, team and gap id of the ``i``-th organisation is prefixed ``d<i>:``. Each
    organisation is a division whose gaps stay inside it, which
    :func:`cohortmatch.plan` can plan as independent blocks (``decompose``).

    Examples
    --------
    >>> group = side_by_side([org_chart(30, seed=1), org_chart(20, seed=2)])
    >>> len(group.people), group.people[0].id, group.people[-1].team.startswith("d1:")
    (50, 'd0:e0000', True)
    """
    people, teams, gaps = [], [], []
    for i, org in enumerate(orgs):

        def name(x: str | None, i: int = i) -> str | None:
            return None if x is None else f"d{i}:{x}"

        people += [p.model_copy(update={"id": name(p.id), "team": name(p.team), "manager": name(p.manager)})
                   for p in org.people]
        teams += [t.model_copy(update={"id": name(t.id), "parent": name(t.parent)}) for t in org.teams]
        gaps += [g.model_copy(update={"a": name(g.a), "b": name(g.b)}) for g in org.gaps]
    return Organisation(people=tuple(people), teams=tuple(teams), gaps=tuple(gaps))


def org_statistics(org: Organisation) -> dict[str, Any]:
    """Structure and gap statistics of an organisation.

    Leaf teams are teams with members that are nobody's ``parent``. A team's division
    is its highest ancestor (a team with no parent, possibly itself), or, when all
    leaf teams share one such root, the ancestor just below that root.

    Parameters
    ----------
    org : Organisation
        Any organisation.

    Returns
    -------
    dict
        ``people``, ``teams`` (leaf teams), ``units`` (teams that are parents),
        ``divisions``, ``levels`` (longest management chain, in people),
        ``span_mean``/``span_max`` (direct reports per manager), ``team_size_min``,
        ``team_size_mean``, ``team_size_max``, ``team_size_p10``/``p50``/``p90``,
        ``gaps``, ``gaps_per_team``, ``cross_division_share`` (share of gaps between
        divisions), ``weight_mean``, ``weight_mean_cross``/``weight_mean_within``
        (mean gap weight across/within divisions; ``nan`` if there are none) and
        ``purpose_share`` (share of gaps by purpose).

    Examples
    --------
    >>> from cohortmatch.datasets import krackhardt_hightech
    >>> s = org_statistics(krackhardt_hightech())
    >>> s["people"], s["teams"], s["levels"], s["span_max"]
    (21, 4, 3, 7)
    """
    parent = {t.id: t.parent for t in org.teams}
    size = Counter(p.team for p in org.people)
    has_child = {t for t in parent.values() if t is not None}
    leaves = sorted(t for t in parent if size[t] > 0 and t not in has_child)
    division = _divisions(parent, leaves)
    sizes = np.array([size[t] for t in leaves], dtype=float)
    reports = Counter(p.manager for p in org.people if p.manager is not None)
    spans = np.array(list(reports.values()), dtype=float)
    weights = np.array([gp.weight for gp in org.gaps], dtype=float)
    cross = np.array([division[gp.a] != division[gp.b] for gp in org.gaps], dtype=bool)
    purposes = Counter(gp.purpose for gp in org.gaps)
    n_gaps = len(org.gaps)

    def mean(x: np.ndarray) -> float:
        return float(x.mean()) if x.size else math.nan

    def q(x: float) -> float:
        return float(np.quantile(sizes, x)) if sizes.size else math.nan

    return {
        "people": len(org.people),
        "teams": len(leaves),
        "units": len(has_child),
        "divisions": len({division[t] for t in leaves}),
        "levels": _levels(org),
        "span_mean": mean(spans),
        "span_max": int(spans.max()) if spans.size else 0,
        "team_size_min": int(sizes.min()) if sizes.size else 0,
        "team_size_mean": mean(sizes),
        "team_size_max": int(sizes.max()) if sizes.size else 0,
        "team_size_p10": q(0.1),
        "team_size_p50": q(0.5),
        "team_size_p90": q(0.9),
        "gaps": n_gaps,
        "gaps_per_team": n_gaps / len(leaves) if leaves else math.nan,
        "cross_division_share": mean(cross.astype(float)),
        "weight_mean": mean(weights),
        "weight_mean_cross": mean(weights[cross]),
        "weight_mean_within": mean(weights[~cross]),
        "purpose_share": {k: purposes[k] / n_gaps for k in sorted(purposes)},
    }


# --------------------------------------------------------------------------- validation


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects.

    Building 100,000 people allocates millions of dicts and strings, which triggers
    collections that find nothing; pausing halves the time. The previous state is
    restored on exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_preset(preset: str | Preset) -> Preset:
    if isinstance(preset, Preset):
        return preset
    if not isinstance(preset, str) or preset not in PRESETS:
        raise InputError(
            f"The 'preset' must be one of {', '.join(sorted(PRESETS))} or a Preset. "
            f"Got {preset!r}."
        )
    return PRESETS[preset]


def _check_range(value: Any, name: str, least: int) -> tuple[int, int]:
    ok = (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in value)
        and least <= value[0] <= value[1]
    )
    if not ok:
        raise InputError(
            f"The {name!r} must be (min, max) with {least} <= min <= max. Got {value!r}."
        )
    return int(value[0]), int(value[1])


# --------------------------------------------------------------------------- structure


@dataclass
class _Hierarchy:
    """Arrays of one generated hierarchy; units first (0 = root), then leaf teams."""

    unit_parent: np.ndarray  # (U,) parent unit; the root is its own parent
    unit_kind: np.ndarray  # (U,) 0 root, 1 division, 2 group, 3 department
    unit_depth: np.ndarray  # (U,) 0 for the root
    unit_division: np.ndarray  # (U,) division number, -1 for the root
    team_dept: np.ndarray  # (T,) department unit of each team
    team_division: np.ndarray  # (T,) division number
    team_size: np.ndarray  # (T,) people, lead included
    division_company: np.ndarray  # (D,) 0 or 1
    ancestors: np.ndarray  # (T, K) unit k+1 levels above each team, padded with the root

    @property
    def n_units(self) -> int:
        return int(self.unit_parent.size)

    @property
    def n_teams(self) -> int:
        return int(self.team_dept.size)


def _sizes(total: int, m: int, lo: int, hi: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` sizes in ``[lo, hi]`` summing to ``total`` (requires ``m*lo <= total <= m*hi``).

    Beta-binomial around the mean, then +-1 on random members with room.
    """
    mean = (total / m - lo) / (hi - lo) if hi > lo else 0.0
    pm = min(max(mean, 0.02), 0.98)
    p = rng.beta(4.0 * pm, 4.0 * (1.0 - pm), size=m)
    sizes = lo + rng.binomial(hi - lo, p)
    diff = total - int(sizes.sum())
    while diff != 0:
        room = np.flatnonzero(sizes < hi) if diff > 0 else np.flatnonzero(sizes > lo)
        pick = rng.choice(room, size=min(abs(diff), room.size), replace=False)
        sizes[pick] += 1 if diff > 0 else -1
        diff = total - int(sizes.sum())
    return sizes


def _split(total: int, lo: int, hi: int, rng: np.random.Generator) -> np.ndarray:
    """Random group sizes in ``[lo, hi]`` summing to ``total`` (one group if it is < lo)."""
    if total <= hi:
        return np.array([total])
    m = int(np.clip(round(2 * total / (lo + hi)), -(-total // hi), max(total // lo, 1)))
    if m * lo > total or m * hi < total:  # no exact split: allow small groups
        m = -(-total // hi)
        return _sizes(total, m, 1, hi, rng)
    return _sizes(total, m, lo, hi, rng)


def _structure(
    n: int, lo: int, hi: int, s_lo: int, s_hi: int, divisions: int | None,
    companies: int, rng: np.random.Generator,
) -> _Hierarchy:
    """Pick the number of teams and build the hierarchy and team sizes."""
    s_mean = (s_lo + s_hi) / 2
    heads_per_team = 1.0 / max(s_mean - 1.0, 1.0)
    n_teams = max(1, round((n - 1) / ((lo + hi) / 2 + heads_per_team)))
    d_auto = divisions if divisions is not None else int(np.clip(round(math.log2(n)) - 4, 1, 12))
    if companies > 1:
        d_auto = max(d_auto, 2)

    def build(n_teams: int) -> tuple[dict[str, np.ndarray], int, int]:
        d = min(d_auto, n_teams)
        h = _units(n_teams, d, s_lo, s_hi, rng)
        return h, d, n - h["unit_parent"].size  # people in teams (the root's head is the CEO)

    h, d, rest = build(n_teams)
    while rest < lo * n_teams and n_teams > 1:  # too many teams for the people
        n_teams -= 1
        h, d, rest = build(n_teams)
    while rest > hi * n_teams:  # too few teams
        n_teams += 1
        h, d, rest = build(n_teams)
    t_lo = min(lo, rest // n_teams)
    team_size = _sizes(rest, n_teams, t_lo, hi, rng)
    split = max(1, min(round(0.6 * d), d - 1)) if companies > 1 else d
    company = (np.arange(d) >= split).astype(np.int64)
    return _Hierarchy(team_size=team_size, division_company=company, **h)


def _units(
    n_teams: int, d: int, s_lo: int, s_hi: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Units above ``n_teams`` teams in ``d`` divisions, built bottom-up per division.

    Units are numbered top-down (root, divisions, then each division's levels from the
    top), so a parent always precedes its children and the teams of a department, of
    a group and of a division are contiguous.
    """
    per_div = 1 + rng.multinomial(n_teams - d, rng.dirichlet(np.full(d, 4.0)))
    parent = [np.zeros(1 + d, dtype=np.int64)]
    kind = [np.array([0] + [1] * d, dtype=np.int64)]
    division = [np.arange(-1, d, dtype=np.int64)]
    team_dept: list[np.ndarray] = []
    n_units = 1 + d
    for k in range(d):
        levels = []  # levels[i] maps the units (teams for i = 0) below level i to level i
        count = int(per_div[k])
        while True:
            groups = _split(count, s_lo, s_hi, rng)
            levels.append(np.repeat(np.arange(groups.size, dtype=np.int64), groups))
            count = groups.size
            if count <= s_hi:
                break
        base = {}
        for i in reversed(range(len(levels))):  # top level first
            m = int(levels[i][-1]) + 1
            base[i] = n_units
            up = levels[i + 1] + base[i + 1] if i + 1 < len(levels) else np.full(m, 1 + k)
            parent.append(up.astype(np.int64))
            kind.append(np.full(m, 3 if i == 0 else 2, dtype=np.int64))
            division.append(np.full(m, k, dtype=np.int64))
            n_units += m
        team_dept.append(levels[0] + base[0])
    unit_parent = np.concatenate(parent)
    unit_division = np.concatenate(division)
    depth = np.zeros(n_units, dtype=np.int64)
    node = np.arange(n_units)
    while np.any(node != 0):
        depth += node != 0
        node = unit_parent[node]
    dept = np.concatenate(team_dept)
    k_max = int(depth[dept].max()) + 1
    anc = np.empty((dept.size, k_max), dtype=np.int64)
    anc[:, 0] = dept
    for j in range(1, k_max):
        anc[:, j] = unit_parent[anc[:, j - 1]]
    return {
        "unit_parent": unit_parent, "unit_kind": np.concatenate(kind), "unit_depth": depth,
        "unit_division": unit_division, "team_dept": dept,
        "team_division": unit_division[dept], "ancestors": anc,
    }


# --------------------------------------------------------------------------- attributes


def _width(count: int, least: int) -> int:
    return max(least, len(str(count)))


def _ids(h: _Hierarchy) -> tuple[list[str], list[str]]:
    """Ids of the units (``org``, ``divNN``, ``grpNNN``, ``depNNNN``) and the teams."""
    kind = h.unit_kind
    ids = np.empty(h.n_units, dtype=object)
    ids[0] = "org"
    for k, prefix, least in ((1, "div", 2), (2, "grp", 3), (3, "dep", 4)):
        where = np.flatnonzero(kind == k)
        w = _width(where.size, least)
        ids[where] = [f"{prefix}{j:0{w}d}" for j in range(1, where.size + 1)]
    w = _width(h.n_teams, 5)
    return ids.tolist(), [f"team{t:0{w}d}" for t in range(1, h.n_teams + 1)]


def _places(h: _Hierarchy, p: Preset, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Locations of units and teams, and the function of each team."""
    n_loc = len(LOCATIONS)
    n_div = h.division_company.size
    home = rng.choice(n_loc, size=n_div, p=_LOCATION_WEIGHTS)
    unit_loc = np.where(h.unit_division >= 0, home[np.maximum(h.unit_division, 0)], 0)
    away = rng.random(h.n_teams) >= p.home_share
    team_loc = np.where(away, rng.choice(n_loc, size=h.n_teams, p=_LOCATION_WEIGHTS),
                        home[h.team_division])
    dept_func = rng.choice(len(FUNCTIONS), size=h.n_units, p=_FUNCTION_WEIGHTS)
    other = rng.random(h.n_teams) >= 0.8
    team_func = np.where(other, rng.choice(len(FUNCTIONS), size=h.n_teams, p=_FUNCTION_WEIGHTS),
                         dept_func[h.team_dept])
    return {"unit_loc": unit_loc, "team_loc": team_loc, "team_func": team_func}


def _team_rows(h: _Hierarchy, places: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    unit_ids, team_ids = _ids(h)
    label = {0: "Executive office", 1: "Division", 2: "Group", 3: "Department"}
    rows: list[dict[str, Any]] = [{"id": "org", "name": label[0]}]
    for u in range(1, h.n_units):
        kind = int(h.unit_kind[u])
        number = int(unit_ids[u][3:])
        rows.append({"id": unit_ids[u], "name": f"{label[kind]} {number}",
                     "parent": unit_ids[int(h.unit_parent[u])]})
    funcs = [FUNCTIONS[f] for f in places["team_func"].tolist()]
    for t, (tid, dept) in enumerate(zip(team_ids, h.team_dept.tolist(), strict=True)):
        rows.append({"id": tid, "name": f"Team {t + 1} ({funcs[t]})", "parent": unit_ids[dept]})
    return rows


def _people(
    h: _Hierarchy, places: dict[str, np.ndarray], p: Preset, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """One row per person: unit heads first (person ``u`` runs unit ``u``), then teams."""
    unit_ids, team_ids = _ids(h)
    U, T = h.n_units, h.n_teams  # noqa: N806
    size = h.team_size
    n = U + int(size.sum())
    starts = U + np.concatenate(([0], np.cumsum(size)[:-1]))
    team_of = np.repeat(np.arange(T), size)  # team of each member (people U..n-1)
    is_lead = np.zeros(n - U, dtype=bool)
    is_lead[starts - U] = True

    manager = np.empty(n, dtype=np.int64)
    manager[:U] = h.unit_parent
    manager[0] = -1
    manager[U:] = starts[team_of]
    manager[starts] = h.team_dept

    team_depth = h.unit_depth[h.team_dept] + 1
    level = np.concatenate([h.unit_depth + 1, team_depth[team_of] + 1 + ~is_lead])
    role = np.concatenate([h.unit_kind, np.where(is_lead, 4, 5)])
    division = np.concatenate([h.unit_division, h.team_division[team_of]])
    unit = np.concatenate([np.arange(U), h.team_dept[team_of]])
    func = np.concatenate([np.full(U, -1), places["team_func"][team_of]])
    stray = rng.random(n - U) >= p.colocated
    member_loc = np.where(
        stray, rng.choice(len(LOCATIONS), size=n - U, p=_LOCATION_WEIGHTS),
        places["team_loc"][team_of],
    )
    loc = np.concatenate([places["unit_loc"], member_loc])
    seniority = np.concatenate([np.full(U, 4.0), np.where(is_lead, 2.0, 0.0)])
    years = rng.gamma(1.5, 3.0, size=n) + seniority
    tenure = np.searchsorted(_TENURE_EDGES, years, side="right")

    w = _width(n - 1, 4)
    ids = [f"e{i:0{w}d}" for i in range(n)]
    div_ids = ["org"] + [unit_ids[1 + k] for k in range(h.division_company.size)]
    functions = ("management",) + FUNCTIONS
    cols: dict[str, list[Any]] = {
        "division": [div_ids[d + 1] for d in division.tolist()],
        "department": [unit_ids[u] for u in unit.tolist()],
        "role": [_ROLES[r] for r in role.tolist()],
        "level": level.tolist(),
        "function": [functions[f + 1] for f in func.tolist()],
        "location": [LOCATIONS[k][0] for k in loc.tolist()],
        "utc_offset": [LOCATIONS[k][1] for k in loc.tolist()],
        "tenure": [TENURE_BANDS[b] for b in tenure.tolist()],
    }
    if p.companies > 1:
        company = np.concatenate([[0], h.division_company])[division + 1]
        cols["company"] = ["AB"[c] for c in company.tolist()]
    team_names = unit_ids + team_ids
    team_node = np.concatenate([np.arange(U), U + team_of]).tolist()
    mgr = manager.tolist()
    rows = [
        {
            "id": ids[i],
            "team": team_names[t],
            "manager": ids[m] if m >= 0 else None,
            "attributes": {
                "division": d, "department": dep, "role": r, "level": lv, "function": f,
                "location": lc, "utc_offset": z, "tenure": te,
            },
        }
        for i, (t, m, d, dep, r, lv, f, lc, z, te) in enumerate(zip(
            team_node, mgr, cols["division"], cols["department"], cols["role"], cols["level"],
            cols["function"], cols["location"], cols["utc_offset"], cols["tenure"], strict=True,
        ))
    ]
    if "company" in cols:
        for row, c in zip(rows, cols["company"], strict=True):
            row["attributes"]["company"] = c
    return rows


# --------------------------------------------------------------------------- gaps


def _pick_other(
    start: np.ndarray, count: np.ndarray, pos: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """A uniform position in ``[start, start + count)`` other than ``pos`` (count >= 2)."""
    r = np.floor(u * (count - 1)).astype(np.int64)
    return start + (pos - start + 1 + r) % np.maximum(count, 1)


def _pick_outside(
    start: np.ndarray, count: np.ndarray, total: int, u: np.ndarray
) -> np.ndarray:
    """A uniform position in ``[0, total)`` outside ``[start, start + count)``."""
    idx = np.floor(u * (total - count)).astype(np.int64)
    return idx + np.where(idx >= start, count, 0)


def _blocks(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of the contiguous block holding each element's label."""
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [labels.size])))
    block = np.repeat(np.arange(starts.size), lengths)
    return starts[block], lengths[block]


def _gaps(
    h: _Hierarchy, places: dict[str, np.ndarray], p: Preset, g: float, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Needed collaborations, simulated interactions, and the gaps between leaf teams."""
    T = h.n_teams  # noqa: N806
    if T < 2 or g == 0:
        return []
    team = np.arange(T)
    company = h.division_company[h.team_division]
    func = places["team_func"]
    dept_start, dept_count = _blocks(h.team_dept)
    div_start, div_count = _blocks(h.team_division)
    comp_start, comp_count = _blocks(company)
    order = np.argsort(func, kind="stable")
    rank = np.empty(T, dtype=np.int64)
    rank[order] = team
    f_start, f_count = _blocks(func[order])
    f_start, f_count = f_start[rank], f_count[rank]

    # data: who needs whom
    starts_k = np.floor(g + rng.random(T)).astype(np.int64)  # mean g per team
    src = np.repeat(team, starts_k)
    cls = rng.choice(len(_CLASSES), size=src.size, p=np.asarray(p.need_mix) / sum(p.need_mix))
    u = rng.random(src.size)
    # the same division, another department: a position in the division block, skipping
    # the department's own block
    within = div_start[src] + np.floor(u * (div_count[src] - dept_count[src])).astype(np.int64)
    within += np.where(within >= dept_start[src], dept_count[src], 0)
    cand = np.stack([
        _pick_other(dept_start[src], dept_count[src], src, u),
        within,
        order[_pick_other(f_start[src], f_count[src], rank[src], u)],
        _pick_outside(comp_start[src], comp_count[src], T, u),
        _pick_outside(div_start[src], div_count[src], T, u),
    ])
    valid = np.stack([
        dept_count[src] >= 2,
        div_count[src] > dept_count[src],
        f_count[src] >= 2,
        comp_count[src] < T,
        div_count[src] < T,
    ])
    for fallback in (4, 1, 0):  # another division, then the same division, then department
        bad = ~valid[cls, np.arange(src.size)]
        cls[bad & valid[fallback]] = fallback
    ok = valid[cls, np.arange(src.size)]
    a, b = src[ok], cand[cls[ok], np.flatnonzero(ok)]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keys = np.unique(lo * T + hi)
    na, nb = keys // T, keys % T
    need = rng.gamma(2.0, 0.5, size=keys.size)

    # interactions observed between the partners
    anc = h.ancestors
    distance = 1 + np.argmax(anc[na] == anc[nb], axis=1)
    cross_company = company[na] != company[nb]
    same_func = func[na] == func[nb]
    tz = np.array([x[1] for x in LOCATIONS])
    dt = np.abs(tz[places["team_loc"][na]] - tz[places["team_loc"][nb]])
    dt = np.minimum(dt, 24.0 - dt)
    rate = (
        _RATE
        * p.decay ** (distance - 1.0)
        * np.where(same_func, p.function_closeness, 1.0)
        * np.where(cross_company, p.company_factor, 1.0)
        * np.exp(-dt / p.tz_hours)
    )
    linked = rng.random(keys.size) < p.cross_link
    rate = np.where(linked, np.maximum(rate, _RATE / 2), rate)
    size = h.team_size.astype(np.float64)
    counts = rng.poisson(rate * size[na] * size[nb]).astype(np.float64)
    weight, _ = gap_weights(na, nb, counts, h.team_size, na, nb, need)
    weight = np.maximum(np.round(weight, 3), 0.001)

    # purposes
    same_dept = h.team_dept[na] == h.team_dept[nb]
    same_div = h.team_division[na] == h.team_division[nb]
    purpose = np.select(
        [cross_company, same_dept, same_div, same_func],
        [1, 0, 2, 3],
        default=4,
    )
    names = ("build", "repair", "process", "knowledge", "innovation")
    _, team_ids = _ids(h)
    return [
        {"a": team_ids[i], "b": team_ids[j], "weight": w, "purpose": names[k]}
        for i, j, w, k in zip(na.tolist(), nb.tolist(), weight.tolist(), purpose.tolist(),
                              strict=True)
    ]


def _divisions(parent: dict[str, str | None], leaves: list[str]) -> dict[str, str]:
    """Division of every team: its top ancestor, or the one below it if all share a root."""
    chains = {}
    for t in parent:
        chain = [t]
        while (up := parent[chain[-1]]) is not None and len(chain) <= len(parent):
            chain.append(up)
        chains[t] = chain
    single_root = len({chains[t][-1] for t in leaves}) == 1
    return {
        t: chain[-2] if single_root and len(chain) > 1 else chain[-1]
        for t, chain in chains.items()
    }


def _levels(org: Organisation) -> int:
    """Longest management chain, counted in people (1 if nobody has a manager)."""
    manager = {p.id: p.manager for p in org.people}
    depth: dict[str, int] = {}
    for start in manager:
        chain = []
        node: str | None = start
        while node is not None and node not in depth:
            chain.append(node)
            node = manager[node]
        base = depth[node] if node is not None else 0
        for k, x in enumerate(reversed(chain), start=1):
            depth[x] = base + k
    return max(depth.values())
