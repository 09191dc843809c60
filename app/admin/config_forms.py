"""WTForms for the Configure pages. Each form turns into one config entry (DESIGN §5) and back.

WTForms checks what a single input can get wrong (required, a number, a range) and shows it next
to the input; the config importer then checks the entry as a whole and against the rest of the
site, and its problems are put next to the same inputs (see ``config_edit.problems_for_entry``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    Field,
    FieldList,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms import Form as PlainForm
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.domain.specs import FIELD_KINDS, MAX_NUMBER, STAGES
from app.services.siteconfig import (
    ASK_IF_OPS,
    CHOICE_KINDS,
    EVENTS,
    FORMATS,
    KEY_PATTERN,
    MAX_RETENTION_DAYS,
    changed_engagement,
)

_KEY_HELP = "Lower-case letters, digits and _, starting with a letter. Cannot be changed later."
_STAGE_CHOICES = [SelectChoice("", "any"), *(SelectChoice(s) for s in STAGES)]


def number_parsed(form: Any, field: Field) -> None:
    """Input that is no number already carries its message; range checks would only repeat it.
    NaN and infinities ("nan", "sNaN", "inf") parse as decimals but are no numbers either."""
    if field.process_errors:
        raise StopValidation()
    data = field.data
    if isinstance(data, Decimal) and not data.is_finite():
        raise StopValidation("Enter a number.")


_parsed = number_parsed


def _key(form: Any, field: Field) -> None:
    if field.data and not KEY_PATTERN.fullmatch(field.data):
        raise ValidationError(
            "Use lower-case letters, digits and _, starting with a letter (at most 64)."
        )
    if field.data == "new":  # /tiers/new is the page that creates one
        raise ValidationError('"new" is reserved: choose another key.')


def _blank_none(value: Any) -> Any:
    """Strip text; an empty answer means "not set"."""
    if isinstance(value, str):
        value = value.strip()
    return value if value not in ("", None) else None


def _number(value: Any) -> int | float | None:
    """A Decimal from the form as the int or float a config holds."""
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SiteForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    origins = TextAreaField(
        "Allowed origins",
        description="One per line, like https://www.example.com. The widget and the API answer "
        "only pages on these origins.",
        render_kw={"rows": 3},
    )
    skip_cooldown = IntegerField(
        "Skip cooldown",
        description="Engagement events after a skip before the question may come back.",
        validators=[InputRequired(), _parsed, NumberRange(min=0, max=10_000)],
    )
    half_life_days = DecimalField(
        "Engagement half-life (days)",
        places=None,
        description="Leave empty to never decay the score.",
        validators=[Optional(), _parsed, NumberRange(min=0.01, max=36_500)],
    )
    followup_hours = IntegerField(
        "Follow-up window (hours)",
        description="How long sales has to follow up a qualified lead.",
        validators=[InputRequired(), _parsed, NumberRange(min=0, max=100_000)],
    )
    anonymous_retention_days = IntegerField(
        "Delete idle anonymous contacts after (days)",
        description="Anonymous contacts that never submitted anything and have not been seen "
        "for this many days are deleted. Leave empty to keep them.",
        validators=[Optional(), _parsed, NumberRange(min=1, max=MAX_RETENTION_DAYS)],
    )
    delivery_retention_days = IntegerField(
        "Keep the webhook delivery log (days)",
        description="Delivered and dead-lettered webhooks older than this are deleted (pending "
        "ones never are). Leave empty to keep them.",
        validators=[Optional(), _parsed, NumberRange(min=1, max=MAX_RETENTION_DAYS)],
    )

    def load(self, site: dict[str, Any]) -> None:
        self.name.data = site["name"]
        self.origins.data = "\n".join(site.get("origins", []))
        self.skip_cooldown.data = site.get("skip_cooldown", 3)
        self.half_life_days.data = site.get("half_life_days")
        self.followup_hours.data = site.get("followup_hours", 48)
        self.anonymous_retention_days.data = site.get("anonymous_retention_days")
        self.delivery_retention_days.data = site.get("delivery_retention_days")

    def entry(self, key: str) -> dict[str, Any]:
        site: dict[str, Any] = {
            "key": key,
            "name": self.name.data.strip(),
            "origins": _lines(self.origins.data),
            "skip_cooldown": self.skip_cooldown.data,
            "followup_hours": self.followup_hours.data,
        }
        if self.half_life_days.data is not None:
            site["half_life_days"] = _number(self.half_life_days.data)
        for name in ("anonymous_retention_days", "delivery_retention_days"):
            if getattr(self, name).data is not None:
                site[name] = getattr(self, name).data
        return site


class NewSiteForm(FlaskForm):
    key = StringField(
        "Key",
        description="Used in the embed snippet and the API. Lower-case letters, digits, _ and -.",
        validators=[DataRequired(), Length(max=64)],
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    origins = TextAreaField(
        "Allowed origins",
        description="One per line, like https://www.example.com. You can add them later.",
        render_kw={"rows": 3},
    )

    def origin_list(self) -> list[str]:
        return _lines(self.origins.data)


class WeightForm(PlainForm):
    """One engagement kind: its weight and, optionally, the stage it always counts at."""

    kind = StringField("Event kind", filters=[_blank_none], validators=[Optional(), _key])
    weight = DecimalField(
        "Weight", places=None, validators=[Optional(), _parsed, NumberRange(min=0, max=1000)]
    )
    stage = SelectField("Counts at stage", choices=_STAGE_CHOICES, default="")


class EngagementForm(FlaskForm):
    """Posted with the SiteForm, whose CSRF token covers both."""

    class Meta:
        csrf = False

    weights = FieldList(FormField(WeightForm), min_entries=1)

    def load(self, weights: dict[str, dict[str, Any]]) -> None:
        """``weights``: every kind the site counts, ``{kind: {weight, stage}}``; plus a blank row."""
        while self.weights.entries:
            self.weights.pop_entry()
        for kind, spec in weights.items():
            self.weights.append_entry({"kind": kind, **spec, "stage": spec.get("stage") or ""})
        self.weights.append_entry({})

    def engagement(self, defaults: dict[str, float]) -> dict[str, Any]:
        """The config's ``engagement``: kinds whose weight or stage differ from the default."""
        rows = {
            row.form.kind.data: {
                "weight": _number(row.form.weight.data),
                "stage": row.form.stage.data or None,
            }
            for row in self.weights.entries
            if row.form.kind.data and row.form.weight.data is not None
        }
        return changed_engagement(rows, defaults)

    def kinds_twice(self) -> list[str]:
        kinds = [row.form.kind.data for row in self.weights.entries if row.form.kind.data]
        return sorted({kind for kind in kinds if kinds.count(kind) > 1})


