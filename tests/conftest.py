"""Shared test helpers: small random requests and a brute-force reference."""

from __future__ import annotations

import importlib.util
import itertools
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st

import cohortmatch as cm
from cohortmatch.compiled import compile_problem
from cohortmatch.rules import check_assignment
from cohortmatch.rules.sizes import Sizes
from cohortmatch.scoring import score

# CI explores the same examples on every run (a red CI is then reproducible locally with
# HYPOTHESIS_PROFILE=ci); a developer's runs explore new ones each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") or os.environ.get("HYPOTHESIS_PROFILE") == "ci":
    settings.load_profile("ci")


@pytest.fixture(autouse=True, scope="session")
def _compiled_kernels():
    """Compile (or load from numba's cache) every kernel before any test with a time limit."""
    cm.precompile()


@st.composite
def requests(draw, *, max_people: int = 12, max_teams: int = 5, modes=("cover", "diminishing", "sum")):
    """A random (org, courses, policy) request, feasible or not."""
    n_people = draw(st.integers(1, max_people))
    team_shape = draw(st.sampled_from(["random", "one_team", "one_person_per_team"]))
    if team_shape == "one_team":
        n_teams = 1
    elif team_shape == "one_person_per_team":
        n_teams = n_people
    else:
        n_teams = draw(st.integers(1, max_teams))
    teams = [f"t{i}" for i in range(n_teams)]
    if team_shape == "one_person_per_team":
        team_of = list(range(n_people))
    else:
        team_of = [draw(st.integers(0, n_teams - 1)) for _ in range(n_people)]
    shape = draw(st.sampled_from(["random", "one_boss", "none"]))
    people = []
    for i in range(n_people):
        if shape == "one_boss":
            manager = "p0" if i > 0 else None
        elif shape == "random" and i > 0 and draw(st.booleans()):
            manager = f"p{draw(st.integers(0, i - 1))}"
        else:
            manager = None
        people.append(cm.Person(id=f"p{i}", team=teams[team_of[i]], manager=manager))
    pairs = [(a, b) for a in range(n_teams) for b in range(a + 1, n_teams)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    gaps = [
        cm.Gap(a=teams[a], b=teams[b], weight=draw(st.sampled_from([0.5, 1.0, 2.0, 3.0, 7.25])))
        for a, b in chosen
    ]
    org = cm.Organisation(people=people, teams=[cm.Team(id=t) for t in teams], gaps=gaps)
    if draw(st.booleans()):  # sizes exactly tight: k cohorts of exactly n / k
        divisors = [k for k in range(1, 5) if n_people % k == 0]
        cohorts = draw(st.sampled_from(divisors))
        min_size = max_size = n_people // cohorts
    else:
        min_size = draw(st.integers(1, max(1, n_people)))
        max_size = draw(st.integers(min_size, max(min_size, n_people)))
        cohorts = draw(st.one_of(st.none(), st.integers(1, 4)))
    courses = [cm.Course(id="c", min_size=min_size, max_size=max_size, cohorts=cohorts)]
    policy = cm.Policy(
        coverage=draw(st.sampled_from(modes)),
        decay=draw(st.sampled_from([0.0, 0.5, 1.0])),
        max_per_team=draw(st.one_of(st.none(), st.integers(1, 3))),
        separate_manager_and_reports=draw(st.booleans()),
    )
    return org, courses, policy


def brute_force(org, courses, policy):
    """(best objective, any valid assignment exists) by enumerating every assignment."""
    problem = compile_problem(org, courses, policy)
    K = problem.n_cohorts
    best = None
    for labels in itertools.product(range(K), repeat=problem.n_units):
        a = np.asarray(labels)
        if check_assignment(problem, a):
            continue
        value = score(problem, a).objective
        if best is None or value > best:
            best = value
    return best


def compile_sized(org, courses, policy=None, **kwargs):
    """``compile_problem``, raising ``InfeasibleError`` when the cohort sizes alone cannot
    hold (the cases random requests skip)."""
    problem = compile_problem(org, courses, policy, **kwargs)
    conflicts = Sizes(problem).precheck()
    if conflicts:
        raise cm.InfeasibleError(conflicts)
    return problem


def load_script(relative: str, name: str):
    """A script of the project (``benchmarks/x.py``, ``examples/y.py``) imported as a module."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
