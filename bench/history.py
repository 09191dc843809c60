"""A contact's history does not cost its requests: ask, event and submit of contacts with
``--history`` stored events beside contacts with one, same server, same load (issue 19).

Method: build a fresh database (a temporary SQLite file, or a throw-away database on the
PostgreSQL server of ``--database-url``), migrate it, load the demo site and seed
``--contacts`` background contacts (bench/seed.py). Then add two groups of ``--visitors``
contacts each, alike in everything but their events: an email at a free-mail domain, a first
name and a company, lifecycle stage ``mql`` (so no request of the run moves one), one browser
each (every other one verified, the rest claimed: the whole contact and a browser's own view).
The one-event group has a demo request an hour ago; the long group ``--history`` events over
the last 400 days (mixed kinds and stages, a third with an id), the latest the same demo
request an hour ago, so both groups' scores open the same tiers and the ask offers the same
questions. Rows are bulk inserts (SQLAlchemy Core, as bench/seed.py). The tallies are then
built as the worker builds them after an upgrade: every contact's and browser's counter set to
its events, their basis and the site's cleared, ``people.rebuild_stale_tallies()``; the run
stops unless no tally is stale afterwards and each long contact's tally counts ``--history``
events. Then the database settles: PostgreSQL gets VACUUM ANALYZE and a CHECKPOINT (else
autovacuum and the checkpointer would work through the load at some moment of the measurement),
SQLite a checkpoint of its write-ahead log.

Then the real server (gunicorn, ``--workers`` sync workers) on 127.0.0.1 is driven by the
project's own load generator (bench/load.py: ``--concurrency`` threads, http.client; wrk
would need one run per group and endpoint for no gain here). Six targets: ask, event (a page
view with a new id each) and submit (the first question an in-process ask offered, its ask
token replayed: accepted, the value written again), each for the one-event group and for the
long group. After a warm-up of each, they run ``--requests`` requests each over ``--rounds``
rounds, each endpoint's two groups back to back, their order swapped every round, so drift hits
both alike. Every answer must be a 200 (an event's a 202). The figure: each endpoint's cost of
a long-history request over a one-event request, as time per request (one-event req/s over long
req/s) and as median latency. Target: at most 1.3 for each.

Caveats: the load generator shares the 2 cores with the server (and the database); the
ratios, not the absolute figures, are what to compare. Both groups gain the run's events (a
few dozen each), so the one-event group ends with more than one.

``--profile DIR`` runs cProfile in the workers as bench/api_load.py does (one profile per
endpoint, both groups together; the profiled run's ratios are not the recorded ones).

    .venv/bin/python bench/history.py [--history 20000] [--database-url URL] [--record]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import signal
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, func, insert, or_, select, text, update

# Run as a script, only bench/ is on the path: `bench` and `tests` are found from the root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.extensions import db
from app.models import Contact, EngagementEvent, ProfileValue, Site, Visitor
from bench.api_load import answer, ask_bodies
from bench.ask import (
    SECRET,
    command_line,
    engine_version,
    fresh_database,
    machine,
    prepared_app,
    record,
)
from bench.load import Measure, Target, gunicorn, run_load
from bench.seed import (
    BATCH,
    FORM,
    KIND_SHARES,
    SITE,
    STAGES,
    DemoSite,
    demo_site,
    finish_seeding,
    seed,
    visitor_tokens,
)

GROUPS = ("one", "long")
ENDPOINTS = ("ask", "event", "submit")
SPAN = timedelta(days=400)
VALUES = {"first_name": "Ada", "company": "Bench Works"}


# --- the two groups -------------------------------------------------------------------------


def group_rows(site: DemoSite, first: int, count: int, now: datetime) -> dict[Any, list[dict]]:
    """The contacts ``first..first+count-1``, their browsers and values (ids explicit)."""
    rows: dict[Any, list[dict]] = {Contact: [], Visitor: [], ProfileValue: []}
    for cid in range(first, first + count):
        email = f"history.{cid}@gmail.com"
        rows[Contact].append({"id": cid, "site_id": site.id, "email": email,
                              "lifecycle_stage": "mql", "created_at": now - SPAN,
                              "updated_at": now - timedelta(hours=1)})  # fmt: skip
        claimed = {"trust": "claimed", "verified_by": None, "verified_at": None}
        trust = {"trust": "verified", "verified_by": "identity_hash", "verified_at": now - SPAN}
        rows[Visitor].append({"id": cid, "site_id": site.id, "public_id": f"history{cid:024d}",
                              "contact_id": cid, "created_at": now - SPAN,
                              "last_seen_at": now - timedelta(hours=1),
                              **(trust if cid % 2 else claimed)})  # fmt: skip
        for key, value in {"email": email, **VALUES}.items():
            rows[ProfileValue].append({"contact_id": cid, "field_id": site.field_ids[key],
                                       "value": value, "updated_at": now - SPAN,
                                       "form_key": FORM, "visitor_id": cid})  # fmt: skip
    return rows


def history(site: DemoSite, cid: int, count: int, now: datetime, rng: random.Random):
    """``count`` events of contact ``cid`` (and its browser), oldest first, evenly over the last
    400 days; the latest a demo request an hour ago."""
    kinds = [k for k in KIND_SHARES if k in site.kind_stages]
    shares = [KIND_SHARES[k] for k in kinds]
    latest = now - timedelta(hours=1)
    for n in range(count):
        kind = "demo_request" if n == count - 1 else rng.choices(kinds, shares)[0]
        yield {"site_id": site.id, "contact_id": cid, "visitor_id": cid, "kind": kind,
               "stage": site.kind_stages.get(kind) or rng.choices(STAGES, (6, 3, 1))[0],
               "external_id": f"h{cid}-{n}" if n % 3 == 0 else None, "content": None,
               "url": f"https://example.test/blog/{n % 300}",
               "occurred_at": latest - SPAN * (count - 1 - n) / count}  # fmt: skip


def seed_groups(app: Flask, first: int, per_group: int, events: int, seed_: int) -> dict:
    """The one-event and the long group; their browsers' public ids by group."""
    rng, now = random.Random(seed_), datetime.now(UTC)
    with app.app_context():
        site = demo_site()
        rows = group_rows(site, first, 2 * per_group, now)
        with db.engine.begin() as conn:
            for model in (Contact, Visitor, ProfileValue):
                conn.execute(insert(model.__table__), rows[model])
        ids = {"one": range(first, first + per_group)}
        ids["long"] = range(first + per_group, first + 2 * per_group)
        for group, count in (("one", 1), ("long", events)):
            batch: list[dict] = []
            for cid in ids[group]:
                for row in history(site, cid, count, now, rng):
                    batch.append(row)
                    if len(batch) == BATCH:
                        insert_events(batch)
            insert_events(batch)
        finish_seeding()
    return {group: [f"history{cid:024d}" for cid in ids[group]] for group in GROUPS}


