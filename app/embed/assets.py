"""The widget script prepared once per file version: its bytes, gzip and brotli forms, ETag.

What is served is the minified build, ``widget/dist/trickle.min.js`` (``node widget/build.mjs``,
run by ``make run``/``make test``). When the build is missing or older than the readable source
``widget/trickle.js``, the first request builds it; when it cannot be built here (no node, no
npm registry), the readable source is served and a warning logged once per source version.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import logging
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import brotli

log = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
WIDGET_SOURCE = WIDGET_DIR / "trickle.js"
WIDGET_BUILD = WIDGET_DIR / "dist" / "trickle.min.js"
BUILD_TIMEOUT_SECONDS = 180  # npm ci on a fresh machine included


@dataclass(frozen=True)
class Asset:
    etag: str
    bodies: dict[str, bytes]  # by content coding: "identity", "gzip", "br"


Builder = Callable[[Path, Path], str | None]  # (source, build) -> None when built, else why not

_cache: dict[tuple[Path, int], Asset] = {}
_unbuildable: set[tuple[Path, int]] = set()  # source versions that failed to build: tried once
_lock = threading.Lock()


def build_widget(source: Path, build: Path) -> str | None:
    """Builds ``build`` from ``source`` with the pinned terser (installed first if missing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None:
        return "node not found"
    steps = [[node, str(WIDGET_DIR / "build.mjs"), str(source), str(build)]]
    if not (WIDGET_DIR / "node_modules" / "terser").is_dir():
        if npm is None:
            return "npm not found"
        steps.insert(0, [npm, "ci", "--prefix", str(WIDGET_DIR), "--no-audit", "--no-fund"])
    build.parent.mkdir(parents=True, exist_ok=True)
    # One build at a time across the web processes (npm ci rewrites node_modules); a process
    # that waited finds the build current and has nothing left to do.
    with (build.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_current(build, source):
            return None
        for step in steps:
            try:  # fixed argv, no shell: node/npm from PATH and this repository's own paths
                subprocess.run(step, check=True, capture_output=True, timeout=BUILD_TIMEOUT_SECONDS)  # noqa: S603
            except subprocess.CalledProcessError as error:
                return (
                    f"{Path(step[0]).name} failed: {error.stderr.decode(errors='replace')[-500:]}"
                )
            except (OSError, subprocess.TimeoutExpired) as error:
                return str(error)
    return None


def _is_current(build: Path, source: Path) -> bool:
    return build.is_file() and build.stat().st_mtime_ns >= source.stat().st_mtime_ns


def served_path(
    source: Path = WIDGET_SOURCE, build: Path = WIDGET_BUILD, builder: Builder = build_widget
) -> Path:
    """The build when current (building it first if needed and possible), else the source."""
    if _is_current(build, source):
        return build
    with _lock:
        version = (source, source.stat().st_mtime_ns)
        if not _is_current(build, source) and version not in _unbuildable:
            reason = builder(source, build)
            if reason is not None and not _is_current(build, source):
                _unbuildable.add(version)
                log.warning(
                    "widget: cannot build %s (%s); serving the readable source %s",
                    build,
                    reason,
                    source,
                )
    return build if _is_current(build, source) else source


def widget_asset(
    source: Path = WIDGET_SOURCE, build: Path = WIDGET_BUILD, builder: Builder = build_widget
) -> Asset:
    """The widget as served; prepared again when its file changes (a deploy needs no restart)."""
    path = served_path(source, build, builder)
    key = (path, path.stat().st_mtime_ns)
    asset = _cache.get(key)
    if asset is None:
        raw = path.read_bytes()
        asset = Asset(
            etag=hashlib.sha256(raw).hexdigest()[:32],
            bodies={
                "identity": raw,
                "gzip": gzip.compress(raw, compresslevel=9, mtime=0),
                "br": brotli.compress(raw, quality=11),
            },
        )
        _cache.clear()
        _cache[key] = asset
    return asset
