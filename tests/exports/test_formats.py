"""Contacts exported in each format come back exactly, through pandas, with the right columns."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.extensions import db
from app.models import Field, ProfileValue
from app.services.exports import streams as exports
from app.services.exports import writers as export_writers
from app.services.exports.params import contact_export_request
from app.services.exports.streams import export_contacts
from tests.clock import FakeClock
from tests.exports.support import BASE, fill
from tests.factories import make_site, verified

HARD_TEXT = 'Acme, "Inc"\nsecond line, 東京 — Zoë'
HARD_NOTES = 'a, "b"\nc\n\nΩ ≠ ß; 😀'
ROW_ANSWERS = {
    "email": "ana@lab.example",
    "name": HARD_TEXT,
    "notes": HARD_NOTES,
    "tags": ["a,b", "ü"],
    "employees": 12.5,
    "subscribed": True,
}


def download(client: FlaskClient, token: str, query: str = "") -> bytes:
    response = client.get(
        f"/api/v1/sites/lab/contacts/export{query}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data()


@pytest.fixture
def two_contacts(lab: str, client: FlaskClient, clock: FakeClock) -> None:
    fill(client, ROW_ANSWERS)
    clock.advance(hours=1)
    fill(client, {"email": "bo@lab.example", "name": "Bo"})


def test_csv_round_trips_through_pandas(client, analyst_token, two_contacts):
    frame = pd.read_csv(
        io.BytesIO(download(client, analyst_token, "?format=csv")),
        dtype=str,
        keep_default_na=False,
    )
    assert list(frame.columns) == [
        *BASE,
        "name",
        "notes",
        "tags",
        "employees",
        "subscribed",
        "size",
        "title",
    ]
    assert frame.to_dict("records") == [
        {
            "contact_id": "1",
            "email": "ana@lab.example",
            "stage": "lead",  # the lab site's first stage: email known
            "engagement_score": "2.0",
            "engagement_events": "1",
            "created_at": "2026-03-02T09:00:00Z",
            "last_seen_at": "2026-03-02T09:00:00Z",
            "completeness": "75",
            "name": HARD_TEXT,
            "notes": HARD_NOTES,
            "tags": "a,b;ü",
            "employees": "12.5",
            "subscribed": "true",
            "size": "",
            "title": "",
        },
        {
            "contact_id": "2",
            "email": "bo@lab.example",
            "stage": "lead",  # the lab site's first stage: email known
            "engagement_score": "2.0",
            "engagement_events": "1",
            "created_at": "2026-03-02T10:00:00Z",
            "last_seen_at": "2026-03-02T10:00:00Z",
            "completeness": "25",
            "name": "Bo",
            "notes": "",
            "tags": "",
            "employees": "",
            "subscribed": "",
            "size": "",
            "title": "",
        },
    ]


def test_jsonl_round_trips_through_pandas(client, analyst_token, two_contacts):
    frame = pd.read_json(
        io.BytesIO(download(client, analyst_token, "?format=jsonl")), lines=True, dtype=False
    )
    first = frame.to_dict("records")[0]
    assert {key: first[key] for key in ROW_ANSWERS} == {**ROW_ANSWERS}
    assert first["contact_id"] == 1
    assert first["created_at"] == "2026-03-02T09:00:00Z"
    assert len(frame) == 2


def test_jsonl_lines_are_plain_json_objects(client, analyst_token, two_contacts):
    lines = download(client, analyst_token, "?format=jsonl").decode("utf-8").split("\n")
    assert lines[-1] == ""
    second = json.loads(lines[1])
    assert second == {
        "contact_id": 2,
        "email": "bo@lab.example",
        "stage": "lead",
        "engagement_score": 2.0,
        "engagement_events": 1,
        "created_at": "2026-03-02T10:00:00Z",
        "last_seen_at": "2026-03-02T10:00:00Z",
        "completeness": 25,
        "name": "Bo",
        "notes": None,
        "tags": None,
        "employees": None,
        "subscribed": None,
        "size": None,
        "title": None,
    }


def test_parquet_round_trips_through_pandas_with_types(client, analyst_token, two_contacts):
    frame = pd.read_parquet(io.BytesIO(download(client, analyst_token, "?format=parquet")))
    first = frame.iloc[0]
    assert first["name"] == HARD_TEXT
    assert first["notes"] == HARD_NOTES
    assert list(first["tags"]) == ["a,b", "ü"]
    assert first["employees"] == 12.5
    assert bool(first["subscribed"]) is True
    assert first["created_at"] == pd.Timestamp("2026-03-02T09:00:00Z")
    assert str(frame.dtypes["contact_id"]) == "int64"
    assert str(frame.dtypes["created_at"]) == "datetime64[us, UTC]"
    assert frame["email"].tolist() == ["ana@lab.example", "bo@lab.example"]
    assert frame["completeness"].tolist() == [75, 25]


def test_provenance_adds_when_and_which_form(client, analyst_token, lab, clock):
    widget = fill(client, {"email": "cy@lab.example", "name": "Cy"})
    clock.advance(days=2)
    widget.form = "more"
    widget.ask()
    assert widget.submit({"size": "11-50", "title": "CTO"}).status_code == 200
    frame = pd.read_csv(
        io.BytesIO(download(client, analyst_token, "?provenance=true")),
        dtype=str,
        keep_default_na=False,
    )
    row = frame.to_dict("records")[0]
    assert [c for c in frame.columns if c.startswith(("name", "size", "email__"))] == [
        "email__at",
        "email__source",
        "name",
        "name__at",
        "name__source",
        "size",
        "size__at",
        "size__source",
    ]
    assert (row["name"], row["name__at"], row["name__source"]) == (
        "Cy",
        "2026-03-02T09:00:00Z",
        "signup",
    )
    assert (row["size"], row["size__at"], row["size__source"]) == (
        "11-50",
        "2026-03-04T09:00:00Z",
        "more",
    )
    assert (row["notes"], row["notes__at"], row["notes__source"]) == ("", "", "")


def test_account_values_are_exported_for_every_contact_of_the_account(client, analyst_token, lab):
    first = verified(fill(client, {"email": "dee@shared.example"}), "dee@shared.example")
    first.form = "more"
    first.ask()
    assert first.submit({"size": "1-10"}).status_code == 200
    fill(client, {"email": "eve@shared.example"})
    frame = pd.read_json(io.BytesIO(download(client, analyst_token, "?format=jsonl")), lines=True)
    assert frame[["email", "size", "completeness"]].to_dict("records") == [
        {"email": "dee@shared.example", "size": "1-10", "completeness": 25},
        {"email": "eve@shared.example", "size": "1-10", "completeness": 25},
    ]


def test_a_company_candidate_is_exported_only_for_the_contact_who_gave_it(
    client, analyst_token, lab
):
    first = fill(client, {"email": "dee@shared.example"})  # only typed her email
    first.form = "more"
    first.ask()
    assert first.submit({"size": "1-10"}).status_code == 200
    fill(client, {"email": "eve@shared.example"})
    frame = pd.read_json(io.BytesIO(download(client, analyst_token, "?format=jsonl")), lines=True)
    records = frame[["email", "size", "completeness"]].to_dict("records")
    assert records[0] == {"email": "dee@shared.example", "size": "1-10", "completeness": 25}
    assert (records[1]["email"], pd.isna(records[1]["size"]), records[1]["completeness"]) == (
        "eve@shared.example",
        True,
        12,
    )


@pytest.mark.parametrize(
    ("typed", "exported"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain = fine", "plain = fine"),
    ],
)
def test_csv_neutralises_formulas(client, analyst_token, lab, typed, exported):
    fill(client, {"email": "f@lab.example", "notes": "placeholder"})
    # Stored as is: the widget's answer checks trim leading tabs and returns, older data or a
    # future input path may not.
    db.session.execute(
        update(ProfileValue)
        .where(
            ProfileValue.field_id == select(Field.id).where(Field.key == "notes").scalar_subquery()
        )
        .values(value=typed)
    )
    db.session.commit()
    csv_frame = pd.read_csv(
        io.BytesIO(download(client, analyst_token)), dtype=str, keep_default_na=False
    )
    assert csv_frame["notes"].tolist() == [exported]
    # JSONL and Parquet are for programs: they keep the value exactly as given.
    jsonl = pd.read_json(
        io.BytesIO(download(client, analyst_token, "?format=jsonl")), lines=True, dtype=False
    )
    assert jsonl["notes"].tolist() == [typed]


def test_negative_numbers_stay_numbers_in_csv(client, analyst_token, lab):
    fill(client, {"email": "g@lab.example", "employees": -5})
    frame = pd.read_csv(io.BytesIO(download(client, analyst_token)))
    assert frame["employees"].tolist() == [-5]


def test_an_empty_site_exports_headers_only(client, analyst_token, lab):
    assert (
        download(client, analyst_token).decode()
        == ",".join([*BASE, "name", "notes", "tags", "employees", "subscribed", "size", "title"])
        + "\r\n"
    )
    frame = pd.read_parquet(io.BytesIO(download(client, analyst_token, "?format=parquet")))
    assert len(frame) == 0
    assert list(frame.columns)[:3] == ["contact_id", "email", "stage"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_the_export_streams_a_chunk_at_a_time(app, client, lab, clock, monkeypatch, fmt):
    monkeypatch.setattr(exports, "CHUNK", 3)
    monkeypatch.setattr(export_writers, "_FLUSH_ROWS", 3)
    monkeypatch.setattr(export_writers, "_PARQUET_ROWS", 3)
    for n in range(10):
        fill(client, {"email": f"p{n}@lab.example"})
    fmt, filters = contact_export_request("lab", {"format": fmt})
    export = export_contacts("lab", fmt, filters, clock())
    chunks = export.chunks
    first = next(chunks)
    assert first  # bytes went out after reading only the first chunk of contacts
    assert export.scanned == 3
    rest = b"".join(chunks)
    assert export.scanned == export.written == export.total == 10
    if fmt == "parquet":
        frame = pd.read_parquet(io.BytesIO(first + rest))
    elif fmt == "jsonl":
        frame = pd.read_json(io.BytesIO(first + rest), lines=True)
    else:
        frame = pd.read_csv(io.BytesIO(first + rest))
    assert frame["email"].tolist() == [f"p{n}@lab.example" for n in range(10)]


@pytest.mark.parametrize("half_life", [None, 7])
def test_scores_are_the_consoles_with_and_without_a_half_life(app, client, clock, half_life):
    from app.services.accounts import create_token
    from app.services.insights import list_contacts
    from tests.exports.support import lab_config

    config = lab_config()
    config["site"]["half_life_days"] = half_life
    make_site(config)
    token = create_token("lab", "analyst", "t", now=clock())[1]
    widget = fill(client, {"email": "s@lab.example"})
    widget.event("webinar")
    clock.advance(days=7)
    widget.event("page_view")
    frame = pd.read_json(
        io.BytesIO(download(client, token, "?format=jsonl")), lines=True, dtype=False
    )
    (row,) = list_contacts("lab", "", 1, now=clock()).rows
    expected = 8.0 if half_life is None else 4.5
    assert frame["engagement_score"].tolist() == [row.score] == [expected]
    assert frame["engagement_events"].tolist() == [3]
