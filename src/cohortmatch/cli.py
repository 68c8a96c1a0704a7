"""Command line: ``cohortmatch demo | plan | replan | score | gaps | validate | synth | schema``.

Exit codes: 0 ok, 2 bad input (the message names file, row and column), 3 no plan can
keep the hard rules, 4 ``validate`` found a plan that breaks hard rules, 141 the reader of
the output went away (``| head``). User errors print one message, never a traceback;
under ``--json`` the message is a JSON document on stdout, ``{"error": {...}}``. Warnings
(a column that is ignored) go to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from .errors import CohortmatchError, InfeasibleError, InputError, InputWarning
from .model import MAX_COUNT

__all__ = ["main", "EXIT_OK", "EXIT_INPUT", "EXIT_INFEASIBLE", "EXIT_BROKEN", "EXIT_PIPE"]

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_BROKEN, EXIT_PIPE = 0, 2, 3, 4, 141
DEFAULT_TIME_LIMIT = 10.0

#: The largest organisation ``synth`` and ``demo`` generate.
MAX_SYNTH_PEOPLE = 1_000_000
#: Names a ``--sheet``/``--header-row`` value may start with (``people=3``).
TABLE_OPTIONS = ("people", "gaps", "courses", "teams", "availability", "grouping", "start")


class _UsageError(Exception):
    """A command line argparse refuses: the usage of the (sub)command and the message."""

    def __init__(self, usage: str, message: str):
        super().__init__(message)
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    """argparse whose errors reach :func:`main`, to exit with code 2 like every input error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(self.format_usage(), message)


