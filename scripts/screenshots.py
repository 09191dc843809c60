"""Regenerate the screenshots in README.md and docs/ from the browser tests (issue 22).

The e2e tests save what they see to build/e2e/ as they check it when E2E_SCREENSHOTS=1 (an
ordinary run takes no pictures); this runs the tests that take the documented pictures (SQLite
leg) with it set, then copies each picture the docs show into docs/images/.
A picture the docs show that no test took in this run is an error, so the docs never show a
screen the tests no longer reach.

    .venv/bin/python scripts/screenshots.py      (or: make screenshots)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "build" / "e2e"
IMAGES = ROOT / "docs" / "images"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# The tests that take them (a test's screenshot is named in its body).
TESTS = [
    "tests/e2e/test_widget.py::test_the_demo_page_screenshot",
    "tests/e2e/test_console.py",
    "tests/e2e/test_configure.py",
    "tests/e2e/test_queue.py",
    "tests/e2e/test_definition_journey.py",
    "tests/e2e/test_console_people.py",
]


def shown_images() -> list[str]:
    """Every docs/images/*.png a README or doc page shows, by file name."""
    names: set[str] = set()
    for doc in DOCS:
        names |= set(re.findall(r"images/([\w.-]+\.png)", doc.read_text(encoding="utf-8")))
    return sorted(names)


def main() -> int:
    started = time.time()
    run = subprocess.run(  # noqa: S603 - our own test suite, no shell
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "sqlite", *TESTS],
        cwd=ROOT,
        env={**os.environ, "E2E_SCREENSHOTS": "1"},  # the tests save their pictures (e2e/pages.py)
        check=False,
    )
    if run.returncode != 0:
        print("error: the browser tests failed; no picture was copied", file=sys.stderr)
        return 1
    missing = []
    for name in shown_images():
        taken = ARTIFACTS / name
        if not taken.exists() or taken.stat().st_mtime < started:
            missing.append(name)
            continue
        shutil.copyfile(taken, IMAGES / name)
        print(f"docs/images/{name}")
    if missing:
        print(f"error: no test took {', '.join(missing)} in this run", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
