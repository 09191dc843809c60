"""Batches written set-based (people.batches): large batches all or nothing, re-runs that
change nothing, contacts old and new mixed in one batch, stage rules judged per row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    Account,
    AccountValue,
    Contact,
    Delivery,
    OutboxEvent,
    ProfileValue,
    StageChange,
    Submission,
)
from app.services.people import IMPORT, check_contacts, write_contacts
from app.services.transactions import _retryable, insert_rows
from tests.factories import Widget, acme_config, make_site

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TABLES = (Contact, Account, ProfileValue, AccountValue, Submission, OutboxEvent, Delivery)
HOOK = {"key": "crm", "url": "https://crm.example/hooks", "events": ["contact.updated"]}


def counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in TABLES
    }


def people(n: int, **extra: str) -> list[dict[str, str]]:
    """``n`` rows over 7 company domains, each with a name, a size and a title."""
    return [
        {
            "email": f"p{i}@company-{i % 7}.example",
            "first_name": f"Name {i}",
            "company_size": "11-50",
            "job_title": "CTO",
            **extra,
        }
        for i in range(n)
    ]


def write(rows: list[dict[str, str]], now: datetime = NOW) -> list:
    checked, problems = check_contacts("acme", rows, text=True)
    assert problems == {}
    return write_contacts("acme", checked, source=IMPORT, now=now)


@pytest.fixture
def site(app):
    return make_site(acme_config(destinations=[HOOK]))


def test_a_large_batch_then_the_same_again_writes_nothing_new(site):
    done = write(people(1500))
    assert [one.created for one in done] == [True] * 1500
    assert counts() == {
        "contacts": 1500,
        "accounts": 7,
        "profile_values": 1500 * 4,
        "account_values": 7,
        "submissions": 1500 * 4,
        "outbox_events": 1500,
        "deliveries": 1500,
    }
    before = counts()
    again = write(people(1500), now=LATER)
    assert {(one.created, tuple(one.changed)) for one in again} == {(False, ())}
    assert counts() == before


def test_one_changed_value_in_a_large_batch_writes_one_history_row_and_one_event(site):
    write(people(1200))
    before = counts()
    rows = people(1200)
    rows[600]["job_title"] = "CEO"
    done = write(rows, now=LATER)
    assert [(i, one.changed) for i, one in enumerate(done) if one.changed] == [(600, ["job_title"])]
    assert counts() == {
        **before,
        "submissions": before["submissions"] + 1,
        "outbox_events": before["outbox_events"] + 1,
        "deliveries": before["deliveries"] + 1,
    }
    newest = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert (newest.value, newest.previous_value, newest.source) == ("CEO", "CTO", IMPORT)
    event = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id.desc())).first()
    assert (event.payload["email"], event.payload["changed"]) == (
        "p600@company-5.example",
        ["job_title"],
    )
    assert event.payload["values"]["job_title"] == {
        "value": "CEO",
        "source": IMPORT,
        "verified": True,
        "at": "2026-03-02T12:00:00Z",
    }
    assert event.payload["values"]["first_name"]["at"] == "2026-03-01T12:00:00Z"
    assert event.payload["account"] == {"company_size": "11-50"}


def test_a_failure_while_writing_a_large_batch_leaves_nothing_of_it(site, monkeypatch):
    write(people(10))
    before = counts()

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    # After the contacts, values and history of the batch were sent to the database.
    monkeypatch.setattr("app.services.people.batches.record_outbox_many", broken)
    rows = people(10, job_title="CEO") + people(2000)[10:]
    with pytest.raises(RuntimeError):
        write(rows, now=LATER)
    db.session.expire_all()
    assert counts() == before
    later = select(func.count()).select_from(Submission).where(Submission.created_at == LATER)
    assert db.session.scalar(later) == 0


def test_known_and_new_contacts_in_one_batch_and_an_email_twice(app, client, site):
    widget = Widget(client)
    widget.ask()
    widget.submit({"email": "p1@company-1.example", "first_name": "Browser"})
    rows = people(3)
    rows.append({"email": "P0@company-0.example", "first_name": "Again"})
    done = write(rows)
    assert [(one.email, one.created, one.changed) for one in done] == [
        ("p0@company-0.example", True, ["email", "first_name", "company_size", "job_title"]),
        ("p1@company-1.example", False, ["first_name", "company_size", "job_title"]),
        ("p2@company-2.example", True, ["email", "first_name", "company_size", "job_title"]),
        ("p0@company-0.example", False, ["first_name"]),
    ]
    assert done[0].contact_id == done[3].contact_id
    history = db.session.execute(
        select(Submission.value, Submission.previous_value, Submission.source)
        .where(Submission.contact_id == done[1].contact_id)
        .order_by(Submission.id)
    ).all()
    assert history[-3:] == [
        ("Name 1", "Browser", IMPORT),
        ("11-50", None, IMPORT),
        ("CTO", None, IMPORT),
    ]
    payloads = db.session.scalars(
        select(OutboxEvent.payload)
        .where(OutboxEvent.type == "contact.updated")
        .order_by(OutboxEvent.id)
    ).all()
    # Each event carries the profile as its row left it.
    assert [p["profile"].get("first_name") for p in payloads[-4:]] == [
        "Name 0",
        "Name 1",
        "Name 2",
        "Again",
    ]


def test_stage_rules_are_judged_for_each_row_that_changed_something(app):
    stages = [{"key": "lead", "when": {"fields_known": ["email", "first_name"]}}]
    make_site(acme_config(stages=stages))
    done = write([{"email": "ada@acme-corp.example", "company": "Acme"}])
    assert db.session.scalars(select(StageChange)).all() == []
    write([{"email": "ada@acme-corp.example", "first_name": "Ada"}], now=LATER)
    moves = db.session.execute(select(StageChange.contact_id, StageChange.to_stage)).all()
    assert moves == [(done[0].contact_id, "lead")]
    types = db.session.scalars(select(OutboxEvent.type).order_by(OutboxEvent.id)).all()
    assert types == ["contact.updated", "contact.updated", "contact.stage_changed"]
    assert db.session.get(Contact, done[0].contact_id).lifecycle_stage == "lead"


def test_a_bad_row_in_the_middle_of_a_large_batch_keeps_the_whole_batch_out(runner, site, tmp_path):
    rows = people(2500)
    rows[1750]["company_size"] = "a few"  # row 1751, in the second batch of 1000
    lines = ["email,first_name,company_size,job_title"]
    lines += [",".join(row.values()) for row in rows]
    path = tmp_path / "crm.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["import", "contacts", "acme", str(path), "--batch", "1000"])
    assert result.exit_code == 1
    assert "row 1751, column company_size: Choose one of the offered options.\n" in result.stderr
    assert result.stdout == (
        "Imported 1500 of 2500 rows: 1500 created, 0 updated, 0 unchanged; 1 batch not written.\n"
    )
    written = db.session.scalars(select(Contact.email)).all()
    assert sorted(written) == sorted(row["email"] for row in rows[:1000] + rows[2000:])
    assert counts()["submissions"] == 1500 * 4


def test_a_row_the_database_refuses_is_an_integrity_error_commit_unit_retries(site):
    """``insert_rows`` goes to the driver itself; its errors come out as SQLAlchemy's, so a
    unique conflict with a concurrent writer is retried like any other."""
    [done] = write(people(1))
    email_field = db.session.scalar(select(ProfileValue.field_id).limit(1))
    row = (done.contact_id, email_field, "again")
    fixed = {"updated_at": NOW, "source": IMPORT, "verified": True}
    with pytest.raises(IntegrityError) as refused:
        insert_rows(ProfileValue.__table__, ("contact_id", "field_id", "value"), [row], fixed)
    assert _retryable(refused.value)
    db.session.rollback()
    assert counts()["profile_values"] == 4