def insert_events(batch: list[dict]) -> None:
    if batch:
        with db.engine.begin() as conn:
            conn.execute(insert(EngagementEvent.__table__), batch)
        batch.clear()


def build_tallies(app: Flask, per_group: int, events: int, long_ids: list[str]) -> int:
    """Every tally built as the worker builds them after an upgrade; stops the run unless none
    is stale and each long contact's counts ``events``. Returns the tallies rebuilt."""
    from app.services.people import rebuild_stale_tallies
    from app.services.siteconfig import site_snapshot

    with app.app_context():
        for model, column in ((Contact, "contact_id"), (Visitor, "visitor_id")):
            owner = getattr(EngagementEvent, column)
            counts = db.session.execute(select(owner, func.count()).group_by(owner)).all()
            db.session.execute(update(model).values(tally_seq=0, tally_basis=None))
            db.session.execute(
                update(model.__table__)
                .where(model.__table__.c.id == bindparam("row_id"))
                .values(tally_seq=bindparam("seq")),
                [{"row_id": row_id, "seq": seq} for row_id, seq in counts],
            )
        db.session.execute(update(Site).values(tally_basis=None))
        db.session.commit()
        rebuilt = rebuild_stale_tallies()
        basis = site_snapshot(SITE).tally_basis
        stale = sum(
            db.session.scalar(
                select(func.count())
                .select_from(model)
                .where(model.tally_seq > 0)
                .where(or_(model.tally_basis.is_(None), model.tally_basis != basis))
            )
            for model in (Contact, Visitor)
        )
        tallied = db.session.scalars(
            select(Contact.tally_early + Contact.tally_mid + Contact.tally_late)
            .join(Visitor, Visitor.contact_id == Contact.id)
            .where(Visitor.public_id.in_(long_ids))
        ).all()
        db.session.remove()
        settle()
    print(f"tallies rebuilt: {rebuilt}; stale afterwards: {stale}")
    if stale or tallied != [events] * per_group:
        sys.exit(f"tallies not current: {stale} stale, long contacts count {sorted(set(tallied))}")
    return rebuilt


