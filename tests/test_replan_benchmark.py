"""benchmarks/replan.py on a small organisation: the value parts are ordered and the bound holds."""

from __future__ import annotations

from conftest import load_script


def test_replan_benchmark_reports_where_the_value_goes_and_the_bound_holds():
    bench = load_script("benchmarks/replan.py", "replan_bench")
    out = bench.run(300, 0.3, 2, long_scratch=1.0)  # one keep-apart pair: one move
    r = out["replan"]
    assert r["valid"] and r["moved"] == r["moves_bound"] >= 1
    assert r["fixed_value"] <= r["stayers_value"] + 1e-9  # fewer people fixed, less value
    assert r["fixed_value"] <= r["objective"] <= r["value_bound"] + 1e-9
    assert r["over_value_bound"] <= 1 + 1e-12
    assert r["free_units"] >= out["changes"]["keep_apart_pairs"] * 2
    assert out["scratch"]["value_bound_over_scratch"] == r["value_bound"] / out["scratch"]["objective"]
    assert [c["max_moves"] for c in out["cap"]] == [3, 6, 15] and all(c["valid"] for c in out["cap"])
