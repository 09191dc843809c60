"""A returning browser's submit, in-process: its time and its statements (issue 19).

Each round makes a person on the Acme demo config with two stages: their own browser verifies
its email (identity hash), sends two page views and answers a first question; a second browser
then types the same email (a claimed link). Then, timed, the verified browser submits what its
next ask offers, and so does the claimed one. The baseline is the bare endpoint
(``GET /api/v1/health``) of the same app, timed between the two in every round, so drift hits
all three alike. In-process (Flask's test client), no network: the figure is the database work.
Every statement of the timed submits is counted too (``before_cursor_execute``).

    .venv/bin/python bench/submit.py [--rounds 200] [--database-url URL] [--record]

Prints the medians, each submit's ratio to the bare endpoint and its statements per submit.
``--record`` writes the section into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from app import create_app  # noqa: E402
from app.clock import current_time  # noqa: E402
from app.domain.identity import identity_hash  # noqa: E402
from app.extensions import db  # noqa: E402
from app.services.people import new_identity_secret  # noqa: E402
from bench.ask import fresh_database, record  # noqa: E402
from tests.databases import settings_for  # noqa: E402
from tests.factories import Widget, acme_config, make_site  # noqa: E402

STAGES = [
    {"key": "lead", "when": {"fields_known": ["email"]}},
    {"key": "mql", "when": {"min_score": 3, "fields_known": ["company"]}},
]
ANSWERS: dict[str, Any] = {
    "first_name": "Dana",
    "company": "Zorblax",
    "zip": "10115",
    "company_size": "11-50",
    "industry": "Software",
    "job_title": "CTO",
    "employees": 42,
    "decision_maker": True,
    "budget": "< 10k",
    "timeline": "Now",
}
KINDS = ("verified", "claimed", "bare")


STATEMENTS = {"verified": 0, "claimed": 0}


def timed(step: Callable[[], Any], kind: str | None = None) -> float:
    """``step``'s seconds; its statements are added to ``STATEMENTS[kind]``."""

    def count(*_args: Any) -> None:
        if kind is not None:
            STATEMENTS[kind] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        response = step()
        elapsed = time.perf_counter() - started
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.get_json()
    return elapsed


def one_round(client, secret: str, n: int) -> dict[str, float]:
    """The two timed submits of one new person, and the bare endpoint between them."""
    email = f"dana{n}@zorblax{n}.example"
    owner = Widget(client)
    owner.ask()
    owner.event()
    owner.event()
    assert owner.identify(email=email, hash=identity_hash(secret, email))
    owner.ask()
    owner.submit({"first_name": "Dana"})
    claimant = Widget(client)
    claimant.ask()
    claimant.submit({"email": email})
    offered = owner.ask()
    own = claimant.ask()
    return {
        "verified": timed(lambda: owner.submit({k: ANSWERS[k] for k in offered}), "verified"),
        "bare": timed(lambda: client.get("/api/v1/health")),
        "claimed": timed(lambda: claimant.submit({k: ANSWERS[k] for k in own}), "claimed"),
    }


def measure(url: str, rounds: int) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Each kind's times, and each submit's statements per request."""
    app = create_app(settings_for(url, RATELIMIT_ENABLED=False))
    with app.app_context():
        db.create_all()
        make_site(acme_config(stages=STAGES))
        secret = new_identity_secret("acme", None, current_time())
        client = app.test_client()
        for n in range(20):  # warm-up: caches, the snapshot, connection pool
            one_round(client, secret, -n - 1)
        STATEMENTS.update(verified=0, claimed=0)
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for n in range(rounds):
            for kind, seconds in one_round(client, secret, n).items():
                times[kind].append(seconds)
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    return times, {kind: count / rounds for kind, count in STATEMENTS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    engine = "PostgreSQL" if args.database_url else "SQLite"
    with fresh_database(args.database_url) as url:
        times, statements = measure(url, args.rounds)
    medians = {kind: statistics.median(times[kind]) for kind in KINDS}
    ratio = {kind: medians[kind] / medians["bare"] for kind in ("verified", "claimed")}
    command = "python bench/submit.py" + (
        f" --database-url {args.database_url}" if args.database_url else ""
    )
    section = (
        f"## Submit of a returning browser, in-process, {engine} ({date.today()})\n\n"
        f"**verified submit = {ratio['verified']:.1f} × bare, "  # noqa: RUF001
        f"claimed submit = {ratio['claimed']:.1f} × bare** "  # noqa: RUF001
        f"(medians {medians['verified'] * 1000:.1f} ms, {medians['claimed'] * 1000:.1f} ms and "
        f"{medians['bare'] * 1000:.2f} ms over {args.rounds} rounds; "
        f"{statements['verified']:.1f} and {statements['claimed']:.1f} statements per submit, "
        f"the whole request)\n\n```\n{command}\n```\n"
    )
    print(section)
    if args.record:
        record(section, f"submit-{engine.lower()}")


if __name__ == "__main__":
    main()
