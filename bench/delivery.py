"""Webhook delivery throughput: `trickle worker` processes as a ratio to plain POSTs to the same
receiver from one process, measured in the same run.

Method: build a fresh database (a temporary SQLite file, and a throw-away database on the
PostgreSQL server named by ``--postgres`` or TRICKLE_TEST_POSTGRES_URL), migrate it, load the demo
site with one destination pointing at a local receiver, and insert ``--events`` deliveries: one
``contact.updated`` each, for as many different contacts, shaped like a demo submit's (about
420 bytes), parked in the future. The receiver is a lean ``http.server`` in its own process on
127.0.0.1; it checks every request's Standard Webhooks signature and answers 204.

Each run starts ``trickle worker`` processes (the real command, ``TRICKLE_DELIVERY_BATCH`` sends
side by side in each), waits until they are up, makes every delivery due at once and times until
the database says all are delivered. Every delivery must be delivered exactly once, with a valid
signature. SQLite runs one worker only: it has one writer at a time and no ``SKIP LOCKED``, so a
second worker would wait for the write lock rather than send (DESIGN §1: SQLite mode is one
machine, one worker). PostgreSQL runs 1 then 4 workers (``--workers``).

The baseline is the raw rate of the same number of plain POSTs (same body size, signed, a new
connection each, as the worker sends them) from one process with as many threads as a worker's
batch, no database; it is measured before, between and after the worker runs, and the ratio
uses the median (other load on the machine moves single measurements).

Caveats: receiver, workers, baseline and the database share the machine's cores; absolute rates
understate a real deployment, and on a machine with few cores 4 workers mostly compete for them.
Events for the same contact go out one at a time (ordering), so a burst for few contacts is
slower than this one-event-per-contact load.

    .venv/bin/python bench/delivery.py [--events 5000] [--postgres URL] [--record]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import multiprocessing
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import delete, func, insert, select, text, update

# Run as a script, only bench/ is on the path: `bench` and `tests` are found from the root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from app.cli import DEMO_CONFIG
from app.config import postgres_test_url
from app.domain import webhooks
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Destination
from app.models.delivery import DELIVERED, PENDING
from app.services.outbox import new_message_id
from bench.ask import command_line, engine_version, fresh_database, machine, record

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-not-for-production"  # noqa: S105 - the app's key, not a webhook secret
TRICKLE = Path(sys.executable).with_name("trickle")
WARMUP = 300  # unmeasured plain POSTs before each baseline
FIRST = ("Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia")
SQLITE_NOTE = (
    "SQLite runs one worker only: it has one writer at a time and no SKIP LOCKED, so a second "
    "worker would wait for the write lock rather than send (one machine, one worker)."
)


# --- the receiver and the baseline, each in a process of its own ------------------------------


def genuine(secret: str, headers: Any, body: bytes) -> bool:
    """The request carries a valid Standard Webhooks signature made with ``secret``."""
    try:
        expected = webhooks.signature(
            [secret], headers["webhook-id"], int(headers["webhook-timestamp"]), body
        )
    except (KeyError, TypeError, ValueError):
        return False
    return expected in (headers.get("webhook-signature") or "").split()


def serve(secret: str, ports: Any, counts: Any) -> None:
    """Answer 204 to every genuine POST, 400 to others; count both (``counts``: good, bad)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            good = genuine(secret, self.headers, body)
            with counts.get_lock():
                counts[0 if good else 1] += 1
            self.send_response(204 if good else 400)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # 4 workers x 10 connections at once must not meet a full backlog

    server = Server(("127.0.0.1", 0), Handler)
    ports.put(server.server_address[1])
    server.serve_forever()


def plain_posts(port: int, secret: str, body: bytes, count: int, threads: int, out: Any) -> None:
    """``count`` signed POSTs of ``body`` from ``threads`` threads, a new connection each, after
    ``WARMUP`` unmeasured ones; puts (seconds, some errors, how many errors) on ``out``."""
    errors: list[str] = []

    def post(i: int) -> None:
        signed = webhooks.signed_request([secret], f"msg_plain_{i}", int(time.time()), body)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        try:
            conn.request("POST", "/hooks", signed.body, signed.headers)
            response = conn.getresponse()
            response.read()
            if response.status != 204:
                errors.append(f"HTTP {response.status}")
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
        finally:
            conn.close()

    def blast(first: int, last: int) -> float:
        numbers = iter(range(first, last))
        lock = threading.Lock()

        def send() -> None:
            while True:
                with lock:
                    i = next(numbers, None)
                if i is None:
                    return
                post(i)

        pool = [threading.Thread(target=send) for _ in range(threads)]
        started = time.perf_counter()
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        return time.perf_counter() - started

    blast(-WARMUP, 0)
    seconds = blast(0, count)
    out.put((seconds, errors[:5], len(errors)))


