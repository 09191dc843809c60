"""The token API's sales outcomes (docs/sales.md): a rep or the CRM reports what happened to a
contact, by id or by email. A ``sales`` token (it may do nothing else) or an admin token."""

from __future__ import annotations

from flask import Response, jsonify

from app.api import api_bp
from app.api.auth import require_token, token_api_limited
from app.api.outcome_schemas import OutcomeIn
from app.api.routes import load_body
from app.api.schemas import OutcomeOut
from app.clock import current_time
from app.domain.sales import OutcomeInput
from app.models import SALES
from app.services.sales import ContactRef, record_outcome

OUTCOME_IN, OUTCOME_OUT = OutcomeIn(), OutcomeOut()


@api_bp.post("/sites/<site>/contacts/<int:contact_id>/outcomes")
@token_api_limited
def outcome_by_id(site: str, contact_id: int) -> tuple[Response, int]:
    return _record(site, contact_id)


@api_bp.post("/sites/<site>/contacts/by-email/<email>/outcomes")
@token_api_limited
def outcome_by_email(site: str, email: str) -> tuple[Response, int]:
    return _record(site, email)


def _record(site: str, contact: ContactRef) -> tuple[Response, int]:
    require_token(site, SALES)
    body = load_body(OUTCOME_IN)
    data = OutcomeInput(
        kind=body["kind"],
        by=body["by"],
        idempotency_key=body["idempotency_key"],
        occurred_at=body["occurred_at"],
        reason=body.get("reason"),
        note=body.get("note"),
        external_id=body.get("external_id"),
        amount=body.get("amount"),
        currency=body.get("currency"),
    )
    outcome = record_outcome(site, contact, data, current_time())
    return jsonify(OUTCOME_OUT.dump(outcome)), 201
