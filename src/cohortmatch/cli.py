"""Command line: ``cohortmatch demo | plan | score | gaps | validate | synth | schema``.

Exit codes: 0 ok, 2 bad input (the message names file, row and column), 3 no plan can
keep the hard rules, 4 ``validate`` found a plan that breaks hard rules. User errors
print one message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from .errors import CohortmatchError, InfeasibleError, InputError

__all__ = ["main", "EXIT_OK", "EXIT_INPUT", "EXIT_INFEASIBLE", "EXIT_BROKEN"]

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_BROKEN = 0, 2, 3, 4
DEFAULT_TIME_LIMIT = 10.0


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one line, like every other input error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"cohortmatch: error: {message}\n")
        raise SystemExit(EXIT_INPUT)


def _add_request_args(p: argparse.ArgumentParser, *, courses_required: bool) -> None:
    src = p.add_argument_group("input tables (.csv or .xlsx)")
    src.add_argument("--people", metavar="FILE", help="people: id, team, manager, attributes...")
    src.add_argument("--gaps", metavar="FILE", help="gaps: team_a, team_b, weight, purpose")
    src.add_argument("--courses", metavar="FILE",
                     help="courses: id, min_size, max_size, cohorts, participants, rounds"
                     + ("" if courses_required else " (default: as the grouping is split)"))
    src.add_argument("--teams", metavar="FILE", help="teams: id, name, parent (optional)")
    src.add_argument("--links", metavar="FILE",
                     help="who must be together or apart: person_a, person_b, kind (together|apart)")
    src.add_argument("--request", metavar="FILE.json",
                     help="the whole request as one JSON document instead of the tables "
                     "(see `cohortmatch schema`)")
    pol = p.add_argument_group("policy (overrides the request's)")
    pol.add_argument("--mode", "--coverage", dest="mode", choices=("cover", "diminishing", "sum"),
                     help="how bridging a gap several times counts (--coverage is its former name)")
    pol.add_argument("--decay", type=float, help="diminishing mode: k-th bridge worth decay^(k-1)")
    pol.add_argument("--max-per-team", type=int, metavar="N",
                     help="at most N members of one team per cohort")
    pol.add_argument("--max-meetings", type=int, metavar="N",
                     help="over several rounds, no pair meets more than N times")
    pol.add_argument("--allow-managers-with-reports", action="store_true",
                     help="let a manager and their direct reports share a cohort")
    p.add_argument("--json", action="store_true", help="print a machine-readable JSON result")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cohortmatch", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo", help="plan cohorts for an embedded synthetic organisation")
    demo.add_argument("--people", type=int, default=2000, metavar="N",
                      help="size of the synthetic organisation (default 2000)")
    demo.add_argument("--time-limit", type=float, default=10.0, metavar="S")
    demo.add_argument("--seed", type=int, default=7)

    plan = sub.add_parser("plan", help="plan cohorts from tables or a JSON request")
    _add_request_args(plan, courses_required=True)
    _add_run_args(plan)
    plan.add_argument("--out", metavar="FILE", help="write the plan: .json, .csv or .xlsx")
    plan.add_argument("--report", metavar="DIR", help="write report.html, report.md and plots")
    plan.add_argument("--start", metavar="GROUPING",
                      help="improve a hand-made grouping (columns person, cohort[, course, round])")
    plan.add_argument("--quiet", action="store_true", help="no progress display")

    score = sub.add_parser("score", help="evaluate a hand-made grouping: metrics, bound, misses")
    _add_request_args(score, courses_required=False)
    score.add_argument("--grouping", required=True, metavar="FILE",
                       help="columns person, cohort and optionally course, round")
    score.add_argument("--report", metavar="DIR", help="write report.html, report.md and plots")
    score.add_argument("--top", type=int, default=10, metavar="N",
                       help="how many missed gaps to list (default 10)")

    synth = sub.add_parser("synth", help="write a synthetic organisation as tables")
    synth.add_argument("--people", type=int, required=True, metavar="N")
    synth.add_argument("--preset", default="silos", help="silos, matrix, merger or remote")
    synth.add_argument("--seed", type=int, default=None)
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
    gaps.add_argument("--s0", type=_bounded(float, 0, strict=True), metavar="S",
                      help="tie strength that halves a gap (default: the median strength)")
    gaps.add_argument("--min-weight", type=_bounded(float, 0), default=0.0, metavar="W",
                      help="leave out gaps of at most this weight (default 0)")
    gaps.add_argument("--out", metavar="FILE", help="write the gaps: .csv or .xlsx")
    gaps.add_argument("--top", type=_bounded(int, 0), default=20, metavar="N",
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
    args = _parser().parse_args(argv)
    try:
        return int(_VERBS[args.verb](args))
    except InfeasibleError as err:
        _fail(str(err))
        return EXIT_INFEASIBLE
    except CohortmatchError as err:
        _fail(str(err))
        return EXIT_INPUT
    except (ImportError, OSError) as err:
        _fail(str(err))
        return EXIT_INPUT
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130


def _fail(message: str) -> None:
    sys.stderr.write(f"cohortmatch: error: {message}\n")


# --- helpers ------------------------------------------------------------------------------


def _policy(args: argparse.Namespace, base: Any) -> Any:
    from .errors import InputError
    from .model import Policy

    update: dict[str, Any] = {}
    for name in ("mode", "decay", "max_per_team", "max_meetings"):
        value = getattr(args, name)
        if value is not None:
            update[name] = value
    if args.allow_managers_with_reports:
        update["separate_manager_and_reports"] = False
    if not update:
        return base
    try:
        return Policy.model_validate({**base.model_dump(), **update})
    except InputError as err:
        raise InputError(f"policy options: {err}") from None


def _load(args: argparse.Namespace, *, need_courses: bool) -> tuple[Any, Any, Any]:
    """(org, courses or None, policy) from --request or the tables."""
    from .errors import InputError
    from .io import read_courses, read_links, read_org, read_request
    from .model import Policy

    courses: Any
    if args.request:
        clashes = [f"--{n}" for n in ("people", "gaps", "courses", "teams") if getattr(args, n)]
        if clashes:
            raise InputError(f"--request holds the whole request; drop {', '.join(clashes)}")
        req = read_request(args.request)
        org, courses, policy = req.org, req.courses, _policy(args, req.policy)
    else:
        missing = [f"--{n}" for n in ("people", "gaps") if not getattr(args, n)]
        if need_courses and not args.courses:
            missing.append("--courses")
        if missing:
            raise InputError(f"missing {', '.join(missing)} (or give --request FILE.json)")
        org = read_org(args.people, args.gaps, args.teams)
        courses = read_courses(args.courses, people=org.people) if args.courses else None
        policy = _policy(args, Policy())
    if args.links:
        policy = read_links(args.links, people=org.people).apply(policy)
    return org, courses, policy


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
    if m.met_gap_partner is not None and m.median_gap_partners is not None:
        out(f"people     {m.met_gap_partner:.1%} of participants meet a gap partner "
            f"(median {m.median_gap_partners:g} each)")


# --- verbs --------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(people=args.people, time_limit=args.time_limit, seed=args.seed)
    return EXIT_OK


def _plan(args: argparse.Namespace) -> int:
    from .io import grouping_plan, read_grouping, write_plan
    from .planner import plan as run_plan
    from .report import write_report

    if args.out:
        _check_out(args.out)
    org, courses, policy = _load(args, need_courses=True)
    start = None
    if args.start:
        given = grouping_plan(read_grouping(args.start), org, courses, policy)
        _check_start(given, args.start)
        start = given.plan
    show = not (args.json or args.quiet)
    t0 = time.perf_counter()
    run = _run_settings(args)
    with progress_display(run["time_limit"], enabled=None if show else False) as progress:
        result = run_plan(org, courses, policy=policy, start=start, progress=progress, **run)
    elapsed = time.perf_counter() - t0
    written = str(write_plan(result, args.out)) if args.out else None
    report = None
    if args.report:
        report = str(write_report(result, org, args.report, title="Cohort plan")["html"])
    if args.json:
        doc: dict[str, Any] = {
            "metrics": _metrics(result), "status": result.status, "solver": result.solver,
            "elapsed": round(elapsed, 3), "seed": run["seed"], "cohorts": len(result.cohorts),
            "unassigned": len(result.unassigned), "out": written, "report": report,
        }
        if run["time_limit"] is None:  # a repeatable run prints repeatable bytes
            del doc["elapsed"]
        if start is not None:
            doc["start"] = {"metrics": _metrics(start),
                            "improvement": result.metrics.objective - start.metrics.objective}
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    people = len({m for c in result.cohorts for m in c.members})
    print(f"planned {people} people into {len(result.cohorts)} cohorts "
          f"({len(courses)} course(s)) in {elapsed:.1f} s")
    _print_metrics(result, print)
    if start is not None:
        before, after = start.metrics, result.metrics
        print(f"hand-made grouping: coverage {before.coverage:.1%}, objective "
              f"{before.objective:,.6g}; the plan adds {after.objective - before.objective:+,.6g} "
              f"({after.coverage - before.coverage:+.1%} coverage)")
    if written:
        print(f"plan written to {written}")
    if report:
        print(f"report written to {report}")
    return EXIT_OK


def _add_run_args(p: argparse.ArgumentParser) -> None:
    """``plan``'s search settings: engine, budgets, threads, seed."""
    from .planner import SOLVERS

    run = p.add_argument_group("search")
    run.add_argument("--solver", choices=SOLVERS, default="auto",
                     help="the engine (default auto: exact CP-SAT when small, else lns)")
    run.add_argument("--time-limit", type=_bounded(float, 0, strict=True), default=None, metavar="S",
                     help="seconds to search (default 10; none with --work-limit alone)")
    run.add_argument("--work-limit", type=_bounded(int, 0), default=None, metavar="N",
                     help="deterministic budget in evaluated moves; without --time-limit the "
                     "run is repeatable (seed 0 unless --seed)")
    run.add_argument("--workers", type=_bounded(int, 1), default=None, metavar="N",
                     help="threads for CP-SAT and partition search (default: every core; 1 "
                     "without a time limit)")
    run.add_argument("--seed", type=int, default=None)


