"""Config history: every import recorded with who and when, diffs, YAML download and upload."""

from __future__ import annotations

import io

import pytest
import yaml
from sqlalchemy import func, select

from app.extensions import db
from app.models import ConfigRevision, Site
from app.services.accounts import create_user
from app.services.siteconfig import export_site_config, import_site_config
from tests.console import csrf_token, sign_in
from tests.factories import PASSWORD, acme_config


@pytest.fixture
def marketer(app):
    return create_user("mia@acme.example", "marketer", PASSWORD)[0]


def upload(client, text: str, site: str = "acme", name: str = "acme.yaml"):
    return client.post(
        f"/admin/sites/{site}/config",
        data={
            "csrf_token": csrf_token(client, f"/admin/sites/{site}/config"),
            "file": (io.BytesIO(text.encode()), name),
        },
        content_type="multipart/form-data",
    )


def renamed(label: str) -> dict:
    config = acme_config()
    config["fields"][1] = {**config["fields"][1], "label": label}
    return config


def test_every_import_is_a_revision_with_its_author(client, site, marketer, clock):
    clock.advance(hours=1)
    import_site_config(renamed("Given name"), author="ops@acme.example")
    sign_in(client, "mia@acme.example")
    html = client.get("/admin/sites/acme/config").get_data(as_text=True)
    assert html.index("<td>ops@acme.example</td>") < html.index("<td>trickle import-config</td>")
    rows = db.session.execute(
        select(ConfigRevision.version, ConfigRevision.author).order_by(ConfigRevision.version)
    ).all()
    assert [tuple(r) for r in rows] == [(1, "trickle import-config"), (2, "ops@acme.example")]


def test_a_revision_shows_what_changed(client, site, marketer):
    import_site_config(renamed("Given name"), author="ops@acme.example")
    sign_in(client, "mia@acme.example")
    html = client.get("/admin/sites/acme/config/2").get_data(as_text=True)
    assert '<span class="del">-  label: First name</span>' in html
    assert '<span class="add">+  label: Given name</span>' in html
    assert "compared with version 1" in html
    first = client.get("/admin/sites/acme/config/1").get_data(as_text=True)
    assert "the first recorded version" in first
    assert client.get("/admin/sites/acme/config/9").status_code == 404


def test_the_download_is_the_export_config_yaml(client, site, marketer):
    sign_in(client, "mia@acme.example")
    response = client.get("/admin/sites/acme/config.yaml")
    assert response.headers["Content-Disposition"] == 'attachment; filename="acme.yaml"'
    assert yaml.safe_load(response.get_data(as_text=True)) == export_site_config("acme")


def test_an_uploaded_config_is_imported_by_the_signed_in_user(client, site, marketer):
    sign_in(client, "mia@acme.example")
    response = upload(client, yaml.safe_dump(renamed("Given name")))
    assert (response.status_code, response.location) == (302, "/admin/sites/acme/config")
    assert "Imported: config version 2." in client.get("/admin/sites/acme/config").get_data(
        as_text=True
    )
    assert export_site_config("acme")["fields"][1]["label"] == "Given name"
    assert db.session.scalar(select(ConfigRevision.author).where(ConfigRevision.version == 2)) == (
        "mia@acme.example"
    )


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("fields: [", "&lt;file&gt;", "line 1, column 10"),
        (
            yaml.safe_dump({**acme_config(), "site": {**acme_config()["site"], "key": "other"}}),
            "site.key",
            "this page imports site &#34;acme&#34;; the file names &#34;other&#34;",
        ),
    ],
)
def test_an_invalid_upload_lists_every_problem_and_changes_nothing(
    client, site, marketer, text, where, message
):
    sign_in(client, "mia@acme.example")
    before = export_site_config("acme")
    response = upload(client, text)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"<code>{where}</code>" in html
    assert message in html
    assert "Nothing was changed." in html
    assert export_site_config("acme") == before
    assert db.session.scalar(select(func.count()).select_from(ConfigRevision)) == 1


def test_a_config_error_names_its_path(client, site, marketer):
    config = acme_config()
    config["fields"][4] = {**config["fields"][4], "tier": "qualifcation"}
    sign_in(client, "mia@acme.example")
    html = upload(client, yaml.safe_dump(config)).get_data(as_text=True)
    assert "<code>fields[4].tier</code>: unknown tier &#34;qualifcation&#34;" in html
    assert db.session.scalar(select(Site.config_version)) == 1


def test_an_analyst_may_read_but_not_upload(client, site):
    create_user("ana@acme.example", "analyst", PASSWORD)
    sign_in(client, "ana@acme.example")
    page = client.get("/admin/sites/acme/config").get_data(as_text=True)
    assert "Upload and import" not in page
    response = client.post(
        "/admin/sites/acme/config",
        data={"csrf_token": csrf_token(client, "/admin/sites/acme/config")},
    )
    assert response.status_code == 403


