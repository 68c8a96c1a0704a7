"""cohortmatch inside an HR web service: warm-up, upload limits, cancel, several users at once.

A service starts, warms the search up once (:func:`cohortmatch.precompile`), and tightens
the upload limits to what its users send (:mod:`cohortmatch.limits`). An upload over a
limit is refused before it is read. Each planning request runs in a worker thread with
its own ``threading.Event``: when the user presses cancel, the event is set and the call
returns the best plan so far, noted ``stopped on request``. Several users plan at once
from different threads.

Run it with ``python examples/hr_service.py [--time-limit 3]``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cohortmatch as cm
from cohortmatch import limits
from cohortmatch.io import read_people


def start_service() -> None:
    """What a service does once at start-up."""
    cm.precompile()  # kernels, OR-Tools and scipy loaded now, not inside a user's time limit
    limits.configure(max_rows=50_000, max_cells=1_000_000, max_file_bytes=20 * 2**20)


def upload(text: str) -> str:
    """Read an uploaded people table; a file over a limit is refused before it is read."""
    path = Path(tempfile.mkdtemp()) / "people.csv"
    path.write_text(text)
    try:
        return f"read {len(read_people(path))} people"
    except cm.SizeLimitError as err:
        return f"refused: {str(err).split(';')[0]}"


def main(argv: list[str] | None = None) -> cm.Plan:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=3.0)
    args = parser.parse_args(argv)
    start_service()
    print(upload("id,team\n" + "".join(f"p{i},t{i % 9}\n" for i in range(300))))
    print(upload("id,team\n" + "p,t\n" * 60_000))

    org = cm.org_chart(1500, seed=2)
    request = cm.Request(org=org, courses=[cm.Course(id="leading", min_size=10, max_size=14)],
                         policy=cm.Policy(max_per_team=2, mode="diminishing"))
    cancel = threading.Event()  # one per request; the cancel button sets it
    threading.Timer(0.5, cancel.set).start()
    stopped = cm.plan(request, time_limit=60, seed=1, stop=cancel)
    print(f"cancelled after {stopped.elapsed:.1f} s of a 60 s limit: {stopped.notes[-1][:18]}, "
          f"{len(stopped.cohorts)} cohorts, every rule kept: {not cm.validate(stopped, request)}")

    users = [cm.Request(org=cm.org_chart(300, seed=s), courses=request.courses, policy=request.policy)
             for s in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:  # several users at once
        plans = list(pool.map(lambda r: cm.plan(r, time_limit=args.time_limit, seed=1, workers=1), users))
    print(f"{len(plans)} users planned at once, every rule kept: "
          f"{all(not cm.validate(p, r) for p, r in zip(plans, users, strict=True))}")
    limits.configure(**vars(limits.DEFAULT))
    return stopped


if __name__ == "__main__":
    main()
