"""`trickle import contacts` from CSV as a ratio to the database's own bulk load of the same
rows, and the import process's peak memory, measured in the same run (issue 20, item 1).

Method: build a fresh database (a temporary SQLite file, and a throw-away database on the
PostgreSQL server named by ``--postgres`` or TRICKLE_TEST_POSTGRES_URL), migrate it and import
a site "bench" whose identity field is ``email`` and which has 20 more contact fields: 8 text,
5 number, 7 select. Write a CSV of ``--contacts`` rows (a header, then email + 20 columns, every
cell filled, deterministic from ``--seed``, distinct emails over 500 company domains).

The baseline ("native load") is the database's own client loading that file into a plain
table of the same shape (email and the 20 columns: text, bigint for numbers; no key, no index),
one process: ``psql`` with ``COPY ... FROM STDIN WITH (FORMAT csv, HEADER)`` fed the file, or
``sqlite3`` with ``.import --csv --skip 1`` (when /usr/bin/sqlite3 is missing, Python's csv +
``executemany`` in one transaction, and the output says so). It runs before and after the
import (the table emptied in between); the ratio uses the faster of the two (the stricter).

The import is ``trickle import contacts bench FILE`` in a fresh process (``app.cli.main``, the
console script's function, with TRICKLE_DATABASE_URL), timed from start to exit (interpreter,
app start, both passes over the file), its peak RSS read from ``wait4`` through a small launcher
(see ``bench/export.py``). It must report every row created, and the database must then hold
``--contacts`` contacts and 21 values each (the email is a field value too), or the run fails.

``--profile FILE`` runs the import under cProfile instead (written to FILE, the top functions
by cumulative time printed); the profiler slows it, so a profiled run is not recorded.

Goals (issue): at most 3 times the native load's time and at most 300 MB peak.

    .venv/bin/python bench/import.py [--contacts 1000000] [--postgres URL] [--sqlite-only]
        [--batch 1000] [--profile FILE] [--record]
"""

# ruff: noqa: N999 - the name the issue and bench/README.md give it; never imported

from __future__ import annotations

import argparse
import csv
import os
import platform
import pstats
import random
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script, only bench/ is on the path

from bench.export import (  # noqa: E402 - after the path
    SQLITE3,
    Measured,
    count_lines,
    each_engine,
    failed,
    mb,
    run_measured,
    spaced,
)

SECRET = "bench-secret-key-not-for-production"  # noqa: S105 - a throw-away app key
SITE = "bench"
GOAL_RATIO, GOAL_MB = 3.0, 300
TABLE = "bench_native_load"

# --- the site and the file --------------------------------------------------------------------

TEXTS = ("first_name", "last_name", "company", "job_title", "city", "street", "zip", "notes")
NUMBERS = ("team_size", "annual_budget", "employees", "founded", "visits")
SELECTS = {
    "country": ["DE", "FR", "US", "GB", "NL", "ES", "IT", "SE", "PL", "CA"],
    "department": ["Marketing", "Sales", "Engineering", "Operations", "Finance", "Product"],
    "seniority": ["Intern", "Individual contributor", "Manager", "Director", "VP", "C-level"],
    "company_size": ["1-10", "11-50", "51-200", "201-1000", "1000+"],
    "industry": ["Software", "Retail", "Finance", "Health", "Education", "Manufacturing"],
    "plan": ["free", "starter", "team", "enterprise"],
    "lead_source": ["webinar", "ads", "referral", "organic", "event", "partner"],
}
FIELDS = (*TEXTS, *NUMBERS, *SELECTS)
WORDS = ["north", "blue", "cedar", "delta", "ember", "granite", "harbor", "juniper", "maple"]
WORDS += ["orbit", "pine", "quartz", "river", "summit", "tidal", "vertex", "willow", "lumen"]
NAMES = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia"]
NAMES += ["Guido", "Frances", "Edsger", "Hedy", "Tim", "Sophie", "Niklaus", "Müller", "O'Neil"]
CITIES = ["Berlin", "Paris", "Austin", "London", "Malmö", "Kraków", "Zürich", "São Paulo"]
TITLES = ["Marketing Manager", "Growth Lead", "CTO", "Data Analyst", "Head of Sales", "VP, Ops"]


