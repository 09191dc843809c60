"""Hot activity: a late-stage event by a handed-off contact, or by anyone of its account, sends
``contact.engaged`` at most once per contact per window (sales_outcomes.hot_activity)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models import Contact, Handoff, OutboxEvent, Site, Visitor
from app.services.errors import Invalid
from app.services.siteconfig import export_site_config, import_site_config
from app.services.tokens import read_visitor_token
from tests.factories import Widget, acme_config, make_site
from tests.sales.support import SALES, STAGES, sales_config

ENGAGEMENT = {
    "page_view": 1,
    "form_submit": 2,
    "pricing_view": {"weight": 0, "stage": "late"},
    "demo_request": {"weight": 0, "stage": "late"},
}
HOT = {"events": ["pricing_view", "demo_request"], "window_hours": 24}


def hot_config(hot: object = HOT) -> dict:
    return acme_config(
        stages=STAGES, engagement=ENGAGEMENT, sales_outcomes={**SALES, "hot_activity": hot}
    )


@pytest.fixture
def site(app):
    return make_site(hot_config())


def person(client, email: str | None) -> tuple[Widget, int]:
    """A browser that gave ``email`` (None: still anonymous), and its contact's id."""
    widget = Widget(client)
    widget.ask()
    if email is None:
        widget.event()
    else:
        assert widget.submit({"email": email}).status_code == 200
    public_id = read_visitor_token("acme", widget.visitor)
    contact = db.session.scalar(select(Visitor.contact_id).where(Visitor.public_id == public_id))
    return widget, contact


def hand_off(contact_id: int, at, team: str = "sales", closed_by: str | None = None) -> None:
    """A hand-off row as the hand-off code writes it (open, or closed by ``closed_by``)."""
    site_id = db.session.scalar(select(Site.id))
    closed_at = None if closed_by is None else at + timedelta(hours=1)
    db.session.add(
        Handoff(
            site_id=site_id,
            contact_id=contact_id,
            team=team,
            stage="mql",
            started_at=at,
            due_at=at + timedelta(hours=48),
            closed_at=closed_at,
            closed_by=closed_by,
        )
    )
    db.session.commit()


def engaged() -> list[tuple[int, dict]]:
    rows = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.type == "contact.engaged").order_by(OutboxEvent.id)
    )
    return [(row.contact_id, row.payload) for row in rows]


def engaged_at(contact_id: int):
    db.session.expire_all()
    return db.session.get(Contact, contact_id).engaged_at


def test_a_hot_event_of_a_handed_off_contact_sends_contact_engaged(client, site, clock):
    widget, ada = person(client, "ada@zorblax.example")
    hand_off(ada, clock() - timedelta(hours=2))
    clock.advance(minutes=5)
    widget.event("pricing_view", stage=None, id="p-1", url="https://www.acme.example/pricing")

    assert engaged() == [
        (
            ada,
            {
                "contact_id": ada,
                "email": "ada@zorblax.example",
                "account_domain": "zorblax.example",
                "by": {"contact_id": ada, "email": "ada@zorblax.example"},
                "event": {
                    "kind": "pricing_view",
                    "id": "p-1",
                    "url": "https://www.acme.example/pricing",
                    "occurred_at": "2026-03-02T09:05:00Z",
                },
                "handoff": {"started_at": "2026-03-02T07:00:00Z", "due_at": "2026-03-04T07:00:00Z"},
            },
        )
    ]
    assert engaged_at(ada) == clock()


def test_once_per_contact_per_window(client, site, clock):
    widget, ada = person(client, "ada@zorblax.example")
    hand_off(ada, clock())
    widget.event("demo_request")
    first = clock()
    clock.advance(hours=23, minutes=59)
    widget.event("pricing_view")
    clock.advance(minutes=1)  # exactly the window: still within it
    widget.event("demo_request")
    assert len(engaged()) == 1
    assert engaged_at(ada) == first

    clock.advance(seconds=1)
    widget.event("pricing_view")
    assert [payload["event"]["kind"] for _, payload in engaged()] == [
        "demo_request",
        "pricing_view",
    ]
    assert engaged_at(ada) == clock()


