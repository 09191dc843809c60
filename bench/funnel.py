"""The joint funnel report (all ten tables, last 90 days) over a large site, as a ratio to the
database's own read of the rows it reads, and the report process's peak memory, measured in the
same run (issue 21: "simulate and report benchmarks on 1 000 000 contacts").

Method: a fresh database (a temporary SQLite file, and a throw-away database on the PostgreSQL
server named by ``--postgres`` or TRICKLE_TEST_POSTGRES_URL), migrated, with the site "bench":
stages lead and mql (the hand-off), two forms, a select and a boolean field, rejection and loss
reasons, and 4 999 accounts (contact ``i`` in account ``i % 4999 + 1``, its email's domain).
Seeded in SQL (a recursive CTE on SQLite, ``generate_series`` on PostgreSQL): contact ``i`` of
``--contacts`` created ``i % 120`` days and ``i % 1440`` minutes before today's midnight (UTC),
so a quarter of them fall before the 90 days and a run on the same day reads the same rows.
Every table of the report has rows (see SEED_SHARES): three contacts in four answered a form
(blog or demo; some later the other one too); half are leads (an hour after), a quarter MQLs
(6 hours after, by one of two rules) with a sales hand-off (48 hours' window; touched in time,
late or not at all) and, for those created 12 days ago or more, sales outcomes: accepted or
rejected (two reasons) a day after, an opportunity 3 days after, won (EUR or USD amounts) or
lost 7 days after, a fortieth recycled with marketing's hand-off. Half have a company size, a
third a decision-maker answer. Then ``ANALYZE``.

The baseline ("native read") is the database's own client reading every row the report reads
(the period's contacts; the site's stage moves, outcomes, browser answers and hand-offs; the
profile values), one process, output discarded: ``sqlite3 -readonly`` or ``psql`` with
``COPY (...) TO STDOUT``. It runs before and after the report; the ratio uses the faster.

The report is ``funnel_report("bench", 90, now)`` (what the console's page builds) in a fresh
process (this script with ``--child``): timed from start to exit, and the report alone inside
it; peak RSS from ``wait4`` (``bench/export.py``'s launcher). The child also times each table
and prints a digest of every table's rows: a change that keeps the figures keeps the digest.
The weeks table must count every contact created in the period, or the run fails.

Goal (issue): the report on 1 000 000 contacts, memory bounded (compare two sizes).

    .venv/bin/python bench/funnel.py [--contacts 1000000] [--postgres URL] [--sqlite-only]
        [--profile FILE] [--record]
"""

# ruff: noqa: S608, RUF001 - SQL of numbers this script builds itself; multiplication signs

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import platform
import pstats
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import export  # noqa: E402 - its launcher, measures and options

SITE = "bench"
SECRET = "bench-funnel"  # noqa: S105 - a throw-away app's key
DAYS = 90
ACCOUNTS = 4999  # contact i's account is i % ACCOUNTS + 1 (odd: each mixes every i % 4)
URL_VARIABLE = "BENCH_FUNNEL_DATABASE_URL"  # how a child learns the database (not in argv)
CONFIG = """
site: {key: bench, name: Bench, origins: ["https://bench.example"]}
tiers: [{key: basics, rank: 1, min_score: 0}]
fields:
  - {key: email, label: Email, kind: email, tier: basics, identity: true}
  - {key: company_size, label: Company size, kind: select, tier: basics,
     options: ["1-10", "11-50", "51-200", "200+"]}
  - {key: decision_maker, label: Decision maker, kind: boolean, tier: basics}
forms: [{key: blog, title: Blog, tiers: [basics]}, {key: demo, title: Demo, tiers: [basics]}]
engagement: {webinar: {weight: 5, stage: late}}
stages:
  - {key: lead, when: {fields_known: [email]}}
  - {key: mql, when: {min_score: 10}, handoff: true}
sales_outcomes: {rejection_reasons: [bad_fit, no_budget], loss_reasons: [price]}
"""
# The rules the stage moves record (the score a contact had is left out of the report's labels).
LEAD_RULE = {"fields_known": ["email"]}
SCORE_RULE = {"min_score": 10, "score": 14.0}
EMAIL_RULE = {"min_score": 10, "fields_known": ["email"], "score": 11.0}
SEED_SHARES = (
    "answers: 3 in 4 (a second form: 1 in 16) · leads 1/2 · MQLs and hand-offs 1/4 · accepted"
    " 1/8 · rejected 1/8 · opportunities 1/16 · won 1/32 · lost 1/32 · recycled 1/40"
    " (outcomes only for contacts 12 days old or more) · company size 1/2 · decision maker 1/3"
)


