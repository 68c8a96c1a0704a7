"""A readable report of a plan: Markdown, and a self-contained HTML page with its plots.

Teams are shown by their ``name`` where the organisation gives one (:func:`cohortmatch.display.named_teams`).
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from .display import named_teams, people_and_places
from .model import Organisation
from .result import Cohort, Plan

__all__ = ["markdown_report", "html_report", "write_report", "PLOTS"]

#: File names of the plots :func:`write_report` writes next to the report.
PLOTS = {
    "gap_matrix": "gap_matrix.png",
    "gap_graph": "gap_graph.png",
    "composition": "composition.png",
}

_WHY = {
    "build": "builds a new working relationship",
    "repair": "repairs a strained relationship",
    "process": "smooths a hand-off in a shared process",
    "knowledge": "shares knowledge within a function",
    "innovation": "brings distant parts together for new ideas",
    "other": "closes a gap named by the organisation",
}


def _headline(plan: Plan) -> list[tuple[str, str]]:
    m = plan.metrics
    people, places = people_and_places(plan)
    return [
        ("coverage",
         f"{m.coverage:.1%} of the gap weight ({m.bridged_gaps} of {m.total_gaps} gaps)"),
        ("objective", f"{m.objective:g} ({m.mode} mode)"),
        ("proven upper bound", f"{m.bound:g} (the plan is within {m.gap_to_bound:.1%} of it)"),
        ("cohorts", f"{len(plan.cohorts)}"),
        ("people placed", f"{people}"),
        ("places filled", f"{places} (one per person, course and round)"),
        ("places not filled", f"{len(plan.unassigned)}"),
        ("status", f"{plan.status} (engine {plan.solver}, {plan.elapsed:.1f} s, seed {plan.seed})"),
    ]


def _label(c: Cohort, labels: Mapping[str, str] | None) -> str:
    if labels and c.id in labels and labels[c.id] != c.id:
        return f"{labels[c.id]} ({c.id})"
    return c.id


def _teams_line(c: Cohort) -> str:
    counts = Counter(c.teams)
    return ", ".join(f"{t} ×{n}" if n > 1 else t for t, n in sorted(counts.items()))


def _why(purpose: str) -> str:
    return _WHY.get(purpose, _WHY["other"])


def markdown_report(
    plan: Plan, org: Organisation, *, title: str = "Cohort plan",
    labels: Mapping[str, str] | None = None, images: bool = False,
) -> str:
    """The report as Markdown: metrics, missed gaps, then each cohort, its members and bridges.

    Parameters
    ----------
    plan : Plan
    org : Organisation
    title : str
    labels : dict, optional
        Display names of cohorts (e.g. the labels of a hand-made grouping).
    images : bool
        Link the PNG plots :func:`write_report` writes.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4)],
    ...                       gaps=[cm.Gap(a="a", b="b", weight=2.0, purpose="repair")])
    >>> p = cm.plan(org, [cm.Course(id="x", min_size=2, max_size=2)], time_limit=None,
    ...             work_limit=100, seed=0)
    >>> text = markdown_report(p, org)
    >>> "| coverage | 100.0% of the gap weight (1 of 1 gaps) |" in text
    True
    >>> "a ↔ b (weight 2, repair): repairs a strained relationship" in text
    True
    """
    plan, org = named_teams(plan, org)
    lines = [f"# {title}", "", "| metric | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in _headline(plan)]
    if images:
        lines += ["", "## Pictures", ""]
        lines += [f"![{k.replace('_', ' ')}]({f})" for k, f in PLOTS.items()]
    missed = _missed(plan, org)
    lines += ["", "## Gaps no cohort bridges", ""]
    if missed:
        lines += [f"- {a} ↔ {b} (weight {w:g}, {p})" for a, b, w, p in missed[:50]]
        if len(missed) > 50:
            lines.append(f"- … and {len(missed) - 50} more")
    else:
        lines.append("None: every gap is bridged.")
    lines += ["", "## Cohorts", ""]
    for c in plan.cohorts:
        lines += [f"### {_label(c, labels)}", ""]
        lines.append(f"Course {c.course}, round {c.round}: {len(c.members)} members from "
                     f"{len(set(c.teams))} teams ({_teams_line(c)}).")
        lines.append("")
        lines.append("Members: " + ", ".join(f"{m} ({t})" for m, t in zip(c.members, c.teams,
                                                                          strict=True)))
        lines.append("")
        if c.bridges:
            lines.append(f"Bridges {len(c.bridges)} gaps:")
            lines.append("")
            for b in sorted(c.bridges, key=lambda x: (-x.weight, x.a, x.b)):
                lines.append(f"- {b.a} ↔ {b.b} (weight {b.weight:g}, {b.purpose}): "
                             f"{_why(b.purpose)}; {b.pairs} pair(s) meet")
        else:
            lines.append("Bridges no gap.")
        lines.append("")
    if plan.unassigned:
        lines += ["## Not placed", ""]
        lines += [f"- {u.person} (course {u.course}, round {u.round}): {u.reason}"
                  for u in plan.unassigned]
    return "\n".join(lines).rstrip() + "\n"


def _missed(plan: Plan, org: Organisation) -> list[tuple[str, str, float, str]]:
    bridged = {(b.a, b.b) for c in plan.cohorts for b in c.bridges}
    bridged |= {(b, a) for a, b in bridged}
    out = [(g.a, g.b, g.weight, g.purpose) for g in org.gaps if (g.a, g.b) not in bridged]
    return sorted(out, key=lambda x: (-x[2], x[0], x[1]))


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{margin-bottom:.2em} table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ddd;padding:.3em .7em;text-align:left} th{background:#f3f3f3}
.cohort{border:1px solid #e3e3e3;border-radius:6px;padding:.6em 1em;margin:.8em 0}
.cohort h3{margin:.2em 0} .muted{color:#666;font-size:.9em}
.bridge{color:#1b7a5a} .missed{color:#b04a00}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}
details summary{cursor:pointer;font-weight:600}
"""