@dataclass
class Receiver:
    port: int
    counts: Any

    def good(self) -> int:
        return int(self.counts[0])

    def bad(self) -> int:
        return int(self.counts[1])


@contextlib.contextmanager
def receiver(secret: str) -> Iterator[Receiver]:
    context = multiprocessing.get_context("spawn")
    ports, counts = context.Queue(), context.Array("q", 2)
    process = context.Process(target=serve, args=(secret, ports, counts), daemon=True)
    process.start()
    try:
        yield Receiver(ports.get(timeout=30), counts)
    finally:
        process.terminate()
        process.join(10)


@dataclass(frozen=True)
class Run:
    name: str
    processes: int
    requests: int
    seconds: float

    def per_second(self) -> float:
        return self.requests / self.seconds


def baseline(name: str, rx: Receiver, secret: str, body: bytes, count: int, threads: int) -> Run:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(
        target=plain_posts, args=(rx.port, secret, body, count, threads, out), daemon=True
    )
    process.start()
    seconds, examples, failed = out.get(timeout=600)
    process.join(10)
    if failed:
        raise SystemExit(f"{name}: {failed} plain POSTs failed, e.g. {examples}")
    return Run(name, 1, count, seconds)


# --- the database -----------------------------------------------------------------------------


def prepared_app(url: str, receiver_url: str, secret: str) -> Flask:
    """An app on ``url``, migrated, with the demo site and a destination at the receiver."""
    from flask_migrate import upgrade

    from app.services.siteconfig import import_site_config, read_config_file

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "RATELIMIT_ENABLED": False,
            "ALLOW_PRIVATE_TARGETS": True,
        }
    )
    with app.app_context():
        upgrade()
        data = read_config_file(str(DEMO_CONFIG))
        data["destinations"] = [
            {"key": "bench", "url": receiver_url, "events": ["contact.updated"]}
        ]
        import_site_config(data, author="bench/delivery.py")
        destination = db.session.scalars(select(Destination)).one()
        destination.secret = secret
        db.session.commit()
    return app


def contact_data(n: int) -> dict[str, Any]:
    """A ``contact.updated`` as a first submit on the demo blog form makes it."""
    domain = f"company{n % 97}.example"
    email = f"{FIRST[n % len(FIRST)].lower()}.{n}@{domain}"
    return {
        "contact_id": n,
        "email": email,
        "changed": ["email", "first_name", "company"],
        "profile": {"email": email, "first_name": FIRST[n % len(FIRST)], "company": f"Co {n}"},
        "account": {},
        "account_domain": domain,
        "stage": None,
        "engagement": {"score": 2.0, "events": 1, "reached_stage": "early"},
    }


def body_of(message_id: str, n: int, now: datetime) -> bytes:
    return webhooks.encode(
        webhooks.payload("trickle", "contact.updated", message_id, now, contact_data(n), {})
    )


def seed_deliveries(app: Flask, count: int) -> None:
    """Replace every delivery by ``count`` new ones, parked a day ahead."""
    with app.app_context():
        destination = db.session.scalars(select(Destination)).one()
        now = app.config["CLOCK"]()
        rows = []
        for n in range(1, count + 1):
            message_id = new_message_id()
            rows.append(
                {
                    "site_id": destination.site_id,
                    "destination_id": destination.id,
                    "event_type": "contact.updated",
                    "contact_id": n,
                    "message_id": message_id,
                    "body": body_of(message_id, n, now),
                    "status": PENDING,
                    "attempts": 0,
                    "failures": 0,
                    "next_attempt_at": now + timedelta(days=1),
                    "created_at": now,
                }
            )
        with db.engine.begin() as conn:
            conn.execute(delete(DeliveryAttempt.__table__))
            conn.execute(delete(Delivery.__table__))
            for first in range(0, count, 5000):
                conn.execute(insert(Delivery.__table__), rows[first : first + 5000])
            if conn.dialect.name == "postgresql":
                conn.execute(text("analyze deliveries"))  # autovacuum would, soon after a load
        db.session.remove()


