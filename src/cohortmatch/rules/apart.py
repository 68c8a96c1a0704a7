"""Keep apart: no two people of a ``keep_apart`` group, nor a manager and a direct report,
ever share a cohort."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from .base import CourseView, Cut, Rule

if TYPE_CHECKING:
    from ..engines.cpsat.model import CohortModel

__all__ = ["Apart", "apart_ok"]


class Apart(Rule):
    """Pairs of units that must not share a cohort, from ``keep_apart`` groups and managers.

    A pair's *source* says why: a ``keep_apart`` group (index ``>= 0``) or a manager
    (``-1 - person``). The kernels read the pairs as a CSR over units
    (``conflict_indptr``/``conflict_units``).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t") for i in range(6)])
    >>> prob = compile_problem(org, [Course(id="x", min_size=2, max_size=3)],
    ...                        Policy(keep_apart=[["p0", "p1", "p2"]]))
    >>> rule = Apart(prob)
    >>> rule.precheck()
    ["course 'x': keep_apart group 'p0', 'p1', 'p2' needs 3 cohorts but has 2"]
    >>> rule.violations(np.array([0, 0, 1, 1, 0, 1]))   # p0 with p1
    1
    """

    name = "keep_apart"

    def __init__(self, problem):  # type: ignore[no-untyped-def]
        super().__init__(problem)
        self.pair_u, self.pair_v, self.source = problem.cached("apart_pairs", lambda: _pairs(problem))
        U = problem.n_units
        src = np.concatenate([self.pair_u, self.pair_v])
        dst = np.concatenate([self.pair_v, self.pair_u])
        order = np.lexsort((dst, src))
        self.indptr = np.zeros(U + 1, np.int64)
        np.cumsum(np.bincount(src, minlength=U), out=self.indptr[1:])
        self.partners = dst[order].astype(np.int64)

    @classmethod
    def applies(cls, problem):  # type: ignore[no-untyped-def]
        return bool(problem.cached("apart_pairs", lambda: _pairs(problem))[0].shape[0])

    def pair_u_v(self) -> tuple[list[int], list[int]]:
        """The pairs in both directions, as two lists."""
        u, v = self.pair_u.tolist(), self.pair_v.tolist()
        return u + v, v + u

    def of(self, unit: int) -> np.ndarray:
        """Units that must not share a cohort with ``unit``."""
        return self.partners[self.indptr[unit] : self.indptr[unit + 1]]

    def why(self, source: int) -> str:
        """The rule a pair's source stands for, in words."""
        p = self.problem
        if source < 0:
            return f"manager {p.person_ids[-1 - source]!r} in a different cohort from their direct reports"
        return f"keep_apart group {p.names(p.groups('apart')[source])}"

    def violations(self, assignment: np.ndarray) -> int:
        a = np.asarray(assignment)
        au, av = a[self.pair_u], a[self.pair_v]
        return int(((au == av) & (au >= 0)).sum())

    def offenders(self, assignment: np.ndarray) -> np.ndarray:
        a = np.asarray(assignment)
        au, av = a[self.pair_u], a[self.pair_v]
        same = (au == av) & (au >= 0)
        return np.unique(np.concatenate([self.pair_u[same], self.pair_v[same]]))

    def precheck(self) -> list[str]:
        p = self.problem
        out: list[str] = []
        for b in range(p.n_blocks):
            k = int(p.block_cohorts[b + 1] - p.block_cohorts[b])
            where = p.block_name(b)
            inside = p.unit_block[self.pair_u] == b
            unit_of = p.block_units_of(b)
            for group in p.groups("apart"):
                taking = np.flatnonzero(unit_of[group] >= 0)
                if taking.shape[0] > k:
                    out.append(f"course {where!r}: keep_apart group {p.names(group[taking])} needs "
                               f"{taking.shape[0]} cohorts but has {k}")
            if k == 1:
                managers = sorted({-1 - int(s) for s in self.source[inside] if s < 0})
                if managers:
                    out.append(f"course {where!r}: manager {p.names(managers, 3)} and reports "
                               "cannot be separated with 1 cohort")
            out += _manager_capacity(p, b, k, where)
        return out

    def reduce(self, view: CourseView) -> Cut | None:
        p, k = self.problem, view.cohorts
        taking = view.taking()
        for group in p.groups("apart"):
            mine = group[taking[group]]
            if mine.shape[0] > k:
                return Cut(mine[k:], f"{view.where}: keep_apart group {p.names(group)} needs more "
                                     f"cohorts than the {k} the course has")
        if not p.separate_managers:
            return None
        gone = _manager_conflicts(view.alive, p.person_manager, _depths(p.person_manager), k, view.lo, view.hi)
        if gone.shape[0]:
            return Cut(gone, f"{view.where}: a manager who cannot be kept apart from their direct "
                             f"reports with {k} cohort(s) of {view.lo}-{view.hi}")
        return None

    def signature(self, units: np.ndarray) -> list[Any]:
        inside = np.zeros(self.problem.n_units, dtype=bool)
        inside[units] = True
        out = []
        for u in units.tolist():
            c = self.of(u)
            out.append(tuple(sorted(c[inside[c]].tolist())))
        return out

    def encode(self, cm: CohortModel) -> None:
        d, p = cm.data, cm.data.problem
        seen: set[tuple[int, int]] = set()
        for u, v, s in zip(self.pair_u.tolist(), self.pair_v.tolist(), self.source.tolist(), strict=True):
            g, h = cm.group_of(u), cm.group_of(v)
            if g < 0 or h < 0 or (min(g, h), max(g, h)) in seen:
                continue
            seen.add((min(g, h), max(g, h)))
            b = int(d.g_block[g])
            lit = cm.rule(("apart", b, s), f"course {p.block_name(b)!r}: {self.why(s)}")
            for k in d.block_cohorts[b].tolist():
                cm.enforce(cm.model.add_bool_or([~cm.presence(g, k), ~cm.presence(h, k)]), lit)

    def kernel_fields(self) -> dict[str, Any]:
        return {"conflict_indptr": self.indptr, "conflict_units": self.partners}


