"""Contact export (CSV, JSONL, Parquet) as a ratio to the database's own CSV dump of the rows it
reads, and the export process's peak memory, measured in the same run.

Method: build a fresh database (a temporary SQLite file, and a throw-away database on the
PostgreSQL server named by ``--postgres`` or TRICKLE_TEST_POSTGRES_URL), migrate it and import
a site "bench" with 20 fields (18 contact-scope, 2 account-scope: text, email identity, phone,
url, select, number, boolean, multiselect, textarea), 3 tiers, 2 lifecycle stages and a form.
Seed ``--contacts`` contacts with raw bulk inserts (SQLite: ``executemany`` in one transaction
with ``journal_mode=OFF``/``synchronous=OFF`` while seeding only; PostgreSQL: ``COPY ... FROM
STDIN`` with ``session_replication_role=replica``, so no foreign-key trigger fires per row; the
rows are consistent by construction). Each contact has one visitor, a value for each of the 18
contact-scope fields, an account (one per 20 contacts, at random) holding the 2 account-scope
values, and 2 or 3 engagement events; every exported row therefore knows all 20 fields. Values
are stored as SQLAlchemy stores them (``json.dumps``; SQLite times as naive UTC text). Then
``ANALYZE`` (PostgreSQL: ``VACUUM (ANALYZE)``, which also sets the hint bits the first reader
would otherwise pay for).

The baseline ("native dump") is the database's own client writing CSV into a temporary file
(``sqlite3 -readonly`` with ``.mode csv`` and ``.headers on``; ``psql`` with ``COPY (...) TO
STDOUT WITH (FORMAT csv, HEADER)``), one process, four queries, which return every row the
export reads, in the order the database likes (no ORDER BY):

1. contacts LEFT JOIN profile_values: contact id, email, lifecycle stage, created_at, field id,
   value (JSON text), updated_at, form_key: one line per value;
2. the site's account values: account id, field id, value, updated_at, form_key;
3. the site's engagement events: contact id, kind, stage, occurred_at, external_id;
4. visitors: contact id, max(last_seen_at), grouped by contact.

It runs before and after the exports; the ratio uses the faster of the two (the stricter).

Each export runs in a fresh process (this script with ``--child``): create the app, enter an
app context (for Parquet also import pyarrow, as the export's first use would), note its RSS,
then time ``contact_export_request`` + ``export_contacts`` + writing every chunk to a temporary
file. The parent reads the child's peak RSS from ``wait4`` (the kernel's ``ru_maxrss``), so it
includes the interpreter, Flask and the imports ("MB before export" shows that part). Every
output is checked: as many rows as contacts (CSV records parsed, JSONL lines, Parquet metadata)
and the expected columns; a failed check fails the run, after printing the table. Each export
process also reports a digest of the export's modules as it imported them (``EXPORT_CODE``):
the section records it, and a run whose exports saw different code fails instead of recording.

Goals (issue): each export in under twice the native dump's time and under 200 MB peak.

Caveats: the database server's own work and memory are not counted for either side (on SQLite
both read the file in their own process). The machine's cores are shared with the database and
with anything else running; the ratio is the figure to compare.

    .venv/bin/python bench/export.py [--contacts 1000000] [--postgres URL] [--sqlite-only]
        [--formats csv,jsonl,parquet,csv+provenance] [--record]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import os
import platform
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script, only bench/ is on the path

SECRET = "bench-secret-key-not-for-production"  # noqa: S105 - a throw-away app key
SITE, FORM = "bench", "blog"
FORMATS = ("csv", "jsonl", "parquet", "csv+provenance")
DEFAULT_FORMATS = "csv,jsonl,parquet,csv+provenance"
GOAL_RATIO, GOAL_MB = 2.0, 200
BATCH = 10_000  # contacts generated and written at a time while seeding
URL_VARIABLE = "BENCH_EXPORT_DATABASE_URL"  # how a child learns the database (not in argv)
# The modules whose code an export runs: a digest of their sources, as each export process
# imported them, tells which code the figures belong to (and whether it changed mid-run).
EXPORT_CODE = ("app.services.exports", "app.services.siteconfig.snapshots")
EXPORT_CODE += ("app.domain", "app.models.types")
SQLITE3 = "/usr/bin/sqlite3"

# --- the site ---------------------------------------------------------------------------------

COUNTRIES = ["DE", "FR", "US", "GB", "NL", "ES", "IT", "SE", "PL", "CA"]
DEPARTMENTS = ["Marketing", "Sales", "Engineering", "Operations", "Finance", "Product"]
SENIORITY = ["Intern", "Individual contributor", "Manager", "Director", "VP", "C-level"]
SIZES = ["1-10", "11-50", "51-200", "201-1000", "1000+"]
INDUSTRIES = ["Software", "Retail", "Finance", "Health", "Education", "Manufacturing", "Media"]
INTERESTS = ["analytics", "automation", "crm", "email", "seo", "ads", "events", "content"]


def site_config() -> dict[str, Any]:
    """The benchmark site: 20 fields (18 per contact, 2 per account), 3 tiers, a form."""

    def f(key: str, kind: str, tier: str, **extra: Any) -> dict[str, Any]:
        return {
            "key": key,
            "label": key.replace("_", " ").capitalize(),
            "kind": kind,
            "tier": tier,
            **extra,
        }

    return {
        "site": {"key": SITE, "name": "Export bench", "half_life_days": 90},
        "tiers": [
            {"key": "basics", "rank": 1, "min_score": 0},
            {"key": "firmographics", "rank": 2, "min_score": 5},
            {"key": "qualification", "rank": 3, "min_score": 10, "min_stage": "late"},
        ],
        "fields": [
            f("email", "email", "basics", identity=True, required=True),
            f("first_name", "text", "basics", max_length=80),
            f("last_name", "text", "basics", max_length=80),
            f("company", "text", "basics"),
            f("phone", "phone", "basics"),
            f("website", "url", "basics"),
            f("country", "select", "basics", options=COUNTRIES),
            f("city", "text", "basics"),
            f("zip", "text", "basics", max_length=12),
            f("job_title", "text", "firmographics"),
            f("department", "select", "firmographics", options=DEPARTMENTS),
            f("seniority", "select", "firmographics", options=SENIORITY),
            f("team_size", "number", "firmographics"),
            f("company_size", "select", "firmographics", scope="account", options=SIZES),
            f("industry", "select", "firmographics", scope="account", options=INDUSTRIES),
            f("annual_budget", "number", "qualification"),
            f("decision_maker", "boolean", "qualification"),
            f("newsletter", "boolean", "basics"),
            f("interests", "multiselect", "qualification", options=INTERESTS),
            f("goals", "textarea", "qualification", max_length=2000),
        ],
        "forms": [{"key": FORM, "title": "Stay in the loop", "stage": "early"}],
        "stages": [
            {"key": "lead", "when": {"fields_known": ["email", "first_name"]}},
            {"key": "mql", "when": {"min_score": 10, "fields_known": ["company_size"]}},
        ],
    }


ACCOUNT_FIELDS = ("company_size", "industry")
VALUE_COLUMNS = 19  # every field but email, which is the contact's email column
BASE_COLUMNS = 8  # contact_id, email, stage, score, events, created_at, last_seen_at, completeness


# --- seeding ----------------------------------------------------------------------------------

# fmt: off
FIRST = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia",
         "Guido", "Frances", "Edsger", "Hedy", "Tim", "Sophie", "Niklaus", "Katherine", "Donald",
         "Anita", "Bjarne", "Shafi", "Leslie", "Joan", "John"]
LAST = ["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Wirth",
        "Allen", "Dijkstra", "Lamarr", "Berners-Lee", "Wilson", "Knuth", "Borg", "Stroustrup",
        "Goldwasser", "Lamport", "Clarke", "McCarthy", "O'Neil", "Müller"]
WORDS = ["north", "blue", "cedar", "delta", "ember", "granite", "harbor", "juniper", "maple",
         "orbit", "pine", "quartz", "river", "summit", "tidal", "vertex", "willow", "lumen"]
CITIES = ["Berlin", "Paris", "Austin", "London", "Utrecht", "Madrid", "Milano", "Malmö",
          "Kraków", "Toronto", "Zürich", "São Paulo", "Lyon", "Hamburg", "Leeds"]
TITLES = ["Marketing Manager", "Growth Lead", "CTO", "Data Analyst", "Head of Sales", "Founder",
          "VP, Marketing", "Software Engineer", "Operations Manager", "Product Owner"]
# fmt: on
GOALS = [
    "Fewer, better questions.",
    "Replace our 12-field signup form",
    'Know which "webinar" visitors are buyers',
    "Sync profiles to the CRM, nightly",
    "- shorter forms\n- more answers",
    "=SUM(A1:A9) is not a goal",
    "Lead scoring that sales trusts.\nAnd a weekly report.",
    "@team: evaluate by Q3",
    "GDPR-friendly enrichment; no third-party cookies",
]
KINDS = {"page_view": 50, "email_click": 15, "content_download": 12, "video_play": 10}
KINDS |= {"form_submit": 5, "webinar": 5}
STAGES = ("early", "mid", "late")
LIFECYCLE = (None, "lead", "mql")


def copy_text(value: str) -> str:
    """``value`` escaped for PostgreSQL's COPY text format."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


