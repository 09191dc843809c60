"""The shape of a site config file (DESIGN §5), as marshmallow load schemas.

Each schema checks one entry on its own (types, ranges, which keys go together); the value types
and their messages are in ``fields``. What spans entries — references between them,
duplicate keys — is checked in ``rules``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validates_schema
from marshmallow.utils import missing

from app.domain.specs import FIELD_KINDS, OVERWRITE, SCOPES, STAGES
from app.services.siteconfig import language as interface
from app.services.siteconfig.fields import (
    MESSAGES,
    Flag,
    Integer,
    ListOf,
    MappingOf,
    Number,
    Scalar,
    Section,
    Text,
    at_least,
    between,
    full_match,
    length,
    one_of,
)
from app.services.siteconfig.urls import origin as _origin
from app.services.siteconfig.urls import web_url_like, web_url_or_path

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
SITE_KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
ENV_NAME_PATTERN = re.compile(r"[A-Z_][A-Z0-9_]*")
EVENTS: tuple[str, ...] = (
    "contact.updated",
    "contact.merged",
    "contact.stage_changed",
    "contact.deleted",
    "contact.outcome_recorded",
    "contact.sla_breached",
    "contact.engaged",
    "definition.changed",
)
FORMATS: tuple[str, ...] = ("trickle", "segment")
DEFAULT_FOLLOWUP_HOURS = 48  # the hand-off window when a config names none
CHOICE_KINDS: tuple[str, ...] = ("select", "multiselect")
LENGTH_KINDS: tuple[str, ...] = ("text", "textarea")
ASK_IF_OPS: tuple[str, ...] = ("equals", "in", "known")
STAGE_CONDITIONS: tuple[str, ...] = ("min_score", "fields_known", "field_equals", "min_stage")
LABEL_MAX = 500
MAX_RETENTION_DAYS = 36_500  # a hundred years: more is a typo, not a policy

_KEY_RULE = "must be lower-case letters, digits and _, starting with a letter (at most 64)"

KEY = full_match(KEY_PATTERN, _KEY_RULE)


class ConfigSchema(Schema):
    """Every config mapping: unknown keys are errors, with the config's wording."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "unknown key", "type": "must be a mapping"}


class WeightIn(ConfigSchema):
    weight = Number(required=True, validate=at_least(0))
    stage = Text(load_default=None, validate=one_of(STAGES))


