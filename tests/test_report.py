"""The report: Markdown and a self-contained, escaped HTML page."""

from __future__ import annotations

import cohortmatch as cm
from cohortmatch.report import html_report, markdown_report, write_report


def _request():
    people = [cm.Person(id=f"p{i}", team="abcd"[i % 4]) for i in range(8)]
    people.append(cm.Person(id="<script>alert(1)</script>", team="d"))
    org = cm.Organisation(
        people=people,
        gaps=[cm.Gap(a="a", b="b", weight=3.0, purpose="repair"),
              cm.Gap(a="c", b="d", weight=1.0, purpose="knowledge"),
              cm.Gap(a="a", b="c", weight=0.5)],
    )
    courses = [cm.Course(id="talk & <b>listen</b>", min_size=4, max_size=5)]
    plan = cm.plan(org, courses, time_limit=None, work_limit=300, seed=2)
    assert cm.validate(plan, org, courses) == []
    return plan, org


def test_markdown_lists_metrics_cohorts_members_and_why():
    plan, org = _request()
    text = markdown_report(plan, org, title="Q3 cohorts")
    assert text.startswith("# Q3 cohorts\n")
    assert f"| coverage | {plan.metrics.coverage:.1%} of the gap weight" in text
    for c in plan.cohorts:
        assert f"### {c.id}" in text
        for m in c.members:
            assert m in text
    assert "repairs a strained relationship" in text


def test_html_is_self_contained_and_escapes_input(tmp_path):
    plan, org = _request()
    page = html_report(plan, org, title="<i>t</i>", images={"x": b"\x89PNG"})
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>listen</b>" not in page and "&lt;b&gt;listen&lt;/b&gt;" in page
    assert "&lt;i&gt;t&lt;/i&gt;" in page and "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    paths = write_report(plan, org, tmp_path, labels={plan.cohorts[0].id: "Group <1>"})
    html = paths["html"].read_text()
    assert html.count("data:image/png;base64,") == 3
    assert "Group &lt;1&gt;" in html
    assert all(paths[k].read_bytes().startswith(b"\x89PNG") for k in ("gap_matrix", "gap_graph",
                                                                       "composition"))
    assert "![gap matrix](gap_matrix.png)" in paths["markdown"].read_text()


def test_report_without_gaps_or_with_everything_bridged():
    org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4)])
    plan = cm.plan(org, [cm.Course(id="c", min_size=2, max_size=2)], time_limit=None,
                   work_limit=50, seed=0)
    text = markdown_report(plan, org)
    assert "None: every gap is bridged." in text and "Bridges no gap." in text
