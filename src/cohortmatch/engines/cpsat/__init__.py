"""The exact CP-SAT engine, in the order a solve goes through it.

* :mod:`.model`: the model of a problem (data, variables, each rule's constraints,
  objective, hints);
* :mod:`.solve`: solving a built model within a budget and reading it back;
* :mod:`.decomposition`: the decomposition bound and the integer pattern master;
* :mod:`.explain`: naming a small set of rules that conflict when there is no plan;
* :mod:`.exact`: the engine (warm start, bound, CP-SAT), :class:`~.exact.CpsatEngine`.
"""
