"""Solvers: each takes a compiled problem and returns an assignment (a SolverResult)."""

from .base import Budget, SolverResult, as_generator
from .heuristic import solve_heuristic

__all__ = ["Budget", "SolverResult", "as_generator", "solve_heuristic"]
