"""Finite fields GF(q) as addition and multiplication tables (q a prime power)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["GaloisField", "prime_power", "galois_field"]

#: Largest field built (its tables hold q * q entries).
MAX_ORDER = 1024


def prime_power(n: int) -> tuple[int, int] | None:
    """``(p, e)`` with p prime and ``n == p**e``, ``e >= 1``; None when n is no prime power.

    Examples
    --------
    >>> prime_power(27), prime_power(12), prime_power(1)
    ((3, 3), None, None)
    """
    if n < 2:
        return None
    p = next((f for f in range(2, math.isqrt(n) + 1) if n % f == 0), n)  # smallest prime factor
    e = 0
    while n % p == 0:
        n //= p
        e += 1
    return (p, e) if n == 1 else None


@dataclass(frozen=True)
class GaloisField:
    """GF(q): elements 0..q-1 (base-p digits of a polynomial over GF(p)), 0 and 1 as usual.

    Attributes
    ----------
    q, p, e : int
        The order ``q = p**e``.
    add, mul : int64 arrays (q, q)
        Addition and multiplication tables.
    power : int64 array (q - 1,)
        ``power[i]`` is ``g**i`` for a primitive element g.
    log : int64 array (q,)
        Inverse of ``power`` on the nonzero elements (``log[0]`` is -1).
    """

    q: int
    p: int
    e: int
    add: np.ndarray
    mul: np.ndarray
    power: np.ndarray
    log: np.ndarray

    @property
    def neg(self) -> np.ndarray:
        """``neg[x]`` is ``-x``."""
        return np.argmin(self.add, axis=1).astype(np.int64)


def _digits(x: np.ndarray, p: int, e: int) -> np.ndarray:
    return (x[..., None] // p ** np.arange(e)) % p


def _primitive_powers(p: int, e: int) -> np.ndarray | None:
    """Powers of x modulo the first primitive polynomial of degree e over GF(p), or None."""
    q = p**e
    weights = p ** np.arange(e)
    for tail in range(q):  # monic f = x^e + (tail's digits); x^e == -tail
        reduce = (-_digits(np.array(tail), p, e)) % p
        v = np.zeros(e, np.int64)
        v[0] = 1
        seen = np.empty(q - 1, np.int64)
        for i in range(q - 1):
            seen[i] = int(v @ weights)
            top = v[-1]
            v = np.concatenate([[0], v[:-1]])
            v = (v + top * reduce) % p
        if np.unique(seen).shape[0] == q - 1 and seen.min() >= 1:
            return seen
    return None


@lru_cache(maxsize=32)
def galois_field(q: int) -> GaloisField | None:
    """The field of order ``q``, or None when q is no prime power or above :data:`MAX_ORDER`.

    Examples
    --------
    >>> F = galois_field(9)
    >>> int(F.mul[F.power[3], F.power[7]]) == int(F.power[10 % 8])
    True
    >>> galois_field(6) is None
    True
    """
    pe = prime_power(q)
    if pe is None or q > MAX_ORDER:
        return None
    p, e = pe
    x = np.arange(q)
    add = (_digits(x[:, None], p, e) + _digits(x[None, :], p, e)) % p @ p ** np.arange(e)
    power = np.arange(1, q) if e == 1 else _primitive_powers(p, e)
    if e == 1:  # the smallest primitive root modulo p
        for g in range(1, p):
            seen = np.array([pow(g, i, p) for i in range(p - 1)], np.int64)
            if np.unique(seen).shape[0] == p - 1:
                power = seen
                break
    assert power is not None  # a primitive polynomial of every degree exists
    log = np.full(q, -1, np.int64)
    log[power] = np.arange(q - 1)
    mul = np.zeros((q, q), np.int64)
    nz = np.arange(1, q)
    mul[1:, 1:] = power[(log[nz][:, None] + log[nz][None, :]) % (q - 1)]
    return GaloisField(q=q, p=p, e=e, add=add.astype(np.int64), mul=mul, power=power.astype(np.int64),
                       log=log)
