"""The monthly-club example: 12 rounds one at a time, coverage rising, no repeated meeting."""

import runpy
from pathlib import Path

import numpy as np

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


CLUB = Path(__file__).resolve().parents[1] / "examples" / "club_signups.py"


def test_club_with_monthly_sign_ups_repeats_nobody_for_a_year(capsys):
    module = runpy.run_path(str(CLUB))
    history = module["main"](["--months", "12", "--time-limit", "0.5"])
    assert len(history) == 12
    assert module["repeated_meetings"](history) == 0
    org = module["club"]()
    signed = [sum(len(c.members) for c in p.cohorts) for p in history]
    assert all(72 <= n <= 96 for n in signed)  # 60-80 % of 120, everyone placed
    assert all(4 <= len(c.members) <= 6 for p in history for c in p.cohorts)
    team = {p.id: p.team for p in org.people}
    assert all(len({team[m] for m in c.members}) == len(c.members) for p in history for c in p.cohorts)
    share = history[-1].acquaintances(org, history[:-1]).share_with_gap_partner()
    assert (np.diff(share) >= 0).all() and share[-1] >= 0.8
    out = capsys.readouterr().out
    assert "month 12" in out and "members who met a gap partner so far" in out
