"""The widget's build (widget/build.mjs, terser) and which file /widget.js serves: the build when
current, built at the first request when missing or stale, else the readable source."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.embed import assets
from app.embed.assets import WIDGET_SOURCE, build_widget, served_path, widget_asset

SOURCE = """/*! banner */
((w) => {
  const STYLE = `.card{--accent:var(--trickle-accent,red);
color:var(--accent)}.card.quiet .question{margin:0}`;
  w.style = () => STYLE;
  w.classes = ['card quiet', 'question', 'status', 'card status'];
})(window);
"""
# Minified; the stylesheet compacted: line breaks gone, the own custom property shortened, the
# public one (--trickle-accent) kept; the class names shortened in the stylesheet and in the
# literals made of class names only, except the kept ones (question); 'status' is no class.
MINIFIED = (
    b"/*! banner */\n"
    b'(a=>{a.style=()=>".a{--a:var(--trickle-accent,red);color:var(--a)}.a.b .question{margin:0}",'
    b'a.classes=["a b","question","status","card status"]})(window);\n'
)


needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not (assets.WIDGET_DIR / "node_modules").is_dir(),
    reason="needs node and `make widget`",
)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    source = tmp_path / "trickle.js"
    source.write_text(SOURCE)
    return source, tmp_path / "dist" / "trickle.min.js"


def fake_builder(calls: list[Path], output: bytes = b"built();\n"):
    def build(source: Path, build: Path) -> str | None:
        calls.append(source)
        build.parent.mkdir(parents=True, exist_ok=True)
        build.write_bytes(output)
        return None

    return build


@needs_node
def test_the_build_minifies_the_source_and_its_stylesheet_keeping_the_banner(files):
    source, build = files
    assert build_widget(source, build) is None
    assert build.read_bytes() == MINIFIED
    # the temporary file was renamed into place; the lock file stays
    assert sorted(path.name for path in build.parent.iterdir()) == [".lock", "trickle.min.js"]


@needs_node
def test_the_real_widget_builds_into_valid_javascript(tmp_path):
    build = tmp_path / "trickle.min.js"
    assert build_widget(WIDGET_SOURCE, build) is None
    subprocess.run(["node", "--check", str(build)], check=True)
    assert build.read_text().startswith("/*! Trickle widget")
    assert "formElement" not in build.read_text()  # internal properties are shortened


def test_a_missing_build_is_built_at_the_first_request(files):
    source, build = files
    calls: list[Path] = []
    asset = widget_asset(source, build, fake_builder(calls))
    assert (calls, asset.bodies["identity"]) == ([source], b"built();\n")
    widget_asset(source, build, fake_builder(calls))
    assert calls == [source]  # current now: not built again


def test_a_build_older_than_the_source_is_rebuilt_and_the_etag_changes(files):
    source, build = files
    calls: list[Path] = []
    first = widget_asset(source, build, fake_builder(calls, b"old();\n"))
    os.utime(build, ns=(1, 1))  # older than the source
    second = widget_asset(source, build, fake_builder(calls, b"new();\n"))
    assert (len(calls), second.bodies["identity"]) == (2, b"new();\n")
    assert first.etag != second.etag


def test_without_node_the_source_is_served_and_a_warning_logged_once(files, caplog):
    source, build = files
    calls: list[Path] = []

    def no_node(source: Path, build: Path) -> str | None:
        calls.append(source)
        return "node not found"

    with caplog.at_level(logging.WARNING, logger="app.embed.assets"):
        for _ in range(3):
            assert widget_asset(source, build, no_node).bodies["identity"] == SOURCE.encode()
    assert calls == [source]  # tried once per source version
    assert [r.getMessage() for r in caplog.records] == [
        f"widget: cannot build {build} (node not found); serving the readable source {source}"
    ]


def test_a_failed_build_leaves_an_older_build_unserved(files):
    source, build = files
    build.parent.mkdir()
    build.write_bytes(b"stale();\n")
    os.utime(build, ns=(1, 1))
    assert served_path(source, build, lambda source, build: "node failed: boom") == source


@pytest.mark.parametrize(
    ("missing", "reason"), [("node", "node not found"), ("npm", "npm not found")]
)
def test_build_widget_says_what_is_missing(files, monkeypatch, missing, reason):
    source, build = files
    monkeypatch.setattr(assets.shutil, "which", lambda name: None if name == missing else name)
    monkeypatch.setattr(assets, "WIDGET_DIR", source.parent)  # no node_modules: npm ci needed
    assert build_widget(source, build) == reason
    assert not build.exists()


@needs_node
@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("((w) => { const STYLE = ``;\n", ":2:0: Unexpected token: eof (undefined)"),
        ("window.x = 1;\n", ": no `const STYLE = `...`;` in the source"),
    ],
)
def test_build_widget_reports_a_failing_step(files, text, error):
    source, build = files
    source.write_text(text)
    assert build_widget(source, build) == f"node failed: build.mjs: {source}{error}\n"
    assert not build.exists()


def test_a_build_made_meanwhile_by_another_process_is_not_made_again(files, monkeypatch):
    source, build = files
    build.parent.mkdir()
    build.write_bytes(b"built by another worker();\n")  # while this one waited for the lock
    runs: list[list[str]] = []
    monkeypatch.setattr(assets.shutil, "which", lambda name: name)
    monkeypatch.setattr(assets.subprocess, "run", lambda step, **_: runs.append(step))
    assert (build_widget(source, build), runs) == (None, [])
    assert build.read_bytes() == b"built by another worker();\n"
