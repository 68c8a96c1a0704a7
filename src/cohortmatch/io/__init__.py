"""Files and DataFrames in and out: tables, the JSON request, plan export and groupings."""

from .export import PLAN_FORMATS, plan_rows, write_grouping, write_org, write_plan
from .grouping import (
    GroupingPlan,
    courses_of_grouping,
    example_grouping,
    grouping_plan,
    missed_gaps,
    start_problems,
)
from .request import Request, error_message, read_request, request_from_tables, request_schema
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

__all__ = [
    "PLAN_FORMATS",
    "Grouping",
    "GroupingPlan",
    "Request",
    "Table",
    "TableFile",
    "courses_of_grouping",
    "error_message",
    "example_grouping",
    "grouping_plan",
    "load_table",
    "missed_gaps",
    "plan_rows",
    "read_courses",
    "read_gaps",
    "read_grouping",
    "read_org",
    "read_people",
    "read_request",
    "read_teams",
    "request_from_tables",
    "request_schema",
    "select_participants",
    "start_problems",
    "write_grouping",
    "write_org",
    "write_plan",
]
