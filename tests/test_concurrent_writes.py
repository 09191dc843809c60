"""Concurrent writers on one database, through real HTTP on real connections (issue 8).

The app is served by a threaded werkzeug server on 127.0.0.1; every request is its own
``http.client`` connection, handled on its own server thread with its own session and database
connection, as in production. A ``threading.Barrier`` releases the racing requests together.
Every test runs on SQLite and on PostgreSQL (the ``database_url`` fixture).

What must hold whatever the interleaving: one contact per email, every accepted value in the
history and the profile holding the last one committed, a merged contact gone with its events
moved and counted once, one score wherever it is shown, and no valid request answered with
anything but 2xx (no "database is locked", no unique violation, no deadlock).
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from werkzeug.serving import WSGIRequestHandler, make_server

from app.domain.engagement import summarize_engagement
from app.extensions import db
from app.models import (
    Account,
    Contact,
    ContactMerge,
    EngagementEvent,
    Field,
    ProfileValue,
    StageChange,
    Submission,
    Visitor,
)
from app.services.exports import start_export
from app.services.insights import contact_detail, list_contacts
from app.services.siteconfig import site_snapshot
from app.services.tokens import read_visitor_token
from tests.e2e.servers import POLL_INTERVAL
from tests.factories import Widget, acme_config, make_site
from tests.tallies import stored_events, tally_mismatches

T = TypeVar("T")

TIMEOUT = 30.0  # seconds: a bound on every wait, never a sleep
EMAIL = "dana@zorblax.example"
# The same address as different visitors type it: compared trimmed and case-insensitively.
TYPED = [EMAIL, " Dana@Zorblax.Example ", "DANA@zorblax.example"]
# Many thresholds: each is a move that racing writers could make twice.
STAGES = [
    {"key": "lead", "when": {"fields_known": ["email"]}},
    {"key": "mql", "when": {"min_score": 10, "fields_known": ["email", "company"]}},
    {"key": "sql", "when": {"min_score": 25, "fields_known": ["email"]}},
    {"key": "hot", "when": {"min_score": 45, "fields_known": ["email"]}},
    {"key": "vip", "when": {"min_score": 70, "fields_known": ["email"]}},
]
WEIGHTS = {"page_view": 1.0, "content_download": 3.0, "webinar": 5.0, "form_submit": 2.0}


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {"RATELIMIT_ENABLED": False}


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object) -> None:
        pass  # hundreds of requests: a failure's report shows the responses that matter


@pytest.fixture
def address(app: Flask) -> Iterator[tuple[str, int]]:
    """The app served on a free port, one thread per request."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_INTERVAL,), daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_port
    server.shutdown()
    server.server_close()
    thread.join(TIMEOUT)


@pytest.fixture
def site(app: Flask) -> None:
    make_site(acme_config(stages=STAGES))
    # The test's own session holds nothing open while the server's threads write.
    db.session.remove()