def test_the_window_is_configurable(app, client, clock):
    make_site(hot_config({"events": ["pricing_view"], "window_hours": 2}))
    widget, ada = person(client, "ada@zorblax.example")
    hand_off(ada, clock())
    widget.event("pricing_view")
    clock.advance(hours=2)
    widget.event("pricing_view")
    clock.advance(seconds=1)
    widget.event("pricing_view")
    widget.event("demo_request")  # known to the site, but not hot here
    assert len(engaged()) == 2


def test_a_colleagues_hot_event_tells_the_handed_off_contacts_of_the_account(client, site, clock):
    _, ada = person(client, "ada@zorblax.example")
    _, grace = person(client, "grace@zorblax.example")
    colleague, bob = person(client, "bob@zorblax.example")
    _, other = person(client, "eve@elsewhere.example")
    for contact in (ada, grace, other):
        hand_off(contact, clock())
    colleague.event("pricing_view", id="p-7")

    sent = engaged()
    assert [contact for contact, _ in sent] == [ada, grace]  # not bob, not another company's
    assert {payload["email"] for _, payload in sent} == {
        "ada@zorblax.example",
        "grace@zorblax.example",
    }
    assert all(
        payload["by"] == {"contact_id": bob, "email": "bob@zorblax.example"} for _, payload in sent
    )
    assert engaged_at(bob) is None

    # Another hot event within the window: both were told already.
    colleague.event("demo_request")
    assert len(engaged()) == 2


def test_an_anonymous_browser_of_a_handed_off_contact_is_reported_as_such(client, site, clock):
    widget, contact = person(client, None)
    hand_off(contact, clock())
    widget.event("pricing_view")
    [(_, payload)] = engaged()
    assert payload["by"] == {"contact_id": contact, "email": None}
    assert payload["account_domain"] is None


def test_other_kinds_send_nothing(client, site, clock):
    widget, ada = person(client, "ada@zorblax.example")
    hand_off(ada, clock())
    widget.event("page_view")
    widget.event("webinar")
    assert engaged() == []
    assert engaged_at(ada) is None


@pytest.mark.parametrize(
    ("team", "closed_by", "told"),
    [
        ("sales", None, True),
        ("sales", "accepted", True),
        ("sales", "opportunity", True),
        ("sales", "rejected", False),
        ("sales", "recycled", False),
        ("sales", "won", False),
        ("sales", "lost", False),
        ("sales", "handed_off", False),
        ("marketing", None, False),
    ],
)
def test_only_a_contact_sales_work_is_handed_off(client, site, clock, team, closed_by, told):
    widget, ada = person(client, "ada@zorblax.example")
    hand_off(ada, clock() - timedelta(days=1), closed_by=closed_by, team=team)
    widget.event("pricing_view")
    assert len(engaged()) == (1 if told else 0)


def test_the_latest_hand_off_decides(client, site, clock):
    widget, ada = person(client, "ada@zorblax.example")
    hand_off(ada, clock() - timedelta(days=3))  # open, but an older one
    hand_off(ada, clock() - timedelta(days=2), closed_by="recycled")
    widget.event("pricing_view")
    assert engaged() == []

    hand_off(ada, clock() - timedelta(days=1), closed_by="accepted")  # handed off again
    widget.event("pricing_view")
    [(_, payload)] = engaged()
    assert payload["handoff"]["started_at"] == "2026-03-01T09:00:00Z"


def test_a_site_without_hot_activity_sends_nothing(app, client, clock):
    make_site(sales_config(engagement=ENGAGEMENT))
    widget, ada = person(client, "ada@zorblax.example")
    hand_off(ada, clock())
    widget.event("pricing_view")
    widget.event("demo_request")
    assert engaged() == []


def statements(step) -> Counter[str]:
    """The statements ``step`` ran, by their first two words."""
    seen: Counter[str] = Counter()

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        seen[" ".join(statement.split()[:2])] += 1

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        step()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return seen


