"""The error family raised by cohortmatch."""

from __future__ import annotations

__all__ = [
    "CohortmatchError", "InputError", "RecordError", "NotFoundError", "InfeasibleError", "SizeLimitError",
    "InputWarning",
]


class CohortmatchError(ValueError):
    """Base class of every error cohortmatch raises on purpose."""


class InputError(CohortmatchError):
    """Input data is malformed; the message names the record and the field."""


class RecordError(InputError):
    """A model record (a person, a course, a policy, ...) is invalid.

    Parameters
    ----------
    message : str
        Every problem, each naming the record and field.
    problems : list of str
        The problems alone, without where they are (for readers that add a file and row).
    """

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems) if problems is not None else [message]


class NotFoundError(CohortmatchError, KeyError):
    """An id names nothing (a person, a cohort); also a ``KeyError``, as lookups raise."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InfeasibleError(CohortmatchError):
    """No plan can satisfy the hard rules; ``conflicts`` lists them in plain words.

    Parameters
    ----------
    conflicts : list of str
        One sentence per conflicting rule.

    Examples
    --------
    >>> err = InfeasibleError(["course 'x': 5 participants cannot form cohorts of 8-10"])
    >>> print(err)
    No plan can satisfy the hard rules:
      - course 'x': 5 participants cannot form cohorts of 8-10
    """

    def __init__(self, conflicts: list[str] | tuple[str, ...]):
        self.conflicts = list(conflicts)
        lines = "\n".join(f"  - {c}" for c in self.conflicts)
        super().__init__(f"No plan can satisfy the hard rules:\n{lines}")


class SizeLimitError(CohortmatchError):
    """A request would need more memory than the configured budget allows."""


class StoppedError(CohortmatchError):
    """A read was stopped on request (see :func:`cohortmatch.limits.stoppable`)."""


class InputWarning(UserWarning):
    """Input that is read, but not all of it is used (e.g. a column no table knows).

    The message names the file and the column; the command line prints it as
    ``cohortmatch: warning: ...``.
    """
