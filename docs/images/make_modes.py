"""Draw docs/images/modes.svg: what the coverage modes count, and cover's tie-break.

Left: the value of one gap of weight 1 bridged by c cohorts in ``cover`` and
``diminishing`` (decay 0.5) mode. Right: gaps bridged per cohort in a plan of the demo's
kind (synthetic 'silos' organisation of 1,000 people, cohorts of 12-16, at most 2 per
team, seed 7, a work limit so that the picture is the same on every machine), with
cover's tie-break off and on (the default). Run from the repository root:

    python docs/images/make_modes.py
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

import cohortmatch as cm

OUT = Path(__file__).resolve().parent / "modes.svg"


def bridges_per_cohort(tie_break: str) -> list[int]:
    org = cm.org_chart(1000, preset="silos", seed=2026)
    courses = [cm.Course(id="c", min_size=12, max_size=16)]
    policy = cm.Policy(max_per_team=2, tie_break=tie_break)
    plan = cm.plan(org, courses, policy=policy, time_limit=None, work_limit=20_000, seed=7, workers=1)
    return sorted(len(c.bridges) for c in plan.cohorts)


def main() -> None:
    fig = Figure(figsize=(9, 3.4))
    left, right = fig.subplots(1, 2)
    c = list(range(6))
    left.step(c, [min(x, 1) for x in c], where="post", label="cover", lw=2)
    left.step(c, [2 * (1 - 0.5**x) for x in c], where="post", label="diminishing (decay 0.5)", lw=2)
    left.set_xlabel("cohorts bridging the gap")
    left.set_ylabel("value of a gap of weight 1")
    left.set_title("what a gap is worth")
    left.legend(loc="lower right")
    for tie, colour in (("none", "tab:grey"), ("diminishing", "tab:green")):
        counts = bridges_per_cohort(tie)
        label = f"cover, tie_break={tie!r}: {sum(n == 0 for n in counts)} bridge nothing"
        right.plot(range(len(counts)), counts, drawstyle="steps-post", color=colour, label=label, lw=2)
    right.set_xlabel("cohorts, fewest gaps bridged first")
    right.set_ylabel("gaps bridged")
    right.set_title("same cover value (100%), 1,000 people")
    right.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT, metadata={"Date": None})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