def release(app: Flask) -> None:
    """Make every delivery due now."""
    with app.app_context():
        now = app.config["CLOCK"]()
        db.session.execute(update(Delivery).values(next_attempt_at=now))
        db.session.commit()


def tally(app: Flask) -> tuple[int, int]:
    """(deliveries delivered, attempts made)."""
    with app.app_context():
        delivered = db.session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == DELIVERED)
        )
        attempts = db.session.scalar(select(func.count()).select_from(DeliveryAttempt))
        db.session.remove()
    return int(delivered or 0), int(attempts or 0)


# --- the workers ------------------------------------------------------------------------------


def worker_env(url: str, batch: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRICKLE_")}
    env |= {"TRICKLE_DATABASE_URL": url, "TRICKLE_SECRET_KEY": SECRET}
    env |= {"TRICKLE_ALLOW_PRIVATE_TARGETS": "true", "TRICKLE_RATELIMIT_ENABLED": "false"}
    env |= {"TRICKLE_DELIVERY_BATCH": str(batch), "TRICKLE_DELIVERY_POLL_SECONDS": "0.05"}
    return env


@contextlib.contextmanager
def workers(url: str, count: int, batch: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` `trickle worker` processes, up and polling; stopped (SIGTERM) on the way out."""
    with tempfile.TemporaryDirectory(prefix="trickle-bench-workers-") as tmp:
        logs = [Path(tmp) / f"worker-{i}.log" for i in range(count)]
        processes = []
        for log in logs:
            with log.open("wb") as out:
                processes.append(
                    subprocess.Popen(
                        [str(TRICKLE), "worker"],
                        cwd=ROOT,
                        env=worker_env(url, batch),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        try:
            deadline = time.monotonic() + 60
            while not all(log.stat().st_size for log in logs):  # each prints a line once running
                check_alive(processes, logs)
                if time.monotonic() > deadline:
                    raise SystemExit("the workers did not start within 60 s")
                time.sleep(0.1)
            time.sleep(0.3)
            yield processes
            check_alive(processes, logs)
        finally:
            for process in processes:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def check_alive(processes: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    for process, log in zip(processes, logs, strict=True):
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise SystemExit(f"a worker exited with code {process.returncode}:\n{tail}")


def run_workers(app: Flask, url: str, rx: Receiver, count: int, events: int, batch: int) -> Run:
    """Seed, start ``count`` workers, release every delivery and time until all are delivered."""
    seed_deliveries(app, events)
    good_before, bad_before = rx.good(), rx.bad()
    with workers(url, count, batch) as processes:
        release(app)
        started = time.perf_counter()
        deadline = time.monotonic() + max(300.0, events / 10)
        while (done := tally(app))[0] < events:
            if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
                raise SystemExit(f"{count} worker(s): {done[0]} of {events} delivered, stuck")
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    delivered, attempts = tally(app)
    received, forged = rx.good() - good_before, rx.bad() - bad_before
    if (delivered, attempts, received, forged) != (events, events, events, 0):
        raise SystemExit(
            f"{count} worker(s): {delivered} delivered, {attempts} attempts, {received} received "
            f"with a valid signature, {forged} without; expected {events}, {events}, {events}, 0"
        )
    name = f"`trickle worker` × {count}"  # noqa: RUF001 - a multiplication sign
    return Run(name, count, events, seconds)


# --- report -----------------------------------------------------------------------------------


def times(value: float) -> str:
    return f"{value:.2f} ×"  # noqa: RUF001 - a multiplication sign


def summary(
    engine: str, runs: list[Run], plain: float, facts: dict[str, str], command: str
) -> tuple[str, str]:
    """The headline (deliveries/s and their ratio to the plain POST rate, per worker count)
    and the markdown section of one engine's runs."""
    headline = "; ".join(
        f"{r.processes} worker{'s' * (r.processes > 1)}: {r.per_second():.0f} deliveries/s = "
        f"{times(r.per_second() / plain)} plain POST rate"
        for r in runs
        if r.name.startswith("`trickle")
    )
    baselines = sum(r.name.startswith("plain") for r in runs)
    rows = "\n".join(
        f"| {r.name} | {r.processes} | {r.requests} | {r.seconds:.2f} | {r.per_second():.0f} | "
        f"{r.per_second() / plain:.2f} |"
        for r in runs
    )
    note = f"\n{SQLITE_NOTE}\n" if engine.startswith("SQLite") else ""
    facts_line = " · ".join(f"{k}: {v}" for k, v in facts.items())
    section = (
        f"## Webhook delivery vs plain POSTs, {engine} ({date.today().isoformat()})\n\n"
        f"**{headline}** (plain POSTs: {plain:.0f}/s, the median of {baselines})\n\n"
        f"```\n{command}\n```\n\n{facts_line}\n{note}\n"
        "| run | processes | requests | seconds | per second | × plain POST rate |\n"  # noqa: RUF001
        f"|---|---:|---:|---:|---:|---:|\n{rows}\n"
    )
    return headline, section


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="deliveries per run")
    parser.add_argument("--batch", type=int, default=10, help="TRICKLE_DELIVERY_BATCH of a worker")
    parser.add_argument("--workers", default="1,4", help="worker counts on PostgreSQL, in order")
    parser.add_argument("--postgres", help="PostgreSQL server URL [TRICKLE_TEST_POSTGRES_URL]")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args(argv)
    try:
        args.worker_counts = [int(n) for n in args.workers.split(",")]
    except ValueError:
        parser.error("--workers is a comma-separated list of numbers, like 1,4")
    if min(args.events, args.batch, *args.worker_counts) < 1:
        parser.error("counts must be positive")
    if not TRICKLE.exists():
        parser.error(f"{TRICKLE} not found: run with the project's .venv/bin/python")
    return args