class Browser:
    """One browser running the widget over HTTP: its visitor token, its last ask token, and
    every response it got as (what, status, body)."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.visitor: str | None = None
        self.ask_token: str | None = None
        self.questions: list[dict[str, Any]] = []
        self.responses: list[tuple[str, int, Any]] = []

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        connection = http.client.HTTPConnection(*self.address, timeout=TIMEOUT)
        try:
            connection.request(
                "POST",
                f"/api/v1/sites/acme{path}",
                json.dumps(body),
                {"Content-Type": "application/json"},
            )
            response = connection.getresponse()
            status, data = response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()
        self.responses.append((path, status, data))
        return status, data

    def ask(self, stage: str | None = None) -> list[str]:
        body: dict[str, Any] = {"page": {"url": "https://www.acme.example/blog/1", "stage": stage}}
        if self.visitor:
            body["visitor"] = self.visitor
        status, data = self.post("/forms/blog/ask", body)
        if status != 200:
            return []
        self.visitor, self.ask_token = data["visitor"], data["ask_token"]
        self.questions = data["questions"]
        return [q["key"] for q in self.questions]

    def submit(self, answers: dict[str, Any]) -> int:
        body = {"visitor": self.visitor, "ask_token": self.ask_token, "answers": answers}
        return self.post("/forms/blog/submit", body)[0]

    def event(self, kind: str, event_id: str | None = None, stage: str = "early") -> int:
        body: dict[str, Any] = {"kind": kind, "stage": stage, "id": event_id}
        if self.visitor:
            body["visitor"] = self.visitor
        status, data = self.post("/events", body)
        if status == 202:
            self.visitor = data["visitor"]
        return status

    def failures(self) -> list[tuple[str, int, Any]]:
        return [r for r in self.responses if not 200 <= r[1] < 300]


def together(tasks: list[Callable[[], T]]) -> list[T]:
    """Run ``tasks`` on threads of their own, released at the same moment; their results."""
    barrier = threading.Barrier(len(tasks), timeout=TIMEOUT)

    def released(task: Callable[[], T]) -> T:
        barrier.wait()
        return task()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [pool.submit(released, task) for task in tasks]
        return [future.result(timeout=4 * TIMEOUT) for future in futures]


def no_failures(browsers: list[Browser]) -> list[tuple[str, int, Any]]:
    return [failure for browser in browsers for failure in browser.failures()]


def contact_of(browser: Browser) -> int:
    public_id = read_visitor_token("acme", browser.visitor)
    return db.session.scalar(select(Visitor.contact_id).where(Visitor.public_id == public_id))


def field_id(key: str) -> int:
    return db.session.scalar(select(Field.id).where(Field.key == key))


def stage_moves() -> dict[int, list[tuple[str | None, str]]]:
    """Each contact's stage moves, in order; checked to be one forward chain that ends at the
    contact's stage: no move made twice by two writers that both saw the stage before it."""
    moves: dict[int, list[tuple[str | None, str]]] = {}
    for contact_id, before, after in db.session.execute(
        select(StageChange.contact_id, StageChange.from_stage, StageChange.to_stage).order_by(
            StageChange.id
        )
    ):
        moves.setdefault(contact_id, []).append((before, after))
    order = [stage["key"] for stage in STAGES]
    for contact_id, chain in moves.items():
        assert [before for before, _ in chain] == [None, *(after for _, after in chain[:-1])]
        ranks = [order.index(after) for _, after in chain]
        assert ranks == sorted(set(ranks)), chain
        assert db.session.get(Contact, contact_id).lifecycle_stage == chain[-1][1]
    return moves