class Seeder:
    """The SQL of one engine: a series of ``i``, and times relative to ``epoch``."""

    def __init__(self, dialect: str, n: int, epoch: datetime) -> None:
        self.sqlite = dialect == "sqlite"
        stamp = epoch.strftime("%Y-%m-%d %H:%M:%S")
        if self.sqlite:
            self.head = (
                f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})"
            )
            self.source, self.yes, self.no = "n", "1", "0"
            self.base = f"'{stamp}', '-' || (i % 120) || ' days', '-' || (i % 1440) || ' minutes'"
        else:
            self.head, self.source = "", f"generate_series(1, {n}) AS n(i)"
            self.yes, self.no = "true", "false"
            self.base = (
                f"TIMESTAMPTZ '{stamp}+00' - make_interval(days => i % 120, mins => i % 1440)"
            )

    def at(self, after: str = "0 hours") -> str:
        """SQL: contact i's creation time plus ``after`` ("6 hours"), as the engine stores it."""
        if self.sqlite:
            return f"strftime('%Y-%m-%d %H:%M:%S.000000', {self.base}, '+{after}')"
        return f"({self.base} + INTERVAL '{after}')"

    def text(self, sql: str) -> str:
        """SQL: ``sql`` (a text expression) as a JSON string value."""
        return f"json_quote({sql})" if self.sqlite else f"to_json({sql})"

    def json(self, literal: str) -> str:
        return f"'{literal}'" if self.sqlite else f"'{literal}'::json"

    def insert(self, table: str, columns: str, values: str, where: str = "1 = 1") -> str:
        return (
            f"{self.head} INSERT INTO {table} ({columns}) SELECT {values}"
            f" FROM {self.source} WHERE {where}"
        )


