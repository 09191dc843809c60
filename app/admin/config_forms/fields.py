"""A field: a profile question, its kind, options and condition (an entry of the config's
``fields``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.admin.config_forms.entries import KEY_HELP, entry_key
from app.admin.forms import as_number, blank_none, number_parsed, text_lines
from app.domain.interface import AUTOCOMPLETE_TOKENS, autocomplete_for
from app.domain.specs import FIELD_KINDS
from app.services.siteconfig import ASK_IF_OPS, CHOICE_KINDS

AUTOMATIC = "Automatic"


class FieldForm(FlaskForm):
    key = StringField(
        "Key", description=KEY_HELP, validators=[DataRequired(), Length(max=64), entry_key]
    )
    label = StringField("Question", validators=[DataRequired(), Length(max=500)])
    kind = SelectField("Kind", choices=[SelectChoice(k) for k in FIELD_KINDS], default="text")
    tier = SelectField("Tier", validators=[InputRequired()])
    priority = IntegerField(
        "Priority",
        default=100,
        description="Within its tier, lower is asked first. The Questions page reorders too.",
        validators=[InputRequired(), number_parsed, NumberRange(min=-1_000_000, max=1_000_000)],
    )
    unpooled = BooleanField(
        "Only where a form lists it",
        description="Not asked through its tier: only by forms that list it under their fields"
        " or show it as their consent line.",
    )
    required = BooleanField("Required (no Skip button)")
    identity = BooleanField("Identity field (the email that identifies a contact)")
    scope = SelectField(
        "Stored on",
        choices=[SelectChoice("contact", "the contact"), SelectChoice("account", "the account")],
        default="contact",
        description="Account fields are shared by everyone from the same company domain.",
    )
    overwrite = SelectField(
        "Who may replace an answer someone else gave",
        choices=[
            SelectChoice("verified", "verified visitors only (identity hash, signed link)"),
            SelectChoice("claimed", "anyone who types the email"),
        ],
        default="verified",
        description="A visitor who only typed an email fills blanks; this lets them overwrite too.",
    )
    refresh_after_days = IntegerField(
        "Ask again after (days)",
        description="Leave empty to never ask again once answered.",
        validators=[Optional(), number_parsed, NumberRange(min=1, max=36_500)],
    )
    max_length = IntegerField(
        "Maximum length",
        description="Text and long text only.",
        validators=[Optional(), number_parsed, NumberRange(min=1, max=5000)],
    )
    help = TextAreaField(
        "Help text", filters=[blank_none], validators=[Length(max=2000)], render_kw={"rows": 2}
    )
    placeholder = StringField("Placeholder", filters=[blank_none], validators=[Length(max=200)])
    autocomplete = SelectField(
        "Browser autofill",
        choices=[SelectChoice("", AUTOMATIC), *(SelectChoice(t) for t in AUTOCOMPLETE_TOKENS)],
        default="",
        description="What the browser may fill the input with from what it knows of the visitor "
        "(the autocomplete token): for one-line and long text, email, phone, URL, number and "
        "dropdown questions. Automatic takes it from the key (first_name: given-name, company: "
        "organization, job_title: organization-title, phone: tel, postal_code: postal-code, "
        "country: country-name) or the kind (email, phone); off asks the browser not to fill it.",
        validate_choice=False,  # the config import names the tokens, as for a config file
    )
    options = TextAreaField(
        "Options",
        description='Choices only, one per line: "value" or "value | label shown" '
        "(write \\| for a | inside a value).",
        render_kw={"rows": 4},
    )
    ask_if_field = SelectField("Only ask when", default="")
    ask_if_op = SelectField(
        "Condition",
        choices=[
            SelectChoice("equals", "equals"),
            SelectChoice("in", "is one of (one value per line)"),
            SelectChoice("known", "is known"),
            SelectChoice("unknown", "is not known"),
        ],
        default="equals",
    )
    ask_if_value = TextAreaField(
        "Value",
        filters=[blank_none],
        description="For a yes/no question: yes or no.",
        validators=[Length(max=2000)],
        render_kw={"rows": 2},
    )

    def set_choices(self, tiers: Iterable[dict[str, Any]], fields: Iterable[dict[str, Any]]):
        self.tier.choices = [SelectChoice(t["key"], t.get("label") or t["key"]) for t in tiers]
        self.ask_if_field.choices = [
            SelectChoice("", "always (no condition)"),
            *(SelectChoice(f["key"], f"{f['label']} ({f['key']})") for f in fields),
        ]

    def load(self, field: dict[str, Any]) -> None:
        for name in ("key", "label", "kind", "tier", "help", "placeholder"):
            getattr(self, name).data = field.get(name)
        self.autocomplete.data = field.get("autocomplete") or ""
        derived = autocomplete_for(field["key"], field["kind"], None)
        if derived:  # what Automatic means for this field
            self.autocomplete.choices[0] = SelectChoice("", f"{AUTOMATIC} ({derived})")
        self.priority.data = field.get("priority", 100)
        self.unpooled.data = not field.get("pooled", True)
        self.required.data = field.get("required", False)
        self.identity.data = field.get("identity", False)
        self.scope.data = field.get("scope", "contact")
        self.overwrite.data = field.get("overwrite", "verified")
        self.refresh_after_days.data = field.get("refresh_after_days")
        self.max_length.data = field.get("max_length")
        self.options.data = "\n".join(_option_line(o) for o in field.get("options") or [])
        ask_if = field.get("ask_if")
        if ask_if:
            op = next(op for op in ASK_IF_OPS if op in ask_if)
            value = ask_if[op]
            if op == "known" and value is False:
                op = "unknown"
            self.ask_if_field.data, self.ask_if_op.data = ask_if["field"], op
            if op == "in":
                self.ask_if_value.data = "\n".join(_text(v) for v in value)
            elif op == "equals":
                self.ask_if_value.data = _text(value)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.kind.data in CHOICE_KINDS and not text_lines(self.options.data):
            self.options.errors.append(f"A {self.kind.data} needs at least one option.")
            valid = False
        if (
            self.ask_if_field.data
            and self.ask_if_op.data in ("equals", "in")
            and self.ask_if_value.data is None
        ):
            self.ask_if_value.errors.append("Enter the value the answer must have.")
            valid = False
        return valid

    def entry(self, kinds: dict[str, str]) -> dict[str, Any]:
        """The config entry; ``kinds`` (field key → kind) types a condition's value."""
        field: dict[str, Any] = {
            "key": self.key.data,
            "label": self.label.data.strip(),
            "kind": self.kind.data,
            "tier": self.tier.data,
            "priority": self.priority.data,
        }
        for name in ("required", "identity"):
            if getattr(self, name).data:
                field[name] = True
        if self.unpooled.data:
            field["pooled"] = False
        if self.scope.data != "contact":
            field["scope"] = self.scope.data
        if self.overwrite.data != "verified":
            field["overwrite"] = self.overwrite.data
        for name in ("refresh_after_days", "max_length", "help", "placeholder"):
            if getattr(self, name).data is not None:
                field[name] = getattr(self, name).data
        if self.autocomplete.data:
            field["autocomplete"] = self.autocomplete.data
        if text_lines(self.options.data):
            field["options"] = [_option(line) for line in text_lines(self.options.data)]
        if self.ask_if_field.data:
            field["ask_if"] = self._ask_if(kinds.get(self.ask_if_field.data, "text"))
        return field

    def _ask_if(self, kind: str) -> dict[str, Any]:
        op, raw = self.ask_if_op.data, self.ask_if_value.data or ""
        if op in ("known", "unknown"):
            return {"field": self.ask_if_field.data, "known": op == "known"}
        if op == "in":
            return {
                "field": self.ask_if_field.data,
                "in": [_typed(v, kind) for v in text_lines(raw)],
            }
        return {"field": self.ask_if_field.data, "equals": _typed(raw, kind)}


def _option_line(option: Any) -> str:
    """An option as one line: ``value`` or ``value | label``; in the value, ``\\`` and ``|``
    are written ``\\\\`` and ``\\|`` so that the first bare ``|`` always ends it."""
    value, label = (
        (option, option) if isinstance(option, str) else (option["value"], option["label"])
    )
    escaped = value.replace("\\", "\\\\").replace("|", "\\|")
    return escaped if label == value else f"{escaped} | {label}"


def _option(line: str) -> Any:
    value, rest, escaped = [], None, False
    for position, char in enumerate(line):
        if escaped:
            value.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            rest = line[position + 1 :]
            break
        else:
            value.append(char)
    text = "".join(value).strip()
    label = (rest or "").strip()
    return {"value": text, "label": label} if label and label != text else text


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _typed(text: str, kind: str) -> Any:
    """A condition's value typed like the answers of the field it tests."""
    if kind in ("boolean", "consent"):
        lowered = text.lower()
        if lowered in ("yes", "true"):
            return True
        if lowered in ("no", "false"):
            return False
    if kind == "number":
        try:
            return as_number(float(text))
        except ValueError:
            return text
    return text
