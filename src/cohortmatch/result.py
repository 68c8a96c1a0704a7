"""The plan: cohorts, who could not be placed, how good it is, and why each cohort exists."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .clubs import Acquaintances, acquaintances
from .compiled import CompiledProblem
from .model import Organisation
from .scoring import Score, bridges

__all__ = [
    "Bridge", "Cohort", "Unassigned", "RepeatedMeeting", "Metrics", "Explanation", "Plan", "build_plan",
]

PLAN_STATUSES = ("optimal", "feasible", "infeasible_partial")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Bridge(_Frozen):
    """A gap bridged by a cohort: members of both teams sit in it."""

    a: str
    b: str
    weight: float
    purpose: str
    pairs: int = Field(description="member pairs across the gap in this cohort")


class Cohort(_Frozen):
    """One group of people taking one round of one course together."""

    id: str
    course: str
    round: int = 0
    members: tuple[str, ...]
    teams: tuple[str, ...] = Field(description="team of each member, in the order of members")
    bridges: tuple[Bridge, ...] = ()


class RepeatedMeeting(_Frozen):
    """Two people who share a cohort more often than ``max_meetings`` allows (soft rule)."""

    a: str
    b: str
    times: int = Field(description="cohorts they share over the programme, history included")


class Unassigned(_Frozen):
    """A participant who is in no cohort of a course round, and why."""

    person: str
    course: str
    round: int = 0
    reason: str


class Metrics(_Frozen):
    """How good a plan is.

    ``bound`` is a proven upper bound on ``objective`` over all plans of the request
    (see :mod:`cohortmatch.bounds`); ``gap_to_bound`` is ``(bound - objective) / bound``
    (0 when the bound is 0).
    """

    objective: float
    coverage: float
    bridged_gaps: int
    bridged_weight: float
    total_weight: float
    total_gaps: int
    bound: float
    gap_to_bound: float
    mode: str


class Explanation(_Frozen):
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


class Plan(_Frozen):
    """The result of :func:`cohortmatch.plan`.

    Attributes
    ----------
    cohorts : tuple of Cohort
    unassigned : tuple of Unassigned
        Participants not placed in a cohort, each with the reason.
    metrics : Metrics
    status : str
        ``optimal`` (proved by the exact engine) or ``feasible``.
    seed : int or None
    elapsed : float
        Seconds spent planning.
    solver : str
        Which engine produced the plan (e.g. ``heuristic``, ``cpsat``, ``heuristic+lns``).
    repeated_meetings : tuple of RepeatedMeeting
        With ``Policy(meetings="soft")``: the pairs who meet more often than
        ``max_meetings`` (earlier rounds included), which the planner could not avoid.
    """

    cohorts: tuple[Cohort, ...]
    unassigned: tuple[Unassigned, ...] = ()
    metrics: Metrics
    status: str
    seed: int | None = None
    elapsed: float = 0.0
    solver: str = "heuristic"
    notes: tuple[str, ...] = ()
    repeated_meetings: tuple[RepeatedMeeting, ...] = ()

    def cohort(self, cohort_id: str) -> Cohort:
        """The cohort with this id (``KeyError`` if there is none)."""
        for c in self.cohorts:
            if c.id == cohort_id:
                return c
        raise KeyError(f"plan has no cohort {cohort_id!r}")

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

    def to_frame(self):  # type: ignore[no-untyped-def]
        """One row per person and cohort: columns ``person``, ``cohort``, ``course``, ``round``, ``team``.

        Needs pandas (``pip install 'cohortmatch[tables]'``). Written as CSV, the frame
        reads back as a grouping (:func:`cohortmatch.io.read_grouping`).
        """
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("Plan.to_frame needs pandas: pip install 'cohortmatch[tables]'") from None
        rows = [
            (m, c.id, c.course, c.round, t)
            for c in self.cohorts
            for m, t in zip(c.members, c.teams, strict=True)
        ]
        return pd.DataFrame(rows, columns=["person", "cohort", "course", "round", "team"])


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
            )
        )
    bound = max(bound, full.objective)
    metrics = Metrics(
        objective=full.objective,
        coverage=full.coverage,
        bridged_gaps=full.bridged_edges,
        bridged_weight=full.bridged_weight,
        total_weight=p.total_weight,
        total_gaps=p.n_edges,
        bound=bound,
        gap_to_bound=(bound - full.objective) / bound if bound > 0 else 0.0,
        mode=p.mode,
    )
    return Plan(
        cohorts=tuple(cohorts),
        unassigned=tuple(unassigned),
        metrics=metrics,
        status=status,
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
