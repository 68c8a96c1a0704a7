"""The scale-suite request every size benchmark plans (one definition of its options)."""

from __future__ import annotations

import argparse


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of the scale-suite request: preset, cohort sizes, team cap, mode, seed."""
    parser.add_argument("--preset", default="silos")
    parser.add_argument("--min-size", type=int, default=12)
    parser.add_argument("--max-size", type=int, default=16)
    parser.add_argument("--max-per-team", type=int, default=2)
    parser.add_argument("--coverage", default="cover", choices=["cover", "diminishing", "sum"])
    parser.add_argument("--seed", type=int, default=1)
