"""The widget's three endpoints under load (wrk), each beside a bare JSON endpoint of the same
server in the same run, and their latency as the contacts grow.

Method: build a fresh database (a temporary SQLite file, or a throw-away database on the
PostgreSQL server of ``--database-url``), migrate it, load the demo site and seed ``--contacts``
contacts (bench/seed.py: visitors, values, account values, skips, events). Prepare request bodies
for seeded (returning) visitors: asks; submits, each answering what an ask (run in-process
beforehand) offered that visitor; and page-view events with unique ids. Start the real server
(gunicorn, ``--workers`` sync workers) on 127.0.0.1 and drive it with wrk (Debian's package;
``make bench`` installs it) for ``--duration`` seconds per endpoint, ``--connections`` open
connections. The baseline, ``GET /api/v1/health``, touches no database: it is the server's
ceiling, measured before and after the endpoints (the mean is the baseline). Every response must
be a 2xx; any other status fails the run.

``--contacts 10000,1000000`` runs each size in turn and adds a table of each endpoint's latency
at the largest size over the smallest: lookups are indexed, so it should stay near 1.

Caveats: wrk, the server and (on PostgreSQL) the database share the machine's 2 cores, so
absolute requests/second understate a real deployment; the ratio to the bare endpoint is the
figure to compare. Submits replay their ask token when wrk cycles through the prepared bodies
(a valid, accepted submit: the values are written again).

    .venv/bin/python bench/api_load.py [--contacts 100000] [--database-url URL] [--record]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask import Flask

# Run as a script, only bench/ is on the path: `bench` and `tests` are found from the root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.extensions import db
from bench.ask import (
    SECRET,
    command_line,
    engine_version,
    fresh_database,
    machine,
    prepared_app,
    record,
)
from bench.load import gunicorn
from bench.seed import FORM, SITE, seed, visitor_tokens

ROOT = Path(__file__).resolve().parent.parent
LUA = r"""
local bodies, n = {}, 0
for line in io.lines(os.getenv("BENCH_BODIES")) do n = n + 1; bodies[n] = line end
local counter, offset = 0, 0
function setup(thread) thread:set("offset", #bodies > 0 and math.random(n) or 0) end
function init(args) counter = offset end
function request()
  if n == 0 then return wrk.format(nil) end
  counter = counter + 1
  local body = string.gsub(bodies[(counter % n) + 1], "__N__", tostring(counter) .. "-" .. offset)
  return wrk.format(nil, nil, nil, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.6f, "p50": %d, "p95": %d, "p99": %d, ' ..
    '"status": %d, "socket": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    p50: float  # milliseconds
    p95: float
    p99: float
    failed: int  # non-2xx answers and socket errors

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(
    port: int, method: str, path: str, bodies: list[str], args: argparse.Namespace, work: Path
) -> Result:
    """wrk against one endpoint; bodies are cycled (``__N__`` becomes a unique number)."""
    name = re.sub(r"\W+", "_", path)
    (work / f"{name}.lua").write_text(LUA.replace("wrk.format(nil", f'wrk.format("{method}"'))
    (work / f"{name}.txt").write_text("".join(b + "\n" for b in bodies))
    command = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections)]
    command += ["-d", f"{args.duration}s", "--timeout", "10s", "-s", str(work / f"{name}.lua")]
    command += ["-H", "Content-Type: application/json", f"http://127.0.0.1:{port}{path}"]
    env = os.environ | {"BENCH_BODIES": str(work / f"{name}.txt")}
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    result = Result(
        raw["requests"],
        raw["seconds"],
        raw["p50"] / 1000,
        raw["p95"] / 1000,
        raw["p99"] / 1000,
        raw["status"] + raw["socket"],
    )
    if result.failed:
        sys.exit(f"{method} {path}: {result.failed} of {result.requests} requests failed\n{output}")
    return result


# --- request bodies -------------------------------------------------------------------------


_ANSWERS: dict[str, Any] = {
    "text": "Bench",
    "textarea": "Fewer, better questions.",
    "phone": "+49 30 1234567",
    "url": "https://example.test/",
    "number": 42,
    "boolean": True,
    "consent": True,
}


def answer(kind: str, options: tuple[tuple[str, str], ...], n: int) -> Any:
    """A valid answer of ``kind`` (the first option of a choice)."""
    if kind == "email":
        return f"bench.{n}@example.test"
    if kind == "select":
        return options[0][0]
    if kind == "multiselect":
        return [options[0][0]]
    return _ANSWERS[kind]


def submit_bodies(app: Flask, tokens: list[str]) -> list[str]:
    """One submit per visitor: ask in-process (as the widget would first), answer every question
    offered. Visitors with nothing left to ask are left out."""
    from app.services.asking import ask_questions

    bodies = []
    now = datetime.now(UTC)
    with app.app_context():
        for n, token in enumerate(tokens):
            asked = ask_questions(SITE, FORM, token, None, now)
            if not asked.questions:
                continue
            answers = {q.rule.key: answer(q.rule.kind, q.options, n) for q in asked.questions}
            body = {"visitor": token, "ask_token": asked.ask_token, "answers": answers}
            bodies.append(json.dumps(body))
        db.session.remove()
    return bodies


def event_bodies(tokens: list[str]) -> list[str]:
    return [
        json.dumps(
            {"visitor": t, "kind": "page_view", "url": "https://example.test/blog", "id": "b-__N__"}
        )
        for t in tokens
    ]


