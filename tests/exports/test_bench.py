"""bench/export.py runs end to end on a small SQLite database and checks what it measured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("csv", "jsonl", "parquet", "csv+provenance")


def test_the_export_bench_runs_and_checks_every_format() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRICKLE_")}
    result = subprocess.run(
        [sys.executable, "bench/export.py", "--contacts", "300", "--sqlite-only"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = {
        cells[0]: cells
        for line in result.stdout.splitlines()
        if line.startswith("| ")
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    for fmt in FORMATS:
        # columns: run, rows, rows check, seconds, ratio, process seconds, peak MB, ...
        assert rows[fmt][1:3] == ["300", "ok"], rows.get(fmt)
        assert float(rows[fmt][3]) > 0 and int(rows[fmt][6]) > 0
    for dump in ("native dump (1)", "native dump (2)"):
        assert rows[dump][2] == "ok", rows[dump]
    assert "PostgreSQL skipped" in result.stdout
