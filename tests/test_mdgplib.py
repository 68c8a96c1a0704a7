"""Tests of the MDGPLIB reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cohortmatch.errors import InputError
from cohortmatch.mdgplib import parse_mdgplib, read_mdgplib

DATA = Path(__file__).parent / "data" / "mdgplib"


def test_read_small_instance():
    inst = read_mdgplib(DATA / "RanReal_n012_ds_01.txt")
    assert (inst.name, inst.n, inst.m, inst.kind) == ("RanReal_n012_ds_01", 12, 4, "ds")
    assert len(inst.sizes) == 4 and all(a <= b for a, b in inst.sizes)
    V = inst.values
    assert np.allclose(V, V.T) and np.all(np.diag(V) == 0)
    assert np.count_nonzero(np.triu(V, 1)) == 66


def test_parse_tiny():
    inst = parse_mdgplib("3 1 ss 3 3 \n0 1 1.5\n0 2 2\n1 2 4\n")
    assert inst.values.tolist() == [[0, 1.5, 2], [1.5, 0, 4], [2, 4, 0]]


GOOD_BODY = "0 1 1\n0 2 2\n1 2 3\n"


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "line 1: the header"),
        ("3 1\n", "line 1: the header needs"),
        ("x 1 ss 3 3\n" + GOOD_BODY, "line 1, field 'n': not an integer"),
        ("3 1 xx 3 3\n" + GOOD_BODY, "field 3: the size type must be 'ss' or 'ds'"),
        ("3 2 ss 3 3\n" + GOOD_BODY, "2 groups need 4 size bounds"),
        ("3 1 ss 3 2\n" + GOOD_BODY, "group 0 bounds must satisfy"),
        ("3 1 ss 3 3\n0 1 1\n0 2 2\n", "need 3 value lines. Got 2"),
        ("3 1 ss 3 3\n0 1 1\n0 2 2\n1 2\n", "line 4: expected 'i j d_ij'"),
        ("3 1 ss 3 3\n0 1 1\n0 2 2\n1 2 abc\n", "line 4, field 'd_ij': not a number"),
        ("3 1 ss 3 3\n0 1 1\n0 2 2\n1 2 nan\n", "line 4, field 'd_ij': must be finite"),
        ("3 1 ss 3 3\n0 1 1\n2 0 2\n1 2 3\n", r"line 3: need 0 <= i < j < 3"),
        ("3 1 ss 3 3\n0 1 1\n0 1 2\n1 2 3\n", r"line 3: pair \(0, 1\) is given twice"),
    ],
)
def test_malformed(text, match):
    with pytest.raises(InputError, match=match):
        parse_mdgplib(text, name="bad")


def test_error_names_file(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_text("3 1 ss 3 3\n0 1 1\n0 2 2\n1 2 abc\n")
    with pytest.raises(InputError, match=r"broken\.txt, line 4"):
        read_mdgplib(path)
