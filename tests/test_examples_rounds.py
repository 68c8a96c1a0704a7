"""The monthly-club example: 12 rounds one at a time, coverage rising, no repeated meeting."""

import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "monthly_club.py"


def test_monthly_club_runs_twelve_months(capsys):
    module = runpy.run_path(str(EXAMPLE))
    history = module["main"](12, seconds=0.5)
    assert len(history) == 12
    coverage = [p.metrics.coverage for p in history]
    assert coverage == sorted(coverage) and coverage[-1] > coverage[0]
    assert all(not p.repeated_meetings for p in history)
    met = set()
    for p in history:
        for c in p.cohorts:
            pairs = {(a, b) for a in c.members for b in c.members if a < b}
            assert not pairs & met
            met |= pairs
    assert "month 12" in capsys.readouterr().out
