"""Public API bodies: separate load (``…In``) and dump (``…Out``) schemas, fields listed."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, post_dump, validate

from app.domain.specs import STAGES

_TOKEN = validate.Length(min=1, max=2048)


class PageIn(Schema):
    class Meta:
        unknown = RAISE

    url = fields.String(validate=validate.Length(max=2000), allow_none=True)
    stage = fields.String(validate=validate.OneOf(STAGES), allow_none=True)


class AskIn(Schema):
    class Meta:
        unknown = RAISE

    visitor = fields.String(validate=_TOKEN, allow_none=True)
    page = fields.Nested(PageIn, allow_none=True)


class SubmitIn(Schema):
    class Meta:
        unknown = RAISE

    visitor = fields.String(required=True, validate=_TOKEN)
    ask_token = fields.String(required=True, validate=_TOKEN)
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=fields.Raw(allow_none=True),
        required=True,
        validate=validate.Length(max=50),
    )
    skipped = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        load_default=list,
        validate=validate.Length(max=50),
    )
    idempotency_key = fields.String(validate=validate.Length(min=1, max=128), allow_none=True)
    hp = fields.String(validate=validate.Length(max=1000), allow_none=True)


class EventIn(Schema):
    class Meta:
        unknown = RAISE

    visitor = fields.String(validate=_TOKEN, allow_none=True)
    kind = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="Use a-z, 0-9 and _."),
    )
    stage = fields.String(validate=validate.OneOf(STAGES), allow_none=True)
    url = fields.String(validate=validate.Length(max=2000), allow_none=True)
    content = fields.String(validate=validate.Length(max=500), allow_none=True)
    id = fields.String(validate=validate.Length(min=1, max=128), allow_none=True)


class _OmitNone(Schema):
    @post_dump
    def _omit_none(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {key: value for key, value in data.items() if value is not None}


class OptionOut(Schema):
    value = fields.String()
    label = fields.String()


class QuestionOut(_OmitNone):
    key = fields.String(attribute="rule.key")
    label = fields.String()
    kind = fields.String(attribute="rule.kind")
    required = fields.Boolean(attribute="rule.required")
    help = fields.String()
    placeholder = fields.String()
    options = fields.Method("_options")
    max_length = fields.Integer()

    def _options(self, question: Any) -> list[dict[str, str]] | None:
        if not question.options:
            return None
        return [{"value": value, "label": label} for value, label in question.options]


class ConsentOut(Schema):
    text = fields.String()
    required = fields.Boolean()


class FormOut(_OmitNone):
    title = fields.String()
    intro = fields.String()
    submit_label = fields.String()
    complete_message = fields.String()
    consent = fields.Nested(ConsentOut)


class AskOut(Schema):
    visitor = fields.String()
    ask_token = fields.String()
    complete = fields.Boolean()
    form = fields.Nested(FormOut)
    questions = fields.List(fields.Nested(QuestionOut))


class SubmitOut(Schema):
    visitor = fields.String()
    complete = fields.Boolean()
    message = fields.String()


class EventOut(Schema):
    visitor = fields.String()
