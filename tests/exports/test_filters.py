"""Which contacts an export holds: each filter, and every bad filter refused with 422."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Contact
from tests.exports.support import fill


def emails(client, token, query=""):
    response = client.get(
        f"/api/v1/sites/lab/contacts/export?format=jsonl{query}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_json()
    text = response.get_data(as_text=True)
    if not text:
        return []
    return pd.read_json(io.StringIO(text), lines=True)["email"].tolist()


@pytest.fixture
def people(lab, client, clock):
    """ann: basics complete (6/8); ben: email + name (2/8), a day later, also on "more";
    an anonymous visitor with a title, two days later."""
    fill(
        client,
        {
            "email": "ann@lab.example",
            "name": "Ann",
            "notes": "n",
            "tags": ["x"],
            "employees": 3,
            "subscribed": False,
        },
    )
    clock.advance(days=1)
    ben = fill(client, {"email": "ben@lab.example", "name": "Ben"})
    ben.form = "more"
    ben.ask()
    assert ben.submit({"title": "CEO"}).status_code == 200
    clock.advance(days=1)
    anonymous = fill(client, {"title": "Intern"}, form="more")
    assert anonymous.visitor
    db.session.execute(
        update(Contact).where(Contact.email == "ann@lab.example").values(lifecycle_stage="mql")
    )
    db.session.execute(
        update(Contact).where(Contact.email == "ben@lab.example").values(lifecycle_stage="lead")
    )
    db.session.commit()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["ann@lab.example", "ben@lab.example", None]),
        ("&stage=mql", ["ann@lab.example"]),
        ("&stage=mql,lead", ["ann@lab.example", "ben@lab.example"]),
        ("&stage=lead&stage=mql", ["ann@lab.example", "ben@lab.example"]),
        ("&updated_since=2026-03-03", ["ben@lab.example", None]),
        ("&updated_since=2026-03-03T09:00:01Z", [None]),
        ("&updated_since=2026-03-03T10:00:00%2B02:00", ["ben@lab.example", None]),
        ("&min_completeness=30", ["ann@lab.example", "ben@lab.example"]),
        ("&min_completeness=50", ["ann@lab.example"]),
        ("&min_completeness=0", ["ann@lab.example", "ben@lab.example", None]),
        ("&tier_complete=basics", ["ann@lab.example"]),
        ("&tier_complete=firmographics", []),
        ("&form=more", ["ben@lab.example", None]),
        ("&form=signup&tier_complete=basics", ["ann@lab.example"]),
        ("&identified=true", ["ann@lab.example", "ben@lab.example"]),
        ("&identified=false", [None]),
    ],
)
def test_filters(client, analyst_token, people, query, expected):
    found = emails(client, analyst_token, query)
    assert [None if pd.isna(e) else e for e in found] == expected


def test_completeness_counts_account_values(client, analyst_token, people):
    """ben (3/8: email, name, title) is at 37 %, ann (6/8) at 75 %."""
    response = client.get(
        "/api/v1/sites/lab/contacts/export?format=jsonl&identified=true",
        headers={"Authorization": f"Bearer {analyst_token}"},
    )
    frame = pd.read_json(io.StringIO(response.get_data(as_text=True)), lines=True)
    assert frame["completeness"].tolist() == [75, 37]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("format=xml", {"format": ["Unknown format; use one of: csv, jsonl, parquet."]}),
        (
            "stage=vip",
            {"stage": ['Unknown lifecycle stage "vip"; this site has: lead, mql.']},
        ),
        (
            "tier_complete=basics,nope",
            {"tier_complete": ['Unknown tier "nope"; this site has: basics, firmographics.']},
        ),
        ("form=ghost", {"form": ['Unknown form "ghost"; this site has: more, signup.']}),
        ("form=more,signup", {"form": ["Give one key."]}),
        (
            "updated_since=yesterday",
            {
                "updated_since": [
                    "Give an ISO 8601 date or date-time, e.g. 2026-03-01 or 2026-03-01T09:00Z."
                ]
            },
        ),
        ("min_completeness=101", {"min_completeness": ["Give a whole percentage from 0 to 100."]}),
        ("min_completeness=-1", {"min_completeness": ["Give a whole percentage from 0 to 100."]}),
        ("min_completeness=5.5", {"min_completeness": ["Give a whole percentage from 0 to 100."]}),
        (
            "min_completeness=%D9%A3",
            {"min_completeness": ["Give a whole percentage from 0 to 100."]},
        ),
        ("identified=maybe", {"identified": ["Give true or false."]}),
        ("provenance=2", {"provenance": ["Give true or false."]}),
        (
            "limit=10",
            {
                "limit": [
                    'Unknown parameter "limit"; use: format, stage, updated_since, min_completeness, '
                    "tier_complete, form, identified, provenance."
                ]
            },
        ),
    ],
)
def test_bad_filters_get_422_and_nothing_streamed(client, analyst_token, lab, query, fields):
    fill(client, {"email": "z@lab.example"})
    response = client.get(
        f"/api/v1/sites/lab/contacts/export?{query}",
        headers={"Authorization": f"Bearer {analyst_token}"},
    )
    assert response.status_code == 422
    assert response.content_type == "application/json"
    body = response.get_json()
    assert body["error"]["code"] == "invalid"
    assert body["error"]["fields"] == fields
    assert "z@lab.example" not in response.get_data(as_text=True)


def test_every_bad_filter_is_named_at_once(client, analyst_token, lab):
    response = client.get(
        "/api/v1/sites/lab/contacts/export?format=pdf&stage=x&min_completeness=x",
        headers={"Authorization": f"Bearer {analyst_token}"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == (
        "Invalid export: format, min_completeness, stage."
    )


def test_hostile_filter_values_get_422_not_500(client, analyst_token, lab):
    for query in ("stage=%00", "form=%ED%A0%80", "updated_since=%00", "stage=" + "x" * 5000):
        response = client.get(
            f"/api/v1/sites/lab/contacts/export?{query}",
            headers={"Authorization": f"Bearer {analyst_token}"},
        )
        assert response.status_code == 422, query


def test_an_unknown_site_is_refused_before_it_is_looked_up(client, analyst_token):
    response = client.get(
        "/api/v1/sites/nosuch/contacts/export",
        headers={"Authorization": f"Bearer {analyst_token}"},
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
