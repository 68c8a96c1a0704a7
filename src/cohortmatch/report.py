"""A readable report of a plan: Markdown, and one self-contained HTML page to explore.

The HTML page needs nothing but a browser: no network (a Content-Security-Policy forbids
any fetch), no build step, plots embedded as PNG data. It works as an e-mail attachment.
Every text from the input is escaped, and the page's one script is a fixed text that reads
the page itself: a search box finds a person and shows their cohorts, a team filter shows
one team's members, cohorts and gaps, and the team, gap and cohort tables sort by any
column. Without scripts the page still shows everything.
Teams are shown by their ``name`` where the organisation gives one
(:func:`cohortmatch.display.named_teams`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .display import named_teams
from .io.grouping import missed_gaps
from .model import Organisation
from .result import Cohort, Plan
from .validate import gap_partners

__all__ = ["markdown_report", "html_report", "write_report", "team_rows", "TeamRow", "PLOTS"]

#: File names of the plots :func:`write_report` writes next to the report.
PLOTS = {
    "gap_matrix": "gap_matrix.png",
    "gap_graph": "gap_graph.png",
    "composition": "composition.png",
    "mix": "mix.png",
}

_WHY = {
    "build": "builds a new working relationship",
    "repair": "repairs a strained relationship",
    "process": "smooths a hand-off in a shared process",
    "knowledge": "shares knowledge within a function",
    "innovation": "brings distant parts together for new ideas",
    "other": "closes a gap named by the organisation",
}


@dataclass(frozen=True)
class TeamRow:
    """One team's view of a plan.

    Attributes
    ----------
    team : str
    people : int
        Members of the team placed in at least one cohort.
    gaps : int
        Gaps of the organisation that involve the team.
    bridged : int
        Those gaps bridged by at least one cohort.
    met_gap_partner : float or None
        Share of the team's placed members who meet a gap partner (None without members).
    """

    team: str
    people: int
    gaps: int
    bridged: int
    met_gap_partner: float | None


def team_rows(plan: Plan, org: Organisation) -> list[TeamRow]:
    """Per team: placed people, gaps, gaps bridged and the share who met a gap partner.

    Teams with neither a placed member nor a gap are left out; rows are sorted by team id.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="abc"[i % 3]) for i in range(6)],
    ...                       gaps=[cm.Gap(a="a", b="b")])
    >>> p = cm.plan(org, [cm.Course(id="x", min_size=3, max_size=3)], time_limit=None,
    ...             work_limit=100, seed=0)
    >>> [(r.team, r.people, r.gaps, r.bridged, r.met_gap_partner) for r in team_rows(p, org)]
    [('a', 2, 1, 1, 1.0), ('b', 2, 1, 1, 1.0), ('c', 2, 0, 0, 0.0)]
    """
    partners = gap_partners(plan, org)
    team_of = {p.id: p.team for p in org.people}
    people: Counter[str] = Counter(team_of[m] for m in partners)
    met: Counter[str] = Counter(team_of[m] for m, n in partners.items() if n > 0)
    times = _bridging(plan)
    gaps: Counter[str] = Counter()
    done: Counter[str] = Counter()
    for g in org.gaps:
        for t in (g.a, g.b):
            gaps[t] += 1
            done[t] += times[frozenset((g.a, g.b))] > 0
    return [
        TeamRow(team=t, people=people[t], gaps=gaps[t], bridged=done[t],
                met_gap_partner=met[t] / people[t] if people[t] else None)
        for t in sorted(set(people) | set(gaps))
    ]


def _mix_line(plan: Plan, c: Cohort) -> str | None:
    """A cohort's counts per mix attribute, e.g. ``level 6 ×12, 5 ×2; location ...``."""
    if plan.mix is None:
        return None
    counts = plan.mix.counts.get(c.id, {})
    return "; ".join(f"{a} " + ", ".join(f"{v or '(missing)'} ×{n}" for v, n in sorted(counts.get(a, {}).items()))
                     for a in plan.mix.attributes)


def _label(c: Cohort, labels: Mapping[str, str] | None) -> str:
    if labels and c.id in labels and labels[c.id] != c.id:
        return f"{labels[c.id]} ({c.id})"
    return c.id


def _where(c: Cohort) -> str:
    """``course x, round 0`` (``, at <slot>`` when the cohort has a time)."""
    return f"course {c.course}, round {c.round}" + (f", at {c.slot}" if c.slot is not None else "")


def _teams_line(c: Cohort) -> str:
    counts = Counter(c.teams)
    return ", ".join(f"{t} ×{n}" if n > 1 else t for t, n in sorted(counts.items()))