def _whole(low: int, high: int | None = MAX_COUNT) -> Callable[[str], int]:
    """An argparse type: a whole number in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number; got {text!r}") from None
        if value < low or (high is not None and value > high):
            span = f">= {low}" if high is None else f"in {low}..{high}"
            raise argparse.ArgumentTypeError(f"must be {span}; got {value}")
        return value

    return parse


def _real(low: float, high: float = math.inf, *, open_low: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in ``[low, high]`` (``(low, high]`` if ``open_low``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
        too_low = value <= low if open_low else value < low
        if not math.isfinite(value) or too_low or value > high:
            span = (f"> {low:g}" if open_low else f">= {low:g}") + (
                f" and <= {high:g}" if math.isfinite(high) else "")
            raise argparse.ArgumentTypeError(f"must be a finite number {span}; got {text!r}")
        return value

    return parse


def _per_table(value: Callable[[str], Any]) -> Callable[[str], tuple[str | None, Any]]:
    """An argparse type: ``people=3`` -> ``("people", 3)``; ``3`` -> ``(None, 3)`` (every table)."""

    def parse(text: str) -> tuple[str | None, Any]:
        name, sep, rest = text.partition("=")
        if sep and name.strip().lower() in TABLE_OPTIONS:
            return name.strip().lower(), value(rest.strip())
        return None, value(text.strip())

    return parse


def _add_request_args(p: argparse.ArgumentParser, *, courses_required: bool) -> None:
    src = p.add_argument_group("input tables (.csv or .xlsx)")
    src.add_argument("--people", metavar="FILE", help="people: id, team, manager, attributes...")
    src.add_argument("--gaps", metavar="FILE", help="gaps: team_a, team_b, weight, purpose")
    src.add_argument("--courses", metavar="FILE",
                     help="courses: id, min_size, max_size, cohorts, participants, rounds, pinned, slots, "
                     "max_cohorts_per_slot, seats, required"
                     + ("" if courses_required else " (default: as the grouping is split)"))
    src.add_argument("--teams", metavar="FILE", help="teams: id, name, parent (optional)")
    src.add_argument("--availability", metavar="FILE",
                     help="when people can come: person, slot (one row per slot a person can attend)")
    src.add_argument("--links", metavar="FILE",
                     help="who must be together or apart: person_a, person_b, kind (together|apart)")
    src.add_argument("--request", metavar="FILE.json",
                     help="the whole request as one JSON document instead of the tables "
                     "(see `cohortmatch schema`)")
    src.add_argument("--sheet", action="append", type=_per_table(str), metavar="[TABLE=]NAME",
                     help="the sheet of .xlsx inputs to read (default: the one named like the "
                     "table, else the first); TABLE= limits it to one table, e.g. people=Staff")
    src.add_argument("--header-row", action="append", type=_per_table(_whole(1)),
                     metavar="[TABLE=]N",
                     help="the row holding the column names (default: the first row with the "
                     "required columns), e.g. --header-row people=3")
    pol = p.add_argument_group("policy (overrides the request's)")
    pol.add_argument("--mode", "--coverage", dest="mode", choices=("cover", "diminishing", "sum"),
                     help="how bridging a gap several times counts (--coverage is its former name)")
    pol.add_argument("--decay", type=_real(0.0, 1.0), help="diminishing mode: k-th bridge worth decay^(k-1)")
    pol.add_argument("--tie-break", dest="tie_break", choices=("diminishing", "none"),
                     help="cover mode: among plans of equal cover value prefer gaps bridged again "
                     "(diminishing, the default) or not (none)")
    pol.add_argument("--max-per-team", type=_whole(1), metavar="N",
                     help="at most N members of one team per cohort")
    pol.add_argument("--fit-weight", type=_real(0.0), metavar="W",
                     help="with seats: the objective adds W x the interest of every person placed")
    pol.add_argument("--max-courses-per-person", type=_whole(1), metavar="K",
                     help="a person gets a seat in at most K of the courses")
    pol.add_argument("--max-meetings", type=_whole(1), metavar="N",
                     help="over several rounds, no pair meets more than N times")
    pol.add_argument("--allow-managers-with-reports", action="store_true",
                     help="let a manager and their direct reports share a cohort")
    pol.add_argument("--balance", metavar="ATTRS",
                     help="attributes each cohort holds in proportion, e.g. level,location "
                     "(bin a number: tenure=0:2:5:10)")
    pol.add_argument("--balance-mode", choices=("hard", "soft"),
                     help="soft: minimise the deviation from proportion first, then gap value")
    pol.add_argument("--no-isolation", metavar="ATTRS",
                     help="attributes nobody is alone with in a cohort, e.g. location")
    pol.add_argument("--at-most", action="append", metavar="ATTR=VALUE:N",
                     help="at most N people with the value per cohort, e.g. level=director:1")
    pol.add_argument("--at-least", action="append", metavar="ATTR=VALUE:N",
                     help='at least N people with the value per cohort, e.g. "role=first aider:1"')
    p.add_argument("--json", action="store_true", help="print a machine-readable JSON result")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cohortmatch", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo", help="plan cohorts for an embedded synthetic organisation")
    demo.add_argument("--people", type=_whole(1, MAX_SYNTH_PEOPLE), default=2000, metavar="N",
                      help="size of the synthetic organisation (default 2000)")
    demo.add_argument("--time-limit", type=_real(0.0, open_low=True), default=10.0, metavar="S")
    demo.add_argument("--seed", type=_whole(0, None), default=7)

    plan = sub.add_parser("plan", help="plan cohorts from tables or a JSON request")
    _add_request_args(plan, courses_required=True)
    _add_run_args(plan)
    plan.add_argument("--out", metavar="FILE",
                      help="write the plan: .json, .csv, .xlsx or .ics (the timetable as a calendar)")
    plan.add_argument("--report", metavar="DIR", help="write report.html, report.md and plots")
    plan.add_argument("--waitlist", metavar="FILE",
                      help="write the ranked waitlist of courses with seats (course, rank, person, "
                      "reason): .csv or .xlsx")
    plan.add_argument("--start", metavar="GROUPING",
                      help="improve a hand-made grouping (columns person, cohort[, course, round]); "
                      "it may leave people out: they are planned")
    plan.add_argument("--quiet", action="store_true", help="no progress display")
    plan.add_argument("--compare-without-mix", action="store_true",
                      help="also plan without the mix rules (half the time each) to state their price")

    replan = sub.add_parser("replan", help="re-plan a published plan for today's request, moving few people")
    replan.add_argument("--plan", required=True, metavar="FILE.json",
                        help="the published plan (written by `plan --out FILE.json` or `replan`)")
    _add_request_args(replan, courses_required=True)
    replan.add_argument("--held-rounds", type=_whole(0), default=0, metavar="N",
                        help="the first N rounds of the published plan took place: keep them as "
                        "history and re-plan the others (the courses keep their full number of rounds)")
    replan.add_argument("--max-moves", type=_whole(0), metavar="N",
                        help="move at most N people (default: as few as the rules need)")
    replan.add_argument("--solver", choices=("auto", "heuristic", "cpsat"), default="auto")
    replan.add_argument("--seed", type=_whole(0, None), default=None)
    replan.add_argument("--time-limit", type=_real(0.0, open_low=True), default=10.0, metavar="S",
                        help="seconds to search (default 10)")
    replan.add_argument("--out", metavar="FILE", help="write the new plan: .json, .csv, .xlsx or .ics")
    replan.add_argument("--changes", metavar="FILE",
                        help="write who left, joined or moved, and why: .csv or .xlsx")

    score = sub.add_parser("score", help="evaluate a hand-made grouping: metrics, bound, misses")
    _add_request_args(score, courses_required=False)
    score.add_argument("--grouping", required=True, metavar="FILE",
                       help="columns person, cohort and optionally course, round")
    score.add_argument("--report", metavar="DIR", help="write report.html, report.md and plots")
    score.add_argument("--top", type=_whole(0), default=10, metavar="N",
                       help="how many missed gaps, broken rules and left-out people to list "
                       "(default 10)")

    synth = sub.add_parser("synth", help="write a synthetic organisation as tables, and an "
                           "example hand-made grouping")
    synth.add_argument("--people", type=_whole(1, MAX_SYNTH_PEOPLE), required=True, metavar="N")
    synth.add_argument("--preset", default="silos", help="silos, matrix, merger or remote")
    synth.add_argument("--seed", type=_whole(0, None), default=None)
    synth.add_argument("--out", required=True, metavar="DIR")
    synth.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    synth.add_argument("--json", action="store_true", help="print a machine-readable summary")

    schema = sub.add_parser("schema", help="print the JSON Schema of a request (or of a plan)")
    schema.add_argument("--plan", action="store_true", help="the schema of a plan document")
    _add_gaps_parser(sub)
    _add_validate_parser(sub)
    return parser


def _add_gaps_parser(sub: Any) -> None:
    gaps = sub.add_parser("gaps", help="turn an interaction log into connection gaps between teams")
    src = gaps.add_argument_group("input tables (.csv or .xlsx)")
    src.add_argument("--interactions", required=True, metavar="FILE",
                     help="person_a, person_b[, count] (or team_a, team_b[, count])")
    src.add_argument("--people", required=True, metavar="FILE", help="people: id, team, ...")
    src.add_argument("--teams", metavar="FILE", help="teams: id, name, parent (optional)")
    src.add_argument("--need", metavar="FILE",
                     help="team_a, team_b[, need]: pairs that must work together (default: all)")
    src.add_argument("--purpose", default="build", metavar="NAME|FILE",
                     help="a purpose for every gap (default build) or a table team_a, team_b, purpose")
    gaps.add_argument("--s0", type=_real(0.0, open_low=True), metavar="S",
                      help="tie strength that halves a gap (default: the median strength)")
    gaps.add_argument("--min-weight", type=_real(0.0), default=0.0, metavar="W",
                      help="leave out gaps of at most this weight (default 0)")
    gaps.add_argument("--out", metavar="FILE", help="write the gaps: .csv or .xlsx")
    gaps.add_argument("--top", type=_whole(0), default=20, metavar="N",
                      help="how many ties and gaps to print (default 20)")
    gaps.add_argument("--json", action="store_true", help="print a machine-readable JSON result")


def _add_validate_parser(sub: Any) -> None:
    val = sub.add_parser("validate", help="check a plan file against the hard rules (exit 4 if broken)")
    val.add_argument("--plan", required=True, metavar="PLAN.json", help="a plan written by plan --out")
    _add_request_args(val, courses_required=True)
    val.add_argument("--history", action="append", default=[], metavar="PLAN.json",
                     help="a plan of an earlier round the plan was made with (repeat for each)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (``cohortmatch --help`` lists the verbs)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    with warnings.catch_warnings():
        warnings.simplefilter("always", InputWarning)
        warnings.showwarning = _warning_printer(as_json)
        try:
            args = _parser().parse_args(argv)
            code = int(_VERBS[args.verb](args))
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return code
        except _UsageError as err:
            if not as_json:
                sys.stderr.write(err.usage)
            return _fail(str(err), EXIT_INPUT, as_json)
        except InfeasibleError as err:
            return _fail(str(err), EXIT_INFEASIBLE, as_json, conflicts=err.conflicts)
        except CohortmatchError as err:
            return _fail(str(err), EXIT_INPUT, as_json)
        except BrokenPipeError:
            _silence_stdout()
            return EXIT_PIPE
        except (ImportError, OSError) as err:
            return _fail(str(err), EXIT_INPUT, as_json)
        except KeyboardInterrupt:
            return _fail("interrupted", 130, as_json)


def _silence_stdout() -> None:
    """The reader of stdout is gone: send what is left (the flush at exit) nowhere."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file (tests capture it): nothing to flush
        pass


