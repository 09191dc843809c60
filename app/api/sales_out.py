"""What the API answers about sales: an outcome, a hand-off with its SLA. Apart from
``schemas`` (near its size limit); ``schemas`` re-exports them for the OpenAPI document."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.domain.sales import OUTCOME_KINDS

MOMENT = {"format": "date-time"}  # ISO 8601 in UTC with a Z (``app.domain.specs.iso``)
SLA_STATES = ["met", "breached", "due", "no window"]


class OutcomeStageOut(Schema):
    from_ = fields.String(required=True, allow_none=True, data_key="from", attribute="from")
    to = fields.String(required=True)


class OutcomeOut(Schema):
    id = fields.Integer(required=True)
    contact_id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(OUTCOME_KINDS)})
    reason = fields.String(required=True, allow_none=True)
    note = fields.String(required=True, allow_none=True)
    external_id = fields.String(required=True, allow_none=True)
    amount = fields.String(required=True, allow_none=True, metadata={"pattern": r"^\d+\.\d\d$"})
    currency = fields.String(required=True, allow_none=True)
    by = fields.String(required=True)
    occurred_at = fields.String(required=True, metadata=MOMENT)
    recorded_at = fields.String(required=True, metadata=MOMENT)
    stage = fields.Nested(OutcomeStageOut, required=True, allow_none=True)


class HandoffOut(Schema):
    team = fields.String(required=True, metadata={"enum": ["sales", "marketing"]})
    stage = fields.String(required=True, allow_none=True)
    started_at = fields.String(required=True, metadata=MOMENT)
    due_at = fields.String(required=True, allow_none=True, metadata=MOMENT)
    touched_at = fields.String(required=True, allow_none=True, metadata=MOMENT)
    touched_by = fields.String(required=True, allow_none=True)
    touch_kind = fields.String(required=True, allow_none=True)
    sla = fields.String(required=True, metadata={"enum": SLA_STATES})
    breached_at = fields.String(required=True, allow_none=True, metadata=MOMENT)
    closed_at = fields.String(required=True, allow_none=True, metadata=MOMENT)
    closed_by = fields.String(required=True, allow_none=True)
