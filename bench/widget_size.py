"""The widget's size as served, against its target: /widget.js gzip-compressed <= 5120 bytes.

Fetches /widget.js from the app (Flask's test client, no server needed; it builds
widget/dist/trickle.min.js first if that is missing or stale) with each content coding the
server offers and prints the bytes and the ratio to the target (issue 19), next to the readable
source's, which is not served. ``--record`` writes
the figures into docs/benchmarks.md. Deterministic: the same file gives the same figures.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.embed.assets import WIDGET_SOURCE  # noqa: E402
from bench.ask import record  # noqa: E402
from tests.asking.test_embed import BUDGET_GZIP_BYTES, TARGET_GZIP_BYTES  # noqa: E402
from tests.databases import settings_for  # noqa: E402


def served_sizes() -> dict[str, int]:
    client = create_app(settings_for("sqlite://")).test_client()
    return {
        coding: len(client.get("/widget.js", headers={"Accept-Encoding": coding}).data)
        for coding in ("identity", "gzip", "br")
    }


def source_sizes() -> dict[str, int]:
    """The readable source, for comparison: what a deployment without node would serve."""
    raw = WIDGET_SOURCE.read_bytes()
    return {
        "identity": len(raw),
        "gzip": len(gzip.compress(raw, compresslevel=9, mtime=0)),
        "br": len(brotli.compress(raw, quality=11)),
    }


def section(sizes: dict[str, int], source: dict[str, int]) -> str:
    rows = "\n".join(
        f"| {coding} | {size} | {size / TARGET_GZIP_BYTES:.2f} | {source[coding]} |"
        for coding, size in sizes.items()
    )
    return f"""## Widget size as served

**gzip: {sizes["gzip"] / TARGET_GZIP_BYTES:.2f} of the {TARGET_GZIP_BYTES}-byte target** ({sizes["gzip"]} bytes)

```
.venv/bin/python bench/widget_size.py --record
```

Served: `widget/dist/trickle.min.js`, the terser build of `widget/trickle.js`
([widget.md](widget.md#build-and-serving)).

| content coding | bytes served | ratio to target | readable source (not served) |
|---|---:|---:|---:|
{rows}

For scale, from issue 3 (not measured here): Plausible's script 2.5 KB, Mautic's form script
about 20 KB, HubSpot's forms embed 198 KB. `tests/asking/test_embed.py` fails the build past
{BUDGET_GZIP_BYTES} bytes gzipped (the size reached; the target is issue 19's).
"""


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write into docs/benchmarks.md")
    args = parser.parse_args(argv)
    sizes = served_sizes()
    text = section(sizes, source_sizes())
    print(text)
    if args.record:
        record(text, "widget:size")
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main(sys.argv[1:])
