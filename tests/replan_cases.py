"""Random small requests, published plans and edits for the re-plan tests (no test here)."""

from __future__ import annotations

import itertools

import numpy as np

import cohortmatch as cm


def random_request(rng: np.random.Generator, *, people: tuple[int, int] = (6, 12),
                   teams: int = 3) -> cm.Request:
    """A one-course request: a few teams, some managers, a gap graph."""
    n = int(rng.integers(*people, endpoint=True))
    names = [f"t{i}" for i in range(teams)]
    ps = []
    for i in range(n):
        manager = f"p{int(rng.integers(i))}" if i and rng.random() < 0.2 else None
        ps.append(cm.Person(id=f"p{i}", team=names[int(rng.integers(teams))], manager=manager))
    gaps = [cm.Gap(a=a, b=b, weight=float(rng.integers(1, 4)))
            for a, b in itertools.combinations(names, 2) if rng.random() < 0.7]
    org = cm.Organisation(people=ps, teams=[cm.Team(id=t) for t in names], gaps=gaps)
    lo = int(rng.integers(2, 4))
    course = cm.Course(id="c", min_size=lo, max_size=lo + int(rng.integers(0, 3)))
    mode = ["cover", "diminishing"][int(rng.integers(2))]
    return cm.Request(org=org, courses=[course], policy=cm.Policy(mode=mode))


def edit(rng: np.random.Generator, req: cm.Request, plan: cm.Plan) -> cm.Request:
    """One to three random edits: leave, join, change team, keep apart, keep together, sizes, cap."""
    org, course, policy = req.org, req.courses[0], req.policy
    people = list(org.people)
    teams = [t.id for t in org.teams]
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(7))
        ids = [p.id for p in people]
        if kind == 0 and len(people) > 3:  # someone leaves (their reports lose their manager)
            gone = ids[int(rng.integers(len(ids)))]
            people = [p.model_copy(update={"manager": None}) if p.manager == gone else p
                      for p in people if p.id != gone]
        elif kind == 1:  # someone joins
            people.append(cm.Person(id=f"n{len(people)}{int(rng.integers(100))}",
                                    team=teams[int(rng.integers(len(teams)))]))
        elif kind == 2:  # someone changes team
            i = int(rng.integers(len(people)))
            people[i] = people[i].model_copy(update={"team": teams[int(rng.integers(len(teams)))]})
        elif kind == 3:  # two people who share a cohort must be apart
            big = [c for c in plan.cohorts if len([m for m in c.members if m in ids]) >= 2]
            if big:
                c = big[int(rng.integers(len(big)))]
                here = [m for m in c.members if m in ids]
                pair = tuple(rng.choice(here, 2, replace=False).tolist())
                policy = policy.model_copy(update={"keep_apart": (*policy.keep_apart, pair)})
        elif kind == 4:  # two people in different cohorts must be together
            pair = tuple(rng.choice(ids, 2, replace=False).tolist())
            policy = policy.model_copy(update={"keep_together": (*policy.keep_together, pair)})
        elif kind == 5:  # the course's sizes change
            lo = max(1, course.min_size + int(rng.integers(-1, 2)))
            hi = max(lo, course.max_size + int(rng.integers(-1, 2)))
            course = course.model_copy(update={"min_size": lo, "max_size": hi})
        else:  # a team cap
            policy = policy.model_copy(update={"max_per_team": int(rng.integers(1, 4))})
    ids = {p.id for p in people}
    policy = policy.model_copy(update={
        "keep_apart": tuple(g for g in policy.keep_apart if set(g) <= ids),
        "keep_together": tuple(g for g in policy.keep_together if set(g) <= ids),
    })
    return cm.Request(org=cm.Organisation(people=people, teams=org.teams, gaps=org.gaps),
                      courses=[course], policy=policy)


