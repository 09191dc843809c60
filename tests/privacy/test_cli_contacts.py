"""`trickle contacts show` and `trickle contacts erase`: the data-subject actions from a shell."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Contact, ContactErasure
from tests.factories import Widget, acme_config, make_site


@pytest.fixture
def contact_id(app, client) -> int:
    make_site()
    other = acme_config()
    other["site"] = {**other["site"], "key": "other", "name": "Other"}
    make_site(other)
    widget = Widget(client)
    widget.ask()
    assert widget.submit({"email": "ada@acme-corp.example", "first_name": "Ada"}).status_code == 200
    return db.session.scalar(select(Contact.id))


def contacts() -> int:
    return db.session.scalar(select(func.count()).select_from(Contact))


def test_show_prints_everything_held_as_json(runner, contact_id):
    result = runner.invoke(args=["contacts", "show", "--site", "acme", str(contact_id)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["contact"]["email"] == "ada@acme-corp.example"
    assert {k: v["value"] for k, v in data["profile"].items()} == {
        "email": "ada@acme-corp.example",
        "first_name": "Ada",
    }


def test_erase_asks_first_and_a_no_changes_nothing(runner, contact_id):
    result = runner.invoke(
        args=["contacts", "erase", "--site", "acme", str(contact_id)], input="n\n"
    )
    assert result.exit_code == 1
    assert "Aborted!" in result.stderr
    assert contacts() == 1


def test_erase_with_yes_erases_and_says_what_went(runner, contact_id):
    result = runner.invoke(
        args=[
            "contacts",
            "erase",
            "--site",
            "acme",
            "--yes",
            "--by",
            "dpo ticket 42",
            str(contact_id),
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Erased contact {contact_id}: webhook_events 1, history 2, values 2, events 1, "
        "visitors 1, contacts 1, accounts 1. contact.deleted queued for: none.\n"
    )
    assert contacts() == 0
    assert db.session.scalar(select(ContactErasure.requested_by)) == "dpo ticket 42"


@pytest.mark.parametrize("command", ["show", "erase"])
@pytest.mark.parametrize(
    ("site", "wanted", "message"),
    [
        ("acme", "999", 'No contact 999 on site "acme".'),
        ("other", None, 'No contact {id} on site "other".'),
        ("nope", "1", 'No site "nope".'),
    ],
)
def test_unknown_ids_other_sites_and_unknown_sites_fail_cleanly(
    runner, contact_id, command, site, wanted, message
):
    wanted = wanted or str(contact_id)
    extra = ["--yes"] if command == "erase" else []
    result = runner.invoke(args=["contacts", command, "--site", site, *extra, wanted])
    assert result.exit_code == 1
    assert result.stderr == f"error: {message.format(id=contact_id)}\n"
    assert result.stdout == ""
    assert contacts() == 1
