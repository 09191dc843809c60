"""What an import brings from a destination is not sent back to it, unless asked: real
deliveries by the worker to two local receivers, the origin (``crm``) and another (``bi``)."""

from __future__ import annotations

import json

import pytest

from app.services.accounts import create_token
from tests.delivery.support import drain
from tests.factories import acme_config, make_site
from tests.receiver import Receiver


@pytest.fixture
def bi():
    with Receiver() as running:
        yield running


@pytest.fixture
def site(app, receiver, bi):
    hooks = [
        {"key": "crm", "url": receiver.url, "events": ["contact.updated"]},
        {"key": "bi", "url": bi.url, "events": ["contact.updated"]},
    ]
    return make_site(acme_config(destinations=hooks))


def changes(receiver: Receiver) -> list[tuple[str, list[str]]]:
    """What ``receiver`` was sent: each request's email and changed keys."""
    bodies = [json.loads(request.body)["data"] for request in receiver.received()]
    return [(body["email"], body["changed"]) for body in bodies]


def test_the_origin_gets_nothing_the_other_destination_gets_the_change(
    runner, site, worker, receiver, bi, tmp_path
):
    path = tmp_path / "crm.csv"
    path.write_text("email,first_name\nada@acme-corp.example,Ada\n", encoding="utf-8")
    result = runner.invoke(args=["import", "contacts", "acme", str(path), "--from", "crm"])
    assert result.exit_code == 0, result.output
    assert drain(worker) == 1
    assert changes(bi) == [("ada@acme-corp.example", ["email", "first_name"])]
    assert changes(receiver) == []

    path.write_text("email,first_name\nada@acme-corp.example,Adeline\n", encoding="utf-8")
    args = ["import", "contacts", "acme", str(path), "--from", "crm", "--forward-to-origin"]
    forwarded = runner.invoke(args=args)
    assert forwarded.exit_code == 0, forwarded.output
    assert drain(worker) == 2
    assert changes(bi)[1:] == [("ada@acme-corp.example", ["first_name"])]
    assert changes(receiver) == [("ada@acme-corp.example", ["first_name"])]


def test_the_api_forwards_to_the_origin_only_when_asked(client, clock, site, worker, receiver, bi):
    token = create_token("acme", "admin", "crm", now=clock())[1]
    headers = {"Authorization": f"Bearer {token}"}
    one = "/api/v1/sites/acme/contacts/by-email/ada@acme-corp.example"
    spared = client.put(one, json={"from": "crm", "fields": {"job_title": "CTO"}}, headers=headers)
    assert spared.status_code == 201, spared.get_json()
    body = {
        "from": "crm",
        "forward_to_origin": True,
        "contacts": [
            {"email": "ada@acme-corp.example", "fields": {"job_title": "CEO"}},
        ],
    }
    sent = client.post("/api/v1/sites/acme/contacts/bulk", json=body, headers=headers)
    assert sent.status_code == 200, sent.get_json()
    assert drain(worker) == 3
    assert changes(bi) == [
        ("ada@acme-corp.example", ["email", "job_title"]),
        ("ada@acme-corp.example", ["job_title"]),
    ]
    assert changes(receiver) == [("ada@acme-corp.example", ["job_title"])]


def test_forward_to_origin_needs_from(runner, site, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text("email\nada@acme-corp.example\n", encoding="utf-8")
    result = runner.invoke(args=["import", "contacts", "acme", str(path), "--forward-to-origin"])
    assert (result.exit_code, result.stderr) == (
        2,
        "error: --forward-to-origin names no destination: give --from DESTINATION.\n",
    )