def _bounded(kind: Callable[[str], Any], low: float, *, strict: bool = False) -> Callable[[str], Any]:
    """An argparse type: a finite number ``> low`` (``strict``) or ``>= low``.

    argparse puts the option's name before the message (exit 2).
    """
    what = ("a whole number" if kind is int else "a number") + (" > " if strict else " >= ") + f"{low:g}"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}; got {text!r}") from None
        if not (math.isfinite(value) and (value > low if strict else value >= low)):
            raise argparse.ArgumentTypeError(f"must be {what}; got {text!r}")
        return value

    return parse


def _run_settings(args: argparse.Namespace) -> dict[str, Any]:
    """``plan(...)`` keywords from the search options.

    Without ``--time-limit``: 10 s, unless ``--work-limit`` is given, which makes the run
    repeatable (no wall clock; seed 0 unless ``--seed`` says otherwise).
    """
    time_limit = args.time_limit
    seed = args.seed
    if time_limit is None and args.work_limit is None:
        time_limit = DEFAULT_TIME_LIMIT
    if time_limit is None and seed is None:
        seed = 0
    return {"solver": args.solver, "time_limit": time_limit, "work_limit": args.work_limit,
            "workers": args.workers, "seed": seed}


def _check_out(path: str) -> None:
    from .errors import InputError
    from .io import PLAN_FORMATS

    if Path(path).suffix.lower() not in PLAN_FORMATS:
        raise InputError(f"--out {path}: use a file ending in {', '.join(PLAN_FORMATS)}")


