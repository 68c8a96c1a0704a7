"""Read instances of MDGPLIB, the maximally diverse grouping problem benchmark."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from . import limits
from .errors import InputError
from .guards import check_bytes

__all__ = ["MDGPInstance", "read_mdgplib", "parse_mdgplib"]


@dataclass(frozen=True, eq=False)
class MDGPInstance:
    """One MDGPLIB instance.

    Attributes
    ----------
    name : str
        File name without extension (e.g. ``RanReal_n240_ss_01``).
    values : float64 array (n, n)
        Symmetric pair values :math:`d_{ij}`, zero diagonal.
    sizes : list of (int, int)
        ``(a_g, b_g)`` size bounds of each group.
    kind : str
        ``ss`` (equal sizes) or ``ds`` (different sizes).
    """

    name: str
    values: np.ndarray
    sizes: list[tuple[int, int]]
    kind: str

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    @property
    def m(self) -> int:
        return len(self.sizes)


def read_mdgplib(path: str | os.PathLike[str]) -> MDGPInstance:
    """Read an MDGPLIB file.

    The format: a header ``n m ss|ds a_1 b_1 ... a_m b_m``, then the ``n(n-1)/2`` lines
    ``i j d_ij`` of the upper triangle, 0-based, ``i < j``.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    MDGPInstance

    Raises
    ------
    InputError
        The file is malformed; the message names the file, the line and the field.

    See Also
    --------
    parse_mdgplib : the same from text.
    """
    name = os.path.splitext(os.path.basename(os.fspath(path)))[0]
    limits.check_file(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (FileNotFoundError, IsADirectoryError):
        raise InputError(f"{os.fspath(path)}: no such file") from None
    except UnicodeDecodeError as err:
        raise InputError(f"{os.fspath(path)}: not UTF-8 text ({err.reason})") from None
    return parse_mdgplib(text, name=name, source=os.fspath(path))


def parse_mdgplib(text: str, *, name: str = "instance", source: str | None = None) -> MDGPInstance:
    """Parse the text of an MDGPLIB instance (see :func:`read_mdgplib`).

    Examples
    --------
    >>> inst = parse_mdgplib("3 1 ss 3 3 \\n0 1 1.5\\n0 2 2\\n1 2 4\\n", name="tiny")
    >>> inst.n, inst.m, inst.sizes, inst.values[1].tolist()
    (3, 1, [(3, 3)], [1.5, 0.0, 4.0])
    """
    where = source or name
    lines = text.splitlines()
    if not lines or not lines[0].split():
        raise InputError(f"{where}, line 1: the header 'n m ss|ds a_1 b_1 ...' is missing")
    head = lines[0].split()
    if len(head) < 3:
        raise InputError(f"{where}, line 1: the header needs 'n m ss|ds' and the size bounds")
    n = _int(head[0], where, 1, "n")
    m = _int(head[1], where, 1, "m")
    if n < 1 or m < 1:
        raise InputError(f"{where}, line 1: 'n' and 'm' must be >= 1. Got n={n}, m={m}.")
    check_bytes(9 * n * n, f"{where}: the dense {n} x {n} value matrix")
    kind = head[2]
    if kind not in ("ss", "ds"):
        raise InputError(
            f"{where}, line 1, field 3: the size type must be 'ss' or 'ds'. Got {kind!r}."
        )
    if len(head) != 3 + 2 * m:
        raise InputError(
            f"{where}, line 1: {m} groups need {2 * m} size bounds after the type. "
            f"Got {len(head) - 3}."
        )
    bounds = [_int(tok, where, 1, f"field {i + 4}") for i, tok in enumerate(head[3:])]
    sizes = list(zip(bounds[0::2], bounds[1::2], strict=True))
    for g, (a, b) in enumerate(sizes):
        if a < 0 or b < a:
            raise InputError(f"{where}, line 1: group {g} bounds must satisfy 0 <= a <= b. Got ({a}, {b}).")  # noqa: E501
    body = [(i + 2, ln) for i, ln in enumerate(lines[1:]) if ln.strip()]
    expected = n * (n - 1) // 2
    if len(body) != expected:
        raise InputError(f"{where}: {n} elements need {expected} value lines. Got {len(body)}.")
    V = np.zeros((n, n), dtype=np.float64)
    seen = np.zeros((n, n), dtype=bool)
    for lineno, ln in body:
        parts = ln.split()
        if len(parts) != 3:
            raise InputError(f"{where}, line {lineno}: expected 'i j d_ij'. Got {ln.strip()!r}.")
        i = _int(parts[0], where, lineno, "i")
        j = _int(parts[1], where, lineno, "j")
        try:
            d = float(parts[2])
        except ValueError:
            raise InputError(f"{where}, line {lineno}, field 'd_ij': not a number: {parts[2]!r}") from None  # noqa: E501
        if not np.isfinite(d):
            raise InputError(f"{where}, line {lineno}, field 'd_ij': must be finite. Got {parts[2]!r}.")  # noqa: E501
        if not (0 <= i < j < n):
            raise InputError(f"{where}, line {lineno}: need 0 <= i < j < {n}. Got i={i}, j={j}.")
        if seen[i, j]:
            raise InputError(f"{where}, line {lineno}: pair ({i}, {j}) is given twice")
        seen[i, j] = True
        V[i, j] = V[j, i] = d
    return MDGPInstance(name=name, values=V, sizes=sizes, kind=kind)


def _int(token: str, where: str, lineno: int, field: str) -> int:
    try:
        return int(token)
    except ValueError:
        raise InputError(f"{where}, line {lineno}, field {field!r}: not an integer: {token!r}") from None  # noqa: E501