@dataclass
class Seeded:
    """What the seeding wrote, to check the exports and the dump against."""

    contacts: int = 0
    accounts: int = 0
    profile_values: int = 0
    account_values: int = 0
    events: int = 0
    visitors: int = 0
    seconds: float = 0.0

    def dump_rows(self) -> int:
        """Rows the native dump returns (every contact has values; one visitor each)."""
        return self.profile_values + self.account_values + self.events + self.visitors


@dataclass
class Generator:
    """Rows of one engine, a batch at a time; values JSON-encoded as SQLAlchemy stores them.

    On PostgreSQL a row is a line of COPY text; on SQLite a tuple for ``executemany``.
    """

    postgres: bool
    site_id: int
    field_ids: dict[str, int]
    rng: random.Random
    accounts: int
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    next_value_id: int = 1
    next_event_id: int = 1

    def __post_init__(self) -> None:
        rng = self.rng
        self.epoch = self.now.replace(microsecond=0)
        enc = self.encode
        self.pools: dict[str, list[str]] = {
            "phone": [
                enc(
                    f"+{rng.choice([1, 33, 44, 49])} {rng.randint(20, 999)} "
                    f"{rng.randint(100000, 9999999)}"
                )
                for _ in range(3000)
            ],
            "country": [enc(c) for c in COUNTRIES],
            "city": [enc(c) for c in CITIES],
            "zip": [enc(f"{rng.randint(1000, 99999):05d}") for _ in range(3000)],
            "job_title": [enc(t) for t in TITLES],
            "department": [enc(d) for d in DEPARTMENTS],
            "seniority": [enc(s) for s in SENIORITY],
            "team_size": [enc(rng.randint(1, 500)) for _ in range(500)],
            "annual_budget": [
                enc(rng.choice([rng.randint(1, 500) * 1000, rng.randint(100, 99999) / 4]))
                for _ in range(2000)
            ],
            "decision_maker": [enc(True), enc(False), enc(False)],
            "newsletter": [enc(True), enc(False)],
            "interests": [enc(rng.sample(INTERESTS, rng.randint(1, 3))) for _ in range(400)],
            "goals": [enc(g) for g in GOALS],
        }
        self.names = [
            (enc(a), enc(b), f"{a}.{b}".lower().replace("'", "").replace("ü", "ue"))
            for a in FIRST
            for b in LAST
        ]
        self.companies: list[tuple[str, str, str]] = []  # (domain, company json, website json)
        for aid in range(1, self.accounts + 1):
            name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {aid}"
            domain = name.lower().replace(" ", "-") + ".example"
            self.companies.append((domain, enc(name), enc(f"https://www.{domain}")))
        self.null = "\\N" if self.postgres else None
        self.kinds, self.kind_weights = list(KINDS), list(KINDS.values())

    def encode(self, value: Any) -> str:
        text = json.dumps(value)  # SQLAlchemy's JSON type stores json.dumps(value)
        return copy_text(text) if self.postgres else text

    def stamp(self, seconds_ago: float) -> str:
        """A time ``seconds_ago`` before now, as the engine stores a UTCDateTime."""
        moment = (self.epoch - timedelta(seconds=seconds_ago)).isoformat(" ", "microseconds")
        return moment + "+00" if self.postgres else moment

    def account_rows(self) -> tuple[list[Any], list[Any]]:
        created = self.stamp(500 * 86400)
        accounts, values = [], []
        value_id = 1
        for aid, (domain, _name, _site) in enumerate(self.companies, start=1):
            accounts.append(self.row(aid, self.site_id, domain, created))
            for key, options in zip(ACCOUNT_FIELDS, (SIZES, INDUSTRIES), strict=True):
                value = self.encode(self.rng.choice(options))
                values.append(
                    self.row(value_id, aid, self.field_ids[key], value, created, self.null, FORM)
                )
                value_id += 1
        return accounts, values

    def row(self, *cells: Any) -> Any:
        return "\t".join(map(str, cells)) + "\n" if self.postgres else cells

    def batch(self, first: int, last: int) -> dict[str, list[Any]]:
        """Rows of contacts ``first..last`` by table, parents first."""
        rng, row, null, site = self.rng, self.row, self.null, self.site_id
        rows: dict[str, list[Any]] = {
            t: [] for t in ("contacts", "visitors", "profile_values", "engagement_events")
        }
        contacts, visitors = rows["contacts"], rows["visitors"]
        values, events = rows["profile_values"], rows["engagement_events"]
        count = last - first + 1
        picked = {key: rng.choices(pool, k=count) for key, pool in self.pools.items()}
        pooled = [(self.field_ids[key], picked[key]) for key in self.pools]
        first_id, last_id = self.field_ids["first_name"], self.field_ids["last_name"]
        email_id, company_id = self.field_ids["email"], self.field_ids["company"]
        website_id = self.field_ids["website"]
        vid = self.next_value_id
        for n, cid in enumerate(range(first, last + 1)):
            age = rng.uniform(86400, 400 * 86400)
            created, seen = self.stamp(age), self.stamp(rng.uniform(7200, age))
            aid = rng.randrange(len(self.companies)) + 1
            domain, company, website = self.companies[aid - 1]
            first_name, last_name, person = rng.choice(self.names)
            email = f"{person}.{cid}@{domain}"
            stage = rng.choice(LIFECYCLE)
            contacts.append(
                row(cid, site, email, aid, null if stage is None else stage, created, seen)
            )
            visitors.append(row(cid, site, f"{rng.getrandbits(128):032x}", cid, created, seen))
            own = [
                (email_id, self.encode(email)),
                (first_id, first_name),
                (last_id, last_name),
                (company_id, company),
                (website_id, website),
            ]
            own += [(fid, chosen[n]) for fid, chosen in pooled]
            for fid, value in own:
                values.append(row(vid, cid, fid, value, seen, FORM, cid))
                vid += 1
            for _ in range(3 if rng.random() < 0.5 else 2):
                kind = rng.choices(self.kinds, self.kind_weights)[0]
                external = f"{rng.getrandbits(64):016x}" if rng.random() < 0.3 else null
                events.append(
                    row(
                        self.next_event_id,
                        site,
                        cid,
                        cid,
                        kind,
                        rng.choice(STAGES),
                        external,
                        f"https://example.test/blog/{rng.randint(1, 300)}",
                        null,
                        self.stamp(rng.uniform(0, age)),
                    )
                )
                self.next_event_id += 1
        self.next_value_id = vid
        return rows


