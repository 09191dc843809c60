"""The OpenAPI document describes exactly the routes and bodies the API has."""

from __future__ import annotations

import re

import pytest

from app import create_app
from app.api.preview import PreviewSubmitIn
from app.api.schemas import (
    AskIn,
    AskOut,
    EventIn,
    SubmitIn,
    SubmitOut,
    TokenWithdrawIn,
    WithdrawIn,
)
from app.services.export_params import CONTACT_PARAMS, HISTORY_PARAMS
from tests.databases import settings_for


@pytest.fixture
def bare_app():
    return create_app(settings_for("sqlite://"))


def test_every_api_route_is_described(bare_app):
    document = bare_app.test_client().get("/api/v1/openapi.json").get_json()
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for rule in bare_app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        and rule.endpoint not in {"api.preflight", "api.openapi"}
    }
    assert routes == set(document["paths"])
    assert document["openapi"] == "3.1.0"


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("AskIn", AskIn),
        ("SubmitIn", SubmitIn),
        ("EventIn", EventIn),
        ("AskOut", AskOut),
        ("SubmitOut", SubmitOut),
        ("PreviewSubmitIn", PreviewSubmitIn),
        ("WithdrawIn", WithdrawIn),
        ("TokenWithdrawIn", TokenWithdrawIn),
    ],
)
def test_described_bodies_list_the_same_keys_as_the_schemas(bare_app, name, schema):
    document = bare_app.test_client().get("/api/v1/openapi.json").get_json()
    assert set(document["components"]["schemas"][name]["properties"]) == set(schema().fields)


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
def test_export_parameters_are_the_parsers(bare_app, path, params):
    document = bare_app.test_client().get("/api/v1/openapi.json").get_json()
    described = document["paths"][path]["get"]["parameters"]
    assert [p["name"] for p in described] == ["site", *params]
    assert document["paths"][path]["get"]["security"] == [{"bearer": []}]
    assert set(document["paths"][path]["get"]["responses"]) == {"200", "401", "403", "422", "429"}
