"""The report: Markdown and a self-contained, escaped HTML page."""

from __future__ import annotations

import base64
import hashlib
import re

import cohortmatch as cm
from cohortmatch.report import html_report, markdown_report, team_rows, write_report


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
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page
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


def test_page_allows_only_its_own_script_and_fetches_nothing():
    plan, org = _request()
    page = html_report(plan, org)
    csp = re.search(r'http-equiv=\'Content-Security-Policy\' content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp and "img-src data:" in csp
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp  # the browser runs this script and no other
    assert "innerHTML" not in script and "eval(" not in script  # it writes text only


def test_team_table_counts_people_gaps_and_gap_partners():
    org = cm.Organisation(
        people=[cm.Person(id=f"{t}{i}", team=t) for t in "abcd" for i in range(2)],
        teams=[cm.Team(id=t) for t in "abcde"],
        gaps=[cm.Gap(a="a", b="b"), cm.Gap(a="b", b="c"), cm.Gap(a="c", b="e")],
    )
    ab = cm.Bridge(a="a", b="b", weight=1.0, purpose="build", pairs=1)
    cohorts = (cm.Cohort(id="k1", course="x", members=("a0", "b0", "d0"), teams=("a", "b", "d"),
                         bridges=(ab,)),
               cm.Cohort(id="k2", course="x", members=("a1", "c0", "d1"), teams=("a", "c", "d")))
    m = cm.Metrics(objective=1, coverage=1 / 3, bridged_gaps=1, bridged_weight=1, total_weight=3,
                   total_gaps=3, bound=3, gap_to_bound=2 / 3, mode="cover")
    plan = cm.Plan(cohorts=cohorts, metrics=m, status="feasible")
    rows = {r.team: (r.people, r.gaps, r.bridged, r.met_gap_partner) for r in team_rows(plan, org)}
    # e has a gap but nobody; d has people but no gap; b1 and c1 are not placed
    assert rows == {"a": (2, 1, 1, 0.5), "b": (1, 2, 1, 1.0), "c": (1, 2, 0, 0.0),
                    "d": (2, 0, 0, 0.0), "e": (0, 1, 0, None)}
    text = markdown_report(plan, org)
    assert "| a | 2 | 1 | 1 | 50% |" in text and "| e | 0 | 1 | 0 | – |" in text
    page = html_report(plan, org)
    assert "<tr data-team='e'><td>e</td>" in page
    assert page.count("class='missed'") == 2 and "bridged by 1 cohort(s)" in page
    assert "data-person='b0' data-team='b' data-partners='1'" in page
    assert "<option value='d'>d</option>" in page


def test_headline_reports_the_gap_partner_figures():
    plan, org = _request()
    m = plan.metrics
    line = f"| met a gap partner | {m.met_gap_partner:.1%} of participants (median {m.median_gap_partners:g}"
    assert line in markdown_report(plan, org)
