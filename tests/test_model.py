"""Validation of the input model: every rule names the record and the field."""

import math

import pytest

import cohortmatch as cm
from cohortmatch.errors import InputError


def people(*specs):
    return [cm.Person(id=i, team=t, manager=m) for i, t, m in specs]


def test_person_and_gap_fields():
    with pytest.raises(InputError, match="non-empty"):
        cm.Person(id="", team="a")
    with pytest.raises(InputError, match="cannot manage themself"):
        cm.Person(id="p", team="a", manager="p")
    with pytest.raises(InputError, match=r"interest in course 'x' must be in \[0, 1\]"):
        cm.Person(id="p", team="a", interests={"x": 1.5})
    with pytest.raises(InputError, match="finite and > 0"):
        cm.Gap(a="a", b="b", weight=0)
    with pytest.raises(InputError, match="finite and > 0"):
        cm.Gap(a="a", b="b", weight=math.nan)
    with pytest.raises(InputError, match="gap with itself"):
        cm.Gap(a="a", b="a")
    with pytest.raises(InputError, match="purpose"):
        cm.Gap(a="a", b="b", purpose="party")
    with pytest.raises(InputError, match="Extra inputs"):
        cm.Person(id="p", team="a", tema="b")


def test_models_are_immutable():
    p = cm.Person(id="p", team="a")
    with pytest.raises(InputError):
        p.team = "b"


def test_organisation_references():
    with pytest.raises(InputError, match=r"person 'p2' \(people\[1\]\), field 'team': unknown team 'z'"):
        cm.Organisation(people=people(("p1", "a", None), ("p2", "z", None)), teams=[cm.Team(id="a")])
    with pytest.raises(InputError, match=r"field 'manager': unknown person 'boss'"):
        cm.Organisation(people=people(("p1", "a", "boss")))
    with pytest.raises(InputError, match=r"person 'p1' is given twice: people\[0\] and people\[1\]"):
        cm.Organisation(people=people(("p1", "a", None), ("p1", "b", None)))
    with pytest.raises(InputError, match=r"team 'a' is given twice"):
        cm.Organisation(people=people(("p1", "a", None)), teams=[cm.Team(id="a"), cm.Team(id="a")])
    with pytest.raises(InputError, match=r"field 'parent': unknown team 'x'"):
        cm.Organisation(people=people(("p1", "a", None)), teams=[cm.Team(id="a", parent="x")])
    with pytest.raises(InputError, match=r"gaps\[0\]\), field 'b': unknown team 'q'"):
        cm.Organisation(people=people(("p1", "a", None)), gaps=[cm.Gap(a="a", b="q")])
    with pytest.raises(InputError, match=r"gap 'b'-'a' is given twice: gaps\[0\] and gaps\[1\]"):
        cm.Organisation(
            people=people(("p1", "a", None), ("p2", "b", None)),
            gaps=[cm.Gap(a="a", b="b"), cm.Gap(a="b", b="a")],
        )
    with pytest.raises(InputError, match="at least one person"):
        cm.Organisation(people=[])


def test_management_cycle_is_named():
    with pytest.raises(InputError, match="cycle: p1 -> p2 -> p3 -> p1"):
        cm.Organisation(people=people(("p1", "a", "p2"), ("p2", "a", "p3"), ("p3", "a", "p1")))


def test_graph_has_weights_and_purposes():
    org = cm.Organisation(
        people=people(("p1", "a", None), ("p2", "b", None)),
        teams=[cm.Team(id="a"), cm.Team(id="b", parent="a")],
        gaps=[cm.Gap(a="b", b="a", weight=2.5, purpose="repair")],
    )
    g = org.graph()
    assert g.edges["a", "b"] == {"weight": 2.5, "purpose": "repair"}
    assert g.nodes["b"]["parent"] == "a"


def test_course_and_policy_rules():
    with pytest.raises(InputError, match=r"'max_size' of course 'x' must be >= min_size \(8\). Got 6"):
        cm.Course(id="x", min_size=8, max_size=6)
    with pytest.raises(InputError, match="greater than or equal to 1"):
        cm.Course(id="x", min_size=0, max_size=6)
    with pytest.raises(InputError, match="participant 'a' is given twice"):
        cm.Course(id="x", min_size=1, max_size=2, participants=["a", "a"])
    with pytest.raises(InputError, match="coverage"):
        cm.Policy(coverage="most")
    with pytest.raises(InputError, match="Extra inputs"):
        cm.Policy(max_per_teams=2)
