"""The Questions page lists fields in the order the ask really uses (identity first), per tier
and per form, and the identity field is not moved by ↑ / ↓."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ConfigRevision
from app.services.siteconfig import export_site_config, import_site_config
from tests.console import post_form, table_rows
from tests.factories import Widget, consent_config


@pytest.fixture
def marketer(signed_in):
    signed_in("marketer", "mia@acme.example")


def _revisions() -> int:
    return db.session.scalar(select(func.count()).select_from(ConfigRevision))


def _form_order(html: str, form: str) -> list[tuple[str, str]]:
    """The (key, note) of each question listed under form ``form``'s asking order."""
    block = re.search(rf'<h3 id="order-{form}">.*?</ol>', html, re.S).group(0)
    items = re.findall(r"<li>.*?<code>(\w+)</code>(.*?)</li>", block, re.S)
    return [(key, re.sub(r"<[^>]+>|[()]", "", note).strip()) for key, note in items]


def _move(client, key: str, direction: str):
    page = "/admin/sites/acme/questions"
    return post_form(client, f"/admin/sites/acme/fields/{key}/move", {"direction": direction}, page)


def test_a_tier_lists_the_identity_field_first_as_the_ask_does(client, site, marketer):
    html = client.get("/admin/sites/acme/questions").get_data(as_text=True)
    basics = table_rows(html)[:4]
    assert [(row[0], row[1]) for row in basics] == [
        ("1", "Work email email"),
        ("2", "First name first_name"),
        ("3", "Company company"),
        ("4", "ZIP code zip"),
    ]
    assert basics[0][3] == "identity: asked first while unknown · required · priority 100"
    assert basics[0][5] == "first"  # no arrows: its place does not depend on its priority
    assert 'aria-label="Move Work email' not in html
    assert re.search(r'aria-label="Move First name up" disabled', html)
    assert re.search(r'aria-label="Move ZIP code down" disabled', html)
    assert not re.search(r'aria-label="Move Company up" disabled', html)
    assert Widget(client).ask() == ["email", "first_name", "company"]


def test_each_form_lists_its_questions_in_the_asks_order(client, marketer):
    config = consent_config()
    config["forms"][0].update(always_ask=["zip"], consent={"field": "newsletter"})
    config["forms"].append(
        {"key": "pricing", "title": "Pricing", "max_questions": 2, "tiers": ["qualification"]}
    )
    import_site_config(config)
    html = client.get("/admin/sites/acme/questions").get_data(as_text=True)
    assert _form_order(html, "blog") == [
        ("email", "identity: first while unknown"),
        ("zip", "always asked"),
        ("first_name", ""),
        ("company", ""),
        ("company_size", ""),
        ("industry", ""),
        ("job_title", ""),
        ("employees", ""),
        ("decision_maker", ""),
        ("budget", ""),
        ("timeline", ""),
        ("newsletter", "the consent line, under the questions"),
    ]
    assert _form_order(html, "pricing") == [
        ("decision_maker", ""),
        ("budget", ""),
        ("timeline", ""),
    ]
    assert "Stay in the loop <small>blog · 3 at a time</small>" in html
    assert "Pricing <small>pricing · 2 at a time</small>" in html
    # A new visitor gets the first unlocked ones of that list, its consent line under them.
    assert Widget(client).ask() == ["email", "zip", "first_name", "newsletter"]


def test_the_identity_field_is_not_moved(client, site, marketer):
    before = export_site_config("acme")
    response = _move(client, "email", "down")
    assert response.location == "/admin/sites/acme/questions#field-email"
    html = client.get(response.location).get_data(as_text=True)
    assert (
        "Field &#34;email&#34; was not moved: the identity field is asked first while unknown, "
        "in every form."
    ) in html
    assert _revisions() == 1
    assert export_site_config("acme") == before


def test_the_field_after_the_identity_field_cannot_go_above_it(client, site, marketer):
    before = export_site_config("acme")["fields"]
    response = _move(client, "first_name", "up")
    assert response.status_code == 302
    html = client.get("/admin/sites/acme/questions").get_data(as_text=True)
    assert [row[1] for row in table_rows(html)[:4]] == [
        "Work email email",
        "First name first_name",
        "Company company",
        "ZIP code zip",
    ]
    priorities = {f["key"]: f.get("priority", 100) for f in export_site_config("acme")["fields"]}
    assert priorities == {f["key"]: f.get("priority", 100) for f in before}
