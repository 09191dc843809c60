"""The form page's live preview in real Chromium: it follows the editor as you type (nothing is
saved), its frame takes the height of what it shows, and its visitor controls are its own."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import ConfigRevision
from app.services.accounts import create_user
from app.services.siteconfig import export_site_config
from tests.e2e.pages import sign_in
from tests.factories import PASSWORD, acme_config, make_site

DUPLICATE_IDS = """() => {
  const ids = [...document.querySelectorAll('[id]')].map((element) => element.id);
  return ids.filter((id, index) => ids.indexOf(id) != index);
}"""


def _form_page(browser, trickle, height: int = 900):
    create_user("mia@acme.example", "marketer", PASSWORD)
    context = browser.new_context(viewport={"width": 1280, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, trickle.url, "mia@acme.example")
    page.goto(trickle.url + "/admin/sites/acme/forms/blog")
    return page, errors


def _revisions() -> int:
    return db.session.scalar(select(func.count()).select_from(ConfigRevision))


def test_the_preview_follows_the_editor_as_you_type(browser, trickle, app):
    make_site()
    page, errors = _form_page(browser, trickle)
    preview = page.frame_locator('iframe[name="preview"]')
    expect(preview.get_by_role("heading", name="Stay in the loop")).to_be_visible()
    expect(preview.get_by_role("textbox", name="First name")).to_be_visible()

    page.get_by_label("Title", exact=True).fill("Get the report")
    expect(preview.get_by_role("heading", name="Get the report")).to_be_visible()
    page.get_by_label("Submit button").fill("Download")
    expect(preview.get_by_role("button", name="Download")).to_be_visible()
    page.get_by_role("group", name="Always ask").get_by_label("ZIP code (zip)").check()
    expect(preview.get_by_role("textbox")).to_have_count(3)
    expect(preview.get_by_role("textbox", name="ZIP code")).to_be_visible()  # before First name
    expect(preview.get_by_text("Unsaved changes shown.")).to_be_visible()

    page.get_by_label("Questions at a time").fill(
        "0"
    )  # the editor would refuse it: so does the preview
    problems = page.locator(".preview-problems")
    expect(problems).to_have_text(
        "Preview not updated:Questions at a time: Number must be between 1 and 10."
    )
    expect(preview.get_by_role("heading", name="Get the report")).to_be_visible()
    page.get_by_label("Questions at a time").fill("1")
    expect(problems).to_be_hidden()
    expect(preview.get_by_role("textbox")).to_have_count(1)
    expect(preview.get_by_role("textbox", name="Work email")).to_be_visible()

    assert _revisions() == 1  # nothing of it was saved
    assert export_site_config("acme")["forms"][0]["title"] == "Stay in the loop"
    assert page.evaluate(DUPLICATE_IDS) == []
    assert errors == []
    page.context.close()


def test_touching_the_preview_controls_changes_nothing_the_form_saves(browser, trickle, app):
    make_site()
    before = export_site_config("acme")
    page, errors = _form_page(browser, trickle)
    preview = page.frame_locator('iframe[name="preview"]')
    expect(preview.get_by_role("textbox", name="Work email")).to_be_visible()
    assert page.evaluate(DUPLICATE_IDS) == []

    page.get_by_label("Latest stage reached").select_option("late")
    page.get_by_label("Engagement score").fill("12")
    page.get_by_role("group", name="Known fields").get_by_label("Work email (email)").check()
    expect(page.locator("#visitor-stage")).to_have_value("late")
    expect(page.get_by_label("Page stage")).to_have_value("early")  # the form's own, untouched
    expect(
        preview.get_by_text("Visitor: score 12, stage reached late, 1 field known.")
    ).to_be_visible()
    expect(preview.get_by_role("textbox", name="Work email")).to_have_count(0)  # known: not asked

    page.get_by_role("button", name="Save form").click()
    expect(page.get_by_text('Form "blog" saved.')).to_be_visible()
    assert export_site_config("acme") == before
    assert errors == []
    page.context.close()


def test_the_frame_takes_the_height_of_a_long_form(browser, trickle, app):
    config = acme_config()
    config["forms"][0]["max_questions"] = 10
    make_site(config)
    page, errors = _form_page(browser, trickle, height=700)
    frame = page.locator('iframe[name="preview"]')
    preview = page.frame_locator('iframe[name="preview"]')
    page.get_by_label("Engagement score").fill("20")
    page.get_by_label("Latest stage reached").select_option("late")
    submit = preview.get_by_role("button", name="Subscribe")
    expect(preview.get_by_role("radiogroup", name="When do you plan to buy?")).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('iframe[name=preview]').getBoundingClientRect().height > 900"
    )
    content = frame.evaluate("(f) => f.contentDocument.documentElement.scrollHeight")
    box, button = frame.bounding_box(), submit.bounding_box()
    assert abs(box["height"] - content) <= 2  # the whole content, no inner scroll bar
    assert button["y"] + button["height"] <= box["y"] + box["height"]

    # Fewer questions: the frame shrinks back to what it shows.
    page.get_by_label("Questions at a time").fill("1")
    page.wait_for_function(
        "() => document.querySelector('iframe[name=preview]').getBoundingClientRect().height < 520"
    )
    expect(submit).to_be_visible()
    assert errors == []
    page.context.close()


def test_the_preview_speaks_the_language_chosen_before_it_is_saved(browser, trickle, app):
    make_site()
    page, errors = _form_page(browser, trickle)
    preview = page.frame_locator('iframe[name="preview"]')
    expect(preview.get_by_role("button", name="Skip First name")).to_be_visible()

    page.get_by_label("Language", exact=True).select_option("ar")
    card = preview.locator("trickle-form div[lang]")
    expect(card).to_have_attribute("dir", "rtl")
    expect(preview.get_by_role("button", name="تخطي: First name")).to_have_text("تخطي")
    expect(preview.get_by_role("button", name="Subscribe")).to_be_visible()  # its own label
    page.get_by_label("Submit button").fill("")  # now the language's own word
    expect(preview.get_by_role("button", name="إرسال")).to_be_visible()
    page.locator("details#strings summary").click()
    page.get_by_label("skip", exact=True).fill("لاحقًا")
    expect(preview.get_by_role("button", name="تخطي: First name")).to_have_text("لاحقًا")

    assert _revisions() == 1  # nothing of it was saved
    assert "language" not in export_site_config("acme")["forms"][0]
    assert page.evaluate(DUPLICATE_IDS) == []
    assert errors == []
    page.context.close()
