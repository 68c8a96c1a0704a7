"""``max_meetings``: over a programme, no two people share a cohort more often than this.

Person-pair meeting counts: who shared a cohort with whom, how often.

Two people *meet* once for every cohort they share, in this plan or in its ``history``
(earlier rounds). :class:`MeetingCounter` keeps the counts incrementally for searches:
a dense ``(P, P)`` matrix for organisations up to :data:`DENSE_LIMIT` people, a sparse
dictionary above; a move costs O(cohort size) either way. :func:`assignment_meetings`
counts them from scratch, vectorised.
"""

from __future__ import annotations

import numpy as np

from ..compiled import NO_CAP, CompiledProblem
from ..errors import InfeasibleError
from .base import Rule

__all__ = [
    "MeetingCap",
    "DENSE_LIMIT",
    "MeetingCounter",
    "assignment_meetings",
    "cohort_pairs",
    "repeated_meetings",
    "meeting_precheck",
    "raise_if_too_many_meetings",
]

#: Above this many people, :class:`MeetingCounter` stores counts in a dictionary.
DENSE_LIMIT = 3000


def cohort_pairs(persons: np.ndarray, cohorts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All person pairs ``(a < b)`` sharing a cohort, one row per shared cohort.

    Examples
    --------
    >>> a, b = cohort_pairs(np.array([3, 1, 2, 0]), np.array([0, 0, 0, 1]))
    >>> list(zip(a.tolist(), b.tolist()))
    [(1, 2), (1, 3), (2, 3)]
    """
    order = np.lexsort((persons, cohorts))
    persons, cohorts = persons[order], cohorts[order]
    if persons.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, cohorts[1:] != cohorts[:-1]])
    sizes = np.diff(np.r_[starts, cohorts.shape[0]])
    a_parts, b_parts = [], []
    for m in np.unique(sizes):
        if m < 2:
            continue
        rows = persons[starts[sizes == m][:, None] + np.arange(m)]  # (n cohorts of size m, m)
        i, j = np.triu_indices(int(m), 1)
        a_parts.append(rows[:, i].ravel())
        b_parts.append(rows[:, j].ravel())
    if not a_parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(a_parts).astype(np.int64), np.concatenate(b_parts).astype(np.int64)


def assignment_meetings(
    problem: CompiledProblem, assignment: np.ndarray, *, history: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of people who meet, and how often, vectorised.

    Parameters
    ----------
    problem : CompiledProblem
    assignment : int array (U,)
        Cohort of every unit, -1 for unassigned.
    history : bool
        Count the meetings of the problem's ``history`` too.

    Returns
    -------
    a, b, n : int64 arrays
        Person indices ``a < b`` and their number of meetings ``n >= 1``.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team="t") for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="c", min_size=2, max_size=2, rounds=2)],
    ...                        history=[["p0", "p1"]])
    >>> a, b, n = assignment_meetings(prob, np.array([0, 0, 1, 1, 2, 2, 3, 3]))
    >>> [(int(x), int(y), int(z)) for x, y, z in zip(a, b, n)]
    [(0, 1, 3), (2, 3, 2)]
    """
    p = problem
    a_ = np.asarray(assignment)
    placed = a_ >= 0
    pa, pb = cohort_pairs(p.unit_person[placed].astype(np.int64), a_[placed].astype(np.int64))
    P = p.n_people
    keys = pa * P + pb
    weights = np.ones(keys.shape[0], np.int64)
    if history and p.history_pair_a.shape[0]:
        keys = np.concatenate([keys, p.history_pair_a.astype(np.int64) * P + p.history_pair_b])
        weights = np.concatenate([weights, p.history_pair_n.astype(np.int64)])
    uk, inv = np.unique(keys, return_inverse=True)
    n = np.bincount(inv, weights=weights, minlength=uk.shape[0]).astype(np.int64)
    return uk // P, uk % P, n


def repeated_meetings(
    problem: CompiledProblem, assignment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs who meet in ``assignment`` and more than ``problem.max_meetings`` times in all.

    Meetings of the history count; pairs over the cap in the history alone, who do not
    meet in this assignment, are not listed.

    Returns
    -------
    a, b, n : int64 arrays
        Person indices and their meetings, only the pairs over the cap (empty without a cap).
    """
    a, b, n = assignment_meetings(problem, assignment)
    if problem.max_meetings == NO_CAP:
        return a[:0], b[:0], n[:0]
    now_a, now_b, _ = assignment_meetings(problem, assignment, history=False)
    P = problem.n_people
    over = (n > problem.max_meetings) & np.isin(a * P + b, now_a * P + now_b)
    return a[over], b[over], n[over]


class MeetingCounter:
    """Incremental person-pair meeting counts.

    Parameters
    ----------
    n_people : int
    a, b, n : int arrays
        Starting counts: pair ``(a[i], b[i])`` has met ``n[i]`` times.
    dense : bool, optional
        Force the dense matrix (True) or the dictionary (False); by default dense up to
        :data:`DENSE_LIMIT` people.

    Examples
    --------
    >>> mc = MeetingCounter(4, np.array([0]), np.array([1]), np.array([2]))
    >>> mc.join(2, np.array([0, 1]))          # person 2 joins a cohort holding 0 and 1
    >>> mc.counts(0, np.array([1, 2, 3])).tolist()
    [2, 1, 0]
    >>> mc.leave(2, np.array([0, 1])); mc.counts(2, np.array([0, 1])).tolist()
    [0, 0]
    """

    def __init__(
        self,
        n_people: int,
        a: np.ndarray,
        b: np.ndarray,
        n: np.ndarray,
        *,
        dense: bool | None = None,
    ):
        self.n_people = int(n_people)
        self.dense = self.n_people <= DENSE_LIMIT if dense is None else bool(dense)
        a = np.asarray(a, np.int64)
        b = np.asarray(b, np.int64)
        n = np.asarray(n, np.int64)
        if self.dense:
            self.matrix = np.zeros((self.n_people, self.n_people), np.int32)
            np.add.at(self.matrix, (a, b), n)
            np.add.at(self.matrix, (b, a), n)
        else:
            self.table: dict[int, int] = {}
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            for key, value in zip((lo * self.n_people + hi).tolist(), n.tolist(), strict=True):
                self.table[key] = self.table.get(key, 0) + value

    @classmethod
    def from_problem(cls, problem: CompiledProblem, assignment: np.ndarray) -> MeetingCounter:
        """The meetings of an assignment and of the problem's history."""
        a, b, n = assignment_meetings(problem, assignment)
        return cls(problem.n_people, a, b, n)

    def counts(self, person: int, others: np.ndarray) -> np.ndarray:
        """How often ``person`` met each of ``others`` (int array)."""
        others = np.asarray(others, np.int64)
        if self.dense:
            return self.matrix[person, others]
        P = self.n_people
        lo, hi = np.minimum(others, person), np.maximum(others, person)
        keys = (lo * P + hi).tolist()
        return np.fromiter((self.table.get(k, 0) for k in keys), np.int64, len(keys))

    def _add(self, person: int, others: np.ndarray, delta: int) -> None:
        others = np.asarray(others, np.int64)
        others = others[others != person]
        if self.dense:
            self.matrix[person, others] += delta
            self.matrix[others, person] += delta
            return
        P = self.n_people
        lo, hi = np.minimum(others, person), np.maximum(others, person)
        for k in (lo * P + hi).tolist():
            value = self.table.get(k, 0) + delta
            if value:
                self.table[k] = value
            else:
                self.table.pop(k, None)

    def join(self, person: int, others: np.ndarray) -> None:
        """``person`` joins a cohort holding ``others``: one more meeting with each."""
        self._add(person, others, 1)

    def leave(self, person: int, others: np.ndarray) -> None:
        """``person`` leaves a cohort holding ``others``: one meeting less with each."""
        self._add(person, others, -1)


def _where(problem: CompiledProblem, b: int) -> str:
    course = problem.course_ids[problem.block_course[b]]
    return f"course {course!r} round {int(problem.block_round[b]) + 1}"


def meeting_precheck(problem: CompiledProblem) -> list[str]:
    r"""Ways ``max_meetings`` is impossible that counting proves; empty when none is found.

    Three counting arguments, valid for any cohort sizes and participants:

    * **Partners.** In every course round a person sits with at least ``min_size - 1``
      others, so over the programme they need :math:`\sum_b (\text{min}_b - 1)` meetings;
      they can have at most :math:`\sum_j \min(\text{max\_meetings} - h_{ij}, s_{ij})`,
      where :math:`h_{ij}` counts earlier meetings and :math:`s_{ij}` the rounds both
      take. For the Social Golfer Problem this is :math:`w (p - 1) \le g p - 1`.
    * **Pairs.** A round of :math:`n_b` people in :math:`K_b` cohorts seats at least the
      pairs of the most even split; over the programme that many meetings must fit in
      :math:`\sum_{i<j} \min(\text{max\_meetings} - h_{ij}, s_{ij})`. This catches what
      the partner count misses when some cohorts must be larger: 51 people in 25 cohorts
      (24 pairs and a triple) seat 27 pairs a round, and the 1,275 pairs of 51 people
      allow at most 47 rounds.
    * **Two rounds** (``max_meetings=1``). The people of a cohort of round :math:`b_2` who
      also took round :math:`b_1` must come from different cohorts of :math:`b_1`, so
      :math:`\text{min}_{b_2} \le K_{b_1} + |P_{b_2} \setminus P_{b_1}|`; for golfers,
      :math:`p \le g`.

    A pair who already met more often than allowed in the history is reported as well.
    The partner and pair counts need the dense person-by-person arrays and are skipped
    above :data:`DENSE_LIMIT` people.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"g{i:02d}", team=f"t{i}") for i in range(15)])
    >>> golf = Course(id="golf", min_size=3, max_size=3, rounds=8)     # Kirkman + 1 week
    >>> for reason in meeting_precheck(compile_problem(org, [golf], Policy(max_meetings=1))):
    ...     print(reason)
    15 people must each meet 16 times over the programme, but max_meetings 1 allows at most 14
    (e.g. person 'g00')
    """
    p = problem
    cap = p.max_meetings
    if cap == NO_CAP or p.n_units == 0:
        return []
    out: list[str] = []
    if p.history_pair_n.shape[0] and int(p.history_pair_n.max()) > cap:
        k = int((p.history_pair_n > cap).sum())
        i = int(np.argmax(p.history_pair_n))
        pa, pb = p.person_ids[p.history_pair_a[i]], p.person_ids[p.history_pair_b[i]]
        out.append(
            f"{k} pair(s) already met more than max_meetings {cap} times in the history "
            f"(e.g. {pa!r} and {pb!r})"
        )
    B = p.n_blocks
    block_min = p.cohort_min[p.block_cohorts[:-1]].astype(np.int64)
    K = np.diff(p.block_cohorts).astype(np.int64)
    if p.n_people <= DENSE_LIMIT:
        inc = np.zeros((p.n_people, B), dtype=np.float32)
        inc[p.unit_person, p.unit_block] = 1.0
        need = inc @ (block_min - 1).astype(np.float32)
        shared = inc @ inc.T
        np.fill_diagonal(shared, 0.0)
        room = np.full_like(shared, float(cap))
        room[p.history_pair_a, p.history_pair_b] -= p.history_pair_n
        room[p.history_pair_b, p.history_pair_a] -= p.history_pair_n
        can = np.minimum(np.maximum(room, 0.0), shared).sum(axis=1)
        short = np.flatnonzero(need > can + 0.5)
        if short.shape[0]:
            i = int(short[0])
            out.append(
                f"{short.shape[0]} people must each meet {int(need[i])} times over the "
                f"programme, but max_meetings {cap} allows at most {int(can[i])} "
                f"(e.g. person {p.person_ids[i]!r})"
            )
        seated = _fewest_pairs(p)
        room_pairs = int(round(can.sum() / 2))
        if not short.shape[0] and seated > room_pairs:
            out.append(
                f"the rounds seat at least {seated} pairs of people together, but "
                f"max_meetings {cap} allows at most {room_pairs} meetings over the programme"
            )
    if cap == 1 and B > 1:
        members = [
            np.unique(p.unit_person[p.block_units[b] : p.block_units[b + 1]]) for b in range(B)
        ]
        for b2 in range(B):
            for b1 in range(B):
                if b1 == b2:
                    continue
                fresh = int(np.setdiff1d(members[b2], members[b1], assume_unique=True).shape[0])
                if block_min[b2] > K[b1] + fresh:
                    out.append(
                        f"{_where(p, b2)}: a cohort needs {block_min[b2]} people who have not met, "
                        f"but those who also take {_where(p, b1)} come from its {K[b1]} cohort(s)"
                        + (f" and only {fresh} others take part" if fresh else "")
                        + " (max_meetings 1)"
                    )
                    return out
    return out


def _fewest_pairs(problem: CompiledProblem) -> int:
    """Pairs seated together over all rounds, at the fewest: each round split most evenly."""
    p = problem
    n = np.diff(p.block_units).astype(np.int64)
    K = np.maximum(np.diff(p.block_cohorts).astype(np.int64), 1)
    base, extra = n // K, n % K
    return int(((K - extra) * base * (base - 1) // 2 + extra * (base + 1) * base // 2).sum())


def raise_if_too_many_meetings(problem: CompiledProblem) -> None:
    """Raise :class:`InfeasibleError` listing what :func:`meeting_precheck` proves."""
    conflicts = meeting_precheck(problem)
    if conflicts:
        raise InfeasibleError(conflicts)


class MeetingCap(Rule):
    """``max_meetings`` as a hard rule (a soft cap is an objective, counted by the engines).

    No compiled kernel or CP-SAT model keeps it: the engines that do (``heuristic``,
    ``golfer``) check it with :class:`MeetingCounter`.

    Examples
    --------
    >>> org = Organisation(people=[Person(id=f"p{i}", team=f"t{i}") for i in range(4)])
    >>> prob = compile_problem(org, [Course(id="g", min_size=2, max_size=2, rounds=2)],
    ...                        Policy(max_meetings=1))
    >>> MeetingCap(prob).violations(np.array([0, 0, 1, 1, 2, 2, 3, 3]))   # same pairs twice
    2
    """

    name = "max_meetings"
    cpsat = False

    @classmethod
    def applies(cls, problem):  # type: ignore[no-untyped-def]
        return bool(problem.max_meetings != NO_CAP)

    def violations(self, assignment: np.ndarray) -> int:
        p = self.problem
        if p.meetings_soft:
            return 0
        _, _, n = assignment_meetings(p, assignment)
        return int(np.maximum(n - p.max_meetings, 0).sum())

    def offenders(self, assignment: np.ndarray) -> np.ndarray:
        p = self.problem
        if p.meetings_soft:
            return np.zeros(0, np.int64)
        a = np.asarray(assignment)
        over_a, over_b, _ = repeated_meetings(p, a)
        placed = np.flatnonzero(a >= 0)
        where: dict[int, dict[int, int]] = {}  # person -> {cohort: unit}
        suspects = np.isin(p.unit_person[placed], np.concatenate([over_a, over_b]))
        for u in placed[suspects].tolist():
            where.setdefault(int(p.unit_person[u]), {})[int(a[u])] = u
        out: list[int] = []
        for x, y in zip(over_a.tolist(), over_b.tolist(), strict=True):
            shared = where.get(x, {}).keys() & where.get(y, {}).keys()
            out += [where[x][k] for k in shared] + [where[y][k] for k in shared]
        return np.unique(np.asarray(out, np.int64))

    def precheck(self) -> list[str]:
        return [] if self.problem.meetings_soft else meeting_precheck(self.problem)
