"""Gaps from interactions: the formula, every input form, and every validation rule."""

from __future__ import annotations

import math

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cohortmatch.interactions as ci
from cohortmatch.errors import InputError, SizeLimitError
from cohortmatch.interactions import gaps_from_interactions, tie_strengths
from cohortmatch.model import Organisation, Person

TEAM_OF = {"p1": "a", "p2": "a", "p3": "b", "p4": "c"}
TIES = [("p1", "p3", 6), ("p2", "p3", 4), ("p1", "p4", 1)]


def as_tuples(gaps):
    return [(g.a, g.b, round(g.weight, 6), g.purpose) for g in gaps]


# --------------------------------------------------------------------------- exact results


def test_formula_by_hand():
    # s_ab = 10 / (2 * 1) = 5, s_ac = 1 / 2, s_bc = 0; s0 = median(5, 0.5) = 2.75
    gaps = gaps_from_interactions(TIES, TEAM_OF)
    s0 = 2.75
    assert as_tuples(gaps) == [
        ("a", "b", round(s0 / (s0 + 5), 6), "build"),
        ("a", "c", round(s0 / (s0 + 0.5), 6), "build"),
        ("b", "c", 1.0, "build"),
    ]


def test_tie_strengths_graph():
    g = tie_strengths(TIES + [("p1", "p2", 50)], TEAM_OF)
    assert dict(g.nodes(data="size")) == {"a": 2, "b": 1, "c": 1}
    assert sorted(g.edges(data=True)) == [
        ("a", "b", {"count": 10.0, "strength": 5.0}),
        ("a", "c", {"count": 1.0, "strength": 0.5}),
    ]


def test_no_interactions_gives_the_whole_need():
    need = {("a", "b"): 2.0, ("b", "c"): 0.5, ("a", "c"): 0.0}
    assert as_tuples(gaps_from_interactions([], TEAM_OF, need=need)) == [
        ("a", "b", 2.0, "build"),
        ("b", "c", 0.5, "build"),
    ]


def test_need_forms_agree():
    mapping = {("b", "a"): 2.0, ("c", "b"): 3.0}
    rows = [("a", "b", 2.0), ("b", "c", 3)]
    graph = nx.Graph()
    graph.add_edge("a", "b", weight=2.0)
    graph.add_edge("b", "c", weight=3.0)
    expected = [("a", "b", round(2 / 6, 6), "build"), ("b", "c", 3.0, "build")]
    for need in (mapping, rows, graph):
        assert as_tuples(gaps_from_interactions(TIES, TEAM_OF, need=need, s0=1.0)) == expected
    unweighted = [("a", "b"), ("b", "c")]
    assert [g.weight for g in gaps_from_interactions(TIES, TEAM_OF, need=unweighted, s0=1.0)] == [
        pytest.approx(1 / 6), 1.0]


def test_interaction_forms_agree():
    expected = as_tuples(gaps_from_interactions(TIES, TEAM_OF, s0=1.0))
    g = nx.Graph()
    g.add_weighted_edges_from(TIES)
    d = nx.DiGraph()
    d.add_edge("p1", "p3", weight=3)
    d.add_edge("p3", "p1", weight=3)  # arcs both ways are summed
    d.add_weighted_edges_from(TIES[1:])
    m = nx.MultiGraph()
    m.add_edge("p1", "p3", weight=5)
    m.add_edge("p1", "p3", weight=1)
    m.add_weighted_edges_from(TIES[1:])
    frame = pd.DataFrame(TIES, columns=["source", "target", "count"])
    for data in (g, d, m, frame):
        assert as_tuples(gaps_from_interactions(data, TEAM_OF, s0=1.0)) == expected
    # unweighted pairs count 1 each; a graph's missing weight is 1
    pairs = [("p1", "p3")] * 10 + [("p1", "p4")]
    assert as_tuples(gaps_from_interactions(pairs, TEAM_OF, s0=1.0)) == expected
    u = nx.Graph([("p1", "p3")])
    assert tie_strengths(u, TEAM_OF).edges["a", "b"]["count"] == 1.0


def test_people_or_team_of_forms_agree():
    people = [Person(id=p, team=t) for p, t in TEAM_OF.items()]
    org = Organisation(people=people)
    expected = as_tuples(gaps_from_interactions(TIES, TEAM_OF))
    assert as_tuples(gaps_from_interactions(TIES, people)) == expected
    assert as_tuples(gaps_from_interactions(TIES, org)) == expected