COLUMNS = {
    "accounts": "id, site_id, domain, created_at",
    "account_values": "id, account_id, field_id, value, updated_at, contact_id, form_key",
    "contacts": "id, site_id, email, account_id, lifecycle_stage, created_at, updated_at",
    "visitors": "id, site_id, public_id, contact_id, created_at, last_seen_at",
    "profile_values": "id, contact_id, field_id, value, updated_at, form_key, visitor_id",
    "engagement_events": "id, site_id, contact_id, visitor_id, kind, stage, external_id, url, "
    "content, occurred_at",
}


def seed(url: str, site_id: int, field_ids: dict[str, int], count: int, seed_: int) -> Seeded:
    """Write ``count`` contacts (and their accounts, visitors, values, events); analyze."""
    started = time.perf_counter()
    postgres = url.startswith("postgresql")
    gen = Generator(postgres, site_id, field_ids, random.Random(seed_), max(count // 20, 10))
    seeded = Seeded(contacts=count, accounts=len(gen.companies), visitors=count)
    accounts, account_values = gen.account_rows()
    seeded.account_values = len(account_values)

    def batches() -> Iterator[dict[str, list[Any]]]:
        yield {"accounts": accounts, "account_values": account_values}
        for first in range(1, count + 1, BATCH):
            rows = gen.batch(first, min(first + BATCH - 1, count))
            seeded.profile_values += len(rows["profile_values"])
            seeded.events += len(rows["engagement_events"])
            yield rows

    (seed_postgres if postgres else seed_sqlite)(url, batches())
    seeded.seconds = time.perf_counter() - started
    return seeded


def seed_sqlite(url: str, batches: Iterator[dict[str, list[Any]]]) -> None:
    path = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # Seeding only: no rollback journal, no fsync, a big page cache; no foreign-key checks
        # (off unless a connection turns them on). The app's connections go back to WAL.
        if conn.execute("PRAGMA journal_mode=OFF").fetchone()[0] != "off":
            raise SystemExit("SQLite: another connection holds the database while seeding")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-524288")
        conn.execute("BEGIN")
        for rows in batches:
            for table, batch in rows.items():
                marks = ", ".join("?" * len(COLUMNS[table].split(",")))
                sql = f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})"  # noqa: S608
                conn.executemany(sql, batch)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def libpq_url(url: str) -> str:
    """A SQLAlchemy ``postgresql+psycopg://`` URL as libpq takes it (password included)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def seed_postgres(url: str, batches: Iterator[dict[str, list[Any]]]) -> None:
    import psycopg

    with psycopg.connect(libpq_url(url)) as conn:
        with conn.cursor() as cur:
            try:
                cur.execute("SET session_replication_role = replica")  # no per-row FK triggers
            except psycopg.errors.InsufficientPrivilege:
                conn.rollback()  # not a superuser: the foreign keys are checked, only slower
            for rows in batches:
                for table, batch in rows.items():
                    with cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                        for first in range(0, len(batch), 20_000):
                            copy.write("".join(batch[first : first + 20_000]).encode())
            for table in COLUMNS:
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                cur.execute(f"select setval({sequence}, max(id)) from {table}")  # noqa: S608
        conn.commit()
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


# --- measuring a process ----------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    seconds: float  # wall clock, start to exit
    peak_kib: int  # ru_maxrss of that process (KiB on Linux)
    code: int


# ru_maxrss of a process counts the memory of the process it was forked from (the kernel keeps
# the larger high-water mark across fork and exec), so a process started by this one, 100 MB
# and more after seeding, would report at least that. A small launcher (python -S, about 5 MB)
# starts each measured process instead and reports its wall time, its own peak RSS (wait4) and
# its exit code into a file.
LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as report:
    report.write(f"{seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run_measured(
    argv: list[str],
    stdin: Path | None,
    stdout: Path,
    stderr: Path,
    env: dict[str, str] | None = None,
) -> Measured:
    """Run ``argv`` to its end: its wall time, its own peak RSS and exit code (see LAUNCHER)."""
    report = stdout.with_name(stdout.name + ".rusage")
    report.unlink(missing_ok=True)
    launcher = [sys.executable, "-S", "-c", LAUNCHER, str(report), *argv]
    with (
        (stdin or Path(os.devnull)).open("rb") as inp,
        stdout.open("wb") as out,
        stderr.open("wb") as err,
    ):
        process = subprocess.Popen(
            launcher, stdin=inp, stdout=out, stderr=err, cwd=ROOT, env=env, start_new_session=True
        )
        try:
            process.wait()
        finally:
            if process.poll() is None:  # interrupted: stop the launcher and what it runs
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                process.wait()
    if process.returncode or not report.exists():
        return Measured(0.0, 0, process.returncode or -1)
    seconds, peak, code = report.read_text().split()
    return Measured(float(seconds), int(peak), int(code))


def failed(what: str, measured: Measured, stderr: Path) -> SystemExit:
    tail = stderr.read_text(errors="replace")[-3000:]
    return SystemExit(f"{what} exited with code {measured.code}:\n{tail}")


# --- the native dump --------------------------------------------------------------------------


DUMP_QUERIES = (
    "SELECT c.id AS contact_id, c.email, c.lifecycle_stage, c.created_at, p.field_id, p.value, "
    "p.updated_at, p.form_key FROM contacts c LEFT JOIN profile_values p ON p.contact_id = c.id "
    "WHERE c.site_id = :site",
    "SELECT v.account_id, v.field_id, v.value, v.updated_at, v.form_key FROM account_values v "
    "JOIN accounts a ON a.id = v.account_id WHERE a.site_id = :site",
    "SELECT contact_id, kind, stage, occurred_at, external_id FROM engagement_events "
    "WHERE site_id = :site",
    "SELECT contact_id, max(last_seen_at) AS last_seen_at FROM visitors WHERE site_id = :site "
    "GROUP BY contact_id",
)


def dump_queries(site_id: int) -> list[str]:
    """What the export reads, as plain SELECTs (see the module docstring)."""
    return [query.replace(":site", str(int(site_id))) for query in DUMP_QUERIES]


@dataclass(frozen=True)
class Run:
    name: str
    rows: int
    checked: bool
    measured: Measured
    seconds: float  # the figure compared: the dump's whole process, the export's own time
    ready_kib: int | None = None  # an export process's RSS before it began
    hwm_kib: int | None = None  # its VmHWM at the end, as it saw it (a cross-check of peak_kib)
    code: str = ""  # code_digest() of an export process
    note: str = ""


def native_dump(url: str, site_id: int, tmp: Path, name: str, expected: int) -> Run:
    """The engine's own client dumps the rows as CSV into a temporary file; timed, checked."""
    out, err = tmp / "dump.csv", tmp / "dump.err"
    queries = dump_queries(site_id)
    if url.startswith("sqlite"):
        script = tmp / "dump.sql"
        lines = [".headers on", ".mode csv", f".output {out}"]
        script.write_text("\n".join([*lines, *(q + ";" for q in queries), ".output stdout\n"]))
        argv = [SQLITE3, "-batch", "-bail", "-readonly", url.removeprefix("sqlite:///")]
        measured = run_measured(argv, script, tmp / "dump.stdout", err)
    else:
        from sqlalchemy.engine import make_url

        parts = make_url(url)
        env = dict(os.environ)
        if parts.password:
            env["PGPASSWORD"] = str(parts.password)
        conninfo = parts.set(drivername="postgresql", password=None)
        argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo.render_as_string()]
        for query in queries:
            argv += ["-c", f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)"]
        measured = run_measured(argv, None, out, err, env)
    if measured.code:
        raise failed(name, measured, err)
    lines = count_lines(out)
    out.unlink()
    data_rows = lines - len(queries)  # one header line per query
    return Run(name, data_rows, data_rows == expected, measured, measured.seconds)