def settle() -> None:
    """After the load: PostgreSQL vacuums, analyzes and checkpoints (autovacuum would, at some
    moment of the measurement); SQLite moves its write-ahead log into the file."""
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in ("vacuum analyze", "checkpoint"):
                conn.execute(text(statement))
        else:
            conn.execute(text("pragma wal_checkpoint(truncate)"))


# --- targets --------------------------------------------------------------------------------


def submit_bodies(app: Flask, tokens: list[str]) -> list[bytes]:
    """Each browser's submit of the first question an ask (in-process) offers it."""
    from app.services.asking import ask_questions
    from app.services.insights.question_stats import flush

    bodies = []
    with app.app_context():
        for n, token in enumerate(tokens):
            asked = ask_questions(SITE, FORM, token, None, datetime.now(UTC))
            if not asked.questions:
                sys.exit("the ask offered a seeded browser nothing to submit")
            q = asked.questions[0]
            answers = {q.rule.key: answer(q.rule.kind, q.options, n)}
            body = {"visitor": token, "ask_token": asked.ask_token, "answers": answers}
            bodies.append(json.dumps(body).encode())
        flush()  # the asks' counters, now: at exit the database is gone
        db.session.remove()
    return bodies


def targets(app: Flask, tokens: dict[str, list[str]]) -> dict[tuple[str, str], Target]:
    """The six targets: each endpoint for each group (an event's id is new every request)."""
    paths = {
        "ask": f"/api/v1/sites/{SITE}/forms/{FORM}/ask",
        "event": f"/api/v1/sites/{SITE}/events",
        "submit": f"/api/v1/sites/{SITE}/forms/{FORM}/submit",
    }
    made = {}
    for group in GROUPS:
        mine = tokens[group]
        asks = [b.encode() for b in ask_bodies(mine)]
        submits = submit_bodies(app, mine)

        def event(i: int, mine: list[str] = mine, group: str = group) -> bytes:
            body = {"visitor": mine[i % len(mine)], "kind": "page_view", "id": f"{group}-{i}"}
            return json.dumps(body | {"url": "https://example.test/blog"}).encode()

        bodies = {
            "ask": lambda i, asks=asks: asks[i % len(asks)],
            "event": event,
            "submit": lambda i, submits=submits: submits[i % len(submits)],
        }
        for endpoint, path in paths.items():
            status = 202 if endpoint == "event" else 200
            check = lambda _i, _raw: None  # noqa: E731 - the status is the check
            made[endpoint, group] = Target(
                f"{endpoint} {group}", "POST", path, bodies[endpoint], check, status
            )
    return made


