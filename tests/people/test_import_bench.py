"""bench/import.py runs end to end on a small SQLite database: the native load and the import
each handle every row, and the table has its three rows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_bench_loads_and_imports_every_row() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRICKLE_")}
    command = [sys.executable, "bench/import.py", "--contacts", "50", "--sqlite-only"]
    command += ["--batch", "20"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Check: 50 contacts, 1 050 values, 50 rows loaded." in result.stdout
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")][:2]
        for line in result.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| run")
    ]
    assert rows == [
        ["native load (1)", "50"],
        ["native load (2)", "50"],
        ["trickle import contacts", "50"],
    ]
