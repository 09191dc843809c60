"""docs/webhooks.md tells the truth: its receiver snippets verify what Trickle signs (and refuse
what it did not), its example request verifies, and its example bodies are what Trickle sends."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.domain.webhooks import SignedRequest, signature, signed_request
from app.extensions import db
from app.models import Delivery, Destination
from app.services.delivery.operations import send_test_event
from tests.factories import Widget, acme_config, make_site

DOC = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text(encoding="utf-8")
SECRET = (
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the one the doc's example request is signed with
)
OTHER = "whsec_plJ3nmyCDGBKInavdOK15jsl"
PAYLOAD = {
    "type": "contact.updated",
    "id": "msg_doc",
    "timestamp": "2026-11-24T00:00:05Z",
    "data": {"email": "ada@lovelace.example", "changed": ["email", "first_name"]},
}


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {}  # the app's test settings, not the folder's (private targets stay refused)


def block(kind: str, name: str) -> str:
    """The fenced block right after ``<!-- kind: name ... -->`` in docs/webhooks.md."""
    found = re.search(rf"<!-- {kind}: {re.escape(name)}\b[^>]*-->\n```\w*\n(.*?)```", DOC, re.S)
    assert found, f"docs/webhooks.md has no {kind} {name!r}"
    return found.group(1)


def signed(secrets: list[str], *, age: int = 0, body: bytes | None = None) -> SignedRequest:
    request = signed_request(secrets, "msg_doc", int(time.time()) - age, PAYLOAD)
    return SignedRequest(request.headers, request.body if body is None else body)


def cases() -> dict[str, tuple[SignedRequest, bool]]:
    """Requests a receiver must take (True) or refuse (False), with the receiver's secret SECRET.
    Signed when the test runs: the receivers refuse anything older than 5 minutes."""
    return {
        "signed now": (signed([SECRET]), True),
        "during a rotation (two signatures, ours second)": (signed([OTHER, SECRET]), True),
        "signed with another secret": (signed([OTHER]), False),
        "body changed after signing": (
            signed([SECRET], body=b'{"type":"contact.deleted"}'),
            False,
        ),
        "ten minutes old": (signed([SECRET], age=600), False),
    }


def test_the_flask_receiver_takes_trickle_webhooks_and_refuses_others(monkeypatch, capsys):
    monkeypatch.setenv("TRICKLE_WEBHOOK_SECRET", SECRET)
    namespace: dict[str, Any] = {"__name__": "docs_receiver"}
    exec(block("snippet", "receiver-flask"), namespace)  # noqa: S102 - the doc's own code
    client = namespace["app"].test_client()

    requests = cases()
    codes = {
        case: client.post("/hooks/trickle", data=request.body, headers=request.headers).status_code
        for case, (request, _) in requests.items()
    }

    assert codes == {case: 204 if good else 400 for case, (_, good) in requests.items()}
    assert capsys.readouterr().out == "ada@lovelace.example ['email', 'first_name']\n" * 2


def test_the_standard_library_verify_takes_trickle_webhooks_and_refuses_others():
    namespace: dict[str, Any] = {}
    exec(block("snippet", "verify-python"), namespace)  # noqa: S102 - the doc's own code
    verify = namespace["verify"]

    requests = cases()
    results = {case: verify(SECRET, r.headers, r.body) for case, (r, _) in requests.items()}

    assert results == {case: good for case, (_, good) in requests.items()}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_node_verify_takes_trickle_webhooks_and_refuses_others():
    harness = block("snippet", "verify-node") + (
        'const input = JSON.parse(require("node:fs").readFileSync(0, "utf8"));\n'
        "console.log(JSON.stringify(input.cases.map("
        '(c) => verifyTrickle(input.secret, c.headers, Buffer.from(c.body, "base64")))));\n'
    )
    requests = cases()
    sent = [
        {"headers": r.headers, "body": base64.b64encode(r.body).decode()}
        for r, _ in requests.values()
    ]

    result = subprocess.run(
        ["node", "-e", harness],
        input=json.dumps({"secret": SECRET, "cases": sent}),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    assert json.loads(result.stdout) == [good for _, good in requests.values()]


def test_the_example_request_verifies_with_the_documented_secret():
    request = re.search(r"```http\n(.*?)\n\n(.*?)\n```", DOC, re.S)
    assert request
    headers = dict(line.split(": ", 1) for line in request.group(1).splitlines()[1:])
    body = request.group(2).encode()

    expected = signature([SECRET], headers["webhook-id"], int(headers["webhook-timestamp"]), body)

    assert headers["webhook-signature"] == expected
    assert json.loads(body)["id"] == headers["webhook-id"]
    rotation = re.search(r"webhook-signature: (v1,\S+ v1,\S+)\n", DOC)
    assert rotation and rotation.group(1).split(" ")[0] == expected


def sent_bodies(destination_key: str) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Delivery)
        .join(Destination, Destination.id == Delivery.destination_id)
        .where(Destination.key == destination_key)
        .order_by(Delivery.id)
    )
    return [json.loads(bytes(row.body)) for row in rows]


def without_ids(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("id", "messageId", "timestamp")}


def test_the_example_bodies_are_what_trickle_sends(client, clock):
    crm = {
        "key": "crm",
        "url": "https://crm.example/hooks/trickle",
        "events": ["contact.updated", "contact.merged"],
        "mapping": {"company_size": "NumberOfEmployees"},
    }
    cdp = {
        "key": "cdp",
        "url": "https://cdp.example/v1/identify",
        "events": ["contact.updated"],
        "format": "segment",
    }
    make_site(acme_config(destinations=[crm, cdp]))
    # The story the doc tells: Ada's first submit, her return, and a merge.
    ada = Widget(client)
    ada.ask()
    ada.submit(
        {"email": "Ada@Lovelace.example", "first_name": "Ada", "company": "Analytical Engines"}
    )
    ada.event("content_download", stage="mid", content="Pricing guide", id="dl-1")
    ada.event("content_download", stage="mid", content="Case study", id="dl-2")
    ada.ask(stage="mid")
    ada.submit({"zip": "10115", "company_size": "51-200", "industry": "Software"})
    other_browser = Widget(client)
    other_browser.event("page_view")
    other_browser.ask()
    other_browser.submit({"email": "ada@lovelace.example"})
    send_test_event(
        db.session.scalars(select(Destination).filter_by(key="crm")).one(), "acme", clock()
    )
    db.session.commit()

    first, second, merge, test_event = (without_ids(b) for b in sent_bodies("crm"))
    segment = without_ids(sent_bodies("cdp")[1])

    examples = {
        name: without_ids(json.loads(block("example", name)))
        for name in (
            "first-submit",
            "second-submit",
            "second-submit-segment",
            "merge",
            "test-event",
        )
    }
    assert examples == {
        "first-submit": first,
        "second-submit": second,
        "second-submit-segment": segment,
        "merge": merge,
        "test-event": test_event,
    }