def site_config() -> dict[str, Any]:
    """The benchmark site: an email identity field and 20 contact fields."""

    def f(key: str, kind: str, **extra: Any) -> dict[str, Any]:
        label = key.replace("_", " ").capitalize()
        return {"key": key, "label": label, "kind": kind, "tier": "basics", **extra}

    fields = [f("email", "email", identity=True, required=True)]
    fields += [f(key, "text", max_length=200) for key in TEXTS]
    fields += [f(key, "number") for key in NUMBERS]
    fields += [f(key, "select", options=options) for key, options in SELECTS.items()]
    return {
        "site": {"key": SITE, "name": "Import bench", "half_life_days": 90},
        "tiers": [{"key": "basics", "rank": 1, "min_score": 0}],
        "fields": fields,
        "forms": [{"key": "blog", "title": "Stay in the loop", "stage": "early"}],
    }


def write_csv(path: Path, count: int, seed: int) -> None:
    """``count`` contacts: email + the 20 fields, every cell filled, the same for a seed."""
    rng = random.Random(seed)
    domains = [f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{n}.example" for n in range(500)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["email", *FIELDS])
        for n in range(1, count + 1):
            first, last = rng.choice(NAMES), rng.choice(NAMES)
            domain = rng.choice(domains)
            texts = [first, last, domain.split(".")[0].replace("-", " ").title()]
            texts += [rng.choice(TITLES), rng.choice(CITIES), f"{rng.randint(1, 300)} Main St"]
            texts += [f"{rng.randint(10000, 99999)}", f"met at {rng.choice(WORDS)}, call back"]
            numbers = [rng.randint(1, 500), rng.randint(1000, 10**6), rng.randint(1, 10**5)]
            numbers += [rng.randint(1900, 2025), rng.randint(0, 400)]
            selects = [rng.choice(options) for options in SELECTS.values()]
            local = first.lower().encode("ascii", "ignore").decode().replace("'", "")
            email = f"{local}.{n}@{domain}"
            out.writerow([email, *texts, *numbers, *selects])


# --- the native load --------------------------------------------------------------------------


def table_sql() -> str:
    columns = [f"{key} {'bigint' if key in NUMBERS else 'text'}" for key in FIELDS]
    return f"CREATE TABLE {TABLE} (email text, {', '.join(columns)})"


PYTHON_LOAD = """
import csv, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
with open(sys.argv[2], newline="", encoding="utf-8") as handle:
    rows = csv.reader(handle)
    marks = ", ".join("?" * len(next(rows)))
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO {sys.argv[3]} VALUES ({marks})", rows)
    conn.execute("COMMIT")
"""


def load_tool(url: str) -> str:
    if url.startswith("postgresql"):
        return "`psql`, `COPY … FROM STDIN WITH (FORMAT csv, HEADER)`"
    if Path(SQLITE3).exists():
        return "`sqlite3`, `.import --csv --skip 1`"
    return "Python csv + `executemany` in one transaction (no sqlite3 CLI)"


def sql(url: str, statement: str) -> Any:
    """Run one statement on ``url`` in its own connection; the first cell of its answer."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


def native_load(url: str, csv_path: Path, tmp: Path) -> Measured:
    """The engine's own client loads the file into the plain table (emptied first); timed."""
    sql(url, f"DELETE FROM {TABLE}")  # noqa: S608 - a constant
    out, err = tmp / "load.stdout", tmp / "load.err"
    if url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        parts = make_url(url)
        env = dict(os.environ)
        if parts.password:
            env["PGPASSWORD"] = str(parts.password)
        conninfo = parts.set(drivername="postgresql", password=None).render_as_string()
        argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo]
        argv += ["-c", f"COPY {TABLE} FROM STDIN WITH (FORMAT csv, HEADER)"]
        measured = run_measured(argv, csv_path, out, err, env)
    elif Path(SQLITE3).exists():
        script = tmp / "load.sql"
        script.write_text(f".import --csv --skip 1 {csv_path} {TABLE}\n")
        argv = [SQLITE3, "-batch", "-bail", url.removeprefix("sqlite:///")]
        measured = run_measured(argv, script, out, err)
    else:
        path = url.removeprefix("sqlite:///")
        argv = [sys.executable, "-c", PYTHON_LOAD, path, str(csv_path), TABLE]
        measured = run_measured(argv, None, out, err)
    if measured.code:
        raise failed("the native load", measured, err)
    return measured


