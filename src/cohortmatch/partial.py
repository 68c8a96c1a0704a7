"""Shrink an infeasible request to what the hard rules allow, saying who is left out and why.

Used by ``plan(..., on_infeasible="partial")``. Every rule that counting alone can prove
broken (the conflicts :func:`cohortmatch.feasibility.precheck` reports) is resolved by
leaving out the fewest participants this module can find, in a fixed, input-order
independent way (people are taken in the canonical order of their ids):

* **cohort sizes**: a course whose participants cannot fill ``ceil(n / max_size)``
  cohorts of ``min_size..max_size`` keeps ``floor(n / min_size) * max_size`` of them
  (all of them when fewer than ``min_size``: then nobody is placed); with ``cohorts``
  fixed, the participants beyond ``cohorts * max_size`` are left out, and a course that
  cannot fill its fixed cohorts leaves everyone out;
* **max_per_team**: members of a team beyond ``cohorts * max_per_team`` places; a course
  whose ``max_per_team`` keeps every cohort below ``min_size`` leaves everyone out;
* **managers**: with one cohort, the fewest people (a minimum vertex cover of the
  management forest) so that no manager shares it with a direct report; with several, a
  manager who has more direct reports than the other cohorts hold, or whose own cohort
  cannot be filled without them.

When size cuts are needed, people of the largest teams are left out first (they add
least to bridging and most to ``max_per_team`` pressure), highest ids first. The rules
are applied until none fires. Conflicts only a solver finds (rules that clash in
combination, meeting caps) are handled by :func:`cohortmatch.plan`, which then leaves
out whole courses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .compiled import cohorts_for
from .model import Course, Organisation, Policy

__all__ = ["LeftOut", "reduce_request"]


@dataclass(frozen=True)
class LeftOut:
    """A participant left out of every round of a course, and why (ids only)."""

    person: str
    course: str
    reason: str


def reduce_request(
    org: Organisation, courses: Sequence[Course], policy: Policy | None = None
) -> tuple[list[Course], list[LeftOut]]:
    """The courses with the participants the hard rules can place, and those left out.

    Parameters
    ----------
    org : Organisation
    courses : sequence of Course
    policy : Policy, optional

    Returns
    -------
    courses : list of Course
        Courses that keep at least one participant, those changed with an explicit
        participant list (``cohorts`` as given). Courses nobody can take are left out.
    left_out : list of LeftOut
        One entry per participant and course left out, in course order then id order.

    Examples
    --------
    >>> from cohortmatch.model import Person
    >>> org = Organisation(people=[Person(id=f"p{i:02d}", team="ab"[i % 2]) for i in range(23)])
    >>> kept, out = reduce_request(org, [Course(id="x", min_size=8, max_size=10)])
    >>> len(kept[0].participants), len(out)
    (20, 3)
    >>> out[0].reason
    "course 'x': 23 participants cannot form cohorts of 8-10; 3 left over"
    """
    policy = policy or Policy()
    people = sorted(org.people, key=lambda p: p.id)
    ids = [p.id for p in people]
    pindex = {pid: i for i, pid in enumerate(ids)}
    team_ids = sorted({p.team for p in people})
    tindex = {t: i for i, t in enumerate(team_ids)}
    team = np.fromiter((tindex[p.team] for p in people), np.int64, len(people))
    manager = np.fromiter(
        (pindex[p.manager] if p.manager is not None else -1 for p in people), np.int64, len(people)
    )
    depth = _depths(manager)
    kept_courses: list[Course] = []
    left_out: list[LeftOut] = []
    for course in courses:
        if course.participants is None:
            members = np.arange(len(people), dtype=np.int64)
        else:
            members = np.sort(
                np.fromiter((pindex[p] for p in course.participants if p in pindex), np.int64)
            )
        if members.shape[0] == 0:
            continue  # nobody takes it: nobody to place, nobody to lose
        reasons = _reduce_course(course, members, team, manager, depth, team_ids, policy)
        if not reasons:
            kept_courses.append(course)
            continue
        gone = np.fromiter(sorted(reasons), np.int64, len(reasons))
        keep = np.setdiff1d(members, gone)
        left_out += [LeftOut(ids[i], course.id, reasons[i]) for i in gone.tolist()]
        if keep.shape[0]:
            kept_courses.append(
                course.model_copy(update={"participants": tuple(ids[i] for i in keep.tolist())})
            )
    return kept_courses, left_out


def _reduce_course(
    course: Course,
    members: np.ndarray,
    team: np.ndarray,
    manager: np.ndarray,
    depth: np.ndarray,
    team_ids: Sequence[str],
    policy: Policy,
) -> dict[int, str]:
    """``{person index: reason}`` of the participants of one course left out."""
    reasons: dict[int, str] = {}
    alive = members.copy()
    cap = policy.max_per_team
    lo, hi = course.min_size, course.max_size
    where = f"course {course.id!r}"

    def drop(who: np.ndarray, reason: str) -> None:
        for i in who.tolist():
            reasons[int(i)] = reason
        nonlocal alive
        alive = np.setdiff1d(alive, who)

    for _ in range(members.shape[0] + 1):  # every pass that continues drops someone
        n = int(alive.shape[0])
        if n == 0:
            break
        k = cohorts_for(n, course)
        # --- cohort sizes
        if course.cohorts is None and k * lo > n:
            keep = (n // lo) * hi
            if keep:
                why = (f"{where}: {n} participants cannot form cohorts of {lo}-{hi}; "
                       f"{n - keep} left over")
            else:
                why = f"{where}: {n} participant(s), fewer than the {lo} a cohort needs"
            drop(_largest_teams_first(alive, team, n - keep), why)
            continue
        if course.cohorts is not None and n > k * hi:
            drop(
                _largest_teams_first(alive, team, n - k * hi),
                f"{where}: {n} participants do not fit {k} cohort(s) of {lo}-{hi}; "
                f"{n - k * hi} left over",
            )
            continue
        if course.cohorts is not None and n < k * lo:
            drop(alive, f"{where}: {n} participants cannot fill {k} cohort(s) of {lo}-{hi} "
                        f"(needs at least {k * lo}); nobody could be placed")
            break
        # --- max_per_team
        if cap is not None:
            counts = np.bincount(team[alive], minlength=len(team_ids))
            over = np.flatnonzero(counts > k * cap)
            if over.shape[0]:
                for t in over.tolist():
                    mine = alive[team[alive] == t]
                    extra = int(counts[t]) - k * cap
                    drop(
                        mine[-extra:],
                        f"{where}: team {team_ids[t]!r} has {counts[t]} participants but "
                        f"{k} cohort(s) x max_per_team {cap} = {k * cap} places; "
                        f"{extra} left over",
                    )
                continue
            room = int(np.minimum(counts, cap).sum())
            if room < lo:
                drop(alive, f"{where}: cohorts need at least {lo} people but max_per_team "
                            f"{cap} allows at most {room}; nobody could be placed")
                break
        # --- managers and their direct reports
        if policy.separate_manager_and_reports:
            gone = _manager_conflicts(alive, manager, depth, k, lo, hi)
            if gone.shape[0]:
                drop(gone, f"{where}: a manager who cannot be kept apart from their direct "
                           f"reports with {k} cohort(s) of {lo}-{hi}")
                continue
        break
    return reasons


def _largest_teams_first(alive: np.ndarray, team: np.ndarray, count: int) -> np.ndarray:
    """``count`` people of ``alive``, taken from the largest teams first, highest ids first."""
    if count <= 0:
        return alive[:0]
    t = team[alive]
    order = np.lexsort((-alive, t))  # by team, then id descending
    ts = t[order]
    starts = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]])
    sizes = np.diff(np.r_[starts, ts.shape[0]])
    rank = np.arange(ts.shape[0]) - np.repeat(starts, sizes)  # 0 = highest id of the team
    left = np.repeat(sizes, sizes) - rank  # how many of the team remain before this one goes
    pick = np.lexsort((-alive[order], -left))[:count]
    return np.sort(alive[order][pick])


def _depths(manager: np.ndarray) -> np.ndarray:
    """Depth of each person in the management forest (roots 0)."""
    depth = np.full(manager.shape[0], -1, np.int64)
    for start in range(manager.shape[0]):
        chain = []
        v = start
        while v >= 0 and depth[v] < 0:
            chain.append(v)
            v = int(manager[v])
        d = depth[v] if v >= 0 else -1
        for u in reversed(chain):
            d += 1
            depth[u] = d
    return depth


def _manager_conflicts(
    alive: np.ndarray, manager: np.ndarray, depth: np.ndarray, k: int, lo: int, hi: int
) -> np.ndarray:
    """Managers (or, with one cohort, a minimum cover) to leave out so reports can be apart."""
    taking = np.zeros(manager.shape[0], bool)
    taking[alive] = True
    mgr = manager[alive]
    has = mgr >= 0
    has[has] &= taking[mgr[has]]
    if not has.any():
        return alive[:0]
    if k == 1:
        # deepest report first: cover each uncovered (report, manager) pair by the manager
        reports = alive[has]
        gone = np.zeros(manager.shape[0], bool)
        for r in reports[np.argsort(-depth[reports], kind="stable")].tolist():
            m = int(manager[r])
            if not gone[r] and not gone[m]:
                gone[m] = True
        return np.flatnonzero(gone)
    n = int(alive.shape[0])
    count = np.bincount(mgr[has], minlength=manager.shape[0])
    bad = (count > (k - 1) * hi) | ((count > 0) & (n - count < lo))
    return np.flatnonzero(bad)[:1]  # one at a time: the others may fit once it is gone

