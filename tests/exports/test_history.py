"""The submission history export: one row per accepted value, with its form and time."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.exports.support import fill


def history(client, token, query=""):
    return client.get(
        f"/api/v1/sites/lab/submissions/export{query}",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.fixture
def answers(lab, client, clock):
    widget = fill(client, {"email": "h@lab.example", "name": "=Hal", "tags": ["x", "ü"]})
    clock.advance(days=1)
    widget.ask()
    assert widget.submit({"notes": "later", "employees": 7}).status_code == 200
    return widget


def test_one_row_per_accepted_value_in_csv(client, analyst_token, answers):
    response = history(client, analyst_token)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="lab-submissions-20260303-090000.csv"'
    )
    frame = pd.read_csv(io.BytesIO(response.get_data()), dtype=str, keep_default_na=False)
    assert frame.drop(columns=["submission_id"]).to_dict("records") == [
        {
            "contact_id": "1",
            "email": "h@lab.example",
            "field": "email",
            "value": "h@lab.example",
            "previous_value": "",
            "form": "signup",
            "created_at": "2026-03-02T09:00:00Z",
        },
        {
            "contact_id": "1",
            "email": "h@lab.example",
            "field": "name",
            "value": "'=Hal",
            "previous_value": "",
            "form": "signup",
            "created_at": "2026-03-02T09:00:00Z",
        },
        {
            "contact_id": "1",
            "email": "h@lab.example",
            "field": "tags",
            "value": "ü;x",
            "previous_value": "",
            "form": "signup",
            "created_at": "2026-03-02T09:00:00Z",
        },
        {
            "contact_id": "1",
            "email": "h@lab.example",
            "field": "notes",
            "value": "later",
            "previous_value": "",
            "form": "signup",
            "created_at": "2026-03-03T09:00:00Z",
        },
        {
            "contact_id": "1",
            "email": "h@lab.example",
            "field": "employees",
            "value": "7",
            "previous_value": "",
            "form": "signup",
            "created_at": "2026-03-03T09:00:00Z",
        },
    ]


def test_jsonl_keeps_values_typed(client, analyst_token, answers):
    text = history(client, analyst_token, "?format=jsonl").get_data(as_text=True)
    frame = pd.read_json(io.StringIO(text), lines=True, dtype=False)
    assert frame["value"].tolist() == ["h@lab.example", "=Hal", ["ü", "x"], "later", 7]
    assert frame["previous_value"].isna().tolist() == [True] * 5


def test_parquet_holds_values_as_text_or_json(client, analyst_token, answers):
    data = history(client, analyst_token, "?format=parquet").get_data()
    frame = pd.read_parquet(io.BytesIO(data))
    assert frame["value"].tolist() == ["h@lab.example", "=Hal", '["ü", "x"]', "later", "7"]
    assert frame["field"].tolist() == ["email", "name", "tags", "notes", "employees"]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("?field=name", ["name"]),
        ("?since=2026-03-03", ["notes", "employees"]),
        ("?form=more", []),
        ("?form=signup&field=tags", ["tags"]),
        ("?field=notes&since=2026-03-03T00:00Z", ["notes"]),
    ],
)
def test_history_filters(client, analyst_token, answers, query, fields):
    text = history(client, analyst_token, "?format=jsonl" + query.replace("?", "&")).get_data(
        as_text=True
    )
    found = pd.read_json(io.StringIO(text), lines=True)["field"].tolist() if text else []
    assert found == fields


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        (
            "?field=ghost",
            {
                "field": [
                    'Unknown field "ghost"; this site has: '
                    + ", ".join(
                        sorted(
                            [
                                "email",
                                "name",
                                "notes",
                                "tags",
                                "employees",
                                "subscribed",
                                "size",
                                "title",
                            ]
                        )
                    )
                    + "."
                ]
            },
        ),
        (
            "?since=03/03/2026",
            {
                "since": [
                    "Give an ISO 8601 date or date-time, e.g. 2026-03-01 or 2026-03-01T09:00Z."
                ]
            },
        ),
        ("?stage=mql", {"stage": ['Unknown parameter "stage"; use: format, since, form, field.']}),
        ("?format=xlsx", {"format": ["Unknown format; use one of: csv, jsonl, parquet."]}),
    ],
)
def test_bad_history_filters_get_422(client, analyst_token, answers, query, fields):
    response = history(client, analyst_token, query)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == fields


def test_history_needs_a_token(client, answers):
    response = client.get("/api/v1/sites/lab/submissions/export")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"
    assert "h@lab.example" not in response.get_data(as_text=True)