def test_fifty_visitors_giving_one_new_email_at_once_make_one_contact_and_lose_nothing(
    app, address, site
):
    """50 new browsers (their asks stored nothing) submit the same new email with a first name
    and a company of their own, all at once: each submit stores its browser with an anonymous
    contact, one contact owns the email, the other 49 are merged into it, every submit is
    answered 200, all 50 values of each field are in the history, and the first answer is the
    value: the 49 other browsers only claimed the email, so their answers are kept as claims,
    each recorded against that value (no write was based on a stale read: only one saw the
    field blank)."""
    browsers = [Browser(address) for _ in range(50)]
    offered = together([browser.ask for browser in browsers])
    assert offered == [["email", "first_name", "company"]] * 50, no_failures(browsers)
    assert db.session.scalar(select(func.count()).select_from(Visitor)) == 0
    db.session.remove()

    answers = [
        {"email": TYPED[n % 3], "first_name": f"Dana {n:02d}", "company": f"Zorblax {n:02d}"}
        for n in range(50)
    ]
    statuses = together(
        [
            lambda b=browser, a=given: b.submit(a)
            for browser, given in zip(browsers, answers, strict=True)
        ]
    )
    assert statuses == [200] * 50, no_failures(browsers)

    contacts = db.session.scalars(select(Contact)).all()
    assert [contact.email for contact in contacts] == [EMAIL]
    survivor = contacts[0].id
    # Each browser stored under the id its ask gave it; the first to give the email kept its
    # anonymous contact, the 49 others were merged into it.
    assert sorted(db.session.scalars(select(Visitor.public_id))) == sorted(
        read_visitor_token("acme", browser.visitor) for browser in browsers
    )
    assert set(db.session.scalars(select(Visitor.contact_id))) == {survivor}
    merges = db.session.execute(
        select(ContactMerge.survivor_id, ContactMerge.merged_contact_id)
    ).all()
    assert {merge.survivor_id for merge in merges} == {survivor}
    assert len({merge.merged_contact_id for merge in merges} - {survivor}) == len(merges) == 49

    for key in ("first_name", "company"):
        history = db.session.execute(
            select(
                Submission.contact_id,
                Submission.value,
                Submission.previous_value,
                Submission.applied,
            )
            .where(Submission.field_id == field_id(key))
            .order_by(Submission.id)
        ).all()
        assert sorted(row.value for row in history) == sorted(a[key] for a in answers)
        assert {row.contact_id for row in history} == {survivor}
        first = history[0].value
        assert [row.previous_value for row in history] == [None] + [first] * 49
        assert [row.applied for row in history] == [True] + [False] * 49
        current = db.session.scalar(
            select(ProfileValue.value).where(
                ProfileValue.contact_id == survivor, ProfileValue.field_id == field_id(key)
            )
        )
        assert current == first
    emails = db.session.scalars(
        select(Submission.value).where(Submission.field_id == field_id("email"))
    ).all()
    assert emails == [EMAIL] * 50

    # One form_submit per submit, all on the survivor; one account for the company domain.
    kinds = db.session.execute(
        select(EngagementEvent.contact_id, EngagementEvent.kind, EngagementEvent.external_id)
    ).all()
    assert {(contact, kind) for contact, kind, _ in kinds} == {(survivor, "form_submit")}
    assert len({external_id for _, _, external_id in kinds}) == len(kinds) == 50
    assert db.session.scalars(select(Account.domain)).all() == ["zorblax.example"]
    assert stage_moves()[survivor][-1] == ("hot", "vip")  # score 100


def kind_of(event_id: str) -> str:
    """Each event id always comes with the same kind, so the expected score is one number."""
    return ("page_view", "content_download", "webinar")[sum(map(ord, event_id)) % 3]


