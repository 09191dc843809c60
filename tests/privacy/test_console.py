"""The contact page's consent table with Withdraw (marketers and up), and Erase (admins only,
confirmed by typing the id); both behind CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ConsentRecord, Contact, ContactErasure
from app.services.accounts import create_user
from tests.console import csrf_token, sign_in, table_rows
from tests.factories import CONSENT_VERSION as VERSION
from tests.factories import PASSWORD, Widget, consent_config, make_site


@pytest.fixture
def contact_id(app, client):
    make_site(consent_config())
    for role in ("admin", "marketer", "analyst"):
        create_user(f"{role}@acme.example", role, PASSWORD)
    widget = Widget(client)
    widget.ask()
    assert widget.submit({"email": "ada@acme-corp.example", "newsletter": True}).status_code == 200
    return db.session.scalar(select(Contact.id))


def post(client, path: str, **data):
    token = csrf_token(client, "/admin/")
    return client.post(path, data={"csrf_token": token, **data})


def consent_rows(client, contact_id):
    html = client.get(f"/admin/sites/acme/contacts/{contact_id}").get_data(as_text=True)
    start = html.index('id="consent"')
    return table_rows(html[start : html.index("</section>", start)]), html


def test_a_marketer_sees_the_consent_and_withdraws_it(client, contact_id, clock):
    sign_in(client, "marketer@acme.example")
    rows, html = consent_rows(client, contact_id)
    assert rows == [
        ["Email me product news newsletter", "Given", VERSION, "form blog", "2026-03-02 09:00 UTC", "Withdraw"]
    ]  # fmt: skip
    assert 'id="erase"' not in html  # erasing is for admins
    clock.advance(hours=2)
    path = f"/admin/sites/acme/contacts/{contact_id}/consents/newsletter/withdraw"
    response = post(client, path)
    assert response.status_code == 302
    rows, html = consent_rows(client, contact_id)
    assert rows == [
        ["Email me product news newsletter", "Withdrawn", VERSION, "admin by marketer@acme.example", "2026-03-02 11:00 UTC", ""],
        ["Email me product news newsletter", "Given", VERSION, "form blog", "2026-03-02 09:00 UTC", ""],
    ]  # fmt: skip
    assert "Consent &#34;newsletter&#34; withdrawn" in html
    again = post(client, path)
    assert again.status_code == 302
    assert "was not given: nothing to withdraw" in client.get(again.location).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 2


def test_withdrawing_needs_csrf_a_role_and_a_consent_field(client, contact_id):
    path = f"/admin/sites/acme/contacts/{contact_id}/consents/newsletter/withdraw"
    sign_in(client, "analyst@acme.example")
    assert post(client, path).status_code == 403
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    sign_in(client, "marketer@acme.example")
    assert client.post(path).status_code == 400  # no CSRF token
    wrong = post(client, f"/admin/sites/acme/contacts/{contact_id}/consents/email/withdraw")
    assert "Nothing was withdrawn: Not consent fields: email." in client.get(
        wrong.location
    ).get_data(as_text=True)
    assert (
        post(client, "/admin/sites/acme/contacts/999/consents/newsletter/withdraw").status_code
        == 404
    )
    assert [r.granted for r in db.session.scalars(select(ConsentRecord))] == [True]


def test_an_admin_erases_after_typing_the_id(client, contact_id, clock):
    sign_in(client, "admin@acme.example")
    path = f"/admin/sites/acme/contacts/{contact_id}/erase"
    for typed in ("", "yes", str(contact_id + 1)):
        refused = post(client, path, confirm=typed)
        assert refused.status_code == 422
        assert f"Type {contact_id} to confirm: nothing was erased." in refused.get_data(
            as_text=True
        )
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1
    response = post(client, path, confirm=f" #{contact_id} ")
    assert response.status_code == 302
    listing = client.get(response.location).get_data(as_text=True)
    assert (
        f"Contact #{contact_id} erased with everything held on them. "
        "Told: no destination had received them."
    ) in listing
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
    erasure = db.session.scalar(select(ContactErasure))
    assert (erasure.contact_id, erasure.requested_by) == (contact_id, "admin@acme.example")
    start = listing.index('id="erasures"')
    assert table_rows(listing[start:]) == [
        [f"#{contact_id}", "2026-03-02 09:00 UTC", "admin@acme.example", "none"]
    ]
    assert "ada@acme-corp.example" not in listing
    assert client.get(f"/admin/sites/acme/contacts/{contact_id}").status_code == 404
    assert post(client, path, confirm=str(contact_id)).status_code == 404


def test_only_admins_may_erase(client, contact_id):
    sign_in(client, "admin@acme.example")
    assert (
        post(
            client, f"/admin/sites/acme/contacts/{contact_id}/erase", confirm=str(contact_id)
        ).status_code
        == 302
    )
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    sign_in(client, "marketer@acme.example")
    assert 'id="erasures"' not in client.get("/admin/sites/acme/contacts").get_data(as_text=True)
    Widget(client).event()
    path = f"/admin/sites/acme/contacts/{contact_id + 1}/erase"
    assert post(client, path, confirm=str(contact_id + 1)).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1