def test_only_a_hot_kind_costs_a_statement_more(client, site, clock):
    """A page view of a handed-off contact costs what it costs on any site; a hot one adds the
    one conditional UPDATE, and its reads and writes only when it tells someone."""
    widget, ada = person(client, "ada@zorblax.example")
    widget.event("page_view")  # warm
    hand_off(ada, clock())
    plain = statements(lambda: widget.event("page_view"))
    told = statements(lambda: widget.event("pricing_view"))
    quiet = statements(lambda: widget.event("pricing_view"))

    assert quiet - plain == Counter({"UPDATE contacts": 1})
    assert plain - quiet == Counter()
    # Telling: the hand-off and the account's domain for the payload, and the outbox event
    # (Acme has no destinations to queue it for).
    assert told - quiet == Counter(
        {
            "SELECT handoffs.contact_id,": 1,
            "SELECT accounts.domain": 1,
            "SELECT destinations.id,": 1,
            "INSERT INTO": 1,
        }
    )
    assert quiet - told == Counter()


def problems(hot: object) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as raised:
        import_site_config(hot_config(hot))
    assert db.session.scalar(select(Site.id)) is None  # nothing stored
    return raised.value.fields


@pytest.mark.parametrize(
    ("hot", "expected"),
    [
        (
            {"events": ["pricing_view", "pricing_vew"]},
            {
                "sales_outcomes.hot_activity.events[1]": [
                    'unknown event kind "pricing_vew" (the site counts: content_download,'
                    " demo_request, email_click, form_submit, page_view, pricing_view,"
                    " video_play, webinar)"
                ]
            },
        ),
        (
            {"events": ["demo_request"], "window_hours": 0},
            {"sales_outcomes.hot_activity.window_hours": ["must be at least 1"]},
        ),
        (
            {"events": ["demo_request"], "window_hours": 1.5},
            {"sales_outcomes.hot_activity.window_hours": ["must be a whole number"]},
        ),
        (
            {"events": ["demo_request"], "window_hours": "24"},
            {"sales_outcomes.hot_activity.window_hours": ["must be a whole number"]},
        ),
        ({"window_hours": 24}, {"sales_outcomes.hot_activity.events": ["required"]}),
        ({"events": []}, {"sales_outcomes.hot_activity.events": ["must not be empty"]}),
        (
            {"events": ["demo_request", "demo_request"]},
            {"sales_outcomes.hot_activity.events[1]": ["listed twice"]},
        ),
        (
            {"events": ["demo_request"], "window": 24},
            {"sales_outcomes.hot_activity.window": ["unknown key"]},
        ),
        ("pricing_view", {"sales_outcomes.hot_activity": ["must be a mapping"]}),
    ],
)
def test_bad_hot_activity_is_reported_by_path(app, hot, expected):
    assert problems(hot) == expected


def test_the_section_round_trips_through_export(app):
    import_site_config(hot_config())
    exported = export_site_config("acme")
    assert exported["sales_outcomes"]["hot_activity"] == {
        "events": ["pricing_view", "demo_request"]
    }
    import_site_config(exported)
    assert export_site_config("acme") == exported

    import_site_config(hot_config({"events": ["webinar"], "window_hours": 72}))
    exported = export_site_config("acme")
    assert exported["sales_outcomes"]["hot_activity"] == {"events": ["webinar"], "window_hours": 72}
    import_site_config(exported)
    assert export_site_config("acme") == exported


def test_a_hot_form_submit_counts_like_any_hot_event(app, client, clock):
    """The submit's own event (form_submit) is recorded by the same code as the others."""
    make_site(hot_config({"events": ["form_submit"]}))
    _, ada = person(client, "ada@zorblax.example")
    hand_off(ada, clock())
    _, bob = person(client, "bob@zorblax.example")  # his first submit: a form_submit
    [(contact, payload)] = engaged()
    assert (contact, payload["by"]["contact_id"], payload["event"]["kind"]) == (
        ada,
        bob,
        "form_submit",
    )
