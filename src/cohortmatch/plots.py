"""Pictures of a plan: the team gap matrix before and after, the gap graph, cohort
composition and its mix.

Teams are shown by their ``name`` where the organisation gives one (:func:`cohortmatch.display.named_teams`).

Every function returns a :class:`matplotlib.figure.Figure` made without pyplot, so it
needs no display and changes no global state (it renders with Agg when saved); call
``fig.savefig("x.png")`` or show it in a notebook. Needs matplotlib
(``pip install 'cohortmatch[plots]'``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from .display import named_teams
from .errors import InputError
from .model import Organisation
from .result import Plan

__all__ = ["gap_matrix", "gap_graph", "cohort_composition", "cohort_mix"]

_BRIDGED = "#1b9e77"
_MISSED = "#d95f02"


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "cohortmatch plots need matplotlib: pip install 'cohortmatch[plots]'"
        ) from None
    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _bridged_keys(plan: Plan) -> set[tuple[str, str]]:
    out = set()
    for c in plan.cohorts:
        for b in c.bridges:
            out.add((b.a, b.b) if b.a <= b.b else (b.b, b.a))
    return out


def _top_teams(org: Organisation, max_teams: int) -> list[str]:
    """Teams touched by gaps, the heaviest ``max_teams``, ordered by parent then id."""
    load: dict[str, float] = {}
    for g in org.gaps:
        load[g.a] = load.get(g.a, 0.0) + g.weight
        load[g.b] = load.get(g.b, 0.0) + g.weight
    keep = {t for t, _ in sorted(load.items(), key=lambda x: (-x[1], x[0]))[:max_teams]}
    parent = {t.id: t.parent or "" for t in org.teams}
    return sorted(keep, key=lambda t: (parent.get(t, ""), t))


def gap_matrix(plan: Plan, org: Organisation, *, max_teams: int = 40) -> Any:
    """Team-by-team gap weights before the plan (left) and the gaps left after it (right).

    Cells of gaps the plan bridges are marked with a green dot on the right; teams are
    grouped by their parent unit. Large organisations show the ``max_teams`` teams with
    the most gap weight.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="abc"[i % 3]) for i in range(6)],
    ...                       gaps=[cm.Gap(a="a", b="b", weight=2.0), cm.Gap(a="b", b="c")])
    >>> p = cm.plan(org, [cm.Course(id="x", min_size=2, max_size=2)], time_limit=None,
    ...             work_limit=100, seed=0)
    >>> fig = gap_matrix(p, org)
    >>> len(fig.axes) >= 2
    True
    """
    plan, org = named_teams(plan, org)
    teams = _top_teams(org, max_teams)
    index = {t: i for i, t in enumerate(teams)}
    n = len(teams)
    w = np.zeros((n, n))
    bridged = _bridged_keys(plan)
    done = np.zeros((n, n), dtype=bool)
    for g in org.gaps:
        if g.a in index and g.b in index:
            i, j = index[g.a], index[g.b]
            w[i, j] = w[j, i] = g.weight
            if g.key in bridged:
                done[i, j] = done[j, i] = True
    size = min(9.0, 3.5 + 0.15 * n)
    fig = _figure(2 * size + 1.5, size)
    axes = fig.subplots(1, 2)
    vmax = float(w.max()) if n and w.max() > 0 else 1.0
    cmap = "OrRd"
    before = np.ma.masked_where(w == 0, w)
    after = np.ma.masked_where((w == 0) | done, w)
    m = plan.metrics
    titles = (
        f"Before: {len(org.gaps)} gaps, weight {m.total_weight:g}",
        f"After: {m.bridged_gaps} gaps bridged ({m.coverage:.0%} of the weight)",
    )
    image = None
    for ax, data, title in zip(axes, (before, after), titles, strict=True):
        ax.set_facecolor("#f7f7f7")
        image = ax.imshow(data, cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(title, fontsize=11)
        if n <= 40:
            ax.set_xticks(range(n), teams, rotation=90, fontsize=7)
            ax.set_yticks(range(n), teams, fontsize=7)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
    ii, jj = np.nonzero(done)
    axes[1].scatter(jj, ii, s=max(6, 400 / max(n, 1)), c=_BRIDGED, marker="o",
                    label="bridged by a cohort")
    axes[1].legend(loc="upper right", fontsize=8, framealpha=0.9)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.7, label="gap weight (not yet bridged)")
    if len(teams) < len({t for g in org.gaps for t in (g.a, g.b)}):
        fig.suptitle(f"the {n} teams with the most gap weight", fontsize=9)
    return fig


def gap_graph(plan: Plan, org: Organisation, *, max_teams: int = 80, seed: int = 0) -> Any:
    """The gap graph: teams as nodes, gaps as edges (width = weight), bridged gaps in green.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="abc"[i % 3]) for i in range(6)],
    ...                       gaps=[cm.Gap(a="a", b="b", weight=2.0), cm.Gap(a="b", b="c")])
    >>> p = cm.plan(org, [cm.Course(id="x", min_size=2, max_size=2)], time_limit=None,
    ...             work_limit=100, seed=0)
    >>> gap_graph(p, org).axes[0].get_title()
    'Gap graph: 3 teams, 2 gaps, 2 bridged'
    """
    import networkx as nx

    plan, org = named_teams(plan, org)
    teams = set(_top_teams(org, max_teams))
    g = nx.Graph()
    g.add_nodes_from(sorted(teams))
    bridged = _bridged_keys(plan)
    for gap in org.gaps:
        if gap.a in teams and gap.b in teams:
            g.add_edge(gap.a, gap.b, weight=gap.weight, bridged=gap.key in bridged)
    pos = nx.spring_layout(g, seed=seed, weight=None) if len(g) else {}
    fig = _figure(9, 8)
    ax = fig.subplots()
    ax.set_axis_off()
    edges = list(g.edges(data=True))
    if edges:
        w = np.array([d["weight"] for _, _, d in edges])
        widths = 0.8 + 4.0 * w / w.max()
        for done, colour, style, label in (
            (False, _MISSED, "dashed", "not bridged"), (True, _BRIDGED, "solid", "bridged"),
        ):
            sel = [k for k, (_, _, d) in enumerate(edges) if d["bridged"] == done]
            if not sel:
                continue
            segs = [(pos[edges[k][0]], pos[edges[k][1]]) for k in sel]
            from matplotlib.collections import LineCollection

            ax.add_collection(LineCollection(segs, linewidths=widths[sel], colors=colour,
                                             linestyles=style, alpha=0.8, label=label))
        ax.legend(loc="lower right", fontsize=9)
    if len(g):
        xy = np.array([pos[t] for t in g.nodes])
        ax.scatter(xy[:, 0], xy[:, 1], s=60, c="#4c4c4c", zorder=3)
        if len(g) <= 40:
            for t, (x, y) in zip(g.nodes, xy, strict=True):
                ax.annotate(t, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.autoscale()
    n_bridged = sum(1 for _, _, d in edges if d["bridged"])
    ax.set_title(f"Gap graph: {len(g)} teams, {len(edges)} gaps, {n_bridged} bridged")
    return fig


def cohort_composition(
    plan: Plan, org: Organisation | None = None, *, by: str | None = None, max_cohorts: int = 40,
    course: str | None = None,
) -> Any:
    """One bar per cohort, split by the members' units, with its bridge count.

    Members are grouped by a person attribute ``by`` when given; else, with ``org``, by
    the parent unit of their team (their department) when teams have parents; else by
    team. Large plans show their first ``max_cohorts`` cohorts; ``course`` picks one course.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="abc"[i % 3]) for i in range(6)],
    ...                       gaps=[cm.Gap(a="a", b="b", weight=2.0), cm.Gap(a="b", b="c")])
    >>> p = cm.plan(org, [cm.Course(id="x", min_size=2, max_size=2)], time_limit=None,
    ...             work_limit=100, seed=0)
    >>> cohort_composition(p, org).axes[0].get_xlabel()
    'members'
    """
    if org is not None:
        plan, org = named_teams(plan, org)
    cohorts = [c for c in plan.cohorts if course is None or c.course == course]
    shown = cohorts[:max_cohorts]
    if by is not None:
        if org is None:
            raise InputError("cohort_composition(by=...) needs the organisation")
        attrs = {p.id: str(p.attributes.get(by, "(none)")) for p in org.people}
        labels_of: list[Sequence[str]] = [[attrs[m] for m in c.members] for c in shown]
        what = by
    elif org is not None and any(t.parent for t in org.teams):
        parent = {t.id: t.parent or t.id for t in org.teams}
        labels_of = [[parent.get(t, t) for t in c.teams] for c in shown]
        what = "parent unit of the team"
    else:
        labels_of = [list(c.teams) for c in shown]
        what = "team"
    total: Counter[str] = Counter(x for labels in labels_of for x in labels)
    top = [x for x, _ in total.most_common(19)]
    has_other = len(total) > len(top)
    cats = top + (["other"] if has_other else [])
    counts = np.zeros((len(shown), len(cats)))
    col = {x: i for i, x in enumerate(top)}
    for k, labels in enumerate(labels_of):
        for x in labels:
            counts[k, col.get(x, len(cats) - 1)] += 1
    height = max(3.0, 0.3 * len(shown) + 1.5)
    fig = _figure(10, height)
    ax = fig.subplots()
    from matplotlib import colormaps

    palette = colormaps["tab20"]
    left = np.zeros(len(shown))
    y = np.arange(len(shown))
    for j, cat in enumerate(cats):
        colour = "#bbbbbb" if cat == "other" else palette(j % 20)
        ax.barh(y, counts[:, j], left=left, color=colour, edgecolor="white", linewidth=0.5,
                label=cat)
        left += counts[:, j]
    for k, c in enumerate(shown):
        ax.annotate(f"{len(c.bridges)} bridges", (left[k], y[k]), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=7)
    ax.set_yticks(y, [c.id for c in shown], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("members")
    ax.set_xlim(0, (left.max() if len(left) else 1) * 1.25)
    more = f" (first {len(shown)} of {len(cohorts)})" if len(cohorts) > len(shown) else ""
    ax.set_title(f"Cohort composition by {what}{more}")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7, title=what,
              title_fontsize=8)
    return fig


def cohort_mix(plan: Plan, *, max_cohorts: int = 40, attributes: Sequence[str] | None = None) -> Any:
    """The mix: one bar per cohort, stacked by value, for each attribute the mix rules count.

    Reads ``plan.mix`` (balanced attributes first; ``attributes`` picks some). Large plans
    show their first ``max_cohorts`` cohorts; the title gives the balance deviation.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team=f"t{i}",
    ...                                         attributes={"site": "LLYY"[i % 4]}) for i in range(8)])
    >>> p = cm.plan(org, [cm.Course(id="x", min_size=4, max_size=4)],
    ...             policy=cm.Policy(balance=["site"]), time_limit=None, work_limit=100, seed=0)
    >>> cohort_mix(p).axes[0].get_title()
    'site (balanced)'
    """
    if plan.mix is None:
        raise ValueError("cohort_mix needs a plan made with mix rules (Policy(balance=...), ...)")
    names = list(attributes) if attributes is not None else list(plan.mix.attributes)
    cohorts = list(plan.cohorts)[:max_cohorts]
    fig = _figure(4.5 * max(len(names), 1) + 1.5, max(3.0, 0.3 * len(cohorts) + 1.8))
    axes = np.atleast_1d(fig.subplots(1, max(len(names), 1), sharey=True))
    from matplotlib import colormaps

    palette = colormaps["tab20"]
    y = np.arange(len(cohorts))
    for ax, name in zip(axes, names, strict=False):
        table = [plan.mix.counts.get(c.id, {}).get(name, {}) for c in cohorts]
        values = sorted({v for row in table for v in row})
        left = np.zeros(len(cohorts))
        for j, value in enumerate(values):
            width = np.array([row.get(value, 0) for row in table], dtype=float)
            ax.barh(y, width, left=left, color=palette(j % 20), edgecolor="white", linewidth=0.5,
                    label=value or "(missing)")
            left += width
        ax.set_title(f"{name} (balanced)" if name in plan.mix.balanced else name)
        ax.set_xlabel("members")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=7, ncol=3)
    axes[0].set_yticks(y, [c.id for c in cohorts], fontsize=7)
    axes[0].invert_yaxis()
    more = f", first {len(cohorts)} of {len(plan.cohorts)} cohorts" if len(plan.cohorts) > len(cohorts) else ""
    fig.suptitle(f"Cohort mix (balance deviation {plan.mix.deviation}{more})", fontsize=10)
    return fig
