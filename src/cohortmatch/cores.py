"""The cores of this process, shared by the runs that did not ask for a number of workers.

A run given ``workers=N`` uses N threads, as asked (its plan may depend on N). A timed
run given ``workers=None`` takes, for as long as it searches, the cores no other such run
holds (at least one): one call alone uses every core, and eight calls at once on two cores
use nine threads between them, not sixteen, so they share the machine instead of
oversubscribing it (see :doc:`reliability`).

Examples
--------
>>> with lease(None) as first, lease(None) as second:
...     first == available(), second
(True, 1)
>>> with lease(3) as asked:
...     asked
3
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["available", "lease"]

_lock = threading.Lock()
_held = 0


def available() -> int:
    """Cores this process may run on (its CPU affinity)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not on Linux
        return max(os.cpu_count() or 1, 1)


@contextmanager
def lease(workers: int | None) -> Iterator[int]:
    """``workers`` when given; else the cores no other lease holds (at least 1), held
    until the block ends."""
    if workers is not None:
        yield int(workers)
        return
    global _held
    with _lock:
        n = max(1, available() - _held)
        _held += n
    try:
        yield n
    finally:
        with _lock:
            _held -= n