class TierForm(FlaskForm):
    key = StringField(
        "Key", description=_KEY_HELP, validators=[DataRequired(), Length(max=64), _key]
    )
    label = StringField("Label", filters=[_blank_none], validators=[Length(max=200)])
    rank = IntegerField(
        "Rank",
        description="Tiers are asked in rank order: lower first.",
        validators=[InputRequired(), _parsed, NumberRange(min=-1_000_000, max=1_000_000)],
    )
    min_score = DecimalField(
        "Minimum engagement score",
        places=None,
        default=0,
        validators=[InputRequired(), _parsed, NumberRange(min=0, max=MAX_NUMBER)],
    )
    min_stage = SelectField(
        "Minimum stage reached",
        choices=_STAGE_CHOICES,
        default="",
        description="Only contacts who reached this funnel stage are asked this tier.",
    )

    def load(self, tier: dict[str, Any]) -> None:
        self.key.data = tier["key"]
        self.label.data = tier.get("label")
        self.rank.data = tier["rank"]
        self.min_score.data = tier.get("min_score", 0)
        self.min_stage.data = tier.get("min_stage") or ""

    def entry(self) -> dict[str, Any]:
        tier: dict[str, Any] = {"key": self.key.data, "rank": self.rank.data}
        if _number(self.min_score.data):
            tier["min_score"] = _number(self.min_score.data)
        if self.min_stage.data:
            tier["min_stage"] = self.min_stage.data
        if self.label.data:
            tier["label"] = self.label.data
        return tier