def seed_sql(dialect: str, n: int, epoch: datetime, site: int, fields: dict[str, int]) -> list[str]:
    """Statements that seed ``n`` contacts with answers, stage moves, hand-offs and outcomes."""
    s = Seeder(dialect, n, epoch)
    steps, old = "i % 120 >= 1", "i % 120 >= 12"  # moves in the past; outcomes a week after
    email = f"'c' || i || '@d' || (i % {ACCOUNTS}) || '.example'"
    domain = "'d' || (i - 1) || '.example'"
    answer = "site_id, contact_id, field_id, form_key, value, created_at, applied, verified, source"
    form = "CASE WHEN i % 3 = 0 THEN 'demo' ELSE 'blog' END"
    other = "CASE WHEN i % 3 = 0 THEN 'blog' ELSE 'demo' END"
    size = "CASE (i / 2) % 4 WHEN 0 THEN '1-10' WHEN 1 THEN '11-50' WHEN 2 THEN '51-200' ELSE '200+' END"
    reason = "CASE WHEN i % 16 = 4 THEN 'bad_fit' ELSE 'no_budget' END"
    move = "site_id, contact_id, from_stage, to_stage, rule, changed_at"
    rule = (
        f"CASE WHEN i % 12 = 0 THEN {s.json(json.dumps(SCORE_RULE))}"
        f" ELSE {s.json(json.dumps(EMAIL_RULE))} END"
    )
    handoff = "site_id, contact_id, team, stage, started_at, due_at, touched_at, breached_at"
    outcome = (
        'site_id, contact_id, kind, reason, external_id, amount_cents, currency, "by",'
        " idempotency_key, occurred_at, recorded_at"
    )

    def outcomes(
        kind: str, after: str, where: str, reason: str = "NULL", deal: bool = False
    ) -> str:
        external = "'opp' || i" if kind in {"opportunity", "won"} else "NULL"
        amount = "(i % 1000) * 10000 + 50" if deal else "NULL"
        currency = "CASE WHEN i % 64 = 0 THEN 'USD' ELSE 'EUR' END" if deal else "NULL"
        values = (
            f"{site}, i, '{kind}', {reason}, {external}, {amount}, {currency}, 'rep',"
            f" '{kind}' || i, {s.at(after)}, {s.at(after)}"
        )
        return s.insert("sales_outcomes", outcome, values, f"{where} AND {old}")

    return [
        Seeder(dialect, ACCOUNTS, epoch).insert(
            "accounts", "id, site_id, domain, created_at", f"i, {site}, {domain}, {s.at()}"
        ),
        s.insert(
            "contacts",
            "id, site_id, email, account_id, lifecycle_stage, created_at, updated_at",
            f"i, {site}, {email}, i % {ACCOUNTS} + 1, CASE WHEN i % 4 = 0 AND {steps} THEN 'mql' WHEN i % 2 = 0"
            f" AND {steps} THEN 'lead' END, {s.at()}, {s.at()}",
        ),
        s.insert(
            "submissions",
            answer,
            f"{site}, i, {fields['email']}, {form}, {s.text(email)}, {s.at('1 minutes')},"
            f" {s.yes}, {s.no}, 'browser'",
            "i % 4 <> 0",
        ),
        s.insert(
            "submissions",
            answer,
            f"{site}, i, {fields['decision_maker']}, {other}, {s.json('true')}, {s.at('2 hours')},"
            f" {s.yes}, {s.no}, 'browser'",
            f"i % 16 = 1 AND {steps}",
        ),
        s.insert(
            "profile_values",
            "contact_id, field_id, value, updated_at, form_key, source, verified",
            f"i, {fields['company_size']}, {s.text(size)}, {s.at()}, 'blog', 'browser', {s.no}",
            "i % 2 = 0",
        ),
        s.insert(
            "profile_values",
            "contact_id, field_id, value, updated_at, form_key, source, verified",
            f"i, {fields['decision_maker']}, CASE WHEN i % 6 = 0 THEN {s.json('true')} ELSE"
            f" {s.json('false')} END, {s.at()}, 'demo', 'browser', {s.no}",
            "i % 3 = 0",
        ),
        s.insert(
            "stage_changes",
            move,
            f"{site}, i, NULL, 'lead', {s.json(json.dumps(LEAD_RULE))}, {s.at('1 hours')}",
            f"i % 2 = 0 AND {steps}",
        ),
        s.insert(
            "stage_changes",
            move,
            f"{site}, i, 'lead', 'mql', {rule}, {s.at('6 hours')}",
            f"i % 4 = 0 AND {steps}",
        ),
        s.insert(
            "handoffs",
            handoff,
            f"{site}, i, 'sales', 'mql', {s.at('6 hours')}, {s.at('54 hours')}, CASE WHEN"
            f" i % 8 = 0 THEN {s.at('20 hours')} WHEN i % 16 = 4 THEN {s.at('70 hours')} END,"
            f" CASE WHEN i % 8 = 4 THEN {s.at('54 hours')} END",
            f"i % 4 = 0 AND {old}",
        ),
        s.insert(
            "handoffs",
            handoff,
            f"{site}, i, 'marketing', 'lead', {s.at('4 days')}, {s.at('11 days')}, CASE WHEN"
            f" i % 80 = 0 THEN {s.at('5 days')} END, NULL",
            f"i % 40 = 0 AND {old}",
        ),
        outcomes("accepted", "1 days", "i % 8 = 0"),
        outcomes("rejected", "1 days", "i % 8 = 4", reason),
        outcomes("opportunity", "3 days", "i % 16 = 0"),
        outcomes("won", "7 days", "i % 32 = 0", deal=True),
        outcomes("lost", "7 days", "i % 32 = 16", "'price'"),
        outcomes("recycled", "4 days", "i % 40 = 0"),
    ]


