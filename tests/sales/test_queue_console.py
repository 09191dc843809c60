"""The hand-off queue: the open sales hand-offs, the most urgent first, and its buttons, each
recording a sales outcome as the signed-in user, once per drawn form."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import MARKETING_TEAM, Contact, ProfileValue, SalesOutcome
from app.services.siteconfig import site_snapshot
from tests.console import table_rows
from tests.factories import acme_config, make_site
from tests.sales.support import SALES, add_contact, add_handoff, sales_config

QUEUE = "/admin/sites/acme/queue"
POST = "/admin/sites/acme/queue/{id}/outcomes"


@pytest.fixture
def acme(app):
    make_site(sales_config())


@pytest.fixture
def rep(acme, signed_in):
    return signed_in("sales", "rep@acme.example")


def outcomes() -> list[tuple]:
    rows = db.session.scalars(select(SalesOutcome).order_by(SalesOutcome.id))
    return [(o.contact_id, o.kind, o.reason, o.note, o.by, o.occurred_at) for o in rows]


def form_of(html: str, contact_id: int, kind: str) -> dict[str, str]:
    """The hidden inputs of one row's button form, as the browser would send them."""
    action = POST.format(id=contact_id)
    for form in re.findall(
        r'<form method="post" class="outcome" action="([^"]+)">(.*?)</form>', html, re.S
    ):
        if form[0] == action and f'name="kind" value="{kind}"' in form[1]:
            return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form[1]))
    raise AssertionError(f"no {kind} form for contact {contact_id}")


def test_the_queue_lists_open_sales_handoffs_most_urgent_first(rep, client, clock):
    now = clock()
    h = timedelta(hours=1)
    people = {}
    for name, started, due, touched in [
        ("nowindow-old", now - 24 * h, None, None),
        ("met", now - 9 * h, now - 5 * h, now - 6 * h),
        ("due-later", now - h, now + 3 * h + timedelta(minutes=20), None),
        ("overdue-2h", now - 50 * h, now - 2 * h, None),
        ("late-touch", now - 49 * h, now - h, now - timedelta(minutes=10)),
        ("due-soon", now - 47 * h, now + h, None),
        ("overdue-30m", now - 48 * h, now - timedelta(minutes=30), None),
        ("nowindow-new", now - 2 * h, None, None),
    ]:
        people[name] = add_contact("acme", f"{name}@corp.example")
        add_handoff(
            people[name],
            started,
            due,
            touched_at=touched,
            touched_by="rep@acme.example" if touched else None,
            touch_kind="contacted" if touched else None,
        )
    closed = add_contact("acme", "closed@corp.example")
    add_handoff(closed, now - 3 * h, now + h, closed_at=now - h)
    marketing = add_contact("acme", "nurture@corp.example", "nurture")
    add_handoff(marketing, now - 3 * h, now + h, team=MARKETING_TEAM)

    html = client.get(QUEUE).get_data(as_text=True)
    rows = [row[:8] for row in table_rows(html)]
    assert rows == [
        ["overdue-2h@corp.example", "mql", "2026-02-28 07:00 UTC", "2026-03-02 07:00 UTC",
         "overdue by 2 h", "breached", "—", ""],
        ["late-touch@corp.example", "mql", "2026-02-28 08:00 UTC", "2026-03-02 08:00 UTC",
         "—", "breached", "contacted by rep@acme.example, 2026-03-02 08:50 UTC", ""],
        ["overdue-30m@corp.example", "mql", "2026-02-28 09:00 UTC", "2026-03-02 08:30 UTC",
         "overdue by 30 min", "breached", "—", ""],
        ["due-soon@corp.example", "mql", "2026-02-28 10:00 UTC", "2026-03-02 10:00 UTC",
         "1 h left", "due", "—", ""],
        ["due-later@corp.example", "mql", "2026-03-02 08:00 UTC", "2026-03-02 12:20 UTC",
         "3 h 20 min left", "due", "—", ""],
        ["met@corp.example", "mql", "2026-03-02 00:00 UTC", "2026-03-02 04:00 UTC",
         "—", "met", "contacted by rep@acme.example, 2026-03-02 03:00 UTC", ""],
        ["nowindow-old@corp.example", "mql", "2026-03-01 09:00 UTC", "—",
         "—", "no window", "—", ""],
        ["nowindow-new@corp.example", "mql", "2026-03-02 07:00 UTC", "—",
         "—", "no window", "—", ""],
    ]  # fmt: skip
    assert '<h1>Hand-off queue <small class="count">8</small></h1>' in html


