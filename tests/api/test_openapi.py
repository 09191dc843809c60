"""The OpenAPI document describes exactly the routes and bodies the API has: every body is
generated from the marshmallow schema the views load or dump it with."""

from __future__ import annotations

import re

import pytest

from app import create_app
from app.api.crm_schemas import BulkContactsIn, BulkContactsOut, UpsertContactIn, UpsertedOut
from app.api.openapi import COMPONENTS
from app.api.preview import PreviewSubmitIn
from app.api.schemas import (
    AskIn,
    AskOut,
    ContactData,
    Erasure,
    EventIn,
    EventOut,
    SubmitIn,
    SubmitOut,
    TokenWithdrawIn,
    TokenWithdrawOut,
    WithdrawIn,
    WithdrawOut,
)
from app.services.exports.params import CONTACT_PARAMS, HISTORY_PARAMS
from tests.databases import settings_for


@pytest.fixture
def bare_app():
    return create_app(settings_for("sqlite://"))


def test_every_api_route_is_described(bare_app, document):
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for rule in bare_app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        and rule.endpoint not in {"api.preflight", "api.openapi"}
    }
    assert routes == set(document["paths"])
    assert document["openapi"] == "3.1.0"


@pytest.fixture
def document(bare_app):
    return bare_app.test_client().get("/api/v1/openapi.json").get_json()


def _keys(schema) -> set[str]:
    return {field.data_key or name for name, field in schema().fields.items()}


@pytest.mark.parametrize(
    "schema",
    [
        AskIn,
        SubmitIn,
        EventIn,
        AskOut,
        SubmitOut,
        EventOut,
        PreviewSubmitIn,
        WithdrawIn,
        WithdrawOut,
        TokenWithdrawIn,
        TokenWithdrawOut,
        Erasure,
        ContactData,
        UpsertContactIn,
        UpsertedOut,
        BulkContactsIn,
        BulkContactsOut,
    ],
    ids=lambda schema: schema.__name__,
)
def test_described_bodies_list_the_same_keys_as_the_schemas(document, schema):
    described = document["components"]["schemas"][schema.__name__]
    assert set(described["properties"]) == _keys(schema)
    assert described["additionalProperties"] is False


def _schemas_of(content: dict) -> list[dict]:
    return [media["schema"] for media in content.values()]


def test_every_json_body_is_a_generated_component(document):
    """No body is described by hand: each request and JSON response refers to a component,
    and each component is one of the marshmallow schemas (or nested in one)."""
    generated = {schema.__name__ for schema in COMPONENTS}
    referred = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            bodies = _schemas_of(operation.get("requestBody", {}).get("content", {}))
            for response in operation["responses"].values():
                content = response.get("content", {})
                bodies += _schemas_of({k: v for k, v in content.items() if k == "application/json"})
            for body in bodies:
                assert set(body) == {"$ref"}, (method, path, body)
                referred.add(body["$ref"].removeprefix("#/components/schemas/"))
    assert referred == generated


def test_every_error_status_is_described_with_the_envelope(document):
    """Widget endpoints name 400/403/404/413/415/422/429 (and submit 409); token calls 401, and
    the body statuses when they take a body."""
    submit = document["paths"]["/sites/{site}/forms/{form}/submit"]["post"]["responses"]
    assert set(submit) == {"200", "400", "403", "404", "409", "413", "415", "422", "429"}
    erase = document["paths"]["/sites/{site}/contacts/{contact_id}"]["delete"]
    assert set(erase["responses"]) == {"200", "401", "403", "404", "429"}
    assert erase["security"] == [{"bearer": []}]
    assert "WWW-Authenticate" in erase["responses"]["401"]["headers"]
    withdraw = document["paths"]["/sites/{site}/contacts/{contact_id}/consents/withdraw"]["post"]
    expected = {"200", "400", "401", "403", "404", "413", "415", "422", "429"}
    assert set(withdraw["responses"]) == expected
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if status >= "400":
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Error"


def test_health_answers_without_a_database(bare_app):
    response = bare_app.test_client().get("/api/v1/health")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/sites/{site}/contacts/export", CONTACT_PARAMS),
        ("/sites/{site}/submissions/export", HISTORY_PARAMS),
    ],
)
def test_export_parameters_are_the_parsers(document, path, params):
    described = document["paths"][path]["get"]["parameters"]
    assert [p["name"] for p in described] == ["site", *params]
    assert document["paths"][path]["get"]["security"] == [{"bearer": []}]
    assert set(document["paths"][path]["get"]["responses"]) == {"200", "401", "403", "422", "429"}
