"""Clubs as they run: per person, whom they have met so far over a programme of plans.

A club plans one round at a time (``plan(..., history=[earlier plans])``), each round
with the members who signed up. :func:`acquaintances` reads the plans in order and counts,
for every member of the organisation and every plan, the people they meet for the first
time (*new people*) and, among them, their *gap partners*: members of a team that has a
connection gap with their own team. Cumulative sums give how many they have met so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .model import Organisation
from .rules.meetings import cohort_pairs

__all__ = ["Acquaintances", "acquaintances"]


class _Cohort(Protocol):
    @property
    def members(self) -> Sequence[str]: ...


class PlanLike(Protocol):
    """Anything with cohorts of members (a :class:`~cohortmatch.result.Plan`)."""

    @property
    def cohorts(self) -> Sequence[_Cohort]: ...


@dataclass(frozen=True)
class Acquaintances:
    """Whom each member met, plan by plan.

    Attributes
    ----------
    people : tuple of str
        Member ids, in the organisation's order (the columns of every array).
    new_people : int64 array (plans, people)
        People met for the first time in each plan.
    new_gap_partners : int64 array (plans, people)
        Of those, the members of a team with a gap to the member's own team.
    attended : bool array (plans, people)
        Whether the member sits in a cohort of the plan.
    """

    people: tuple[str, ...]
    new_people: np.ndarray
    new_gap_partners: np.ndarray
    attended: np.ndarray

    @property
    def people_met(self) -> np.ndarray:
        """Distinct people each member has met so far, after each plan (int64 (plans, people))."""
        return np.cumsum(self.new_people, axis=0)

    @property
    def gap_partners_met(self) -> np.ndarray:
        """Distinct gap partners each member has met so far, after each plan."""
        return np.cumsum(self.new_gap_partners, axis=0)

    def share_with_gap_partner(self) -> np.ndarray:
        """After each plan, the share of members who have met at least one gap partner."""
        if not self.people:
            return np.zeros(self.new_people.shape[0])
        return (self.gap_partners_met > 0).mean(axis=1)

    def person(self, person_id: str) -> dict[str, int]:
        """Totals of one member after the last plan: plans attended, people and gap partners met."""
        j = self.people.index(person_id)
        return {
            "plans_attended": int(self.attended[:, j].sum()),
            "people_met": int(self.new_people[:, j].sum()),
            "gap_partners_met": int(self.new_gap_partners[:, j].sum()),
        }


def _gap_keys(org: Organisation) -> tuple[np.ndarray, np.ndarray, int]:
    """Team index of every person, sorted keys of the team pairs with a gap, and team count."""
    team_index = {t.id: i for i, t in enumerate(org.teams)}
    T = len(team_index)
    team = np.array([team_index[p.team] for p in org.people], np.int64)
    ends = np.array([[team_index[g.a], team_index[g.b]] for g in org.gaps], np.int64).reshape(-1, 2)
    keys = np.unique(ends.min(axis=1) * T + ends.max(axis=1))
    return team, keys, T


def acquaintances(plans: Sequence[PlanLike], org: Organisation) -> Acquaintances:
    """New people and new gap partners of every member, plan by plan.

    Members who left the organisation (ids not in ``org``) are ignored, as
    ``plan(..., history=...)`` ignores them. Two members meet when they share a cohort;
    a meeting is *new* when they shared no cohort in an earlier plan of ``plans``.

    Parameters
    ----------
    plans : sequence of Plan
        The programme so far, oldest first (e.g. the ``history`` plus the latest plan).
    org : Organisation

    Returns
    -------
    Acquaintances

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(
    ...     people=[cm.Person(id=f"m{i}", team=f"t{i % 3}") for i in range(6)],
    ...     gaps=[cm.Gap(a="t0", b="t1")])
    >>> month = lambda *groups: cm.Plan(
    ...     cohorts=[cm.Cohort(id=f"c{k}", course="club", members=g, teams=("",) * len(g))
    ...              for k, g in enumerate(groups)],
    ...     metrics=cm.Metrics(objective=0, coverage=0, bridged_gaps=0, bridged_weight=0,
    ...                        total_weight=0, total_gaps=0, bound=0, gap_to_bound=0,
    ...                        mode="cover"), status="feasible")
    >>> seen = acquaintances([month(("m0", "m1", "m2")), month(("m0", "m1", "m4"))], org)
    >>> seen.new_people[:, 0].tolist(), seen.new_gap_partners[:, 0].tolist()
    ([2, 1], [1, 1])
    >>> seen.share_with_gap_partner().round(2).tolist()
    [0.33, 0.5]
    """
    ids = tuple(p.id for p in org.people)
    index = {pid: i for i, pid in enumerate(ids)}
    P, R = len(ids), len(plans)
    team, gap_keys, T = _gap_keys(org)
    new_people = np.zeros((R, P), np.int64)
    new_gap = np.zeros((R, P), np.int64)
    attended = np.zeros((R, P), bool)
    known = np.zeros(0, np.int64)
    for r, past in enumerate(plans):
        persons, cohorts = [], []
        for k, c in enumerate(past.cohorts):
            members = [index[m] for m in c.members if m in index]
            persons += members
            cohorts += [k] * len(members)
        people = np.asarray(persons, np.int64)
        attended[r, people] = True
        a, b = cohort_pairs(people, np.asarray(cohorts, np.int64))
        keys = np.unique(a * P + b)
        fresh = np.setdiff1d(keys, known, assume_unique=True)
        fa, fb = fresh // P, fresh % P
        new_people[r] = np.bincount(fa, minlength=P) + np.bincount(fb, minlength=P)
        ta, tb = team[fa], team[fb]
        gap = np.isin(np.minimum(ta, tb) * T + np.maximum(ta, tb), gap_keys)
        new_gap[r] = np.bincount(fa[gap], minlength=P) + np.bincount(fb[gap], minlength=P)
        known = np.union1d(known, keys)
    return Acquaintances(people=ids, new_people=new_people, new_gap_partners=new_gap,
                         attended=attended)
