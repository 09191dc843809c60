"""The token API's sales outcomes (docs/sales.md): a rep or the CRM reports what happened to a
contact, by id or by email. A ``sales`` token (it may do nothing else) or an admin token.

The same outcome also arrives as an inbound webhook from a CRM workflow, with no token: its
Standard Webhooks signature by the site's inbound secret is the authentication.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from app.api import api_bp
from app.api.auth import require_token, token_api_limited
from app.api.outcome_schemas import InboundOutcomeIn, OutcomeIn
from app.api.routes import load_body
from app.api.schemas import OutcomeOut
from app.clock import current_time
from app.domain.sales import OutcomeInput
from app.models import SALES
from app.services.errors import Invalid
from app.services.sales import ContactRef, check_inbound_signature, record_outcome

OUTCOME_IN, INBOUND_IN, OUTCOME_OUT = OutcomeIn(), InboundOutcomeIn(), OutcomeOut()
KEY_MAX = 128  # an idempotency key's length, as OutcomeIn has it


@api_bp.post("/sites/<site>/contacts/<int:contact_id>/outcomes")
@token_api_limited
def outcome_by_id(site: str, contact_id: int) -> tuple[Response, int]:
    require_token(site, SALES)
    return _record(site, contact_id, load_body(OUTCOME_IN))


@api_bp.post("/sites/<site>/contacts/by-email/<email>/outcomes")
@token_api_limited
def outcome_by_email(site: str, email: str) -> tuple[Response, int]:
    require_token(site, SALES)
    return _record(site, email, load_body(OUTCOME_IN))


@api_bp.post("/sites/<site>/inbound/outcomes")
@token_api_limited
def inbound_outcome(site: str) -> tuple[Response, int]:
    """Verified over the raw body before it is parsed: a request that does not verify is 401."""
    message_id = request.headers.get("webhook-id", "")
    check_inbound_signature(
        site,
        message_id,
        request.headers.get("webhook-timestamp", ""),
        request.headers.get("webhook-signature", ""),
        request.get_data(cache=True),
        current_time(),
    )
    body = load_body(INBOUND_IN)
    if "idempotency_key" not in body and len(message_id) > KEY_MAX:
        message = f"At most {KEY_MAX} characters when the body has no idempotency_key."
        raise Invalid("Invalid body: webhook-id.", {"webhook-id": [message]})
    body.setdefault("idempotency_key", message_id)
    contact = body["contact_id"] if "contact_id" in body else body["email"]
    return _record(site, contact, body)


def _record(site: str, contact: ContactRef, body: dict[str, Any]) -> tuple[Response, int]:
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
