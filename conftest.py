"""The names every doctest in ``src/cohortmatch`` may use without importing them.

Examples in docstrings build small requests from the model classes and compile them; this
one fixture gives them ``np``, ``cm`` (the package), ``compile_problem`` and the model
classes, instead of the same import lines in every docstring.
"""

from __future__ import annotations

import numpy as np
import pytest

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.model import Course, Gap, Organisation, Person, Policy, Team


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict) -> None:
    doctest_namespace.update(
        np=np, cm=cm, compile_problem=compile_problem, Course=Course, Gap=Gap,
        Organisation=Organisation, Person=Person, Policy=Policy, Team=Team,
    )
