"""A form's consent line (``forms[].consent``) is a consent field: shown last, on top of the
questions at a time, until the contact gives it; a tick is recorded with the words shown, on the
contact page and in webhooks, exactly like a consent asked as a question. An old config's
``consent: {text, required}`` imports as a consent field of its own."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ConsentRecord, Contact, Field, OutboxEvent, ProfileValue, Submission, Visitor
from app.services.accounts import create_user
from app.services.errors import Invalid
from app.services.privacy.consent import NOT_SHOWN
from app.services.siteconfig import export_site_config, import_site_config
from tests.console import sign_in, table_rows
from tests.factories import ACME_CONFIG, NEWSLETTER, PASSWORD, Widget, acme_config
from tests.factories import CONSENT_TEXT as TEXT
from tests.factories import CONSENT_VERSION as VERSION

EMAIL = "ada@acme-corp.example"


def case_study(required: bool = False, **consent) -> dict:
    """Acme with a case-study form (two questions at a time) whose consent line is newsletter."""
    newsletter = {**NEWSLETTER, "required": required}
    form = {
        "key": "case_study",
        "title": "Read the full case study",
        "max_questions": 2,
        "tiers": ["basics"],
        "consent": consent or {"field": "newsletter"},
    }
    fields = [*ACME_CONFIG["fields"], newsletter] if not consent else ACME_CONFIG["fields"]
    return acme_config(fields=fields, forms=[*ACME_CONFIG["forms"], form])


@pytest.fixture
def optional(app):
    import_site_config(case_study())
    return app.test_client()


def records():
    return [
        (r.granted, r.text, r.version, r.form_key, r.source, r.recorded_at.isoformat())
        for r in db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id))
    ]


def consents_forwarded():
    return [
        e.payload["consents"]
        for e in db.session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.type == "contact.updated")
            .order_by(OutboxEvent.id)
        )
    ]


def stored(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_ticked_form_consent_is_recorded_shown_and_forwarded(optional, clock):
    widget = Widget(optional, form="case_study")
    assert widget.ask() == ["email", "first_name", "newsletter"]  # last, beyond the two
    answers = {"email": EMAIL, "first_name": "Ada", "newsletter": True}
    assert widget.submit(answers).status_code == 200

    contact, visitor = db.session.scalar(select(Contact)), db.session.scalar(select(Visitor))
    at = clock().isoformat()
    assert records() == [(True, TEXT, VERSION, "case_study", "form", at)]
    record = db.session.scalar(select(ConsentRecord))
    assert (record.contact_id, record.visitor_id) == (contact.id, visitor.id)
    values = db.session.execute(
        select(Field.key, ProfileValue.value).join(Field, Field.id == ProfileValue.field_id)
    )
    assert dict(values.all())["newsletter"] is True  # the profile value mirrors the record
    given = {
        "granted": True,
        "version": VERSION,
        "form": "case_study",
        "source": "form",
        "at": at.replace("+00:00", "Z"),
    }
    assert consents_forwarded() == [{"newsletter": given}]
    assert widget.ask() == ["company", "zip"]  # given: the line is not shown again

    create_user("ann@acme.example", "analyst", PASSWORD)
    sign_in(optional, "ann@acme.example")
    html = optional.get(f"/admin/sites/acme/contacts/{contact.id}").get_data(as_text=True)
    start = html.index('id="consent"')
    assert table_rows(html[start : html.index("</section>", start)]) == [
        ["Email me product news newsletter", "Given", VERSION, "form case_study", "2026-03-02 09:00 UTC", ""]
    ]  # fmt: skip


def test_an_unticked_optional_line_records_nothing_and_is_shown_again(optional, clock):
    widget = Widget(optional, form="case_study")
    widget.ask()
    assert widget.submit({"email": EMAIL, "first_name": "Ada"}).status_code == 200
    assert records() == []
    assert consents_forwarded() == [{}]
    assert widget.ask() == ["company", "zip", "newsletter"]


def test_a_refused_or_withdrawn_line_is_shown_again(optional, clock):
    refuses = Widget(optional, form="case_study")
    refuses.ask()
    assert refuses.submit({"email": EMAIL, "newsletter": False}).status_code == 200
    assert refuses.ask() == ["first_name", "company", "newsletter"]

    gives = Widget(optional, form="case_study")
    gives.ask()
    assert gives.submit({"email": "bo@acme-corp.example", "newsletter": True}).status_code == 200
    assert "newsletter" not in gives.ask()
    withdrawn = gives.post(
        "/consents/withdraw", {"visitor": gives.visitor, "fields": ["newsletter"]}
    )
    assert withdrawn.status_code == 200
    assert gives.ask() == ["first_name", "company", "newsletter"]


def test_the_line_is_not_drawn_into_another_forms_pool(optional):
    widget = Widget(optional, form="blog")  # every field of the site
    assert widget.ask() == ["email", "first_name", "company"]


def test_a_required_line_left_unticked_is_422_and_nothing_is_stored(app, clock):
    import_site_config(case_study(required=True))
    widget = Widget(app.test_client(), form="case_study")
    widget.ask()
    response = widget.submit({"email": EMAIL, "first_name": "Ada"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"newsletter": ["This question is required."]}
    refused = widget.submit({"email": EMAIL, "first_name": "Ada", "newsletter": False})
    assert refused.get_json()["error"]["fields"] == {"newsletter": ["Consent is required."]}
    assert (stored(ProfileValue), stored(Submission), stored(ConsentRecord)) == (0, 0, 0)
    assert widget.submit({"email": EMAIL, "newsletter": True}).status_code == 200
    assert records() == [(True, TEXT, VERSION, "case_study", "form", clock().isoformat())]


def test_a_consent_the_ask_did_not_offer_is_refused_and_nothing_is_stored(optional):
    widget = Widget(optional, form="blog")  # the blog form never shows the line
    widget.ask()
    response = widget.submit({"email": EMAIL, "newsletter": True})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"newsletter": [NOT_SHOWN]}
    assert (stored(ProfileValue), stored(Submission), stored(ConsentRecord)) == (0, 0, 0)


def test_an_old_configs_consent_text_imports_as_a_consent_field(app, clock):
    import_site_config(case_study(text=TEXT, required=True))
    exported = export_site_config("acme")
    assert exported["fields"][-1] == {
        "key": "case_study_consent",
        "label": TEXT,
        "kind": "consent",
        "tier": "basics",
        "required": True,
        "pooled": False,
    }
    assert exported["forms"][1]["consent"] == {"field": "case_study_consent"}
    import_site_config(exported)  # the upgraded file imports as it is
    assert export_site_config("acme") == exported

    client = app.test_client()
    response = client.post(
        "/api/v1/sites/acme/forms/case_study/ask", json={"page": {"url": "https://x.example/"}}
    )
    line = response.get_json()["questions"][-1]
    assert line == {
        "key": "case_study_consent",
        "label": TEXT,
        "kind": "consent",
        "required": True,
        "line": True,
    }
    assert "consent" not in response.get_json()["form"]
    widget = Widget(client, form="case_study")
    widget.ask()
    assert widget.submit({"email": EMAIL, "case_study_consent": True}).status_code == 200
    assert records() == [(True, TEXT, VERSION, "case_study", "form", clock().isoformat())]


def test_a_long_old_consent_text_is_split_at_a_blank_line_and_reads_back_whole(app):
    text = "L" * 480 + "\n\n" + "H" * 600
    import_site_config(case_study(text=text))
    field = export_site_config("acme")["fields"][-1]
    assert (field["label"], field["help"], field["required"]) == ("L" * 480, "H" * 600, True)


@pytest.mark.parametrize(
    ("consent", "fields", "problems"),
    [
        pytest.param(
            {"field": "email"},
            None,
            {"forms[1].consent.field": ['field "email" is not of kind consent']},
            id="not a consent field",
        ),
        pytest.param(
            {"field": "nope"},
            None,
            {"forms[1].consent.field": ['unknown field "nope"']},
            id="unknown field",
        ),
        pytest.param(
            {"field": "newsletter", "text": "Hi"},
            None,
            {"forms[1].consent": ["needs exactly one of: field, text"]},
            id="field and text",
        ),
        pytest.param(
            {"required": True},
            None,
            {"forms[1].consent": ["needs exactly one of: field, text"]},
            id="neither",
        ),
        pytest.param(
            {"field": "newsletter", "required": False},
            None,
            {
                "forms[1].consent.required": [
                    "only with text; the consent field says whether it is required"
                ]
            },
            id="required beside a field",
        ),
        pytest.param(
            {"text": "Hi"},
            [*ACME_CONFIG["fields"], {**NEWSLETTER, "key": "case_study_consent"}],
            {
                "forms[1].consent.text": [
                    'becomes the consent field "case_study_consent", a key already used by a'
                    " field: name a consent field with field instead"
                ]
            },
            id="text whose field key is taken",
        ),
        pytest.param(
            {"text": "x" * 600},
            None,
            {
                "forms[1].consent.text": [
                    "a consent text over 500 characters needs a blank line within its first"
                    " 500 (or name a consent field with field)"
                ]
            },
            id="long text without a blank line",
        ),
    ],
)
def test_a_bad_consent_line_is_refused_with_its_path_and_nothing_is_stored(
    app, consent, fields, problems
):
    config = case_study()
    config["forms"][1]["consent"] = consent
    if fields is not None:
        config["fields"] = fields
    with pytest.raises(Invalid) as refused:
        import_site_config(config)
    assert refused.value.fields == problems
    from app.models import Site

    assert stored(Site) == 0