def _fail(message: str, code: int, as_json: bool, *, conflicts: Sequence[str] = ()) -> int:
    """Report an error (one line, or a JSON document on stdout under ``--json``)."""
    if as_json:
        doc: dict[str, Any] = {"exit_code": code, "message": message}
        if conflicts:
            doc["conflicts"] = list(conflicts)
        print(json.dumps({"error": doc}, indent=2))
    else:
        sys.stderr.write(f"cohortmatch: error: {message}\n")
    return code


def _warning_printer(as_json: bool) -> Callable[..., None]:
    """``warnings.showwarning`` for the command line: one line on stderr per warning."""
    shown = warnings.showwarning

    def show(message: Any, category: Any, *rest: Any, **kw: Any) -> None:
        if not issubclass(category, InputWarning):
            shown(message, category, *rest, **kw)
        elif as_json:
            sys.stderr.write(json.dumps({"warning": str(message)}) + "\n")
        else:
            sys.stderr.write(f"cohortmatch: warning: {message}\n")

    return show


# --- helpers ------------------------------------------------------------------------------


def _policy(args: argparse.Namespace, base: Any) -> Any:
    from .model import Policy

    update: dict[str, Any] = {}
    for name in ("mode", "decay", "tie_break", "max_per_team", "max_meetings", "fit_weight",
                 "max_courses_per_person"):
        value = getattr(args, name)
        if value is not None:
            update[name] = value
    if args.allow_managers_with_reports:
        update["separate_manager_and_reports"] = False
    update.update(_mix_options(args))
    if not update:
        return base
    try:
        return Policy.model_validate({**base.model_dump(), **update})
    except InputError as err:
        raise InputError(f"policy options: {err}") from None


#: The mix rules' policy fields and their options.
_MIX = {"balance": "--balance", "balance_mode": "--balance-mode", "no_isolation": "--no-isolation",
        "at_most": "--at-most", "at_least": "--at-least"}


