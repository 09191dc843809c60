"""A field made from a form's consent text is asked only as a line: it is created
``pooled: false``, so neither its tier nor a form drawing from every field pulls it in, whether
its form is there, gone, or no longer shows it. A field a config writes itself keeps its tier."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Site
from app.services.errors import Invalid
from app.services.siteconfig import export_site_config, import_site_config, site_snapshot
from tests.factories import ACME_CONFIG, NEWSLETTER, Widget, acme_config
from tests.factories import CONSENT_TEXT as TEXT

PROMO = {"key": "promo", "title": "Promo", "tiers": ["basics"], "consent": {"text": TEXT}}
EVERY = frozenset(field["key"] for field in ACME_CONFIG["fields"])


def pools() -> dict[str, frozenset[str]]:
    return {key: form.rules.pool for key, form in site_snapshot("acme").forms.items()}


@pytest.fixture
def promo(app):
    """Acme with a promo form whose consent line was given as text; the export after it."""
    import_site_config(acme_config(forms=[*ACME_CONFIG["forms"], PROMO]))
    return export_site_config("acme")


def test_the_field_made_from_a_text_line_is_not_pooled(promo):
    assert promo["fields"][-1] == {
        "key": "promo_consent",
        "label": TEXT,
        "kind": "consent",
        "tier": "basics",
        "required": True,
        "pooled": False,
    }
    assert pools()["blog"] == EVERY


def test_a_gone_forms_line_is_not_asked_by_the_other_forms(app, promo):
    promo["forms"] = [form for form in promo["forms"] if form["key"] != "promo"]
    import_site_config(promo)  # the console's "delete form" imports the same way
    assert pools() == {"blog": EVERY}
    assert Widget(app.test_client(), form="blog").ask() == ["email", "first_name", "company"]


def test_a_line_taken_off_its_form_is_not_asked_as_a_question(promo):
    del promo["forms"][1]["consent"]
    import_site_config(promo)
    assert pools()["blog"] == EVERY
    assert "promo_consent" not in pools()["promo"]


def test_an_unpooled_field_is_asked_where_a_form_lists_it(promo):
    promo["forms"][0] |= {"fields": ["promo_consent"], "always_ask": ["promo_consent"]}
    import_site_config(promo)
    assert pools()["blog"] == {"promo_consent"}


def test_a_consent_field_the_config_writes_keeps_its_tier(app):
    import_site_config(acme_config(fields=[*ACME_CONFIG["fields"], NEWSLETTER]))
    assert pools()["blog"] == EVERY | {"newsletter"}


def test_pooled_must_be_true_or_false_and_nothing_is_stored(app):
    fields = [*ACME_CONFIG["fields"], {**NEWSLETTER, "pooled": "no"}]
    with pytest.raises(Invalid) as refused:
        import_site_config(acme_config(fields=fields))
    assert refused.value.fields == {f"fields[{len(fields) - 1}].pooled": ["must be true or false"]}
    assert db.session.scalar(select(func.count()).select_from(Site)) == 0
