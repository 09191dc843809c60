"""The widget script prepared once per file version: its bytes, gzip and brotli forms, ETag."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import brotli

WIDGET_SOURCE = Path(__file__).resolve().parents[2] / "widget" / "trickle.js"


@dataclass(frozen=True)
class Asset:
    etag: str
    bodies: dict[str, bytes]  # by content coding: "identity", "gzip", "br"


_cache: dict[tuple[Path, int], Asset] = {}


def widget_asset(path: Path = WIDGET_SOURCE) -> Asset:
    """The widget as served; rebuilt when the file changes (so a deploy needs no restart)."""
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