def count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            count += block.count(b"\n")
    return count


# --- one export, in a process of its own ------------------------------------------------------


def rss_kib(what: str = "VmRSS") -> int:
    """This process's resident set now (VmRSS), or its high-water mark (VmHWM), in KiB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{what}:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def code_digest() -> str:
    """sha256 (12 hex digits) of the loaded modules named by EXPORT_CODE, by module name."""
    digest = hashlib.sha256()
    for name in sorted(sys.modules):
        path = getattr(sys.modules[name], "__file__", None)
        if name.startswith(EXPORT_CODE) and path:
            digest.update(name.encode() + b"\0" + Path(path).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def child(fmt: str, out: Path) -> None:
    """Export the bench site's contacts as ``fmt`` into ``out``; print what happened (JSON)."""
    from app import create_app

    url = os.environ[URL_VARIABLE]
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": False})
    with app.app_context():
        from app.services.exports.params import contact_export_request
        from app.services.exports.streams import export_contacts

        base, _, provenance = fmt.partition("+")
        if base == "parquet":
            import pyarrow.parquet  # noqa: F401 - the export's first use would import it
        ready, code = rss_kib(), code_digest()
        started = time.perf_counter()
        params = {"format": base} | ({"provenance": "true"} if provenance else {})
        export_format, filters = contact_export_request(SITE, params)
        export = export_contacts(SITE, export_format, filters, app.config["CLOCK"]())
        size = 0
        with out.open("wb") as f:
            for chunk in export.chunks:
                f.write(chunk)
                size += len(chunk)
        seconds = time.perf_counter() - started
        columns = len(export.columns)
    facts = {"seconds": seconds, "ready_kib": ready, "hwm_kib": rss_kib("VmHWM")}
    facts |= {"written": export.written, "code": code}
    facts |= {"total": export.total, "bytes": size, "columns": columns}
    print(json.dumps(facts))


