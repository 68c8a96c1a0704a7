"""The CP-SAT model of a problem: data, variables, each rule's constraints, objective, hints.

Model
-----
Built in the order of the OR-Tools samples: data, variables, constraints, objective,
solve, read back. Units of one team in one block that no rule tells apart (same team,
same manager/report partners, no person-level value or meeting budget) are
interchangeable, so they form one *group* ``g`` and the model counts them instead of
placing them one by one:

* ``n[g,k]`` (int, or bool for a group of one): members of group ``g`` in cohort ``k``;
  ``sum_k n[g,k] = |g|`` and ``min_k <= sum_g n[g,k] <= max_k``;
* ``y[t,k]`` (bool): team ``t`` is present in cohort ``k`` (only teams with a gap);
* ``b[e,k]`` (bool): gap ``e = (a, b)`` is bridged in cohort ``k``, ``b = y[a,k] and
  y[b,k]``, only for gaps whose two teams both take the block (never person pairs);
* with seats, the placed units of a group may be fewer than ``|g|`` (see
  :mod:`cohortmatch.rules.seats`) and ``fit_weight * fit`` of each adds to the objective;
* ``z[e]`` (cover) or ``z[e,i]`` (diminishing, the i-th bridge of ``e``), and in ``sum``
  mode ``p[e,k] = N[a,k] * N[b,k]`` (team-count products, the "pair variables", only
  where the instance is small enough: see :func:`model_size`).

Every hard rule adds its own constraints (:meth:`cohortmatch.rules.Rule.encode`):
``max_per_team`` is the domain of the team counts, people kept apart (managers and
reports included) are excluded by presence literals, ``keep_together`` groups and pinned
people are modelled one by one, and interchangeable cohorts of a block (those no one is
pinned to) are ordered by a lexicographic key of their group counts (symmetry breaking).

Scaling
-------
CP-SAT needs integer coefficients. The objective coefficients (gap weights, their
``decay`` powers) are multiplied by the smallest power of ten ``10**j`` (``j <= 6``) that
makes every one an integer; if there is none, by a power of two ``S`` that brings the
largest near ``2**30`` and rounded *up*. Rounding up keeps CP-SAT's bound, divided by
``S``, a proven upper bound; the objective CP-SAT optimises then differs from the true
one by less than ``(number of terms) / S`` (relative error ~1e-9). The objective a
plan reports is always the scoring core's (:func:`cohortmatch.scoring.score`).

Bound
-----
The LP relaxation of the count products is weak, so :func:`cohortmatch.engines.cpsat.exact.solve_cpsat` first computes
the decomposition bound (column generation over single-cohort patterns, a proven
Lagrangian bound for any prices; :mod:`cohortmatch.engines.cpsat.decomposition`), stops as soon
as a plan meets it, and adds its pricing cuts to the model. In ``sum`` mode that LP has
an integrality gap, so the same module then solves the integer pattern master exactly
(reduced-cost fixing, a dive, no-goods for pattern sets that cannot be staffed), which
gives the optimum and a plan reaching it on the instances of ``benchmarks/cpsat.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from ortools.sat.python import cp_model

from ...compiled import CompiledProblem
from ...errors import CohortmatchError
from ...rules import active
from ...scoring import edge_value, score

__all__ = [
    "CohortModel", "ModelData", "ModelExtension", "build_model", "model_data", "model_size",
    "integer_scale", "add_count_vars", "add_rules", "team_total", "hint_counts", "ModelStopped",
]


# ============================================================================ data
@dataclass
class ModelData:
    """The (sub)problem a model is built for: units, cohorts, groups and gaps."""

    problem: CompiledProblem
    units: np.ndarray  # sorted unit indices in the model
    blocks: list[int]
    block_cohorts: dict[int, np.ndarray]
    g_block: np.ndarray
    g_team: np.ndarray
    g_units: list[np.ndarray]
    block_groups: dict[int, np.ndarray]
    group_of_unit: np.ndarray  # group of each unit of the problem, -1 outside the model
    base_edge_cohorts: np.ndarray  # cohorts bridging each gap outside the model
    outside: np.ndarray | None = None  # a sub-model: the assignment of the units outside it

    @property
    def g_count(self) -> np.ndarray:
        return np.fromiter((u.shape[0] for u in self.g_units), np.int64, len(self.g_units))


def _individual_units(problem: CompiledProblem, units: np.ndarray) -> np.ndarray:
    """Mask over ``units`` of those that must be modelled one by one.

    Hook for person-level terms: units of people with pair values are individual.
    """
    mask = np.zeros(units.shape[0], dtype=bool)
    pv = getattr(problem, "pair_values", None)
    if pv is not None:
        persons = problem.unit_person[units]
        if hasattr(pv, "getnnz"):
            nnz = np.asarray(pv.getnnz(axis=1)).ravel()
        else:
            nnz = np.count_nonzero(np.asarray(pv), axis=1)
        mask |= nnz[persons] > 0
    return mask


def model_data(
    problem: CompiledProblem,
    units: np.ndarray | None,
    cohorts: np.ndarray | None,
    base_edge_cohorts: np.ndarray | None,
    extension: ModelExtension | None = None,
) -> ModelData:
    p = problem
    units = np.arange(p.n_units) if units is None else np.sort(np.asarray(units, np.int64))
    cohorts = np.arange(p.n_cohorts) if cohorts is None else np.sort(np.asarray(cohorts, np.int64))
    individual = _individual_units(p, units)
    sources = [*active(p), *([extension] if extension is not None else [])]
    signatures = [s for rule in sources if (s := rule.signature(units)) is not None]
    keys: dict[tuple[Any, ...], int] = {}
    members: list[list[int]] = []
    for i, u in enumerate(units.tolist()):
        key = (int(p.unit_block[u]), int(p.unit_team[u]), u if individual[i] else -1,
               *(s[i] for s in signatures))
        g = keys.setdefault(key, len(keys))
        if g == len(members):
            members.append([])
        members[g].append(u)
    g_units = [np.asarray(m, np.int64) for m in members]
    group_of = np.full(p.n_units, -1, np.int64)
    for g, m in enumerate(g_units):
        group_of[m] = g
    g_block = np.fromiter((k[0] for k in keys), np.int64, len(keys))
    g_team = np.fromiter((k[1] for k in keys), np.int64, len(keys))
    blocks = sorted(set(g_block.tolist()))
    cblock = p.cohort_block[cohorts]
    base = (
        np.zeros(p.n_edges, np.int64)
        if base_edge_cohorts is None
        else np.asarray(base_edge_cohorts, np.int64)
    )
    return ModelData(
        problem=p,
        units=units,
        blocks=blocks,
        block_cohorts={b: cohorts[cblock == b] for b in blocks},
        g_block=g_block,
        g_team=g_team,
        g_units=g_units,
        block_groups={b: np.flatnonzero(g_block == b) for b in blocks},
        group_of_unit=group_of,
        base_edge_cohorts=base,
    )


def integer_scale(values: np.ndarray) -> tuple[float, np.ndarray]:
    """``(S, c)`` with integer coefficients ``c >= values * S`` (see the module docstring).

    Examples
    --------
    >>> integer_scale(np.array([1.5, 2.0]))
    (10.0, array([15, 20]))
    """
    values = np.asarray(values, np.float64)
    if values.size == 0:
        return 1.0, np.zeros(0, np.int64)
    top = float(np.abs(values).max())
    if top == 0.0:
        return 1.0, np.zeros(values.shape[0], np.int64)
    for j in range(7):
        s = 10.0**j
        scaled = values * s
        r = np.round(scaled)
        if top * s < 2.0**40 and np.all(
            np.abs(scaled - r) <= 1e-9 * np.maximum(1.0, np.abs(scaled))
        ):
            return s, r.astype(np.int64)
    s = 2.0 ** math.floor(math.log2(2.0**30 / top))
    return s, np.ceil(values * s).astype(np.int64)


# ======================================================================= the model
class ModelStopped(Exception):
    """The run was stopped while its CP-SAT model was being built (see :attr:`CohortModel.stop`)."""


@dataclass
class CohortModel:
    """A built CP-SAT model and what is needed to hint, solve and read it back.

    Attributes
    ----------
    model : ortools CpModel
    data : ModelData
    n : dict
        ``n[g, k]``: members of group ``g`` in cohort ``k``.
    scale : float
        Objective coefficients are the values times ``scale`` (see the module docstring).
    offset : float
        Objective value of what lies outside the model (earlier rounds, fixed cohorts).
    rules : dict
        ``explain`` mode: assumption literal index -> the rule it enforces, in words.
    slot_lits : dict
        ``slot_lits[k, s]``: cohort ``k`` meets at slot ``s`` (courses with times).
    used : dict
        ``used[k]``: optional cohort ``k`` (with seats) has members.
    extension : ModelExtension or None
        What the caller added (see :class:`ModelExtension`).
    stop : object with ``is_set()``, or None
        Building ends with :class:`ModelStopped` soon after it is set (see :meth:`check_stop`).
    """

    model: cp_model.CpModel
    data: ModelData
    n: dict[tuple[int, int], Any] = field(default_factory=dict)
    team_count: dict[tuple[int, int], Any] = field(default_factory=dict)
    presences: dict[tuple[int, int], Any] = field(default_factory=dict)
    y: dict[tuple[int, int], Any] = field(default_factory=dict)
    b: dict[tuple[int, int], Any] = field(default_factory=dict)
    ub: dict[int, int] = field(default_factory=dict)
    bools: set[int] = field(default_factory=set)
    scale: float = 1.0
    offset: float = 0.0
    explain: bool = False
    rules: dict[int, str] = field(default_factory=dict)
    rule_literals: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    derived: list[tuple[Any, Callable[[dict[int, int]], int]]] = field(default_factory=list)
    terms: list[tuple[Any, float]] = field(default_factory=list)
    slot_lits: dict[tuple[int, int], Any] = field(default_factory=dict)
    used: dict[int, Any] = field(default_factory=dict)
    extension: Any = None
    stop: Any = None

    # -- helpers ------------------------------------------------------------
    def check_stop(self) -> None:
        """Raise :class:`ModelStopped` if the run was stopped (building a large model takes seconds)."""
        if self.stop is not None and self.stop.is_set():
            raise ModelStopped

    def rule(self, key: tuple[Any, ...], words: str) -> Any | None:
        """The assumption literal of a hard rule (``explain`` mode), else None."""
        if not self.explain:
            return None
        lit = self.rule_literals.get(key)
        if lit is None:
            lit = self.model.new_bool_var("rule[" + ",".join(map(str, key)) + "]")
            self.rule_literals[key] = lit
            self.rules[lit.index] = words
        return lit

    def int_var(self, lb: int, ub: int, name: str) -> Any:
        """A new integer (boolean when ``0..1``) variable whose upper bound is remembered."""
        v = (
            self.model.new_bool_var(name)
            if (lb, ub) == (0, 1)
            else self.model.new_int_var(lb, ub, name)
        )
        self.ub[v.index] = ub
        if (lb, ub) == (0, 1):
            self.bools.add(v.index)
        return v

    def upper(self, var: Any) -> int:
        """Upper bound of a variable made by :meth:`int_var`."""
        return self.ub[var.index]

    def derive(self, var: Any, fn: Callable[..., int]) -> Any:
        """Record how ``var`` follows from earlier variables (to complete hints)."""
        self.derived.append((var, fn))
        return var

    def enforce(self, ct: Any, lit: Any | None) -> None:
        """Make constraint ``ct`` hold only under the rule literal ``lit`` (explaining), else always."""
        if lit is not None:
            ct.only_enforce_if(lit)

    def tighten(self, var: Any, ub: int) -> None:
        """Lower the upper bound of a variable made by :meth:`int_var` to ``ub``."""
        if ub < self.ub[var.index]:
            self.model.add(var <= ub)
            self.ub[var.index] = ub

    def group_of(self, unit: int) -> int:
        """The group of a unit, -1 when the unit is not in the model."""
        return int(self.data.group_of_unit[unit])

    def presence(self, g: int, k: int) -> Any:
        """Literal: group ``g`` has a member in cohort ``k``."""
        key = (g, k)
        if key in self.presences:
            return self.presences[key]
        n = self.n[g, k]
        if self.data.g_units[g].shape[0] == 1:
            lit = n
        else:
            ub = self.upper(n)
            lit = self.int_var(0, 1, f"present[{g},{k}]")
            self.model.add(n >= lit)
            self.model.add(n <= ub * lit)
            self.derive(lit, lambda v, n=n: int(v[n.index] > 0))
        self.presences[key] = lit
        return lit

    def add_term(self, var: Any, value: float) -> None:
        """Add ``value * var`` to the objective (maximised)."""
        if value != 0.0:
            self.terms.append((var, float(value)))


class ModelExtension(Protocol):
    """What a caller adds to the model beyond the rules and the gap objective (the hook).

    :func:`build_model` asks it, like a rule, for a ``signature`` of the units (units it
    tells apart are not grouped together) and for the ``pinned_cohorts`` it tells apart
    (left out of symmetry breaking), and calls ``encode`` last, after the rules and the
    objective: it may add variables and constraints, or replace the objective (then it
    sets ``cm.scale`` and ``cm.offset`` so that :func:`~.solve.solve_model` reports the
    new objective). :mod:`cohortmatch.replanning.exact` uses it for the moves of a re-plan.
    """

    def signature(self, units: np.ndarray) -> list[Any] | None: ...

    def pinned_cohorts(self) -> np.ndarray: ...

    def encode(self, cm: CohortModel) -> None: ...


def model_size(problem: CompiledProblem) -> int:
    """Estimated number of variables of the exact model (cheap, no model is built).

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="ab"[i % 2]) for i in range(6)],
    ...                    gaps=[Gap(a="a", b="b")])
    >>> model_size(compile_problem(org, [Course(id="c", min_size=3, max_size=3)]))
    11
    """
    p = problem
    K_b = np.diff(p.block_cohorts)
    units = np.arange(p.n_units)
    told_apart = np.zeros(p.n_units, dtype=bool)  # units a rule models on their own
    for rule in active(p):
        sig = rule.signature(units)
        if sig is not None:
            told_apart |= np.array([x != -1 and x != () for x in sig], dtype=bool)
    team_block = np.zeros((p.n_teams, p.n_blocks), np.int64)
    np.add.at(team_block, (p.unit_team, p.unit_block), 1)
    present = team_block > 0
    groups = present.sum(axis=0) + np.bincount(p.unit_block[told_apart], minlength=p.n_blocks)
    both = present[p.edge_a] & present[p.edge_b] if p.n_edges else np.zeros((0, p.n_blocks), bool)
    per_block = groups * K_b + (present.sum(axis=0) + both.sum(axis=0)) * K_b
    return int(per_block.sum()) + int(both.sum())


def build_model(
    problem: CompiledProblem,
    *,
    units: np.ndarray | None = None,
    cohorts: np.ndarray | None = None,
    base_edge_cohorts: np.ndarray | None = None,
    hint: np.ndarray | None = None,
    explain: bool = False,
    extension: ModelExtension | None = None,
    stop: Any = None,
) -> CohortModel:
    """Build the CP-SAT model of a problem, or of the part of it given by ``units``/``cohorts``.

    Parameters
    ----------
    problem : CompiledProblem
    units, cohorts : int arrays, optional
        A sub-problem: these units placed into these cohorts (whole blocks or, for
        large-neighbourhood search, the members of a few cohorts); default everything.
    base_edge_cohorts : int array (E,), optional
        Cohorts outside the model bridging each gap (they shift the value of further
        bridges). Default: what the scoring core counts for an empty plan (earlier rounds).
    hint : int array (U,), optional
        A valid assignment to start from (``add_hint``), relabelled to respect the
        symmetry breaking; in a sub-model, it also places the units outside it. The
        problem's cohort slots hint the slot literals.
    explain : bool
        Guard every hard rule by an assumption literal and build no objective, to name a
        small set of conflicting rules when there is no solution.
    extension : ModelExtension, optional
        Groups units by its signature too, and adds its own variables, constraints or
        objective last (see :class:`ModelExtension`).
    stop : object with ``is_set()``, optional
        Checked between rules and between cohorts while building: once set, building
        ends with :class:`ModelStopped`.

    Returns
    -------
    CohortModel

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="aabb"[i]) for i in range(4)],
    ...                    gaps=[Gap(a="a", b="b", weight=1.5)])
    >>> from cohortmatch.engines.cpsat.solve import solve_model
    >>> cm = build_model(compile_problem(org, [Course(id="c", min_size=2, max_size=2)]))
    >>> out = solve_model(cm, time_limit=5, workers=1)
    >>> out.status, out.objective, out.assignment.tolist()
    ('optimal', 1.5, [0, 1, 0, 1])
    """
    p = problem
    # --- data
    empty = None
    if base_edge_cohorts is None and units is None:
        empty = score(p, np.full(p.n_units, -1, np.int64))
        base_edge_cohorts = empty.edge_cohorts
    data = model_data(p, units, cohorts, base_edge_cohorts, extension)
    if units is not None and hint is not None:
        data.outside = np.asarray(hint, np.int64)
    cm = CohortModel(model=cp_model.CpModel(), data=data, explain=explain, extension=extension,
                     stop=stop)
    if empty is not None:
        cm.offset = float(empty.objective)
    # --- variables
    add_count_vars(cm)
    # --- constraints: every rule's own, then symmetry breaking
    add_rules(cm)
    _add_symmetry_breaking(cm)
    hint_n = hint_counts(cm, hint) if hint is not None else None
    # --- objective
    if not explain:
        if p.mode == "sum":
            _add_sum_objective(cm)
        else:
            _add_bridge_objective(cm)
        _add_pair_value_objective(cm)
        _add_fit_objective(cm)
        _set_objective(cm)
    if extension is not None:
        extension.encode(cm)
    if hint_n is not None:
        _add_hints(cm, hint_n)
    return cm


# ---------------------------------------------------------------------- variables
def add_count_vars(cm: CohortModel) -> None:
    """``n[g,k]`` for every group and cohort of its block, and team totals ``N[t,k]``."""
    d, p = cm.data, cm.data.problem
    count = d.g_count
    for b in d.blocks:
        for k in d.block_cohorts[b].tolist():
            cm.check_stop()
            kmax = int(p.cohort_max[k])
            by_team: dict[int, list[Any]] = {}
            for g in d.block_groups[b].tolist():
                v = cm.int_var(0, min(int(count[g]), kmax), f"n[{g},{k}]")
                cm.n[g, k] = v
                by_team.setdefault(int(d.g_team[g]), []).append(v)
            for t, vs in by_team.items():
                cm.team_count[t, k] = vs


# -------------------------------------------------------------------- constraints
def add_rules(cm: CohortModel) -> None:
    """Every active hard rule's constraints (:meth:`cohortmatch.rules.Rule.encode`)."""
    for rule in active(cm.data.problem):
        if not rule.cpsat and rule.hard:
            raise CohortmatchError(f"the CP-SAT model cannot keep the rule {rule.name!r}")
        cm.check_stop()
        if rule.cpsat:
            rule.encode(cm)


