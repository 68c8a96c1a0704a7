"""What ``decompose="auto"`` costs before any search: finding divisions and packing blocks.

For a 100,000-person request that does not split (one ``silos`` organisation) and one that
does (ten organisations of 10,000 side by side, ``cohortmatch.synthetic.side_by_side``), it
times :func:`cohortmatch.decompose.couplings` plus :func:`cohortmatch.decompose.split_request`
(what ``plan`` runs first with ``decompose="auto"``) against compiling the request, in the
same process. Results go to ``benchmarks/results/scale_17_decompose_split.json``::

    python benchmarks/decompose_split.py [--people 100000] [--divisions 10]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import cohortmatch as cm
from cohortmatch.decompose import BLOCK_UNITS, couplings, split_request
from cohortmatch.synthetic import org_chart, side_by_side

RESULTS = Path(__file__).parent / "results" / "scale_17_decompose_split.json"


def measure(org: cm.Organisation) -> dict[str, Any]:
    """Seconds to check and split the request (``auto``'s threshold) and to compile it."""
    req = cm.Request(org=org, courses=[cm.Course(id="course", min_size=12, max_size=16)],
                     policy=cm.Policy(max_per_team=2, coverage="diminishing"))
    t0 = time.perf_counter()
    refused = couplings(req)
    split = split_request(req, min_units=BLOCK_UNITS)
    t1 = time.perf_counter()
    req.compile()
    t2 = time.perf_counter()
    return {"people": len(org.people), "refused": refused, "split_s": t1 - t0, "compile_s": t2 - t1,
            "blocks": len(split.blocks), "units": list(split.units), "divisions": split.divisions,
            "filler_teams": split.filler}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).parent))
    from _machine import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--divisions", type=int, default=10)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"machine": machine()}
    report["one_organisation"] = measure(org_chart(args.people, preset="silos", seed=args.seed))
    per = args.people // args.divisions
    report["divisions"] = measure(side_by_side([org_chart(per, preset="silos", seed=args.seed + i)
                                                for i in range(args.divisions)]))
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=1))
    return report


if __name__ == "__main__":
    main()