def test_name_company_and_the_hot_marker(app, signed_in, client, clock):
    make_site(sales_config(sales_outcomes={**SALES, "hot_activity": {"events": ["webinar"]}}))
    signed_in("sales", "rep@acme.example")
    now = clock()
    ada = add_contact("acme", "ada@corp.example")
    add_handoff(ada, now - timedelta(hours=2), now + timedelta(hours=46))
    site = site_snapshot("acme")
    for key, value in {"first_name": "Ada", "company": "Corp <b>Inc</b>"}.items():
        db.session.add(ProfileValue(contact_id=ada, field_id=site.fields[key].id, value=value))
    db.session.get(Contact, ada).engaged_at = now - timedelta(hours=1)  # since the hand-off
    cold = add_contact("acme", "cold@corp.example")
    add_handoff(cold, now - timedelta(hours=1), now + timedelta(hours=47))
    db.session.get(Contact, cold).engaged_at = now - timedelta(hours=3)  # before it: not hot
    db.session.commit()
    clock.advance(hours=22, minutes=59)  # Ada's report is 23 h 59 min old: still hot (24 h)

    html = client.get(QUEUE).get_data(as_text=True)
    rows = [row[:8] for row in table_rows(html)]
    assert rows[0][0] == "ada@corp.example Ada Corp <b>Inc</b>"
    assert rows[0][7] == "hot"
    assert rows[1][0] == "cold@corp.example"
    assert rows[1][7] == ""
    assert "Corp &lt;b&gt;Inc&lt;/b&gt;" in html
    clock.advance(minutes=2)  # past the window: no longer hot
    assert [row[7] for row in table_rows(client.get(QUEUE).get_data(as_text=True))] == ["", ""]


def test_an_empty_queue_says_nothing_is_waiting(rep, client):
    html = client.get(QUEUE).get_data(as_text=True)
    assert "Nothing is waiting: no contact is handed off to sales right now." in html


def test_the_queue_pages_by_50(rep, client, clock):
    now = clock()
    for n in range(51):
        add_handoff(
            add_contact("acme", f"p{n:02d}@corp.example"), now, now + timedelta(hours=n + 1)
        )
    first = client.get(QUEUE).get_data(as_text=True)
    assert len(table_rows(first)) == 50
    assert "Page 1 of 2" in first
    second = client.get(QUEUE + "?page=2").get_data(as_text=True)
    assert [row[0] for row in table_rows(second)] == ["p50@corp.example"]


@pytest.mark.parametrize(
    ("kind", "reason", "note", "message", "still_queued"),
    [
        ("accepted", "", "", "Accepted ada@corp.example.", False),
        (
            "contacted",
            "",
            "Left a voicemail",
            "Logged a contact attempt for ada@corp.example.",
            True,
        ),
        ("rejected", "no_budget", "Revisit in Q3", "Rejected ada@corp.example (no_budget).", False),
        (
            "recycled",
            "not_ready",
            "",
            "Recycled ada@corp.example to marketing (not_ready).",
            False,
        ),
    ],
)
def test_each_button_records_the_outcome_as_the_user(
    rep, client, clock, kind, reason, note, message, still_queued
):
    ada = add_contact("acme", "ada@corp.example")
    add_handoff(ada, clock() - timedelta(hours=1), clock() + timedelta(hours=47))
    fields = form_of(client.get(QUEUE).get_data(as_text=True), ada, kind)
    response = client.post(POST.format(id=ada), data={**fields, "reason": reason, "note": note})
    assert (response.status_code, response.location) == (302, QUEUE)
    assert outcomes() == [(ada, kind, reason or None, note or None, "rep@acme.example", clock())]
    after = client.get(QUEUE).get_data(as_text=True)
    assert message in after
    # A contact attempt stops the clock (met) and keeps her queued; a decision takes her off.
    listed = [row[0] for row in table_rows(after)]
    assert listed == (["ada@corp.example"] if still_queued else [])