def _mix_options(args: argparse.Namespace) -> dict[str, Any]:
    """The mix options given, as policy fields (syntax errors name the option)."""
    from .errors import InputError

    out: dict[str, Any] = {}
    if args.balance is not None:
        balance: dict[str, Any] = {}
        for item in _names(args.balance, "--balance"):
            name, _, edges = item.partition("=")
            try:
                balance[name.strip()] = [float(e) for e in edges.split(":")] if edges else None
            except ValueError:
                raise InputError(f"--balance {item}: bins are numbers, e.g. tenure=0:2:5:10") from None
        out["balance"] = balance
    if args.balance_mode is not None:
        out["balance_mode"] = args.balance_mode
    if args.no_isolation is not None:
        out["no_isolation"] = _names(args.no_isolation, "--no-isolation")
    for field in ("at_most", "at_least"):
        given = getattr(args, field)
        if given is None:
            continue
        limits: dict[str, dict[str, int]] = {}
        option = _MIX[field]
        for item in (x for arg in given for x in _names(arg, option)):
            name, eq, rest = item.partition("=")
            value, colon, count = rest.rpartition(":")
            if not (eq and colon and name.strip() and count.strip().isdigit()):
                raise InputError(f"{option} {item!r}: write ATTRIBUTE=VALUE:COUNT, e.g. level=director:1")
            limits.setdefault(name.strip(), {})[value.strip()] = int(count)
        out[field] = limits
    return out


def _names(text: str, option: str) -> list[str]:
    from .errors import InputError

    names = [x.strip() for x in text.split(",") if x.strip()]
    if not names:
        raise InputError(f"{option}: give at least one attribute")
    return names


def _load(args: argparse.Namespace, *, need_courses: bool) -> tuple[Any, Any, Any]:
    """(org, courses or None, policy) from --request or the tables."""
    from .categories import check_mix
    from .errors import InputError
    from .io import check_available, read_availability, read_courses, read_links, read_org, read_request
    from .model import Policy

    courses: Any
    if args.request:
        clashes = [f"--{n}" for n in ("people", "gaps", "courses", "teams") if getattr(args, n)]
        if clashes:
            raise InputError(f"--request holds the whole request; drop {', '.join(clashes)}")
        req = read_request(args.request)
        org, courses, policy = req.org, req.courses, _policy(args, req.policy)
        args.request_run = req.run.kwargs()  # the request's run section, under the options
    else:
        missing = [f"--{n}" for n in ("people", "gaps") if not getattr(args, n)]
        if need_courses and not args.courses:
            missing.append("--courses")
        if missing:
            raise InputError(f"missing {', '.join(missing)} (or give --request FILE.json)")
        org = read_org(_source(args, "people"), _source(args, "gaps"), _source(args, "teams"))
        courses = read_courses(_source(args, "courses"), people=org.people) if args.courses else None
        policy = _policy(args, Policy())
    if args.availability:
        if courses is None:
            raise InputError("--availability needs --courses (their slots)")
        org = read_availability(_source(args, "availability"), org, courses)
    if not args.request and courses is not None:
        check_available(_source(args, "people"), org, courses)
    if args.links:
        policy = read_links(args.links, people=org.people).apply(policy)
    check_mix(policy, org.people, {f: o for f, o in _MIX.items() if getattr(args, f) is not None})
    return org, courses, policy


def _source(args: argparse.Namespace, table: str) -> Any:
    """The file given for ``table`` (``--people`` ...), with its ``--sheet``/``--header-row``."""
    from .io import TableFile

    path = getattr(args, table)
    if path is None:
        return None
    is_xlsx = Path(path).suffix.lower() in (".xlsx", ".xlsm")
    layout: dict[str, Any] = {}
    for key in ("sheet", "header_row"):
        for name, value in sorted(getattr(args, key) or (), key=lambda v: v[0] is not None):
            if name == table or (name is None and (key == "header_row" or is_xlsx)):
                layout[key] = value  # this table's, or every table's (a sheet: every workbook's)
    return TableFile(path, **layout) if layout else path


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextmanager
def progress_display(
    time_limit: float | None, *, enabled: bool | None = None, console: Any = None
) -> Iterator[Callable[[float, float], None] | None]:
    """A ``progress(elapsed, best)`` callback drawing a rich bar (time left, best objective).

    ``enabled=None`` switches it on only when stdout is a terminal and rich is installed;
    otherwise the context yields ``None`` and draws nothing.
    """
    if enabled is None:
        enabled = _is_terminal(sys.stdout)
    if not enabled:
        yield None
        return
    try:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    except ImportError:  # pragma: no cover - rich is the `cli` extra
        yield None
        return
    console = console or Console(stderr=True)
    total = float(time_limit) if time_limit else 1.0
    bar = Progress(TextColumn("planning"), BarColumn(), TextColumn("{task.fields[best]}"),
                   TimeRemainingColumn(), TextColumn("left"), console=console, transient=True)
    with bar:
        task = bar.add_task("plan", total=total, best="best objective: -")

        def update(elapsed: float, best: float) -> None:
            bar.update(task, completed=min(elapsed, total), best=f"best objective: {best:,.6g}")

        yield update


def _metrics(plan: Any) -> dict[str, Any]:
    return plan.metrics.model_dump()


def _print_metrics(plan: Any, out: Callable[[str], None]) -> None:
    m = plan.metrics
    out(f"coverage   {m.coverage:.1%} of the gap weight ({m.bridged_gaps} of {m.total_gaps} gaps)")
    out(f"objective  {m.objective:,.6g} ({m.mode} mode)")
    out(f"bound      {m.bound:,.6g} (proven upper bound; within {m.gap_to_bound:.1%} of it)")
    if m.total is not None and m.fit is not None and m.total_bound is not None:
        out(f"fit        {m.fit:,.6g} (interest of the people placed; x fit_weight = {m.fit_value:,.6g})")
        out(f"total      {m.total:,.6g} = gap value + fit value (proven bound {m.total_bound:,.6g})")
    if m.met_gap_partner is not None and m.median_gap_partners is not None:
        out(f"people     {m.met_gap_partner:.1%} of participants meet a gap partner "
            f"(median {m.median_gap_partners:g} each)")


