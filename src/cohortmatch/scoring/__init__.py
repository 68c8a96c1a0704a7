"""Scoring core: what a plan is worth, in full (:mod:`.score`) and incrementally (:mod:`.state`),
and proven upper bounds (:mod:`.bounds`).

This package is the single source of truth for the value of a plan: engines use
:class:`SearchState`, reports use :func:`score`, and tests assert they agree.
"""

from .bounds import upper_bound
from .score import Score, bridges, edge_gain, edge_value, pair_score, score, team_move_gain, team_move_gain_as
from .state import SearchState

__all__ = [
    "Score", "SearchState", "bridges", "edge_gain", "edge_value", "pair_score", "score",
    "team_move_gain", "team_move_gain_as", "upper_bound",
]
