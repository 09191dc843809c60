"""The token API's data-subject documents (``services/privacy/data_subject.py``): everything
held on one person, and the answers to erasure and withdrawal. Split from ``schemas.py`` (its
size); ``schemas`` re-exports them, so ``schemas.ContactData`` and the like stay where they were.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from app.api.sales_out import MOMENT as _MOMENT
from app.api.sales_out import HandoffOut, OutcomeOut


class TokenWithdrawOut(Schema):
    contact_id = fields.Integer(required=True)
    withdrawn = fields.List(fields.String(), required=True)


class Erasure(Schema):
    contact_id = fields.Integer(required=True)
    erased_at = fields.String(required=True, metadata=_MOMENT)
    removed = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    notified = fields.List(fields.String(), required=True)


class ContactRecordOut(Schema):
    id = fields.Integer(required=True)
    site = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)
    stage = fields.String(required=True, allow_none=True)
    account_domain = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True, metadata=_MOMENT)
    updated_at = fields.String(required=True, metadata=_MOMENT)


_SOURCE = {"description": "Where the value came from: browser, import, crm or api"}
_VERIFIED = {"description": "Given by a verified browser, an import or the token API"}


class ProfileValueOut(Schema):
    value = fields.Raw(required=True)
    updated_at = fields.String(required=True, metadata=_MOMENT)
    form = fields.String(required=True, allow_none=True)
    visitor = fields.String(required=True, allow_none=True)
    source = fields.String(required=True, metadata=_SOURCE)
    verified = fields.Boolean(required=True, metadata=_VERIFIED)


class AccountValueGivenOut(Schema):
    value = fields.Raw(required=True)
    updated_at = fields.String(required=True, metadata=_MOMENT)
    trusted = fields.Boolean(
        required=True, metadata={"description": "Spares the account's other contacts the question"}
    )


class HistoryEntryOut(Schema):
    field = fields.String(required=True)
    value = fields.Raw(required=True)
    previous_value = fields.Raw(required=True)
    form = fields.String(required=True)
    visitor = fields.String(required=True, allow_none=True)
    source = fields.String(required=True, metadata=_SOURCE)
    verified = fields.Boolean(required=True, metadata=_VERIFIED)
    applied = fields.Boolean(
        required=True, metadata={"description": "False: a claim that replaced nobody's value"}
    )
    at = fields.String(required=True, metadata=_MOMENT)


class EventRecordOut(Schema):
    kind = fields.String(required=True)
    stage = fields.String(required=True)
    id = fields.String(required=True, allow_none=True)
    url = fields.String(required=True, allow_none=True)
    content = fields.String(required=True, allow_none=True)
    visitor = fields.String(required=True, allow_none=True)
    at = fields.String(required=True, metadata=_MOMENT)


class EngagementOut(Schema):
    score = fields.Float(required=True)
    events = fields.Integer(required=True)
    reached_stage = fields.String(required=True, allow_none=True)


class ConsentRecordOut(Schema):
    field = fields.String(required=True)
    granted = fields.Boolean(required=True)
    text = fields.String(required=True, allow_none=True)
    version = fields.String(required=True, allow_none=True)
    form = fields.String(required=True, allow_none=True)
    visitor = fields.String(required=True, allow_none=True)
    source = fields.String(required=True)
    by = fields.String(required=True, allow_none=True)
    at = fields.String(required=True, metadata=_MOMENT)


class StageChangeOut(Schema):
    from_ = fields.String(data_key="from", attribute="from", required=True, allow_none=True)
    to = fields.String(required=True)
    rule = fields.Dict(required=True, allow_none=True)
    at = fields.String(required=True, metadata=_MOMENT)


class SkipOut(Schema):
    field = fields.String(required=True)
    form = fields.String(required=True)
    at = fields.String(required=True, metadata=_MOMENT)


class VisitorOut(Schema):
    id = fields.String(required=True)
    first_seen = fields.String(required=True, metadata=_MOMENT)
    last_seen = fields.String(required=True, metadata=_MOMENT)
    trust = fields.String(required=True, metadata={"enum": ["claimed", "verified"]})
    verified_by = fields.String(
        required=True,
        allow_none=True,
        metadata={"enum": ["identity_hash", "link", "upgrade", None]},
    )
    verified_at = fields.String(required=True, allow_none=True, metadata=_MOMENT)


class MergedContactOut(Schema):
    contact_id = fields.Integer(required=True)
    at = fields.String(required=True, metadata=_MOMENT)


class RecordedEventOut(Schema):
    type = fields.String(required=True)
    at = fields.String(required=True, metadata=_MOMENT)
    data = fields.Dict(
        required=True, metadata={"description": "The event as stored for delivery downstream"}
    )


class DeliveryRecordOut(Schema):
    destination = fields.String(required=True)
    event = fields.String(required=True)
    webhook_id = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    created_at = fields.String(required=True, metadata=_MOMENT)
    delivered_at = fields.String(required=True, allow_none=True, metadata=_MOMENT)
    body = fields.Dict(required=True, metadata={"description": "The exact webhook body sent"})


class ContactData(Schema):
    """Everything held on one person: a data-subject access request (docs/api.md)."""

    contact = fields.Nested(ContactRecordOut, required=True)
    profile = fields.Dict(
        keys=fields.String(), values=fields.Nested(ProfileValueOut), required=True
    )
    account_values_given = fields.Dict(
        keys=fields.String(), values=fields.Nested(AccountValueGivenOut), required=True
    )
    history = fields.List(fields.Nested(HistoryEntryOut), required=True)
    events = fields.List(fields.Nested(EventRecordOut), required=True)
    engagement = fields.Nested(EngagementOut, required=True)
    consents = fields.List(fields.Nested(ConsentRecordOut), required=True)
    stage_changes = fields.List(fields.Nested(StageChangeOut), required=True)
    skips = fields.List(fields.Nested(SkipOut), required=True)
    sales_outcomes = fields.List(fields.Nested(OutcomeOut), required=True)
    handoffs = fields.List(fields.Nested(HandoffOut), required=True)
    visitors = fields.List(fields.Nested(VisitorOut), required=True)
    merged_contacts = fields.List(fields.Nested(MergedContactOut), required=True)
    recorded_events = fields.List(fields.Nested(RecordedEventOut), required=True)
    deliveries = fields.List(fields.Nested(DeliveryRecordOut), required=True)
    generated_at = fields.String(required=True, metadata=_MOMENT)