#: Bits of a cohort's symmetry key. With 40, OR-Tools 9.15's presolve declared a feasible
#: model infeasible (200 people, balance on level, diminishing: a complete assignment
#: that keeps every constraint exists, yet the free solve ends "infeasible" in 0.5 s);
#: 30 bits does not (``tests/test_cpsat.py``).
SYMMETRY_BITS = 30


def _add_symmetry_breaking(cm: CohortModel) -> None:
    """Cohorts of a block are interchangeable: order them by a key of their group counts.

    The key of cohort ``k`` is the mixed-radix number whose digits are ``n[g,k]`` for
    the first groups of the block (as many as fit in :data:`SYMMETRY_BITS` bits); keys
    must not increase from one cohort to the next, which every plan meets after
    relabelling its cohorts.
    """
    d = cm.data
    for b in d.blocks:
        ks = _interchangeable(cm, b).tolist()
        if len(ks) < 2:
            continue
        coef = _symmetry_coefficients(cm, b)
        gs = d.block_groups[b][: len(coef)].tolist()
        keys = [sum(c * cm.n[g, k] for c, g in zip(coef, gs, strict=True)) for k in ks]
        for k1, k2 in zip(keys[:-1], keys[1:], strict=True):
            cm.model.add(k1 >= k2)


def _interchangeable(cm: CohortModel, b: int) -> np.ndarray:
    """Cohorts of block ``b`` in the model that no rule tells apart (no one is pinned to them)."""
    ks = cm.data.block_cohorts[b]
    sources = [*active(cm.data.problem), *([cm.extension] if cm.extension is not None else [])]
    pinned = [source.pinned_cohorts() for source in sources]
    return ks[~np.isin(ks, np.concatenate(pinned))] if pinned else ks


