"""The token API's data-subject endpoints (DESIGN §4): one person's data, its erasure, and
withdrawing consent on their behalf.

Reading needs an analyst token (the same data an export gives); erasing and withdrawing change
what is held, so they need an admin token. The token is checked before anything else.
"""

from __future__ import annotations

from flask import Response, jsonify

from app.api import api_bp
from app.api.auth import require_token, token_api_limited
from app.api.routes import load_body
from app.api.schemas import (
    ContactData,
    Erasure,
    LinksIn,
    LinksOut,
    TokenWithdrawIn,
    TokenWithdrawOut,
)
from app.clock import current_time
from app.domain.specs import iso
from app.models import ApiToken
from app.services.people import LINK_PARAMETER, mint_links
from app.services.privacy import API, erase_contact, subject_access, withdraw_for_contact

CONTACT_DATA, ERASURE = ContactData(), Erasure()
TOKEN_WITHDRAW_IN, TOKEN_WITHDRAW_OUT = TokenWithdrawIn(), TokenWithdrawOut()
LINKS_IN, LINKS_OUT = LinksIn(), LinksOut()


def _actor(token: ApiToken) -> str:
    return f"token {token.prefix}… ({token.name})"


@api_bp.get("/sites/<site>/contacts/<int:contact_id>")
@token_api_limited
def contact_data(site: str, contact_id: int) -> Response:
    require_token(site, "analyst")
    data = subject_access(site, contact_id, current_time())
    response = jsonify(CONTACT_DATA.dump(data))
    response.headers["Cache-Control"] = "no-store"
    return response


@api_bp.delete("/sites/<site>/contacts/<int:contact_id>")
@token_api_limited
def erase(site: str, contact_id: int) -> Response:
    token = require_token(site, "admin")
    now = current_time()
    return jsonify(
        ERASURE.dump(erase_contact(site, contact_id, requested_by=_actor(token), now=now))
    )


@api_bp.post("/sites/<site>/contacts/<int:contact_id>/consents/withdraw")
@token_api_limited
def withdraw(site: str, contact_id: int) -> Response:
    token = require_token(site, "admin")
    body = load_body(TOKEN_WITHDRAW_IN)
    now = current_time()
    withdrawn = withdraw_for_contact(
        site, contact_id, body["fields"], source=API, actor=_actor(token), now=now
    )
    return jsonify(TOKEN_WITHDRAW_OUT.dump({"contact_id": contact_id, "withdrawn": withdrawn}))


@api_bp.post("/sites/<site>/links")
@token_api_limited
def links(site: str) -> Response:
    """Signed links for many recipients in one call (admin token: a link verifies whoever
    opens it as that person)."""
    require_token(site, "admin")
    body = load_body(LINKS_IN)
    minted = mint_links(site, body["emails"], current_time(), body["days"])
    response = jsonify(
        LINKS_OUT.dump(
            {
                "parameter": LINK_PARAMETER,
                "links": [
                    {"email": m.email, "token": m.token, "expires_at": iso(m.expires_at)}
                    for m in minted
                ],
            }
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response