def _pairs(problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Unit pairs ``(u, v)``, ``u < v``, that must be apart, and the source of each."""
    p = problem
    us: list[np.ndarray] = []
    vs: list[np.ndarray] = []
    ss: list[np.ndarray] = []
    groups = p.groups("apart")
    for b in range(p.n_blocks):
        unit_of = p.block_units_of(b)
        if p.separate_managers:
            lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
            mgr = p.person_manager[p.unit_person[lo:hi]]
            mu = np.where(mgr >= 0, unit_of[np.maximum(mgr, 0)], -1)
            ok = mu >= 0
            us.append(np.arange(lo, hi)[ok])
            vs.append(mu[ok])
            ss.append(-1 - mgr[ok].astype(np.int64))
        for i, group in enumerate(groups):
            units = unit_of[group]
            units = units[units >= 0]
            a, c = np.triu_indices(units.shape[0], 1)
            us.append(units[a])
            vs.append(units[c])
            ss.append(np.full(a.shape[0], i, np.int64))
    if not us:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    u, v, s = (np.concatenate(x).astype(np.int64) for x in (us, vs, ss))
    lo_, hi_ = np.minimum(u, v), np.maximum(u, v)
    _, first = np.unique(lo_ * max(p.n_units, 1) + hi_, return_index=True)  # a pair once
    return lo_[first], hi_[first], s[first]


def _manager_capacity(p, b: int, k: int, where: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Managers whose direct reports cannot all sit outside the manager's cohort."""
    if k < 2 or not p.separate_managers:
        return []
    lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
    persons = p.unit_person[lo:hi]
    taking = np.zeros(p.n_people, dtype=bool)
    taking[persons] = True
    mgr = p.person_manager[persons]
    has = mgr >= 0
    has[has] &= taking[mgr[has]]
    if not has.any():
        return []
    reports = np.bincount(mgr[has], minlength=p.n_people)
    kmin, kmax = int(p.cohort_min[p.block_cohorts[b]]), int(p.cohort_max[p.block_cohorts[b]])
    n = hi - lo
    out = []
    for m in np.flatnonzero(reports > (k - 1) * kmax)[:3]:
        out.append(f"course {where!r}: manager {p.person_ids[m]!r} has {reports[m]} direct reports "
                   f"taking it, more than the {(k - 1) * kmax} places in the {k - 1} cohort(s) "
                   "without the manager")
    for m in np.flatnonzero((reports > 0) & (n - reports < kmin))[:3]:
        out.append(f"course {where!r}: manager {p.person_ids[m]!r} needs a cohort of at least {kmin} "
                   f"without their {reports[m]} direct reports, but only {n - reports[m] - 1} "
                   "others take it")
    return out


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


@njit(cache=True)
def apart_ok(R, u, k, skip, skip_group, assignment):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Whether no unit that must be apart from ``u`` is in cohort ``k``.

    ``skip`` (a unit) and members of group ``skip_group`` (``keep_together``) do not count:
    they move with ``u`` or swap with it.
    """
    for i in range(R.conflict_indptr[u], R.conflict_indptr[u + 1]):
        c = R.conflict_units[i]
        if c == skip or (skip_group >= 0 and R.unit_group[c] == skip_group):
            continue
        if assignment[c] == k:
            return False
    return True
