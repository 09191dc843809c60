"""`trickle config simulate` (the what-if of a definition change) over a large site, as a ratio
to the database's own read of the same history, and the simulate process's peak memory,
measured in the same run (issue 21, item 2).

Method: a fresh database (a temporary SQLite file, and a throw-away database on the PostgreSQL
server named by ``--postgres`` or TRICKLE_TEST_POSTGRES_URL), migrated, with the site "bench":
stages lead (email known), mql (score >= 10 and company known; the hand-off), and a
``sales_outcomes`` section. Seeded in SQL (a recursive CTE on SQLite, ``generate_series`` on
PostgreSQL): ``--contacts`` contacts, each with one applied answer (email; every second contact
also its company) and 3 counted events (webinar, weight 5, late stage; every third contact
only 2) an hour apart, on a day of the last 80; every tenth contact has an ``accepted``
outcome, every twentieth a ``rejected`` one.

The baseline ("native read") is the database's own client reading every row the what-if reads
(the counted events and the applied answers, with their contact), one process, output
discarded: ``sqlite3 -readonly`` or ``psql`` with ``COPY (...) TO STDOUT``. It runs before and
after the what-if; the ratio uses the faster of the two.

The what-if is ``trickle config simulate bench --file proposal.yaml --days 90`` in a fresh
process, the proposal raising mql's score to 12 (so a third of the hand-offs leave), timed from start to exit, its peak RSS read
from ``wait4`` (``bench/export.py``'s launcher). Its report must count every contact as active.

Goal (issue): it runs on 1 000 000 contacts without loading them into memory: peak memory does
not grow with the number of contacts (compare two sizes).

    .venv/bin/python bench/whatif.py [--contacts 1000000] [--postgres URL] [--sqlite-only]
        [--postgres-only] [--record]
"""

# ruff: noqa: S608, RUF001 - SQL of numbers this script builds itself; multiplication signs

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.export import (  # noqa: E402
    Measured,
    each_engine,
    engine_parser,
    libpq_url,
    mb,
    run_measured,
    spaced,
)

SITE = "bench"
SECRET = "bench-whatif"  # noqa: S105 - a throw-away app's key
CONFIG = """
site: {key: bench, name: Bench, origins: ["https://bench.example"]}
tiers: [{key: basics, rank: 1, min_score: 0}]
fields:
  - {key: email, label: Email, kind: email, tier: basics, identity: true}
  - {key: company, label: Company, kind: text, tier: basics}
forms: [{key: blog, title: Blog, tiers: [basics]}]
engagement: {webinar: {weight: 5, stage: late}}
stages:
  - {key: lead, when: {fields_known: [email]}}
  - {key: mql, when: {min_score: MQL, fields_known: [company]}, handoff: true}
sales_outcomes: {rejection_reasons: [bad_fit, no_budget]}
"""
READ = (
    "SELECT e.contact_id, e.kind, e.stage, e.occurred_at FROM engagement_events e"
    " WHERE e.counted; SELECT s.contact_id, s.field_id, s.value, s.created_at FROM submissions s"
    " WHERE s.applied"
)


def seed_sql(dialect: str, n: int, site_id: int, email_id: int, company_id: int) -> list[str]:
    """Statements that seed ``n`` contacts with their answers, events and outcomes."""
    if dialect == "sqlite":
        series = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})"
        now, ago = "datetime('now')", "datetime('now', '-' || (i % 80) || ' days')"
        later = "datetime('now', '-' || (i % 80) || ' days', '+' || k || ' hours')"
        source = "n"
        three = "(SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2)"
        yes = "1"
        json_email = "json_quote('c' || i || '@d' || (i % 5000) || '.example')"
        json_company = "json_quote('Company ' || (i % 5000))"
    else:
        series = ""
        now, ago = "now()", "now() - make_interval(days => i % 80)"
        later = "now() - make_interval(days => i % 80) + make_interval(hours => k)"
        source = f"generate_series(1, {n}) AS n(i)"
        three = "generate_series(0, 2) AS t(k)"
        yes = "true"
        json_email = "to_json('c' || i || '@d' || (i % 5000) || '.example')"
        json_company = "to_json('Company ' || (i % 5000))"
    return [
        f"{series} INSERT INTO contacts (id, site_id, email, created_at, updated_at)"
        f" SELECT i, {site_id}, 'c' || i || '@d' || (i % 5000) || '.example', {ago}, {now}"
        f" FROM {source}",
        f"{series} INSERT INTO submissions (site_id, contact_id, field_id, form_key, value,"
        f" created_at, applied, verified, source) SELECT {site_id}, i, {email_id}, 'blog',"
        f" {json_email}, {ago}, {yes}, {yes}, 'browser' FROM {source}",
        f"{series} INSERT INTO submissions (site_id, contact_id, field_id, form_key, value,"
        f" created_at, applied, verified, source) SELECT {site_id}, i, {company_id}, 'blog',"
        f" {json_company}, {ago}, {yes}, {yes}, 'browser' FROM {source} WHERE i % 2 = 0",
        f"{series} INSERT INTO engagement_events (site_id, contact_id, kind, stage, occurred_at,"
        f" counted) SELECT {site_id}, i, 'webinar', 'late', {later}, {yes}"
        f" FROM {source}, {three} WHERE NOT (i % 3 = 0 AND k = 2)",
        f'{series} INSERT INTO sales_outcomes (site_id, contact_id, kind, reason, "by",'
        f" idempotency_key, occurred_at, recorded_at) SELECT {site_id}, i,"
        f" CASE WHEN i % 20 = 0 THEN 'rejected' ELSE 'accepted' END,"
        f" CASE WHEN i % 20 = 0 THEN 'bad_fit' END, 'rep', 'k' || i, {now}, {now}"
        f" FROM {source} WHERE i % 10 = 0",
    ]


