"""Command line: ``cohortmatch demo | plan | replan | score | synth | schema``.

Exit codes: 0 ok, 2 bad input (the message names file, row and column), 3 no plan can
keep the hard rules. User errors print one message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from .errors import CohortmatchError, InfeasibleError

__all__ = ["main", "EXIT_OK", "EXIT_INPUT", "EXIT_INFEASIBLE"]

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE = 0, 2, 3


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
    plan.add_argument("--seed", type=int, default=None)
    plan.add_argument("--time-limit", type=float, default=10.0, metavar="S",
                      help="seconds to search (default 10)")
    plan.add_argument("--out", metavar="FILE", help="write the plan: .json, .csv or .xlsx")
    plan.add_argument("--report", metavar="DIR", help="write report.html, report.md and plots")
    plan.add_argument("--start", metavar="GROUPING",
                      help="improve a hand-made grouping (columns person, cohort[, course, round])")
    plan.add_argument("--quiet", action="store_true", help="no progress display")

    replan = sub.add_parser("replan", help="re-plan a published plan for today's request, moving few people")
    replan.add_argument("--plan", required=True, metavar="FILE.json",
                        help="the published plan (written by `plan --out FILE.json` or `replan`)")
    _add_request_args(replan, courses_required=True)
    replan.add_argument("--held-rounds", type=int, default=0, metavar="N",
                        help="the first N rounds of the published plan took place: keep them as "
                        "history and re-plan the others (the courses keep their full number of rounds)")
    replan.add_argument("--max-moves", type=int, metavar="N",
                        help="move at most N people (default: as few as the rules need)")
    replan.add_argument("--solver", choices=("auto", "heuristic", "cpsat"), default="auto")
    replan.add_argument("--seed", type=int, default=None)
    replan.add_argument("--time-limit", type=float, default=10.0, metavar="S",
                        help="seconds to search (default 10)")
    replan.add_argument("--out", metavar="FILE", help="write the new plan: .json, .csv or .xlsx")
    replan.add_argument("--changes", metavar="FILE",
                        help="write who left, joined or moved, and why: .csv or .xlsx")

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
    return parser


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
    with progress_display(args.time_limit, enabled=None if show else False) as progress:
        result = run_plan(org, courses, policy=policy, time_limit=args.time_limit, start=start,
                          progress=progress, seed=args.seed)
    elapsed = time.perf_counter() - t0
    written = str(write_plan(result, args.out)) if args.out else None
    report = None
    if args.report:
        report = str(write_report(result, org, args.report, title="Cohort plan")["html"])
    if args.json:
        doc: dict[str, Any] = {
            "metrics": _metrics(result), "status": result.status, "solver": result.solver,
            "elapsed": round(elapsed, 3), "seed": args.seed, "cohorts": len(result.cohorts),
            "unassigned": len(result.unassigned), "out": written, "report": report,
        }
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


def _replan(args: argparse.Namespace) -> int:
    from .errors import InputError
    from .io import read_request, write_changes, write_plan
    from .replanning import replan, split_rounds
    from .request import Request

    if args.out:
        _check_out(args.out)
    if args.changes and Path(args.changes).suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"--changes {args.changes}: use a file ending in .csv or .xlsx")
    previous = _read_plan(args.plan)
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


def _read_plan(path: str) -> Any:
    """A published plan from its JSON file (exit 2 naming the file when it is not one)."""
    from .errors import InputError
    from .result import Plan

    if Path(path).suffix.lower() != ".json":
        raise InputError(f"--plan {path}: give the published plan as the .json file `plan --out` writes")
    text = Path(path).read_text(encoding="utf-8")
    try:
        return Plan.from_json(text)
    except InputError as err:
        raise InputError(f"--plan {path}: not a plan written by cohortmatch: {err}") from None


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
    if given.violations:
        print(f"breaks {len(given.violations)} hard rule(s):")
        for v in given.violations[:10]:
            print(f"  - {v}")
        if len(given.violations) > 10:
            print(f"  - ... and {len(given.violations) - 10} more")
    else:
        print("keeps every hard rule")
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


_VERBS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": _demo, "plan": _plan, "replan": _replan, "score": _score, "synth": _synth, "schema": _schema,
}


if __name__ == "__main__":
    sys.exit(main())