def test_team_level_interactions():
    team_ties = [("a", "b", 10), ("c", "a", 1)]
    person = as_tuples(gaps_from_interactions(TIES, TEAM_OF))
    assert as_tuples(gaps_from_interactions(team_ties, TEAM_OF)) == person
    assert as_tuples(gaps_from_interactions(team_ties, TEAM_OF, level="team")) == person
    with pytest.raises(InputError, match=r"interaction 0 \('a', 'b'\): unknown person 'a'"):
        gaps_from_interactions(team_ties, TEAM_OF, level="person")


def test_empty_teams_of_an_organisation():
    org = Organisation(
        people=[Person(id="p1", team="a"), Person(id="p2", team="b")],
        teams=[{"id": "unit"}, {"id": "a", "parent": "unit"}, {"id": "b", "parent": "unit"}],
    )
    # need=None spans non-empty teams only; team-level counts on an empty team stay finite
    assert [(g.a, g.b) for g in gaps_from_interactions([], org)] == [("a", "b")]
    assert tie_strengths([("unit", "a", 2)], org).edges["a", "unit"]["strength"] == 2.0


def test_purposes():
    need = {("a", "b"): 1.0, ("b", "c"): 1.0}
    by_pair = gaps_from_interactions(TIES, TEAM_OF, need=need, purpose={("b", "a"): "repair"})
    assert [g.purpose for g in by_pair] == ["repair", "build"]
    by_fn = gaps_from_interactions(TIES, TEAM_OF, need=need,
                                   purpose=lambda a, b: "process" if "c" in (a, b) else "knowledge")
    assert [g.purpose for g in by_fn] == ["knowledge", "process"]


def test_min_weight_and_s0():
    gaps = gaps_from_interactions(TIES, TEAM_OF, s0=1.0, min_weight=0.5)
    assert [(g.a, g.b) for g in gaps] == [("a", "c"), ("b", "c")]
    # s0 is the strength that halves the need
    [gap] = gaps_from_interactions(TIES, TEAM_OF, need=[("a", "b", 4.0)], s0=5.0)
    assert gap.weight == 2.0


# --------------------------------------------------------------------------- properties


pair_counts = st.dictionaries(
    st.tuples(st.sampled_from(sorted(TEAM_OF)), st.sampled_from(sorted(TEAM_OF))),
    st.integers(0, 50),
    max_size=8,
)


@settings(max_examples=50, deadline=None)
@given(counts=pair_counts, factor=st.sampled_from([0.5, 3.0, 1000.0]))
def test_scaling_counts_changes_nothing(counts, factor):
    ties = [(u, v, c) for (u, v), c in counts.items()]
    scaled = [(u, v, c * factor) for u, v, c in ties]
    base = gaps_from_interactions(ties, TEAM_OF)
    for g, h in zip(base, gaps_from_interactions(scaled, TEAM_OF), strict=True):
        assert (g.a, g.b) == (h.a, h.b) and g.weight == pytest.approx(h.weight)


@settings(max_examples=50, deadline=None)
@given(counts=pair_counts, more=st.integers(1, 20), need=st.floats(0.1, 10))
def test_more_interaction_never_widens_a_gap(counts, more, need):
    ties = [(u, v, c) for (u, v), c in counts.items()]
    needs = {("a", "b"): need, ("a", "c"): need, ("b", "c"): need}
    before = {g.key: g.weight for g in gaps_from_interactions(ties, TEAM_OF, need=needs, s0=1.0)}
    after = gaps_from_interactions(ties + [("p1", "p3", more)], TEAM_OF, need=needs, s0=1.0)
    for g in after:
        assert 0 < g.weight <= need * (1 + 1e-12)
        assert g.weight <= before[g.key] * (1 + 1e-12)
    assert {g.key: g.weight for g in after}[("a", "b")] < before[("a", "b")]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("ties", "message"),
    [
        ([("p1", "x9", 1)], r"interaction 0 \('p1', 'x9'\): unknown person 'x9'"),
        ([("p1", "p3", 1), ("p1", "p3", -2)],
         r"interaction 1 \('p1', 'p3'\), field 'count': must be finite and >= 0; got -2"),
        ([("p1", "p3", math.nan)], r"field 'count': must be finite and >= 0; got nan"),
        ([("p1", "p3", math.inf)], r"must be finite and >= 0; got inf"),
        ([("p1", "p3", "7")], r"field 'count': must be a number; got '7'"),
        ([("p1", "p3", True)], r"field 'count': must be a number; got True"),
        ([("p1",)], r"interaction 0: expected \(u, v\) or \(u, v, count\), got 1 values"),
        ([("x0", "p1")], r"interaction 0 \('x0', 'p1'\): unknown person 'x0'"),
    ],
)
def test_interaction_errors(ties, message):
    with pytest.raises(InputError, match=message):
        gaps_from_interactions(ties, TEAM_OF)


