"""Configure pages: sites, tiers, fields, forms; validation, permissions, history, preview."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ConfigRevision, Field, Site, Tier
from app.services.siteconfig import export_site_config, import_site_config
from tests.console import csrf_token, field_errors, post_form, table_rows
from tests.factories import acme_config, consent_config


@pytest.fixture
def marketer(signed_in):
    signed_in("marketer", "mia@acme.example")


@pytest.fixture
def analyst(signed_in):
    signed_in("analyst", "ann@acme.example")


def revisions() -> int:
    return db.session.scalar(select(func.count()).select_from(ConfigRevision))


TIER = {
    "key": "intent",
    "label": "Buying intent",
    "rank": "4",
    "min_score": "20",
    "min_stage": "mid",
}
FIELD = {
    "key": "use_case",
    "label": "What will you use it for?",
    "kind": "select",
    "tier": "basics",
    "priority": "5",
    "scope": "contact",
    "options": "Reporting\nforecast | Forecasting",
    "ask_if_field": "",
    "ask_if_op": "equals",
}


def test_a_marketer_creates_a_tier_recorded_in_the_history(client, site, marketer):
    response = post_form(client, "/admin/sites/acme/tiers/new", TIER)
    assert (response.status_code, response.location) == (302, "/admin/sites/acme/questions")
    tiers = export_site_config("acme")["tiers"]
    assert tiers[-1] == {
        "key": "intent",
        "rank": 4,
        "min_score": 20,
        "min_stage": "mid",
        "label": "Buying intent",
    }
    latest = db.session.scalars(
        select(ConfigRevision).order_by(ConfigRevision.version.desc())
    ).first()
    assert (latest.version, latest.author) == (2, "mia@acme.example")
    html = client.get("/admin/sites/acme/questions").get_data(as_text=True)
    assert "Tier &#34;intent&#34; saved." in html
    assert "Buying intent" in html


def test_a_marketer_creates_a_field_with_options(client, site, marketer):
    response = post_form(client, "/admin/sites/acme/fields/new", FIELD)
    assert response.status_code == 302
    field = export_site_config("acme")["fields"][-1]
    assert field == {
        "key": "use_case",
        "label": "What will you use it for?",
        "kind": "select",
        "tier": "basics",
        "priority": 5,
        "options": ["Reporting", {"value": "forecast", "label": "Forecasting"}],
    }


def test_editing_a_field_keeps_its_key_and_round_trips(client, site, marketer):
    html = client.get("/admin/sites/acme/fields/budget").get_data(as_text=True)
    assert '<option selected value="decision_maker">' in html
    assert "&lt; 10k\n10k-100k\n&gt; 100k" in html
    before = export_site_config("acme")
    data = {
        "key": "renamed",  # ignored: keys never change
        "label": "Budget this year",
        "kind": "select",
        "tier": "qualification",
        "priority": "20",
        "scope": "contact",
        "options": "< 10k\n10k-100k\n> 100k",
        "ask_if_field": "decision_maker",
        "ask_if_op": "equals",
        "ask_if_value": "yes",
    }
    response = post_form(client, "/admin/sites/acme/fields/budget", data)
    assert response.status_code == 302
    assert export_site_config("acme") == before  # the same values: nothing changed
    assert revisions() == 2  # still recorded: someone saved


def test_a_condition_value_is_typed_like_the_field_it_tests(client, site, marketer):
    data = {**FIELD, "ask_if_field": "employees", "ask_if_op": "in", "ask_if_value": "10\n50"}
    assert post_form(client, "/admin/sites/acme/fields/new", data).status_code == 302
    assert export_site_config("acme")["fields"][-1]["ask_if"] == {
        "field": "employees",
        "in": [10, 50],
    }


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {**FIELD, "key": "Bad Key", "label": ""},
            {
                "key": "Use lower-case letters, digits and _, starting with a letter (at most 64).",
                "label": "This field is required.",
            },
        ),
        ({**FIELD, "options": ""}, {"options": "A select needs at least one option."}),
        ({**FIELD, "priority": "soon"}, {"priority": "Not a valid integer value."}),
        (
            {**FIELD, "ask_if_field": "zip", "ask_if_value": ""},
            {"ask_if_value": "Enter the value the answer must have."},
        ),
        # Found by the config importer, shown next to the same inputs:
        ({**FIELD, "key": "company"}, {"key": "this key is taken"}),
        (
            {**FIELD, "kind": "text", "options": "a\nb"},
            {"options": "only for kinds select and multiselect"},
        ),
        (
            {**FIELD, "kind": "text", "identity": "y", "options": ""},
            {
                "identity": "the identity field must be of kind email "
                "only one field can be the identity; fields[0] already is"
            },
        ),
    ],
)
def test_invalid_input_comes_back_with_messages_and_saves_nothing(
    client, site, marketer, data, errors
):
    before = export_site_config("acme")
    response = post_form(client, "/admin/sites/acme/fields/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(html) == errors
    assert html.count('aria-invalid="true"') == len(errors)
    assert export_site_config("acme") == before
    assert revisions() == 1


def test_a_label_with_markup_is_text_in_the_console(client, site, marketer):
    data = {**FIELD, "label": '<img src=x onerror="alert(1)">'}
    assert post_form(client, "/admin/sites/acme/fields/new", data).status_code == 302
    html = client.get("/admin/sites/acme/questions").get_data(as_text=True)
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "<img src=x" not in html


def test_deleting_a_tier_that_fields_use_is_refused(client, site, marketer):
    response = post_form(
        client,
        "/admin/sites/acme/tiers/firmographics/delete",
        {},
        "/admin/sites/acme/tiers/firmographics",
    )
    assert response.location == "/admin/sites/acme/tiers/firmographics"
    html = client.get(response.location).get_data(as_text=True)
    assert (
        "Tier &#34;firmographics&#34; was not deleted. Move &#34;company_size&#34;, "
        "&#34;industry&#34;, &#34;job_title&#34; and &#34;employees&#34; to another tier "
        "(or delete them) first."
    ) in html
    assert db.session.scalar(select(Tier.archived_at).where(Tier.key == "firmographics")) is None
    assert revisions() == 1


def test_deleting_an_unused_tier_archives_it_and_drops_it_from_forms(client, site, marketer):
    config = acme_config()
    config["tiers"].append({"key": "spare", "rank": 9})
    config["forms"][0]["tiers"] = ["basics", "spare"]
    import_site_config(config)
    page = "/admin/sites/acme/tiers/spare"
    response = post_form(client, page + "/delete", {}, page)
    assert response.location == "/admin/sites/acme/questions"
    assert [t["key"] for t in export_site_config("acme")["tiers"]] == [
        "basics",
        "firmographics",
        "qualification",
    ]
    assert export_site_config("acme")["forms"][0]["tiers"] == ["basics"]
    assert db.session.scalar(select(Tier.archived_at).where(Tier.key == "spare")) is not None


def test_deleting_a_field_another_field_depends_on_is_refused(client, site, marketer):
    page = "/admin/sites/acme/fields/decision_maker"
    response = post_form(client, page + "/delete", {}, page)
    html = client.get(response.location).get_data(as_text=True)
    assert (
        "Field &#34;decision_maker&#34; was not deleted. Field &#34;budget&#34;, ask_if.field: "
        "unknown field &#34;decision_maker&#34;"
    ) in html
    assert db.session.scalar(select(Field.archived_at).where(Field.key == "decision_maker")) is None


def test_deleting_a_field_takes_it_out_of_forms(client, site, marketer):
    config = acme_config()
    config["forms"][0].update(fields=["zip", "company"], always_ask=["zip"])
    import_site_config(config)
    page = "/admin/sites/acme/fields/zip"
    assert post_form(client, page + "/delete", {}, page).status_code == 302
    form = export_site_config("acme")["forms"][0]
    assert (form["fields"], form.get("always_ask")) == (["company"], None)


def test_deleting_a_consent_field_takes_the_consent_line_off_its_form(client, site, marketer):
    config = consent_config()
    config["forms"][0]["consent"] = {"field": "newsletter"}
    import_site_config(config)
    page = "/admin/sites/acme/fields/newsletter"
    assert post_form(client, page + "/delete", {}, page).status_code == 302
    assert "consent" not in export_site_config("acme")["forms"][0]


def test_moving_a_field_renumbers_its_tier(client, site, marketer):
    response = post_form(
        client,
        "/admin/sites/acme/fields/zip/move",
        {"direction": "up"},
        "/admin/sites/acme/questions",
    )
    assert response.location == "/admin/sites/acme/questions#field-zip"
    basics = [
        (f["key"], f.get("priority", 100))
        for f in export_site_config("acme")["fields"]
        if f["tier"] == "basics"
    ]
    assert sorted(basics, key=lambda kp: kp[1]) == [  # the identity field keeps its own
        ("first_name", 10),
        ("zip", 20),
        ("company", 30),
        ("email", 100),
    ]


def test_a_save_against_an_old_version_is_refused(client, site, marketer):
    html = client.get("/admin/sites/acme/tiers/basics").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    import_site_config(acme_config(site={**acme_config()["site"], "name": "Renamed"}))
    data = {"csrf_token": token, "version": "1", "label": "Mine", "rank": "1", "min_score": "0"}
    response = client.post("/admin/sites/acme/tiers/basics", data=data)
    assert response.status_code == 409
    assert "Someone changed this site&#39;s config while you were editing" in response.get_data(
        as_text=True
    )
    assert export_site_config("acme")["tiers"][0].get("label") is None


def test_a_form_is_edited_with_its_pool(client, site, marketer):
    data = {
        "title": "Get the newsletter",
        "stage": "early",
        "max_questions": "2",
        "submit_label": "Go",
        "thank_you": "Thanks!",
        "tiers": ["basics"],
        "fields": ["job_title"],
        "always_ask": ["email"],
    }
    assert post_form(client, "/admin/sites/acme/forms/blog", data).status_code == 302
    assert export_site_config("acme")["forms"][0] == {
        "key": "blog",
        "title": "Get the newsletter",
        "stage": "early",
        "max_questions": 2,
        "submit_label": "Go",
        "thank_you": "Thanks!",
        "always_ask": ["email"],
        "tiers": ["basics"],
        "fields": ["job_title"],
    }


def test_a_forms_consent_line_is_one_of_the_consent_fields(client, site, marketer):
    import_site_config(consent_config())
    page = client.get("/admin/sites/acme/forms/blog").get_data(as_text=True)
    select_html = page[
        page.index('id="consent_field"') : page.index("</select>", page.index('id="consent_field"'))
    ]
    assert re.findall(r'<option[^>]*value="([^"]*)"', select_html) == ["", "newsletter"]
    assert "until the visitor gives it" in unescape(page)
    assert "sent to destinations in webhooks" in unescape(page)
    data = {"title": "Blog", "max_questions": "3", "submit_label": "Go", "thank_you": "Thanks"}

    refused = post_form(client, "/admin/sites/acme/forms/blog", {**data, "consent_field": "email"})
    assert refused.status_code == 422
    assert field_errors(refused.get_data(as_text=True)) == {"consent_field": "Not a valid choice."}
    assert "consent" not in export_site_config("acme")["forms"][0]

    saved = post_form(
        client, "/admin/sites/acme/forms/blog", {**data, "consent_field": "newsletter"}
    )
    assert saved.status_code == 302
    assert export_site_config("acme")["forms"][0]["consent"] == {"field": "newsletter"}
    page = client.get("/admin/sites/acme/forms/blog").get_data(as_text=True)
    assert re.search(r'<option selected value="newsletter">', page)


def test_a_new_form_with_bad_numbers_is_refused(client, site, marketer):
    data = {
        "key": "popup",
        "title": "",
        "max_questions": "11",
        "submit_label": "Go",
        "thank_you": "x",
    }
    response = post_form(client, "/admin/sites/acme/forms/new", data)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == {
        "title": "This field is required.",
        "max_questions": "Number must be between 1 and 10.",
    }
    assert [f["key"] for f in export_site_config("acme")["forms"]] == ["blog"]


def test_the_form_page_shows_the_embed_snippet_and_the_preview(client, site, marketer):
    html = client.get("/admin/sites/acme/forms/blog").get_data(as_text=True)
    assert (
        '<code id="embed-snippet">&lt;script async src=&#34;http://localhost/widget.js&#34; '
        "data-site=&#34;acme&#34; data-form=&#34;blog&#34; data-stage=&#34;early&#34;&gt;"
        "&lt;/script&gt;</code>"
    ) in html
    assert (
        '<iframe name="preview" title="Live preview of blog" src="/admin/sites/acme/forms/blog/preview">'
        in html
    )


def test_site_settings_and_engagement_weights(client, site, marketer):
    page = client.get("/admin/sites/acme/settings").get_data(as_text=True)
    kinds = re.findall(r'name="engagement-weights-(\d+)-kind"[^>]*value="(\w*)"', page)
    assert [k for _, k in kinds] == [
        "page_view",
        "content_download",
        "video_play",
        "webinar",
        "email_click",
        "form_submit",
        "",  # a blank row to add a kind
    ]
    rows = {
        "name": "Acme Inc",
        "origins": "https://www.acme.example\nhttps://docs.acme.example",
        "skip_cooldown": "5",
        "half_life_days": "30",
        "followup_hours": "24",
    }
    defaults = {"page_view": 1, "content_download": 3, "video_play": 2, "webinar": 5}
    for i, (kind, weight) in enumerate({**defaults, "email_click": 1, "form_submit": 2}.items()):
        rows[f"engagement-weights-{i}-kind"] = kind
        rows[f"engagement-weights-{i}-weight"] = str(weight)
    rows["engagement-weights-1-weight"] = "4"  # content_download: 3 → 4
    rows["engagement-weights-6-kind"] = "demo_request"
    rows["engagement-weights-6-weight"] = "8"
    rows["engagement-weights-6-stage"] = "late"
    response = post_form(client, "/admin/sites/acme/settings", rows)
    assert response.status_code == 302
    config = export_site_config("acme")
    assert config["site"] == {
        "key": "acme",
        "name": "Acme Inc",
        "origins": ["https://www.acme.example", "https://docs.acme.example"],
        "skip_cooldown": 5,
        "half_life_days": 30,
        "followup_hours": 24,
        "definition_approval": False,  # not on the page: kept as the config had it
    }
    assert config["engagement"] == {
        "content_download": 4,
        "demo_request": {"weight": 8, "stage": "late"},
    }


def test_a_bad_origin_is_shown_next_to_origins(client, site, marketer):
    data = {
        "name": "Acme",
        "origins": "https://acme.example/",
        "skip_cooldown": "3",
        "followup_hours": "48",
    }
    response = post_form(client, "/admin/sites/acme/settings", data)
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True))
    assert errors == {
        "origins": "must be an origin like &#34;https://www.example.com&#34;: http or https, "
        "host, optional port, lower case, no path or trailing slash"
    }
    assert export_site_config("acme")["site"]["origins"] == ["https://www.acme.example"]


def test_retention_is_set_in_the_site_settings_and_cleared_by_emptying_it(client, site, marketer):
    settings = {
        "name": "Acme Analytics",
        "origins": "https://www.acme.example",
        "skip_cooldown": "3",
        "followup_hours": "48",
    }
    days = {"anonymous_retention_days": "30", "delivery_retention_days": "90"}
    response = post_form(client, "/admin/sites/acme/settings", {**settings, **days})
    assert response.status_code == 302
    site_entry = {
        "key": "acme",
        "name": "Acme Analytics",
        "origins": ["https://www.acme.example"],
        "definition_approval": False,  # not on the page: kept as the config had it
    }
    assert export_site_config("acme")["site"] == {
        **site_entry,
        "anonymous_retention_days": 30,
        "delivery_retention_days": 90,
    }
    page = client.get("/admin/sites/acme/settings").get_data(as_text=True)
    assert re.search(r'id="anonymous_retention_days"[^>]*value="30"', page)
    assert re.search(r'id="delivery_retention_days"[^>]*value="90"', page)

    bad = {"anonymous_retention_days": "0", "delivery_retention_days": "ten"}
    response = post_form(client, "/admin/sites/acme/settings", {**settings, **bad})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == {
        "anonymous_retention_days": "Number must be between 1 and 36500.",
        "delivery_retention_days": "Not a valid integer value.",
    }

    empty = {"anonymous_retention_days": "", "delivery_retention_days": ""}
    response = post_form(client, "/admin/sites/acme/settings", {**settings, **empty})
    assert response.status_code == 302
    assert export_site_config("acme")["site"] == site_entry


def test_a_marketer_creates_a_site_that_works_at_once(client, app, marketer):
    response = post_form(
        client,
        "/admin/sites/new",
        {"key": "globex", "name": "Globex", "origins": "https://globex.example"},
    )
    assert response.location == "/admin/sites/globex/questions"
    config = export_site_config("globex")
    assert [f["key"] for f in config["fields"]] == ["email"]
    ask = client.post("/api/v1/sites/globex/forms/newsletter/ask", json={})
    assert [q["key"] for q in ask.get_json()["questions"]] == ["email"]
    again = post_form(client, "/admin/sites/new", {"key": "globex", "name": "Other"})
    assert again.status_code == 422
    assert field_errors(again.get_data(as_text=True)) == {"key": "a site with this key exists"}
    assert db.session.scalar(select(func.count()).select_from(Site)) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sites/acme/tiers/basics",
        "/admin/sites/acme/fields/zip",
        "/admin/sites/acme/forms/blog",
        "/admin/sites/acme/settings",
    ],
)
def test_an_analyst_reads_but_cannot_change(client, site, analyst, path):
    html = client.get(path).get_data(as_text=True)
    assert "Read only: marketers change the configuration." in html
    assert '<fieldset class="plain" disabled>' in html
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "label": "x"})
    assert response.status_code == 403
    assert revisions() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sites/acme/tiers/new",
        "/admin/sites/acme/fields/new",
        "/admin/sites/acme/forms/new",
        "/admin/sites/new",
        "/admin/sites/acme/tiers/basics/delete",
        "/admin/sites/acme/fields/zip/move",
    ],
)
def test_an_analyst_cannot_create_delete_or_move(client, site, analyst, path):
    response = client.post(path, data={"csrf_token": csrf_token(client, "/admin/")})
    assert response.status_code == 403
    assert revisions() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sites/acme/tiers/new",
        "/admin/sites/acme/tiers/basics/delete",
        "/admin/sites/acme/fields/zip/move",
        "/admin/sites/acme/settings",
    ],
)
def test_a_missing_csrf_token_saves_nothing(client, site, marketer, path):
    response = client.post(path, data={**TIER, "direction": "up", "version": "1"})
    assert response.status_code in (400, 422)
    assert revisions() == 1
    assert export_site_config("acme") == export_site_config("acme")


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sites/nope/questions",
        "/admin/sites/nope/settings",
        "/admin/sites/acme/tiers/nope",
        "/admin/sites/acme/fields/nope",
        "/admin/sites/acme/forms/nope",
        "/admin/sites/acme/forms/nope/preview",
        "/admin/sites/nope/forms",
    ],
)
def test_unknown_keys_are_404(client, site, marketer, path):
    assert client.get(path).status_code == 404


def test_unknown_keys_in_posts_are_404(client, site, marketer):
    token = csrf_token(client, "/admin/")
    for path in ("/admin/sites/acme/fields/nope/move", "/admin/sites/acme/forms/nope/delete"):
        assert client.post(path, data={"csrf_token": token, "direction": "up"}).status_code == 404


def test_the_site_navigation_and_switcher(client, site, marketer):
    config = acme_config(site={"key": "globex", "name": "Globex"})
    import_site_config(config)
    html = client.get("/admin/sites/acme/fields/zip").get_data(as_text=True)
    assert '<a href="/admin/sites/acme/questions" aria-current="page">Questions</a>' in html
    assert '<option value="globex">Globex (globex)</option>' in html
    assert '<input type="hidden" name="section" value="admin.questions">' in html
    response = client.get("/admin/switch?site=globex&section=admin.contacts")
    assert response.location == "/admin/sites/globex/contacts"
    assert client.get("/admin/switch?site=globex&section=evil").location == (
        "/admin/sites/globex/dashboard"
    )
    assert client.get("/admin/switch?site=nope").location == "/admin/"


def test_the_preview_page_may_be_framed_only_by_the_console(client, site, marketer):
    response = client.get("/admin/sites/acme/forms/blog/preview")
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert client.get("/admin/sites/acme/forms/blog").headers["X-Frame-Options"] == "DENY"


def preview_api(client, query: str = "") -> str:
    html = client.get("/admin/sites/acme/forms/blog/preview" + query).get_data(as_text=True)
    return re.search(r'data-api="([^"]+)"', html).group(1)


def test_the_preview_api_asks_a_made_up_visitor_and_stores_nothing(client, site, marketer):
    api = preview_api(
        client,
        "?visitor-score=12&visitor-stage=late&visitor-known=email&visitor-known=first_name"
        "&visitor-known=company&visitor-known=zip",
    )
    ask = client.post(api + "/api/v1/sites/acme/forms/blog/ask", json={"page": {"stage": "late"}})
    body = ask.get_json()
    assert [q["key"] for q in body["questions"]] == ["company_size", "industry", "job_title"]
    assert "visitor" not in body
    bad = client.post(
        api + "/api/v1/sites/acme/forms/blog/submit",
        json={"ask_token": body["ask_token"], "answers": {"company_size": "huge"}},
    )
    assert bad.status_code == 422
    assert list(bad.get_json()["error"]["fields"]) == ["company_size"]
    good = client.post(
        api + "/api/v1/sites/acme/forms/blog/submit",
        json={"ask_token": body["ask_token"], "answers": {"company_size": "1-10"}},
    )
    assert good.get_json() == {"complete": False, "message": "Thanks!"}
    event = client.post(api + "/api/v1/sites/acme/events", json={"kind": "page_view"})
    assert event.status_code == 202
    from app.models import Contact, EngagementEvent, Visitor

    for model in (Contact, Visitor, EngagementEvent):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_a_forged_or_foreign_preview_token_is_404(client, site, marketer):
    api = preview_api(client)
    forged = api[:-3] + "xyz"
    assert client.post(forged + "/api/v1/sites/acme/forms/blog/ask", json={}).status_code == 404
    other_form = config_with_second_form()
    import_site_config(other_form)
    response = client.post(api + "/api/v1/sites/acme/forms/pricing/ask", json={})
    assert response.status_code == 404


def config_with_second_form() -> dict:
    config = acme_config()
    config["forms"].append({"key": "pricing", "title": "Pricing"})
    return config


def test_a_preview_token_expires(client, site, marketer, clock):
    api = preview_api(client)
    clock.advance(hours=5)
    response = client.post(api + "/api/v1/sites/acme/forms/blog/ask", json={})
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == (
        "This preview has expired; reload the console page."
    )


def test_another_origin_cannot_drive_the_preview(client, site, marketer):
    api = preview_api(client)
    response = client.post(
        api + "/api/v1/sites/acme/forms/blog/ask",
        json={},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def field_page_round_trip(client, key: str) -> dict:
    """Open a field's editor and save it unchanged, as a browser would; return the entry."""
    html = client.get(f"/admin/sites/acme/fields/{key}").get_data(as_text=True)
    data: dict = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name, value = re.search(r'name="([\w-]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag and " checked" not in tag:
            continue
        data[name.group(1)] = unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([\w-]+)"[^>]*>\n?([^<]*)</textarea>', html):
        data[name] = unescape(body)
    for name, options in re.findall(r'<select[^>]*name="([\w-]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', options)
        data[name] = unescape(chosen.group(1)) if chosen else ""
    for name in ("csrf_token", "version"):
        data.pop(name, None)
    response = post_form(client, f"/admin/sites/acme/fields/{key}", data)
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    return next(f for f in export_site_config("acme")["fields"] if f["key"] == key)


@pytest.mark.parametrize(
    "changes",
    [
        {"ask_if": {"field": "company", "known": False}},
        {"ask_if": {"field": "company", "known": True}},
        {"ask_if": {"field": "industry", "in": ["Software, SaaS", "Retail"]}},
        {"ask_if": {"field": "employees", "equals": 50}},
        {"kind": "select", "options": ["A|B", {"value": "c", "label": "See | C"}, "plain"]},
        {"help": "Line one\nline two", "refresh_after_days": 90, "required": True},
        {"overwrite": "claimed"},
        {"pooled": False},
    ],
)
def test_saving_a_field_unchanged_keeps_every_setting(client, marketer, changes):
    config = acme_config()
    config["fields"][6] = {**config["fields"][6], **changes}  # job_title
    import_site_config(config)
    before = next(f for f in export_site_config("acme")["fields"] if f["key"] == "job_title")
    assert field_page_round_trip(client, "job_title") == before


def test_saving_a_form_keeps_the_always_ask_order(client, marketer):
    config = acme_config()
    config["forms"][0]["always_ask"] = ["company", "email"]
    import_site_config(config)
    data = {
        "title": "Stay in the loop",
        "stage": "early",
        "max_questions": "3",
        "submit_label": "Subscribe",
        "thank_you": "Thanks!",
        "always_ask": ["email", "company", "zip"],
    }
    assert post_form(client, "/admin/sites/acme/forms/blog", data).status_code == 302
    assert export_site_config("acme")["forms"][0]["always_ask"] == ["company", "email", "zip"]


@pytest.mark.parametrize("section", ["fields", "tiers"])
def test_deleting_what_a_form_only_asks_is_refused(client, marketer, section):
    config = acme_config()
    config["fields"].append({"key": "hobby", "label": "Hobby", "kind": "text", "tier": "spare"})
    config["tiers"].append({"key": "spare", "rank": 9})
    config["forms"].append(
        {"key": "jobs", "title": "Jobs", **{section: ["hobby" if section == "fields" else "spare"]}}
    )
    import_site_config(config)
    key = "hobby" if section == "fields" else "spare"
    if section == "tiers":  # a tier with fields is refused anyway: empty it first
        config["fields"].pop()
        import_site_config(config)
    page = f"/admin/sites/acme/{section}/{key}"
    response = post_form(client, page + "/delete", {}, page)
    html = client.get(response.location).get_data(as_text=True)
    assert (
        "It is the only question source of form &#34;jobs&#34;: without it the form would ask "
        "every field of the site. Add other tiers or fields to the form first."
    ) in html
    assert export_site_config("acme")["forms"][1][section] == [key]


@pytest.mark.parametrize("value", ["sNaN", "nan", "inf", "-Infinity"])
def test_numbers_that_are_not_finite_get_a_message(client, site, marketer, value):
    response = post_form(
        client, "/admin/sites/acme/tiers/basics", {"rank": "1", "min_score": value}
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == {"min_score": "Enter a number."}
    assert (
        client.get(f"/admin/sites/acme/forms/blog/preview?visitor-score={value}").status_code == 200
    )
    assert client.get(f"/admin/sites/acme/explain?form=blog&score={value}").status_code == 200


@pytest.mark.parametrize("version", ["²", "9" * 5000, "-1", "x"])
def test_an_odd_version_is_treated_as_the_current_one(client, site, marketer, version):
    html = client.get("/admin/sites/acme/tiers/basics").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    data = {
        "csrf_token": token,
        "version": version,
        "label": "Basics",
        "rank": "1",
        "min_score": "0",
    }
    assert client.post("/admin/sites/acme/tiers/basics", data=data).status_code == 302
    assert export_site_config("acme")["tiers"][0]["label"] == "Basics"


def test_the_key_new_is_reserved(client, site, marketer):
    response = post_form(client, "/admin/sites/acme/tiers/new", {**TIER, "key": "new"})
    assert field_errors(response.get_data(as_text=True)) == {
        "key": "&#34;new&#34; is reserved: choose another key."
    }


def test_the_questions_page_shows_where_an_unpooled_line_is_asked(client, marketer):
    promo = {"key": "promo", "title": "Promo", "tiers": ["basics"], "consent": {"text": "Ok?"}}
    jobs = {"key": "jobs", "title": "Jobs", "tiers": ["basics"]}
    config = acme_config()
    import_site_config({**config, "forms": [*config["forms"], promo, jobs]})
    html = client.get("/admin/sites/acme/questions").get_data(as_text=True)
    row = next(row for row in table_rows(html) if "promo_consent" in row[1])
    assert row[2:5] == [
        "consent",
        "only where a form lists it · required · priority 100",
        "Promo",
    ]