def rows_in(fmt: str, path: Path) -> tuple[int, int]:
    """(data rows, columns) of an export file, read back."""
    if fmt.startswith("parquet"):
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        return meta.num_rows, meta.num_columns
    if fmt.startswith("jsonl"):
        columns, count = 0, 0
        with path.open("rb") as f:
            for count, line in enumerate(f, start=1):
                if count == 1:
                    columns = len(json.loads(line))
        return count, columns
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        columns = len(next(reader, []))
        return sum(1 for _ in reader), columns


def export_run(url: str, fmt: str, tmp: Path, contacts: int) -> Run:
    out, log, err = tmp / f"export.{fmt}", tmp / "export.log", tmp / "export.err"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRICKLE_")}
    env[URL_VARIABLE] = url
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", fmt, "--out", str(out)]
    measured = run_measured(argv, None, log, err, env)
    if measured.code:
        raise failed(f"the {fmt} export", measured, err)
    facts = json.loads(log.read_text().splitlines()[-1])
    rows, columns = rows_in(fmt, out)
    out.unlink()
    wanted = BASE_COLUMNS + VALUE_COLUMNS + (2 * (VALUE_COLUMNS + 1) if "provenance" in fmt else 0)
    checked = rows == facts["written"] == facts["total"] == contacts and columns == wanted
    note = "" if checked else f"read back {rows} rows × {columns} columns"  # noqa: RUF001
    size = f"{facts['bytes'] / 1e6:.0f} MB file"
    return Run(
        fmt,
        rows,
        checked,
        measured,
        facts["seconds"],
        facts["ready_kib"],
        facts["hwm_kib"],
        facts["code"],
        note or size,
    )