def measure(
    port: int, made: dict[tuple[str, str], Target], args: argparse.Namespace
) -> dict[tuple[str, str], Measure]:
    """Warm up each target; then each endpoint's two groups back to back, order swapped every
    round, ``--requests`` per target in all."""
    for target in made.values():
        warm = run_load(port, target, 0, args.warmup, args.concurrency)
        if warm.errors:
            sys.exit(f"{target.name} (warm-up): {len(warm.errors)} failed, e.g. {warm.errors[0]}")
    results = {key: Measure() for key in made}
    share = -(-args.requests // args.rounds)
    for r in range(args.rounds):
        count = min(share, args.requests - r * share)
        offset = args.warmup + r * share
        for endpoint in ENDPOINTS:
            for group in GROUPS if r % 2 == 0 else GROUPS[::-1]:
                m = run_load(port, made[endpoint, group], offset, count, args.concurrency)
                results[endpoint, group].add(m)
    for key, m in results.items():
        if m.errors:
            sys.exit(f"{made[key].name}: {len(m.errors)} failed, e.g. {sorted(set(m.errors))[:3]}")
    return results


# --- report ---------------------------------------------------------------------------------


def ratios(results: dict[tuple[str, str], Measure]) -> dict[str, tuple[float, float]]:
    """Each endpoint's long / one: time per request (the req/s inverted) and median latency."""
    out = {}
    for endpoint in ENDPOINTS:
        one, long = results[endpoint, "one"], results[endpoint, "long"]
        out[endpoint] = (
            one.per_second() / long.per_second(),
            long.percentile_ms(50) / one.percentile_ms(50),
        )
    return out


def table(results: dict[tuple[str, str], Measure], events: int) -> str:
    lines = [
        "| endpoint | events of the contact | requests | req/s | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (endpoint, group), m in results.items():
        n = f"{events:,}".replace(",", " ") if group == "long" else "1"
        lines.append(
            f"| {endpoint} | {n} | {len(m.latencies)} | {m.per_second():.0f} | "
            f"{m.percentile_ms(50):.1f} | {m.percentile_ms(95):.1f} | {m.percentile_ms(99):.1f} |"
        )
    return "\n".join(lines)


def summary(results, args: argparse.Namespace, argv: list[str], facts: str) -> str:
    found = ratios(results)
    n = f"{args.history:,}".replace(",", " ")
    heads = ", ".join(f"{e} {t:.2f}× (p50 {p:.2f}×)" for e, (t, p) in found.items())  # noqa: RUF001
    met = all(max(pair) <= 1.3 for pair in found.values())
    return (
        f"## History cost, {facts.split(' · ')[0].removeprefix('engine: ')} "
        f"({date.today().isoformat()})\n\n"
        f"**A contact with {n} events over one with 1: {heads}** "
        f"(time per request; target ≤ 1.3: {'met' if met else 'NOT met'})\n\n"
        f"```\n{command_line(argv, 'history.py')}\n```\n\n{facts}\n\n"
        f"{table(results, args.history)}\n"
    )


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=20_000, help="events of a long contact")
    parser.add_argument("--visitors", type=int, default=20, help="contacts of each group")
    parser.add_argument("--contacts", type=int, default=2000, help="background contacts")
    parser.add_argument("--requests", type=int, default=600, help="measured requests per target")
    parser.add_argument("--warmup", type=int, default=60, help="unmeasured requests per target")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=6, help="alternations of the groups")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    parser.add_argument(
        "--profile", type=Path, help="profile the workers into this directory (bench/profiling.py)"
    )
    args = parser.parse_args(argv)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    counts = (args.history, args.visitors, args.contacts, args.requests, args.warmup)
    if min(*counts, args.concurrency, args.rounds, args.workers) < 1:
        parser.error("counts must be positive")
    return args


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanups on `kill` too
    with fresh_database(args.database_url) as url:
        app = prepared_app(url)
        started = time.perf_counter()
        seed(app, args.contacts, random.Random(args.seed))
        ids = seed_groups(app, args.contacts + 1, args.visitors, args.history, args.seed)
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        build_tallies(app, args.visitors, args.history, ids["long"])
        print(f"tallies built in {time.perf_counter() - started:.1f} s", flush=True)
        tokens = {g: visitor_tokens(app, ids[g], len(ids[g]), random.Random(0)) for g in GROUPS}
        made = targets(app, tokens)
        engine = engine_version(app)
        with app.app_context():
            db.engine.dispose()
        with gunicorn(url, SECRET, args.workers, args.profile) as port:
            results = measure(port, made, args)
    facts = (
        f"engine: {engine} · server: gunicorn -w {args.workers} (sync) · load: bench/load.py, "
        f"{args.concurrency} threads, {args.rounds} rounds · {args.visitors} contacts per group "
        f"(half verified), {args.contacts} background contacts · {machine()} · "
        f"Python {platform.python_version()}"
    )
    section = summary(results, args, argv, facts)
    print(f"\n{section}")
    if args.record:
        record(section, f"history:{engine.split()[0].lower()}")
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit("interrupted: the server is stopped and the database removed")
