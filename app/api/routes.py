"""The widget's public endpoints (DESIGN §4). Parse → one service call → respond."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from marshmallow import Schema, ValidationError

from app.api import api_bp, cors  # noqa: F401 - cors registers the origin checks
from app.api.body import request_json
from app.api.limits import preflight_limited, rate_limited
from app.api.openapi import openapi_document
from app.api.schemas import (
    AskIn,
    AskOut,
    EventIn,
    EventOut,
    Health,
    IdentifyIn,
    IdentifyOut,
    SubmitIn,
    SubmitOut,
    WithdrawIn,
    WithdrawOut,
)
from app.clock import current_time
from app.extensions import limiter
from app.services.asking import SubmitInput, ask_questions, submit_answers
from app.services.errors import Invalid
from app.services.people import EventInput, identify_visitor, record_engagement
from app.services.privacy import withdraw_for_visitor

# Schemas hold no per-request state: build each once.
ASK_IN, ASK_OUT = AskIn(), AskOut()
SUBMIT_IN, SUBMIT_OUT = SubmitIn(), SubmitOut()
EVENT_IN, EVENT_OUT = EventIn(), EventOut()
WITHDRAW_IN, WITHDRAW_OUT = WithdrawIn(), WithdrawOut()
IDENTIFY_IN, IDENTIFY_OUT = IdentifyIn(), IdentifyOut()
HEALTH = Health()


def load_body(schema: Schema) -> dict[str, Any]:
    """The request's JSON object, validated by ``schema``; errors become the JSON envelope."""
    data = request_json()
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.")
    try:
        return schema.load(data)
    except ValidationError as exc:
        fields = flatten_messages(exc.messages)
        raise Invalid("Invalid body: " + ", ".join(sorted(fields)) + ".", fields) from None


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as ``{"page.stage": [...]}``."""
    if isinstance(messages, list):
        return {prefix or "_body": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and set(value) <= {"key", "value"} and prefix == "answers":
            value = [m for part in value.values() for m in part]
        flat.update(flatten_messages(value, path))
    return flat


@api_bp.route("/sites/<site>/forms/<form>/ask", methods=["OPTIONS"], endpoint="preflight")
@api_bp.route("/sites/<site>/forms/<form>/submit", methods=["OPTIONS"], endpoint="preflight")
@api_bp.route("/sites/<site>/events", methods=["OPTIONS"], endpoint="preflight")
@api_bp.route("/sites/<site>/consents/withdraw", methods=["OPTIONS"], endpoint="preflight")
@api_bp.route("/sites/<site>/identify", methods=["OPTIONS"], endpoint="preflight")
@preflight_limited
def preflight(site: str, form: str | None = None) -> Response:
    """CORS preflight; the origin check and headers are cors.py's."""
    return Response(status=204)


@api_bp.post("/sites/<site>/forms/<form>/ask", provide_automatic_options=False)
@rate_limited
def ask(site: str, form: str) -> Response:
    body = load_body(ASK_IN)
    page = body.get("page") or {}
    result = ask_questions(site, form, body.get("visitor"), page.get("stage"), current_time())
    return jsonify(ASK_OUT.dump(result))


@api_bp.post("/sites/<site>/forms/<form>/submit", provide_automatic_options=False)
@rate_limited
def submit(site: str, form: str) -> Response:
    body = load_body(SUBMIT_IN)
    data = SubmitInput(
        visitor=body["visitor"],
        ask_token=body["ask_token"],
        answers=body["answers"],
        skipped=body["skipped"],
        idempotency_key=body.get("idempotency_key"),
        honeypot=body.get("hp"),
    )
    return jsonify(SUBMIT_OUT.dump(submit_answers(site, form, data, current_time())))


@api_bp.post("/sites/<site>/events", provide_automatic_options=False)
@rate_limited
def events(site: str) -> tuple[Response, int]:
    body = load_body(EVENT_IN)
    event = EventInput(
        kind=body["kind"],
        stage=body.get("stage"),
        url=body.get("url"),
        content=body.get("content"),
        external_id=body.get("id"),
        forms=tuple(body.get("forms") or ()),
    )
    visitor = record_engagement(site, body.get("visitor"), event, current_time())
    return jsonify(EVENT_OUT.dump({"visitor": visitor})), 202


@api_bp.post("/sites/<site>/consents/withdraw", provide_automatic_options=False)
@rate_limited
def withdraw_consent(site: str) -> Response:
    """The visitor withdraws consents they gave; the answer is the same whatever was held."""
    body = load_body(WITHDRAW_IN)
    withdraw_for_visitor(site, body["visitor"], body["fields"], current_time())
    return jsonify(WITHDRAW_OUT.dump({"visitor": body["visitor"]}))


@api_bp.post("/sites/<site>/identify", provide_automatic_options=False)
@rate_limited
def identify(site: str) -> Response:
    """Verify the browser by an identity hash or a signed link; anything that does not verify
    is treated as absent (``verified`` false), whatever the email."""
    body = load_body(IDENTIFY_IN)
    result = identify_visitor(
        site,
        body.get("visitor"),
        current_time(),
        email=body.get("email"),
        identity_hash=body.get("hash"),
        link=body.get("link"),
    )
    return jsonify(IDENTIFY_OUT.dump(result))


@api_bp.get("/health")
@limiter.exempt
def health() -> Response:
    """Liveness for load balancers: the process answers; touches no database."""
    return jsonify(HEALTH.dump({"status": "ok"}))


@api_bp.get("/openapi.json")
@limiter.exempt
def openapi() -> Response:
    return jsonify(openapi_document())