def test_an_upload_without_csrf_is_refused(client, site, marketer):
    sign_in(client, "mia@acme.example")
    response = client.post(
        "/admin/sites/acme/config",
        data={"file": (io.BytesIO(b"site: {}"), "x.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ConfigRevision)) == 1


def test_an_unknown_site_is_404(client, site, marketer):
    sign_in(client, "mia@acme.example")
    for path in (
        "/admin/sites/nope/config",
        "/admin/sites/nope/config.yaml",
        "/admin/sites/nope/config/1",
    ):
        assert client.get(path).status_code == 404


CRM = {"key": "crm", "url": "https://crm.example/hooks", "events": ["contact.updated"]}


@pytest.mark.parametrize(
    "destinations",
    [
        [{**CRM, "url": "https://attacker.example/steal"}],
        [CRM, {**CRM, "key": "mine"}],
        [{**CRM, "enabled": False}],
        [],
    ],
    ids=["redirected", "added", "switched off", "removed"],
)
def test_a_marketer_upload_may_not_change_destinations(client, marketer, destinations):
    import_site_config(acme_config(destinations=[CRM]))
    sign_in(client, "mia@acme.example")

    response = upload(client, yaml.safe_dump(acme_config(destinations=destinations)))

    assert response.status_code == 422
    assert "only an admin may add, change or remove destinations" in response.get_data(as_text=True)
    assert export_site_config("acme")["destinations"] == [CRM]
    assert db.session.scalar(select(func.count()).select_from(ConfigRevision)) == 1


def test_a_marketer_upload_keeping_destinations_as_they_are_is_imported(client, marketer):
    import_site_config(acme_config(destinations=[CRM]))
    sign_in(client, "mia@acme.example")
    # Written out with its defaults: the same destination all the same.
    same = [{**CRM, "format": "trickle", "mapping": {}, "enabled": True}]
    config = {**renamed("Given name"), "destinations": same}

    assert upload(client, yaml.safe_dump(config)).status_code == 302
    assert export_site_config("acme")["fields"][1]["label"] == "Given name"


def test_an_admin_upload_may_change_destinations(client):
    import_site_config(acme_config(destinations=[CRM]))
    create_user("ada@acme.example", "admin", PASSWORD)
    sign_in(client, "ada@acme.example")
    moved = {**CRM, "url": "https://crm.example/v2/hooks"}

    assert upload(client, yaml.safe_dump(acme_config(destinations=[moved]))).status_code == 302
    assert export_site_config("acme")["destinations"] == [moved]


def test_the_history_says_what_each_version_changed_in_words(client, site, marketer):
    config = renamed("Given name")
    config["site"]["skip_cooldown"] = 5
    import_site_config(config, author="ops@acme.example")
    sign_in(client, "mia@acme.example")

    listing = client.get("/admin/sites/acme/config").get_data(as_text=True)
    revision = client.get("/admin/sites/acme/config/2").get_data(as_text=True)

    words = [
        "<li>Site: skip cooldown the default → “5”</li>",
        "<li>Field “Given name” (first_name): label “First name” → “Given name”</li>",
    ]
    for html in (listing, revision):
        assert [line for line in words if line not in html] == []
    assert "<li>The first recorded version: everything in it is new.</li>" in listing
    assert "Restore version 2" not in revision  # the version in force
    first = client.get("/admin/sites/acme/config/1").get_data(as_text=True)
    assert "Restore version 1</button>" in first


def restore(client, version: int, token: bool = True):
    page = f"/admin/sites/acme/config/{version}"
    data = {"csrf_token": csrf_token(client, page)} if token else {}
    return client.post(f"{page}/restore", data=data)


def test_restoring_a_version_imports_it_again_as_a_new_one(client, site, marketer):
    import_site_config(renamed("Given name"), author="ops@acme.example")
    sign_in(client, "mia@acme.example")

    response = restore(client, 1)

    assert (response.status_code, response.location) == (302, "/admin/sites/acme/config")
    page = client.get(response.location).get_data(as_text=True)
    assert "Restored version 1 as config version 3." in page
    assert export_site_config("acme")["fields"][1]["label"] == "First name"
    rows = db.session.execute(
        select(ConfigRevision.version, ConfigRevision.author).order_by(ConfigRevision.version)
    ).all()
    assert [tuple(r) for r in rows][-1] == (3, "mia@acme.example")
    words = client.get("/admin/sites/acme/config/3").get_data(as_text=True)
    assert "<li>Field “First name” (first_name): label “Given name” → “First name”</li>" in words


@pytest.mark.parametrize(
    ("version", "token", "status"),
    [(2, True, 422), (9, True, 404), (1, False, 400)],
)
def test_a_restore_that_cannot_be_done_changes_nothing(
    client, site, marketer, version, token, status
):
    import_site_config(renamed("Given name"), author="ops@acme.example")
    sign_in(client, "mia@acme.example")

    response = (
        restore(client, version, token)
        if version != 9
        else client.post(
            "/admin/sites/acme/config/9/restore",
            data={"csrf_token": csrf_token(client, "/admin/sites/acme/config")},
        )
    )

    assert response.status_code == status
    if status == 422:
        assert "Version 2 is the config in force: nothing to restore." in response.get_data(
            as_text=True
        )
    assert db.session.scalar(select(func.max(ConfigRevision.version))) == 2


def test_analysts_may_not_restore(client, site):
    create_user("ann@acme.example", "analyst", PASSWORD)
    import_site_config(renamed("Given name"), author="ops@acme.example")
    sign_in(client, "ann@acme.example")
    assert "Restore version 1" not in client.get("/admin/sites/acme/config/1").get_data(
        as_text=True
    )
    token = csrf_token(client, "/admin/sites/acme/config/1")
    response = client.post("/admin/sites/acme/config/1/restore", data={"csrf_token": token})
    assert response.status_code == 403
    assert db.session.scalar(select(func.max(ConfigRevision.version))) == 2
