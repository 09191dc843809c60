"""The body the sales outcomes endpoints load (docs/sales.md), kept apart from ``schemas``
(near its size limit, it holds ``OutcomeOut``); the OpenAPI document lists it with the others.

The body's types are checked here; what the site's config agrees on (the kinds, reasons,
currencies, how far ahead ``occurred_at`` may be) is the service's to check.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from app.api.schemas import Text
from app.domain.sales import CURRENCIES, NOTE_MAX, OUTCOME_KINDS

_MOMENT = {"format": "date-time"}


class Amount(fields.Field):
    """A JSON number (never a bool or a string), loaded exactly as written."""

    default_error_messages = {"invalid": "Not a valid number."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


class Moment(fields.AwareDateTime):
    """ISO 8601; a time without a zone is UTC."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=UTC, metadata=_MOMENT, **kwargs)


class OutcomeIn(Schema):
    class Meta:
        unknown = RAISE

    kind = Text(required=True, metadata={"enum": list(OUTCOME_KINDS)})
    occurred_at = Moment(required=True)
    by = Text(required=True, validate=validate.Length(min=1, max=320))
    idempotency_key = Text(required=True, validate=validate.Length(min=1, max=128))
    reason = Text(validate=validate.Length(min=1, max=64), allow_none=True)
    note = Text(validate=validate.Length(max=NOTE_MAX), allow_none=True)
    external_id = Text(validate=validate.Length(min=1, max=128), allow_none=True)
    amount = Amount(allow_none=True, metadata={"type": "number", "minimum": 0})
    currency = Text(allow_none=True, metadata={"enum": sorted(CURRENCIES)})


class InboundOutcomeIn(OutcomeIn):
    """The inbound webhook's body: an outcome and its contact, by ``contact_id`` or ``email``
    (exactly one); without an ``idempotency_key`` the ``webhook-id`` header is the key."""

    idempotency_key = Text(validate=validate.Length(min=1, max=128))
    contact_id = fields.Integer(strict=True, validate=validate.Range(min=1))
    email = Text(validate=validate.Length(min=1, max=320))

    @validates_schema
    def _one_contact(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("contact_id" in data) == ("email" in data):
            raise ValidationError(
                "Give the contact's contact_id or its email: one of them.", "contact_id"
            )
