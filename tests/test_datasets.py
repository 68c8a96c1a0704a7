"""Real organisations shipped as package data."""

from __future__ import annotations

from collections import Counter
from importlib import resources

import pytest

from cohortmatch.datasets import krackhardt_hightech, lazega_lawfirm
from cohortmatch.errors import InputError
from cohortmatch.synthetic import org_statistics
from conftest import load_script


def test_krackhardt_structure():
    org = krackhardt_hightech()
    assert Counter(p.team for p in org.people) == {
        "ceo": 1, "dept1": 5, "dept2": 8, "dept3": 3, "dept4": 4}
    assert [t.parent for t in org.teams] == [None, "ceo", "ceo", "ceo", "ceo"]
    # the formal hierarchy: one CEO, four vice-presidents reporting to them
    roles = Counter(p.attributes["role"] for p in org.people)
    assert roles == {"ceo": 1, "vice-president": 4, "manager": 16}
    vps = {p.id for p in org.people if p.attributes["role"] == "vice-president"}
    assert vps == {"m01", "m13", "m17", "m20"}
    assert all(org.person(v).manager == "m06" for v in vps)
    for p in org.people:
        if p.attributes["role"] == "manager":
            assert org.person(p.manager).attributes["role"] == "vice-president"
            assert org.person(p.manager).team == p.team
    assert org.person("m00").attributes == {
        "age": 33, "tenure": 9, "level": 3, "role": "manager", "dept": 4}


def test_krackhardt_gaps():
    org = krackhardt_hightech()
    assert len(org.gaps) == 10 and {g.purpose for g in org.gaps} == {"knowledge"}
    weights = {g.key: round(g.weight, 3) for g in org.gaps}
    assert weights[("ceo", "dept4")] == 0.626 and weights[("ceo", "dept1")] == 0.344
    friends = krackhardt_hightech(ties="friends")
    assert {g.purpose for g in friends.gaps} == {"build"}
    assert friends.people == org.people and friends.gaps != org.gaps


def test_lazega_structure_and_gaps():
    org = lazega_lawfirm()
    sizes = Counter(p.team for p in org.people)
    assert sorted(sizes.values(), reverse=True) == [29, 19, 11, 8, 3, 1]
    assert sizes["boston-litigation"] == 29
    assert {t.id: t.parent for t in org.teams}["providence-corporate"] == "providence"
    assert Counter(p.attributes["status"] for p in org.people) == {"partner": 36,
                                                                   "associate": 35}
    assert all(p.manager is None for p in org.people)
    assert len(org.gaps) == 15
    widest = max(org.gaps, key=lambda g: g.weight)
    assert widest.key == ("boston-corporate", "providence-litigation")
    assert widest.weight == 1.0  # these two groups never worked together
    assert org_statistics(org)["divisions"] == 3  # the offices
    assert {g.purpose for g in lazega_lawfirm(ties="advice").gaps} == {"knowledge"}


def test_lazega_cross_group_share_matches_readme():
    # README: 44% of co-work pairs cross groups (office x practice)
    rows = _csv("lazega_lawfirm", "law_cowork_edges.csv")
    org = lazega_lawfirm()
    team = {int(p.id[3:]): p.team for p in org.people}
    pairs = {tuple(sorted((int(r[0]), int(r[1])))) for r in rows}
    cross = sum(team[a] != team[b] for a, b in pairs) / len(pairs)
    assert cross == pytest.approx(0.44, abs=0.01)


def test_licence_notes_are_shipped():
    for name in ("krackhardt_hightech", "lazega_lawfirm"):
        folder = resources.files("cohortmatch.datasets").joinpath("data", name)
        assert "MIT License" in folder.joinpath("LICENSE.md").read_text(encoding="utf-8")
        assert "Reference" in folder.joinpath("README.md").read_text(encoding="utf-8")


def test_unknown_ties():
    with pytest.raises(InputError, match=r"The 'ties' of krackhardt_hightech\(\) must be one of "
                                         r"advice, friends. Got 'cowork'."):
        krackhardt_hightech(ties="cowork")
    with pytest.raises(InputError, match=r"The 'ties' of lazega_lawfirm\(\) must be one of"):
        lazega_lawfirm(ties="reports")


def _csv(folder, name):
    text = resources.files("cohortmatch.datasets").joinpath("data", folder, name).read_text()
    return [line.split(",") for line in text.splitlines()[1:]]


def test_ukfaculty_example_runs(capsys):
    """The example plans the UK faculty from its licensed copy of the data."""
    from pathlib import Path

    path = Path(__file__).parents[1] / "examples" / "ukfaculty.py"
    assert "CC BY-SA 2.0 UK" in (path.parent / "data" / "ukfaculty" / "LICENSE.md").read_text()
    module = load_script("examples/ukfaculty.py", "ukfaculty_example")
    org, ties = module.load_faculty()
    assert (len(org.people), len(ties), len(org.gaps)) == (81, 817, 6)
    result = module.main(["--time-limit", "1", "--seed", "3"])
    out = capsys.readouterr().out
    assert "plan is valid" in out and len(result.cohorts) == 9
    assert "uk0" not in out  # no person ids in the printed summary


def test_interactions_are_the_ties_the_loaders_use():
    from cohortmatch.datasets import interactions
    from cohortmatch.interactions import gaps_from_interactions

    for ties in ("advice", "friends"):
        org = krackhardt_hightech(ties=ties)
        pairs = interactions("krackhardt_hightech", ties=ties)
        purpose = "knowledge" if ties == "advice" else "build"
        assert gaps_from_interactions(pairs, org, purpose=purpose) == list(org.gaps)
    assert interactions("lazega_lawfirm", ties="advice") != interactions("lazega_lawfirm")
    with pytest.raises(InputError, match=r"'dataset' must be one of krackhardt_hightech, lazega_lawfirm\. Got 'enron'"):
        interactions("enron")
    with pytest.raises(InputError, match=r"The 'ties' of lazega_lawfirm\(\) must be one of cowork, advice, friends"):
        interactions("lazega_lawfirm", ties="email")
