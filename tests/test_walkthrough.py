"""The walk-through in docs/how-to/interactions.md runs as written and prints what it shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "how-to" / "interactions.md"


def _blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) of every fenced block, in order."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w+)\n(.*?)```", text, re.S)]


def _same(out: str) -> str:
    return re.sub(r" in \d+\.\d s$", " in <t> s", out.strip(), flags=re.M)


def test_interactions_walkthrough_runs_and_prints_what_the_page_shows(tmp_path):
    blocks = _blocks(PAGE.read_text(encoding="utf-8"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MPLBACKEND": "Agg", "COLUMNS": "100"}
    ran = 0
    for i, (lang, code) in enumerate(blocks):
        if lang == "python":
            script = tmp_path / f"step{i}.py"
            script.write_text(code)
            cmd = [sys.executable, str(script)]
        elif lang == "bash":
            cmd = ["bash", "-euo", "pipefail", "-c", code]
        else:
            continue
        done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (code, done.stdout, done.stderr)
        ran += 1
        shown = blocks[i + 1] if i + 1 < len(blocks) else ("", "")
        if lang == "bash" and shown[0] == "text":
            assert _same(done.stdout) == _same(shown[1]), code
    assert ran == 4
    page = (tmp_path / "law" / "report" / "report.html").read_text(encoding="utf-8")
    assert "id='person-search'" in page and "law42" in page
    head = (tmp_path / "law" / "interactions.csv").read_text().splitlines()[:3]
    assert "\n".join(head) == blocks[1][1].strip()  # the log's first lines as the page shows them