def _symmetry_coefficients(cm: CohortModel, b: int) -> list[int]:
    d = cm.data
    k0 = int(d.block_cohorts[b][0])
    radix = [cm.upper(cm.n[g, k0]) + 1 for g in d.block_groups[b].tolist()]
    used, total = 0, 1
    for r in radix:
        if total * r > 2**SYMMETRY_BITS:
            break
        total *= r
        used += 1
    coef, c = [], 1
    for r in reversed(radix[:used]):
        coef.append(c)
        c *= r
    return coef[::-1]


# ---------------------------------------------------------------------- objective
def _team_presence(cm: CohortModel, t: int, k: int) -> Any:
    """``y[t,k]``: team ``t`` has a member in cohort ``k`` (exact channelling)."""
    if (t, k) in cm.y:
        return cm.y[t, k]
    vs = cm.team_count[t, k]
    if len(vs) == 1 and cm.upper(vs[0]) == 1 and vs[0].index in cm.bools:
        y = vs[0]
    else:
        ub = sum(cm.upper(v) for v in vs)
        y = cm.int_var(0, 1, f"y[{t},{k}]")
        cm.model.add(sum(vs) >= y)
        cm.model.add(sum(vs) <= ub * y)
        cm.derive(y, lambda val, vs=vs: int(sum(val[v.index] for v in vs) > 0))
    cm.y[t, k] = y
    return y


