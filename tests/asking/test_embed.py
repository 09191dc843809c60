"""Serving /widget.js (caching, compression, the size budget) and the demo pages (only with the
demo switched on, ``TRICKLE_DEMO``)."""

from __future__ import annotations

import gzip

import pytest

from app import create_app
from app.embed.assets import WIDGET_BUILD, WIDGET_SOURCE
from tests.databases import settings_for

# /widget.js as served (the terser build), gzip-compressed. Issue 19 item 6 asks for at most
# TARGET_GZIP_BYTES; the build reached 5903 bytes (terser 5.51.4; 6119 before the class names
# and more properties were shortened). Issue 22 then took the English strings out of the script
# (they travel with the ask, in the form's language: more languages never grow it) and added
# the button's automatic text colour, dark controls, the card's lang/dir, Intl numbers, the
# "Sending…" state, dependent questions revealed in the same form, a refused origin told in
# the console and a form's on_complete: 6505 bytes. A failed ask in the form's language (the
# last ask's form kept per site and form, for a network failure) brought it to 6567, and
# dropped Object.assign for spreads; with the page view naming the page's forms (item 9, views
# per form) the merge is 6594. Each stylesheet rule's declarations put in the order that gzips
# smallest, six more internal properties shortened and fetch's default mode left out made it
# 6518 (from 6610). The test holds it there, rounded up to 64 bytes, until the
# target is met (then BUDGET_GZIP_BYTES = TARGET_GZIP_BYTES).
TARGET_GZIP_BYTES = 5120
BUDGET_GZIP_BYTES = 6528


@pytest.fixture
def client():
    return create_app(settings_for("sqlite://", DEMO=True)).test_client()


@pytest.fixture
def default_client():
    """An app with the default settings: the demo switched off."""
    return create_app(settings_for("sqlite://")).test_client()


def test_the_widget_as_served_gzipped_fits_the_budget(client):
    response = client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(response.data) <= BUDGET_GZIP_BYTES
    assert WIDGET_BUILD.is_file(), "no widget build: run `make widget` (needs node and npm)"
    assert gzip.decompress(response.data) == WIDGET_BUILD.read_bytes()  # the build, not the source
    assert len(WIDGET_BUILD.read_bytes()) < len(WIDGET_SOURCE.read_bytes()) * 0.7


@pytest.mark.parametrize(
    ("accept", "coding"),
    [("br, gzip", "br"), ("gzip", "gzip"), ("gzip;q=0.5, br;q=0.1", "gzip"), ("", None)],
)
def test_the_widget_is_compressed_as_the_client_asks(client, accept, coding):
    response = client.get("/widget.js", headers={"Accept-Encoding": accept} if accept else {})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == coding
    assert response.mimetype == "text/javascript"
    assert response.headers["Vary"] == "Accept-Encoding"  # never Cookie: shared caches may keep it
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=300, stale-while-revalidate=86400"


def test_a_matching_etag_gets_304(client):
    etag = client.get("/widget.js").headers["ETag"]
    again = client.get("/widget.js", headers={"If-None-Match": etag})
    assert (again.status_code, again.data) == (304, b"")
    changed = client.get("/widget.js", headers={"If-None-Match": '"stale"'})
    assert changed.status_code == 200


@pytest.mark.parametrize(
    ("path", "form", "stage"),
    [
        ("/demo/", "blog", "early"),
        ("/demo/case-study", "case_study", "mid"),
        ("/demo/pricing", "pricing", "late"),
    ],
)
def test_demo_pages_embed_their_form(client, path, form, stage):
    html = client.get(path).get_data(as_text=True)
    assert f'data-form="{form}" data-stage="{stage}"' in html
    assert 'src="/widget.js" data-site="demo"' in html


def test_an_unknown_demo_page_is_404(client):
    assert client.get("/demo/nope").status_code == 404


DEMO_PATHS = ["/demo/", "/demo/blog", "/demo/case-study", "/demo/pricing", "/demo/inbox"]


@pytest.mark.parametrize("path", DEMO_PATHS)
def test_with_the_default_settings_the_demo_is_404_like_an_unknown_path(default_client, path):
    unknown = default_client.get("/no-such-path")
    for method in (default_client.get, default_client.post, default_client.head):
        response = method(path)
        assert response.status_code == 404, (method, path)
        assert response.headers.get("Allow") is None
    response = default_client.get(path)
    assert (response.mimetype, response.data) == (unknown.mimetype, unknown.data)
    assert default_client.get("/widget.js").status_code == 200  # the widget is always served


@pytest.mark.parametrize("path", DEMO_PATHS[:-1])
def test_with_the_demo_on_its_pages_are_served(client, path):
    assert client.get(path).status_code == 200