class FieldForm(FlaskForm):
    key = StringField(
        "Key", description=_KEY_HELP, validators=[DataRequired(), Length(max=64), _key]
    )
    label = StringField("Question", validators=[DataRequired(), Length(max=500)])
    kind = SelectField("Kind", choices=[SelectChoice(k) for k in FIELD_KINDS], default="text")
    tier = SelectField("Tier", validators=[InputRequired()])
    priority = IntegerField(
        "Priority",
        default=100,
        description="Within its tier, lower is asked first. The Questions page reorders too.",
        validators=[InputRequired(), _parsed, NumberRange(min=-1_000_000, max=1_000_000)],
    )
    required = BooleanField("Required (no Skip button)")
    identity = BooleanField("Identity field (the email that identifies a contact)")
    scope = SelectField(
        "Stored on",
        choices=[SelectChoice("contact", "the contact"), SelectChoice("account", "the account")],
        default="contact",
        description="Account fields are shared by everyone from the same company domain.",
    )
    refresh_after_days = IntegerField(
        "Ask again after (days)",
        description="Leave empty to never ask again once answered.",
        validators=[Optional(), _parsed, NumberRange(min=1, max=36_500)],
    )
    max_length = IntegerField(
        "Maximum length",
        description="Text and long text only.",
        validators=[Optional(), _parsed, NumberRange(min=1, max=5000)],
    )
    help = TextAreaField(
        "Help text", filters=[_blank_none], validators=[Length(max=2000)], render_kw={"rows": 2}
    )
    placeholder = StringField("Placeholder", filters=[_blank_none], validators=[Length(max=200)])
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
        filters=[_blank_none],
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
        self.priority.data = field.get("priority", 100)
        self.required.data = field.get("required", False)
        self.identity.data = field.get("identity", False)
        self.scope.data = field.get("scope", "contact")
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
        if self.kind.data in CHOICE_KINDS and not _lines(self.options.data):
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
        if self.scope.data != "contact":
            field["scope"] = self.scope.data
        for name in ("refresh_after_days", "max_length", "help", "placeholder"):
            if getattr(self, name).data is not None:
                field[name] = getattr(self, name).data
        if _lines(self.options.data):
            field["options"] = [_option(line) for line in _lines(self.options.data)]
        if self.ask_if_field.data:
            field["ask_if"] = self._ask_if(kinds.get(self.ask_if_field.data, "text"))
        return field

    def _ask_if(self, kind: str) -> dict[str, Any]:
        op, raw = self.ask_if_op.data, self.ask_if_value.data or ""
        if op in ("known", "unknown"):
            return {"field": self.ask_if_field.data, "known": op == "known"}
        if op == "in":
            return {"field": self.ask_if_field.data, "in": [_typed(v, kind) for v in _lines(raw)]}
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
            return _number(float(text))
        except ValueError:
            return text
    return text


class FormForm(FlaskForm):
    key = StringField(
        "Key",
        description=_KEY_HELP + " It goes into the embed snippet.",
        validators=[DataRequired(), Length(max=64), _key],
    )
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    intro = TextAreaField(
        "Intro", filters=[_blank_none], validators=[Length(max=2000)], render_kw={"rows": 2}
    )
    stage = SelectField(
        "Page stage",
        choices=_STAGE_CHOICES,
        default="",
        description="The funnel stage of the pages this form is on, when the page does not say.",
    )
    max_questions = IntegerField(
        "Questions at a time",
        default=3,
        validators=[InputRequired(), _parsed, NumberRange(min=1, max=10)],
    )
    submit_label = StringField(
        "Submit button", default="Submit", validators=[DataRequired(), Length(max=100)]
    )
    thank_you = TextAreaField(
        "Thank-you message",
        default="Thank you!",
        validators=[DataRequired(), Length(max=2000)],
        render_kw={"rows": 2},
    )
    complete_message = TextAreaField(
        "When nothing is left to ask",
        filters=[_blank_none],
        description="Leave empty to show nothing at all.",
        validators=[Length(max=2000)],
        render_kw={"rows": 2},
    )
    consent_text = TextAreaField(
        "Consent line",
        filters=[_blank_none],
        description="A checkbox under the questions; leave empty for none.",
        validators=[Length(max=2000)],
        render_kw={"rows": 2},
    )
    consent_required = BooleanField("Consent must be given to send", default=True)
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

    def set_choices(self, tiers: Iterable[dict[str, Any]], fields: Iterable[dict[str, Any]]):
        fields = list(fields)
        self.tiers.choices = [SelectChoice(t["key"], t.get("label") or t["key"]) for t in tiers]
        choices = [SelectChoice(f["key"], f"{f['label']} ({f['key']})") for f in fields]
        self.fields.choices = choices
        self.always_ask.choices = list(choices)

    def load(self, form: dict[str, Any]) -> None:
        for name in ("key", "title", "intro", "complete_message"):
            getattr(self, name).data = form.get(name)
        self.stage.data = form.get("stage") or ""
        self.max_questions.data = form.get("max_questions", 3)
        self.submit_label.data = form.get("submit_label", "Submit")
        self.thank_you.data = form.get("thank_you", "Thank you!")
        consent = form.get("consent")
        self.consent_text.data = consent["text"] if consent else None
        self.consent_required.data = consent.get("required", True) if consent else True
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
        form["submit_label"] = self.submit_label.data.strip()
        form["thank_you"] = self.thank_you.data.strip()
        if self.consent_text.data:
            form["consent"] = {
                "text": self.consent_text.data,
                "required": self.consent_required.data,
            }
        picked = set(self.always_ask.data or ())
        kept = [key for key in previous or [] if key in picked]
        form["always_ask"] = kept + [k for k in field_order if k in picked and k not in kept]
        form["tiers"] = list(self.tiers.data or ())
        form["fields"] = list(self.fields.data or ())
        return form