def prepared(url: str, n: int, epoch: datetime) -> tuple[str, float]:
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
        site = import_site_config(parse_config_text(CONFIG))
        fields = {key: id_ for key, id_ in db.session.execute(select(Field.key, Field.id))}
        started = time.perf_counter()
        dialect = db.engine.dialect.name
        with db.engine.begin() as conn:
            for statement in seed_sql(dialect, n, epoch, site.id, fields):
                conn.execute(text(statement))
            if dialect == "postgresql":
                conn.execute(
                    text("SELECT setval('contacts_id_seq', (SELECT max(id) FROM contacts))")
                )
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        seconds = time.perf_counter() - started
        engine = engine_version(app)
        db.session.remove()
        db.engine.dispose()
    return engine, seconds


def read_queries(dialect: str, start: datetime) -> list[str]:
    """The rows the report reads, as plain SELECTs (see the module docstring)."""
    since = start.strftime("%Y-%m-%d %H:%M:%S") + (".000000" if dialect == "sqlite" else "+00")
    return [
        f"SELECT id, created_at FROM contacts WHERE created_at >= '{since}'",
        "SELECT contact_id, to_stage, rule, changed_at FROM stage_changes",
        "SELECT contact_id, kind, reason, external_id, amount_cents, currency, occurred_at"
        " FROM sales_outcomes",
        "SELECT contact_id, form_key, created_at FROM submissions WHERE source = 'browser'",
        "SELECT contact_id, team, started_at, due_at, touched_at, breached_at FROM handoffs",
        "SELECT contact_id, field_id, value FROM profile_values",
    ]


def native_read(url: str, tmp: Path, dialect: str, start: datetime) -> export.Measured:
    queries = read_queries(dialect, start)
    if dialect == "sqlite":
        path = url.removeprefix("sqlite:///")
        argv = [shutil.which("sqlite3") or "sqlite3", "-readonly", path, "; ".join(queries)]
    else:
        copies = [arg for q in queries for arg in ("-c", f"COPY ({q}) TO STDOUT")]
        argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", export.libpq_url(url), *copies]
    measured = export.run_measured(argv, None, Path(os.devnull), tmp / "native.err")
    if measured.code:
        raise SystemExit(f"native read failed:\n{(tmp / 'native.err').read_text()[-2000:]}")
    return measured


def child(profile: str) -> None:
    """Build the whole report on the bench site; print what happened (JSON)."""
    from app import create_app
    from app.services.insights import funnel, funnel_report

    app = create_app(
        {"DATABASE_URL": os.environ[URL_VARIABLE], "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": False}
    )
    spent: dict[str, float] = {}

    def timed(name: str, build):
        def run(*args):
            started = time.perf_counter()
            try:
                return build(*args)
            finally:
                spent[name] = time.perf_counter() - started

        return run

    for name, build in list(funnel.TABLES.items()):
        funnel.TABLES[name] = timed(name, build)
    with app.app_context():
        now = app.config["CLOCK"]()
        started = time.perf_counter()
        if profile:
            profiler = cProfile.Profile()
            tables = profiler.runcall(funnel_report, SITE, DAYS, now)
            profiler.dump_stats(profile)
        else:
            tables = funnel_report(SITE, DAYS, now)
        seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    digest = hashlib.sha256(repr(tables).encode()).hexdigest()[:12]
    weeks = dict(tables)["weeks"]
    facts = {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime}
    facts |= {"digest": digest, "tables": spent}
    facts |= {
        "contacts": sum(row[1] for row in weeks.rows),
        "rows": sum(len(t.rows) for _, t in tables),
    }
    facts["weeks"] = [[str(row[0]), *row[1:7]] for row in weeks.rows]
    print(json.dumps(facts))


def report_run(url: str, tmp: Path, profile: Path | None) -> tuple[export.Measured, dict]:
    out, err = tmp / "report.out", tmp / "report.err"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRICKLE_")}
    env[URL_VARIABLE] = url
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", str(profile or "")]
    measured = export.run_measured(argv, None, out, err, env)
    if measured.code:
        raise SystemExit(f"the report failed ({measured.code}):\n{err.read_text()[-3000:]}")
    return measured, json.loads(out.read_text().splitlines()[-1])