def _check_start(given: Any, source: str) -> None:
    from .errors import InputError

    problems = list(given.violations)
    if given.plan.unassigned:
        u = given.plan.unassigned[0]
        problems.insert(0, f"{u.person!r} (course {u.course!r}, round {u.round}) is in no cohort"
                        + (f" (and {len(given.plan.unassigned) - 1} more)"
                           if len(given.plan.unassigned) > 1 else ""))
    hard = [p for p in problems if "members, outside" in p or "is in no cohort" in p]
    if hard:
        raise InputError(f"{source}: the grouping cannot be a start plan: " + "; ".join(hard[:3]))


def _score(args: argparse.Namespace) -> int:
    from .io import grouping_plan, missed_gaps, read_grouping
    from .report import write_report

    org, courses, policy = _load(args, need_courses=False)
    given = grouping_plan(read_grouping(args.grouping), org, courses, policy)
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
    if args.json:
        doc = {
            "metrics": _metrics(plan),
            "violations": given.violations,
            "unassigned": [u.model_dump() for u in plan.unassigned],
            "missed_gaps": [{"team_a": a, "team_b": b, "weight": w, "purpose": p}
                            for a, b, w, p in missed],
            "cohorts": cohorts,
            "courses": [c.model_dump(exclude={"participants"}) for c in given.courses],
            "report": report,
        }
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    print(f"grouping {args.grouping}: {len(plan.cohorts)} cohorts, "
          f"{sum(c['size'] for c in cohorts)} places")
    _print_metrics(plan, print)
    _print_violations(given.violations, limit=10)
    if missed:
        print(f"misses {len(missed)} gap(s), weight {sum(m[2] for m in missed):g}; "
              f"the heaviest:")
        for a, b, w, p in missed[: args.top]:
            print(f"  - {a} <-> {b}: weight {w:g}, {p}")
    else:
        print("bridges every gap")
    if report:
        print(f"report written to {report}")
    return EXIT_OK


