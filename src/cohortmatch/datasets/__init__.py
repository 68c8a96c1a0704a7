"""Small real organisations shipped with cohortmatch, loaded as :class:`Organisation` objects."""

from __future__ import annotations

import csv
from importlib import resources
from typing import Literal

from ..errors import InputError
from ..interactions import gaps_from_interactions
from ..model import Organisation, Person, Team

__all__ = ["krackhardt_hightech", "lazega_lawfirm", "interactions"]

_TIE_PURPOSE = {"advice": "knowledge", "cowork": "build", "friends": "build"}


def _read(folder: str, name: str) -> list[dict[str, str]]:
    text = resources.files(__name__).joinpath("data", folder, name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _check_ties(ties: str, allowed: tuple[str, ...], loader: str) -> None:
    if ties not in allowed:
        raise InputError(
            f"The 'ties' of {loader}() must be one of {', '.join(allowed)}. Got {ties!r}."
        )


def krackhardt_hightech(*, ties: Literal["advice", "friends"] = "advice") -> Organisation:
    """The 21 managers of a small high-tech firm (Krackhardt, 1987).

    The CEO, four vice-presidents and sixteen managers in four departments. Each
    department is a team (``dept1`` ... ``dept4``, parent ``ceo``); the CEO is alone in
    the team ``ceo``. ``manager`` follows the formal reporting lines. Gaps come from
    the advice (or friendship) ties with
    :func:`~cohortmatch.interactions.gaps_from_interactions`, every pair of teams
    needing each other equally: a pair of departments that rarely ask each other for
    advice has a big gap.

    Parameters
    ----------
    ties : {"advice", "friends"}
        Which informal network the gaps come from; advice ties give ``knowledge``
        gaps, friendship ties ``build`` gaps.

    Returns
    -------
    Organisation
        People ``m00`` ... ``m20`` (the study's ids, 0-based) with attributes ``age``,
        ``tenure`` (years), ``level`` (1 CEO, 2 vice-president, 3 manager), ``role`` and
        ``dept`` (0-4); 5 teams; 10 gaps.

    Raises
    ------
    InputError
        If ``ties`` is unknown.

    Examples
    --------
    >>> org = krackhardt_hightech()
    >>> len(org.people), [t.id for t in org.teams]
    (21, ['ceo', 'dept1', 'dept2', 'dept3', 'dept4'])
    >>> ceo = org.person("m06")
    >>> ceo.attributes["role"], ceo.manager, org.person("m13").manager
    ('ceo', None, 'm06')
    >>> for gap in sorted(org.gaps, key=lambda g: -g.weight)[:3]:
    ...     print(gap.a, gap.b, round(gap.weight, 2), gap.purpose)
    ceo dept4 0.63 knowledge
    dept1 dept3 0.61 knowledge
    dept2 dept4 0.55 knowledge

    Notes
    -----
    The ties are the locally aggregated (consensus) networks: a tie exists if both
    people say it does. Data: R package networkdata (MIT), see the ``LICENSE.md``
    next to the CSV files.

    References
    ----------
    .. [1] Krackhardt, D. (1987). Cognitive social structures. *Social Networks*,
       9(2), 109-134. https://doi.org/10.1016/0378-8733(87)90009-8
    """
    _check_ties(ties, ("advice", "friends"), "krackhardt_hightech")
    folder = "krackhardt_hightech"
    boss = {r["source"]: r["target"] for r in _read(folder, "ht_reports_edges.csv")}
    roles = {1: "ceo", 2: "vice-president", 3: "manager"}
    people = []
    for r in _read(folder, "ht_nodes.csv"):
        dept, level = int(r["dept"]), int(r["level"])
        people.append(Person(
            id=f"m{int(r['id']):02d}",
            team="ceo" if dept == 0 else f"dept{dept}",
            manager=f"m{int(boss[r['id']]):02d}" if r["id"] in boss else None,
            attributes={"age": int(r["age"]), "tenure": int(r["tenure"]), "level": level,
                        "role": roles[level], "dept": dept},
        ))
    teams = [Team(id="ceo", name="CEO")] + [
        Team(id=f"dept{d}", name=f"Department {d}", parent="ceo") for d in range(1, 5)
    ]
    gaps = gaps_from_interactions(interactions("krackhardt_hightech", ties=ties), people,
                                  purpose=_TIE_PURPOSE[ties])
    return Organisation(people=tuple(people), teams=tuple(teams), gaps=tuple(gaps))


def lazega_lawfirm(
    *, ties: Literal["cowork", "advice", "friends"] = "cowork"
) -> Organisation:
    """The 71 lawyers of a New England corporate law firm (Lazega, 2001).

    Partners and associates in three offices and two practices. Teams are office x
    practice (``boston-litigation``, ... : 6 teams of 29/19/11/8/3/1 lawyers), each
    with its office (``boston``, ``hartford``, ``providence``, holding nobody) as
    parent. The data has no reporting lines, so ``manager`` is unset. Gaps come from
    the co-work (or advice, or friendship) ties with
    :func:`~cohortmatch.interactions.gaps_from_interactions`, every pair of teams
    needing each other equally.

    Parameters
    ----------
    ties : {"cowork", "advice", "friends"}
        Which network the gaps come from; co-work and friendship ties give ``build``
        gaps, advice ties ``knowledge`` gaps.

    Returns
    -------
    Organisation
        People ``law00`` ... ``law70`` (the study's ids, 0-based; 0-35 are partners)
        with attributes ``status`` (``partner``/``associate``), ``gender``, ``office``,
        ``practice``, ``seniority`` (years with the firm), ``age`` and ``law_school``;
        9 teams (6 with lawyers); 15 gaps.

    Raises
    ------
    InputError
        If ``ties`` is unknown.

    Examples
    --------
    >>> org = lazega_lawfirm()
    >>> len(org.people), len(org.gaps)
    (71, 15)
    >>> org.person("law00").attributes["status"], org.person("law00").team
    ('partner', 'boston-litigation')

    Notes
    -----
    The ties are directed survey answers (co-work: "with whom did you work on a case";
    advice; friendship), aggregated per pair of teams. Data: R package networkdata
    (MIT), see the ``LICENSE.md`` next to the CSV files.

    References
    ----------
    .. [1] Lazega, E. (2001). *The Collegial Phenomenon: The Social Mechanisms of
       Cooperation among Peers in a Corporate Law Partnership*. Oxford University
       Press. https://doi.org/10.1093/acprof:oso/9780199242726.001.0001
    .. [2] Lazega, E. and Pattison, P. (1999). Multiplexity, generalized exchange and
       cooperation in organizations: a case study. *Social Networks*, 21(1), 67-90.
       https://doi.org/10.1016/S0378-8733(99)00002-7
    .. [3] Snijders, T. A. B., Pattison, P. E., Robins, G. L. and Handcock, M. S.
       (2006). New specifications for exponential random graph models. *Sociological
       Methodology*, 36(1), 99-153. https://doi.org/10.1111/j.1467-9531.2006.00176.x
    """
    _check_ties(ties, ("cowork", "advice", "friends"), "lazega_lawfirm")
    folder = "lazega_lawfirm"
    office = {1: "boston", 2: "hartford", 3: "providence"}
    practice = {1: "litigation", 2: "corporate"}
    school = {1: "harvard-yale", 2: "uconn", 3: "other"}
    people = []
    for r in _read(folder, "law_nodes.csv"):
        o, p = office[int(r["office"])], practice[int(r["practice"])]
        people.append(Person(
            id=f"law{int(r['id']):02d}",
            team=f"{o}-{p}",
            attributes={
                "status": "partner" if r["status"] == "1" else "associate",
                "gender": "man" if r["gender"] == "1" else "woman",
                "office": o, "practice": p, "seniority": int(r["seniority"]),
                "age": int(r["age"]), "law_school": school[int(r["law_school"])],
            },
        ))
    teams = [Team(id=o, name=o.capitalize()) for o in office.values()] + [
        Team(id=f"{o}-{p}", name=f"{o.capitalize()} {p}", parent=o)
        for o in office.values() for p in practice.values()
    ]
    gaps = gaps_from_interactions(interactions("lazega_lawfirm", ties=ties), people,
                                  purpose=_TIE_PURPOSE[ties])
    return Organisation(people=tuple(people), teams=tuple(teams), gaps=tuple(gaps))


# (folder, file name pattern, person id prefix, ties allowed) of each dataset's tie lists
_TIES = {
    "krackhardt_hightech": ("krackhardt_hightech", "ht_{}_edges.csv", "m", ("advice", "friends")),
    "lazega_lawfirm": ("lazega_lawfirm", "law_{}_edges.csv", "law", ("cowork", "advice", "friends")),
}


def interactions(dataset: str, *, ties: str | None = None) -> list[tuple[str, str]]:
    """The raw ties of a shipped dataset as ``(person_a, person_b)`` pairs, in file order.

    The loaders turn these into gaps with :func:`~cohortmatch.gaps_from_interactions`;
    written as a CSV with columns ``person_a, person_b`` they are an interaction log
    for ``cohortmatch gaps``.

    Parameters
    ----------
    dataset : {"krackhardt_hightech", "lazega_lawfirm"}
    ties : str, optional
        Which network: ``advice`` (the default) or ``friends`` for Krackhardt; ``cowork``
        (the default), ``advice`` or ``friends`` for Lazega.

    Raises
    ------
    InputError
        An unknown dataset or network.

    Examples
    --------
    >>> pairs = interactions("lazega_lawfirm")
    >>> len(pairs), pairs[0]
    (1104, ('law00', 'law16'))
    >>> org = lazega_lawfirm()
    >>> gaps_from_interactions(pairs, org, purpose="build") == list(org.gaps)
    True
    """
    if dataset not in _TIES:
        raise InputError(f"The 'dataset' must be one of {', '.join(_TIES)}. Got {dataset!r}.")
    folder, pattern, prefix, allowed = _TIES[dataset]
    ties = allowed[0] if ties is None else ties
    _check_ties(ties, allowed, dataset)
    return [(f"{prefix}{int(r['source']):02d}", f"{prefix}{int(r['target']):02d}")
            for r in _read(folder, pattern.format(ties))]