def test_merges_racing_events_leave_the_union_of_events_and_one_score_everywhere(
    app, address, site, clock
):
    """An identified owner keeps sending events from two browsers (the same ids from both, and
    one without an id each) while six anonymous visitors, each with events of its own (one id
    also sent by the owner, one sent by all six), identify with the owner's email and go on
    sending events. Afterwards the owner's contact alone remains, holding exactly the union of
    the events (every id once), the merged contacts are gone with nothing left behind, the
    stage moved forward through each threshold once, and the score is the same from the
    stored events, the rules' summary, the console list and detail, and the contacts export."""
    owner, laptop = Browser(address), Browser(address)
    assert owner.ask() == ["email", "first_name", "company"]
    assert owner.submit({"email": EMAIL, "company": "Zorblax"}) == 200
    laptop.ask()
    assert laptop.submit({"email": EMAIL}) == 200  # the owner's second browser
    survivor = contact_of(owner)
    assert contact_of(laptop) == survivor
    # The laptop's submit stored it with an anonymous contact, merged at once.
    laptops = set(db.session.scalars(select(ContactMerge.merged_contact_id)))
    assert len(laptops) == 1
    anonymous = [Browser(address) for _ in range(6)]
    for browser in anonymous:
        browser.ask()  # stores nothing: each is stored at its first event, below
    db.session.remove()

    owner_ids = [f"owner-{n}" for n in range(8)]

    def owner_browser(browser: Browser) -> None:
        for event_id in owner_ids:
            browser.event(kind_of(event_id), event_id)
        browser.event("page_view")  # no id: every one counts

    def visitor(n: int, browser: Browser) -> None:
        for event_id in (f"anon{n}-a", f"anon{n}-b", f"owner-{n}", "everyone"):
            browser.event(kind_of(event_id), event_id)
        browser.submit({"email": TYPED[n % 3]})
        for event_id in (f"anon{n}-after-a", f"anon{n}-after-b"):
            browser.event(kind_of(event_id), event_id)

    together(
        [lambda: owner_browser(owner), lambda: owner_browser(laptop)]
        + [lambda n=n, b=browser: visitor(n, b) for n, browser in enumerate(anonymous)]
    )
    assert no_failures([owner, laptop, *anonymous]) == []

    assert db.session.scalars(select(Contact.id)).all() == [survivor]
    assert set(db.session.scalars(select(Visitor.contact_id))) == {survivor}
    absorbed = set(db.session.scalars(select(ContactMerge.merged_contact_id)))
    assert len(absorbed) == 7  # the laptop's contact and one of each anonymous browser
    assert laptops < absorbed
    assert survivor not in absorbed
    assert sorted(db.session.scalars(select(Visitor.public_id))) == sorted(
        read_visitor_token("acme", browser.visitor) for browser in [owner, laptop, *anonymous]
    )
    for model in (EngagementEvent, Submission):
        assert set(db.session.scalars(select(model.contact_id))) == {survivor}

    rows = db.session.execute(
        select(
            EngagementEvent.kind,
            EngagementEvent.external_id,
            EngagementEvent.visitor_id,
            EngagementEvent.counted,
        ).where(EngagementEvent.contact_id == survivor)
    ).all()
    # An id several browsers sent is kept once per browser (each browser's own view) and
    # counted once for the contact.
    per_browser = Counter((row.visitor_id, row.external_id) for row in rows if row.external_id)
    assert max(per_browser.values()) == 1
    events = [(row.kind, row.external_id) for row in rows if row.counted]
    sent = set(owner_ids) | {"everyone"}
    for n in range(6):
        sent |= {f"anon{n}-a", f"anon{n}-b", f"anon{n}-after-a", f"anon{n}-after-b"}
    by_id = Counter(external_id for _, external_id in events if external_id is not None)
    assert max(by_id.values()) == 1  # every id counted once
    assert {i for i in by_id if not i.startswith("submit:")} == sent
    assert sorted(kind for kind, i in events if i is None) == ["page_view", "page_view"]
    submits = [i for kind, i in events if kind == "form_submit"]
    assert len(submits) == 8 and all(i.startswith("submit:") for i in submits)
    expected = sum(WEIGHTS[kind_of(i)] for i in sent) + 2 * WEIGHTS["page_view"] + 8 * 2.0

    now = clock()
    stored = stored_events(survivor)
    assert len(stored) == len(rows)
    weights = site_snapshot("acme").weights
    assert summarize_engagement(stored, weights, now).score == expected
    # The running tallies (the contact's, each browser's own) say what the events say.
    assert tally_mismatches("acme", now) == []
    detail = contact_detail("acme", survivor, now=now)
    assert detail.summary.score == expected
    assert len(detail.timeline) == len(rows)
    assert sum(e.counted for e in detail.timeline) == len(events)
    assert [(row.id, row.score) for row in list_contacts("acme", "", 1, now=now).rows] == [
        (survivor, expected)
    ]
    export = start_export("acme", "contacts", {"format": "csv"}, now)
    (row,) = csv.DictReader(io.StringIO(b"".join(export.chunks).decode()))
    assert float(row["engagement_score"]) == expected
    assert int(row["engagement_events"]) == len(events)

    assert expected >= 70
    moves = stage_moves()
    assert list(moves) == [survivor]
    assert moves[survivor][0] == (None, "lead") and moves[survivor][-1][1] == "vip"


