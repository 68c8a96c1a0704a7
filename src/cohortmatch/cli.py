"""Command line: ``cohortmatch demo`` (more verbs come with the io layer)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cohortmatch", description=__doc__)
    sub = parser.add_subparsers(dest="verb", required=True)
    demo = sub.add_parser("demo", help="plan cohorts for an embedded default organisation")
    demo.add_argument("--time-limit", type=float, default=5.0)
    demo.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.verb == "demo":
        from .demo import run_demo

        run_demo(time_limit=args.time_limit, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
