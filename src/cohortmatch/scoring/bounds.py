"""Cheap proven upper bounds on the objective, at any size.

The argument, for every coverage mode, counts *slots*: a unit (one participant in one
round of one course) sits in one cohort of at most ``max_size`` people, so it can meet
people of at most ``max_size - 1`` other teams, and at most ``max_size - 1`` people.

``cover`` / ``diminishing``
    The i-th cohort bridging gap :math:`e` is worth :math:`w_e` (cover: only i = 1) or
    :math:`w_e \\delta^{i-1}`, and it is possible at most
    :math:`c^{\\max}_e = \\sum_b \\min(n_{ab}, n_{bb}, K_b)` times (a cohort of block
    :math:`b` needs a unit of each team). Each bridge uses one slot of team :math:`a` and
    one of team :math:`b`; team :math:`t` has :math:`s_t = \\sum_b n_{tb}(m_b - 1)` slots.
    So twice the objective is at most :math:`\\sum_t` (the :math:`s_t` largest bridge
    values incident to :math:`t`). The objective is also at most the sum of all possible
    bridge values, and (cover) at most the :math:`\\sum_k \\binom{m_k}{2}` largest
    weights, since a cohort of :math:`m_k` people bridges at most that many team pairs.

``sum``
    A unit of team :math:`t` in block :math:`b` has at most :math:`m_b - 1` co-members,
    at most ``max_per_team`` and at most :math:`n_{sb}` of them from team :math:`s`, each
    worth :math:`w_{ts}`; the best such fill, summed over units and halved, bounds the
    objective.

``sum`` with person-level pair values
    Likewise a unit meets at most :math:`m_b - 1` people of its block, so its pair
    values add at most the :math:`m_b - 1` largest positive entries of its row among
    the block's participants; summed over units and halved, this bounds the pair term,
    and it is added to the team-gap bound (a bound on a sum is the sum of bounds).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..compiled import NO_CAP, CompiledProblem

__all__ = ["upper_bound"]


def upper_bound(problem: CompiledProblem) -> float:
    """A proven upper bound on the objective of any plan of ``problem``.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="abc"[i % 3]) for i in range(6)],
    ...                    gaps=[Gap(a="a", b="b", weight=2.0), Gap(a="b", b="c", weight=1.0)])
    >>> upper_bound(compile_problem(org, [Course(id="c", min_size=3, max_size=3)]))
    3.0
    """
    if problem.history_edge_cohorts.any() or problem.history_edge_pairs.any():
        return _history_bound(problem)
    pair = _pair_bound(problem) if problem.pair_values is not None else 0.0
    if problem.n_edges == 0 or problem.n_units == 0:
        return pair
    team_block = _team_block_counts(problem)
    if problem.mode == "sum":
        return _sum_bound(problem, team_block) + pair
    return _bridge_bound(problem, team_block)


def _history_bound(problem: CompiledProblem) -> float:
    r"""Bound with earlier rounds: their value, plus the bound of what new cohorts can add.

    In ``cover`` a gap bridged before adds nothing more; in ``diminishing`` the next
    bridges of a gap bridged :math:`h_e` times are worth :math:`\delta^{h_e}` as much
    (:math:`\sum_{i<h+c} \delta^i = \sum_{i<h} \delta^i + \delta^h \sum_{i<c} \delta^i`);
    in ``sum`` the earlier pairs add a constant.
    """
    h = problem.history_edge_cohorts
    w = problem.edge_weight
    zero_e = np.zeros_like(h)
    if problem.mode == "sum":
        past = float(w @ problem.history_edge_pairs)
        rest = dataclasses.replace(
            problem, history_edge_cohorts=zero_e, history_edge_pairs=np.zeros_like(w), _cache={}
        )
        return past + upper_bound(rest)
    d = problem.decay
    if problem.mode == "cover":
        past, scale = float(w @ (h > 0)), (h == 0).astype(np.float64)
    elif d >= 1.0:
        past, scale = float(w @ h), np.ones_like(w)
    else:
        past, scale = float(w @ ((1.0 - np.power(d, h)) / (1.0 - d))), np.power(d, h)
    rest = dataclasses.replace(
        problem, edge_weight=w * scale, history_edge_cohorts=zero_e,
        history_edge_pairs=np.zeros_like(w), _cache={},
    )
    return past + upper_bound(rest)


def _team_block_counts(problem: CompiledProblem) -> np.ndarray:
    """Units of each team in each block, shape (T, B)."""
    counts = np.zeros((problem.n_teams, problem.n_blocks), np.int64)
    np.add.at(counts, (problem.unit_team, problem.unit_block), 1)
    return counts


def _block_max(problem: CompiledProblem) -> np.ndarray:
    first = problem.block_cohorts[:-1]
    return problem.cohort_max[first].astype(np.int64)


def _bridge_bound(problem: CompiledProblem, team_block: np.ndarray) -> float:
    K_b = np.diff(problem.block_cohorts)
    cmax = np.minimum(
        np.minimum(team_block[problem.edge_a], team_block[problem.edge_b]), K_b[None, :]
    ).sum(axis=1)
    if problem.mode == "cover":
        cmax = np.minimum(cmax, 1)
    # bridge values: edge e repeated cmax_e times, i-th copy worth w_e * decay^i
    eid = np.repeat(np.arange(problem.n_edges), cmax)
    if eid.shape[0] == 0:
        return 0.0
    rank = np.arange(eid.shape[0]) - np.repeat(np.cumsum(cmax) - cmax, cmax)
    values = problem.edge_weight[eid] * np.power(problem.decay, rank) if problem.mode != "cover" \
        else problem.edge_weight[eid]
    total = float(values.sum())
    slots = team_block @ (_block_max(problem) - 1)
    teams = np.concatenate([problem.edge_a[eid], problem.edge_b[eid]])
    both = np.concatenate([values, values])
    order = np.lexsort((-both, teams))
    teams, both = teams[order], both[order]
    starts = np.searchsorted(teams, np.arange(problem.n_teams))
    pos = np.arange(teams.shape[0]) - starts[teams]
    slot_bound = 0.5 * float(both[pos < slots[teams]].sum())
    best = min(total, slot_bound)
    if problem.mode == "cover":
        sizes = problem.cohort_max.astype(np.int64)
        pair_capacity = int((sizes * (sizes - 1) // 2).sum())
        best = min(best, float(np.sort(values)[::-1][:pair_capacity].sum()))
    return best


def _sum_bound(problem: CompiledProblem, team_block: np.ndarray) -> float:
    cap = problem.max_per_team
    block_max = _block_max(problem)
    total = 0.0
    for b in range(problem.n_blocks):
        room = int(block_max[b]) - 1
        present = np.flatnonzero(team_block[:, b])
        for t in present:
            nb, eid = problem.neighbours(int(t))
            avail = team_block[nb, b]
            if cap != NO_CAP:
                avail = np.minimum(avail, cap)
            w = problem.edge_weight[eid]
            order = np.argsort(-w, kind="stable")
            take = np.minimum(avail[order], np.maximum(room - (np.cumsum(avail[order]) - avail[order]), 0))
            total += float(team_block[t, b]) * float(w[order] @ take)
    return 0.5 * total


def _pair_bound(problem: CompiledProblem, *, chunk: int = 512) -> float:
    """Bound on the pair-value term: per unit, its ``m_b - 1`` best positive values, halved."""
    V = problem.pair_values
    block_max = np.maximum.reduceat(problem.cohort_max, problem.block_cohorts[:-1])  # sizes differ
    total = 0.0
    for b in range(problem.n_blocks):
        lo, hi = int(problem.block_units[b]), int(problem.block_units[b + 1])
        persons = problem.unit_person[lo:hi]
        r = min(int(block_max[b]) - 1, hi - lo - 1)
        if r <= 0:
            continue
        if isinstance(V, np.ndarray):
            for s in range(0, hi - lo, chunk):
                rows = np.maximum(V[np.ix_(persons[s : s + chunk], persons)], 0.0)
                top = -np.partition(-rows, r - 1, axis=1)[:, :r]
                total += float(top.sum())
        else:
            sub = V[persons][:, persons].tocsr()
            row = np.repeat(np.arange(hi - lo), np.diff(sub.indptr))
            data = np.maximum(sub.data, 0.0)
            order = np.lexsort((-data, row))
            row, data = row[order], data[order]
            rank = np.arange(row.shape[0]) - np.searchsorted(row, row)
            total += float(data[rank < r].sum())
    return 0.5 * total
