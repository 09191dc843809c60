"""The OpenAPI 3.1 description of the API, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from app.domain.specs import FIELD_KINDS, STAGES

_TOKEN = {"type": "string", "minLength": 1, "maxLength": 2048}
_NULLABLE_TOKEN = {"type": ["string", "null"], "minLength": 1, "maxLength": 2048}
_SITE = {"name": "site", "in": "path", "required": True, "schema": {"type": "string"}}
_FORM = {"name": "form", "in": "path", "required": True, "schema": {"type": "string"}}
_CONTACT = {"name": "contact_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_KEY = {"type": "string", "minLength": 1, "maxLength": 64}
_KEYS = {"type": "array", "items": _KEY, "minItems": 1, "maxItems": 50}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


_ERRORS = {
    str(status): {"description": text, **_json(_ref("Error"))}
    for status, text in [
        (400, "Body is not valid JSON"),
        (403, "Browser origin not allowed for this site"),
        (404, "Unknown site or form"),
        (413, "Body over 64 KB"),
        (415, "Body is not application/json"),
        (422, "Invalid body or answers"),
        (429, "Rate limited; see Retry-After"),
    ]
}

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
                ["code", "message"],
            )
        },
        ["error"],
    ),
    "AskIn": _object(
        {
            "visitor": _NULLABLE_TOKEN,
            "page": {
                "type": ["object", "null"],
                "properties": {
                    "url": {"type": ["string", "null"], "maxLength": 2000},
                    "stage": {"enum": [*STAGES, None]},
                },
                "additionalProperties": False,
            },
        }
    ),
    "Question": _object(
        {
            "key": {"type": "string"},
            "label": {"type": "string"},
            "kind": {"enum": list(FIELD_KINDS)},
            "required": {"type": "boolean"},
            "help": {"type": "string"},
            "placeholder": {"type": "string"},
            "max_length": {"type": "integer"},
            "options": {
                "type": "array",
                "items": _object({"value": {"type": "string"}, "label": {"type": "string"}}),
            },
        },
        ["key", "label", "kind", "required"],
    ),
    "AskOut": _object(
        {
            "visitor": _TOKEN,
            "ask_token": _TOKEN,
            "complete": {"type": "boolean"},
            "form": _object(
                {
                    "title": {"type": "string"},
                    "intro": {"type": "string"},
                    "submit_label": {"type": "string"},
                    "complete_message": {"type": "string"},
                    "consent": _object(
                        {"text": {"type": "string"}, "required": {"type": "boolean"}}
                    ),
                },
                ["title", "submit_label"],
            ),
            "questions": {"type": "array", "items": _ref("Question")},
        },
        ["visitor", "ask_token", "complete", "form", "questions"],
    ),
    "SubmitIn": _object(
        {
            "visitor": _TOKEN,
            "ask_token": _TOKEN,
            "answers": {"type": "object", "maxProperties": 50},
            "skipped": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
            "idempotency_key": {"type": ["string", "null"], "minLength": 1, "maxLength": 128},
            "hp": {"type": ["string", "null"], "maxLength": 1000},
        },
        ["visitor", "ask_token", "answers"],
    ),
    "SubmitOut": _object(
        {"visitor": _TOKEN, "complete": {"type": "boolean"}, "message": {"type": "string"}},
        ["visitor", "complete", "message"],
    ),
    "EventIn": _object(
        {
            "visitor": _NULLABLE_TOKEN,
            "kind": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
            "stage": {"enum": [*STAGES, None]},
            "url": {"type": ["string", "null"], "maxLength": 2000},
            "content": {"type": ["string", "null"], "maxLength": 500},
            "id": {"type": ["string", "null"], "minLength": 1, "maxLength": 128},
        },
        ["kind"],
    ),
    "EventOut": _object({"visitor": _TOKEN}, ["visitor"]),
    "WithdrawIn": _object(
        {"visitor": _TOKEN, "fields": _KEYS},
        ["visitor", "fields"],
    ),
    "WithdrawOut": _object({"visitor": _TOKEN}, ["visitor"]),
    "TokenWithdrawIn": _object({"fields": _KEYS}, ["fields"]),
    "TokenWithdrawOut": _object(
        {"contact_id": {"type": "integer"}, "withdrawn": {"type": "array", "items": _KEY}},
        ["contact_id", "withdrawn"],
    ),
    "Erasure": _object(
        {
            "contact_id": {"type": "integer"},
            "erased_at": {"type": "string", "format": "date-time"},
            "removed": {"type": "object", "additionalProperties": {"type": "integer"}},
            "notified": {"type": "array", "items": {"type": "string"}},
        },
        ["contact_id", "erased_at", "removed", "notified"],
    ),
    "ContactData": {
        "type": "object",
        "description": "Everything held on one person; see docs/api.md",
        "properties": {
            name: {"type": kind}
            for name, kind in [
                ("contact", "object"),
                ("profile", "object"),
                ("account_values_given", "object"),
                ("history", "array"),
                ("events", "array"),
                ("engagement", "object"),
                ("consents", "array"),
                ("stage_changes", "array"),
                ("skips", "array"),
                ("visitors", "array"),
                ("merged_contacts", "array"),
                ("deliveries", "array"),
                ("generated_at", "string"),
            ]
        },
        "required": ["contact", "profile", "history", "events", "consents", "deliveries"],
    },
}


def _without(schema: dict[str, Any], dropped: str, *, optional: bool = False) -> dict[str, Any]:
    """``schema`` with property ``dropped`` left out (or, ``optional``, no longer required)."""
    properties = dict(schema["properties"])
    if not optional:
        properties.pop(dropped)
    required = [name for name in schema.get("required", []) if name != dropped]
    return _object(properties, required)


# The live preview (console): the widget's endpoints under /preview/{token}; no visitor token.
SCHEMAS.update(
    {
        "PreviewAskOut": _without(SCHEMAS["AskOut"], "visitor"),
        "PreviewSubmitIn": _without(SCHEMAS["SubmitIn"], "visitor", optional=True),
        "PreviewSubmitOut": _without(SCHEMAS["SubmitOut"], "visitor"),
        "Empty": _object({}),
    }
)
_PREVIEW = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
_PREVIEW_PATH = "/preview/{token}/api/v1"


def _post(summary: str, body: str, status: str, out: str, params: list[Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": params,
            "requestBody": {"required": True, **_json(_ref(body))},
            "responses": {status: {"description": "OK", **_json(_ref(out))}, **_ERRORS},
        }
    }


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_CSV_LIST = {"type": "string", "description": "one key, or several separated by commas"}
_MOMENT = {"type": "string", "examples": ["2026-03-01", "2026-03-01T09:00Z"]}
_BOOL = {"enum": ["true", "false", "1", "0", "yes", "no", "on", "off"]}
_FORMAT = _query(
    "format", "Output format [csv]", {"enum": ["csv", "jsonl", "parquet"], "default": "csv"}
)
_STREAMS = {
    "200": {
        "description": "The export, streamed as an attachment (`Content-Disposition`)",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/vnd.apache.parquet": {
                "schema": {"type": "string", "contentEncoding": "binary"}
            },
        },
    },
    **{
        str(status): {"description": text, **_json(_ref("Error"))}
        for status, text in [
            (401, "No token, or a wrong or revoked one (WWW-Authenticate: Bearer)"),
            (403, "The token belongs to another site, or its role is too low"),
            (422, "Unknown format, parameter or filter value; every one is named"),
            (429, "Rate limited; see Retry-After"),
        ]
    },
}


def _export(summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "security": [{"bearer": []}],
            "parameters": [_SITE, _FORMAT, *params],
            "responses": _STREAMS,
        }
    }


_EXPORT_PATHS = {
    "/sites/{site}/contacts/export": _export(
        "Export the site's contacts (analyst token or higher); see docs/exports.md",
        [
            _query("stage", "Only contacts in these lifecycle stages", _CSV_LIST),
            _query("updated_since", "Only contacts updated since (UTC if no zone)", _MOMENT),
            _query(
                "min_completeness",
                "Only contacts knowing at least this % of fields",
                {"type": "integer", "minimum": 0, "maximum": 100},
            ),
            _query("tier_complete", "Only contacts knowing every field of these tiers", _CSV_LIST),
            _query("form", "Only contacts who gave a value through this form", {"type": "string"}),
            _query("identified", "true: only contacts with an email; false: only anonymous", _BOOL),
            _query("provenance", "Add <field>__at and <field>__source columns", _BOOL),
        ],
    ),
    "/sites/{site}/submissions/export": _export(
        "Export the submission history: one row per accepted value (analyst token or higher)",
        [
            _query("since", "Only values given since (UTC if no zone)", _MOMENT),
            _query("form", "Only values given through this form", {"type": "string"}),
            _query("field", "Only this field's values", {"type": "string"}),
        ],
    ),
}


def _token_call(summary: str, ok: dict[str, Any], body: str | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": [_SITE, _CONTACT],
        "responses": {
            "200": {"description": "OK", **_json(ok)},
            **{
                str(status): {"description": text, **_json(_ref("Error"))}
                for status, text in [
                    (401, "No token, or a wrong or revoked one (WWW-Authenticate: Bearer)"),
                    (403, "The token belongs to another site, or its role is too low"),
                    (404, "No such contact on this site"),
                    (422, "Invalid body"),
                    (429, "Rate limited; see Retry-After"),
                ]
                if body is not None or status != 422
            },
        },
    }
    if body is not None:
        operation["requestBody"] = {"required": True, **_json(_ref(body))}
    return operation


_CONTACT_PATHS = {
    "/sites/{site}/contacts/{contact_id}": {
        "get": _token_call(
            "Everything held on one person: a data-subject access request (analyst token)",
            _ref("ContactData"),
        ),
        "delete": _token_call(
            "Erase one person and tell the destinations that received them (admin token)",
            _ref("Erasure"),
        ),
    },
    "/sites/{site}/contacts/{contact_id}/consents/withdraw": {
        "post": _token_call(
            "Withdraw consents on the person's behalf (admin token)",
            _ref("TokenWithdrawOut"),
            "TokenWithdrawIn",
        )
    },
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Trickle API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/sites/{site}/forms/{form}/ask": _post(
                "Questions to show this visitor now", "AskIn", "200", "AskOut", [_SITE, _FORM]
            ),
            "/sites/{site}/forms/{form}/submit": _post(
                "Answer the questions an ask offered",
                "SubmitIn",
                "200",
                "SubmitOut",
                [_SITE, _FORM],
            ),
            "/sites/{site}/events": _post(
                "Record an engagement event", "EventIn", "202", "EventOut", [_SITE]
            ),
            _PREVIEW_PATH + "/sites/{site}/forms/{form}/ask": _post(
                "Live preview: the questions a made-up visitor sees; stores nothing",
                "AskIn",
                "200",
                "PreviewAskOut",
                [_PREVIEW, _SITE, _FORM],
            ),
            _PREVIEW_PATH + "/sites/{site}/forms/{form}/submit": _post(
                "Live preview: check answers like submit; stores nothing",
                "PreviewSubmitIn",
                "200",
                "PreviewSubmitOut",
                [_PREVIEW, _SITE, _FORM],
            ),
            _PREVIEW_PATH + "/sites/{site}/events": _post(
                "Live preview: engagement is accepted and dropped",
                "EventIn",
                "202",
                "Empty",
                [_PREVIEW, _SITE],
            ),
            "/sites/{site}/consents/withdraw": _post(
                "The visitor withdraws consents they gave (same answer whatever was held)",
                "WithdrawIn",
                "200",
                "WithdrawOut",
                [_SITE],
            ),
            **_EXPORT_PATHS,
            **_CONTACT_PATHS,
            "/health": {
                "get": {
                    "summary": "Liveness",
                    "responses": {"200": {"description": "The process answers"}},
                }
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (trk_…) from the console or `trickle tokens create`",
                }
            },
        },
    }