# --- verbs --------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(people=args.people, time_limit=args.time_limit, seed=args.seed)
    return EXIT_OK


def _plan(args: argparse.Namespace) -> int:
    from .display import people_and_places
    from .io import write_plan, write_waitlist
    from .planner import plan as run_plan
    from .report import write_report

    if args.out:
        _check_out(args.out)
    if args.report:
        _check_report(args.report)
    if args.waitlist:
        _check_table_out("--waitlist", args.waitlist)
    org, courses, policy = _load(args, need_courses=True)
    if args.out:
        _check_calendar(args.out, courses)
    given = _start(args, org, courses, policy) if args.start else None
    start = given.plan if given is not None else None
    if given is not None:
        courses = given.courses  # cohort counts follow the grouping where courses leave them open
    show = not (args.json or args.quiet)
    t0 = time.perf_counter()
    run = _run_settings(args)
    with _executor(args.scheduler) as executor, \
            progress_display(run["time_limit"], enabled=None if show else False) as progress:
        result = run_plan(org, courses, policy=policy, start=start, progress=progress,
                          compare_without_mix=args.compare_without_mix, executor=executor, **run)
    elapsed = time.perf_counter() - t0
    written = str(write_plan(result, args.out)) if args.out else None
    waitlist = str(write_waitlist(result, args.waitlist)) if args.waitlist else None
    report = None
    if args.report:
        report = str(write_report(result, org, args.report, title="Cohort plan")["html"])
    people, places = people_and_places(result)
    if args.json:
        doc: dict[str, Any] = {
            "metrics": _metrics(result), "status": result.status, "solver": result.solver,
            "elapsed": round(elapsed, 3), "seed": run["seed"], "cohorts": len(result.cohorts),
            "people": people, "places": places,
            "unassigned": len(result.unassigned), "out": written, "report": report,
        }
        if waitlist is not None:
            doc["waitlist"] = waitlist
        if run["time_limit"] is None:  # a repeatable run prints repeatable bytes
            del doc["elapsed"]
        if given is not None:
            doc["start"] = {"metrics": _metrics(given.plan),
                            "improvement": result.metrics.objective - given.plan.metrics.objective,
                            "violations": given.violations,
                            "left_out": len(given.plan.unassigned), "notes": list(given.notes)}
        if result.mix is not None:
            doc["mix"] = {"deviation": result.mix.deviation, "without_mix": result.mix.without_mix}
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    print(f"planned {people} people ({places} places) into {len(result.cohorts)} cohorts "
          f"({len(courses)} course(s)) in {elapsed:.1f} s")
    _print_metrics(result, print)
    if result.mix is not None:
        price = result.mix.price(result.metrics.objective)
        print(f"mix        {', '.join(result.mix.attributes)} counted; balance deviation "
              f"{result.mix.deviation}" + (f"; {price}" if price else ""))
    if given is not None:
        _print_start(given, result, args.start)
    if written:
        print(f"plan written to {written}")
    if waitlist:
        print(f"waitlist written to {waitlist}")
    if report:
        print(f"report written to {report}")
    return EXIT_OK


def _add_run_args(p: argparse.ArgumentParser) -> None:
    """``plan``'s search settings: engine, budgets, threads, seed."""
    from .planner import SOLVERS

    run = p.add_argument_group("search")
    run.add_argument("--solver", choices=SOLVERS, default=None,
                     help="the engine (default auto: exact CP-SAT when small, else lns)")
    run.add_argument("--time-limit", type=_real(0.0, open_low=True), default=None, metavar="S",
                     help="seconds to search (default 10; none with --work-limit alone)")
    run.add_argument("--work-limit", type=_whole(0, None), default=None, metavar="N",
                     help="deterministic budget in evaluated moves; without --time-limit the "
                     "run is repeatable (seed 0 unless --seed)")
    run.add_argument("--workers", type=_whole(1), default=None, metavar="N",
                     help="threads for CP-SAT and partition search (default: every core; 1 "
                     "without a time limit)")
    run.add_argument("--seed", type=_whole(0, None), default=None)
    run.add_argument("--decompose", choices=("auto", "always", "never"), default=None,
                     help="plan divisions whose gaps stay inside them as independent blocks (default "
                     "auto: when no rule links them and the request is large)")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="a Dask scheduler (tcp://host:8786) to run partition search's tasks on; set "
                     "--workers to the cluster's threads (needs cohortmatch[distributed])")


@contextmanager
def _executor(address: str | None) -> Iterator[Any]:
    """The executor of a Dask scheduler at ``address`` for as long as the run lasts (None: none)."""
    if address is None:
        yield None
        return
    try:
        from dask.distributed import Client
    except ImportError:
        raise InputError('--scheduler needs the distributed extra: pip install "cohortmatch[distributed]"') from None
    try:
        client = Client(address, timeout=30)
    except (OSError, ValueError) as err:
        raise InputError(f"--scheduler: cannot connect to {address!r}: {err}") from None
    with client:
        yield client.get_executor()


