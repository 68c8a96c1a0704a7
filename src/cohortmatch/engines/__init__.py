"""Engines: each takes a compiled problem and returns an assignment that keeps every rule.

Every engine is one object with the :class:`~.base.Engine` protocol, registered in
:mod:`.registry`, which also holds ``auto``'s choice. The pipeline inside an engine reads
bottom-up: :mod:`.construct` (greedy start), :mod:`.local_search` (descent and iterated
local search, compiled), :mod:`.partition` and :mod:`.lns` (large neighbourhoods),
:mod:`.cpsat` (the exact model), :mod:`.golfer` with :mod:`.designs` (programmes over
rounds), :mod:`.tabu` (pair values).
"""
