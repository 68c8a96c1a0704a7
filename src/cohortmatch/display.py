"""What reports, plots and the command line show: team names, and people and places counted apart."""

from __future__ import annotations

from collections import Counter

from .model import Organisation, Team
from .result import Plan

__all__ = ["team_labels", "named_teams", "people_and_places"]


def team_labels(org: Organisation) -> dict[str, str]:
    """``{team id: label}``: the team's ``name`` where given, else its id.

    A name that several teams share, or that is another team's id, is followed by the
    id, so that labels stay distinct.

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
    ids = {t.id for t in org.teams}
    return {
        t.id: t.id if not t.name
        else t.name if shared[t.name] == 1 and (t.name == t.id or t.name not in ids)
        else f"{t.name} ({t.id})"
        for t in org.teams
    }


def named_teams(plan: Plan, org: Organisation) -> tuple[Plan, Organisation]:
    """The plan and organisation with every team id replaced by its :func:`team_labels` label.

    What reports and plots draw, so that they show ``teams.csv``'s names where given.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id="x", team="mkt"), cm.Person(id="y", team="ops")],
    ...                       teams=[cm.Team(id="mkt", name="Marketing"), cm.Team(id="ops")],
    ...                       gaps=[cm.Gap(a="mkt", b="ops")])
    >>> p = cm.plan(org, [cm.Course(id="c", min_size=2, max_size=2)], time_limit=None,
    ...             work_limit=10, seed=0)
    >>> shown, named = named_teams(p, org)
    >>> shown.cohorts[0].teams, shown.cohorts[0].bridges[0].a, named.gaps[0].a
    (('Marketing', 'ops'), 'Marketing', 'Marketing')
    """
    label = team_labels(org)
    if all(k == v for k, v in label.items()):
        return plan, org
    cohorts = tuple(
        c.model_copy(update={
            "teams": tuple(label.get(t, t) for t in c.teams),
            "bridges": tuple(b.model_copy(update={"a": label.get(b.a, b.a), "b": label.get(b.b, b.b)})
                             for b in c.bridges),
        })
        for c in plan.cohorts
    )
    named = Organisation(
        people=tuple(p.model_copy(update={"team": label[p.team]}) for p in org.people),
        teams=tuple(Team(id=label[t.id], name=t.name,
                         parent=None if t.parent is None else label[t.parent]) for t in org.teams),
        gaps=tuple(g.model_copy(update={"a": label[g.a], "b": label[g.b]}) for g in org.gaps),
    )
    return plan.model_copy(update={"cohorts": cohorts}), named


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
    return plan.people_and_places()
