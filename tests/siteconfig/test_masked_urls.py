"""Secrets in destination URLs: only admins read them; downloads and history diffs give everyone
else the URL masked, and a masked download imported again keeps the real URL."""

from __future__ import annotations

import io

import pytest
import yaml
from sqlalchemy import func, select

from app.extensions import db
from app.models import ConfigRevision, Destination
from app.services.accounts import create_user
from app.services.errors import Invalid
from app.services.siteconfig import export_site_config, import_site_config, revision_diff
from tests.console import csrf_token, sign_in
from tests.factories import PASSWORD, acme_config

SECRET_URL = "https://bob:S3cret@crm.example/hook?api_key=XYZ"
MASKED_URL = "https://***:***@crm.example/hook?api_key=***"
CRM = {"key": "crm", "url": SECRET_URL, "events": ["contact.updated"]}
OTHER = {"key": "cdp", "url": "https://cdp.example/v1/identify", "events": ["contact.updated"]}
MASKED_MESSAGE = (
    "holds ***, which stands for a hidden secret, and is not the hidden form of this "
    "destination&#39;s current URL: write the URL in full"
)


@pytest.fixture
def crm(app) -> None:
    import_site_config(acme_config(destinations=[CRM, OTHER]))


def as_role(client, role: str) -> None:
    email = f"{role}@acme.example"
    create_user(email, role, PASSWORD)
    sign_in(client, email)


def upload(client, config: dict):
    return client.post(
        "/admin/sites/acme/config",
        data={
            "csrf_token": csrf_token(client, "/admin/sites/acme/config"),
            "file": (io.BytesIO(yaml.safe_dump(config).encode()), "acme.yaml"),
        },
        content_type="multipart/form-data",
    )


def stored_url(key: str = "crm") -> str:
    db.session.expire_all()
    return db.session.scalar(select(Destination.url).where(Destination.key == key))


def revisions() -> int:
    return db.session.scalar(select(func.count()).select_from(ConfigRevision))


@pytest.mark.parametrize("role", ["analyst", "marketer"])
def test_below_admin_the_download_masks_destination_urls(client, crm, role):
    as_role(client, role)
    text = client.get("/admin/sites/acme/config.yaml").get_data(as_text=True)
    assert "S3cret" not in text
    assert "XYZ" not in text
    assert "bob" not in text
    expected = export_site_config("acme")
    expected["destinations"][0]["url"] = MASKED_URL
    assert yaml.safe_load(text) == expected
    assert f"url: {MASKED_URL}\n" in text


def test_an_admin_downloads_destination_urls_whole(client, crm):
    as_role(client, "admin")
    text = client.get("/admin/sites/acme/config.yaml").get_data(as_text=True)
    assert yaml.safe_load(text)["destinations"] == [CRM, OTHER]


def changed_secret_then_path() -> None:
    """Version 2 changes only the password, version 3 the path and the api key."""
    moved = "https://bob:N3wer@crm.example/hook?api_key=XYZ"
    import_site_config(acme_config(destinations=[{**CRM, "url": moved}, OTHER]))
    later = "https://bob:N3wer@crm.example/v2/hook?api_key=ABC"
    import_site_config(acme_config(destinations=[{**CRM, "url": later}, OTHER]))


@pytest.mark.parametrize("role", ["analyst", "marketer"])
def test_below_admin_history_diffs_mask_urls_and_show_a_secret_change(client, crm, role):
    changed_secret_then_path()
    as_role(client, role)

    pages = [client.get(f"/admin/sites/acme/config/{v}").get_data(as_text=True) for v in (1, 2, 3)]

    for page in pages:
        for secret in ("S3cret", "N3wer", "XYZ", "ABC", "bob"):
            assert secret not in page
    assert f"+  url: {MASKED_URL}</span>" in pages[0]
    assert f'<span class="del">-  url: {MASKED_URL}</span>' in pages[1]
    assert f'<span class="add">+  url: {MASKED_URL} (secret changed)</span>' in pages[1]
    assert f'<span class="del">-  url: {MASKED_URL}</span>' in pages[2]
    assert (
        '<span class="add">+  url: https://***:***@crm.example/v2/hook?api_key=***</span>'
        in pages[2]
    )


def test_an_admin_reads_history_diffs_whole(client, crm):
    changed_secret_then_path()
    as_role(client, "admin")
    page = client.get("/admin/sites/acme/config/2").get_data(as_text=True)
    assert f'<span class="del">-  url: {SECRET_URL}</span>' in page
    assert '<span class="add">+  url: https://bob:N3wer@crm.example/hook?api_key=XYZ</span>' in page