def _synth(args: argparse.Namespace) -> int:
    from .io import write_org
    from .synthetic import org_chart

    org = org_chart(args.people, preset=args.preset, seed=args.seed)
    paths = write_org(org, args.out, fmt=args.format)
    if args.json:
        print(json.dumps({"people": len(org.people), "teams": len(org.teams),
                          "gaps": len(org.gaps), "files": {k: str(v) for k, v in paths.items()}},
                         indent=2))
    else:
        print(f"synthetic organisation ({args.preset}): {len(org.people)} people, "
              f"{len(org.teams)} teams, {len(org.gaps)} gaps")
        for path in paths.values():
            print(f"  wrote {path}")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from .io import request_schema
    from .result import Plan

    schema = Plan.model_json_schema() if args.plan else request_schema()
    print(json.dumps(schema, indent=2))
    return EXIT_OK


def _gaps(args: argparse.Namespace) -> int:
    from .io import gaps_from_tables, write_gaps

    if args.out and Path(args.out).suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"--out {args.out}: use a file ending in .csv or .xlsx")
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
    from .result import Plan

    source = Path(path)
    if source.suffix.lower() != ".json":
        raise InputError(f"{option} {path}: give the plan as JSON (plan --out plan.json)")
    if not source.is_file():
        raise InputError(f"{option} {path}: no such file")
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(f"{path}, line {err.lineno}, column {err.colno}: not valid JSON ({err.msg})") from None
    except (UnicodeDecodeError, RecursionError, ValueError):
        raise InputError(f"{path}: not a readable JSON document") from None
    return Plan.from_document(data, path)


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
    "demo": _demo, "plan": _plan, "score": _score, "synth": _synth, "schema": _schema,
    "gaps": _gaps, "validate": _validate,
}


if __name__ == "__main__":
    sys.exit(main())
