"""Per-person acquaintances over a programme of plans (cohortmatch.clubs)."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.clubs import acquaintances

METRICS = cm.Metrics(objective=0, coverage=0, bridged_gaps=0, bridged_weight=0, total_weight=0,
                     total_gaps=0, bound=0, gap_to_bound=0, mode="cover")


def month(*groups):
    """A plan whose cohorts are ``groups`` of member ids."""
    cohorts = [cm.Cohort(id=f"c{k}", course="club", members=tuple(g), teams=("",) * len(g))
               for k, g in enumerate(groups)]
    return cm.Plan(cohorts=cohorts, metrics=METRICS, status="feasible")


def org(n=6, teams=3, gaps=(("t0", "t1"),)):
    return cm.Organisation(people=[cm.Person(id=f"m{i}", team=f"t{i % teams}") for i in range(n)],
                           teams=[cm.Team(id=f"t{t}") for t in range(teams)],
                           gaps=[cm.Gap(a=a, b=b) for a, b in gaps])


def test_counts_new_people_and_gap_partners_plan_by_plan():
    # teams: m0, m3 in t0; m1, m4 in t1; m2, m5 in t2; one gap t0-t1
    seen = acquaintances([month(("m0", "m1", "m2")), month(("m0", "m1", "m4"), ("m3", "m5"))],
                         org())
    assert seen.people == ("m0", "m1", "m2", "m3", "m4", "m5")
    assert seen.new_people.tolist() == [[2, 2, 2, 0, 0, 0], [1, 1, 0, 1, 2, 1]]
    assert seen.new_gap_partners.tolist() == [[1, 1, 0, 0, 0, 0], [1, 0, 0, 0, 1, 0]]
    assert seen.people_met[-1].tolist() == [3, 3, 2, 1, 2, 1]
    assert seen.gap_partners_met[-1].tolist() == [2, 1, 0, 0, 1, 0]
    assert seen.attended.tolist() == [[True, True, True, False, False, False],
                                      [True, True, False, True, True, True]]
    assert seen.share_with_gap_partner().tolist() == [2 / 6, 3 / 6]
    assert seen.person("m0") == {"plans_attended": 2, "people_met": 3, "gap_partners_met": 2}


def test_people_who_left_are_ignored_and_no_plans_is_empty():
    seen = acquaintances([month(("m0", "gone", "m1"))], org())
    assert seen.new_people[0].tolist() == [1, 1, 0, 0, 0, 0]
    empty = acquaintances([], org())
    assert empty.new_people.shape == (0, 6) and empty.share_with_gap_partner().shape == (0,)


def test_plan_reports_acquaintances_with_its_history():
    first, second = month(("m0", "m1")), month(("m0", "m1"), ("m2", "m4"))
    seen = second.acquaintances(org(), [first])
    assert seen.new_people.tolist() == [[1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 1, 0]]
    assert second.acquaintances(org()).new_people.tolist() == [[1, 1, 1, 0, 1, 0]]


@given(data=st.data(), n=st.integers(2, 12), plans=st.integers(1, 4))
@settings(max_examples=40, deadline=None)
def test_totals_equal_the_people_each_member_shared_a_cohort_with(data, n, plans):
    members = [f"m{i}" for i in range(n)]
    programme = []
    for _ in range(plans):
        labels = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        programme.append(month(*[[m for m, g in zip(members, labels, strict=True) if g == k]
                                 for k in range(4) if k in labels]))
    the_org = org(n, teams=3, gaps=(("t0", "t1"), ("t1", "t2")))
    seen = acquaintances(programme, the_org)
    team = {p.id: p.team for p in the_org.people}
    gap = {("t0", "t1"), ("t1", "t0"), ("t1", "t2"), ("t2", "t1")}
    met: dict[str, set[str]] = {m: set() for m in members}
    for p in programme:
        for c in p.cohorts:
            for a, b in itertools.permutations(c.members, 2):
                met[a].add(b)
    assert seen.people_met[-1].tolist() == [len(met[m]) for m in members]
    assert seen.gap_partners_met[-1].tolist() == [
        sum((team[m], team[x]) in gap for x in met[m]) for m in members]
    assert (np.diff(seen.people_met, axis=0) >= 0).all()
