"""Person attributes as categories: the values the mix rules count, one row per value.

:func:`categories` runs once, from :func:`cohortmatch.compiled.compile_problem`: every
attribute a mix rule names (``balance``, ``no_isolation``, ``at_most``, ``at_least``;
``team`` is the person's team) becomes a set of *rows*, one per value, and every person
gets one row per attribute. A missing attribute is the value ``""``; a number is written
as it reads (``2``, ``2.5``); a binned number is its bin (``"2-5"``). Bad names, values and
bins are input errors naming the policy field (or the command-line option) and listing
what exists.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError
from .model import Person, Policy

__all__ = ["Categories", "MANY_NUMBERS", "categories", "check_mix", "value_label", "OPTIONS"]

#: A numeric attribute with more distinct values than this must be binned to be balanced.
MANY_NUMBERS = 10
#: How error messages name each mix field by default (the command line names its options).
OPTIONS = {f: f"policy, field {f!r}" for f in ("balance", "no_isolation", "at_most", "at_least")}
_NO_CAP = int(np.iinfo(np.int32).max)


def value_label(value: Any) -> str:
    """How a value reads in rules, plans and messages.

    Examples
    --------
    >>> [value_label(v) for v in ("London", 2, 2.0, 2.5, True, None)]
    ['London', '2', '2', '2.5', 'true', '']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Categories:
    """The mix attributes of a request as rows (one per value), in canonical person order.

    Attributes
    ----------
    attributes : tuple of str
        The attributes counted, in the order of :attr:`cohortmatch.Policy.mix_attributes`.
    attr_indptr : int64 array (A+1,)
        Rows of attribute ``a`` are ``attr_indptr[a]:attr_indptr[a+1]`` (values sorted).
    row_value : tuple of str (C,)
        The value of each row.
    person_row : int64 array (P, A)
        Each person's row per attribute.
    row_lo, row_hi : int64 arrays (C,)
        ``at_least`` (0: none) and ``at_most`` (``NO_CAP``: none) of each row, per cohort.
    balance : bool array (A,)
        Which attributes are balanced; ``soft``: whether as an objective.
    isolation : bool array (A,)
        Which attributes nobody may be alone with in a cohort.
    """

    attributes: tuple[str, ...]
    attr_indptr: np.ndarray
    row_value: tuple[str, ...]
    person_row: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    balance: np.ndarray
    soft: bool
    isolation: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.row_value)

    @property
    def row_attr(self) -> np.ndarray:
        """The attribute of each row (int64 (C,))."""
        return np.repeat(np.arange(len(self.attributes)), np.diff(self.attr_indptr)).astype(np.int64)

    def rows(self, a: int) -> range:
        """The rows of attribute ``a``."""
        return range(int(self.attr_indptr[a]), int(self.attr_indptr[a + 1]))

    def name(self, row: int) -> str:
        """A row in words: ``location='Leeds'``."""
        a = int(np.searchsorted(self.attr_indptr, row, side="right")) - 1
        return f"{self.attributes[a]}={self.row_value[row]!r}"


def _raw(person: Person, attribute: str) -> Any:
    return person.team if attribute == "team" else person.attributes.get(attribute)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bin(value: Any, edges: Sequence[float]) -> int | None:
    """Index of the bin holding ``value`` (the last bin holds its upper edge), or None."""
    if not _is_number(value) or not math.isfinite(value) or not edges[0] <= value <= edges[-1]:
        return None
    return min(int(np.searchsorted(edges, value, side="right")) - 1, len(edges) - 2)


