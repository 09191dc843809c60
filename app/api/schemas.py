"""Public API bodies: separate load (``…In``) and dump (``…Out``) schemas, fields listed."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, post_dump, validate

from app.domain.specs import STAGES, is_storable_text

_TOKEN = validate.Length(min=1, max=2048)


class Text(fields.String):
    """A string a database column can hold (no NUL, no lone surrogates)."""

    default_error_messages = {"unstorable": "Contains characters that are not allowed."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not is_storable_text(text):
            raise self.make_error("unstorable")
        return text


class PageIn(Schema):
    class Meta:
        unknown = RAISE

    url = Text(validate=validate.Length(max=2000), allow_none=True)
    stage = Text(validate=validate.OneOf(STAGES), allow_none=True)


class AskIn(Schema):
    class Meta:
        unknown = RAISE

    visitor = Text(validate=_TOKEN, allow_none=True)
    page = fields.Nested(PageIn, allow_none=True)


class SubmitIn(Schema):
    class Meta:
        unknown = RAISE

    visitor = Text(required=True, validate=_TOKEN)
    ask_token = Text(required=True, validate=_TOKEN)
    answers = fields.Dict(
        keys=Text(validate=validate.Length(min=1, max=64)),
        values=fields.Raw(allow_none=True),
        required=True,
        validate=validate.Length(max=50),
    )
    skipped = fields.List(
        Text(validate=validate.Length(min=1, max=64)),
        load_default=list,
        validate=validate.Length(max=50),
    )
    idempotency_key = Text(validate=validate.Length(min=1, max=128), allow_none=True)
    hp = Text(validate=validate.Length(max=1000), allow_none=True)


class EventIn(Schema):
    class Meta:
        unknown = RAISE

    visitor = Text(validate=_TOKEN, allow_none=True)
    kind = Text(
        required=True,
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="Use a-z, 0-9 and _."),
    )
    stage = Text(validate=validate.OneOf(STAGES), allow_none=True)
    url = Text(validate=validate.Length(max=2000), allow_none=True)
    content = Text(validate=validate.Length(max=500), allow_none=True)
    id = Text(validate=validate.Length(min=1, max=128), allow_none=True)


class TokenWithdrawIn(Schema):
    """Consents to withdraw on a person's behalf (token API)."""

    class Meta:
        unknown = RAISE

    fields = fields.List(
        Text(validate=validate.Length(min=1, max=64)),
        required=True,
        validate=validate.Length(min=1, max=50),
    )


class WithdrawIn(TokenWithdrawIn):
    """The visitor withdraws their own consents (widget)."""

    visitor = Text(required=True, validate=_TOKEN)


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