def team_total(cm: CohortModel, t: int, k: int) -> Any:
    """``N[t,k]`` as one integer variable."""
    key = (-1 - t, k)
    if key in cm.y:
        return cm.y[key]
    vs = cm.team_count[t, k]
    if len(vs) == 1:
        v = vs[0]
    else:
        v = cm.int_var(0, sum(cm.upper(x) for x in vs), f"N[{t},{k}]")
        cm.model.add(v == sum(vs))
        cm.derive(v, lambda val, vs=vs: int(sum(val[x.index] for x in vs)))
    cm.y[key] = v
    return v


def _block_edges(cm: CohortModel, b: int) -> np.ndarray:
    """Gaps whose two teams both have units of block ``b`` in the model."""
    d, p = cm.data, cm.data.problem
    present = np.zeros(p.n_teams, dtype=bool)
    present[d.g_team[d.block_groups[b]]] = True
    return np.flatnonzero(present[p.edge_a] & present[p.edge_b])


def _add_bridge_objective(cm: CohortModel) -> None:
    """cover / diminishing: ``b[e,k] = y[a,k] and y[b,k]``, then the value of ``c_e``."""
    d, p, m = cm.data, cm.data.problem, cm.model
    per_edge: dict[int, list[Any]] = {}
    for b in d.blocks:
        edges = _block_edges(cm, b)
        if p.mode == "cover":
            edges = edges[d.base_edge_cohorts[edges] == 0]
        for k in d.block_cohorts[b].tolist():
            cm.check_stop()
            for e in edges.tolist():
                ya = _team_presence(cm, int(p.edge_a[e]), k)
                yb = _team_presence(cm, int(p.edge_b[e]), k)
                x = m.new_bool_var(f"b[{e},{k}]")
                m.add_implication(x, ya)
                m.add_implication(x, yb)
                m.add_bool_or([~ya, ~yb, x])
                cm.derive(x, lambda v, ya=ya, yb=yb: int(v[ya.index] and v[yb.index]))
                cm.b[e, k] = x
                per_edge.setdefault(e, []).append(x)
    for e, bs in per_edge.items():
        if e % 256 == 0:
            cm.check_stop()
        c0 = int(d.base_edge_cohorts[e])
        if p.mode == "cover":
            z = m.new_bool_var(f"z[{e}]")
            m.add_max_equality(z, bs)
            cm.derive(z, lambda v, bs=bs: int(any(v[x.index] for x in bs)))
            cm.add_term(z, float(p.edge_weight[e]))
            continue
        c = c0 + np.arange(len(bs) + 1)
        marginal = np.diff(edge_value(p, np.full(c.shape[0], e), c))
        zs = [m.new_bool_var(f"z[{e},{i}]") for i in range(len(bs))]
        m.add(sum(zs) == sum(bs))
        for i in range(len(zs) - 1):
            m.add_implication(zs[i + 1], zs[i])
        for i, (z, value) in enumerate(zip(zs, marginal.tolist(), strict=True)):
            cm.derive(z, lambda v, bs=bs, i=i: int(sum(v[x.index] for x in bs) > i))
            cm.add_term(z, value)