def _labels(people: Sequence[Person], attribute: str, edges: Sequence[float] | None, where: str) -> list[str]:
    """Each person's value of ``attribute`` as a label (bins applied)."""
    if edges is None:
        return [value_label(_raw(p, attribute)) for p in people]
    names = [f"{value_label(a)}-{value_label(b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    out = []
    for p in people:
        value = _raw(p, attribute)
        if value is None:
            out.append("")
            continue
        i = _bin(value, edges)
        if i is None:
            raise InputError(f"{where}: person {p.id!r} has {attribute} {value!r}, outside the bins "
                             f"{[value_label(e) for e in edges]}")
        out.append(names[i])
    return out


def _attribute_names(people: Sequence[Person]) -> list[str]:
    return sorted({k for p in people for k in p.attributes} | {"team"})


def _listed(items: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(repr(x) for x in items[:limit])
    return shown + (f" (and {len(items) - limit} more)" if len(items) > limit else "")


def check_mix(policy: Policy, people: Sequence[Person], options: Mapping[str, str] | None = None) -> None:
    """Raise :class:`InputError` for a mix rule naming an attribute or value nobody has, or
    balancing a many-valued number without bins; the message names the field (or option).

    Examples
    --------
    >>> people = [Person(id="p1", team="a", attributes={"level": "director"})]
    >>> check_mix(Policy(balance=["levle"]), people)
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: policy, field 'balance': no person has the attribute 'levle'; ... 'level', 'team'
    >>> check_mix(Policy(at_most={"level": {"directr": 1}}), people, {"at_most": "--at-most"})
    Traceback (most recent call last):
    ...
    cohortmatch.errors.InputError: --at-most: no person has level 'directr'; its values are 'director'
    """
    where = {**OPTIONS, **(options or {})}
    known = set(_attribute_names(people))
    fields: dict[str, Sequence[str]] = {"balance": list(policy.balance), "no_isolation": policy.no_isolation,
                                        "at_most": list(policy.at_most), "at_least": list(policy.at_least)}
    for field, names in fields.items():
        for name in names:
            if name not in known:
                raise InputError(f"{where[field]}: no person has the attribute {name!r}; the attributes "
                                 f"are {_listed(_attribute_names(people), 40)}")
    for name, edges in policy.balance.items():
        values = {_raw(p, name) for p in people} - {None}
        if edges is None and len(values) > MANY_NUMBERS and all(_is_number(v) for v in values):
            lo, hi = min(values), max(values)
            raise InputError(f"{where['balance']}: attribute {name!r} is a number with {len(values)} "
                             f"distinct values ({value_label(lo)} to {value_label(hi)}): give bins, "
                             f"e.g. balance={{{name!r}: [{value_label(lo)}, ..., {value_label(hi)}]}}")
        if edges is not None:
            _labels(people, name, edges, where["balance"])
    for field in ("at_most", "at_least"):
        for name, limits in getattr(policy, field).items():
            held = sorted(set(_labels(people, name, policy.balance.get(name), where[field])))
            for value in limits:
                if value not in held:
                    raise InputError(f"{where[field]}: no person has {name} {value!r}; its values are "
                                     f"{_listed(held)}")


def categories(policy: Policy, people: Sequence[Person]) -> Categories | None:
    """The mix attributes of ``policy`` over ``people`` (canonical order), or None without mix rules.

    Raises
    ------
    InputError
        As :func:`check_mix`.

    Examples
    --------
    >>> people = [Person(id=f"p{i}", team="a", attributes={"site": s}) for i, s in enumerate("LLY")]
    >>> cats = categories(Policy(no_isolation=["site"], at_most={"team": {"a": 2}}), people)
    >>> cats.attributes, cats.row_value, cats.person_row.tolist(), cats.row_hi.tolist()
    (('site', 'team'), ('L', 'Y', 'a'), [[0, 2], [0, 2], [1, 2]], [2147483647, 2147483647, 2])
    """
    attributes = policy.mix_attributes
    if not attributes:
        return None
    check_mix(policy, people)
    indptr = [0]
    values: list[str] = []
    person_row = np.zeros((len(people), len(attributes)), np.int64)
    for a, name in enumerate(attributes):
        labels = _labels(people, name, policy.balance.get(name), OPTIONS["balance"])
        distinct = sorted(set(labels))
        index = {v: indptr[-1] + i for i, v in enumerate(distinct)}
        person_row[:, a] = np.fromiter((index[v] for v in labels), np.int64, len(labels))
        values += distinct
        indptr.append(len(values))
    row_lo = np.zeros(len(values), np.int64)
    row_hi = np.full(len(values), _NO_CAP, np.int64)
    for field, out in (("at_least", row_lo), ("at_most", row_hi)):
        for name, limits in getattr(policy, field).items():
            a = attributes.index(name)
            for value, n in limits.items():
                out[indptr[a] + values[indptr[a]:indptr[a + 1]].index(value)] = n
    return Categories(
        attributes=attributes,
        attr_indptr=np.asarray(indptr, np.int64),
        row_value=tuple(values),
        person_row=person_row,
        row_lo=row_lo,
        row_hi=row_hi,
        balance=np.array([n in policy.balance for n in attributes], dtype=bool),
        soft=policy.balance_mode == "soft",
        isolation=np.array([n in policy.no_isolation for n in attributes], dtype=bool),
    )