def _why(purpose: str) -> str:
    return _WHY.get(purpose, _WHY["other"])


def _share(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _bridging(plan: Plan) -> Counter[frozenset[str]]:
    """How many cohorts bridge each gap (keyed by its pair of teams)."""
    return Counter(frozenset((b.a, b.b)) for c in plan.cohorts for b in c.bridges)


def markdown_report(
    plan: Plan, org: Organisation, *, title: str = "Cohort plan",
    labels: Mapping[str, str] | None = None, images: bool = False,
) -> str:
    """The report as Markdown: metrics, teams, missed gaps, then each cohort, its members and bridges.

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
    >>> "| a | 2 | 1 | 1 | 100% |" in text
    True
    >>> "a ↔ b (weight 2, repair): repairs a strained relationship" in text
    True
    """
    plan, org = named_teams(plan, org)
    lines = [f"# {title}", "", "| metric | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in plan.headline()]
    if images:
        lines += ["", "## Pictures", ""]
        lines += [f"![{k.replace('_', ' ')}]({f})" for k, f in PLOTS.items() if k != "mix" or plan.mix]
    lines += ["", "## Teams", "", "| team | people | gaps | gaps bridged | met a gap partner |",
              "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r.team} | {r.people} | {r.gaps} | {r.bridged} | {_share(r.met_gap_partner)} |"
              for r in team_rows(plan, org)]
    missed = missed_gaps(plan, org)
    lines += ["", "## Gaps no cohort bridges", ""]
    if missed:
        lines += [f"- {a} ↔ {b} (weight {w:g}, {p})" for a, b, w, p in missed[:50]]
        if len(missed) > 50:
            lines.append(f"- … and {len(missed) - 50} more")
    else:
        lines.append("None: every gap is bridged.")
    timetable = plan.timetable()
    if timetable:
        lines += ["", "## Timetable", "", "| slot | cohort | course | round | members |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [f"| {slot} | {_label(c, labels)} | {c.course} | {c.round} | {', '.join(c.members)} |"
                  for slot, c in timetable]
    lines += ["", "## Cohorts", ""]
    for c in plan.cohorts:
        lines += [f"### {_label(c, labels)}", ""]
        lines.append(f"C{_where(c)[1:]}: {len(c.members)} members from "
                     f"{len(set(c.teams))} teams ({_teams_line(c)}).")
        lines.append("")
        lines.append("Members: " + ", ".join(f"{m} ({t})" for m, t in zip(c.members, c.teams,
                                                                          strict=True)))
        lines.append("")
        if (mix := _mix_line(plan, c)) is not None:
            lines += [f"Mix: {mix}.", ""]
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


# --- HTML --------------------------------------------------------------------------------


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{margin-bottom:.2em} table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ddd;padding:.3em .7em;text-align:left} th{background:#f3f3f3}
th button{font:inherit;font-weight:600;border:0;background:none;padding:0;cursor:pointer}
th[aria-sort=ascending] button::after{content:" ▲"} th[aria-sort=descending] button::after{content:" ▼"}
td.num{text-align:right}
.cohort{border:1px solid #e3e3e3;border-radius:6px;padding:.6em 1em;margin:.8em 0}
.cohort h3{margin:.2em 0} .muted{color:#666;font-size:.9em}
.bridge{color:#1b7a5a} .missed{color:#b04a00}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}
details summary{cursor:pointer;font-weight:600}
.explore{background:#f6f8fa;border:1px solid #e3e3e3;border-radius:6px;padding:.8em 1em;margin:1em 0}
.explore label{margin-right:1.5em} .explore input,.explore select{font:inherit;padding:.2em .4em}
.hit{background:#fff3b0} .mine{font-weight:600}
#person-result ul,#team-view ul{margin:.3em 0}
"""

# The page's only script: fixed text, it reads the page and writes with textContent only.
_SCRIPT = r"""
(function () {
  "use strict";
  var $ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  var el = function (tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  };
  var teamsOf = function (node) { return JSON.parse(node.getAttribute("data-teams") || "[]"); };
  var cards = $("div.cohort");
  var entries = $("li[data-person]");

  function cohortCard(li) { return li.closest("div.cohort"); }

  function personLine(li) {
    var card = cohortCard(li);
    var line = el("li");
    if (!card) {
      line.textContent = li.getAttribute("data-person") + " (" + li.getAttribute("data-team") +
        "): not placed, " + li.getAttribute("data-reason");
      return line;
    }
    var link = el("a", card.getAttribute("data-label"));
    link.href = "#" + card.id;
    line.appendChild(document.createTextNode(li.getAttribute("data-person") + " (" +
      li.getAttribute("data-team") + "): cohort "));
    line.appendChild(link);
    line.appendChild(document.createTextNode(", " + card.getAttribute("data-where") + ", " +
      li.getAttribute("data-partners") + " gap partner(s) met"));
    return line;
  }

  function clearHits() { $(".hit").forEach(function (n) { n.classList.remove("hit"); }); }

  function findPerson(query) {
    var box = document.getElementById("person-result");
    box.textContent = "";
    clearHits();
    var q = query.trim().toLowerCase();
    if (!q) { return; }
    var exact = entries.filter(function (li) { return li.getAttribute("data-person").toLowerCase() === q; });
    var found = exact.length ? exact : entries.filter(function (li) {
      return li.getAttribute("data-person").toLowerCase().indexOf(q) >= 0;
    });
    if (!found.length) { box.appendChild(el("p", "Nobody with an id like \u201c" + query.trim() + "\u201d.")); return; }
    var list = el("ul");
    found.slice(0, 30).forEach(function (li) {
      list.appendChild(personLine(li));
      li.classList.add("hit");
      var card = cohortCard(li);
      if (card && exact.length) { card.classList.add("hit"); card.querySelector("details").open = true; }
    });
    box.appendChild(list);
    if (found.length > 30) { box.appendChild(el("p", "\u2026 and " + (found.length - 30) + " more")); }
  }

  function showTeam(team) {
    $("[data-teams]").forEach(function (node) {
      node.hidden = team !== "" && teamsOf(node).indexOf(team) < 0;
    });
    $("#team-table tbody tr").forEach(function (row) {
      row.hidden = team !== "" && row.getAttribute("data-team") !== team;
    });
    entries.forEach(function (li) {
      li.classList.toggle("mine", team !== "" && li.getAttribute("data-team") === team);
    });
    var view = document.getElementById("team-view");
    view.textContent = "";
    view.hidden = team === "";
    if (team === "") { return; }
    var members = entries.filter(function (li) { return li.getAttribute("data-team") === team; });
    var people = {};
    members.forEach(function (li) { people[li.getAttribute("data-person")] = true; });
    var shown = cards.filter(function (c) { return !c.hidden; }).length;
    view.appendChild(el("h3", "Team " + team + ": " + Object.keys(people).length + " people in " +
      shown + " cohort(s)"));
    var list = el("ul");
    members.forEach(function (li) { list.appendChild(personLine(li)); });
    view.appendChild(list);
  }

  function sortBy(table, col, th) {
    var numeric = th.getAttribute("data-sort") === "num";
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    $("th", table).forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var body = table.tBodies[0];
    var key = function (row) {
      var cell = row.cells[col];
      var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent;
      return numeric ? parseFloat(raw) : raw.toLowerCase();
    };
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (numeric && isNaN(x)) { return 1; }
      if (numeric && isNaN(y)) { return -1; }
      return x < y ? -dir : x > y ? dir : 0;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  $("table.sortable").forEach(function (table) {
    $("thead th", table).forEach(function (th, col) {
      var button = el("button", th.textContent);
      button.type = "button";
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, col, th); });
    });
  });
  document.getElementById("person-search").addEventListener("input", function (e) { findPerson(e.target.value); });
  document.getElementById("team-filter").addEventListener("change", function (e) { showTeam(e.target.value); });
  document.getElementById("explore").hidden = false;
})();
"""


# Only this exact script may run (its hash), nothing may be fetched, images only as data.
_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-"
        + base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
        + "'; form-action 'none'; base-uri 'none'")


def _attr(value: object) -> str:
    """An attribute value, escaped for a single- or double-quoted attribute."""
    return html.escape(str(value), quote=True)


def _teams_attr(teams: Iterable[str]) -> str:
    """The distinct teams as a JSON list in an attribute (the script parses it)."""
    return _attr(json.dumps(sorted(set(teams))))


def _table(table_id: str, head: list[tuple[str, bool]], rows: list[str]) -> list[str]:
    """A sortable table: ``head`` holds (title, numeric) per column; ``rows`` are <tr> lines."""
    ths = "".join(f"<th data-sort='{'num' if num else 'text'}'>{html.escape(t)}</th>" for t, num in head)
    return [f"<table id='{table_id}' class='sortable'><thead><tr>{ths}</tr></thead><tbody>",
            *rows, "</tbody></table>"]


def _num(value: float, text: str | None = None) -> str:
    return f"<td class='num' data-value='{value:.17g}'>{html.escape(text or f'{value:g}')}</td>"


def _explore_panel(org: Organisation) -> list[str]:
    e = html.escape
    teams = sorted({p.team for p in org.people})
    options = "".join(f"<option value='{_attr(t)}'>{e(t)}</option>" for t in teams)
    return [
        "<section id='explore' class='explore' hidden>",
        "<label>Find a person <input id='person-search' type='search' placeholder='person id' "
        "autocomplete='off' spellcheck='false'></label>",
        f"<label>Team <select id='team-filter'><option value=''>all teams</option>{options}</select></label>",
        "<div id='person-result' aria-live='polite'></div>",
        "<div id='team-view' hidden></div>",
        "</section>",
    ]


def _team_table(plan: Plan, org: Organisation) -> list[str]:
    rows = []
    for r in team_rows(plan, org):
        met = -1.0 if r.met_gap_partner is None else r.met_gap_partner  # no members sort last
        rows.append(f"<tr data-team='{_attr(r.team)}'><td>{html.escape(r.team)}</td>{_num(r.people)}"
                    f"{_num(r.gaps)}{_num(r.bridged)}{_num(met, _share(r.met_gap_partner))}</tr>")
    head = [("team", False), ("people", True), ("gaps", True), ("gaps bridged", True),
            ("met a gap partner", True)]
    return [f"<h2>Teams ({len(rows)})</h2>", *_table("team-table", head, rows)]


def _gap_table(plan: Plan, org: Organisation) -> list[str]:
    e = html.escape
    times = _bridging(plan)
    rows = []
    for g in sorted(org.gaps, key=lambda g: (-g.weight, g.a, g.b)):
        n = times[frozenset((g.a, g.b))]
        status = f"bridged by {n} cohort(s)" if n else "missed"
        rows.append(f"<tr data-teams='{_teams_attr((g.a, g.b))}' class='{'bridge' if n else 'missed'}'>"
                    f"<td>{e(g.a)}</td><td>{e(g.b)}</td>{_num(g.weight)}<td>{e(g.purpose)}</td>"
                    f"{_num(n, status)}</tr>")
    missed = sum(1 for g in org.gaps if not times[frozenset((g.a, g.b))])
    head = [("team a", False), ("team b", False), ("weight", True), ("purpose", False),
            ("cohorts bridging", True)]
    return [f"<h2>Gaps ({len(rows)}, {missed} missed)</h2>", *_table("gap-table", head, rows)]


def _cohort_table(plan: Plan, labels: Mapping[str, str] | None) -> list[str]:
    e = html.escape
    rows = [
        f"<tr data-teams='{_teams_attr(c.teams)}'><td><a href='#cohort-{i}'>{e(_label(c, labels))}</a></td>"
        f"<td>{e(c.course)}</td>{_num(c.round)}{_num(len(c.members))}{_num(len(set(c.teams)))}"
        f"{_num(len(c.bridges))}{_num(sum(b.weight for b in c.bridges))}</tr>"
        for i, c in enumerate(plan.cohorts)
    ]
    head = [("cohort", False), ("course", False), ("round", True), ("members", True), ("teams", True),
            ("gaps bridged", True), ("bridged weight", True)]
    return [f"<h2>Cohorts ({len(rows)})</h2>", *_table("cohort-table", head, rows)]


def _timetable(plan: Plan, labels: Mapping[str, str] | None) -> list[str]:
    """Slot by cohort with members (cohorts with a time slot only; nothing without)."""
    e = html.escape
    index = {id(c): i for i, c in enumerate(plan.cohorts)}
    timetable = plan.timetable()
    rows = [
        f"<tr data-teams='{_teams_attr(c.teams)}'><td>{e(slot)}</td>"
        f"<td><a href='#cohort-{index[id(c)]}'>{e(_label(c, labels))}</a></td><td>{e(c.course)}</td>"
        f"{_num(c.round)}{_num(len(c.members))}<td>{e(', '.join(c.members))}</td></tr>"
        for slot, c in timetable
    ]
    if not rows:
        return []
    slots = len({slot for slot, _ in timetable})
    head = [("slot", False), ("cohort", False), ("course", False), ("round", True), ("size", True),
            ("members", False)]
    return [f"<h2>Timetable ({slots} slots, {len(rows)} cohorts)</h2>", *_table("timetable", head, rows)]


def _cohort_cards(plan: Plan, labels: Mapping[str, str] | None, partners: Mapping[str, int]) -> list[str]:
    e = html.escape
    out = []
    for i, c in enumerate(plan.cohorts):
        label = _label(c, labels)
        where = _where(c)
        out.append(f"<div class='cohort' id='cohort-{i}' data-teams='{_teams_attr(c.teams)}' "
                   f"data-label='{_attr(label)}' data-where='{_attr(where)}'>")
        out.append(f"<h3>{e(label)}</h3>")
        out.append(f"<p class='muted'>{e(where)}: {len(c.members)} members from "
                   f"{len(set(c.teams))} teams ({e(_teams_line(c))})</p>")
        if (mix := _mix_line(plan, c)) is not None:
            out.append(f"<p class='muted'>mix: {e(mix)}</p>")
        if c.bridges:
            out.append(f"<p>Bridges {len(c.bridges)} gaps:</p><ul>")
            for b in sorted(c.bridges, key=lambda x: (-x.weight, x.a, x.b)):
                out.append(f"<li class='bridge'>{e(b.a)} ↔ {e(b.b)} (weight {b.weight:g}, "
                           f"{e(b.purpose)}): {e(_why(b.purpose))}; {b.pairs} pair(s) meet</li>")
            out.append("</ul>")
        else:
            out.append("<p>Bridges no gap.</p>")
        out.append(f"<details><summary>Members ({len(c.members)})</summary><ul>")
        for m, t in zip(c.members, c.teams, strict=True):
            n = partners.get(m, 0)
            out.append(f"<li data-person='{_attr(m)}' data-team='{_attr(t)}' data-partners='{n}'>"
                       f"{e(m)} ({e(t)}): {n} gap partner(s) met</li>")
        out.append("</ul></details></div>")
    return out


def html_report(
    plan: Plan, org: Organisation, *, title: str = "Cohort plan",
    labels: Mapping[str, str] | None = None, images: Mapping[str, bytes] | None = None,
) -> str:
    """The report as one self-contained HTML page to explore (plots embedded as PNG data).

    A search box finds a person (by id, or part of it) and shows their cohorts; a team
    filter shows one team's members, cohorts and gaps; the team, gap and cohort tables
    sort by a click on a column. Every text that comes from the input (ids, team names,
    labels, purposes, reasons) is escaped; the page fetches nothing.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id="<b>x</b>", team="a"),
    ...                               cm.Person(id="y", team="b")], gaps=[cm.Gap(a="a", b="b")])
    >>> p = cm.plan(org, [cm.Course(id="x", min_size=2, max_size=2)], time_limit=None,
    ...             work_limit=10, seed=0)
    >>> page = html_report(p, org)
    >>> "<b>x</b>" in page, "&lt;b&gt;x&lt;/b&gt;" in page, "id='person-search'" in page
    (False, True, True)
    """
    e = html.escape
    plan, org = named_teams(plan, org)
    partners = gap_partners(plan, org)
    out = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
           f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">",
           "<meta name='viewport' content='width=device-width, initial-scale=1'>",
           f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{e(title)}</h1>", "<table><tbody>"]
    out += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in plan.headline()]
    out.append("</tbody></table>")
    out += _explore_panel(org)
    out += _team_table(plan, org)
    out += _gap_table(plan, org)
    out += _cohort_table(plan, labels)
    out += _timetable(plan, labels)
    if images:
        out.append("<h2>Pictures</h2>")
    for name, png in (images or {}).items():
        data = base64.b64encode(png).decode("ascii")
        out.append(f"<img alt='{_attr(name.replace('_', ' '))}' src='data:image/png;base64,{data}'>")
    out.append(f"<h2>Cohort by cohort ({len(plan.cohorts)})</h2>")
    out += _cohort_cards(plan, labels, partners)
    if plan.unassigned:
        team_of = {p.id: p.team for p in org.people}
        out.append(f"<h2>Not placed ({len(plan.unassigned)})</h2><ul>")
        for u in plan.unassigned:
            team = team_of.get(u.person, "")
            out.append(f"<li data-person='{_attr(u.person)}' data-team='{_attr(team)}' "
                       f"data-reason='{_attr(u.reason)}'>{e(u.person)} (course {e(u.course)}, "
                       f"round {u.round}): {e(u.reason)}</li>")
        out.append("</ul>")
    out.append(f"<script>{_SCRIPT}</script>")
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
        from .plots import cohort_composition, cohort_mix, gap_graph, gap_matrix

        figures = {
            "gap_matrix": gap_matrix(plan, org),
            "gap_graph": gap_graph(plan, org),
            "composition": cohort_composition(plan, org),
        }
        if plan.mix is not None:  # next to the composition plot
            figures["mix"] = cohort_mix(plan)
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