def test_rejecting_without_a_reason_shows_why_and_records_nothing(rep, client, clock):
    ada = add_contact("acme", "ada@corp.example")
    add_handoff(ada, clock() - timedelta(hours=1), clock() + timedelta(hours=47))
    fields = form_of(client.get(QUEUE).get_data(as_text=True), ada, "rejected")
    response = client.post(POST.format(id=ada), data={**fields, "reason": "", "note": "meh"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="error" role="alert">reason: required for rejected</p>' in html
    assert "<details open>" in html  # the refused form is shown open, its note kept
    assert ">meh</textarea>" in html
    assert form_of(html, ada, "rejected")["key"] == fields["key"]  # nothing used it up
    assert outcomes() == []


def test_a_reason_outside_the_agreed_list_is_refused(rep, client, clock):
    ada = add_contact("acme", "ada@corp.example")
    add_handoff(ada, clock(), clock() + timedelta(hours=48))
    fields = form_of(client.get(QUEUE).get_data(as_text=True), ada, "recycled")
    response = client.post(POST.format(id=ada), data={**fields, "reason": "too_loud"})
    assert response.status_code == 422
    assert (
        "reason: must be one of the agreed rejection_reasons: bad_fit, no_budget, not_ready"
        in response.get_data(as_text=True)
    )
    assert outcomes() == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"kind": "won"}, "kind: Not a valid choice."),
        ({"key": ""}, "key: This field is required."),
        ({"note": "x" * 2001}, "note: Field cannot be longer than 2000 characters."),
    ],
)
def test_a_tampered_form_is_refused(rep, client, clock, change, problem):
    ada = add_contact("acme", "ada@corp.example")
    add_handoff(ada, clock(), clock() + timedelta(hours=48))
    fields = form_of(client.get(QUEUE).get_data(as_text=True), ada, "accepted")
    response = client.post(POST.format(id=ada), data={**fields, **change})
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)
    assert outcomes() == []


def test_the_same_form_sent_twice_records_once(rep, client, clock):
    ada = add_contact("acme", "ada@corp.example")
    add_handoff(ada, clock(), clock() + timedelta(hours=48))
    fields = form_of(client.get(QUEUE).get_data(as_text=True), ada, "contacted")
    assert client.post(POST.format(id=ada), data=fields).status_code == 302
    clock.advance(seconds=2)
    assert client.post(POST.format(id=ada), data=fields).status_code == 302
    assert len(outcomes()) == 1
    again = form_of(client.get(QUEUE).get_data(as_text=True), ada, "contacted")
    # A contact attempt keeps her queued; a new drawing, a new key: a second press is new.
    assert again["key"] != fields["key"]


def test_a_post_without_the_csrf_token_is_refused(rep, client, clock):
    ada = add_contact("acme", "ada@corp.example")
    add_handoff(ada, clock(), clock() + timedelta(hours=48))
    fields = form_of(client.get(QUEUE).get_data(as_text=True), ada, "accepted")
    del fields["csrf_token"]
    assert client.post(POST.format(id=ada), data=fields).status_code == 400
    assert outcomes() == []


def test_another_sites_contact_is_404(rep, client, clock):
    other = acme_config()
    other["site"] = {**other["site"], "key": "other", "name": "Other"}
    make_site(other)
    theirs = add_contact("other", "eve@other.example")
    fields = form_of_any(client, clock)
    assert client.post(POST.format(id=theirs), data=fields).status_code == 404
    assert client.get(f"/admin/sites/acme/queue/{theirs}").status_code == 404
    assert client.get("/admin/sites/nope/queue").status_code == 404
    assert outcomes() == []


def form_of_any(client, clock) -> dict[str, str]:
    ada = add_contact("acme", "ada@corp.example")
    add_handoff(ada, clock(), clock() + timedelta(hours=48))
    return form_of(client.get(QUEUE).get_data(as_text=True), ada, "accepted")


@pytest.mark.parametrize("role", ["analyst", "marketer"])
def test_readers_see_the_queue_without_buttons_and_cannot_post(
    acme, signed_in, client, clock, role
):
    ada = add_contact("acme", "ada@corp.example")
    add_handoff(ada, clock(), clock() + timedelta(hours=48))
    signed_in(role)
    html = client.get(QUEUE).get_data(as_text=True)
    assert [row[0] for row in table_rows(html)] == ["ada@corp.example"]
    assert 'class="outcome"' not in html
    assert "You may read the queue; sales users and admins record what happened." in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    data = {"csrf_token": token, "kind": "accepted", "key": "k1"}
    assert client.post(POST.format(id=ada), data=data).status_code == 403
    assert outcomes() == []


def test_an_admin_works_the_queue_too(acme, signed_in, client, clock):
    ada = add_contact("acme", "ada@corp.example")
    add_handoff(ada, clock(), clock() + timedelta(hours=48))
    signed_in("admin", "boss@acme.example")
    fields = form_of(client.get(QUEUE).get_data(as_text=True), ada, "accepted")
    assert client.post(POST.format(id=ada), data=fields).status_code == 302
    assert outcomes()[0][1:5] == ("accepted", None, None, "boss@acme.example")