def test_graph_errors_name_the_edge():
    g = nx.Graph()
    g.add_edge("p1", "p3", weight=-1.0)
    with pytest.raises(InputError, match=r"interaction edge \('p1', 'p3'\), attribute 'weight': "
                                         r"must be finite and >= 0; got -1.0"):
        gaps_from_interactions(g, TEAM_OF)
    m = nx.MultiGraph()
    m.add_edge("p1", "zz", count=1)
    with pytest.raises(InputError, match=r"interaction edge \('p1', 'zz', key 0\): unknown person"):
        tie_strengths(m, TEAM_OF, weight="count")


@pytest.mark.parametrize(
    ("need", "message"),
    [
        ({("a", "z"): 1.0}, r"need \('a', 'z'\): unknown team 'z'"),
        ({("a", "a"): 1.0}, r"need \('a', 'a'\): a team cannot need itself"),
        ({("a", "b"): -1.0}, r"need \('a', 'b'\), value: must be finite and >= 0; got -1.0"),
        ({("a", "b"): math.nan}, r"need \('a', 'b'\), value: must be finite"),
        ({"ab": 1.0}, r"need key 'ab': expected a pair of team ids"),
        ({("a", "b"): 1.0, ("b", "a"): 2.0},
         r"need \('b', 'a'\): the pair is given twice \(also as need \('a', 'b'\)\)"),
        ([("a", "b", "x")], r"need 0 \('a', 'b'\), field 'value': must be a number; got 'x'"),
        ([("a",)], r"need 0: expected \(a, b\) or \(a, b, value\)"),
    ],
)
def test_need_errors(need, message):
    with pytest.raises(InputError, match=message):
        gaps_from_interactions(TIES, TEAM_OF, need=need)


def test_setting_errors():
    with pytest.raises(InputError, match=r"gap \('\*', '\*'\), field 'purpose': must be one of "):
        gaps_from_interactions(TIES, TEAM_OF, purpose="party")
    with pytest.raises(InputError, match=r"gap \('a', 'b'\), field 'purpose'.*got 'party'"):
        gaps_from_interactions(TIES, TEAM_OF, purpose={("a", "b"): "party"})
    with pytest.raises(InputError, match=r"gap \('a', 'b'\), field 'purpose'.*got None"):
        gaps_from_interactions(TIES, TEAM_OF, purpose=lambda a, b: None)
    with pytest.raises(InputError, match=r"purpose key 'a': expected a pair"):
        gaps_from_interactions(TIES, TEAM_OF, purpose={"a": "build"})
    with pytest.raises(InputError, match="The 'purpose' must be a str, a mapping or a callable"):
        gaps_from_interactions(TIES, TEAM_OF, purpose=3)
    with pytest.raises(InputError, match=r"The 's0' must be a finite number > 0. Got 0."):
        gaps_from_interactions(TIES, TEAM_OF, s0=0)
    with pytest.raises(InputError, match=r"The 'min_weight' must be a finite number. Got nan."):
        gaps_from_interactions(TIES, TEAM_OF, min_weight=math.nan)
    with pytest.raises(InputError, match="The 'level' must be 'auto', 'person' or 'team'"):
        gaps_from_interactions(TIES, TEAM_OF, level="people")
    with pytest.raises(InputError, match=r"people_or_team_of\[0\]: expected a Person, got str"):
        gaps_from_interactions(TIES, ["p1"])
    with pytest.raises(InputError, match=r"people_or_team_of entry 0 \('p1': 3\)"):
        gaps_from_interactions(TIES, {"p1": 3})


def test_all_pairs_size_limit(monkeypatch):
    monkeypatch.setattr(ci, "MAX_ALL_PAIRS", 2)
    with pytest.raises(SizeLimitError, match="need=None would create 3 team pairs"):
        gaps_from_interactions(TIES, TEAM_OF)
    assert len(gaps_from_interactions(TIES, TEAM_OF, need=[("a", "b", 1)])) == 1
