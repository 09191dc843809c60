"""Sales console users: they see the hand-off queue and the briefs, and the config's history
(where they approve changes to the definition), nothing else; admins may do all they do;
analysts and marketers read the queue without acting on it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Destination, User
from app.services.accounts import create_user
from tests.console import csrf_token, sign_in
from tests.factories import PASSWORD, acme_config, make_site
from tests.sales.support import add_contact, add_handoff, sales_config

ROLES = ("analyst", "marketer", "admin", "sales")
EVERYONE = dict.fromkeys(ROLES, 200)
CONSOLE = {"analyst": 200, "marketer": 200, "admin": 200, "sales": 403}
ADMINS = {"analyst": 403, "marketer": 403, "admin": 200, "sales": 403}
PAGES = {
    "/admin/": {**CONSOLE, "sales": 302},  # sales land on the queue
    "/admin/queue": EVERYONE,
    "/admin/sites/acme/queue": EVERYONE,
    "/admin/sites/acme/queue/1": EVERYONE,
    "/admin/sites/acme/funnel": EVERYONE,
    "/admin/sites/acme/funnel/weeks.csv": EVERYONE,
    "/admin/sites/acme/dashboard": CONSOLE,
    "/admin/sites/acme/dashboard/stages.csv": CONSOLE,
    "/admin/sites/acme/questions": CONSOLE,
    "/admin/sites/acme/fields/company": CONSOLE,
    "/admin/sites/acme/forms": CONSOLE,
    "/admin/sites/acme/forms/blog": CONSOLE,
    "/admin/sites/acme/contacts": CONSOLE,
    "/admin/sites/acme/contacts/1": CONSOLE,
    "/admin/sites/acme/export": CONSOLE,
    "/admin/sites/acme/export/contacts?format=csv": CONSOLE,
    "/admin/sites/acme/explain": CONSOLE,
    "/admin/sites/acme/settings": CONSOLE,
    "/admin/sites/acme/config": EVERYONE,
    "/admin/sites/acme/config.yaml": CONSOLE,
    "/admin/sites/acme/destinations": ADMINS,
    "/admin/sites/acme/destinations/new": ADMINS,
    "/admin/sites/acme/tokens": ADMINS,
    "/admin/users": ADMINS,
    "/admin/users/1": ADMINS,
}


@pytest.fixture
def acme(app, clock):
    make_site(sales_config())
    other = acme_config()
    other["site"] = {**other["site"], "key": "other", "name": "Other"}
    make_site(other)
    contact = add_contact("acme", "ada@corp.example")
    add_handoff(contact, clock() - timedelta(hours=1), clock() + timedelta(hours=47))
    create_user("first@acme.example", "admin", PASSWORD)  # user 1


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_what_it_may(acme, signed_in, client, role):
    signed_in(role)
    seen = {path: client.get(path).status_code for path in PAGES}
    assert seen == {path: allowed[role] for path, allowed in PAGES.items()}


@pytest.mark.parametrize(
    ("role", "status"), [("analyst", 403), ("marketer", 403), ("admin", 302), ("sales", 302)]
)
def test_only_sales_and_admins_record_outcomes(acme, signed_in, client, role, status):
    signed_in(role)
    data = {"csrf_token": csrf_token(client, "/admin/sites/acme/queue"), "kind": "accepted"}
    response = client.post("/admin/sites/acme/queue/1/outcomes", data={**data, "key": "k1"})
    assert response.status_code == status


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sites/acme/settings",
        "/admin/sites/acme/fields/new",
        "/admin/sites/acme/destinations/new",
        "/admin/sites/acme/tokens",
        "/admin/sites/acme/config",
        "/admin/users",
    ],
)
def test_a_sales_user_changes_nothing_else(acme, signed_in, client, path):
    signed_in("sales")
    token = csrf_token(client, "/admin/sites/acme/queue")
    assert client.post(path, data={"csrf_token": token}).status_code == 403


def test_a_sales_user_lands_on_the_queue_and_sees_only_the_sales_pages(acme, client):
    create_user("rep@acme.example", "sales", PASSWORD)
    assert sign_in(client, "rep@acme.example").location == "/admin/"
    assert client.get("/admin/").location == "/admin/queue"
    html = client.get("/admin/sites/acme/queue").get_data(as_text=True)
    menu = re.search(r'<nav class="sitenav".*?</nav>', html, re.S).group(0)
    assert re.findall(r'<li><a href="([^"]+)"[^>]*>([^<]+)</a></li>', menu) == [
        ("/admin/sites/acme/queue", "Queue"),
        ("/admin/sites/acme/funnel", "Funnel"),
        ("/admin/sites/acme/config", "History"),
    ]
    assert "/admin/users" not in html
    assert "rep@acme.example · sales" in html
    assert "Sign out" in html


def test_with_one_site_the_queues_page_opens_its_queue(app, signed_in, client):
    make_site(sales_config())
    signed_in("sales")
    assert client.get("/admin/queue").location == "/admin/sites/acme/queue"


def test_the_queues_page_counts_every_sites_waiting_and_late(acme, signed_in, client, clock):
    late = add_contact("acme", "late@corp.example")
    add_handoff(late, clock() - timedelta(hours=50), clock() - timedelta(hours=2))
    signed_in("sales")
    html = client.get("/admin/queue").get_data(as_text=True)
    rows = re.findall(r'<td class="num">(\d+)</td>', html)
    assert "Acme Analytics" in html and "Other" in html
    assert rows == ["2", "1", "0", "0"]  # Acme: 2 waiting, 1 late; Other: none


def test_the_switcher_keeps_a_sales_user_on_the_queue(acme, signed_in, client):
    signed_in("sales")
    response = client.get("/admin/switch?site=other&section=admin.dashboard")
    assert response.location == "/admin/sites/other/queue"


def test_an_analyst_sees_the_queue_in_the_menu(acme, signed_in, client):
    signed_in("analyst")
    html = client.get("/admin/sites/acme/dashboard").get_data(as_text=True)
    assert '<li><a href="/admin/sites/acme/queue">Queue</a></li>' in html


def test_the_command_creates_a_sales_user(acme, runner):
    result = runner.invoke(
        args=["users", "create", "rep@acme.example", "--role", "sales", "--generate-password"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Created sales rep@acme.example.\n")
    assert db.session.scalar(select(User.role).where(User.email == "rep@acme.example")) == "sales"


def test_an_admin_adds_a_sales_user_on_the_users_page(acme, signed_in, client):
    signed_in("admin")
    html = client.get("/admin/users").get_data(as_text=True)
    assert '<option value="sales">sales</option>' in html
    data = {"csrf_token": csrf_token(client, "/admin/users"), "email": "rep@acme.example"}
    response = client.post("/admin/users", data={**data, "role": "sales", "password": ""})
    assert response.status_code == 200
    assert db.session.scalar(select(User.role).where(User.email == "rep@acme.example")) == "sales"


def test_an_unknown_role_names_the_four(acme, signed_in, client):
    signed_in("admin")
    data = {"csrf_token": csrf_token(client, "/admin/users"), "email": "x@acme.example"}
    response = client.post("/admin/users", data={**data, "role": "owner", "password": ""})
    assert response.status_code == 422
    assert "Not a valid choice." in response.get_data(as_text=True)


def test_a_sales_user_is_not_told_of_suspended_destinations(app, signed_in, client, clock):
    hook = {"key": "crm", "url": "https://hooks.example.com/crm", "events": ["contact.updated"]}
    make_site(sales_config(destinations=[hook]))
    destination = db.session.scalar(select(Destination).where(Destination.key == "crm"))
    destination.suspended_at = clock()
    destination.suspended_reason = "The receiver answered 410 Gone."
    db.session.commit()
    signed_in("sales")
    assert '<p class="notice"' not in client.get("/admin/sites/acme/queue").get_data(as_text=True)
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/sites/acme/queue")})
    signed_in("analyst")
    assert '<p class="notice"' in client.get("/admin/sites/acme/queue").get_data(as_text=True)
