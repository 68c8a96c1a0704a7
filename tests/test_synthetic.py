"""Synthetic org charts: structure, reporting lines, attributes, gaps and preset statistics."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cohortmatch.errors import InputError
from cohortmatch.model import PURPOSES, Organisation
from cohortmatch.synthetic import PRESETS, TENURE_BANDS, Preset, org_chart, org_statistics

ATTRIBUTES = {"division", "department", "role", "level", "function", "location", "utc_offset",
              "tenure"}


def check_invariants(org: Organisation, n: int, team_size=(5, 12), span=(3, 8)) -> None:
    """Rules every generated organisation obeys, whatever the preset and the seed."""
    assert len(org.people) == n
    teams = {t.id: t for t in org.teams}
    members = Counter(p.team for p in org.people)
    parents = {t.parent for t in org.teams if t.parent is not None}
    leaves = [t for t in teams if t not in parents]
    roots = [t for t in teams.values() if t.parent is None]
    assert [t.id for t in roots] == ["org"]
    for t in leaves:  # leaf teams: a lead plus members, parent a department
        assert t.startswith("team") and teams[t].parent.startswith("dep")
        assert team_size[0] <= members[t] <= team_size[1]
    for t in parents:  # units hold only their head
        assert members[t] == 1
    by_id = {p.id: p for p in org.people}
    heads = {p.team: p.id for p in org.people
             if p.attributes["role"] not in ("member", "team lead")}
    ceo = [p for p in org.people if p.manager is None]
    assert [p.id for p in ceo] == [org.people[0].id] and ceo[0].attributes["role"] == "ceo"
    reports = Counter(p.manager for p in org.people if p.manager is not None)
    for p in org.people:
        role = p.attributes["role"]
        assert set(p.attributes) - {"company"} == ATTRIBUTES
        assert p.attributes["tenure"] in TENURE_BANDS
        assert isinstance(p.attributes["level"], int)
        boss = by_id[p.manager] if p.manager else None
        if role == "member":
            assert boss.team == p.team and boss.attributes["role"] == "team lead"
        elif role == "team lead":
            assert boss.id == heads[teams[p.team].parent]
            assert boss.attributes["role"] == "department head"
        elif role != "ceo":
            assert boss.id == heads[teams[p.team].parent]
        if boss is not None:
            assert p.attributes["level"] == boss.attributes["level"] + 1
        if role in ("department head", "group head", "division head"):
            assert 1 <= reports[p.id] <= span[1]  # a small division may have one department
    for g in org.gaps:
        assert g.a < g.b and g.a in leaves and g.b in leaves
        assert g.purpose in PURPOSES and 0 < g.weight


# --------------------------------------------------------------------------- exact results


def test_small_org_exact():
    org = org_chart(20, seed=1)
    assert [t.id for t in org.teams] == ["org", "div01", "dep0001", "team00001", "team00002"]
    assert [t.parent for t in org.teams] == [None, "org", "div01", "dep0001", "dep0001"]
    assert Counter(p.team for p in org.people) == {
        "org": 1, "div01": 1, "dep0001": 1, "team00001": 9, "team00002": 8}
    assert [(p.id, p.manager, p.attributes["role"]) for p in org.people[:5]] == [
        ("e0000", None, "ceo"),
        ("e0001", "e0000", "division head"),
        ("e0002", "e0001", "department head"),
        ("e0003", "e0002", "team lead"),
        ("e0004", "e0003", "member"),
    ]
    assert [(g.a, g.b, g.purpose) for g in org.gaps] == [("team00001", "team00002", "build")]


@pytest.mark.parametrize(
    ("preset", "gaps", "cross", "purposes"),
    [
        ("silos", 601, 0.2296, {"build": 238, "innovation": 116, "knowledge": 22, "process": 225}),
        ("matrix", 624, 0.4455, {"build": 192, "innovation": 116, "knowledge": 162,
                                 "process": 154}),
        ("merger", 634, 0.4842, {"build": 198, "innovation": 28, "knowledge": 5, "process": 129,
                                 "repair": 274}),
        ("remote", 616, 0.3344, {"build": 215, "innovation": 170, "knowledge": 36,
                                 "process": 195}),
    ],
)
def test_preset_statistics_exact(preset, gaps, cross, purposes):
    org = org_chart(2000, preset=preset, seed=42)
    s = org_statistics(org)
    # the structure comes first from the seed, so it is the same for every preset
    assert (s["teams"], s["units"], s["divisions"], s["levels"]) == (229, 51, 7, 6)
    assert (s["team_size_min"], s["team_size_p50"], s["team_size_max"]) == (5, 8.0, 12)
    assert s["team_size_mean"] == pytest.approx(8.5109, abs=1e-4)
    assert s["span_max"] == 11
    assert s["gaps"] == gaps
    assert s["cross_division_share"] == pytest.approx(cross, abs=1e-4)
    assert Counter(g.purpose for g in org.gaps) == purposes


def test_statistics_of_tiny_org():
    s = org_statistics(org_chart(8, seed=0))
    assert (s["people"], s["teams"], s["units"], s["levels"], s["gaps"]) == (8, 1, 3, 5, 0)
    assert math.isnan(s["weight_mean"]) and s["purpose_share"] == {}


# --------------------------------------------------------------------------- properties


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(8, 1500),
    preset=st.sampled_from(sorted(PRESETS)),
    seed=st.integers(0, 2**32 - 1),
)
def test_invariants_hold_for_any_size_and_seed(n, preset, seed):
    check_invariants(org_chart(n, preset=preset, seed=seed), n)


@settings(max_examples=10, deadline=None)
@given(
    n=st.integers(30, 600),
    lo=st.integers(2, 8),
    extra=st.integers(3, 10),
    s_lo=st.integers(2, 4),
    s_extra=st.integers(2, 6),
    seed=st.integers(0, 1000),
)
def test_invariants_hold_for_custom_sizes(n, lo, extra, s_lo, s_extra, seed):
    team_size, span = (lo, lo + extra), (s_lo, s_lo + s_extra)
    org = org_chart(max(n, lo + 3), team_size=team_size, span=span, seed=seed)
    check_invariants(org, max(n, lo + 3), team_size, span)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_preset_statistics_ranges(preset):
    """Documented ranges (docs/synthetic.md), checked on three seeds of 3,000 people."""
    expected_cross = {"silos": (0.15, 0.32), "matrix": (0.35, 0.55), "merger": (0.38, 0.58),
                      "remote": (0.25, 0.42)}[preset]
    for seed in (1, 2, 3):
        org = org_chart(3000, preset=preset, seed=seed)
        s = org_statistics(org)
        assert 8.0 <= s["team_size_mean"] <= 9.0
        assert s["team_size_p10"] >= 5 and s["team_size_p90"] <= 12
        assert 2.4 <= s["gaps_per_team"] <= 3.0
        assert expected_cross[0] <= s["cross_division_share"] <= expected_cross[1]
        assert s["weight_mean_cross"] > s["weight_mean_within"]  # distance weakens ties
        assert s["span_max"] <= 11
        share = s["purpose_share"]
        if preset == "merger":
            assert 0.35 <= share["repair"] <= 0.5
        else:
            assert "repair" not in share
        if preset == "matrix":
            assert share["knowledge"] >= 0.2
        else:
            assert share.get("knowledge", 0) <= 0.1


def test_merger_repair_gaps_cross_the_old_border():
    org = org_chart(1500, preset="merger", seed=5)
    company = {p.team: p.attributes["company"] for p in org.people}
    assert set(company.values()) == {"A", "B"}
    for g in org.gaps:
        assert (g.purpose == "repair") == (company[g.a] != company[g.b])
    # acquirer divisions come first and are the majority
    assert company["div01"] == "A"
    assert Counter(company.values())["A"] > Counter(company.values())["B"]


def test_remote_time_zones_matter():
    """In ``remote``, a gap across 6+ hours is on average wider than one within a zone."""
    org = org_chart(5000, preset="remote", seed=3)
    zone = {}
    for t, offsets in _team_offsets(org).items():
        zone[t] = Counter(offsets).most_common(1)[0][0]
    far, near = [], []
    for g in org.gaps:
        dt = abs(zone[g.a] - zone[g.b])
        dt = min(dt, 24 - dt)
        (far if dt >= 6 else near if dt == 0 else []).append(g.weight)
    assert np.mean(far) > 1.3 * np.mean(near)
    # and people are spread: most teams have members in several places
    spread = np.mean([len(set(v)) > 1 for v in _team_offsets(org).values()])
    assert spread > 0.8


def test_silos_are_colocated():
    offsets = _team_offsets(org_chart(3000, preset="silos", seed=3))
    assert np.mean([len(set(v)) == 1 for v in offsets.values()]) > 0.5


def _team_offsets(org):
    out: dict[str, list[float]] = {}
    for p in org.people:
        if p.team.startswith("team"):
            out.setdefault(p.team, []).append(p.attributes["utc_offset"])
    return out


def test_same_seed_same_org_and_generators():
    a = org_chart(500, preset="matrix", seed=11)
    assert a == org_chart(500, preset="matrix", seed=11)
    assert a == org_chart(500, preset="matrix", seed=np.random.default_rng(11))
    assert a != org_chart(500, preset="matrix", seed=12)


def test_round_trip_through_validation():
    org = org_chart(300, preset="merger", seed=2)
    assert Organisation.model_validate(org.model_dump()) == org


def test_settings():
    org = org_chart(400, divisions=3, gaps_per_team=0, seed=0)
    assert org_statistics(org)["divisions"] == 3 and org.gaps == ()
    many = org_statistics(org_chart(2000, gaps_per_team=6, seed=0))
    assert 4.5 <= many["gaps_per_team"] <= 6  # repeated pairs are merged
    custom = replace(PRESETS["silos"], name="all-cross", need_mix=(0, 0, 0, 0, 1))
    assert org_statistics(org_chart(1000, preset=custom, seed=0))["cross_division_share"] == 1.0
    # exact team sizes may be impossible; teams then fall short, never over
    s = org_statistics(org_chart(200, team_size=(8, 8), seed=1))
    assert s["team_size_max"] == 8 and s["team_size_min"] >= 7


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"people": 7}, r"The 'people' must be an int >= team_size\[0\] \+ 3 \(8\). Got 7."),
        ({"people": 100.0}, "The 'people' must be an int"),
        ({"people": True}, "The 'people' must be an int"),
        ({"preset": "flat"}, "The 'preset' must be one of matrix, merger, remote, silos"),
        ({"preset": ["silos"]}, r"or a Preset. Got \['silos'\]."),
        ({"team_size": (6, 4)}, r"The 'team_size' must be \(min, max\) with 2 <= min <= max"),
        ({"team_size": (1, 4)}, "The 'team_size' must be"),
        ({"team_size": 8}, "The 'team_size' must be"),
        ({"span": (1, 8)}, r"The 'span' must be \(min, max\) with 2 <= min"),
        ({"divisions": 0}, "The 'divisions' must be an int >= 1 or None. Got 0."),
        ({"gaps_per_team": -1}, "The 'gaps_per_team' must be a finite number >= 0. Got -1."),
        ({"gaps_per_team": math.inf}, "The 'gaps_per_team' must be a finite number"),
    ],
)
def test_parameter_errors(kwargs, message):
    args = {"people": 100, **kwargs}
    with pytest.raises(InputError, match=message):
        org_chart(args.pop("people"), **args)


def test_misspelt_setting_is_an_error():
    with pytest.raises(TypeError):
        org_chart(100, presett="silos")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"need_mix": (1, 0, 0)}, "The 'need_mix' of preset 'x' must be 5 finite shares"),
        ({"need_mix": (0, 0, 0, 0, 0)}, "positive sum"),
        ({"need_mix": (1, -1, 0, 0, 1)}, "must be 5 finite shares >= 0"),
        ({"decay": -0.1}, "The 'decay' of preset 'x' must be a finite number >= 0. Got -0.1."),
        ({"cross_link": math.nan}, "The 'cross_link' of preset 'x' must be a finite number"),
        ({"companies": 3}, "The 'companies' of preset 'x' must be 1 or 2. Got 3."),
        ({"tz_hours": 0.0}, "The 'tz_hours' of preset 'x' must be > 0. Got 0.0."),
    ],
)
def test_preset_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        Preset(name="x", **kwargs)
