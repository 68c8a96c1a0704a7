"""The plan: cohorts, who could not be placed, how good it is, and why each cohort exists."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, NoReturn

import numpy as np
from pydantic import Field

from .clubs import Acquaintances, acquaintances
from .compiled import CompiledProblem
from .errors import InputError, NotFoundError
from .mix import Mix
from .model import ModeName, Organisation, Record
from .partners import gap_partner_counts, partner_summary
from .scoring import Score, bridges

__all__ = [
    "Bridge", "Cohort", "Unassigned", "RepeatedMeeting", "Metrics", "Explanation", "Plan",
    "PlanStatus", "PLAN_STATUSES", "Change", "ChangeReason", "build_plan",
]


class PlanStatus(StrEnum):
    """What is known of a plan.

    ``optimal``: proved best (the bound is met); ``feasible``: keeps every hard rule, not
    proved best; ``infeasible_partial``: the request could not be met in full, the plan
    places whom the rules allow and lists the others in ``unassigned``
    (``on_infeasible="partial"``); ``given``: a hand-made grouping read from a file,
    scored but not planned (it may break rules).
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE_PARTIAL = "infeasible_partial"
    GIVEN = "given"


PLAN_STATUSES = tuple(s.value for s in PlanStatus)


class Bridge(Record):
    """A gap bridged by a cohort: members of both teams sit in it."""

    a: str
    b: str
    weight: float
    purpose: str
    pairs: int = Field(description="member pairs across the gap in this cohort")


class Cohort(Record):
    """One group of people taking one round of one course together (at ``slot``, when the
    course has times)."""

    id: str
    course: str
    round: int = 0
    members: tuple[str, ...]
    teams: tuple[str, ...] = Field(description="team of each member, in the order of members")
    bridges: tuple[Bridge, ...] = ()
    slot: str | None = Field(default=None, description="the time slot the cohort meets at (Course.slots)")


class RepeatedMeeting(Record):
    """Two people who share a cohort more often than ``max_meetings`` allows (soft rule)."""

    a: str
    b: str
    times: int = Field(description="cohorts they share over the programme, history included")


class Unassigned(Record):
    """A participant who is in no cohort of a course round, and why.

    ``rank`` is the place on the course's waitlist (1 = first to get a seat that frees
    up) for a candidate who was ``not selected`` (``Course(seats=...)``), else None.
    """

    person: str
    course: str
    round: int = 0
    reason: str
    rank: int | None = None


class ChangeReason(StrEnum):
    """Why a person's place differs from the published plan (:func:`cohortmatch.replan`).

    ``left``: no longer takes the course round (left the organisation or the course);
    ``joined``: takes it now and had no cohort before; ``rule``: moved to keep a hard rule
    of today's request (``Change.rule`` names it); ``gap``: moved to improve the gap value
    (only when ``max_moves`` allows more moves than the rules need).
    """

    LEFT = "left"
    JOINED = "joined"
    RULE = "rule"
    GAP = "gap"


class Change(Record):
    """One person whose place in one course round changed in a re-plan.

    ``before`` and ``after`` are cohort ids (None: no cohort); ``rule`` names the hard rule
    a ``rule`` move keeps, ``detail`` says it in words.
    """

    person: str
    course: str
    round: int = 0
    before: str | None
    after: str | None
    reason: ChangeReason
    rule: str | None = None
    detail: str = ""


class Metrics(Record):
    """How good a plan is.

    ``bound`` is a proven upper bound on ``objective`` over all plans of the request
    (see :mod:`cohortmatch.scoring.bounds`); ``gap_to_bound`` is ``(bound - objective) / bound``
    (0 when the bound is 0).

    ``met_gap_partner`` is the share of participants (people in at least one cohort)
    who meet at least one *gap partner*: someone in one of their cohorts from a team
    their team has a gap with; ``median_gap_partners`` is the median number of distinct
    gap partners a participant meets (see :func:`cohortmatch.gap_partners`). Both are 0
    for a plan without participants and ``None`` in plans written before they existed.
    A re-plan (:func:`cohortmatch.replan`) also counts ``moved``,
    the places (person, course, round) whose cohort changed from the published plan, and
    ``moves_bound``, a proven lower bound on the moves any plan of the request needs.

    With seats (``Course(seats=...)``) the plan also chooses who is placed, and the
    objective it maximises has two terms, reported apart: ``objective`` (the gap value,
    as without seats) and ``fit_value = fit_weight * fit``, where ``fit`` is the sum of
    the interest of every placed person in their course (once per course, whatever its
    rounds). ``total = objective + fit_value``; ``total_bound`` is a proven upper bound
    on ``total`` over every choice of people and cohorts (see :doc:`seats`). All four are
    None without seats.
    """

    objective: float
    coverage: float
    bridged_gaps: int
    bridged_weight: float
    total_weight: float
    total_gaps: int
    bound: float
    gap_to_bound: float
    mode: ModeName
    met_gap_partner: float | None = None
    median_gap_partners: float | None = None
    moved: int | None = None
    moves_bound: int | None = None
    fit: float | None = None
    fit_value: float | None = None
    total: float | None = None
    total_bound: float | None = None


