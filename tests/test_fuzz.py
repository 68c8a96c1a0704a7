"""Hostile input: every reader lets only CohortmatchError escape (a short fuzz run; the long one is
``benchmarks/fuzz.py``)."""

from __future__ import annotations

import pytest
from fuzzing import TARGETS, run_target
from hypothesis import HealthCheck, given, settings

#: Workbooks, archives and plans take longer than text.
EXAMPLES = {"xlsx": 40, "xlsx_bytes": 40, "numeric": 60, "previous_plan": 60, "zip_bomb": 60}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_reader_raises_only_library_errors(name):
    strategy, _ = TARGETS[name]

    @settings(max_examples=EXAMPLES.get(name, 120), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def fuzz(data):
        run_target(name, data)

    fuzz()


def test_a_crash_would_be_reported():
    """The harness can fail: an error that is not the library's escapes run_target."""
    from cohortmatch.io import read_request

    with pytest.raises(TypeError):
        read_request(3)  # type: ignore[arg-type]  # not a path or a dict: a caller's bug


@pytest.mark.parametrize(
    "target, data, match",
    [  # crashes the fuzz runs found (csv.Error, RecursionError, ValueError, OverflowError)
        ("csv", (b"id,team\np1," + b"x" * 140_000 + b"\n", "people"), "not readable as CSV"),
        ("json_file", b"[" * 50_000 + b"]" * 50_000, r"nesting depth \(50,000\) passes the limit"),
        ("json_file", b'{"org": ' + b"9" * 5000 + b"}", r"not a readable JSON document \(Value"),
        ("mdgplib_file", b"\x80", "not UTF-8 text"),
        ("mdgplib_text", "9" * 400 + " 2 ss 2 2 2 2\n", "more than 1024 TiB"),  # OverflowError
    ],
)
def test_found_crashes_are_library_errors(target, data, match):
    from fuzzing import TARGETS

    from cohortmatch.errors import CohortmatchError

    with pytest.raises(CohortmatchError, match=match):
        TARGETS[target][1](data)
