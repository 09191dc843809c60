"""What a submit writes behind the API: history, outbox rows, merges, retries on conflicts."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.domain.identity import identity_hash
from app.extensions import db
from app.models import Contact, EngagementEvent, OutboxEvent, Submission
from app.services.people import new_identity_secret
from app.services.transactions import commit_unit
from tests.factories import Widget, acme_config, make_site


@pytest.fixture
def site(app):
    config = acme_config()
    config["forms"].append(
        {"key": "short", "title": "Quick one", "fields": ["first_name", "company"]}
    )
    config["forms"][0]["always_ask"] = ["email"]
    return make_site(config)


AT = "2026-03-02T09:00:00Z"


def outbox(event_type: str) -> list[dict]:
    rows = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.type == event_type).order_by(OutboxEvent.id)
    )
    return [row.payload for row in rows]


def test_a_submit_writes_history_and_a_contact_updated_event(client, site, clock):
    w = Widget(client)
    w.ask()
    w.submit({"email": "Ann@Zorblax.example", "first_name": "Ann", "company": "Zorblax"})
    contact = db.session.scalars(select(Contact)).one()
    assert contact.email == "ann@zorblax.example"
    assert outbox("contact.updated") == [
        {
            "contact_id": contact.id,
            "email": "ann@zorblax.example",
            "changed": ["email", "first_name", "company"],
            "profile": {"email": "ann@zorblax.example", "first_name": "Ann", "company": "Zorblax"},
            # Per value, where it came from and whether its giver proved who they are (a
            # browser that typed the email did not).
            "values": {
                key: {"value": value, "source": "browser", "verified": False, "at": AT}
                for key, value in (
                    ("email", "ann@zorblax.example"),
                    ("first_name", "Ann"),
                    ("company", "Zorblax"),
                )
            },
            "account": {},
            "account_domain": "zorblax.example",
            "stage": None,
            "consents": {},
            # The submit itself counts: one form_submit, weight 2, at an early-stage form.
            "engagement": {"score": 2.0, "events": 1, "reached_stage": "early"},
        }
    ]
    history = db.session.scalars(select(Submission).order_by(Submission.id)).all()
    assert [(h.value, h.previous_value, h.form_key, h.created_at) for h in history] == [
        ("ann@zorblax.example", None, "blog", clock()),
        ("Ann", None, "blog", clock()),
        ("Zorblax", None, "blog", clock()),
    ]


def test_confirming_a_value_records_history_but_no_change_event(client, site):
    w = Widget(client)
    w.ask()
    w.submit({"email": "ann@zorblax.example", "first_name": "Ann", "company": "Z"})
    assert w.ask() == ["email", "zip"]  # email is always asked on this form
    w.submit({"email": "ann@zorblax.example"})
    assert len(outbox("contact.updated")) == 1
    latest = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert (latest.value, latest.previous_value) == ("ann@zorblax.example", "ann@zorblax.example")


def merge_into_ann(client, clock, prove: bool) -> Widget:
    """Ann answers on her browser; a day later another browser answers a newer company
    anonymously, then gives her email (typed) or proves it (an identity hash)."""
    owner = Widget(client)
    owner.ask()
    owner.submit({"email": "ann@zorblax.example", "first_name": "Ann", "company": "OldCo"})
    owner.event("content_download", "mid", id="dl-1")

    clock.advance(days=1)
    anonymous = Widget(client, form="short")
    assert anonymous.ask() == ["first_name", "company"]
    anonymous.submit({"company": "NewCo"}, skipped=["first_name"])
    anonymous.event("content_download", "mid", id="dl-1")  # the same download, seen twice
    anonymous.event("webinar", "late", id="wb-1")
    if prove:
        secret = new_identity_secret("acme", None, clock())
        email = "ANN@zorblax.example"
        assert anonymous.identify(email=email, hash=identity_hash(secret, email))
    else:
        anonymous.form = "blog"
        anonymous.ask()
        anonymous.submit({"email": "ANN@zorblax.example"})
    return anonymous


def test_a_verified_merge_takes_newer_values_and_moves_events_and_history(client, site, clock):
    merge_into_ann(client, clock, prove=True)

    survivor = db.session.scalars(select(Contact)).one()
    events = db.session.scalars(
        select(EngagementEvent.external_id)
        .where(EngagementEvent.contact_id == survivor.id, EngagementEvent.counted.is_(True))
        .order_by(EngagementEvent.id)
    ).all()
    assert sorted(e for e in events if not e.startswith("submit:")) == ["dl-1", "wb-1"]
    assert len(events) == 4  # 2 form_submits (one per ask) + dl-1 once + wb-1
    update = outbox("contact.updated")[-1]
    # The email is the owner's (compared normalised): only the value taken by the merge changed.
    at = "2026-03-03T09:00:00Z"
    assert update == {
        "contact_id": survivor.id,
        "email": "ann@zorblax.example",
        "changed": ["company"],
        "profile": {"email": "ann@zorblax.example", "first_name": "Ann", "company": "NewCo"},
        "values": {
            "email": {
                "value": "ann@zorblax.example",
                "source": "browser",
                "verified": False,
                "at": "2026-03-02T09:00:00Z",
            },
            "first_name": {
                "value": "Ann",
                "source": "browser",
                "verified": False,
                "at": "2026-03-02T09:00:00Z",
            },
            "company": {"value": "NewCo", "source": "browser", "verified": True, "at": at},
        },
        "account": {},
        "account_domain": "zorblax.example",
        "stage": None,
        "consents": {},
        # 2 form_submits (2 each), the download (3) and the webinar (5); the webinar was late-stage.
        "engagement": {"score": 12.0, "events": 4, "reached_stage": "late"},
    }
    assert (
        db.session.scalar(
            select(func.count()).select_from(Submission).where(Submission.contact_id == survivor.id)
        )
        == 4
    )
    assert outbox("contact.merged")[0]["contact_id"] == survivor.id


def test_a_claimed_merge_moves_history_but_keeps_the_owners_values(client, site, clock):
    merge_into_ann(client, clock, prove=False)

    survivor = db.session.scalars(select(Contact)).one()
    # Ann's values are untouched, so nothing about her is forwarded but her own first submit.
    updates = [u for u in outbox("contact.updated") if u["contact_id"] == survivor.id]
    assert [u["profile"] for u in updates] == [
        {"email": "ann@zorblax.example", "first_name": "Ann", "company": "OldCo"}
    ]
    history = db.session.execute(
        select(Submission.value, Submission.applied)
        .where(Submission.contact_id == survivor.id)
        .order_by(Submission.id)
    ).all()
    assert [tuple(row) for row in history] == [
        ("ann@zorblax.example", True),
        ("Ann", True),
        ("OldCo", True),
        ("NewCo", False),  # kept as the other browser's claim
        ("ann@zorblax.example", True),
    ]
    assert outbox("contact.merged")[0]["contact_id"] == survivor.id


def unique_violation() -> IntegrityError:
    return IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed: x.y"))


def test_commit_unit_reruns_work_that_hit_a_concurrent_insert(app):
    calls = []

    def work():
        calls.append(1)
        if len(calls) == 1:
            raise unique_violation()
        return "done"

    assert commit_unit(work) == "done"
    assert len(calls) == 2


def test_commit_unit_gives_up_after_three_conflicts(app):
    calls = []

    def work():
        calls.append(1)
        raise unique_violation()

    with pytest.raises(IntegrityError):
        commit_unit(work)
    assert len(calls) == 3


def test_commit_unit_does_not_rerun_a_broken_constraint(app):
    calls = []

    def work():
        calls.append(1)
        raise IntegrityError("INSERT", {}, sqlite3.IntegrityError("NOT NULL constraint failed"))

    with pytest.raises(IntegrityError):
        commit_unit(work)
    assert len(calls) == 1
