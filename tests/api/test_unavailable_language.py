"""An ask that fails says so in the form's language (issue 22.6): its error answer — the origin
refused, a rate limit, the database failing — carries the form's language, direction and
unavailable text, read from the config in memory; nothing else, and nothing of a visitor."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import OperationalError

from app.api import routes
from app.extensions import db
from app.models import Site
from app.services.siteconfig import site_snapshot
from tests.factories import ORIGIN, acme_config, make_site

ASK = "/api/v1/sites/acme/forms/{}/ask"
GERMAN_FORM = {
    "language": "de",
    "dir": "ltr",
    "strings": {"unavailable": "Dieses Formular ist gerade nicht verfügbar."},
}


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_PUBLIC_PER_IP": "2/minute",
    }


@pytest.fixture
def site(app):
    """Acme in German, its "news" form in Hebrew with its own unavailable text."""
    config = acme_config()
    config["site"]["language"] = "de"
    hebrew = {"language": "he", "strings": {"unavailable": "הטופס סגור כרגע."}}
    config["forms"].append({"key": "news", "title": "News", **hebrew})
    return make_site(config)


def ask(client, form: str = "blog", origin: str = ORIGIN, ip: str = "198.51.100.1") -> Any:
    return client.post(
        ASK.format(form), json={}, headers={"Origin": origin}, environ_base={"REMOTE_ADDR": ip}
    )


def test_a_refused_origin_reads_the_refusal_in_the_forms_language(client, site):
    response = ask(client, origin="https://elsewhere.example")
    body = response.get_json()
    assert (response.status_code, body["error"]["code"]) == (403, "origin_not_allowed")
    assert body["form"] == GERMAN_FORM
    assert response.headers["Access-Control-Allow-Origin"] == "https://elsewhere.example"


def test_a_rate_limited_ask_carries_the_hebrew_forms_own_text(client, site):
    assert [ask(client, "news").status_code for _ in range(2)] == [200, 200]
    response = ask(client, "news")
    assert response.status_code == 429
    assert response.get_json() == {
        "error": response.get_json()["error"],
        "form": {"language": "he", "dir": "rtl", "strings": {"unavailable": "הטופס סגור כרגע."}},
    }
    assert response.get_json()["error"]["code"] == "rate_limited"


def test_a_database_failing_during_the_ask_still_answers_in_german(client, site, monkeypatch):
    def failing(site_key: str, *args: object) -> None:
        site_snapshot(site_key)  # the config was read; then the database goes away
        raise OperationalError("SELECT", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(routes, "ask_questions", failing)
    response = ask(client)
    assert response.status_code == 503
    assert response.get_json() == {
        "error": {
            "code": "unavailable",
            "message": "The service cannot reach its database right now; try again shortly.",
        },
        "form": GERMAN_FORM,
    }


def test_an_unexpected_error_answers_500_in_german(client, site, monkeypatch):
    def failing(site_key: str, *args: object) -> None:
        site_snapshot(site_key)
        raise RuntimeError("a bug")

    monkeypatch.setattr(routes, "ask_questions", failing)
    response = ask(client)
    assert response.status_code == 500
    assert response.get_json()["form"] == GERMAN_FORM


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/sites/acme/forms/nope/ask", 404),  # no such form: nothing to say it in
        ("/api/v1/sites/nope/forms/blog/ask", 404),
        ("/api/v1/sites/acme/events", 422),  # not an ask
        ("/api/v1/sites/acme/forms/blog/submit", 422),
    ],
)
def test_other_errors_carry_only_the_envelope(client, site, path, status):
    body = {} if path.endswith("/ask") else {"bogus": 1}
    response = client.post(path, json=body, headers={"Origin": ORIGIN})
    assert response.status_code == status
    assert list(response.get_json()) == ["error"]


def test_a_successful_ask_is_unchanged(client, site):
    body = ask(client).get_json()
    assert body["form"]["strings"]["unavailable"] == "Dieses Formular ist gerade nicht verfügbar."
    assert "error" not in body


def test_a_site_gone_since_it_was_read_says_nothing_of_its_form(client, site):
    assert ask(client).status_code == 200  # the process now holds Acme's config in memory
    db.session.execute(delete(Site).where(Site.key == "acme"))
    db.session.commit()
    response = ask(client)
    assert response.status_code == 404
    assert list(response.get_json()) == ["error"]