def html_report(
    plan: Plan, org: Organisation, *, title: str = "Cohort plan",
    labels: Mapping[str, str] | None = None, images: Mapping[str, bytes] | None = None,
) -> str:
    """The report as one self-contained HTML page (plots embedded as PNG data).

    Every text that comes from the input (ids, team names, labels, purposes) is escaped.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id="<b>x</b>", team="a"),
    ...                               cm.Person(id="y", team="b")], gaps=[cm.Gap(a="a", b="b")])
    >>> p = cm.plan(org, [cm.Course(id="x", min_size=2, max_size=2)], time_limit=None,
    ...             work_limit=10, seed=0)
    >>> page = html_report(p, org)
    >>> "<b>x</b>" in page, "&lt;b&gt;x&lt;/b&gt;" in page
    (False, True)
    """
    e = html.escape
    plan, org = named_teams(plan, org)
    out = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
           f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{e(title)}</h1>"]
    out.append("<table><tbody>")
    out += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _headline(plan)]
    out.append("</tbody></table>")
    for name, png in (images or {}).items():
        data = base64.b64encode(png).decode("ascii")
        alt = e(name.replace("_", " "))
        out.append(f"<img alt='{alt}' src='data:image/png;base64,{data}'>")
    missed = _missed(plan, org)
    out.append(f"<h2>Gaps no cohort bridges ({len(missed)})</h2>")
    if missed:
        out.append("<ul>")
        out += [f"<li class='missed'>{e(a)} ↔ {e(b)} (weight {w:g}, {e(p)})</li>"
                for a, b, w, p in missed[:100]]
        if len(missed) > 100:
            out.append(f"<li>… and {len(missed) - 100} more</li>")
        out.append("</ul>")
    else:
        out.append("<p>None: every gap is bridged.</p>")
    out.append(f"<h2>Cohorts ({len(plan.cohorts)})</h2>")
    for c in plan.cohorts:
        out.append("<div class='cohort'>")
        out.append(f"<h3>{e(_label(c, labels))}</h3>")
        out.append(f"<p class='muted'>course {e(c.course)}, round {c.round}: {len(c.members)} "
                   f"members from {len(set(c.teams))} teams ({e(_teams_line(c))})</p>")
        if c.bridges:
            out.append(f"<p>Bridges {len(c.bridges)} gaps:</p><ul>")
            for b in sorted(c.bridges, key=lambda x: (-x.weight, x.a, x.b)):
                out.append(f"<li class='bridge'>{e(b.a)} ↔ {e(b.b)} (weight {b.weight:g}, "
                           f"{e(b.purpose)}): {e(_why(b.purpose))}; {b.pairs} pair(s) meet</li>")
            out.append("</ul>")
        else:
            out.append("<p>Bridges no gap.</p>")
        members = ", ".join(f"{e(m)} ({e(t)})" for m, t in zip(c.members, c.teams, strict=True))
        out.append(f"<details><summary>Members</summary><p>{members}</p></details>")
        out.append("</div>")
    if plan.unassigned:
        out.append("<h2>Not placed</h2><ul>")
        out += [f"<li>{e(u.person)} (course {e(u.course)}, round {u.round}): {e(u.reason)}</li>"
                for u in plan.unassigned]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_report(
    plan: Plan, org: Organisation, directory: str | os.PathLike, *, title: str = "Cohort plan",
    labels: Mapping[str, str] | None = None, plots: bool = True,
) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and (with ``plots``) the PNG plots to ``directory``.

    Returns
    -------
    dict
        ``{"html": path, "markdown": path, "gap_matrix": path, ...}``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    images: dict[str, bytes] = {}
    if plots:
        from .plots import cohort_composition, gap_graph, gap_matrix

        figures = {
            "gap_matrix": gap_matrix(plan, org),
            "gap_graph": gap_graph(plan, org),
            "composition": cohort_composition(plan, org),
        }
        for name, fig in figures.items():
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            images[name] = buf.getvalue()
            path = directory / PLOTS[name]
            path.write_bytes(images[name])
            paths[name] = path
    md = directory / "report.md"
    md.write_text(markdown_report(plan, org, title=title, labels=labels, images=plots),
                  encoding="utf-8")
    page = directory / "report.html"
    page.write_text(html_report(plan, org, title=title, labels=labels, images=images),
                    encoding="utf-8")
    paths["markdown"] = md
    paths["html"] = page
    return paths