class Explanation(Record):
    """Why a cohort looks the way it does: the gaps it bridges."""

    cohort: str
    course: str
    round: int
    teams: dict[str, int]
    bridges: tuple[Bridge, ...]

    def __str__(self) -> str:
        head = (
            f"cohort {self.cohort} (course {self.course!r}, round {self.round}): "
            f"{sum(self.teams.values())} members from {len(self.teams)} teams"
        )
        if not self.bridges:
            return head + "\n  bridges no gap"
        total = sum(b.weight for b in self.bridges)
        lines = [head, f"  bridges {len(self.bridges)} gaps, weight {total:g}:"]
        for b in sorted(self.bridges, key=lambda x: (-x.weight, x.a, x.b)):
            lines.append(
                f"  - {b.a} <-> {b.b}: weight {b.weight:g}, purpose {b.purpose}, {b.pairs} pair(s)"
            )
        return "\n".join(lines)


class Plan(Record):
    """The result of :func:`cohortmatch.plan`.

    Attributes
    ----------
    cohorts : tuple of Cohort
    unassigned : tuple of Unassigned
        Participants not placed in a cohort, each with the reason.
    metrics : Metrics
    status : PlanStatus
        ``optimal``, ``feasible``, ``infeasible_partial`` or ``given`` (see :class:`PlanStatus`).
    seed : int or None
    elapsed : float
        Seconds spent planning.
    solver : str
        Which engine produced the plan: an engine name (``heuristic``, ``lns``, ``cpsat``,
        ``golfer``, ``tabu``), ``hand-made`` for a grouping read from a file, ``none``
        when nobody could be placed.
    repeated_meetings : tuple of RepeatedMeeting
        With ``Policy(meetings="soft")``: the pairs who meet more often than
        ``max_meetings`` (earlier rounds included), which the planner could not avoid.
    changes : tuple of Change
        A re-plan (:func:`cohortmatch.replan`): one record per person and course round
        whose place differs from the published plan.
    emptied_cohorts : tuple of str
        A re-plan: ids of the published plan's cohorts that no longer exist.
    mix : Mix or None
        With mix rules: each cohort's counts per value of the mix attributes, the balance
        deviation and, when asked for, the price of the mix (:class:`~cohortmatch.mix.Mix`).
    """

    cohorts: tuple[Cohort, ...]
    unassigned: tuple[Unassigned, ...] = ()
    metrics: Metrics
    status: PlanStatus
    seed: int | None = None
    elapsed: float = 0.0
    solver: str = "heuristic"
    notes: tuple[str, ...] = ()
    repeated_meetings: tuple[RepeatedMeeting, ...] = ()
    changes: tuple[Change, ...] = ()
    emptied_cohorts: tuple[str, ...] = ()
    mix: Mix | None = None

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"Plan(status={self.status!r}, solver={self.solver!r}, cohorts={len(self.cohorts)}, "
            f"places={sum(len(c.members) for c in self.cohorts)}, unassigned={len(self.unassigned)}, "
            f"objective={m.objective:.6g}, coverage={m.coverage:.4g}, bound={m.bound:.6g})"
        )

    __str__ = __repr__

    @classmethod
    def validate(cls, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        """Not pydantic's: check a plan with ``cohortmatch.validate(plan, request)``."""
        raise InputError("Plan.validate is not a plan check: use cohortmatch.validate(plan, request)")

    def cohort(self, cohort_id: str) -> Cohort:
        """The cohort with this id (:class:`NotFoundError`, a ``KeyError``, if there is none)."""
        for c in self.cohorts:
            if c.id == cohort_id:
                return c
        raise NotFoundError(f"plan has no cohort {cohort_id!r}")

    def explain(self, cohort_id: str) -> Explanation:
        """The gaps a cohort bridges, with weights, purposes and member pairs.

        ``str()`` of the result is a readable paragraph.
        """
        c = self.cohort(cohort_id)
        teams: dict[str, int] = {}
        for t in c.teams:
            teams[t] = teams.get(t, 0) + 1
        return Explanation(cohort=c.id, course=c.course, round=c.round, teams=teams, bridges=c.bridges)

    def acquaintances(self, org: Organisation, history: Sequence[Plan] = ()) -> Acquaintances:
        """Per member, the new people and new gap partners met in ``history`` and then this plan.

        See :func:`cohortmatch.clubs.acquaintances`; the last row is this plan.
        """
        return acquaintances([*history, self], org)

    def to_json(self, *, indent: int | None = 2, timings: bool = True) -> str:
        """The plan as a JSON document (keys ``cohorts``, ``unassigned``, ``metrics``, ``status``, ``seed``, ...).

        ``timings=False`` leaves out ``elapsed``, the one wall-clock field: then a plan made
        with a ``work_limit``, no ``time_limit``, one worker and a seed is byte-identical
        from run to run (see ``docs/reliability.md``).
        """
        data = self.model_dump(mode="json", exclude=None if timings else {"elapsed"})
        return json.dumps(data, indent=indent, sort_keys=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Plan:
        """Read a plan written by :meth:`to_json`."""
        return cls.model_validate_json(text)

    def assignment(self) -> dict[tuple[str, str, int], str]:
        """``{(person, course, round): cohort_id}`` for every placed participant."""
        return {(m, c.course, c.round): c.id for c in self.cohorts for m in c.members}

    def timetable(self) -> list[tuple[str, Cohort]]:
        """``(slot, cohort)`` for every cohort with a slot, by slot, then course, round and id.

        Examples
        --------
        >>> m = Metrics(objective=0, coverage=0, bridged_gaps=0, bridged_weight=0, total_weight=0,
        ...             total_gaps=0, bound=0, gap_to_bound=0, mode="cover")
        >>> p = Plan(cohorts=[Cohort(id="x-1", course="x", members=("a",), teams=("t",), slot="tue"),
        ...                   Cohort(id="x-2", course="x", members=("b",), teams=("t",), slot="mon")],
        ...          metrics=m, status="feasible")
        >>> [(slot, c.id) for slot, c in p.timetable()]
        [('mon', 'x-2'), ('tue', 'x-1')]
        """
        timed = [c for c in self.cohorts if c.slot is not None]
        return [(str(c.slot), c) for c in sorted(timed, key=lambda c: (c.slot, c.course, c.round, c.id))]

    def people_and_places(self) -> tuple[int, int]:
        """``(people, places)``: how many people the plan seats, and in how many places.

        A person who takes two courses, or a course of two rounds, fills two places.
        """
        places = sum(len(c.members) for c in self.cohorts)
        return len({m for c in self.cohorts for m in c.members}), places

    def headline(self) -> list[tuple[str, str]]:
        """The plan's headline figures as ``(label, text)`` rows, as reports show them.

        Examples
        --------
        >>> m = Metrics(objective=3, coverage=0.75, bridged_gaps=3, bridged_weight=3,
        ...             total_weight=4, total_gaps=4, bound=4, gap_to_bound=0.25, mode="cover")
        >>> dict(Plan(cohorts=[], metrics=m, status="feasible").headline())["coverage"]
        '75.0% of the gap weight (3 of 4 gaps)'
        """
        m = self.metrics
        rows = [
            ("coverage", f"{m.coverage:.1%} of the gap weight ({m.bridged_gaps} of {m.total_gaps} gaps)"),
            ("objective", f"{m.objective:g} ({m.mode} mode)"),
            ("proven upper bound", f"{m.bound:g} (the plan is within {m.gap_to_bound:.1%} of it)"),
        ]
        if m.met_gap_partner is not None and m.median_gap_partners is not None:
            rows.append(("met a gap partner", f"{m.met_gap_partner:.1%} of participants "
                         f"(median {m.median_gap_partners:g} gap partners each)"))
        people, places = self.people_and_places()
        rows += [
            ("cohorts", f"{len(self.cohorts)}"),
            ("people placed", f"{people}"),
            ("places filled", f"{places} (one per person, course and round)"),
            ("places not filled", f"{len(self.unassigned)}"),
            ("status", f"{self.status} (engine {self.solver}, {self.elapsed:.1f} s, seed {self.seed})"),
        ]
        return rows + (self.mix.headline(m.objective) if self.mix is not None else [])

    def _repr_html_(self) -> str:
        """A short HTML summary for notebooks: headline figures, the first cohorts, missed gaps."""
        e = html.escape
        m = self.metrics
        out = ["<div class='cohortmatch-plan'><table>"]
        out += [f"<tr><th style='text-align:left'>{e(k)}</th><td style='text-align:left'>{e(v)}</td></tr>"
                for k, v in self.headline()]
        out.append("</table>")
        shown = self.cohorts[:_REPR_COHORTS]
        if shown:
            out.append("<table><tr><th>cohort</th><th>course</th><th>round</th><th>members</th>"
                       "<th>teams</th><th>gaps bridged</th></tr>")
            out += [f"<tr><td>{e(c.id)}</td><td>{e(c.course)}</td><td>{c.round}</td>"
                    f"<td>{len(c.members)}</td><td>{len(set(c.teams))}</td><td>{len(c.bridges)}</td></tr>"
                    for c in shown]
            out.append("</table>")
            if len(self.cohorts) > len(shown):
                out.append(f"<p>... and {len(self.cohorts) - len(shown)} more cohorts "
                           "(<code>plan.summary_frame()</code> lists them all)</p>")
        missed = m.total_gaps - m.bridged_gaps
        if missed:
            out.append(f"<p>missed gaps: {missed} of {m.total_gaps}, weight "
                       f"{m.total_weight - m.bridged_weight:g} of {m.total_weight:g} "
                       "(<code>cohortmatch.report.html_report(plan, org)</code> names them)</p>")
        else:
            out.append(f"<p>missed gaps: none, all {m.total_gaps} are bridged</p>")
        out.append("</div>")
        return "\n".join(out)

    def to_frame(self, org: Organisation | None = None):  # type: ignore[no-untyped-def]
        """One row per member of each cohort: ``person``, ``cohort``, ``course``, ``round``, ``team``.

        With the organisation, each person's attributes follow as further columns (an
        attribute named like one of those five columns is called ``attribute:<name>``).
        Needs pandas (``pip install 'cohortmatch[tables]'``). Written as CSV, the frame
        reads back as a grouping (:func:`cohortmatch.io.read_grouping`).

        Raises
        ------
        InputError
            ``org`` is given and a member of the plan is not one of its people.

        Examples
        --------
        >>> import cohortmatch as cm
        >>> org = cm.Organisation(people=[cm.Person(id="x", team="a", attributes={"site": "Leeds"}),
        ...                               cm.Person(id="y", team="b")])
        >>> p = cm.plan(org, [cm.Course(id="c", min_size=2, max_size=2)], time_limit=None,
        ...             work_limit=10, seed=0)
        >>> p.to_frame(org)[["person", "team", "site"]].to_dict("records")
        [{'person': 'x', 'team': 'a', 'site': 'Leeds'}, {'person': 'y', 'team': 'b', 'site': nan}]
        """
        pd = _pandas("Plan.to_frame")
        rows = [
            (m, c.id, c.course, c.round, t)
            for c in self.cohorts
            for m, t in zip(c.members, c.teams, strict=True)
        ]
        frame = pd.DataFrame(rows, columns=list(_FRAME_COLUMNS))
        if org is None:
            return frame
        people = {p.id: p for p in org.people}
        unknown = next((m for m in frame["person"] if m not in people), None)
        if unknown is not None:
            raise InputError(f"Plan.to_frame: member {unknown!r} is not a person of the organisation")
        names = list(dict.fromkeys(k for p in org.people for k in p.attributes))
        for name in names:
            column = f"attribute:{name}" if name in _FRAME_COLUMNS else name
            frame[column] = [people[m].attributes.get(name) for m in frame["person"]]
        return frame

    def summary_frame(self):  # type: ignore[no-untyped-def]
        """One row per cohort: ``cohort``, ``course``, ``round``, ``members``, ``teams``,
        ``gaps_bridged``, ``bridged_weight`` and ``gap_pairs`` (member pairs across its gaps).

        Needs pandas (``pip install 'cohortmatch[tables]'``).

        Examples
        --------
        >>> import cohortmatch as cm
        >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4)],
        ...                       gaps=[cm.Gap(a="a", b="b", weight=2.0)])
        >>> p = cm.plan(org, [cm.Course(id="c", min_size=2, max_size=2)], time_limit=None,
        ...             work_limit=100, seed=0)
        >>> p.summary_frame()[["members", "teams", "bridged_weight"]].to_dict("list")
        {'members': [2, 2], 'teams': [2, 2], 'bridged_weight': [2.0, 2.0]}
        """
        pd = _pandas("Plan.summary_frame")
        rows = [
            (c.id, c.course, c.round, len(c.members), len(set(c.teams)), len(c.bridges),
             float(sum(b.weight for b in c.bridges)), sum(b.pairs for b in c.bridges))
            for c in self.cohorts
        ]
        return pd.DataFrame(rows, columns=["cohort", "course", "round", "members", "teams",
                                           "gaps_bridged", "bridged_weight", "gap_pairs"])


_REPR_COHORTS = 5
_FRAME_COLUMNS = ("person", "cohort", "course", "round", "team")


def _pandas(what: str):  # type: ignore[no-untyped-def]
    """The pandas module, or an ImportError that says how to install it."""
    try:
        import pandas
    except ImportError:
        raise ImportError(f"{what} needs pandas: pip install 'cohortmatch[tables]'") from None
    return pandas


def build_plan(
    problem: CompiledProblem,
    assignment: np.ndarray,
    full: Score,
    *,
    bound: float,
    status: str,
    seed: int | None,
    elapsed: float,
    solver: str,
    unassigned: Sequence[Unassigned] = (),
    notes: Sequence[str] = (),
) -> Plan:
    """Assemble a :class:`Plan` from a solver's assignment and its full score."""
    p = problem
    order = np.lexsort((p.unit_person, assignment))
    order = order[assignment[order] >= 0]
    ks = assignment[order]
    bounds = np.searchsorted(ks, np.arange(p.n_cohorts + 1))
    bridges_by_cohort = _bridges_by_cohort(p, assignment)
    cohorts = []
    for k in range(p.n_cohorts):
        units = order[bounds[k] : bounds[k + 1]]
        b = p.cohort_block[k]
        persons = p.unit_person[units]
        cohorts.append(
            Cohort(
                id=p.cohort_ids[k],
                course=p.course_ids[p.block_course[b]],
                round=int(p.block_round[b]),
                members=tuple(p.person_ids[i] for i in persons),
                teams=tuple(p.team_ids[p.person_team[i]] for i in persons),
                bridges=tuple(bridges_by_cohort.get(k, ())),
                slot=p.slot_ids[p.cohort_slot[k]] if p.cohort_slot[k] >= 0 else None,
            )
        )
    bound = max(bound, full.objective)
    partners, placed = gap_partner_counts(p, assignment)
    met, median = partner_summary(partners[placed])
    metrics = Metrics(
        objective=full.objective,
        coverage=full.coverage,
        bridged_gaps=full.bridged_edges,
        bridged_weight=full.bridged_weight,
        total_weight=p.total_weight,
        total_gaps=p.n_edges,
        bound=bound,
        gap_to_bound=(bound - full.objective) / bound if bound > 0 else 0.0,
        mode=p.mode,  # type: ignore[arg-type]  # a compiled mode is one of ModeName
        met_gap_partner=met,
        median_gap_partners=median,
    )
    return Plan(
        cohorts=tuple(cohorts),
        unassigned=tuple(unassigned),
        metrics=metrics,
        status=PlanStatus(status),
        seed=seed,
        elapsed=elapsed,
        solver=solver,
        notes=tuple(notes),
    )


def _bridges_by_cohort(problem: CompiledProblem, assignment: np.ndarray) -> dict[int, list[Bridge]]:
    p = problem
    out: dict[int, list[Bridge]] = {}
    cohorts, edges, pairs = bridges(p, assignment)
    for k, e, n in zip(cohorts.tolist(), edges.tolist(), pairs.tolist(), strict=True):
        out.setdefault(k, []).append(
            Bridge(
                a=p.team_ids[p.edge_a[e]],
                b=p.team_ids[p.edge_b[e]],
                weight=float(p.edge_weight[e]),
                purpose=p.edge_purpose[e],
                pairs=n,
            )
        )
    return out
