"""A form: a placement of the widget on pages, which questions it draws from and how it reads (an
entry of the config's ``forms``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.admin.config_forms.entries import KEY_HELP, STAGE_CHOICES, entry_key
from app.admin.config_forms.language import (
    fallback_strings,
    language_field,
    load_strings,
    show_defaults,
    strings_entry,
    strings_field,
)
from app.admin.forms import CheckboxesField, blank_none, number_parsed


def _consents(fields: Iterable[dict[str, Any]]) -> set[str]:
    return {f["key"] for f in fields if f.get("kind") == "consent"}


ON_COMPLETE_CHOICES = (
    ("", "Nothing more"),
    ("message", "Show a message"),
    ("open", "Open a page"),
    ("download", "Start a download"),
)


def _optional_line(label: str, limit: int, description: str) -> StringField:
    """A one-line text input that may stay empty (None), of at most ``limit`` characters."""
    return StringField(
        label, filters=[blank_none], description=description, validators=[Length(max=limit)]
    )


class FormForm(FlaskForm):
    key = StringField(
        "Key",
        description=KEY_HELP + " It goes into the embed snippet.",
        validators=[DataRequired(), Length(max=64), entry_key],
    )
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    intro = TextAreaField(
        "Intro", filters=[blank_none], validators=[Length(max=2000)], render_kw={"rows": 2}
    )
    stage = SelectField(
        "Page stage",
        choices=STAGE_CHOICES,
        default="",
        description="The funnel stage of the pages this form is on, when the page does not say.",
    )
    max_questions = IntegerField(
        "Questions at a time",
        default=3,
        validators=[InputRequired(), number_parsed, NumberRange(min=1, max=10)],
    )
    submit_label = StringField(
        "Submit button",
        filters=[blank_none],
        description="Leave empty for the language's own word (its submit string).",
        validators=[Length(max=100)],
    )
    thank_you = TextAreaField(
        "Thank-you message",
        filters=[blank_none],
        description="Leave empty for the language's own words (its thank_you string).",
        validators=[Length(max=2000)],
        render_kw={"rows": 2},
    )
    complete_message = TextAreaField(
        "When nothing is left to ask",
        filters=[blank_none],
        description="Leave empty to show nothing at all.",
        validators=[Length(max=2000)],
        render_kw={"rows": 2},
    )
    consent_field = SelectField(
        "Consent line",
        default="",
        description="A consent field (kind Consent, under Questions) shown as a checkbox under "
        "this form's questions, on top of the questions at a time, until the visitor gives it: "
        "refused or withdrawn, it is shown again. Its label (and help) is the text they read; "
        "its Required setting says whether they must tick it to send. A tick is recorded with "
        "those exact words on the contact's page and sent to destinations in webhooks.",
    )
    on_complete_action = SelectField(
        "When the visitor is done",
        choices=[SelectChoice(value, label) for value, label in ON_COMPLETE_CHOICES],
        default="",
        description="After every successful submit, and for returning visitors with nothing "
        "left to ask.",
    )
    on_complete_value = _optional_line(
        "Message or address",
        2000,
        "The message; or the page or file: a full http(s) address "
        "(https://www.example.com/guide.pdf) or a path on your site (/files/guide.pdf).",
    )
    on_complete_label = _optional_line(
        "Link text",
        100,
        'For a page or download: the link shown with the thank-you (default "Open" or "Download").',
    )
    language = language_field(
        "Language",
        "What the widget says on its own and the messages of a submit on this form.",
        SelectChoice("", "The site's language"),
    )
    strings = strings_field(
        "Your own words for built-in strings on this form, over the site's. Leave a string "
        "empty for the text shown greyed (the site's, or the language's built-in text)."
    )
    tiers = CheckboxesField(
        "Whole tiers",
        description="Every field of these tiers, now and added later. Leave tiers and fields "
        "empty to ask from every field of the site.",
    )
    fields = CheckboxesField("Single fields", description="In addition to the tiers above.")
    always_ask = CheckboxesField(
        "Always ask",
        description="Asked even when known (e.g. the email, to recognise the visitor), "
        "before the others.",
    )

    # The site's settings (its language and strings): what the form's empty texts stand for.
    site: dict[str, Any] = {}  # set per editor by show_defaults

    def show_defaults(self, site: dict[str, Any]) -> None:
        """Show in each empty text's placeholder what it stands for, in the chosen language."""
        self.site = site
        fallback = fallback_strings(self.language.data, site)
        show_defaults(self.strings, fallback)
        own = fallback | strings_entry(self.strings)
        self.submit_label.render_kw = {"placeholder": own["submit"]}
        self.thank_you.render_kw = {"rows": 2, "placeholder": own["thank_you"]}

    def set_choices(self, tiers: Iterable[dict[str, Any]], fields: Iterable[dict[str, Any]]):
        fields = list(fields)
        self.tiers.choices = [SelectChoice(t["key"], t.get("label") or t["key"]) for t in tiers]
        choices = [SelectChoice(f["key"], f"{f['label']} ({f['key']})") for f in fields]
        self.fields.choices = choices
        self.always_ask.choices = list(choices)
        consents = [SelectChoice(c.value, c.label) for c in choices if c.value in _consents(fields)]
        self.consent_field.choices = [SelectChoice("", "None"), *consents]

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.on_complete_action.data and self.on_complete_value.data is None:
            self.on_complete_value.errors.append("Enter the message, or the page's address.")
            valid = False
        return valid

    def load(self, form: dict[str, Any]) -> None:
        for name in ("key", "title", "intro", "complete_message"):
            getattr(self, name).data = form.get(name)
        self.stage.data = form.get("stage") or ""
        self.max_questions.data = form.get("max_questions", 3)
        self.language.data = form.get("language") or ""
        load_strings(self.strings, form.get("strings") or {})
        # A label that is the language's own word shows empty: it follows the language.
        own = fallback_strings(self.language.data, self.site) | (form.get("strings") or {})
        for name, key in (("submit_label", "submit"), ("thank_you", "thank_you")):
            given = form.get(name)
            getattr(self, name).data = None if given == own[key] else given
        self.show_defaults(self.site)
        self.consent_field.data = (form.get("consent") or {}).get("field", "")
        on_complete = dict(form.get("on_complete") or {})
        self.on_complete_label.data = on_complete.pop("label", None)
        action, value = next(iter(on_complete.items()), ("", None))
        self.on_complete_action.data, self.on_complete_value.data = action, value
        self.tiers.data = list(form.get("tiers", []))
        self.fields.data = list(form.get("fields", []))
        self.always_ask.data = list(form.get("always_ask", []))

    def entry(self, field_order: list[str], previous: list[str] | None = None) -> dict[str, Any]:
        """The config entry. ``always_ask`` keeps its ``previous`` order (it is the asking
        order); newly ticked fields follow in the site's field order."""
        form: dict[str, Any] = {"key": self.key.data, "title": self.title.data.strip()}
        for name in ("intro", "complete_message"):
            if getattr(self, name).data is not None:
                form[name] = getattr(self, name).data
        if self.stage.data:
            form["stage"] = self.stage.data
        form["max_questions"] = self.max_questions.data
        for name in ("submit_label", "thank_you"):  # None: the strings' own, at import
            if getattr(self, name).data is not None:
                form[name] = getattr(self, name).data
        if self.language.data:
            form["language"] = self.language.data
        if strings_entry(self.strings):
            form["strings"] = strings_entry(self.strings)
        if self.consent_field.data:
            form["consent"] = {"field": self.consent_field.data}
        if self.on_complete_action.data:  # the config's validation checks the address
            value = (self.on_complete_value.data or "").strip()
            form["on_complete"] = {self.on_complete_action.data: value}
            if self.on_complete_label.data and self.on_complete_action.data != "message":
                form["on_complete"]["label"] = self.on_complete_label.data.strip()
        picked = set(self.always_ask.data or ())
        kept = [key for key in previous or [] if key in picked]
        form["always_ask"] = kept + [k for k in field_order if k in picked and k not in kept]
        form["tiers"] = list(self.tiers.data or ())
        form["fields"] = list(self.fields.data or ())
        return form
