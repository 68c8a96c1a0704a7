"""Memory guards: refuse a request whose dense arrays would exceed a budget, before allocating them.

The budget is :data:`MEMORY_BUDGET` bytes (4 GiB), or the value of the environment
variable ``COHORTMATCH_MEMORY_BUDGET`` (bytes, or a number with a ``K``, ``M`` or ``G``
suffix, powers of 1024). A request over it raises :class:`~cohortmatch.errors.SizeLimitError`
naming the array, its size and what to change, instead of failing with ``MemoryError``
(or swapping) half-way through a solve.

Guarded: the units and cohorts of a compiled problem (courses x rounds x participants),
a dense person-by-person ``pair_values`` matrix, the cohort member lists of the search
state (``SearchState.members``, cohorts x largest cohort; team counts are read from them,
so nothing grows with teams x cohorts), the person-by-person meeting
matrices and the unit-by-cohort tabu list of the ``golfer`` engine, and the value matrix
of an MDGPLIB file. The exact CP-SAT model has its own limit
(:data:`cohortmatch.engines.cpsat.MODEL_LIMIT` variables).
"""

from __future__ import annotations

import os
import re

import numpy as np

from .errors import InputError, SizeLimitError

__all__ = ["MEMORY_BUDGET", "ENV_VAR", "memory_budget", "check_bytes", "problem_footprint",
           "check_problem"]

#: Default budget in bytes for one dense array (or one family of them).
MEMORY_BUDGET = 4 * 2**30
ENV_VAR = "COHORTMATCH_MEMORY_BUDGET"

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_budget() -> int:
    """The budget in bytes: ``COHORTMATCH_MEMORY_BUDGET`` if set, else :data:`MEMORY_BUDGET`.

    Examples
    --------
    >>> import os
    >>> os.environ["COHORTMATCH_MEMORY_BUDGET"] = "512M"
    >>> memory_budget()
    536870912
    >>> del os.environ["COHORTMATCH_MEMORY_BUDGET"]
    >>> memory_budget() == MEMORY_BUDGET
    True
    """
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return MEMORY_BUDGET
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", text, flags=re.IGNORECASE)
    if m is None:
        raise InputError(
            f"The {ENV_VAR} must be a number of bytes such as 2G or 500M. Got {text!r}."
        )
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def _human(n: float) -> str:
    if n >= 1024**5:  # also keeps integers too large for a float (malformed headers) out of float maths
        return "more than 1024 TiB"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def check_bytes(nbytes: float, what: str, *, hint: str = "", budget: int | None = None) -> None:
    """Raise :class:`SizeLimitError` if ``what`` would need more than the memory budget.

    Examples
    --------
    >>> check_bytes(10, "a tiny array")
    >>> check_bytes(2**40, "a person-by-person matrix", hint="use a sparse matrix", budget=2**30)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.SizeLimitError: a person-by-person matrix would need 1.0 TiB, more than the memory budget of 1.0 GiB (COHORTMATCH_MEMORY_BUDGET); use a sparse matrix
    """  # noqa: E501
    limit = memory_budget() if budget is None else int(budget)
    if nbytes > limit:
        raise SizeLimitError(
            f"{what} would need {_human(nbytes)}, more than the memory budget of "
            f"{_human(limit)} ({ENV_VAR})" + (f"; {hint}" if hint else "")
        )


def problem_footprint(problem) -> dict[str, tuple[int, str]]:  # type: ignore[no-untyped-def]
    """Bytes of the largest dense arrays planning ``problem`` allocates, with advice for each.

    Returns
    -------
    dict
        ``{description: (bytes, hint)}``.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team=f"t{i}") for i in range(40)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=4, max_size=4)])
    >>> problem_footprint(prob)["cohort member lists (10 cohorts x 5 places)"][0]
    400
    """
    p = problem
    K, U, B = p.n_cohorts, p.n_units, p.n_blocks
    width = (int(p.cohort_max.max()) if K else 0) + 1
    out = {
        f"cohort member lists ({K} cohorts x {width} places)": (
            K * width * 8,
            "lower max_size to the largest cohort you mean to run, or plan fewer cohorts",
        ),
    }
    if p.max_meetings < np.iinfo(np.int32).max:  # a meeting cap: the golfer engine plans
        people = int(np.unique(p.unit_person).shape[0]) if U else 0
        out[f"person-by-person meeting matrices of the golfer engine ({people} people, "
            f"{B} course rounds)"] = (
            B * people * people * 8 + 3 * people * people * 4 + people * K * 8,
            "plan fewer people per request, or without max_meetings",
        )
        out[f"unit-by-cohort tabu list of the golfer engine ({U} units x {K} cohorts)"] = (
            (U + p.n_teams) * K * 8,  # and its team-by-cohort counts
            "plan fewer people per request, or without max_meetings",
        )
    return out


def check_problem(problem, *, budget: int | None = None) -> None:  # type: ignore[no-untyped-def]
    """Raise :class:`SizeLimitError` for an array of :func:`problem_footprint` over budget."""
    for what, (nbytes, hint) in problem_footprint(problem).items():
        check_bytes(nbytes, what, hint=hint, budget=budget)