def bench_engine(server_url: str | None, args: argparse.Namespace, command: str) -> str:
    """Every run on one engine; prints (and records) its section; returns its headline."""
    secret = webhooks_secret()
    with fresh_database(server_url) as url, receiver(secret) as rx:
        app = prepared_app(url, f"http://127.0.0.1:{rx.port}/hooks", secret)
        engine = engine_version(app)
        counts = [1] if engine.startswith("SQLite") else args.worker_counts
        print(f"\n{engine}: {args.events} deliveries per run, workers {counts}")
        if engine.startswith("SQLite"):
            print(SQLITE_NOTE)
        body = body_of(new_message_id(), 1, app.config["CLOCK"]())
        runs: list[Run] = []
        for count in [None, *counts]:
            if count is not None:
                runs.append(run_workers(app, url, rx, count, args.events, args.batch))
                print(f"  {runs[-1].name}: {runs[-1].per_second():.0f} deliveries/s")
            name = f"plain POSTs ({len(runs) // 2 + 1})"
            runs.append(baseline(name, rx, secret, body, args.events, args.batch))
            print(f"  {runs[-1].name}: {runs[-1].per_second():.0f}/s")
        with app.app_context():
            db.engine.dispose()
    plain = statistics.median(r.per_second() for r in runs if r.name.startswith("plain"))
    facts = {
        "engine": engine,
        "deliveries": f"{args.events:,} per run".replace(",", " "),
        "batch": f"{args.batch} per worker",
        "receiver": "http.server, own process",
        "machine": machine(),
        "Python": platform.python_version(),
    }
    headline, section = summary(engine, runs, plain, facts, command)
    print(f"\n{section}")
    if args.record:
        record(section, f"delivery:{engine.split()[0].lower()}")
        print("recorded in docs/benchmarks.md")
    return f"{engine}: {headline}"


def webhooks_secret() -> str:
    from app.services.siteconfig.signing import generate_signing_secret

    return generate_signing_secret()


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanups on `kill` too
    server_url = args.postgres or postgres_test_url()
    command = command_line(
        argv, "delivery.py", from_environment=server_url is not None and not args.postgres
    )
    headlines = [bench_engine(None, args, command)]
    if server_url:
        headlines.append(bench_engine(server_url, args, command))
    print("\n" + "\n".join(headlines))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit("interrupted: the workers and the receiver are stopped, the databases removed")
