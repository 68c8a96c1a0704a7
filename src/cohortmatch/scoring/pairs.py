"""Person-level pair values and ``sum``-mode pair terms of the search state.

:class:`PairTerms` is the part of :class:`~cohortmatch.scoring.SearchState` that prices
pair values (person by person) and keeps the incremental gain matrix of ``sum`` mode,
the heart of the pair-value engine (:mod:`cohortmatch.engines.tabu`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import CohortmatchError

__all__ = ["PairTerms"]


class PairTerms:
    """Pair-value pricing and the ``sum``-mode gain matrix (a mix-in of ``SearchState``).

    It reads the state's ``problem``, ``assignment``, ``members_of`` and ``_gain``.
    """

    problem: Any
    assignment: np.ndarray
    _gain: dict[int, np.ndarray]
    _pairs: bool

    def members_of(self, cohort: int) -> np.ndarray:  # pragma: no cover - the state's
        raise NotImplementedError

    def _pair_row(self, unit: int, units: np.ndarray) -> np.ndarray:
        """``pair_values[person(unit), person(w)]`` for the given units ``w``."""
        V = self.problem.pair_values
        pu = int(self.problem.unit_person[unit])
        persons = self.problem.unit_person[units]
        if isinstance(V, np.ndarray):
            return V[pu, persons]
        lo, hi = V.indptr[pu], V.indptr[pu + 1]
        cols, vals = V.indices[lo:hi], V.data[lo:hi]
        if cols.shape[0] == 0:
            return np.zeros(units.shape[0])
        pos = np.minimum(np.searchsorted(cols, persons), cols.shape[0] - 1)
        return np.where(cols[pos] == persons, vals[pos], 0.0)

    def _pair_delta(self, unit: int, k1: int, k2: int) -> float:
        """Pair-value change of moving ``unit`` from ``k1`` to ``k2`` (O(cohort sizes))."""
        if not self._pairs or k1 == k2:
            return 0.0
        gain = 0.0
        if k2 >= 0:
            gain += float(self._pair_row(unit, self.members_of(k2)).sum())
        if k1 >= 0:
            gain -= float(self._pair_row(unit, self.members_of(k1)).sum())
        return gain

    def _pair_swap_delta(self, u: int, v: int) -> float:
        """Pair-value change of exchanging the cohorts of ``u`` and ``v``."""
        if not self._pairs:
            return 0.0
        ku, kv = int(self.assignment[u]), int(self.assignment[v])
        if ku == kv:
            return 0.0
        both = self._pair_delta(u, ku, kv) + self._pair_delta(v, kv, ku)
        return both - 2.0 * float(self._pair_row(u, np.array([v]))[0])

    def _pair_move_gains(self, unit: int) -> np.ndarray | float:
        """Pair-value gain of moving ``unit`` to each cohort of its block (0 for its own)."""
        if not self._pairs:
            return 0.0
        p = self.problem
        b = int(p.unit_block[unit])
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        cs, ce = int(p.block_cohorts[b]), int(p.block_cohorts[b + 1])
        a = self.assignment[lo:hi]
        placed = a >= 0
        row = self._pair_row(unit, np.arange(lo, hi)[placed])
        to = np.bincount(a[placed] - cs, weights=row, minlength=ce - cs)
        k1 = int(self.assignment[unit])
        if k1 >= 0:
            to -= to[k1 - cs]
        return to

    def pair_matrix(self, block: int) -> np.ndarray:
        """Dense value of every pair of units of ``block`` in ``sum`` mode (team gap + pair value).

        Shape ``(n_b, n_b)``, zero diagonal; for one block holding every person once in
        canonical order with no gaps, this is ``problem.pair_values`` itself (no copy).
        """
        p = self.problem
        lo, hi = int(p.block_units[block]), int(p.block_units[block + 1])
        persons = p.unit_person[lo:hi]
        V = p.pair_values
        whole = hi - lo == p.n_people and bool(np.all(persons == np.arange(p.n_people)))
        if V is None:
            out = np.zeros((hi - lo, hi - lo))
        elif isinstance(V, np.ndarray):
            out = V if whole else V[np.ix_(persons, persons)]
        else:
            out = V[persons][:, persons].toarray()
        if p.n_edges:
            teams = p.unit_team[lo:hi]
            out = out + self._team_weights()[np.ix_(teams, teams)]
        return out

    def _team_weights(self) -> np.ndarray:
        """Dense symmetric team-by-team gap weights (T, T)."""
        p = self.problem
        W = np.zeros((p.n_teams, p.n_teams))
        np.add.at(W, (p.edge_a, p.edge_b), p.edge_weight)
        return W + W.T

    def gain_matrix(self, block: int) -> np.ndarray:
        """``G[i, j]``: ``sum``-mode value between unit ``lo + i`` and the members of cohort ``cs + j``.

        The incremental heart of pair-value search (team gaps and pair values alike): the
        gain of moving a unit from cohort ``k1`` to ``k2`` is ``G[i, k2] - G[i, k1]``, of
        swapping units ``i`` (in ``k1``) and ``j`` (in ``k2``) it is
        ``G[i, k2] - G[i, k1] + G[j, k1] - G[j, k2] - 2 V[i, j]``. Built on first use, then
        kept up to date by every move in O(n_b). Only for ``sum`` mode.
        """
        if block in self._gain:
            return self._gain[block]
        p = self.problem
        if p.mode != "sum":
            raise CohortmatchError("gain_matrix is defined in 'sum' mode only")
        lo, hi = int(p.block_units[block]), int(p.block_units[block + 1])
        cs, ce = int(p.block_cohorts[block]), int(p.block_cohorts[block + 1])
        a = self.assignment[lo:hi]
        Z = np.zeros((hi - lo, ce - cs))
        placed = np.flatnonzero(a >= 0)
        Z[placed, a[placed] - cs] = 1.0
        G = self.pair_matrix(block) @ Z
        self._gain[block] = G
        return G

    def _update_gain(self, unit: int, k1: int, k2: int) -> None:
        p = self.problem
        b = int(p.unit_block[unit])
        G = self._gain.get(b)
        if G is None:
            return
        lo, hi = int(p.block_units[b]), int(p.block_units[b + 1])
        cs = int(p.block_cohorts[b])
        col = self._gain_column(b, unit, lo, hi)
        if k1 >= 0:
            G[:, k1 - cs] -= col
        if k2 >= 0:
            G[:, k2 - cs] += col

    def _gain_column(self, block: int, unit: int, lo: int, hi: int) -> np.ndarray:
        """Values between ``unit`` and every unit of its block (team gap + pair value)."""
        p = self.problem
        V = p.pair_values
        if isinstance(V, np.ndarray) and hi - lo == p.n_people and p.n_edges == 0:
            return V[p.unit_person[unit]]  # one block of everyone: a row view, no copy
        col = self._pair_row(unit, np.arange(lo, hi)) if V is not None else np.zeros(hi - lo)
        if p.n_edges:
            if not hasattr(self, "_tw"):
                self._tw = self._team_weights()
            col = col + self._tw[p.unit_team[unit], p.unit_team[lo:hi]]
        return col