def prepared(url: str, n: int) -> tuple[str, float]:
    """Migrate, import the site, seed: (engine and version, seconds seeding took)."""
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from app import create_app
    from app.extensions import db
    from app.models import Field
    from app.services.siteconfig import import_site_config
    from app.services.siteconfig.files import parse_config_text
    from bench.ask import engine_version

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        site = import_site_config(parse_config_text(CONFIG.replace("MQL", "10")))
        fields = {key: id_ for key, id_ in db.session.execute(select(Field.key, Field.id))}
        started = time.perf_counter()
        with db.engine.begin() as conn:
            for statement in seed_sql(db.engine.dialect.name, n, site.id, **_ids(fields)):
                conn.execute(text(statement))
            if db.engine.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT setval('contacts_id_seq', (SELECT max(id) FROM contacts))")
                )
                conn.execute(text("ANALYZE"))
        seconds = time.perf_counter() - started
        engine = engine_version(app)
        db.session.remove()
        db.engine.dispose()
    return engine, seconds


def _ids(fields: dict[str, int]) -> dict[str, int]:
    return {"email_id": fields["email"], "company_id": fields["company"]}


def native_read(url: str, tmp: Path, dialect: str) -> Measured:
    if dialect == "sqlite":
        argv = [
            shutil.which("sqlite3") or "sqlite3",
            "-readonly",
            url.removeprefix("sqlite:///"),
            READ,
        ]
    else:
        statements = [f"COPY ({q.strip()}) TO STDOUT" for q in READ.split(";")]
        argv = ["psql", "-q", libpq_url(url), *[arg for s in statements for arg in ("-c", s)]]
    return run_measured(argv, None, Path("/dev/null"), tmp / "native.err")


def simulate(url: str, tmp: Path) -> tuple[Measured, str]:
    proposal = tmp / "proposal.yaml"
    proposal.write_text(CONFIG.replace("MQL", "12"), encoding="utf-8")
    out, err = tmp / "simulate.out", tmp / "simulate.err"
    env = {"TRICKLE_DATABASE_URL": url, "TRICKLE_SECRET_KEY": SECRET, "PATH": "/usr/bin:/bin"}
    argv = [
        sys.executable,
        "-c",
        "from app.cli import main; main()",
        "config",
        "simulate",
        SITE,
        "--file",
        str(proposal),
        "--days",
        "90",
    ]
    measured = run_measured(argv, None, out, err, env=env)
    if measured.code:
        raise SystemExit(f"simulate failed ({measured.code}):\n{err.read_text()[-2000:]}")
    return measured, out.read_text()


def bench_engine(server_url: str | None, args: argparse.Namespace, command: str) -> str:
    from bench.ask import fresh_database, machine, record

    with fresh_database(server_url) as url, tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        engine, seeded = prepared(url, args.contacts)
        dialect = "sqlite" if engine.startswith("SQLite") else "postgresql"
        print(f"\n{engine}: seeded {spaced(args.contacts)} contacts in {seeded:.0f} s", flush=True)
        native = [native_read(url, tmp, dialect)]
        load = os.getloadavg()[0]
        measured, report = simulate(url, tmp)
        # The machine is shared: how busy it was says how far the seconds are from an idle run.
        load = f"{load:.1f} at the what-if's start, {os.getloadavg()[0]:.1f} at its end"
        native.append(native_read(url, tmp, dialect))
    first = report.splitlines()[0]
    if f"({args.contacts} contacts active in the window)" not in first:
        raise SystemExit(f"{engine}: the what-if did not replay every contact: {first}")
    base = min(m.seconds for m in native)
    ratio = measured.seconds / base
    headline = f"simulate = {ratio:.1f} × native read, peak {mb(measured.peak_kib)} MB"
    rows = "\n".join(
        f"| native read ({i}) | {m.seconds:.2f} | {m.seconds / base:.2f} | {mb(m.peak_kib)} |"
        for i, m in enumerate(native, 1)
    )
    section = (
        f"## What-if vs native read, {engine} ({date.today().isoformat()})\n\n"
        f"**{headline}** ({spaced(args.contacts)} contacts, {measured.seconds:.1f} s; native read"
        f" {base:.2f} s)\n\n```\n{command}\n```\n\n"
        f"engine: {engine} · contacts: {spaced(args.contacts)} · history: up to 3 events and 1.5"
        f" answers a contact (every third contact 2 events) · seeded in {seeded:.0f} s · machine: {machine()}, shared: load average {load} · Python:"
        f" {platform.python_version()}\n\n"
        "| run | seconds | × native read | peak MB |\n|---|---:|---:|---:|\n"
        f"{rows}\n| trickle config simulate | {measured.seconds:.2f} | {ratio:.2f} |"
        f" {mb(measured.peak_kib)} |\n\nThe what-if's report:\n\n```\n{report.rstrip()}\n```\n"
    )
    print(section)
    if args.record:
        record(section, f"whatif:{dialect}:{args.contacts}")
        print("recorded in docs/benchmarks.md")
    return f"{engine}: {headline}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    return engine_parser(__doc__.splitlines()[0]).parse_args(argv)


if __name__ == "__main__":
    each_engine(sys.argv[1:], parse_args(sys.argv[1:]), "whatif.py", bench_engine)
