"""Every screenshot the README and docs show is taken by a browser test, so that
`make screenshots` (scripts/screenshots.py) can take it again from the current UI."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_shown_screenshot_is_taken_by_a_browser_test():
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    shown = {name for doc in docs for name in re.findall(r"images/([\w.-]+\.png)", doc.read_text())}
    tests = "".join(path.read_text() for path in (ROOT / "tests" / "e2e").glob("test_*.py"))
    taken = set(re.findall(r'ARTIFACTS / "([\w.-]+\.png)"', tests))
    assert len(shown) >= 4
    assert sorted(shown - taken) == []
    assert sorted(path.name for path in (ROOT / "docs" / "images").glob("*.png")) == sorted(shown)