def in_period(url: str, start: datetime) -> int:
    """Contacts created since ``start`` by the database's count."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = "SELECT count(*) FROM contacts WHERE created_at >= :since"
            return int(conn.execute(text(query), {"since": start_param(url, start)}).scalar_one())
    finally:
        engine.dispose()


def start_param(url: str, start: datetime) -> object:
    return start.strftime("%Y-%m-%d %H:%M:%S.000000") if url.startswith("sqlite") else start


def bench_engine(server_url: str | None, args: argparse.Namespace, command: str) -> str:
    from bench.ask import fresh_database, machine, record

    epoch = datetime.combine(datetime.now(UTC).date(), datetime.min.time(), UTC)  # a day long
    start = datetime.combine(epoch.date() - timedelta(days=DAYS - 1), datetime.min.time(), UTC)
    with fresh_database(server_url) as url, tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        engine, seeded = prepared(url, args.contacts, epoch)
        dialect = "sqlite" if engine.startswith("SQLite") else "postgresql"
        print(
            f"\n{engine}: seeded {export.spaced(args.contacts)} contacts in {seeded:.0f} s",
            flush=True,
        )
        expected = in_period(url, start)
        native = [native_read(url, tmp, dialect, start)]
        measured, facts = report_run(url, tmp, args.profile)
        native.append(native_read(url, tmp, dialect, start))
    if facts["contacts"] != expected:
        raise SystemExit(f"{engine}: the report counted {facts['contacts']} of {expected} contacts")
    base = min(m.seconds for m in native)
    ratio = measured.seconds / base
    headline = f"funnel report = {ratio:.1f} × native read, peak {export.mb(measured.peak_kib)} MB"
    rows = "\n".join(
        f"| native read ({i}) | {m.seconds:.2f} | {m.seconds / base:.2f} | {export.mb(m.peak_kib)} |"
        for i, m in enumerate(native, 1)
    )
    rest = facts["seconds"] - sum(facts["tables"].values())
    each = " · ".join(f"{name} {s:.2f}" for name, s in facts["tables"].items())
    weeks = "\n".join(" ".join(f"{cell!s:>8}" for cell in row) for row in facts["weeks"])
    section = (
        f"## Funnel report vs native read, {engine} ({date.today().isoformat()})\n\n"
        f"**{headline}** ({export.spaced(args.contacts)} contacts, {export.spaced(expected)} in the"
        f" {DAYS} days; {measured.seconds:.1f} s; native read {base:.2f} s)\n\n"
        f"```\n{command}\n```\n\n"
        f"engine: {engine} · contacts: {export.spaced(args.contacts)} over 120 days · {SEED_SHARES} ·"
        f" seeded in {seeded:.0f} s · machine: {machine()}, shared with other work ·"
        f" Python: {platform.python_version()}\n\n"
        "| run | seconds | × native read | peak MB |\n|---|---:|---:|---:|\n"
        f"{rows}\n| funnel report (process) | {measured.seconds:.2f} | {ratio:.2f} |"
        f" {export.mb(measured.peak_kib)} |\n\n"
        f"Inside the process: the report {facts['seconds']:.2f} s; the process's CPU time"
        f" {facts['cpu']:.2f} s (on SQLite all of the work; on PostgreSQL the server's is"
        f" apart); filling the shared steps and reading the site {rest:.2f} s, then by table"
        f" (s): {each}."
        f" Tables' digest {facts['digest']} ({facts['rows']} rows). Weeks (contacts, leads,"
        f" MQLs, accepted, opportunities, won):\n\n```\n{weeks}\n```\n"
    )
    print(section)
    if args.record:
        record(section, f"funnel:{dialect}:{args.contacts}")
        print("recorded in docs/benchmarks.md")
    if args.profile:
        print(f"profile of the report ({args.profile}), top {args.top} by cumulative time:")
        pstats.Stats(str(args.profile)).sort_stats("cumulative").print_stats(args.top)
    return f"{engine}: {headline}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = export.engine_parser(__doc__.splitlines()[0])
    parser.add_argument("--profile", type=Path, help="run the report under cProfile into FILE")
    parser.add_argument("--top", type=int, default=30, help="profile lines printed")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.profile and args.record:
        parser.error("a profiled run is slower: it is not recorded")
    return args


if __name__ == "__main__":
    arguments = parse_args(sys.argv[1:])
    if arguments.child is not None:
        child(arguments.child)
    else:
        export.each_engine(sys.argv[1:], arguments, "funnel.py", bench_engine)
