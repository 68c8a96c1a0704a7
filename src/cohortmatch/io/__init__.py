"""Files and DataFrames in and out: tables, the JSON request, plan export and groupings."""

from .export import PLAN_FORMATS, plan_rows, write_changes, write_org, write_plan
from .grouping import GroupingPlan, courses_of_grouping, grouping_plan, missed_gaps
from .links import LINK_COLUMNS, Links, read_links
from .request import Request, read_request, request_from_tables, request_schema
from .tables import (
    Grouping,
    Table,
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
    "LINK_COLUMNS",
    "Links",
    "Request",
    "Table",
    "courses_of_grouping",
    "grouping_plan",
    "load_table",
    "missed_gaps",
    "plan_rows",
    "read_courses",
    "read_gaps",
    "read_grouping",
    "read_links",
    "read_org",
    "read_people",
    "read_request",
    "read_teams",
    "request_from_tables",
    "request_schema",
    "select_participants",
    "write_changes",
    "write_org",
    "write_plan",
]
