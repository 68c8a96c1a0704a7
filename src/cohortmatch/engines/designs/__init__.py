"""Repeat-free schedules by construction: a library of combinatorial designs.

Each construction has an applicability test on a :class:`Shape` (people, groups, rounds)
and builds a :class:`Schedule`; :func:`construct` tries them in turn and checks every
schedule pair by pair before it is used. One module per construction:

* :mod:`.roundrobin`: pairs (and one group of three when the number is odd);
* :mod:`.affine`: partial spreads of affine spaces over GF(q);
* :mod:`.kirkman`: Kirkman triple systems KTS(3q), q = 1 (mod 6) a prime power;
* :mod:`.transversal`: resolvable transversal designs over GF(m);
* :mod:`.product`: a schedule times a transversal design (e.g. KTS(v) -> KTS(3v));
* :mod:`.cyclic`: base rounds developed under Z_n, found by a compiled tabu search
  (resolvable (v, 4, 1) designs such as v = 28, Kirkman systems such as v = 21, ...);
* :mod:`.invariant`: rounds each fixed by a group of translations, chosen by CP-SAT
  (32 golfers in fours for 10 weeks, 8-4-10, under Z_2^3 on 4 levels).
"""

from .affine import AffineSchedule, affine_parameters, affine_schedule, max_affine_weeks
from .library import CONSTRUCTIONS, Construction, construct, constructions_for
from .schedule import Schedule, Shape, balanced_group_sizes, schedule_problems

__all__ = [
    "AffineSchedule", "affine_parameters", "affine_schedule", "max_affine_weeks",
    "CONSTRUCTIONS", "Construction", "construct", "constructions_for",
    "Schedule", "Shape", "balanced_group_sizes", "schedule_problems",
]
