"""benchmarks/quality.py on one small row: runs, records valid plans, resumes, prints its table."""

from __future__ import annotations

import json

from conftest import load_script


def test_quality_benchmark_records_rows_resumes_and_tabulates(tmp_path, capsys):
    bench = load_script("benchmarks/quality.py", "quality_bench")
    out = tmp_path / "q.json"
    args = ["--rows", "krackhardt/cover/cap2", "--times", "1", "--cpsat-times", "1", "--out", str(out)]
    bench.main(args)
    runs = json.loads(out.read_text())["runs"]
    assert [(r["row"], r["solver_asked"]) for r in runs] == [("krackhardt/cover/cap2", "auto"),
                                                            ("krackhardt/cover/cap2", "cpsat")]
    assert all(r["valid"] and r["objective"] <= r["bound"] + 1e-9 for r in runs)
    bench.main(args)  # everything is there already: nothing is run again
    assert len(json.loads(out.read_text())["runs"]) == 2
    capsys.readouterr()
    bench.main(["--table", str(out)])
    table = capsys.readouterr().out
    assert "| krackhardt/cover/cap2 |" in table and "1 rows; median gap at 1 s" in table