def _run_settings(args: argparse.Namespace) -> dict[str, Any]:
    """``plan(...)`` keywords from the search options, then the request's ``run`` section.

    Without a time limit: 10 s, unless a work limit is given, which makes the run
    repeatable (no wall clock; seed 0 unless a seed says otherwise).
    """
    section = getattr(args, "request_run", {})
    given = {k: getattr(args, k) for k in ("solver", "time_limit", "work_limit", "workers", "seed", "decompose")}
    run = {k: v if v is not None else section.get(k) for k, v in given.items()}
    run["solver"] = run["solver"] or "auto"
    run["decompose"] = run["decompose"] or "auto"
    if run["time_limit"] is None and run["work_limit"] is None:
        run["time_limit"] = DEFAULT_TIME_LIMIT
    if run["time_limit"] is None and run["seed"] is None:
        run["seed"] = 0
    if "on_infeasible" in section:
        run["on_infeasible"] = section["on_infeasible"]
    return run


def _replan(args: argparse.Namespace) -> int:
    from .io import read_request, write_changes, write_plan
    from .replanning import replan, split_rounds
    from .request import Request

    if args.out:
        _check_out(args.out)
    if args.changes:
        _check_table_out("--changes", args.changes)
    previous = _read_plan(args.plan, "--plan")
    org, courses, policy = _load(args, need_courses=True)
    history = read_request(args.request).history if args.request else ()
    if args.held_rounds:
        held, previous = split_rounds(previous, args.held_rounds)
        courses = [_remaining(c, args.held_rounds) for c in courses]
        history = (*history, held)
    request = Request(org=org, courses=tuple(courses), policy=policy, history=tuple(history))
    t0 = time.perf_counter()
    result = replan(previous, request, max_moves=args.max_moves, solver=args.solver,
                    time_limit=args.time_limit, seed=args.seed)
    elapsed = time.perf_counter() - t0
    written = str(write_plan(result, args.out)) if args.out else None
    changes = str(write_changes(result, args.changes)) if args.changes else None
    counts: dict[str, int] = {}
    for c in result.changes:
        key = (c.rule or "rules") if c.reason == "rule" else str(c.reason)
        counts[key] = counts.get(key, 0) + 1
    m = result.metrics
    if args.json:
        print(json.dumps({"moved": m.moved, "moves_bound": m.moves_bound, "changes": counts,
                          "emptied_cohorts": list(result.emptied_cohorts), "metrics": _metrics(result),
                          "status": result.status, "solver": result.solver, "elapsed": round(elapsed, 3),
                          "seed": args.seed, "out": written, "changes_file": changes}, indent=2))
        return EXIT_OK
    why = ", ".join(f"{n} to keep {k}" if k != "gap" else f"{n} for the gap value"
                    for k, n in sorted(counts.items()) if k not in ("left", "joined"))
    proof = "the fewest possible" if m.moved == m.moves_bound else f"at least {m.moves_bound} needed"
    print(f"re-planned in {elapsed:.1f} s: {m.moved} people moved ({proof})" + (f": {why}" if why else ""))
    print(f"{counts.get('joined', 0)} joined, {counts.get('left', 0)} left; {len(result.cohorts)} cohorts"
          + (f", emptied: {', '.join(result.emptied_cohorts)}" if result.emptied_cohorts else ""))
    _print_metrics(result, print)
    if written:
        print(f"plan written to {written}")
    if changes:
        print(f"changes written to {changes}")
    return EXIT_OK


def _remaining(course: Any, held: int) -> Any:
    """A course with its first ``held`` rounds taken away."""
    from .errors import InputError

    if course.rounds <= held:
        raise InputError(f"--held-rounds {held}: course {course.id!r} has only {course.rounds} round(s)")
    return course.model_copy(update={"rounds": course.rounds - held})


def _check_out(path: str) -> None:
    from .errors import InputError
    from .io import PLAN_FORMATS

    if Path(path).suffix.lower() not in PLAN_FORMATS:
        raise InputError(f"--out {path}: use a file ending in {', '.join(PLAN_FORMATS)}")
    _check_folder("--out", path)


def _check_table_out(option: str, path: str) -> None:
    """Before any work: a table output is ``.csv`` or ``.xlsx``, in a folder that exists."""
    from .errors import InputError

    if Path(path).suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"{option} {path}: use a file ending in .csv or .xlsx")
    _check_folder(option, path)


def _check_calendar(path: str, courses: Any) -> None:
    """Before planning: an ``.ics`` output needs courses with ISO 8601 date-time slots."""
    from .errors import InputError
    from .io.calendar import slot_time

    if Path(path).suffix.lower() != ".ics":
        return
    slots = sorted({s for c in courses for s in c.slots})
    if not slots:
        raise InputError(f"--out {path}: a calendar needs courses with 'slots'")
    for s in slots:
        try:
            slot_time(s)
        except InputError as err:
            raise InputError(f"--out {path}: {err}") from None


def _check_report(directory: str) -> None:
    if Path(directory).is_file():
        from .errors import InputError

        raise InputError(f"--report {directory}: is a file; name a folder for the report")
    _check_folder("--report", directory)