_FORMAT_LABELS = {
    "trickle": "Trickle envelope (type, id, timestamp, data)",
    "segment": "Segment identify call (userId and traits)",
}


class DestinationForm(FlaskForm):
    """A webhook destination (DESIGN §6). Its signing secret is never part of the config: it is
    generated when the destination is created (or read from ``secret_env``) and shown on the
    destination's page."""

    key = StringField(
        "Key", description=_KEY_HELP, validators=[DataRequired(), Length(max=64), _key]
    )
    url = URLField(
        "URL",
        description="Events are POSTed here, signed the Standard Webhooks way. Redirects are "
        "not followed.",
        filters=[_blank_none],
        validators=[DataRequired(), Length(max=2000)],
    )
    events = CheckboxesField(
        "Events",
        choices=[SelectChoice(event) for event in EVENTS],
        description="Only these are sent to this destination.",
    )
    format = SelectField(
        "Format",
        choices=[SelectChoice(f, _FORMAT_LABELS.get(f, f)) for f in FORMATS],
        default="trickle",
    )
    mapping = TextAreaField(
        "Field mapping",
        description='One per line: "our_key | their_key" renames a field for the receiver; '
        "fields not listed keep their key.",
        render_kw={"rows": 4},
    )
    enabled = BooleanField("Enabled (send events to this destination)", default=True)
    secret_env = StringField(
        "Signing secret from environment variable",
        filters=[_blank_none],
        description="Optional. The name of a variable (like CRM_WEBHOOK_SECRET) holding "
        "whsec_…; leave empty and Trickle generates the secret.",
        validators=[Length(max=200)],
    )

    def load(self, destination: dict[str, Any]) -> None:
        self.key.data = destination["key"]
        self.url.data = destination["url"]
        self.events.data = list(destination.get("events", []))
        self.format.data = destination.get("format", "trickle")
        self.mapping.data = "\n".join(
            f"{ours} | {theirs}" for ours, theirs in (destination.get("mapping") or {}).items()
        )
        self.enabled.data = destination.get("enabled", True)
        self.secret_env.data = destination.get("secret_env")

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not self.events.data:
            self.events.errors.append("Pick at least one event.")
            valid = False
        problems = mapping_problems(self.mapping.data)
        if problems:
            self.mapping.errors.extend(problems)
            valid = False
        return valid

    def entry(self, previous: list[str] | None = None) -> dict[str, Any]:
        """The config entry. ``events`` keeps its ``previous`` order; newly ticked ones follow
        in the usual order (so saving an unchanged destination changes nothing)."""
        picked = set(self.events.data or ())
        kept = [event for event in previous or [] if event in picked]
        destination: dict[str, Any] = {
            "key": self.key.data,
            "url": self.url.data,
            "events": kept + [e for e in EVENTS if e in picked and e not in kept],
        }
        if self.format.data != "trickle":
            destination["format"] = self.format.data
        mapping = parse_mapping(self.mapping.data)
        if mapping:
            destination["mapping"] = mapping
        if not self.enabled.data:
            destination["enabled"] = False
        if self.secret_env.data:
            destination["secret_env"] = self.secret_env.data
        return destination


def parse_mapping(text: str | None) -> dict[str, str]:
    """``our_key | their_key`` lines as a mapping, in their order (see ``mapping_problems``)."""
    mapping = {}
    for line in _lines(text):
        ours, _, theirs = line.partition("|")
        mapping[ours.strip()] = theirs.strip()
    return mapping


def mapping_problems(text: str | None) -> list[str]:
    """What is wrong with the lines of a mapping, as messages naming the line."""
    problems, seen = [], set()
    for number, line in enumerate(_lines(text), start=1):
        ours, bar, theirs = line.partition("|")
        ours, theirs = ours.strip(), theirs.strip()
        if not bar or not ours or not theirs:
            problems.append(f'Line {number}: write "our_key | their_key".')
        elif ours in seen:
            problems.append(f'Line {number}: "{ours}" is mapped twice.')
        seen.add(ours)
    return problems


class DeleteForm(FlaskForm):
    """Only the CSRF token."""


class ActionForm(FlaskForm):
    """Only the CSRF token: a button that does one thing (rotate, replay, re-enable…)."""


class MoveForm(FlaskForm):
    direction = SelectField(choices=[SelectChoice("up"), SelectChoice("down")])
