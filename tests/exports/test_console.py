"""Exports from the console: the page, the downloads, and bad filters shown next to the input."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.exports.support import fill


@pytest.fixture
def signed_in(signed_in, lab):
    """Signs in on the lab site's domain: ``signed_in("marketer")`` is marketer@lab.example."""
    return lambda role: signed_in(role, f"{role}@lab.example")


@pytest.mark.parametrize("role", ["analyst", "marketer", "admin"])
def test_every_role_can_download(client, signed_in, role):
    fill(client, {"email": "v@lab.example", "name": "Vi"})
    signed_in(role)
    page = client.get("/admin/sites/lab/export")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'action="/admin/sites/lab/export/contacts"' in html
    assert 'action="/admin/sites/lab/export/submissions"' in html
    response = client.get("/admin/sites/lab/export/contacts?format=csv&identified=true")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="lab-contacts-20260302-090000.csv"'
    )
    frame = pd.read_csv(io.BytesIO(response.get_data()), dtype=str, keep_default_na=False)
    assert frame[["email", "name"]].to_dict("records") == [{"email": "v@lab.example", "name": "Vi"}]


def test_the_form_offers_the_sites_stages_tiers_forms_and_fields(client, signed_in):
    signed_in("analyst")
    html = client.get("/admin/sites/lab/export").get_data(as_text=True)
    for value in ("lead", "mql", "basics", "firmographics", "signup", "more", "title"):
        assert f'value="{value}"' in html


def test_ticked_boxes_and_provenance_are_the_apis_parameters(client, signed_in):
    fill(client, {"email": "w@lab.example", "name": "W"})
    signed_in("analyst")
    response = client.get(
        "/admin/sites/lab/export/contacts",
        query_string={"format": "jsonl", "tier_complete": ["basics"], "provenance": "y"},
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True) == ""  # w knows 2 of the 6 basics
    response = client.get(
        "/admin/sites/lab/export/contacts",
        query_string={"format": "jsonl", "provenance": "y", "stage": [], "form": "signup"},
    )
    frame = pd.read_json(io.StringIO(response.get_data(as_text=True)), lines=True)
    assert frame[["email", "name__source"]].to_dict("records") == [
        {"email": "w@lab.example", "name__source": "signup"}
    ]


def test_a_bad_filter_is_shown_next_to_its_input_and_nothing_downloads(client, signed_in):
    fill(client, {"email": "x@lab.example"})
    signed_in("analyst")
    response = client.get(
        "/admin/sites/lab/export/contacts", query_string={"updated_since": "soon", "limit": "5"}
    )
    assert response.status_code == 422
    assert response.content_type == "text/html; charset=utf-8"
    html = response.get_data(as_text=True)
    assert (
        '<p class="error" id="updated_since-error">Give an ISO 8601 date or date-time, '
        "e.g. 2026-03-01 or 2026-03-01T09:00Z.</p>"
    ) in html
    assert "Nothing was exported: correct the marked inputs." in html
    assert "Unknown parameter &#34;limit&#34;; use:" in html
    assert 'value="soon"' in html
    assert "x@lab.example" not in html


def test_a_bad_history_filter_is_shown_on_the_history_form(client, signed_in):
    signed_in("analyst")
    response = client.get("/admin/sites/lab/export/submissions", query_string={"since": "x"})
    assert response.status_code == 422
    assert '<p class="error" id="since-error">' in response.get_data(as_text=True)


def test_history_download(client, signed_in):
    fill(client, {"email": "y@lab.example"})
    signed_in("analyst")
    response = client.get("/admin/sites/lab/export/submissions", query_string={"format": "parquet"})
    assert response.status_code == 200
    frame = pd.read_parquet(io.BytesIO(response.get_data()))
    assert frame[["email", "field", "value"]].to_dict("records") == [
        {"email": "y@lab.example", "field": "email", "value": "y@lab.example"}
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sites/lab/export",
        "/admin/sites/lab/export/contacts",
        "/admin/sites/lab/export/submissions",
    ],
)
def test_signed_out_visitors_are_sent_to_sign_in(client, lab, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sites/nosuch/export",
        "/admin/sites/nosuch/export/contacts",
        "/admin/sites/nosuch/export/submissions",
    ],
)
def test_unknown_sites_are_404(client, signed_in, path):
    signed_in("analyst")
    assert client.get(path).status_code == 404
