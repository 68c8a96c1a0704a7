"""Decomposition: split a request into blocks of divisions whose gaps stay inside them.

If no gap joins two divisions of an organisation, a cohort that mixes them bridges no gap
between them: the value of a plan in ``cover`` and ``diminishing`` mode is a sum over
gaps, and each gap's count depends only on where its own division's people are. Such a
request can be planned as independent blocks, each a request of its own (its divisions'
people, teams, gaps and courses), and the block plans put side by side are a plan of the
whole request. (A whole plan can still gain in ``diminishing`` mode by spreading a team
over more cohorts than its block has; the packing rule below keeps blocks that roomy.)

A *division* is a connected component of the gap graph (teams joined by gaps of positive
weight, and by keep-together groups, whose people must share cohorts). Teams with no such
link at all are *filler*: they bridge nothing and only fill seats. Components are packed,
largest first, into blocks that each can be planned on its own: every course's
participants in the block fill whole cohorts of ``min_size..max_size``, every team fits
``max_per_team`` in the block's cohorts, and (``diminishing``) a team has as many cohorts
to spread over as in the whole request. Small or unplannable components and the filler
join the last block until it can.

Rules that tie people of different divisions together refuse decomposition
(:func:`couplings`): seats and course limits (who is placed depends on everyone), mix
rules (shares counted over a whole course), fixed cohort counts, pins, slots, meeting
caps, history, pair values and ``sum`` mode. Keep-apart pairs across blocks hold by construction
(people of different blocks never share a cohort), and so do managers apart.

The bound
---------
The plan of the whole request has, per course and round, the blocks' cohorts side by
side: :math:`K' = \\sum_b \\lceil n_b / \\text{max\\_size} \\rceil \\ge K = \\lceil n /
\\text{max\\_size} \\rceil` cohorts. :func:`whole_request` is the whole request with that
count fixed, and the reported bound is :func:`~cohortmatch.scoring.upper_bound` of *that*
problem, never a sum of block bounds (a block's bound assumes its own cohort count and
its people alone in its cohorts, which the whole request does not). It is valid:

- it bounds every plan with :math:`K'` cohorts, the decomposed plan included;
- it is at least the bound with the :math:`K` cohorts a plan of the request has without
  decomposition, hence at least that optimum: in ``upper_bound`` each gap's bridge count
  is capped by :math:`\\min(n_{a}, n_{b}, K_b)`, non-decreasing in the block's cohort count
  :math:`K_b`, and the pair capacity grows with the number of cohorts, while the per-team
  slot cap does not depend on it; every term is non-decreasing in :math:`K_b`.

``tests/test_decompose.py`` checks both on random small requests against the optima
CP-SAT proves for the request and for :func:`whole_request`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .compiled import CompiledProblem, cohorts_for
from .model import Gap, Organisation, Person, Team
from .request import Request
from .result import Plan

__all__ = ["couplings", "Split", "split_request", "whole_request", "assemble", "BLOCK_UNITS", "MAX_BLOCKS"]

#: With ``decompose="auto"``: blocks hold at least this many participant places, and a
#: request is decomposed only when it has at least two such blocks.
BLOCK_UNITS = 10_000
#: At most about this many blocks: smaller divisions are packed together (each block is a
#: request of its own, planned with its own compile and engine choice).
MAX_BLOCKS = 256


def couplings(req: Request) -> list[str]:
    """The reasons the request cannot be decomposed: rules that link people across divisions.

    Empty when decomposition is safe. Conservative: a rule that *might* couple blocks
    (for instance a quota or balance over a course's whole participants) refuses.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> org = cm.Organisation(people=[cm.Person(id=f"p{i}", team="ab"[i % 2]) for i in range(4)])
    >>> couplings(cm.Request(org=org, courses=[cm.Course(id="c", min_size=2, max_size=2, cohorts=2)]))
    ["course 'c' fixes its cohort count (2), which the blocks would share"]
    """
    p = req.policy
    out = []
    if p.mode not in ("cover", "diminishing"):
        out.append(f"mode {p.mode!r}: only 'cover' and 'diminishing' are decomposed")
    if req.pair_values is not None:
        out.append("pair values can join people of any two divisions")
    if req.history:
        out.append("history: earlier cohorts count in the whole request's metrics")
    if p.max_meetings is not None:
        out.append("max_meetings: meeting caps are counted over the whole programme")
    if p.mix_attributes:
        out.append("mix rules (balance, no_isolation, at_most, at_least) count shares over whole courses")
    if p.max_courses_per_person is not None:
        out.append("max_courses_per_person: who is placed is chosen over everyone")
    for c in req.courses:
        for field, why in (("cohorts", "fixes its cohort count ({v}), which the blocks would share"),
                           ("seats", "has seats ({v}): who is placed is chosen over everyone"),
                           ("pinned", "pins people to cohorts"), ("slots", "has slots")):
            value = getattr(c, field)
            if value:
                out.append(f"course {c.id!r} " + why.format(v=value))
    return out


@dataclass(frozen=True)
class Split:
    """The blocks of a request (:func:`split_request`).

    Attributes
    ----------
    blocks : tuple of Request
        One request per block, in a fixed order (largest divisions first); empty when
        the request does not split into two or more blocks.
    units : tuple of int
        Participant places of each block.
    divisions : int
        Connected components of the gap graph (with keep-together links).
    filler : int
        Teams with no gap and no keep-together link.
    """

    blocks: tuple[Request, ...]
    units: tuple[int, ...]
    divisions: int
    filler: int


@dataclass
class _Piece:
    """Teams packed together, with per-course places and the largest team's places."""

    teams: list[int]
    places: np.ndarray
    largest: np.ndarray

    def join(self, other: _Piece) -> _Piece:
        """This piece with ``other``'s teams added (in place: pieces are never shared)."""
        self.teams += other.teams
        self.places = self.places + other.places
        self.largest = np.maximum(self.largest, other.largest)
        return self


def _piece(places: np.ndarray, teams: np.ndarray) -> _Piece:
    """The piece of ``teams``: their places per course and the largest team's."""
    return _Piece(teams.tolist(), places[teams].sum(axis=0), places[teams].max(axis=0, initial=0))


def split_request(req: Request, *, min_units: int = 1) -> Split:
    """Cut a request into blocks that can be planned independently.

    Parameters
    ----------
    req : Request
        A request that :func:`couplings` does not refuse.
    min_units : int
        Fewest participant places of a block (smaller divisions are packed together).

    Returns
    -------
    Split
        No blocks when the request does not split into two or more.

    Examples
    --------
    >>> import cohortmatch as cm
    >>> people = [cm.Person(id=f"p{i}", team="abcd"[i % 4]) for i in range(16)]
    >>> org = cm.Organisation(people=people, gaps=[cm.Gap(a="a", b="b"), cm.Gap(a="c", b="d")])
    >>> split = split_request(cm.Request(org=org, courses=[cm.Course(id="c", min_size=4, max_size=4)]))
    >>> split.divisions, split.units, [sorted({p.team for p in b.org.people}) for b in split.blocks]
    (2, (8, 8), [['a', 'b'], ['c', 'd']])
    """
    team_index = {t.id: i for i, t in enumerate(req.org.teams)}
    team_of = {p.id: team_index[p.team] for p in req.org.people}
    label, divisions = _divisions(req, team_index, team_of)
    places = _places(req, team_of, len(team_index))
    order = np.argsort(label, kind="stable")
    cuts = np.searchsorted(label[order], np.arange(-1, divisions + 1))
    pieces = [_piece(places, order[cuts[g + 1]:cuts[g + 2]]) for g in range(divisions)]
    filler_teams = order[cuts[0]:cuts[1]]
    ids = [t.id for t in req.org.teams]
    pieces.sort(key=lambda q: (-int(q.places.sum()), min(ids[t] for t in q.teams)))
    rounds = np.array([c.rounds for c in req.courses], np.int64)
    packed = [q for q in _pack(req, pieces, _piece(places, filler_teams), min_units, rounds) if q.places.any()]
    if len(packed) < 2:
        packed = []
    return Split(
        blocks=_blocks(req, packed),
        units=tuple(int(q.places @ rounds) for q in packed),
        divisions=divisions, filler=int(filler_teams.shape[0]),
    )


def _divisions(req: Request, team_index: dict[str, int], team_of: dict[str, int]) -> tuple[np.ndarray, int]:
    """Division of each team (-1: filler), and the number of divisions."""
    T = len(team_index)
    pairs = [(team_index[g.a], team_index[g.b]) for g in req.org.gaps if g.weight > 0]
    for group in req.policy.keep_together:
        teams = [team_of[m] for m in group if m in team_of]
        pairs += [(teams[0], t) for t in teams[1:] if t != teams[0]]
    a, b = (np.array(x, np.int64) for x in zip(*pairs, strict=True)) if pairs else (np.zeros(0, np.int64),) * 2
    graph = sp.coo_matrix((np.ones(a.shape[0]), (a, b)), shape=(T, T))
    _, label = connected_components(graph, directed=False)
    linked = np.zeros(T, bool)
    linked[a] = linked[b] = True
    _, label = np.unique(np.where(linked, label, -1), return_inverse=True)
    label = label.astype(np.int64) - (0 if linked.all() else 1)
    return label, int(label.max(initial=-1)) + 1


def _places(req: Request, team_of: dict[str, int], T: int) -> np.ndarray:
    """Participants of each course per team, (T, C)."""
    C = len(req.courses)
    everyone = np.bincount(np.array(list(team_of.values()), np.int64), minlength=T)
    out = np.zeros((T, C), np.int64)
    for j, c in enumerate(req.courses):
        if c.participants is None:
            out[:, j] = everyone
        else:
            out[:, j] = np.bincount(np.array([team_of[m] for m in c.participants if m in team_of],
                                             np.int64), minlength=T)
    return out


def _plannable(req: Request, piece: _Piece, spread: np.ndarray) -> bool:
    """Whether each course's places in ``piece`` fill whole cohorts within the team cap,
    and (``diminishing``) leave each team as many cohorts to spread over as the whole
    request does (``spread``: per course, the whole request's cohort count)."""
    cap = req.policy.max_per_team
    diminishing = req.policy.mode == "diminishing"
    for c, n, m, K in zip(req.courses, piece.places.tolist(), piece.largest.tolist(), spread.tolist(),
                          strict=True):
        if n == 0:
            continue
        k = cohorts_for(n, c)  # couplings() refuses fixed cohort counts: ceil(n / max_size)
        if k * c.min_size > n or (cap is not None and m > cap * k) or (diminishing and k < min(m, K)):
            return False
    return True


def _pack(req: Request, pieces: list[_Piece], filler: _Piece, min_units: int,
          rounds: np.ndarray) -> list[_Piece]:
    """Blocks of at least ``min_units`` places (places per course times its ``rounds``)
    that can each be planned, largest first."""
    everyone = sum((q.places for q in pieces), filler.places)
    spread = np.array([cohorts_for(n, c) for c, n in zip(req.courses, everyone.tolist(), strict=True)])

    def plannable(piece: _Piece) -> bool:
        return _plannable(req, piece, spread)

    blocks: list[_Piece] = []
    pending: _Piece | None = None
    for piece in pieces:
        pending = piece if pending is None else pending.join(piece)
        if int(pending.places @ rounds) >= min_units and plannable(pending):
            blocks.append(pending)
            pending = None
    if filler.teams:
        pending = filler if pending is None else pending.join(filler)
    if pending is not None:
        if blocks and (int(pending.places @ rounds) < min_units or not plannable(pending)):
            blocks[-1] = blocks[-1].join(pending)
        else:
            blocks.append(pending)
    while len(blocks) > 1 and not plannable(blocks[-1]):
        last = blocks.pop()
        blocks[-1] = blocks[-1].join(last)
    return blocks


def _blocks(req: Request, packed: Sequence[_Piece]) -> tuple[Request, ...]:
    """The request of each block: its teams' people, teams, gaps, courses and rules.

    One pass over each list of the request. A manager in another block, and keep-apart
    partners in another block, are left out (they never share a cohort anyway).
    """
    org = req.org
    team_block = {org.teams[t].id: b for b, q in enumerate(packed) for t in q.teams}
    person_block = {p.id: team_block.get(p.team, -1) for p in org.people}
    n = len(packed)
    people: list[list[Person]] = [[] for _ in range(n)]
    for p in org.people:
        b = person_block[p.id]
        if b >= 0:
            people[b].append(p if p.manager is None or person_block[p.manager] == b
                             else p.model_copy(update={"manager": None}))
    teams: list[list[Team]] = [[] for _ in range(n)]
    for t in org.teams:
        b = team_block.get(t.id, -1)
        if b >= 0:
            teams[b].append(t if t.parent is None or team_block.get(t.parent) == b
                            else t.model_copy(update={"parent": None}))
    gaps: list[list[Gap]] = [[] for _ in range(n)]
    for g in org.gaps:
        b = team_block.get(g.a, -1)
        if b >= 0 and team_block.get(g.b) == b:
            gaps[b].append(g)
    courses = _split_groups([c.participants or () for c in req.courses], person_block, n, least=1)
    apart = _split_groups(req.policy.keep_apart, person_block, n, least=2)
    together = _split_groups(req.policy.keep_together, person_block, n, least=2)
    return tuple(req.model_copy(update={
        "org": Organisation.model_construct(people=tuple(people[b]), teams=tuple(teams[b]),
                                            gaps=tuple(gaps[b])),
        "courses": tuple(c if c.participants is None else c.model_copy(update={"participants": courses[b][i]})
                         for i, c in enumerate(req.courses) if c.participants is None or courses[b][i]),
        "policy": req.policy.model_copy(update={"keep_apart": tuple(g for g in apart[b] if g),
                                                "keep_together": tuple(g for g in together[b] if g)}),
    }) for b in range(n))


def _split_groups(groups: Sequence[Sequence[str]], person_block: dict[str, int], n: int, *,
                  least: int) -> list[list[tuple[str, ...]]]:
    """Each group's members in each of ``n`` blocks, ``()`` where fewer than ``least``."""
    out: list[list[tuple[str, ...]]] = [[] for _ in range(n)]
    for group in groups:
        parts: list[list[str]] = [[] for _ in range(n)]
        for m in group:
            b = person_block.get(m, -1)
            if b >= 0:
                parts[b].append(m)
        for b in range(n):
            out[b].append(tuple(parts[b]) if len(parts[b]) >= least else ())
    return out


def whole_request(req: Request, split: Split) -> Request:
    """The request with each course's cohort count fixed at the sum of its blocks' counts.

    The decomposed plan is a plan of this request, and its bound is the one reported
    (see the module docstring for why it holds for ``req`` too).
    """
    count = dict.fromkeys((c.id for c in req.courses), 0)
    for block in split.blocks:
        n = _participants(block)
        for c in block.courses:
            count[c.id] += cohorts_for(n[c.id], c)
    return req.with_courses([c.model_copy(update={"cohorts": max(1, count[c.id])}) for c in req.courses])


def _participants(req: Request) -> dict[str, int]:
    everyone = len(req.org.people)
    return {c.id: everyone if c.participants is None else len(c.participants) for c in req.courses}


def assemble(problem: CompiledProblem, plans: Sequence[Plan]) -> np.ndarray:
    """The assignment of ``problem`` (:func:`whole_request` compiled) holding the block plans.

    Each course round's cohorts are handed out to the blocks in block order, each block's
    cohorts in the order of its plan.
    """
    first = {(problem.course_ids[int(ci)], int(r)): int(problem.block_cohorts[b])
             for b, (ci, r) in enumerate(zip(problem.block_course, problem.block_round, strict=True))}
    unit_of = problem.unit_index()
    a = np.full(problem.n_units, -1, np.int64)
    used = dict.fromkeys(first, 0)
    for planned in plans:
        for cohort in planned.cohorts:
            key = (cohort.course, cohort.round)
            k = first[key] + used[key]
            used[key] += 1
            a[[unit_of[(m, cohort.course, cohort.round)] for m in cohort.members]] = k
    return a