def answer(question: dict[str, Any], n: int) -> Any:
    """A valid answer to any question the acme form asks."""
    kind = question["kind"]
    if kind == "select":
        return question["options"][n % len(question["options"])]["value"]
    if kind == "boolean":
        return True
    if kind == "number":
        return 10 + n
    return f"Writer {n}"


def shown_answers(questions: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """Answers to every question the form shows: a No to each yes/no question keeps the
    dependents granted with it (``when``) hidden, so none steps another back."""
    return {
        q["key"]: False if q["kind"] == "boolean" else answer(q, n)
        for q in questions
        if "when" not in q
    }


def test_eight_writers_at_once_get_only_success(app, address, site):
    """Eight browsers ask, identify (eight new contacts of one new account), send events and
    answer whatever they are asked next, all at the same time: every response is a 2xx. On
    SQLite this is eight writers on one file: none may see "database is locked"."""
    browsers = [Browser(address) for _ in range(8)]

    def writer(n: int, browser: Browser) -> None:
        browser.ask()
        browser.submit({"email": f"writer{n}@zorblax.example", "company": "Zorblax"})
        for step in range(6):
            browser.event("page_view", f"w{n}-{step}")
            browser.event("webinar", stage="late")
            if browser.ask(stage="late"):
                browser.submit(shown_answers(browser.questions, n))

    together([lambda n=n, b=browser: writer(n, b) for n, browser in enumerate(browsers)])
    assert no_failures(browsers) == []

    emails = db.session.scalars(select(Contact.email).order_by(Contact.email)).all()
    assert emails == sorted(f"writer{n}@zorblax.example" for n in range(8))
    assert db.session.scalar(select(func.count()).select_from(Account)) == 1
    page_views = db.session.execute(
        select(EngagementEvent.contact_id, func.count())
        .where(EngagementEvent.kind == "page_view")
        .group_by(EngagementEvent.contact_id)
    ).all()
    assert sorted(count for _, count in page_views) == [6] * 8
    assert len(stage_moves()) == 8


def test_the_first_writes_of_a_new_browser_at_once_store_it_once(app, address, site):
    """A browser's ask stores nothing; its first submit and four events, sent at once, all
    carry the token of an id no row holds yet. They store one visitor, under that id, with one
    contact holding all they wrote (the writers that lost the insert reran and found it)."""
    first = Browser(address)
    assert first.ask() == ["email", "first_name", "company"]
    granted = read_visitor_token("acme", first.visitor)
    assert db.session.scalar(select(func.count()).select_from(Visitor)) == 0
    db.session.remove()
    same = [Browser(address) for _ in range(5)]
    for browser in same:
        browser.visitor, browser.ask_token = first.visitor, first.ask_token

    statuses = together(
        [lambda: same[0].submit({"email": EMAIL})]
        + [lambda b=b, n=n: b.event("page_view", f"pv-{n}") for n, b in enumerate(same[1:])]
    )

    assert statuses == [200, 202, 202, 202, 202], no_failures(same)
    assert db.session.scalars(select(Visitor.public_id)).all() == [granted]
    assert db.session.scalars(select(Contact.email)).all() == [EMAIL]
    kinds = db.session.scalars(select(EngagementEvent.kind).order_by(EngagementEvent.kind))
    assert kinds.all() == ["form_submit"] + ["page_view"] * 4
    assert {read_visitor_token("acme", b.visitor) for b in same} == {granted}


def test_write_units_take_their_locks_before_reading(app, client, site):
    """The mechanism the races above rely on, checked on every run (a race is not lost on
    every run). SQLite: an event and a submit start with BEGIN IMMEDIATE, before they read the
    visitor; an ask does not (readers never queue). PostgreSQL: they lock the visitor's row,
    then at once its contact's, before reading anything else of the contact."""
    statements: list[str] = []

    def capture(conn, cursor, statement, *args) -> None:
        statements.append(" ".join(statement.split()))

    def run(step: Callable[[], object]) -> list[str]:
        statements.clear()
        step()
        return list(statements)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        widget = Widget(client)
        asked = run(widget.ask)
        stored = run(widget.event)  # the browser's first write stores it
        units = [stored, run(widget.event), run(lambda: widget.submit({"email": EMAIL}))]
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)

    def first(unit: list[str], prefix: str) -> int:
        return next(n for n, statement in enumerate(unit) if statement.startswith(prefix))

    # An ask writes nothing of the browser (the shown-question and form counters are aggregates).
    writes = [s for s in asked if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    counters = ("INSERT INTO question_stats ", "INSERT INTO form_stats ")
    assert [s for s in writes if not s.startswith(counters)] == []
    if db.engine.dialect.name == "sqlite":
        assert "BEGIN IMMEDIATE" not in asked
        for unit in units:
            assert "BEGIN IMMEDIATE" in unit
            assert unit.index("BEGIN IMMEDIATE") < first(unit, "SELECT visitors.")
    else:
        for unit in units[1:]:
            visitor = first(unit, "SELECT visitors.")
            assert unit[visitor].endswith("FOR UPDATE")
            assert unit[visitor + 1].startswith("SELECT contacts.")
            assert unit[visitor + 1].endswith("FOR NO KEY UPDATE")


def test_an_erasure_racing_a_merge_into_the_person_leaves_nothing_of_them(app, address, clock):
    """An admin erases the person while a browser of someone else identifies with their email.
    Whichever commits first, nothing about an erased id may be left but its contact.deleted:
    no contact, no stored webhook event, no delivery (a merge that slipped in after the erasure
    deleted the payloads would leave the person's email and profile behind)."""
    from app.models import ContactErasure, Delivery, OutboxEvent
    from app.services.privacy import erase_contact

    destination = {
        "key": "crm",
        "url": "https://crm.example/hooks",
        "events": ["contact.updated", "contact.merged"],
    }
    make_site(acme_config(stages=STAGES, destinations=[destination]))
    db.session.remove()

    def owner() -> int | None:
        found = db.session.scalar(select(Contact.id).where(Contact.email == EMAIL))
        db.session.remove()
        return found

    browsers = []
    for _round in range(5):
        if owner() is None:
            first = Browser(address)
            first.ask()
            assert first.submit({"email": EMAIL}) == 200
            browsers.append(first)
        target = owner()
        newcomer = Browser(address)
        newcomer.ask()
        newcomer.event("page_view", f"pv-{_round}")
        browsers.append(newcomer)

        def erase(target: int = target) -> str:
            with app.app_context():
                erase_contact("acme", target, requested_by="dpo", now=clock())
                db.session.remove()
            return "erased"

        def identify(newcomer: Browser = newcomer) -> int:
            return newcomer.submit({"email": EMAIL})

        assert together([erase, identify]) == ["erased", 200]

    assert no_failures(browsers) == []
    erased = set(db.session.scalars(select(ContactErasure.contact_id)))
    assert len(erased) == 5
    assert db.session.scalars(select(Contact.id).where(Contact.id.in_(erased))).all() == []
    left = db.session.execute(
        select(OutboxEvent.contact_id, OutboxEvent.type).where(OutboxEvent.contact_id.in_(erased))
    ).all()
    assert {kind for _, kind in left} <= {"contact.deleted"}
    kinds = db.session.scalars(
        select(Delivery.event_type).where(Delivery.contact_id.in_(erased))
    ).all()
    assert set(kinds) <= {"contact.deleted"}
    merged_away = set(
        db.session.scalars(
            select(ContactMerge.merged_contact_id).where(ContactMerge.survivor_id.in_(erased))
        )
    )
    assert merged_away == set()
