"""The widget's size as served, against its budget: /widget.js gzip-compressed <= 8192 bytes.

Fetches /widget.js from the app (Flask's test client, no server needed) with each content
coding the server offers and prints the bytes and the ratio to the budget. ``--record`` writes
the figures into docs/benchmarks.md. Deterministic: the same file gives the same figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench.ask import record  # noqa: E402
from tests.asking.test_embed import BUDGET_GZIP_BYTES  # noqa: E402
from tests.databases import settings_for  # noqa: E402


def served_sizes() -> dict[str, int]:
    client = create_app(settings_for("sqlite://")).test_client()
    return {
        coding: len(client.get("/widget.js", headers={"Accept-Encoding": coding}).data)
        for coding in ("identity", "gzip", "br")
    }


def section(sizes: dict[str, int]) -> str:
    rows = "\n".join(
        f"| {coding} | {size} | {size / BUDGET_GZIP_BYTES:.2f} |" for coding, size in sizes.items()
    )
    return f"""## Widget size as served

**gzip: {sizes["gzip"] / BUDGET_GZIP_BYTES:.2f} of the {BUDGET_GZIP_BYTES}-byte budget** ({sizes["gzip"]} bytes)

```
.venv/bin/python bench/widget_size.py --record
```

| content coding | bytes | ratio to budget |
|---|---:|---:|
{rows}

For scale, from issue 3 (not measured here): Plausible's script 2.5 KB, Mautic's form script
about 20 KB, HubSpot's forms embed 198 KB. `tests/asking/test_embed.py` fails the build past the budget.
"""


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write into docs/benchmarks.md")
    args = parser.parse_args(argv)
    sizes = served_sizes()
    text = section(sizes)
    print(text)
    if args.record:
        record(text, "widget:size")
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main(sys.argv[1:])