def _check_folder(option: str, path: str) -> None:
    """Before any work: the folder an output goes into must exist (none is created)."""
    from .errors import InputError
    from .io.export import check_folder

    try:
        check_folder(path)
    except InputError as err:
        raise InputError(f"{option} {err}") from None


def _start(args: argparse.Namespace, org: Any, courses: Any, policy: Any) -> Any:
    """The ``--start`` grouping as a plan of the request, or an error if it cannot start one."""
    from .errors import InputError
    from .io import grouping_plan, read_grouping, start_problems

    given = grouping_plan(read_grouping(_source(args, "start")), org, courses, policy)
    problems = start_problems(given)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InputError(f"{args.start}: the grouping cannot be a start plan: "
                         + "; ".join(problems[:3]) + more)
    return given


def _print_start(given: Any, result: Any, source: str) -> None:
    before, after = given.plan.metrics, result.metrics
    for note in given.notes:
        print(f"{source}: {note}")
    broken = len(given.violations)
    left = len(given.plan.unassigned)
    print(f"hand-made grouping: coverage {before.coverage:.1%}, objective {before.objective:,.6g}; "
          + (f"it breaks {broken} hard rule(s) (the plan keeps them all)" if broken
             else "it keeps every hard rule")
          + (f"; it leaves out {left} place(s) (the plan fills them)" if left else ""))
    print(f"the plan adds {after.objective - before.objective:+,.6g} "
          f"({after.coverage - before.coverage:+.1%} coverage)")
    for note in result.notes:
        if note.startswith("the start plan"):
            print(f"note: {note}")


def _print_list(items: Sequence[str], top: int) -> None:
    for item in items[:top]:
        print(f"  - {item}")
    if len(items) > top:
        print(f"  - ... and {len(items) - top} more")


def _left_out(plan: Any) -> list[str]:
    """The places a plan leaves empty, one line per course round with the first few people."""
    by_block: dict[tuple[str, int], list[str]] = {}
    for u in plan.unassigned:
        by_block.setdefault((u.course, u.round), []).append(u.person)
    return [f"course {course!r} round {r}: {len(ids)} ({', '.join(ids[:5])}"
            + (", ..." if len(ids) > 5 else "") + ")"
            for (course, r), ids in by_block.items()]


def _score(args: argparse.Namespace) -> int:
    from .display import people_and_places, team_labels
    from .io import grouping_plan, missed_gaps, read_grouping
    from .report import write_report

    if args.report:
        _check_report(args.report)
    org, courses, policy = _load(args, need_courses=False)
    given = grouping_plan(read_grouping(_source(args, "grouping")), org, courses, policy)
    plan = given.plan
    missed = missed_gaps(plan, org)
    report = None
    if args.report:
        report = str(write_report(plan, org, args.report, title="Hand-made grouping",
                                  labels=given.labels)["html"])
    cohorts: list[dict[str, Any]] = [
        {"label": given.labels.get(c.id, c.id), "id": c.id, "course": c.course, "round": c.round,
         "size": len(c.members), "teams": len(set(c.teams)), "bridges": len(c.bridges)}
        for c in plan.cohorts
    ]
    courses_from = "grouping" if courses is None else "request"
    people, places = people_and_places(plan)
    named = {m for c in plan.cohorts for m in c.members}
    outside = [p.id for p in org.people if p.id not in named]
    if args.json:
        doc = {
            "metrics": _metrics(plan),
            "people": people, "places": places,
            "violations": given.violations,
            "unassigned": [u.model_dump() for u in plan.unassigned],
            "people_not_in_grouping": outside,
            "missed_gaps": [{"team_a": a, "team_b": b, "weight": w, "purpose": p}
                            for a, b, w, p in missed],
            "cohorts": cohorts,
            "courses": [c.model_dump(exclude={"participants"}) for c in given.courses],
            "courses_from": courses_from,
            "notes": list(given.notes),
            "report": report,
        }
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    print(f"grouping {args.grouping}: {len(plan.cohorts)} cohorts, {people} people in "
          f"{places} places")
    for note in given.notes:
        print(f"  {note}")
    _print_metrics(plan, print)
    if courses is None:
        shapes = ", ".join(f"{c.id!r} {c.cohorts} cohorts of {c.min_size}-{c.max_size}"
                           for c in given.courses)
        print(f"courses    as the grouping is split ({shapes}), so the bound is this split's; "
              "give --courses for your request's")
        if outside:
            print(f"leaves out {len(outside)} of the organisation's {len(org.people)} people "
                  f"({', '.join(outside[:5])}{', ...' if len(outside) > 5 else ''})")
    if given.violations:
        print(f"breaks {len(given.violations)} hard rule(s):")
        _print_list(given.violations, args.top)
    else:
        print("keeps every hard rule")
    if plan.unassigned:
        print(f"leaves out {len(plan.unassigned)} place(s) of the request:")
        _print_list(_left_out(plan), args.top)
    if missed:
        print(f"misses {len(missed)} gap(s), weight {sum(m[2] for m in missed):g}; "
              f"the heaviest:")
        name = team_labels(org)
        _print_list([f"{name[a]} <-> {name[b]}: weight {w:g}, {p}" for a, b, w, p in missed],
                    args.top)
    else:
        print("bridges every gap")
    if report:
        print(f"report written to {report}")
    return EXIT_OK


