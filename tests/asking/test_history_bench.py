"""bench/history.py runs end to end on a small SQLite database: the tallies it measures with are
current, and every target answered all its requests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_history_bench_runs_both_groups_on_current_tallies() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRICKLE_")}
    command = [sys.executable, "bench/history.py", "--history", "300", "--visitors", "4"]
    command += ["--contacts", "50", "--requests", "24", "--warmup", "4", "--rounds", "2"]
    command += ["--concurrency", "2"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "stale afterwards: 0\n" in result.stdout
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")][:3]
        for line in result.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| endpoint")
    ]
    assert rows == [
        ["ask", "1", "24"],
        ["event", "1", "24"],
        ["submit", "1", "24"],
        ["ask", "300", "24"],
        ["event", "300", "24"],
        ["submit", "300", "24"],
    ]
