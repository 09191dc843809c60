"""Ask-endpoint throughput as a ratio to a bare JSON endpoint of the same server, same load.

Method: build a fresh database (a temporary SQLite file, or a throw-away database on the
PostgreSQL server named by ``--database-url``), migrate it, load the demo site and seed
``--contacts`` contacts with visitors, profile values, account values, skips and engagement events
(SQLAlchemy Core bulk inserts). Then start the real server (gunicorn, 2 sync workers) on a free
port of 127.0.0.1 and drive it with a bounded, self-stopping load generator: ``--concurrency``
threads, each on its own http.client connection, send ``--requests`` requests per endpoint after a
warm-up. The endpoints alternate over ``--rounds`` rounds so drift (caches, CPU clock) hits both
alike. The baseline is ``GET /api/v1/health``, which touches no database; the measured endpoint is
``POST /api/v1/sites/demo/forms/blog/ask`` for a random seeded (returning) visitor. Every response
must be a 200, and an ask must answer for the visitor it was asked about; any error fails the run.

Caveats: the load generator shares the machine's cores with the server (and, on PostgreSQL, with
the database), so absolute requests/second understate a real deployment; the ratio to the bare
endpoint is the figure to compare between runs and machines. Seeded visitors were last seen hours
to months ago, so a visitor's first ask in a run also refreshes its ``last_seen_at`` (one UPDATE),
as it would for a real returning visitor. PostgreSQL gets an ANALYZE after seeding (autovacuum
would run one soon after such a load); SQLite is left as the app leaves it.

    .venv/bin/python bench/ask.py [--contacts 100000] [--database-url URL] [--record]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app.cli import DEMO_CONFIG
from app.extensions import db

# Run as a script, only bench/ is on the path: `bench` and `tests` are found from the root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import Measure, Target, gunicorn, measure_both, report_table
from bench.seed import FORM, SITE, seed, visitor_tokens
from tests.databases import postgres_database

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
SECRET = "bench-secret-key-not-for-production"  # noqa: S105 - tokens must match the server's


# --- database -------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(server_url: str | None) -> Iterator[str]:
    """A new empty database: a temporary SQLite file, or a throw-away one on PostgreSQL."""
    if server_url is None:
        with tempfile.TemporaryDirectory(prefix="trickle-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    if not server_url.startswith("postgresql"):
        sys.exit("--database-url must be a postgresql+psycopg:// URL (SQLite is the default)")
    yield from postgres_database(server_url)


def prepared_app(url: str) -> Flask:
    """An app on ``url``, migrated, with the demo site loaded."""
    from flask_migrate import upgrade

    from app.services.siteconfig import import_site_config, read_config_file

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        import_site_config(read_config_file(str(DEMO_CONFIG)))
    return app


def engine_version(app: Flask) -> str:
    with app.app_context():
        name = db.engine.dialect.name
        query = "select sqlite_version()" if name == "sqlite" else "show server_version"
        version = db.session.execute(text(query)).scalar_one()
    return f"{'SQLite' if name == 'sqlite' else 'PostgreSQL'} {str(version).split()[0]}"


# --- targets ---------------------------------------------------------------------------------


def health_target() -> Target:
    return Target(
        "GET /api/v1/health", "GET", "/api/v1/health", lambda _i: None, lambda _i, _b: None
    )


def ask_target(tokens: list[str]) -> Target:
    def body(i: int) -> bytes:
        token = tokens[i % len(tokens)]
        return json.dumps({"visitor": token, "page": {"url": "https://example.test/x"}}).encode()

    def check(i: int, raw: bytes) -> str | None:
        answer = json.loads(raw)
        if answer.get("visitor") != tokens[i % len(tokens)] or "ask_token" not in answer:
            return "the ask did not answer for the seeded visitor"
        return None

    path = f"/api/v1/sites/{SITE}/forms/{FORM}/ask"
    return Target(f"POST {path}", "POST", path, body, check)


# --- report ---------------------------------------------------------------------------------


def machine() -> str:
    """``Linux x86_64, 2 CPUs (AMD EPYC)``: where the figures were measured."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = f" ({line.split(':', 1)[1].strip()})"
                break
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs{model}"


def command_line(argv: list[str], script: str = "ask.py", from_environment: bool = False) -> str:
    """The command that produced a run, as typed from the repository root (no passwords);
    ``from_environment``: the PostgreSQL URL came from TRICKLE_TEST_POSTGRES_URL."""
    shown = [make_url(a).render_as_string(hide_password=True) if "://" in a else a for a in argv]
    words = [".venv/bin/python", f"bench/{script}", *shown]
    if from_environment:
        from app.config import postgres_test_url

        url = make_url(postgres_test_url() or "").render_as_string(hide_password=True)
        words.insert(0, f"TRICKLE_TEST_POSTGRES_URL={url}")
    return " ".join(shlex.quote(w) for w in words)


def record(section: str, key: str) -> None:
    """Replace the section ``key`` of docs/benchmarks.md (or append it)."""
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    block = f"{start}\n{section}\n{end}\n"
    current = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
    updated = (
        pattern.sub(lambda _m: block, current)
        if pattern.search(current)
        else current.rstrip("\n") + "\n\n" + block
    )
    DOCS.write_text(updated, encoding="utf-8")


def summary(results: dict[str, Measure], facts: dict[str, str], command: str) -> tuple[str, str]:
    """The headline and the markdown section of one run."""
    health, ask = results.values()
    ratio = ask.per_second() / health.per_second()
    headline = f"ask = {ratio:.2f} × bare endpoint"  # noqa: RUF001 - a multiplication sign
    facts_line = " · ".join(f"{k}: {v}" for k, v in facts.items())
    section = (
        f"## ask vs bare endpoint, {facts['engine']} ({date.today().isoformat()})\n\n"
        f"**{headline}** ({ask.per_second():.0f} vs {health.per_second():.0f} req/s)\n\n"
        f"```\n{command}\n```\n\n{facts_line}\n\n{report_table(results)}\n"
    )
    return headline, section


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=3000, help="measured requests per endpoint")
    parser.add_argument("--warmup", type=int, default=300, help="unmeasured requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the two endpoints")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data and the order")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args(argv)
    if min(args.contacts, args.requests, args.concurrency, args.rounds, args.workers) < 1:
        parser.error("counts must be positive")
    return args


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanups on `kill` too
    with fresh_database(args.database_url) as url:
        app = prepared_app(url)
        started = time.perf_counter()
        public_ids = seed(app, args.contacts, rng)
        print(f"seeded {args.contacts} contacts in {time.perf_counter() - started:.1f} s")
        tokens = visitor_tokens(app, public_ids, args.requests + args.warmup, rng)
        facts = {
            "engine": engine_version(app),
            "contacts": f"{args.contacts:,}".replace(",", " "),
            "concurrency": str(args.concurrency),
            "server": f"gunicorn -w {args.workers} --threads 1",
            "CPUs": str(os.cpu_count()),
            "Python": platform.python_version(),
        }
        with app.app_context():
            db.engine.dispose()
        with gunicorn(url, SECRET, args.workers) as port:
            results = measure_both(
                port,
                [health_target(), ask_target(tokens)],
                requests=args.requests,
                warmup=args.warmup,
                rounds=args.rounds,
                concurrency=args.concurrency,
            )
    headline, section = summary(results, facts, command_line(argv))
    print(f"\n{section}")
    print(headline)
    if args.record:
        record(section, f"ask:{facts['engine'].split()[0].lower()}")
        print(f"recorded in {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit("interrupted: the server is stopped and the database removed")
