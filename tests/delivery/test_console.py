"""Destination pages (admin): list, create/edit/delete through the config importer, and
operating one destination: re-enable, rotate, test event, backfill, replay, attempts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ConfigRevision, Delivery, DeliveryAttempt, Destination
from app.services.accounts import create_user
from app.services.delivery import find_destination
from app.services.siteconfig import export_site_config, import_site_config
from tests.console import csrf_token, field_errors, post_form, sign_in
from tests.factories import PASSWORD, Widget, acme_config, make_site
from tests.receiver import verify

CRM = {
    "key": "crm",
    "url": "https://hooks.example.com/crm",
    "events": ["contact.updated", "contact.merged"],
    "mapping": {"company": "company_name"},
}
PAGE = "/admin/sites/acme/destinations/crm"
REASON = "The receiver answered 410 Gone at 2026-03-02 09:00 UTC."
ACTIONS = ("resume", "rotate", "test", "backfill", "replay", "delete")


@pytest.fixture
def site(app):
    return make_site(acme_config(destinations=[CRM]))


@pytest.fixture
def admin(signed_in):
    signed_in("admin", "ada@acme.example")


@pytest.fixture
def strict(app):
    """Private targets refused, as in production."""
    app.config["ALLOW_PRIVATE_TARGETS"] = False


def crm() -> Destination:
    db.session.expire_all()
    return find_destination("crm", "acme")


def revisions() -> int:
    return db.session.scalar(select(func.count()).select_from(ConfigRevision))


def deliveries() -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


def press(client, action: str, data: dict | None = None, key: str = "crm"):
    """Press one of the destination page's buttons, with the page's CSRF token."""
    token = csrf_token(client, "/admin/")
    path = f"/admin/sites/acme/destinations/{key}/{action}"
    return client.post(path, data={"csrf_token": token, **(data or {})})


def flashes(client) -> list[str]:
    html = client.get("/admin/").get_data(as_text=True)
    return re.findall(r'<p class="flash" role="status">([^<]*)</p>', html)


def dead_letter(destination: Destination, message_id: str, clock) -> Delivery:
    delivery = Delivery(
        site_id=destination.site_id,
        destination_id=destination.id,
        event_type="contact.updated",
        contact_id=None,
        message_id=message_id,
        body=b'{"type":"contact.updated"}',
        status="dead",
        attempts=8,
        failures=8,
        next_attempt_at=clock(),
        created_at=clock() - timedelta(days=2),
        dead_at=clock() - timedelta(hours=1),
        last_error="HTTP 500",
    )
    db.session.add(delivery)
    db.session.commit()
    return delivery


# ---- who may ----


@pytest.mark.parametrize("role", ["analyst", "marketer"])
def test_only_admins_open_or_operate_destinations(client, site, role, clock):
    create_user("someone@acme.example", role, PASSWORD)
    sign_in(client, "someone@acme.example")
    dead = dead_letter(crm(), "msg_dead", clock)
    for path in (
        "/admin/sites/acme/destinations",
        PAGE,
        "/admin/sites/acme/destinations/new",
        f"{PAGE}/edit",
    ):
        assert client.get(path).status_code == 403, path
    for action in ACTIONS:
        assert press(client, action, {"delivery": str(dead.id)}).status_code == 403, action
    token = csrf_token(client, "/admin/")
    for path in ("/admin/sites/acme/destinations/new", f"{PAGE}/edit"):
        response = client.post(path, data={"csrf_token": token, **CRM, "key": "other"})
        assert response.status_code == 403, path
    destination = crm()
    assert (destination.secret, destination.previous_secret) == (site.destinations[0].secret, None)
    assert [(d.message_id, d.status) for d in deliveries()] == [("msg_dead", "dead")]
    assert revisions() == 1
    html = client.get("/admin/sites/acme/questions").get_data(as_text=True)
    assert "Destinations" not in html


def test_the_site_menu_has_destinations_for_admins(client, site, admin):
    html = client.get("/admin/sites/acme/destinations").get_data(as_text=True)
    assert '<a href="/admin/sites/acme/destinations" aria-current="page">Destinations</a>' in html
    html = client.get(PAGE).get_data(as_text=True)
    assert '<a href="/admin/sites/acme/destinations" aria-current="page">Destinations</a>' in html
    assert '<input type="hidden" name="section" value="admin.destinations">' in html


@pytest.mark.parametrize("action", ACTIONS)
def test_a_post_without_csrf_token_changes_nothing(client, site, admin, clock, action):
    dead = dead_letter(crm(), "msg_dead", clock)
    db.session.get(Destination, dead.destination_id).suspended_at = clock()
    db.session.commit()
    path = f"{PAGE}/{action}"
    response = client.post(path, data={"delivery": str(dead.id), "scope": "all", "version": "1"})
    assert response.status_code == 400
    destination = crm()
    assert (destination.previous_secret, destination.suspended_at) == (None, clock())
    assert [(d.message_id, d.status) for d in deliveries()] == [("msg_dead", "dead")]
    assert revisions() == 1


def test_a_create_without_csrf_token_saves_nothing(client, site, admin):
    response = client.post(
        "/admin/sites/acme/destinations/new", data={**CRM, "key": "other", "version": "1"}
    )
    assert response.status_code == 400
    assert revisions() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sites/acme/destinations/nope",
        "/admin/sites/acme/destinations/nope/edit",
        "/admin/sites/nope/destinations",
        "/admin/sites/nope/destinations/crm",
        "/admin/sites/nope/destinations/new",
    ],
)
def test_unknown_destinations_are_404(client, site, admin, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("action", ACTIONS)
def test_unknown_destinations_in_posts_are_404(client, site, admin, action):
    assert press(client, action, key="nope").status_code == 404


# ---- the list, creating, editing, deleting ----


def test_the_list_shows_every_destination_with_state_and_counts(client, site, admin, clock):
    other = {
        "key": "warehouse",
        "url": "https://hooks.example.com/wh",
        "events": ["contact.deleted"],
    }
    import_site_config(acme_config(destinations=[CRM, {**other, "enabled": False}]))
    destination = crm()
    dead_letter(destination, "msg_1", clock)
    dead_letter(destination, "msg_2", clock)
    destination.suspended_at = clock()
    destination.suspended_reason = REASON
    db.session.commit()

    html = client.get("/admin/sites/acme/destinations").get_data(as_text=True)
    assert '<a class="button" href="/admin/sites/acme/destinations/new">New destination</a>' in html
    rows = re.findall(r'<tr id="destination-(\w+)">(.*?)</tr>', html, re.S)
    assert [key for key, _ in rows] == ["crm", "warehouse"]
    cells = [
        [
            re.sub(r"<[^>]+>", " ", cell).split()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for _, row in rows
    ]
    assert cells[0] == [
        ["crm", "https://hooks.example.com/crm"],
        ["contact.updated,", "contact.merged"],
        ["trickle"],
        ["suspended", *REASON.split()],
        ["0"],
        ["0"],
        ["2"],
    ]
    assert cells[1] == [
        ["warehouse", "https://hooks.example.com/wh"],
        ["contact.deleted"],
        ["trickle"],
        ["off"],
        ["0"],
        ["0"],
        ["0"],
    ]


NEW = {
    "key": "sales",
    "url": "https://hooks.example.com/sales",
    "events": ["contact.updated", "contact.deleted"],
    "format": "segment",
    "mapping": "company | company_name\njob_title | title",
    "enabled": "y",
    "secret_env": "",
}


def test_an_admin_creates_a_destination_with_a_generated_secret(client, site, admin):
    response = post_form(client, "/admin/sites/acme/destinations/new", NEW)
    assert (response.status_code, response.location) == (
        302,
        "/admin/sites/acme/destinations/sales",
    )
    assert export_site_config("acme")["destinations"][-1] == {
        "key": "sales",
        "url": "https://hooks.example.com/sales",
        "events": ["contact.updated", "contact.deleted"],
        "format": "segment",
        "mapping": {"company": "company_name", "job_title": "title"},
    }
    latest = db.session.scalars(
        select(ConfigRevision).order_by(ConfigRevision.version.desc())
    ).first()
    assert (latest.version, latest.author) == (2, "ada@acme.example")
    sales = find_destination("sales", "acme")
    assert sales.secret.startswith("whsec_")
    assert len(sales.secret) == 50

    html = client.get("/admin/sites/acme/destinations").get_data(as_text=True)
    assert "Destination &#34;sales&#34; saved." in html
    assert '<a href="/admin/sites/acme/destinations/sales"><strong>sales</strong></a>' in html
    page = client.get("/admin/sites/acme/destinations/sales").get_data(as_text=True)
    assert f'<code id="secret-current">{sales.secret}</code>' in page
    assert f"<code>whsec_••••••••{sales.secret[-4:]}</code>" in page


@pytest.mark.parametrize("url", ["http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data"])
def test_a_private_url_is_refused_next_to_the_url(client, site, admin, strict, url):
    response = post_form(client, "/admin/sites/acme/destinations/new", {**NEW, "url": url})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_errors(html) == {
        "url": "points to a private, loopback or link-local address "
        "(set TRICKLE_ALLOW_PRIVATE_TARGETS=true to allow it)"
    }
    assert "Nothing was saved." in html
    assert f'value="{url}"' in html
    assert revisions() == 1
    assert [d["key"] for d in export_site_config("acme")["destinations"]] == ["crm"]


def test_a_masked_url_is_refused_next_to_the_url(client, site, admin):
    url = "https://***:***@hooks.example.com/sales?key=***"
    response = post_form(client, "/admin/sites/acme/destinations/new", {**NEW, "url": url})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == {
        "url": "holds ***, which stands for a hidden secret, and is not the hidden form of this "
        "destination&#39;s current URL: write the URL in full"
    }
    assert revisions() == 1
    assert [d["key"] for d in export_site_config("acme")["destinations"]] == ["crm"]


def test_the_editor_checks_events_and_mapping_lines(client, site, admin):
    data = {
        **NEW,
        "events": [],
        "mapping": "company company_name\njob_title | title\njob_title | x",
    }
    response = post_form(client, "/admin/sites/acme/destinations/new", data)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == {
        "events": "Pick at least one event.",
        "mapping": "Line 1: write &#34;our_key | their_key&#34;. "
        "Line 3: &#34;job_title&#34; is mapped twice.",
    }
    response = post_form(
        client, "/admin/sites/acme/destinations/new", {**NEW, "mapping": "nope | theirs"}
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == {
        "mapping": "unknown field &#34;nope&#34;"
    }
    assert revisions() == 1


def test_editing_round_trips_the_mapping_and_keeps_the_secret(client, site, admin):
    secret = crm().secret
    html = client.get(f"{PAGE}/edit").get_data(as_text=True)
    assert (
        '<textarea aria-describedby="mapping-hint" id="mapping" name="mapping" rows="4">\r\ncompany | company_name</textarea>'
        in html
    )
    assert '<input id="key" name="key" value="crm" readonly>' in html
    data = {
        "key": "renamed",  # ignored: keys never change
        "url": "https://hooks.example.com/crm2",
        "events": ["contact.merged", "contact.updated", "contact.stage_changed"],
        "format": "trickle",
        "mapping": "company | company_name\nzip | postal_code",
        "secret_env": "",
    }
    response = post_form(client, f"{PAGE}/edit", data)
    assert (response.status_code, response.location) == (302, PAGE)
    assert export_site_config("acme")["destinations"] == [
        {
            "key": "crm",
            "url": "https://hooks.example.com/crm2",
            "events": ["contact.updated", "contact.merged", "contact.stage_changed"],
            "mapping": {"company": "company_name", "zip": "postal_code"},
            "enabled": False,
        }
    ]
    html = client.get(f"{PAGE}/edit").get_data(as_text=True)
    assert ">\r\ncompany | company_name\nzip | postal_code</textarea>" in html
    destination = crm()
    assert (destination.secret, destination.enabled) == (secret, False)
    assert "Switched off in the config" in client.get(PAGE).get_data(as_text=True)


def test_a_stale_editor_is_refused(client, site, admin):
    html = client.get(f"{PAGE}/edit").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    import_site_config(acme_config(destinations=[{**CRM, "url": "https://hooks.example.com/x"}]))
    data = {**NEW, "key": "crm", "csrf_token": token, "version": "1"}
    response = client.post(f"{PAGE}/edit", data=data)
    assert response.status_code == 409
    assert "Someone changed this site&#39;s config while you were editing" in response.get_data(
        as_text=True
    )
    assert crm().url == "https://hooks.example.com/x"


def test_deleting_archives_the_destination(client, site, admin, clock):
    dead_letter(crm(), "msg_dead", clock)
    response = post_form(client, f"{PAGE}/delete", {}, page=f"{PAGE}/edit")
    assert (response.status_code, response.location) == (302, "/admin/sites/acme/destinations")
    assert "destinations" not in export_site_config("acme")
    db.session.expire_all()
    archived = db.session.scalars(select(Destination)).one()
    assert archived.archived_at is not None
    assert [d.message_id for d in deliveries()] == ["msg_dead"]
    assert flashes(client) == [
        "Destination &#34;crm&#34; deleted. Nothing more is sent to it; its delivery log is kept."
    ]
    assert client.get(PAGE).status_code == 404


# ---- operating ----


def test_rotating_keeps_the_old_secret_for_a_day(client, site, admin, clock):
    old = crm().secret
    response = press(client, "rotate")
    assert (response.status_code, response.location) == (302, f"{PAGE}?reveal=secret#secret")
    destination = crm()
    assert destination.secret != old
    assert destination.secret.startswith("whsec_")
    assert (destination.previous_secret, destination.previous_secret_until) == (
        old,
        clock() + timedelta(hours=24),
    )
    html = client.get(f"{PAGE}?reveal=secret").get_data(as_text=True)
    assert (
        "New signing secret below. The previous one keeps signing too until 2026-03-03 09:00 UTC"
        in html
    )
    assert '<details class="secret" open>' in html
    assert f'<code id="secret-current">{destination.secret}</code>' in html
    assert f'<code id="secret-previous">{old}</code>' in html
    assert "Still signing too, beside the new one, until 2026-03-03 09:00 UTC." in html
    clock.advance(hours=25)
    assert old not in client.get(PAGE).get_data(as_text=True)


def test_a_second_rotation_waits_until_the_first_is_over(client, site, admin, clock):
    press(client, "rotate")
    first = crm()
    kept = (first.secret, first.previous_secret, first.previous_secret_until)
    flashes(client)

    clock.advance(hours=1)
    assert press(client, "rotate").status_code == 302
    after = crm()
    assert (after.secret, after.previous_secret, after.previous_secret_until) == kept
    assert flashes(client)[0] == (
        "The secret was not rotated. A rotation is under way: the previous secret signs until "
        "2026-03-03 09:00 UTC. Rotate again after that, so that no secret a receiver may still "
        "use stops signing early."
    )

    clock.advance(hours=23)
    press(client, "rotate")
    assert crm().previous_secret == kept[0]


def test_a_secret_from_the_environment_is_not_rotated_here(client, site, admin, monkeypatch):
    monkeypatch.setenv("CRM_SECRET", "whsec_" + "A" * 32)
    import_site_config(acme_config(destinations=[{**CRM, "secret_env": "CRM_SECRET"}]))
    before = crm()
    kept = (before.secret, before.previous_secret, before.previous_secret_until)
    assert kept[0] == "whsec_" + "A" * 32
    assert press(client, "rotate").status_code == 302
    after = crm()
    assert (after.secret, after.previous_secret, after.previous_secret_until) == kept
    assert flashes(client)[0].startswith(
        "The secret was not rotated. The signing secret comes from the environment variable "
        "CRM_SECRET"
    )


def test_a_test_event_is_queued(client, site, admin, clock):
    response = press(client, "test")
    assert (response.status_code, response.location) == (302, PAGE)
    (delivery,) = deliveries()
    assert (
        delivery.event_type,
        delivery.status,
        delivery.next_attempt_at,
        delivery.contact_id,
    ) == (
        "webhook.test",
        "pending",
        clock(),
        None,
    )
    assert flashes(client) == ["Test event queued; a running worker sends it within seconds."]
    html = client.get(PAGE).get_data(as_text=True)
    assert "<div><dt>Pending</dt><dd>1</dd></div>" in html
    assert "<div><dt>Next attempt</dt><dd>2026-03-02 09:00 UTC</dd></div>" in html


def test_backfill_queues_every_contact_with_values(client, site, admin):
    for email in ("ada@example.com", "bob@example.com"):
        widget = Widget(client)
        widget.ask()
        assert widget.submit({"email": email}).status_code == 200
    Widget(client).ask()  # a visitor who told nothing
    before = len(deliveries())
    response = press(client, "backfill")
    assert (response.status_code, response.location) == (302, PAGE)
    queued = [d for d in deliveries()[before:]]
    assert [(d.event_type, d.outbox_event_id, d.status) for d in queued] == [
        ("contact.updated", None, "pending"),
        ("contact.updated", None, "pending"),
    ]
    assert flashes(client) == [
        "Backfill: 2 contacts queued as contact.updated, each with the whole profile; a running "
        "worker sends them."
    ]


def test_backfill_needs_contact_updated(client, site, admin):
    import_site_config(acme_config(destinations=[{**CRM, "events": ["contact.deleted"]}]))
    widget = Widget(client)
    widget.ask()
    widget.submit({"email": "ada@example.com"})
    assert press(client, "backfill").status_code == 302
    assert deliveries() == []
    assert flashes(client) == [
        "Nothing was queued. This destination does not receive contact.updated events; add "
        "that event first."
    ]


def test_replaying_dead_letters_keeps_their_webhook_id(client, site, admin, clock):
    destination = crm()
    first = dead_letter(destination, "msg_first", clock)
    dead_letter(destination, "msg_second", clock)
    html = client.get(PAGE).get_data(as_text=True)
    assert (
        f'<input type="checkbox" name="delivery" value="{first.id}" aria-label="Replay msg_first">'
        in html
    )
    assert "Replay all (2)" in html

    clock.advance(minutes=5)
    response = press(client, "replay", {"delivery": str(first.id), "scope": "selected"})
    assert (response.status_code, response.location) == (302, f"{PAGE}#dead-letters")
    assert [
        (d.message_id, d.status, d.failures, d.next_attempt_at, d.dead_at) for d in deliveries()
    ] == [
        ("msg_first", "pending", 0, clock(), None),
        ("msg_second", "dead", 8, clock() - timedelta(minutes=5), clock() - timedelta(minutes=65)),
    ]
    assert flashes(client) == [
        "1 dead letter queued again, each under its own webhook-id: a running worker sends "
        "them within seconds."
    ]

    response = press(client, "replay", {"scope": "all"})
    assert [(d.message_id, d.status) for d in deliveries()] == [
        ("msg_first", "pending"),
        ("msg_second", "pending"),
    ]
    assert "1 dead letter queued again" in flashes(client)[0]
    press(client, "replay", {"scope": "selected"})
    assert flashes(client) == ["Nothing was replayed: tick the dead letters to send again."]


def test_replay_ignores_deliveries_of_other_destinations(client, site, admin, clock):
    other = {"key": "other", "url": "https://hooks.example.com/o", "events": ["contact.updated"]}
    import_site_config(acme_config(destinations=[CRM, other]))
    foreign = dead_letter(find_destination("other", "acme"), "msg_foreign", clock)
    press(client, "replay", {"delivery": str(foreign.id), "scope": "selected"})
    assert [(d.message_id, d.status) for d in deliveries()] == [("msg_foreign", "dead")]


def test_re_enabling_lifts_the_suspension(client, site, admin, clock):
    destination = crm()
    destination.suspended_at = clock() - timedelta(hours=2)
    destination.suspended_reason = "The receiver answered 410 Gone at 2026-03-02 07:00 UTC."
    destination.failing_since = clock() - timedelta(hours=3)
    db.session.commit()
    html = client.get(PAGE).get_data(as_text=True)
    assert "<h2>Suspended since 2026-03-02 07:00 UTC</h2>" in html
    assert "<p>The receiver answered 410 Gone at 2026-03-02 07:00 UTC.</p>" in html
    assert '<button class="primary" type="submit">Re-enable</button>' in html

    response = press(client, "resume")
    assert (response.status_code, response.location) == (302, PAGE)
    destination = crm()
    assert (destination.suspended_at, destination.suspended_reason, destination.failing_since) == (
        None,
        None,
        None,
    )
    assert flashes(client) == [
        "Destination &#34;crm&#34; re-enabled: 0 pending deliveries go out now, in order."
    ]
    assert "Re-enable" not in client.get(PAGE).get_data(as_text=True)
    press(client, "resume")
    assert flashes(client) == ["Destination &#34;crm&#34; is not suspended: nothing to re-enable."]


def test_an_attempts_response_is_shown_as_text(client, site, admin, clock):
    destination = crm()
    delivery = dead_letter(destination, "msg_xss", clock)
    db.session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            destination_id=destination.id,
            attempted_at=clock(),
            duration_ms=42,
            status_code=500,
            outcome="retry",
            response='<script>alert("x")</script><img src=x onerror=alert(1)>',
            worker="w1",
        )
    )
    db.session.commit()
    html = client.get(PAGE).get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert (
        "<pre>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</pre>"
        in html
    )
    row = re.search(r'<table class="attempts">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    cells = [
        re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]
    assert cells[:6] == [
        ["2026-03-02", "09:00:00", "UTC"],
        ["contact.updated"],
        ["msg_xss"],
        ["retry"],
        ["HTTP", "500"],
        ["42"],
    ]


# ---- end to end with a receiver and the worker (tests/delivery/conftest.py) ----


def test_a_receiver_that_answers_410_is_shown_and_re_enabled(
    client, admin, receiver, worker, clock
):
    make_site(acme_config(destinations=[{**CRM, "url": receiver.url}]))
    receiver.answer(410, body=b"<b>gone</b>")
    press(client, "test")
    assert worker.run_once() == 1
    (request,) = receiver.received()
    assert verify(crm().secret, request)["type"] == "webhook.test"

    home = client.get("/admin/").get_data(as_text=True)
    notice = re.search(r'<p class="notice" role="status">(.*?)</p>', home, re.S).group(1)
    assert " ".join(re.sub(r"<[^>]+>", " ", notice).split()) == (
        "Deliveries stopped: destination crm of Acme Analytics is suspended since "
        "2026-03-02 09:00 UTC. The receiver answered 410 Gone at 2026-03-02 09:00 UTC. "
        "Events are kept until it is re-enabled."
    )
    assert f'<a href="{PAGE}">crm</a>' in notice
    for path in ("/admin/sites/acme/contacts", "/admin/users"):
        assert '<p class="notice"' in client.get(path).get_data(as_text=True), path
    page = client.get(PAGE).get_data(as_text=True)
    assert '<p class="notice"' not in page  # the page says it at length
    assert "<p>The receiver answered 410 Gone at 2026-03-02 09:00 UTC.</p>" in page
    assert "<pre>&lt;b&gt;gone&lt;/b&gt;</pre>" in page
    assert f"<code>{request.headers['webhook-id']}</code>" in page

    receiver.answer(200)
    clock.advance(minutes=10)
    press(client, "resume")
    assert flashes(client) == [
        "Destination &#34;crm&#34; re-enabled: 1 pending delivery goes out now, in order."
    ]
    assert worker.run_once() == 1
    (delivery,) = deliveries()
    assert (delivery.status, delivery.attempts, delivery.message_id) == (
        "delivered",
        2,
        request.headers["webhook-id"],
    )
    assert '<p class="notice"' not in client.get("/admin/").get_data(as_text=True)


def test_an_analyst_sees_the_notice_without_a_link(client, site, clock):
    create_user("ann@acme.example", "analyst", PASSWORD)
    sign_in(client, "ann@acme.example")
    destination = crm()
    destination.suspended_at = clock()
    destination.suspended_reason = "Every attempt failed for 3 days (since 2026-02-27 09:00 UTC)."
    db.session.commit()
    html = client.get("/admin/").get_data(as_text=True)
    assert "destination\n        <code>crm</code>\n        of Acme Analytics is suspended" in html
    assert "Events are kept until an admin re-enables it." in html
    assert PAGE not in html