def test_a_diff_where_nothing_secret_changed_reads_the_same_masked(crm):
    import_site_config(acme_config(destinations=[CRM]))  # cdp removed, crm as it was
    lines = revision_diff("acme", 2, masked=True).lines
    assert [line for line in lines if line[:1] in "+-" and "url:" in line] == [
        "-  url: https://cdp.example/v1/identify"
    ]
    assert f"   url: {MASKED_URL}" in lines


@pytest.mark.parametrize("role", ["marketer", "admin"])
def test_a_masked_download_imported_again_keeps_the_stored_url(client, crm, role):
    as_role(client, role)
    config = export_site_config("acme")
    config["destinations"][0]["url"] = MASKED_URL  # as a marketer downloads it
    config["fields"][1]["label"] = "Given name"

    response = upload(client, config)

    assert (response.status_code, response.location) == (302, "/admin/sites/acme/config")
    assert stored_url() == SECRET_URL
    assert export_site_config("acme")["fields"][1]["label"] == "Given name"
    assert [line for line in revision_diff("acme", 2).lines if line[:1] in "+-"] == [
        "--- version 1",
        "+++ version 2",
        "-  label: First name",
        "+  label: Given name",
    ]


def test_the_command_line_import_of_a_masked_file_keeps_the_stored_url(runner, crm, tmp_path):
    config = export_site_config("acme")
    config["destinations"][0]["url"] = MASKED_URL
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")

    result = runner.invoke(args=["import-config", str(path)])

    assert result.exit_code == 0, result.output
    assert stored_url() == SECRET_URL


@pytest.mark.parametrize(
    ("role", "destinations", "path"),
    [
        # Not the masked form of the stored URL: another path, host, query name, user-info.
        ("marketer", [{**CRM, "url": "https://***:***@crm.example/other?api_key=***"}, OTHER], 0),
        ("admin", [{**CRM, "url": "https://***:***@attacker.example/hook?api_key=***"}, OTHER], 0),
        ("marketer", [{**CRM, "url": "https://***:***@crm.example/hook?token=***"}, OTHER], 0),
        ("admin", [{**CRM, "url": "https://***@crm.example/hook?api_key=***"}, OTHER], 0),
        # cdp has no secret: *** in its URL stands for nothing it has.
        ("marketer", [CRM, {**OTHER, "url": "https://cdp.example/v1/identify?key=***"}], 1),
        # A new destination has no URL to keep.
        ("admin", [CRM, OTHER, {**CRM, "key": "new"}], 2),
    ],
    ids=["other path", "other host", "other query", "other user-info", "no secret", "new"],
)
def test_a_masked_url_that_is_not_the_stored_one_is_refused(client, crm, role, destinations, path):
    as_role(client, role)
    if destinations[-1]["key"] == "new":
        destinations[-1] = {**destinations[-1], "url": MASKED_URL}

    response = upload(client, acme_config(destinations=destinations))

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"<code>destinations[{path}].url</code>: {MASKED_MESSAGE}" in html
    assert "Nothing was changed." in html
    assert (stored_url(), revisions()) == (SECRET_URL, 1)
    assert db.session.scalar(select(func.count()).select_from(Destination)) == 2


def test_the_import_refuses_a_masked_url_by_its_path_along_with_other_problems(crm):
    config = acme_config(destinations=[{**CRM, "url": "https://***@crm.example/"}, OTHER])
    config["fields"][4] = {**config["fields"][4], "tier": "qualifcation"}

    with pytest.raises(Invalid) as refused:
        import_site_config(config)

    assert refused.value.fields == {
        "fields[4].tier": ['unknown tier "qualifcation"'],
        "destinations[0].url": [MASKED_MESSAGE.replace("&#39;", "'")],
    }
    assert (stored_url(), revisions()) == (SECRET_URL, 1)


def test_a_masked_url_under_an_unreadable_key_is_refused_not_a_crash(crm):
    config = acme_config(destinations=[{**CRM, "key": ["crm"], "url": MASKED_URL}, OTHER])

    with pytest.raises(Invalid) as refused:
        import_site_config(config)

    assert refused.value.fields["destinations[0].url"] == [MASKED_MESSAGE.replace("&#39;", "'")]
    assert (stored_url(), revisions()) == (SECRET_URL, 1)


def test_a_marketer_may_still_not_change_a_destination_url(client, crm):
    as_role(client, "marketer")
    moved = {**CRM, "url": "https://bob:S3cret@crm.example/v2/hook?api_key=XYZ"}

    response = upload(client, acme_config(destinations=[moved, OTHER]))

    assert response.status_code == 422
    assert "only an admin may add, change or remove destinations" in response.get_data(as_text=True)
    assert (stored_url(), revisions()) == (SECRET_URL, 1)
