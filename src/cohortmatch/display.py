"""What reports, plots and the command line show: team names, and people and places counted apart."""

from __future__ import annotations

from collections import Counter

from .model import Organisation
from .result import Plan

__all__ = ["team_labels", "people_and_places"]


def team_labels(org: Organisation) -> dict[str, str]:
    """``{team id: label}``: the team's ``name`` where given, else its id.

    A name that several teams share is followed by the id, so that labels stay distinct.

    Examples
    --------
    >>> from cohortmatch.model import Person, Team
    >>> org = Organisation(people=[Person(id="p1", team="mkt")],
    ...                    teams=[Team(id="mkt", name="Marketing"), Team(id="ops"),
    ...                           Team(id="ops2", name="Ops"), Team(id="ops3", name="Ops")])
    >>> team_labels(org)
    {'mkt': 'Marketing', 'ops': 'ops', 'ops2': 'Ops (ops2)', 'ops3': 'Ops (ops3)'}
    """
    shared = Counter(t.name for t in org.teams if t.name)
    return {
        t.id: t.id if not t.name else t.name if shared[t.name] == 1 else f"{t.name} ({t.id})"
        for t in org.teams
    }


def people_and_places(plan: Plan) -> tuple[int, int]:
    """``(people, places)``: how many people the plan seats, and in how many places.

    A person who takes two courses, or a course of two rounds, fills two places.

    Examples
    --------
    >>> from cohortmatch.result import Cohort, Metrics
    >>> m = Metrics(objective=0, coverage=0, bridged_gaps=0, bridged_weight=0, total_weight=0,
    ...             total_gaps=0, bound=0, gap_to_bound=0, mode="cover")
    >>> p = Plan(cohorts=[Cohort(id="a-1", course="a", members=("x", "y"), teams=("t", "t")),
    ...                   Cohort(id="b-1", course="b", members=("x",), teams=("t",))],
    ...          metrics=m, status="feasible")
    >>> people_and_places(p)
    (2, 3)
    """
    places = sum(len(c.members) for c in plan.cohorts)
    return len({m for c in plan.cohorts for m in c.members}), places
