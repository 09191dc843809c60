"""The hand-off SLA: a hand-off opens when a contact reaches the hand-off stage, the first sales
touch stops its clock, a decision takes it off the queue, a recycle hands it back to marketing
(the reverse SLA), and a breach sends ``contact.sla_breached`` once."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.sla import sla_view
from app.extensions import db
from app.models import Contact, Handoff, OutboxEvent
from app.services.delivery import DeliveryWorker
from app.services.delivery.worker import SLA_EVERY
from app.services.insights import list_contacts
from tests.factories import Widget
from tests.sales.support import SALES, sales_config, sales_site, stage_of

URL = "/api/v1/sites/acme/contacts/by-email/ada@acme-corp.example/outcomes"
EMAIL = "ada@acme-corp.example"


def z(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def report(client, token, clock, kind, key, at=None, **extra):
    body = {
        "kind": kind,
        "occurred_at": (at or clock()).isoformat(),
        "by": "rep@acme.example",
        "idempotency_key": key,
        **extra,
    }
    response = client.post(URL, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def qualify(client) -> Widget:
    """Ada submits her email (2 points) and attends two webinars (10 more): mql at 12."""
    widget = Widget(client)
    widget.ask()
    assert widget.submit({"email": EMAIL}).status_code == 200
    widget.event("webinar")
    widget.event("webinar")
    return widget


def handoffs() -> list[Handoff]:
    db.session.expire_all()
    return list(db.session.scalars(select(Handoff).order_by(Handoff.id)))


def sent(kind: str) -> list[dict]:
    rows = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == kind).order_by("id"))
    return [row.payload for row in rows]


@pytest.fixture
def worker(app, clock):
    running = DeliveryWorker(app, name="sla-test", rng=random.Random(3))
    yield running
    running.close()


def test_reaching_the_hand_off_stage_opens_a_hand_off_due_followup_hours_later(app, clock):
    sales_site(clock())
    start = clock()
    qualify(app.test_client())
    [handoff] = handoffs()
    assert (handoff.team, handoff.stage, handoff.started_at, handoff.due_at) == (
        "sales",
        "mql",
        start,
        start + timedelta(hours=48),
    )
    assert (handoff.touched_at, handoff.breached_at, handoff.closed_at) == (None, None, None)
    changed = sent("contact.stage_changed")[-1]
    assert (changed["to_stage"], changed["follow_up_by"]) == ("mql", z(handoff.due_at))


def test_the_first_touch_stops_the_clock_and_a_decision_closes_the_hand_off(app, clock):
    token = sales_site(clock())
    client = app.test_client()
    qualify(client)
    start = clock()
    clock.advance(hours=3)
    report(client, token, clock, "contacted", "c1")
    clock.advance(hours=2)
    report(client, token, clock, "contacted", "c2")
    [handoff] = handoffs()
    assert (handoff.touched_at, handoff.touch_kind, handoff.closed_at) == (
        start + timedelta(hours=3),
        "contacted",
        None,
    )
    # A call logged late, that happened earlier, is the first touch.
    report(client, token, clock, "contacted", "c0", at=start + timedelta(hours=1))
    clock.advance(hours=1)
    report(client, token, clock, "accepted", "a1")
    [handoff] = handoffs()
    assert (handoff.touched_at, handoff.closed_at, handoff.closed_by) == (
        start + timedelta(hours=1),
        clock(),
        "accepted",
    )
    assert sla_view(handoff.due_at, handoff.touched_at, clock()).status == "met"
    assert stage_of(handoff.contact_id) == "sal"


def test_an_outcome_from_before_the_hand_off_is_not_a_touch(app, clock):
    token = sales_site(clock())
    client = app.test_client()
    before = clock() - timedelta(hours=1)
    qualify(client)
    report(client, token, clock, "contacted", "old-call", at=before)
    [handoff] = handoffs()
    assert handoff.touched_at is None


def test_the_worker_sends_a_breach_once_when_the_due_time_passes_untouched(app, clock, worker):
    sales_site(clock())
    qualify(app.test_client())
    start = clock()
    clock.advance(hours=47, minutes=59)
    assert worker.breach_handoffs_if_due() == 0
    clock.advance(minutes=1)
    worker._sla_at = None  # the next call checks, whenever the last was
    assert worker.breach_handoffs_if_due() == 0  # 48 h on the dot: due, not yet past
    clock.advance(seconds=10)
    assert worker.breach_handoffs_if_due() == 1
    contact_id = db.session.scalar(select(Contact.id))
    assert sent("contact.sla_breached") == [
        {
            "contact_id": contact_id,
            "email": EMAIL,
            "team": "sales",
            "stage": "mql",
            "started_at": z(start),
            "due_at": z(start + timedelta(hours=48)),
            "touched_at": None,
            "touched_by": None,
            "touch_kind": None,
            "sla": "breached",
            "breached_at": z(clock()),
            "closed_at": None,
            "closed_by": None,
        }
    ]
    clock.advance(hours=1)
    assert worker.breach_handoffs_if_due() == 0
    assert len(sent("contact.sla_breached")) == 1
    # The overdue list shows it until a touch.
    assert [r.email for r in list_contacts("acme", "", 1, now=clock(), overdue="sales").rows] == [
        EMAIL
    ]


def test_the_worker_checks_at_most_every_sla_every(app, clock, worker):
    sales_site(clock())
    assert worker.breach_handoffs_if_due() == 0
    qualify(app.test_client())
    clock.advance(hours=49)
    worker._sla_at = clock() - SLA_EVERY + timedelta(seconds=1)  # checked a moment ago
    assert worker.breach_handoffs_if_due() == 0
    clock.advance(seconds=1)
    assert worker.breach_handoffs_if_due() == 1


def test_a_touch_in_time_sends_no_breach(app, clock, worker):
    token = sales_site(clock())
    client = app.test_client()
    qualify(client)
    clock.advance(hours=47)
    report(client, token, clock, "contacted", "c1")
    clock.advance(days=3)
    assert worker.breach_handoffs_if_due() == 0
    assert sent("contact.sla_breached") == []
    assert list_contacts("acme", "", 1, now=clock(), overdue="sales").total == 0


def test_a_late_touch_records_the_breach_itself_once(app, clock, worker):
    token = sales_site(clock())
    client = app.test_client()
    qualify(client)
    clock.advance(hours=50)
    report(client, token, clock, "contacted", "late")  # before any worker ran
    [handoff] = handoffs()
    assert handoff.breached_at == clock()
    assert [p["touched_at"] for p in sent("contact.sla_breached")] == [z(clock())]
    assert worker.breach_handoffs_if_due() == 0
    report(client, token, clock, "accepted", "a1")
    assert len(sent("contact.sla_breached")) == 1


def test_no_window_means_no_due_time_and_no_breach(app, clock, worker):
    config = sales_config()
    config["site"] = {**config["site"], "followup_hours": 0}
    sales_site(clock(), config)
    qualify(app.test_client())
    clock.advance(days=30)
    [handoff] = handoffs()
    assert (handoff.due_at, sla_view(None, None, clock()).status) == (None, "no window")
    assert worker.breach_handoffs_if_due() == 0


def test_a_recycle_hands_back_to_marketing_with_the_reverse_sla(app, clock, worker):
    config = sales_config(sales_outcomes={**SALES, "recycle_followup_days": 14})
    token = sales_site(clock(), config)
    client = app.test_client()
    widget = qualify(client)
    clock.advance(hours=5)
    recycled_at = clock()
    report(client, token, clock, "recycled", "r1", reason="not_ready")
    to_sales, to_marketing = handoffs()
    assert (to_sales.touched_at, to_sales.touch_kind, to_sales.closed_by) == (
        recycled_at,
        "recycled",
        "recycled",
    )
    assert (to_marketing.team, to_marketing.stage, to_marketing.started_at) == (
        "marketing",
        "nurture",
        recycled_at,
    )
    assert to_marketing.due_at == recycled_at + timedelta(days=14)
    clock.advance(days=14, seconds=1)
    overdue = list_contacts("acme", "", 1, now=clock(), overdue="marketing")
    assert ([r.email for r in overdue.rows], overdue.recycle_followup_days) == ([EMAIL], 14)
    assert worker.breach_handoffs_if_due() == 1
    assert [(p["team"], p["stage"]) for p in sent("contact.sla_breached")] == [
        ("marketing", "nurture")
    ]
    report(client, token, clock, "nurtured", "n1")  # marketing's touch, late
    assert list_contacts("acme", "", 1, now=clock(), overdue="marketing").total == 0
    assert handoffs()[1].touch_kind == "nurtured"
    # New engagement requalifies her (12 + 15 = 27 needed): a new hand-off to sales.
    for _ in range(4):
        widget.event("webinar")
    assert stage_of(to_sales.contact_id) == "mql"
    _first, back, again = handoffs()
    assert (back.closed_at, back.closed_by) == (clock(), "requalified")
    assert (again.team, again.started_at, again.closed_at) == ("sales", clock(), None)


def test_a_late_recycle_opens_nothing(app, clock):
    token = sales_site(clock(), sales_config(sales_outcomes={**SALES, "recycle_followup_days": 7}))
    client = app.test_client()
    qualify(client)
    clock.advance(hours=2)
    report(client, token, clock, "accepted", "a1")
    report(
        client, token, clock, "recycled", "r0", at=clock() - timedelta(hours=1), reason="bad_fit"
    )
    [handoff] = handoffs()
    assert (handoff.touched_at, handoff.closed_by) == (clock() - timedelta(hours=1), "accepted")
    assert stage_of(handoff.contact_id) == "sal"


@pytest.mark.parametrize(
    ("due", "touched", "now", "status", "left"),
    [
        (None, None, 5, "no window", None),
        (10, None, 4, "due", 6),
        (10, None, 10, "due", 0),
        (10, None, 11, "breached", None),
        (10, 10, 20, "met", None),
        (10, 11, 20, "breached", None),
    ],
)
def test_sla_view(clock, due, touched, now, status, left):
    at = clock()

    def hours(n):
        return None if n is None else at + timedelta(hours=n)

    view = sla_view(hours(due), hours(touched), hours(now))
    assert (view.status, view.left) == (status, None if left is None else timedelta(hours=left))


def test_the_contact_page_shows_hand_offs_and_outcomes(app, clock):
    from app.services.accounts import create_user
    from tests.console import sign_in, table_rows
    from tests.factories import PASSWORD

    token = sales_site(clock(), sales_config(sales_outcomes={**SALES, "recycle_followup_days": 14}))
    client = app.test_client()
    qualify(client)
    clock.advance(hours=50)
    report(client, token, clock, "recycled", "r1", reason="not_ready", note="<b>Q3</b>")
    create_user("ann@acme.example", "analyst", PASSWORD)
    sign_in(client)
    contact_id = db.session.scalar(select(Contact.id))
    html = client.get(f"/admin/sites/acme/contacts/{contact_id}").get_data(as_text=True)
    assert "&lt;b&gt;Q3&lt;/b&gt;" in html and "<b>Q3</b>" not in html
    section = html[html.index('id="sales"') : html.index("</section>", html.index('id="sales"'))]
    rows = table_rows(section)
    assert [row[0] for row in rows] == [
        "marketing (nurture)",
        "sales (mql)",
        "2026-03-04 11:00 UTC",
    ]
    assert rows[0][3:] == ["—", "due", "open"]
    assert rows[1][3:] == [
        "2026-03-04 11:00 UTC · recycled by rep@acme.example",
        "breached",
        "2026-03-04 11:00 UTC · recycled",
    ]
    assert rows[2][1:] == [
        "recycled",
        "not_ready",
        "rep@acme.example",
        "<b>Q3</b>",
        "mql → nurture",
    ]
