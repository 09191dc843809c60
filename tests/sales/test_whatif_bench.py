"""bench/whatif.py runs end to end on a small SQLite database, says how busy the shared machine
was, and refuses --postgres-only without a server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRICKLE_")}
    return subprocess.run(
        [sys.executable, "bench/whatif.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_whatif_bench_replays_every_contact() -> None:
    result = bench("--contacts", "300", "--sqlite-only")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "(300 contacts active in the window)" in out
    # Every second contact has a company: 150 reach mql at 10 points, 100 at 12 (3 events, so
    # not every third); less the ones seeded today (80, 160, 240), whose later events are still
    # to come an hour from now.
    assert "handed off               147        98" in out
    assert "Would enter the queue: 0; would leave it: 49" in out
    assert re.search(
        r"shared: load average \d+\.\d at the what-if's start, \d+\.\d at its end", out
    )
    assert "PostgreSQL skipped" in out


def test_postgres_only_needs_a_server() -> None:
    result = bench("--contacts", "300", "--postgres-only")
    assert result.returncode == 1
    assert "--postgres-only needs --postgres or TRICKLE_TEST_POSTGRES_URL" in result.stderr
    assert "SQLite" not in result.stdout  # nothing was run
