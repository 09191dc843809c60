"""The token API's upserts: what the CRM knows of people, by email (source ``crm``).

They change what is held, so they need an admin token, as every other token API write does;
the token is checked before the body is read.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from app.api import api_bp
from app.api.auth import require_token, token_api_limited
from app.api.crm_schemas import BulkContactsIn, BulkContactsOut, UpsertContactIn, UpsertedOut
from app.api.routes import load_body
from app.clock import current_time
from app.services.people import CRM, import_contacts, tally, upsert_contact

UPSERT_IN, UPSERTED_OUT = UpsertContactIn(), UpsertedOut()
BULK_IN, BULK_OUT = BulkContactsIn(), BulkContactsOut()
# A bulk call carries up to 1000 people: its body may be larger than other calls'.
BULK_MAX_BYTES = 1024 * 1024


@api_bp.put("/sites/<site>/contacts/by-email/<email>")
@token_api_limited
def upsert_by_email(site: str, email: str) -> tuple[Response, int]:
    """200 with what changed; 201 when the contact was created."""
    require_token(site, "admin")
    body = load_body(UPSERT_IN)
    done = upsert_contact(
        site,
        email,
        body["fields"],
        source=CRM,
        now=current_time(),
        origin=body.get("origin"),
        forward_to_origin=body["forward_to_origin"],
    )
    return jsonify(UPSERTED_OUT.dump(done)), 201 if done.created else 200


@api_bp.post("/sites/<site>/contacts/bulk")
@token_api_limited
def upsert_bulk(site: str) -> Response:
    """Up to 1000 people, all or nothing."""
    require_token(site, "admin")
    request.max_content_length = BULK_MAX_BYTES
    body = load_body(BULK_IN)
    people = [(one["email"], one["fields"]) for one in body["contacts"]]
    done = import_contacts(
        site,
        people,
        source=CRM,
        now=current_time(),
        origin=body.get("origin"),
        forward_to_origin=body["forward_to_origin"],
    )
    return jsonify(BULK_OUT.dump({"contacts": done, **tally(done)}))
