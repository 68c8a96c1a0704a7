"""Re-planning after the plan is published: keep every rule, move as few people as possible.

=====================  ==================================================================
module                 what it does
=====================  ==================================================================
:mod:`.run`            the front door, :func:`replan`
:mod:`.previous`       the published plan read against today's request
:mod:`.anchors`        which cohort continues which published cohort (stable ids)
:mod:`.local`          the fewest people who must leave one cohort
:mod:`.repair`         the repair with few moves, and a counting lower bound on moves
:mod:`.improve`        gap value with the stayers pinned (local search)
:mod:`.value_bound`    a proven bound on the gap value at the fewest moves (a linear program)
:mod:`.exact`          the CP-SAT model extended by who stays (exact move minimum)
:mod:`.changes`        what changed, person by person, and why
:mod:`.rounds`         programmes over rounds: held rounds and rounds to come
=====================  ==================================================================
"""

from .anchors import count_moves
from .rounds import split_rounds
from .run import REPLAN_SOLVERS, replan

__all__ = ["replan", "split_rounds", "count_moves", "REPLAN_SOLVERS"]