def _add_sum_objective(cm: CohortModel) -> None:
    """sum: ``w_e * p[e,k]`` with ``p[e,k] = N[a,k] * N[b,k]``."""
    d, p, m = cm.data, cm.data.problem, cm.model
    for b in d.blocks:
        edges = _block_edges(cm, b)
        for k in d.block_cohorts[b].tolist():
            for e in edges.tolist():
                na = team_total(cm, int(p.edge_a[e]), k)
                nb = team_total(cm, int(p.edge_b[e]), k)
                x = cm.int_var(0, cm.upper(na) * cm.upper(nb), f"p[{e},{k}]")
                m.add_multiplication_equality(x, [na, nb])
                cm.derive(x, lambda v, na=na, nb=nb: int(v[na.index] * v[nb.index]))
                cm.b[e, k] = x
                cm.add_term(x, float(p.edge_weight[e]))


def _add_pair_value_objective(cm: CohortModel) -> None:
    """Person-level pair values (``sum`` mode): ``V[p,q] * (x[u,k] and x[v,k])``.

    Only pairs with a non-zero value who take the same block get a variable.
    """
    d, p, m = cm.data, cm.data.problem, cm.model
    pv = getattr(p, "pair_values", None)
    if pv is None:
        return
    for b in d.blocks:
        singles = [g for g in d.block_groups[b].tolist() if d.g_units[g].shape[0] == 1]
        persons = np.array([p.unit_person[d.g_units[g][0]] for g in singles], np.int64)
        if persons.shape[0] < 2:
            continue
        sub = pv[persons][:, persons]
        sub = sub.toarray() if hasattr(sub, "toarray") else np.asarray(sub)
        ii, jj = np.nonzero(np.triu(sub, 1))
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            value = float(sub[i, j])
            for k in d.block_cohorts[b].tolist():
                xu, xv = cm.n[singles[i], k], cm.n[singles[j], k]
                q = m.new_bool_var(f"q[{singles[i]},{singles[j]},{k}]")
                m.add_implication(q, xu)
                m.add_implication(q, xv)
                m.add_bool_or([~xu, ~xv, q])
                cm.derive(q, lambda v, xu=xu, xv=xv: int(v[xu.index] and v[xv.index]))
                cm.add_term(q, value)