class EngagementValue(fields.Field):
    """A weight, or ``{weight, stage}``; loads as ``{"weight": w, "stage": s or None}``."""

    default_error_messages = {**MESSAGES, "invalid": "must be a number or {{weight, stage}}"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if isinstance(value, Mapping):
            return WeightIn().load(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return {"weight": Number(validate=at_least(0)).deserialize(value), "stage": None}


class OptionIn(ConfigSchema):
    value = Text(required=True, validate=length(1, 200))
    label = Text(validate=length(1, 500))

    @post_load
    def _label_defaults_to_value(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {"value": data["value"], "label": data.get("label", data["value"])}


class OptionItem(fields.Field):
    """A choice: ``"value"`` or ``{value, label}``; loads as ``{"value", "label"}``."""

    default_error_messages = {**MESSAGES, "invalid": "must be a string or {{value, label}}"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if isinstance(value, str):
            return OptionIn().load({"value": value})
        if isinstance(value, Mapping):
            return OptionIn().load(value)
        raise self.make_error("invalid")


_web_url = web_url_like("https://crm.example/hooks")


class SiteIn(ConfigSchema):
    key = Text(
        required=True,
        validate=full_match(
            SITE_KEY_PATTERN,
            "must be lower-case letters, digits, _ and -, starting with a letter or digit "
            "(at most 64)",
        ),
    )
    name = Text(required=True, validate=length(1, 200))
    origins = ListOf(Text(validate=_origin), load_default=list)
    skip_cooldown = Integer(load_default=3, validate=at_least(0))
    half_life_days = Number(load_default=None, validate=at_least(0, inclusive=False))
    followup_hours = Integer(load_default=DEFAULT_FOLLOWUP_HOURS, validate=at_least(0))
    # A change to the definition waits for the other team's approval (docs/sales.md).
    definition_approval = Flag(load_default=True)
    # Retention (null: keep): idle anonymous contacts that never submitted, finished deliveries.
    anonymous_retention_days = Integer(load_default=None, validate=between(1, MAX_RETENTION_DAYS))
    delivery_retention_days = Integer(load_default=None, validate=between(1, MAX_RETENTION_DAYS))
    language = interface.setting(interface.DEFAULT_LANGUAGE)  # the widget's interface language
    strings = interface.Strings(load_default=dict)


class TierIn(ConfigSchema):
    key = Text(required=True, validate=KEY)
    rank = Integer(required=True)
    min_score = Number(load_default=0, validate=at_least(0))
    min_stage = Text(load_default=None, validate=one_of(STAGES))
    label = Text(load_default=None, validate=length(1, 200))


_ASK_IF_NAMES = {"equals": "equals", "in": "in_", "known": "known"}  # "in" is a keyword


class AskIfIn(ConfigSchema):
    field = Text(required=True, validate=KEY)
    equals = Scalar()
    in_ = ListOf(Scalar(), data_key="in", validate=length(1))
    known = Flag()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _one_condition(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if isinstance(original, Mapping) and sum(op in original for op in ASK_IF_OPS) != 1:
            raise ValidationError("needs exactly one of: equals, in, known")

    @post_load
    def _canonical(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        op, name = next((op, name) for op, name in _ASK_IF_NAMES.items() if name in data)
        return {"field": data["field"], op: data[name]}


class FieldIn(ConfigSchema):
    key = Text(required=True, validate=KEY)
    label = Text(required=True, validate=length(1, LABEL_MAX))
    kind = Text(required=True, validate=one_of(FIELD_KINDS))
    tier = Text(required=True)
    priority = Integer(load_default=100)
    required = Flag(load_default=False)
    scope = Text(load_default="contact", validate=one_of(SCOPES))
    identity = Flag(load_default=False)
    refresh_after_days = Integer(load_default=None, validate=at_least(1))
    overwrite = Text(load_default="verified", validate=one_of(OVERWRITE))
    max_length = Integer(load_default=None, validate=between(1, 5000))
    help = Text(load_default=None, validate=length(1, 2000))
    placeholder = Text(load_default=None, validate=length(1, 200))
    options = ListOf(OptionItem(), load_default=None)
    ask_if = Section(AskIfIn, load_default=None)
    pooled = Flag(load_default=True)
    autocomplete = interface.autocomplete_setting()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _kind_rules(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        kind = data.get("kind")
        if not isinstance(original, Mapping) or kind is None:
            return
        errors = {**_options_problems(kind, original.get("options"), data.get("options"))}
        if original.get("max_length") is not None and kind not in LENGTH_KINDS:
            errors["max_length"] = ["only for kinds text and textarea"]
        errors |= interface.autocomplete_problems(kind, original.get("autocomplete"))
        if data.get("identity") and kind != "email":
            errors["identity"] = ["the identity field must be of kind email"]
        if kind == "consent" and data.get("scope") == "account":
            errors["scope"] = ["a consent belongs to one person: its scope must be contact"]
        if errors:
            raise ValidationError(errors)


def _options_problems(kind: str, given: Any, loaded: list[dict[str, str]] | None) -> dict:
    if kind not in CHOICE_KINDS:
        return {} if given is None else {"options": ["only for kinds select and multiselect"]}
    if given is None:
        return {"options": [f"required for kind {kind}"]}
    if isinstance(given, list) and not given:
        return {"options": ["must not be empty"]}
    seen: set[str] = set()
    duplicates: dict[int, list[str]] = {}
    for index, option in enumerate(loaded or ()):
        if not isinstance(option, Mapping) or "value" not in option:
            continue  # a malformed option, already reported
        if option["value"] in seen:
            duplicates[index] = [f'duplicate option "{option["value"]}"']
        seen.add(option["value"])
    return {"options": duplicates} if duplicates else {}


class ConsentIn(ConfigSchema):
    """A form's consent line: ``field``, a consent field; or (before 1.x: see docs/config.md)
    ``text`` and ``required``, which the import turns into a consent field of its own."""

    field = Text(validate=KEY)
    text = Text(validate=length(1, 2000))
    required = Flag()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _field_or_text(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if not isinstance(original, Mapping):
            return
        if ("field" in original) == ("text" in original):
            raise ValidationError("needs exactly one of: field, text")
        if "field" in original and "required" in original:
            raise ValidationError(
                {"required": ["only with text; the consent field says whether it is required"]}
            )


ON_COMPLETE: tuple[str, ...] = ("message", "open", "download")
_NEXT_URL = web_url_or_path("https://www.example.com/guide.pdf")


class OnCompleteIn(ConfigSchema):
    """What a form does once the visitor is done: one of show a message, open a URL, start a
    download; ``label`` names the link the widget shows for a URL."""

    message = Text(validate=length(1, 2000))
    open = Text(validate=[length(1, 2000), _NEXT_URL])
    download = Text(validate=[length(1, 2000), _NEXT_URL])
    label = Text(validate=length(1, 100))

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _one_action(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if not isinstance(original, Mapping):
            return
        if sum(action in original for action in ON_COMPLETE) != 1:
            raise ValidationError("needs exactly one of: " + ", ".join(ON_COMPLETE))
        if "label" in original and "message" in original:
            raise ValidationError({"label": ["only with open or download"]})


class FormIn(ConfigSchema):
    key = Text(required=True, validate=KEY)
    title = Text(required=True, validate=length(1, 300))
    intro = Text(load_default=None, validate=length(1, 2000))
    stage = Text(load_default=None, validate=one_of(STAGES))
    max_questions = Integer(load_default=3, validate=between(1, 10))
    submit_label = Text(load_default="Submit", validate=length(1, 100))
    thank_you = Text(load_default="Thank you!", validate=length(1, 2000))
    complete_message = Text(load_default=None, validate=length(1, 2000))
    consent = Section(ConsentIn, load_default=None)
    on_complete = Section(OnCompleteIn, load_default=None)
    always_ask = ListOf(Text(), load_default=list)
    tiers = ListOf(Text(), load_default=list)
    fields = ListOf(Text(), load_default=list)
    language = interface.setting(None)  # None: the site's
    strings = interface.Strings(load_default=dict)


class StageWhenIn(ConfigSchema):
    min_score = Number(validate=at_least(0))
    fields_known = ListOf(Text(), validate=length(1))
    field_equals = MappingOf(KEY, Scalar(), validate=length(1))
    min_stage = Text(validate=one_of(STAGES))

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _some_condition(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if isinstance(original, Mapping) and not any(c in original for c in STAGE_CONDITIONS):
            raise ValidationError("needs at least one of: " + ", ".join(STAGE_CONDITIONS))


class StageIn(ConfigSchema):
    key = Text(required=True, validate=KEY)
    when = Section(StageWhenIn, required=True)
    handoff = Flag(load_default=False)


def _distinct(values: list[Any]) -> None:
    duplicates = {i: ["listed twice"] for i, v in enumerate(values) if v in values[:i]}
    if duplicates:
        raise ValidationError(duplicates)


class DestinationIn(ConfigSchema):
    key = Text(required=True, validate=KEY)
    url = Text(required=True, validate=[length(1, 2000), _web_url])
    events = ListOf(Text(validate=one_of(EVENTS)), required=True, validate=[length(1), _distinct])
    format = Text(load_default="trickle", validate=one_of(FORMATS))
    mapping = MappingOf(KEY, Text(validate=length(1, 200)), load_default=dict)
    enabled = Flag(load_default=True)
    secret_env = Text(
        load_default=None,
        validate=[
            length(1, 200),
            full_match(ENV_NAME_PATTERN, "must be an environment variable name (A-Z, 0-9, _)"),
        ],
    )


class OutcomeStagesIn(ConfigSchema):
    """Which lifecycle stage an outcome moves a contact to (forward only; rules.py checks that
    each names a configured stage)."""

    accepted = Text(validate=KEY)
    opportunity = Text(validate=KEY)
    won = Text(validate=KEY)


class RequalifyIn(ConfigSchema):
    min_new_score = Number(required=True, validate=at_least(0))


def _reasons() -> ListOf:
    return ListOf(Text(validate=KEY), load_default=list, validate=_distinct)


class HotActivityIn(ConfigSchema):
    """The late-stage event kinds that make a handed-off contact (or its account) hot, and how
    often one contact is reported (rules.py checks each kind is one the site counts)."""

    events = ListOf(Text(validate=KEY), required=True, validate=[length(1), _distinct])
    window_hours = Integer(load_default=24, validate=at_least(1))


class SalesOutcomesIn(ConfigSchema):
    """What sales and marketing agreed on: the reasons a rep may give, the stage moves, and the
    activity that makes a handed-off lead hot."""

    rejection_reasons = _reasons()
    loss_reasons = _reasons()
    stages = Section(OutcomeStagesIn, load_default=dict)
    recycle_to = Text(load_default=None, validate=KEY)
    requalify_after = Section(RequalifyIn, load_default=None)
    # Days marketing have to touch a contact sales recycled (the reverse SLA); None: no window.
    recycle_followup_days = Integer(load_default=None, validate=at_least(1))
    hot_activity = Section(HotActivityIn, load_default=None)


def _entries(schema: type[Schema]) -> ListOf:
    return ListOf(Section(schema), required=True, validate=length(1))


class ConfigIn(ConfigSchema):
    """A whole site config; loads to plain dicts with every default filled in."""

    site = Section(SiteIn, required=True)
    engagement = MappingOf(
        full_match(KEY_PATTERN, "event kinds " + _KEY_RULE.replace("must be", "are")),
        EngagementValue(),
        load_default=dict,
    )
    tiers = _entries(TierIn)
    fields = _entries(FieldIn)
    forms = _entries(FormIn)
    stages = ListOf(Section(StageIn), load_default=list)
    destinations = ListOf(Section(DestinationIn), load_default=list)
    sales_outcomes = Section(SalesOutcomesIn, load_default=None)

    _labels_in_language = post_load(pass_original=True)(interface.labels_in_language)

    @post_load
    def _consent_fields(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """A form's consent line given as ``text`` becomes a consent field of its own, keyed
        ``<form>_consent`` (rules.py reports a key already taken), so every consent a visitor
        gives is recorded the same way."""
        first_tier = min(data["tiers"], key=lambda tier: tier["rank"])["key"]
        for form in data["forms"]:
            consent = form["consent"]
            if consent is None or "field" in consent:
                continue
            try:
                label, help_ = split_consent_text(consent["text"])
            except ValueError:
                continue  # reported by rules.py, with its path
            key = consent_field_key(form["key"])
            spec = {"key": key, "label": label, "kind": "consent", "tier": first_tier}
            spec |= {"pooled": False}  # asked as the line only, never as another form's question
            spec |= {"required": consent.get("required", True)} | ({"help": help_} if help_ else {})
            data["fields"].append(FieldIn().load(spec))
            form["consent"] = {"field": key}
        return data


def consent_field_key(form_key: str) -> str:
    """The key of the consent field made for a form's consent line given as text."""
    return f"{form_key}_consent"[:64]


def split_consent_text(text: str) -> tuple[str, str | None]:
    """A consent text as a field's label and help, which it reads back as label, a blank line,
    help (FieldView.consent_text): a text longer than a label may be is split at a blank line.
    Raises ValueError when no blank line leaves a label short enough."""
    if len(text) <= LABEL_MAX:
        return text, None
    at = text.rfind("\n\n", 0, LABEL_MAX + 1)
    if at <= 0:
        raise ValueError(
            f"a consent text over {LABEL_MAX} characters needs a blank line within its first"
            f" {LABEL_MAX} (or name a consent field with field)"
        )
    return text[:at], text[at + 2 :]


def schema_defaults(schema: type[Schema]) -> dict[str, Any]:
    """The value each optional key of ``schema`` takes when a config leaves it out."""
    defaults = {}
    for name, field in schema._declared_fields.items():
        default = field.load_default
        if default is not missing:
            defaults[field.data_key or name] = default() if callable(default) else default
    return defaults
