"""cohortmatch: plan training cohorts that bridge the weak ties of an organisation.

Examples
--------
>>> import cohortmatch as cm
>>> org = cm.Organisation(
...     people=[cm.Person(id=f"p{i}", team=["marketing", "product"][i % 2]) for i in range(8)],
...     gaps=[cm.Gap(a="marketing", b="product", weight=3.0, purpose="repair")])
>>> courses = [cm.Course(id="presenting", min_size=4, max_size=4)]
>>> result = cm.plan(org, courses, time_limit=None, work_limit=500, seed=7)
>>> result.metrics.coverage
1.0
>>> cm.validate(result, cm.Request(org=org, courses=courses))
[]
"""

from . import datasets
from .compiled import CompiledProblem, compile_problem
from .errors import CohortmatchError, InfeasibleError, InputError, SizeLimitError, StoppedError
from .interactions import gaps_from_interactions, tie_strengths
from .io.grouping import score_grouping
from .model import Course, Gap, Mode, Organisation, Person, Policy, Team
from .pairs import PairGrouping, group_by_pairs
from .params import Solver
from .planner import plan
from .precompile import precompile
from .replanning import replan, split_rounds
from .request import Request
from .result import Bridge, Change, ChangeReason, Cohort, Explanation, Metrics, Plan, PlanStatus, Unassigned
from .scoring import Score, SearchState, score, upper_bound
from .synthetic import PRESETS, Preset, org_chart, org_statistics
from .validate import gap_partners, validate

__all__ = [
    "PRESETS",
    "Preset",
    "datasets",
    "gap_partners",
    "gaps_from_interactions",
    "org_chart",
    "org_statistics",
    "tie_strengths",
    "Bridge",
    "Change",
    "ChangeReason",
    "CohortmatchError",
    "Cohort",
    "CompiledProblem",
    "Course",
    "Explanation",
    "Gap",
    "InfeasibleError",
    "InputError",
    "Metrics",
    "Mode",
    "Organisation",
    "PairGrouping",
    "Person",
    "Plan",
    "PlanStatus",
    "Policy",
    "Request",
    "Score",
    "SearchState",
    "SizeLimitError",
    "StoppedError",
    "Solver",
    "Team",
    "Unassigned",
    "compile_problem",
    "group_by_pairs",
    "plan",
    "precompile",
    "replan",
    "score",
    "score_grouping",
    "split_rounds",
    "upper_bound",
    "validate",
]

__version__ = "0.1.0"