def _add_fit_objective(cm: CohortModel) -> None:
    """With seats: ``fit_weight * unit_fit`` of every placed unit (units of a group share it)."""
    d, p = cm.data, cm.data.problem
    if not p.fit_weight:
        return
    for b in d.blocks:
        for g in d.block_groups[b].tolist():
            fit = p.fit_weight * float(p.unit_fit[d.g_units[g][0]])
            for k in d.block_cohorts[b].tolist():
                cm.add_term(cm.n[g, k], fit)


def _set_objective(cm: CohortModel) -> None:
    if not cm.terms:
        return
    values = np.array([v for _, v in cm.terms])
    cm.scale, coef = integer_scale(values)
    cm.model.maximize(sum(int(c) * x for (x, _), c in zip(cm.terms, coef.tolist(), strict=True)))


# -------------------------------------------------------------------------- hints
def hint_counts(cm: CohortModel, hint: np.ndarray) -> dict[tuple[int, int], int]:
    """``n[g,k]`` of an assignment, cohorts relabelled to meet the symmetry breaking."""
    d = cm.data
    hint = np.asarray(hint, np.int64)
    out: dict[tuple[int, int], int] = {}
    for b in d.blocks:
        ks = d.block_cohorts[b]
        gs = d.block_groups[b]
        at = hint[np.concatenate([d.g_units[g] for g in gs])]
        rows = np.repeat(np.arange(gs.shape[0]), [d.g_units[g].shape[0] for g in gs])
        placed = at >= 0  # with seats, units the hint leaves out
        local = np.searchsorted(ks, at[placed])
        counts = np.zeros((gs.shape[0], ks.shape[0]), np.int64)
        np.add.at(counts, (rows[placed], np.minimum(local, ks.shape[0] - 1)), 1)
        free = np.flatnonzero(np.isin(ks, _interchangeable(cm, b)))
        if free.shape[0] > 1:  # relabel the interchangeable cohorts as symmetry breaking wants
            coef = np.array(_symmetry_coefficients(cm, b), np.int64)
            key = coef @ counts[: coef.shape[0]][:, free]
            order = np.arange(ks.shape[0])
            order[free] = free[np.argsort(-key, kind="stable")]
            counts = counts[:, order]
        for i, g in enumerate(gs.tolist()):
            for j, k in enumerate(ks.tolist()):
                out[g, k] = int(counts[i, j])
    return out


def _add_hints(cm: CohortModel, hint_n: dict[tuple[int, int], int]) -> None:
    """Hint every variable: the counts, and all that follows from them."""
    values: dict[int, int] = {}
    for key, v in cm.n.items():
        values[v.index] = hint_n[key]
        cm.model.add_hint(v, hint_n[key])
    for var, fn in cm.derived:
        values[var.index] = fn(values)
        cm.model.add_hint(var, values[var.index])