def ask_bodies(tokens: list[str]) -> list[str]:
    return [
        json.dumps({"visitor": t, "page": {"url": "https://example.test/blog"}}) for t in tokens
    ]


# --- one size -------------------------------------------------------------------------------


ENDPOINTS = ("ask", "submit", "events")
PATHS = {
    "bare": ("GET", "/api/v1/health"),
    "ask": ("POST", f"/api/v1/sites/{SITE}/forms/{FORM}/ask"),
    "submit": ("POST", f"/api/v1/sites/{SITE}/forms/{FORM}/submit"),
    "events": ("POST", f"/api/v1/sites/{SITE}/events"),
}


def measure_size(contacts: int, args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    with fresh_database(args.database_url) as url, tempfile.TemporaryDirectory() as tmp:
        app = prepared_app(url)
        started = time.perf_counter()
        public_ids = seed(app, contacts, rng)
        print(f"seeded {contacts} contacts in {time.perf_counter() - started:.1f} s", flush=True)
        tokens = visitor_tokens(app, public_ids, args.visitors, rng)
        bodies = {
            "bare": [],
            "ask": ask_bodies(tokens),
            "submit": submit_bodies(app, tokens),
            "events": event_bodies(tokens),
        }
        engine = engine_version(app)
        with app.app_context():
            db.engine.dispose()
        results: dict[str, Result] = {}
        with gunicorn(url, SECRET, args.workers, args.profile) as port:
            order = ["bare", *ENDPOINTS, "bare"]
            for i, name in enumerate(order):
                method, path = PATHS[name]
                result = run_wrk(port, method, path, bodies[name], args, Path(tmp))
                results[name if i < len(order) - 1 else "bare2"] = result
                print(f"  {name}: {result.per_second:.0f} req/s, p50 {result.p50:.1f} ms")
    return {"engine": engine, "contacts": contacts, "results": results}


def bare(results: dict[str, Result]) -> float:
    return (results["bare"].per_second + results["bare2"].per_second) / 2


def size_table(run: dict[str, Any]) -> str:
    results = run["results"]
    ceiling = bare(results)
    lines = [
        "| endpoint | requests | req/s | × bare | p50 ms | p95 ms | p99 ms |",  # noqa: RUF001
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("bare", *ENDPOINTS, "bare2"):
        r = results[name]
        method, path = PATHS["bare" if name == "bare2" else name]
        lines.append(
            f"| `{method} {path}` | {r.requests} | {r.per_second:.0f} | "
            f"{r.per_second / ceiling:.2f} | {r.p50:.1f} | {r.p95:.1f} | {r.p99:.1f} |"
        )
    return "\n".join(lines)


def flatness_table(small: dict[str, Any], large: dict[str, Any]) -> str:
    n, m = f"{small['contacts']:,}".replace(",", " "), f"{large['contacts']:,}".replace(",", " ")
    lines = [
        f"| endpoint | p50 ms at {n} | p50 ms at {m} | p95 ms at {n} | p95 ms at {m} "
        f"| p50 ratio | p95 ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ENDPOINTS:
        a, b = small["results"][name], large["results"][name]
        lines.append(
            f"| {name} | {a.p50:.1f} | {b.p50:.1f} | {a.p95:.1f} | {b.p95:.1f} | "
            f"{b.p50 / a.p50:.2f} | {b.p95 / a.p95:.2f} |"
        )
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", default="100000", help="a size, or sizes: 10000,1000000")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--visitors", type=int, default=5000, help="returning visitors used")
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    parser.add_argument(
        "--profile", type=Path, help="profile the workers into this directory (bench/profiling.py)"
    )
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(x) for x in args.contacts.split(",")]
    except ValueError:
        parser.error("--contacts takes whole numbers separated by commas")
    if min([*args.sizes, args.duration, args.connections, args.workers, args.visitors]) < 1:
        parser.error("counts must be positive")
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed: apt-get install wrk (make bench installs it)")
    return args


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runs = [measure_size(size, args, rng) for size in args.sizes]
    engine = runs[0]["engine"]
    facts = (
        f"engine: {engine} · server: gunicorn -w {args.workers} (sync) · wrk: "
        f"{args.connections} connections, {args.duration} s per endpoint · "
        f"{args.visitors} returning visitors · {machine()} · Python {platform.python_version()}"
    )
    parts = [f"## ask, submit, events under load, {engine} ({date.today().isoformat()})\n"]
    parts.append(f"```\n{command_line(argv, 'api_load.py')}\n```\n\n{facts}\n")
    for run in runs:
        ceiling = bare(run["results"])
        heads = ", ".join(
            f"{name} {run['results'][name].per_second / ceiling:.2f}×"  # noqa: RUF001
            for name in ENDPOINTS
        )
        size = f"{run['contacts']:,}".replace(",", " ")
        parts.append(f"**{size} contacts**: {heads} the bare endpoint ({ceiling:.0f} req/s)\n")
        parts.append(size_table(run) + "\n")
    if len(runs) > 1:
        parts.append("Latency as contacts grow (largest over smallest):\n")
        parts.append(flatness_table(runs[0], runs[-1]) + "\n")
    section = "\n".join(parts)
    print(f"\n{section}")
    if args.record:
        sizes = "-".join(str(s) for s in args.sizes)
        record(section, f"load:{engine.split()[0].lower()}:{sizes}")
        print("recorded in docs/benchmarks.md")
    if args.profile is not None:
        print(f"worker profiles in {args.profile}: bench/profiling.py {args.profile}")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit("interrupted: the server is stopped and the database removed")