def _synth(args: argparse.Namespace) -> int:
    from .io import example_grouping, write_grouping, write_org
    from .synthetic import org_chart

    org = org_chart(args.people, preset=args.preset, seed=args.seed)
    paths = write_org(org, args.out, fmt=args.format)
    paths["grouping"] = write_grouping(example_grouping(org),
                                       Path(args.out) / f"grouping.{args.format}")
    if args.json:
        print(json.dumps({"people": len(org.people), "teams": len(org.teams),
                          "gaps": len(org.gaps), "files": {k: str(v) for k, v in paths.items()}},
                         indent=2))
    else:
        print(f"synthetic organisation ({args.preset}): {len(org.people)} people, "
              f"{len(org.teams)} teams, {len(org.gaps)} gaps")
        for path in paths.values():
            print(f"  wrote {path}")
        print(f"  ({paths['grouping'].name}: an example hand-made grouping, people in export "
              "order in cohorts of about 12, for `cohortmatch score` and `plan --start`)")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from .io import request_schema
    from .result import Plan

    schema = Plan.model_json_schema() if args.plan else request_schema()
    print(json.dumps(schema, indent=2))
    return EXIT_OK


def _gaps(args: argparse.Namespace) -> int:
    from .io import gaps_from_tables, write_gaps

    if args.out:
        _check_table_out("--out", args.out)
    found = gaps_from_tables(args.interactions, args.people, teams=args.teams, need=args.need,
                             purpose=args.purpose, s0=args.s0, min_weight=args.min_weight)
    written = str(write_gaps(found.gaps, args.out)) if args.out else None
    ties = sorted(((a, b, d["count"], d["strength"]) for a, b, d in found.ties.edges(data=True)),
                  key=lambda x: (-x[3], x[0], x[1]))
    gaps = sorted(found.gaps, key=lambda g: (-g.weight, g.a, g.b))
    if args.json:
        print(json.dumps({
            "level": found.level, "records": found.records, "s0": found.s0, "s0_default": args.s0 is None,
            "ties": [{"team_a": a, "team_b": b, "count": c, "strength": x} for a, b, c, x in ties],
            "gaps": [{"team_a": g.a, "team_b": g.b, "weight": g.weight, "purpose": g.purpose}
                     for g in found.gaps],
            "out": written,
        }, indent=2))
        return EXIT_OK
    org = found.org
    print(f"{found.records:,} interaction record(s) between {'people' if found.level == 'person' else 'teams'}; "
          f"{len(org.people)} people in {len({p.team for p in org.people})} teams")
    how = "the median strength" if args.s0 is None else "given"
    print(f"tie strengths (interactions per pair of people; s0 = {found.s0:.6g}, {how}):")
    _print_top([f"{a} <-> {b}: strength {x:.6g} ({c:g} interactions)" for a, b, c, x in ties], args.top)
    print(f"{len(gaps)} gap(s), total weight {sum(g.weight for g in gaps):.6g}; the heaviest:")
    _print_top([f"{g.a} <-> {g.b}: weight {g.weight:.6g}, {g.purpose}" for g in gaps], args.top)
    if written:
        print(f"gaps written to {written}")
    return EXIT_OK


def _print_top(lines: Sequence[str], top: int) -> None:
    for line in lines[:top]:
        print(f"  - {line}")
    if len(lines) > top:
        print(f"  - ... and {len(lines) - top} more (--json lists all)")


def _validate(args: argparse.Namespace) -> int:
    from .validate import validate

    plan = _read_plan(args.plan, "--plan")
    history = [_read_plan(h, "--history") for h in args.history]
    org, courses, policy = _load(args, need_courses=True)
    violations = validate(plan, org, courses, policy, history=history)
    code = EXIT_BROKEN if violations else EXIT_OK
    if args.json:
        print(json.dumps({"valid": not violations, "violations": violations,
                          "cohorts": len(plan.cohorts), "unassigned": len(plan.unassigned)}, indent=2))
        return code
    print(f"plan {args.plan}: {len(plan.cohorts)} cohorts, "
          f"{sum(len(c.members) for c in plan.cohorts)} places, {len(plan.unassigned)} not placed")
    _print_violations(violations)
    return code


def _read_plan(path: str, option: str) -> Any:
    """A plan JSON file; problems become an InputError naming the option and the place."""
    from .io.request import read_json
    from .result import Plan

    source = Path(path)
    if source.suffix.lower() != ".json":
        raise InputError(f"{option} {path}: give the plan as JSON (plan --out plan.json)")
    if not source.is_file():
        raise InputError(f"{option} {path}: no such file")
    return Plan.from_document(read_json(source), path)


def _print_violations(violations: Sequence[str], *, limit: int | None = None) -> None:
    if not violations:
        print("keeps every hard rule")
        return
    print(f"breaks {len(violations)} hard rule(s):")
    shown = violations if limit is None else violations[:limit]
    for v in shown:
        print(f"  - {v}")
    if len(violations) > len(shown):
        print(f"  - ... and {len(violations) - len(shown)} more")


_VERBS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": _demo, "plan": _plan, "replan": _replan, "score": _score, "synth": _synth, "schema": _schema,
    "gaps": _gaps, "validate": _validate,
}


if __name__ == "__main__":
    sys.exit(main())
