"""``cm.score_grouping``: a hand-made grouping scored from Python, as the CLI's ``score``."""

import pandas as pd
import pytest

import cohortmatch as cm
from cohortmatch.io import grouping_plan, missed_gaps, read_grouping

ORG = cm.Organisation(
    people=[cm.Person(id=f"p{i}", team="abc"[i % 3]) for i in range(12)],
    gaps=[cm.Gap(a="a", b="b", weight=2.0), cm.Gap(a="b", b="c"), cm.Gap(a="a", b="c", weight=3.0)],
)
COURSE = cm.Course(id="intro", min_size=3, max_size=4)


def test_forms_agree_with_the_file_reader(tmp_path):
    cohorts = [["p0", "p1", "p2"], ["p3", "p4", "p6"], ["p5", "p7", "p8"], ["p9", "p10", "p11"]]
    path = tmp_path / "g.csv"
    path.write_text("person,cohort\n" + "".join(f"{m},{k}\n" for k, c in enumerate(cohorts, 1)
                                                for m in c))
    from_file = grouping_plan(read_grouping(path), ORG, [COURSE])
    forms = [
        cohorts,
        {m: str(k) for k, c in enumerate(cohorts, 1) for m in c},
        pd.DataFrame({"person": [m for c in cohorts for m in c],
                      "cohort": [str(k) for k, c in enumerate(cohorts, 1) for m in c]}),
        path,
        str(path),
    ]
    for form in forms:
        given = cm.score_grouping(ORG, form, [COURSE])
        assert given.plan.metrics == from_file.plan.metrics
        assert [c.members for c in given.plan.cohorts] == [c.members for c in from_file.plan.cohorts]


def test_reports_rules_broken_people_left_out_and_the_requests_bound():
    request = cm.Request(org=ORG, courses=[COURSE], policy=cm.Policy(max_per_team=1))
    given = cm.score_grouping(request, [["p0", "p3", "p1"], ["p2", "p5", "p4"]])
    assert given.violations == ["cohort '1': 2 members of team 'a', max_per_team is 1",
                                "cohort '2': 2 members of team 'c', max_per_team is 1"]
    assert sorted(u.person for u in given.plan.unassigned) == ["p10", "p11", "p6", "p7", "p8", "p9"]
    assert given.plan.metrics.bound == pytest.approx(cm.upper_bound(request.compile()))
    assert missed_gaps(given.plan, ORG) == [("a", "c", 3.0, "build")]
    assert given.labels == {"intro-1": "1", "intro-2": "2"}


def test_without_courses_the_courses_follow_the_grouping():
    given = cm.score_grouping(ORG, [["p0", "p1"], ["p2", "p3", "p4"]])
    (course,) = given.courses
    assert (course.min_size, course.max_size, course.cohorts) == (2, 3, 2)
    assert given.plan.unassigned == () or list(given.plan.unassigned) == []
    assert given.plan.metrics.coverage == 1.0  # a-b in the first, all three in the second


@pytest.mark.parametrize(
    ("grouping", "message"),
    [
        ({"p1": 5}, "entry 1, column 'cohort': expected text, got 5"),
        ({"": "A"}, "entry 1, column 'person': expected text"),
        ([["p1", "p2"], ["p2"]], "'p2' is placed twice (first in entry 2)"),
        (["p1", "p2"], "grouping, cohort 1: expected a list of person ids, got str"),
        ({"zz": "A"}, "unknown person 'zz'"),
        (42, "grouping"),
    ],
)
def test_bad_groupings_are_input_errors(grouping, message):
    with pytest.raises(cm.InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cm.score_grouping(ORG, grouping, [COURSE])


def test_request_and_pieces_are_not_mixed():
    with pytest.raises(cm.InputError, match="either a Request"):
        cm.score_grouping(cm.Request(org=ORG, courses=[COURSE]), [["p0"]], [COURSE])