def brute_force_moves(req: cm.Request, previous: cm.Plan) -> int | None:
    """The fewest moves of any plan of a one-course, one-round request (None: no plan).

    See :func:`brute_force_plans`.
    """
    found = brute_force_plans(req, previous)
    return None if found is None else int(found[1].min())


def brute_force_value_at_fewest(req: cm.Request, previous: cm.Plan) -> float | None:
    """The most gap value (``cover``/``diminishing``) of the plans with the fewest moves.

    The value is computed here from the teams present in each cohort, not by the library.
    """
    found = brute_force_plans(req, previous)
    if found is None:
        return None
    a, moves = found
    a = a[moves == moves.min()]
    team = {p.id: p.team for p in req.org.people}
    people = sorted(team)
    k = req.compile().n_cohorts
    value = np.zeros(a.shape[0])
    present = {t: np.stack([(a[:, [i for i, p in enumerate(people) if team[p] == t]] == c).any(axis=1)
                            for c in range(k)], axis=1) for t in set(team.values())}
    none = np.zeros((a.shape[0], k), bool)
    d = req.policy.decay
    for g in req.org.gaps:
        c = (present.get(g.a, none) & present.get(g.b, none)).sum(axis=1)
        if req.policy.mode == "cover":
            value += g.weight * (c > 0)
        else:
            value += g.weight * (c if d >= 1.0 else (1.0 - d**c) / (1.0 - d))
    return float(value.max())


def brute_force_plans(req: cm.Request, previous: cm.Plan) -> tuple[np.ndarray, np.ndarray] | None:
    """Every plan of a one-course, one-round request, and its moves (None: no plan).

    Independent of the library's rules and matching: every assignment of the participants
    to the request's cohorts is checked in plain numpy (sizes, team cap, managers and
    keep_apart apart, keep_together together; no pins), and its moves are the people of
    the published plan less the most who can stay under a one-to-one matching of cohorts
    to published cohorts (all matchings tried).
    """
    course, policy = req.courses[0], req.policy
    people = sorted(p.id for p in req.org.people)
    person = {p.id: p for p in req.org.people}
    n, k = len(people), req.compile().n_cohorts
    index = {pid: i for i, pid in enumerate(people)}
    a = np.array(list(itertools.product(range(k), repeat=n)), np.int64).reshape(-1, n)
    sizes = (a[:, :, None] == np.arange(k)).sum(axis=1)
    ok = np.all((sizes >= course.min_size) & (sizes <= course.max_size), axis=1)
    if policy.max_per_team is not None:
        for team in {p.team for p in req.org.people}:
            cols = [index[p] for p in people if person[p].team == team]
            per = (a[:, cols][:, :, None] == np.arange(k)).sum(axis=1)
            ok &= np.all(per <= policy.max_per_team, axis=1)
    pairs = [(p, person[p].manager) for p in people
             if policy.separate_manager_and_reports and person[p].manager is not None]
    pairs += [pair for g in policy.keep_apart for pair in itertools.combinations(g, 2)]
    for x, y in pairs:
        ok &= a[:, index[x]] != a[:, index[y]]
    for g in policy.keep_together:
        for x, y in itertools.combinations(g, 2):
            ok &= a[:, index[x]] == a[:, index[y]]
    a = a[ok]
    if a.shape[0] == 0:
        return None
    labels = [c.members for c in previous.cohorts]
    label = np.array([next((i for i, m in enumerate(labels) if p in m), -1) for p in people])
    L = len(labels)
    stays = np.zeros((a.shape[0], k, L), np.int64)
    for i in range(n):
        if label[i] >= 0:
            stays[np.arange(a.shape[0]), a[:, i], label[i]] += 1
    best = np.zeros(a.shape[0], np.int64)
    for perm in itertools.permutations(range(max(k, L)), L):
        kept = sum(stays[:, c, x] for x, c in enumerate(perm) if c < k)
        best = np.maximum(best, kept)
    return a, (label >= 0).sum() - best
