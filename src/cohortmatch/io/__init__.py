"""Files and DataFrames in and out: tables, the JSON request, plan export and groupings."""

from .availability import AVAILABILITY_COLUMNS, check_available, read_availability
from .export import PLAN_FORMATS, plan_rows, write_changes, write_gaps, write_grouping, write_org, write_plan
from .grouping import (
    GroupingPlan,
    courses_of_grouping,
    example_grouping,
    grouping_plan,
    missed_gaps,
    score_grouping,
    start_problems,
)
from .links import LINK_COLUMNS, Links, read_links
from .request import Request, read_request, request_from_tables, request_schema
from .tables import (
    Grouping,
    Table,
    TableFile,
    load_table,
    read_courses,
    read_gaps,
    read_grouping,
    read_org,
    read_people,
    read_teams,
    select_participants,
)
from .ties import InteractionGaps, gaps_from_tables, read_interactions, read_need, read_purposes

__all__ = [
    "AVAILABILITY_COLUMNS",
    "PLAN_FORMATS",
    "Grouping",
    "GroupingPlan",
    "InteractionGaps",
    "LINK_COLUMNS",
    "Links",
    "Request",
    "Table",
    "TableFile",
    "check_available",
    "courses_of_grouping",
    "example_grouping",
    "gaps_from_tables",
    "grouping_plan",
    "load_table",
    "missed_gaps",
    "score_grouping",
    "plan_rows",
    "read_availability",
    "read_courses",
    "read_gaps",
    "read_grouping",
    "read_interactions",
    "read_links",
    "read_need",
    "read_org",
    "read_people",
    "read_purposes",
    "read_request",
    "read_teams",
    "request_from_tables",
    "request_schema",
    "select_participants",
    "start_problems",
    "write_changes",
    "write_gaps",
    "write_grouping",
    "write_org",
    "write_plan",
]
