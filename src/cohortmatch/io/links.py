"""Who must be together or apart: the ``links`` table (``person_a``, ``person_b``, ``kind``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..model import Person, Policy
from .tables import Source, load_table, text_cell

__all__ = ["Links", "read_links", "LINK_COLUMNS", "LINK_KINDS"]

LINK_COLUMNS = ("person_a", "person_b", "kind")
LINK_KINDS = ("together", "apart")


@dataclass(frozen=True)
class Links:
    """Pairs of people who must share a cohort (``together``) or never share one (``apart``).

    A group is given as its pairs: ``a-b`` and ``b-c`` together make one group of three
    (:class:`~cohortmatch.Policy` merges groups that share a person).
    """

    together: tuple[tuple[str, str], ...] = ()
    apart: tuple[tuple[str, str], ...] = ()

    def apply(self, policy: Policy) -> Policy:
        """``policy`` with these links added to its ``keep_together`` and ``keep_apart``.

        Examples
        --------
        >>> Links(apart=(("p1", "p2"),)).apply(Policy()).keep_apart
        (('p1', 'p2'),)
        """
        return Policy.model_validate({
            **policy.model_dump(),
            "keep_together": (*policy.keep_together, *self.together),
            "keep_apart": (*policy.keep_apart, *self.apart),
        })


def read_links(source: Source, *, people: Sequence[Person]) -> Links:
    """A links table: columns ``person_a``, ``person_b`` and ``kind`` (``together`` or ``apart``).

    Raises
    ------
    InputError
        A missing column, an unknown person, a person linked to themself, or a kind
        that is neither ``together`` nor ``apart``; the message names file, row and column.

    Examples
    --------
    >>> import pandas as pd
    >>> people = [Person(id=p, team="t") for p in ("p1", "p2", "p3")]
    >>> read_links(pd.DataFrame({"person_a": ["p1", "p2"], "person_b": ["p2", "p3"],
    ...                          "kind": ["together", "Apart"]}), people=people)
    Links(together=(('p1', 'p2'),), apart=(('p2', 'p3'),))
    >>> read_links(pd.DataFrame({"person_a": ["p1"], "person_b": ["p1"], "kind": ["apart"]}),
    ...            people=people)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: links DataFrame, row 0, column 'person_b': 'p1' is linked to themself
    """
    t = load_table(source, what="links")
    t.require(*LINK_COLUMNS)
    t.extra_columns(LINK_COLUMNS, what="links")
    known = {p.id for p in people}
    out: dict[str, list[tuple[str, str]]] = {k: [] for k in LINK_KINDS}
    for i in range(len(t.rows)):
        a, b = (text_cell(t, i, c, required=True) or "" for c in ("person_a", "person_b"))
        for column, person in (("person_a", a), ("person_b", b)):
            if person not in known:
                raise InputError(f"{t.where(i, column)}: unknown person {person!r}")
        if a == b:
            raise InputError(f"{t.where(i, 'person_b')}: {a!r} is linked to themself")
        kind = (text_cell(t, i, "kind", required=True) or "").strip().lower()
        if kind not in LINK_KINDS:
            raise InputError(f"{t.where(i, 'kind')}: must be 'together' or 'apart'; got {kind!r}")
        out[kind].append((a, b))
    return Links(together=tuple(out["together"]), apart=tuple(out["apart"]))