# --- report -----------------------------------------------------------------------------------


def spaced(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def mb(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def goal_met(run: Run, dump: float) -> bool:
    return run.seconds / dump < GOAL_RATIO and run.measured.peak_kib / 1024 < GOAL_MB


def table(runs: list[Run], dump: float) -> str:
    head = (
        "| run | rows | rows check | seconds | × native dump | process s | peak MB | "  # noqa: RUF001
        f"MB before export | goal (< {GOAL_RATIO:g} ×, < {GOAL_MB} MB) | note |\n"  # noqa: RUF001
        "|---|---:|---|---:|---:|---:|---:|---:|---|---|\n"
    )
    lines = []
    for r in runs:
        dump_run = r.ready_kib is None
        goal = "" if dump_run else ("met" if goal_met(r, dump) else "**missed**")
        lines.append(
            f"| {r.name} | {spaced(r.rows)} | {'ok' if r.checked else '**FAILED**'} | "
            f"{r.seconds:.2f} | {r.seconds / dump:.2f} | {r.measured.seconds:.2f} | "
            f"{mb(r.measured.peak_kib)} | {'' if dump_run else mb(r.ready_kib or 0)} | {goal} | "
            f"{r.note} |"
        )
    return head + "\n".join(lines) + "\n"


def summary(
    engine: str, runs: list[Run], dump: float, facts: dict[str, str], dumped: str, command: str
) -> tuple[str, str]:
    """The headline and the markdown section of one engine."""
    exports = [r for r in runs if r.ready_kib is not None]
    figures = ", ".join(
        f"{r.name} {r.seconds / dump:.2f} × / {mb(r.measured.peak_kib)} MB"  # noqa: RUF001
        for r in exports
    )
    met = sum(goal_met(r, dump) for r in exports)
    verdict = "met by every format" if met == len(exports) else f"met by {met} of {len(exports)}"
    headline = f"export time × native dump / peak RSS: {figures}; goal {verdict}"  # noqa: RUF001
    facts_line = " · ".join(f"{k}: {v}" for k, v in facts.items())
    section = (
        f"## Export vs native dump, {engine} ({date.today().isoformat()})\n\n"
        f"**{headline}** (native dump: {dump:.2f} s, the faster of 2)\n\n"
        f"```\n{command}\n```\n\n{facts_line}\n\n"
        f"Native dump: {dumped}. An export's seconds run from the request to its last byte in "
        'the file, inside a fresh process; "process s" is that whole process (interpreter, app '
        "start, export). Peak MB is the export process's maximum RSS.\n\n"
        f"{table(runs, dump)}"
    )
    return headline, section


# --- main -------------------------------------------------------------------------------------


def prepared(url: str) -> tuple[str, int, dict[str, int]]:
    """Migrate ``url`` and import the bench site: (engine and version, site id, field ids)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Field, Site
    from app.services.siteconfig import import_site_config
    from bench.ask import engine_version

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        site = import_site_config(site_config(), author="bench/export.py")
        site_id = site.id
        field_ids = {
            key: fid
            for key, fid in db.session.execute(
                select(Field.key, Field.id).where(Field.site_id == site_id)
            )
        }
        assert db.session.scalar(select(Site.key).where(Site.id == site_id)) == SITE
        engine = engine_version(app)
        db.session.remove()
        db.engine.dispose()
    return engine, site_id, field_ids


def bench_engine(server_url: str | None, args: argparse.Namespace, command: str) -> str:
    """Seed, dump, export every format; print (and record) the engine's section."""
    from bench.ask import fresh_database, machine, record

    with (
        fresh_database(server_url) as url,
        tempfile.TemporaryDirectory(prefix="trickle-bench-export-") as scratch,
    ):
        tmp = Path(scratch)
        engine, site_id, field_ids = prepared(url)
        print(f"\n{engine}: seeding {spaced(args.contacts)} contacts ...", flush=True)
        seeded = seed(url, site_id, field_ids, args.contacts, args.seed)
        print(
            f"  seeded in {seeded.seconds:.1f} s: {spaced(seeded.profile_values)} profile values, "
            f"{spaced(seeded.account_values)} account values, {spaced(seeded.events)} events",
            flush=True,
        )
        runs = []
        for fmt in [None, *args.format_list, None]:
            if fmt is None:
                name = f"native dump ({sum(r.ready_kib is None for r in runs) + 1})"
                runs.append(native_dump(url, site_id, tmp, name, seeded.dump_rows()))
            else:
                runs.append(export_run(url, fmt, tmp, args.contacts))
            r = runs[-1]
            hwm = f" (VmHWM {mb(r.hwm_kib)} MB)" if r.hwm_kib else ""
            print(
                f"  {r.name}: {r.seconds:.2f} s, peak {mb(r.measured.peak_kib)} MB{hwm}, "
                f"{spaced(r.rows)} rows {'ok' if r.checked else 'WRONG'}",
                flush=True,
            )
    dump = min(r.seconds for r in runs if r.ready_kib is None)
    codes = sorted({r.code for r in runs if r.ready_kib is not None})
    tool = "`sqlite3 -readonly`, `.mode csv`" if engine.startswith("SQLite") else "`psql`, `COPY"
    tool += "" if engine.startswith("SQLite") else " (…) TO STDOUT WITH (FORMAT csv, HEADER)`"
    dumped = (
        f"{tool}, one process, into a temporary file: contacts LEFT JOIN profile_values (one line "
        "per value), the account values, the engagement events and each contact's latest "
        f"last_seen_at: {spaced(seeded.dump_rows())} rows"
    )
    facts = {
        "engine": engine,
        "contacts": spaced(args.contacts),
        "fields": "20 (18 contact-scope, 2 account-scope), all known for every contact",
        "profile values": spaced(seeded.profile_values),
        "accounts": spaced(seeded.accounts),
        "events": spaced(seeded.events),
        "seeded in": f"{seeded.seconds:.0f} s",
        "export code": ", ".join(codes),
        "machine": machine(),
        "Python": platform.python_version(),
    }
    headline, section = summary(engine, runs, dump, facts, dumped, command)
    print(f"\n{section}")
    if not all(r.checked for r in runs):
        raise SystemExit(f"{engine}: a row-count check failed (table above); nothing recorded")
    if len(codes) > 1:
        raise SystemExit(
            f"{engine}: the export code changed during the run (digests {', '.join(codes)}), "
            "so the rows above measure different code; nothing recorded"
        )
    if args.record:
        record(section, f"export:{engine.split()[0].lower()}")
        print("recorded in docs/benchmarks.md")
    return f"{engine}: {headline}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--formats", default=DEFAULT_FORMATS, help=f"any of {', '.join(FORMATS)}")
    parser.add_argument("--postgres", help="PostgreSQL server URL [TRICKLE_TEST_POSTGRES_URL]")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    parser.add_argument("--child", choices=FORMATS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.format_list = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not args.format_list or any(f not in FORMATS for f in args.format_list):
        parser.error(f"--formats is a comma-separated list of: {', '.join(FORMATS)}")
    if args.contacts < 1:
        parser.error("--contacts must be positive")
    if args.sqlite_only and args.postgres:
        parser.error("--sqlite-only and --postgres exclude each other")
    if not Path(SQLITE3).exists():
        parser.error(f"{SQLITE3} not found: the SQLite baseline needs the sqlite3 CLI")
    return args


def engine_parser(description: str) -> argparse.ArgumentParser:
    """The options of a benchmark run by ``each_engine`` on a seeded site: ``--contacts``,
    ``--postgres``, ``--sqlite-only``, ``--postgres-only`` and ``--record``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", help="a PostgreSQL server URL (else TRICKLE_TEST_POSTGRES_URL)"
    )
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument(
        "--postgres-only",
        action="store_true",
        help="skip SQLite (a run per engine, one after the other, on a shared machine)",
    )
    parser.add_argument("--record", action="store_true", help="write it to docs/benchmarks.md")
    return parser


def each_engine(
    argv: list[str],
    args: argparse.Namespace,
    script: str,
    bench_engine: Callable[[str | None, argparse.Namespace, str], str],
) -> None:
    """``bench_engine`` on SQLite (unless ``args.postgres_only``), then on PostgreSQL unless
    ``args.sqlite_only`` or no server is named (``args.postgres``, else
    TRICKLE_TEST_POSTGRES_URL); the headlines at the end."""
    from app.config import postgres_test_url
    from bench.ask import command_line

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanups on `kill` too
    server_url = None if args.sqlite_only else args.postgres or postgres_test_url()
    command = command_line(
        argv, script, from_environment=server_url is not None and not args.postgres
    )
    postgres_only = getattr(args, "postgres_only", False)  # only some scripts offer it
    if postgres_only and not server_url:
        sys.exit("--postgres-only needs --postgres or TRICKLE_TEST_POSTGRES_URL")
    headlines = [] if postgres_only else [bench_engine(None, args, command)]
    if server_url:
        headlines.append(bench_engine(server_url, args, command))
    else:
        print("\nPostgreSQL skipped: no --postgres and no TRICKLE_TEST_POSTGRES_URL")
    print("\n" + "\n".join(headlines))


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    if args.child:
        child(args.child, args.out)
        return
    each_engine(argv, args, "export.py", bench_engine)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit("interrupted: the exports are stopped, the databases and files removed")
