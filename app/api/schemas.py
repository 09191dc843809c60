"""API bodies: separate load (``…In``) and dump (``…Out``) schemas, fields listed.

The OpenAPI document (``openapi.py``) is generated from these very classes, so every body the
API loads or dumps is described by the schema that handles it. On dump schemas, ``required``
marks the keys that are always present (marshmallow ignores it when dumping), ``allow_none``
the ones that may be null, and ``metadata`` adds what a plain field cannot say (an ``enum``,
a ``date-time`` format).
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_dump,
    validate,
    validates_schema,
)

from app.api.record_schemas import (  # noqa: F401 - re-exported: schemas.ContactData, …
    AccountValueGivenOut,
    ConsentRecordOut,
    ContactData,
    ContactRecordOut,
    DeliveryRecordOut,
    EngagementOut,
    Erasure,
    EventRecordOut,
    HistoryEntryOut,
    MergedContactOut,
    ProfileValueOut,
    RecordedEventOut,
    SkipOut,
    StageChangeOut,
    TokenWithdrawOut,
    VisitorOut,
)
from app.api.sales_out import MOMENT as _MOMENT
from app.api.sales_out import HandoffOut, OutcomeOut  # noqa: F401 - re-exported
from app.domain.interface import LANGUAGES
from app.domain.specs import FIELD_KINDS, STAGES, is_storable_text

_TOKEN = validate.Length(min=1, max=2048)
MAX_PAGE_FORMS = 50  # form keys one page_view may name


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
    # A page_view's forms: the form keys placed on the page. Each of the site's counts a view;
    # others (a typo on the page, a form since removed) are ignored, never the page view.
    forms = fields.List(
        Text(validate=validate.Length(min=1, max=64)),
        validate=validate.Length(max=MAX_PAGE_FORMS),
        allow_none=True,
    )


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


class IdentifyIn(Schema):
    """Proof of who the browser is: an email with its identity hash, or a signed link token."""

    class Meta:
        unknown = RAISE

    visitor = Text(validate=_TOKEN, allow_none=True)
    email = Text(validate=validate.Length(min=3, max=320))
    hash = Text(validate=validate.Length(min=1, max=128))
    link = Text(validate=validate.Length(min=1, max=256))

    @validates_schema
    def _one_proof(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("email" in data) != ("hash" in data):
            missing = "hash" if "email" in data else "email"
            raise ValidationError(["Send email and hash together."], missing)
        if ("email" in data) == ("link" in data):
            raise ValidationError(["Send either email with hash, or link."], "_body")


class IdentifyOut(Schema):
    visitor = fields.String(required=True)
    verified = fields.Boolean(required=True)


class LinksIn(Schema):
    """Whom to mint signed links for (token API)."""

    class Meta:
        unknown = RAISE

    emails = fields.List(
        Text(validate=validate.Length(min=3, max=320)),
        required=True,
        validate=validate.Length(min=1, max=1000),
    )
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=400))


class SignedLinkOut(Schema):
    email = fields.String(required=True)
    token = fields.String(required=True)
    expires_at = fields.String(required=True, metadata=_MOMENT)


class LinksOut(Schema):
    parameter = fields.String(required=True)
    links = fields.List(fields.Nested(SignedLinkOut), required=True)


class PreviewSubmitIn(SubmitIn):
    """A submit without a visitor token: the preview never hands one out."""

    visitor = Text(allow_none=True)


class _OmitNone(Schema):
    @post_dump
    def _omit_none(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {key: value for key, value in data.items() if value is not None}


class OptionOut(Schema):
    value = fields.String(required=True)
    label = fields.String(required=True)


class _Options(fields.List):
    """A question's options, ``((value, label), ...)``, as ``[{value, label}]``; None (left
    out) when it has none."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if not value:
            return None
        pairs = [{"value": key, "label": label} for key, label in value]
        return super()._serialize(pairs, attr, obj, **kwargs)


class QuestionOut(_OmitNone):
    key = fields.String(attribute="rule.key", required=True)
    label = fields.String(required=True)
    kind = fields.String(attribute="rule.kind", required=True, metadata={"enum": list(FIELD_KINDS)})
    required = fields.Boolean(attribute="rule.required", required=True)
    help = fields.String()
    placeholder = fields.String()
    options = _Options(fields.Nested(OptionOut))
    max_length = fields.Integer()
    autocomplete = fields.String(
        metadata={"description": "The input's autocomplete token (given-name, tel, ...)"}
    )
    # Set by AskOut (the ask's grant, not the field): see AskOut._conditions.
    when = fields.Nested("ConditionOut")
    line = fields.Boolean()


class ConditionOut(Schema):
    """``when``: shown while the answer to ``field`` meets ``equals``, ``in`` or ``known``."""

    field = fields.String(required=True)
    equals = fields.Raw()
    in_ = fields.List(fields.Raw(), data_key="in")
    known = fields.Boolean()


class FormOut(_OmitNone):
    title = fields.String(required=True)
    intro = fields.String()
    submit_label = fields.String(required=True)
    complete_message = fields.String()
    language = fields.String(required=True, metadata={"enum": list(LANGUAGES)})
    dir = fields.String(attribute="direction", required=True, metadata={"enum": ["ltr", "rtl"]})
    strings = fields.Dict(
        attribute="widget_strings",
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "The widget's interface text in the form's language"},
    )
    max_questions = fields.Integer(attribute="rules.max_questions", required=True)
    on_complete = fields.Dict(keys=fields.String(), values=fields.String())


class AskOut(Schema):
    visitor = fields.String(required=True)
    ask_token = fields.String(required=True)
    complete = fields.Boolean(required=True)
    form = fields.Nested(FormOut, required=True)
    questions = fields.List(fields.Nested(QuestionOut), required=True)

    @post_dump(pass_original=True)
    def _conditions(self, data: dict[str, Any], original: Any, **_kwargs: Any) -> dict[str, Any]:
        """``when`` on a question granted conditioned, ``line`` on the form's consent line."""
        offered = original.offered
        for question in data["questions"]:
            condition = offered.conditions.get(question["key"])
            if condition is not None:
                question["when"] = {"field": condition.field, condition.op: condition.value}
            if question["key"] == offered.line:
                question["line"] = True
        return data


class SubmitOut(Schema):
    visitor = fields.String(required=True)
    complete = fields.Boolean(required=True)
    message = fields.String(required=True)


class EventOut(Schema):
    visitor = fields.String(required=True)


class WithdrawOut(Schema):
    visitor = fields.String(required=True)


class PreviewAskOut(AskOut):
    """The preview hands out no visitor token."""

    class Meta:
        exclude = ("visitor",)


class PreviewSubmitOut(SubmitOut):
    class Meta:
        exclude = ("visitor",)


class Health(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok"]})


class Empty(Schema):
    """``{}``: what a preview's events call answers."""


class ErrorDetail(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorForm(Schema):
    """What an ask's error answer says of its form: the words the widget shows instead of it,
    in the form's language (``api.unavailable``)."""

    language = fields.String(required=True, metadata={"enum": list(LANGUAGES)})
    dir = fields.String(required=True, metadata={"enum": ["ltr", "rtl"]})
    strings = fields.Dict(
        keys=fields.String(metadata={"enum": ["unavailable"]}),
        values=fields.String(),
        required=True,
        metadata={"description": "The form's unavailable text"},
    )


class Error(Schema):
    """The one error envelope (``app.errors.error_response``); an ask's also names its form's
    language and unavailable text, when its site and form are known."""

    error = fields.Nested(ErrorDetail, required=True)
    form = fields.Nested(ErrorForm)