# --- the import -------------------------------------------------------------------------------

# The console script's function, in a fresh process; with a path first, under cProfile.
RUNNER = """
import sys
profile = sys.argv.pop(1)
from app.cli import main
if not profile:
    main()
import cProfile
profiler = cProfile.Profile()
try:
    profiler.runcall(main)
finally:
    profiler.dump_stats(profile)
"""


def import_run(url: str, csv_path: Path, tmp: Path, batch: int, profile: Path | None) -> Measured:
    out, err = tmp / "import.stdout", tmp / "import.err"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRICKLE_")}
    env |= {"TRICKLE_DATABASE_URL": url, "TRICKLE_SECRET_KEY": SECRET, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", RUNNER, str(profile or ""), "import", "contacts", SITE]
    argv += [str(csv_path), "--batch", str(batch)]
    measured = run_measured(argv, None, out, err, env)
    if measured.code:
        raise failed("trickle import contacts", measured, err)
    return measured


def imported_line(tmp: Path) -> str:
    return (tmp / "import.stdout").read_text(encoding="utf-8").strip().splitlines()[-1]


# --- report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    engine: str
    load: list[Measured]
    imported: Measured
    checked: bool
    check_note: str

    @property
    def baseline(self) -> float:
        return min(m.seconds for m in self.load)

    @property
    def ratio(self) -> float:
        return self.imported.seconds / self.baseline

    @property
    def met(self) -> bool:
        return self.ratio <= GOAL_RATIO and self.imported.peak_kib / 1024 <= GOAL_MB


def table(result: Result, contacts: int) -> str:
    goal = f"goal (≤ {GOAL_RATIO:g} ×, ≤ {GOAL_MB} MB)"  # noqa: RUF001
    head = (
        f"| run | rows | seconds | × native load | rows/s | peak MB | {goal} |\n"  # noqa: RUF001
        "|---|---:|---:|---:|---:|---:|---|\n"
    )
    lines = [
        f"| native load ({n}) | {spaced(contacts)} | {m.seconds:.2f} | "
        f"{m.seconds / result.baseline:.2f} | {contacts / m.seconds:,.0f} | {mb(m.peak_kib)} | |"
        for n, m in enumerate(result.load, start=1)
    ]
    m = result.imported
    verdict = "met" if result.met else "**not met**"
    lines.append(
        f"| trickle import contacts | {spaced(contacts)} | {m.seconds:.2f} | {result.ratio:.2f} | "
        f"{contacts / m.seconds:,.0f} | {mb(m.peak_kib)} | {verdict} |"
    )
    return head + "\n".join(lines).replace(",", " ") + "\n"


def summary(
    result: Result, contacts: int, facts: dict[str, str], command: str, tool: str
) -> tuple[str, str]:
    headline = (
        f"import = {result.ratio:.2f} × native load, peak {mb(result.imported.peak_kib)} MB; "  # noqa: RUF001
        f"goal (≤ {GOAL_RATIO:g} ×, ≤ {GOAL_MB} MB) {'met' if result.met else 'not met'}"  # noqa: RUF001
    )
    facts_line = " · ".join(f"{k}: {v}" for k, v in facts.items())
    section = (
        f"## Import vs native load, {result.engine} ({date.today().isoformat()})\n\n"
        f"**{headline}** (native load: {result.baseline:.2f} s, the faster of 2)\n\n"
        f"```\n{command}\n```\n\n{facts_line}\n\n"
        f"Native load: {tool}, one process, the same file into a plain table of the same shape "
        "(no key, no index). The import's seconds are its whole process (interpreter, app start, "
        "both passes over the file); peak MB is that process's maximum RSS. "
        f"Check: {result.check_note}.\n\n"
        f"{table(result, contacts)}"
    )
    return headline, section


# --- main -------------------------------------------------------------------------------------


def prepared(url: str) -> str:
    """Migrate ``url``, import the bench site, create the native load's table: the engine."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.services.siteconfig import import_site_config
    from bench.ask import engine_version

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        import_site_config(site_config(), author="bench/import.py")
        engine = engine_version(app)
        db.session.remove()
        db.engine.dispose()
    sql(url, table_sql())
    return engine


def checked(url: str, contacts: int, line: str) -> tuple[bool, str]:
    """Whether the import wrote every row (its report, the contacts and values held)."""
    held = sql(url, "SELECT count(*) FROM contacts")
    values = sql(url, "SELECT count(*) FROM profile_values")
    loaded = sql(url, f"SELECT count(*) FROM {TABLE}")  # noqa: S608 - a constant
    wanted = f"Imported {contacts} of {contacts} rows: {contacts} created, 0 updated"
    ok = line.startswith(wanted) and held == loaded == contacts
    ok = ok and values == contacts * (len(FIELDS) + 1)
    note = f"{spaced(held)} contacts, {spaced(values)} values, {spaced(loaded)} rows loaded"
    return ok, note if ok else f"**FAILED**: {note}; the import said {line!r}"


def bench_engine(server_url: str | None, args: argparse.Namespace, command: str) -> str:
    from bench.ask import fresh_database, machine, record

    with (
        fresh_database(server_url) as url,
        tempfile.TemporaryDirectory(prefix="trickle-bench-import-") as scratch,
    ):
        tmp = Path(scratch)
        engine = prepared(url)
        csv_path = tmp / "contacts.csv"
        write_csv(csv_path, args.contacts, args.seed)
        size = csv_path.stat().st_size
        print(f"\n{engine}: {spaced(args.contacts)} contacts, {size / 1e6:.0f} MB of CSV")
        if count_lines(csv_path) != args.contacts + 1:
            raise SystemExit("the CSV has not one line per contact")
        tool = load_tool(url)
        load = [native_load(url, csv_path, tmp)]
        print(f"  native load ({tool}): {load[0].seconds:.2f} s", flush=True)
        imported = import_run(url, csv_path, tmp, args.batch, args.profile)
        line = imported_line(tmp)
        print(f"  import: {imported.seconds:.2f} s, peak {mb(imported.peak_kib)} MB: {line}")
        load.append(native_load(url, csv_path, tmp))
        print(f"  native load: {load[1].seconds:.2f} s", flush=True)
        ok, note = checked(url, args.contacts, line)
    result = Result(engine, load, imported, ok, note)
    facts = {
        "engine": engine,
        "contacts": spaced(args.contacts),
        "fields": f"email + {len(FIELDS)} (8 text, 5 number, 7 select), every cell filled",
        "CSV": f"{size / 1e6:.0f} MB",
        "batch": str(args.batch),
        "rate": f"{args.contacts / imported.seconds:,.0f} contacts/s".replace(",", " "),
        "machine": machine(),
        "Python": platform.python_version(),
    }
    headline, section = summary(result, args.contacts, facts, command, tool)
    print(f"\n{section}")
    if not ok:
        raise SystemExit(f"{engine}: the import did not write every row; nothing recorded")
    if args.profile:
        print_profile(args.profile, args.top)
    elif args.record:
        record(section, f"import:{engine.split()[0].lower()}:{args.contacts}")
        print("recorded in docs/benchmarks.md")
    return f"{engine}: {headline}"


def print_profile(path: Path, top: int) -> None:
    print(f"profile of the import process ({path}), top {top} by cumulative time:")
    stats = pstats.Stats(str(path))
    stats.sort_stats("cumulative").print_stats(top)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000, help="the import's --batch")
    parser.add_argument("--postgres", help="PostgreSQL server URL [TRICKLE_TEST_POSTGRES_URL]")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the file")
    parser.add_argument("--profile", type=Path, help="run the import under cProfile into FILE")
    parser.add_argument("--top", type=int, default=25, help="profile lines printed")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.contacts < 1 or args.batch < 1:
        parser.error("--contacts and --batch must be positive")
    if args.sqlite_only and args.postgres:
        parser.error("--sqlite-only and --postgres exclude each other")
    if args.profile and args.record:
        parser.error("a profiled run is slower: it is not recorded")
    if args.profile:
        args.profile = args.profile.resolve()
    return args


def main(argv: list[str]) -> None:
    each_engine(argv, parse_args(argv), "import.py", bench_engine)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit("interrupted: the import is stopped, the databases and files removed")
