"""Re-qualification after a change of the definition (issue 21): the worker judges the site's
contacts again in batches by the new rules, forward only, with its progress on the site's
config page and in ``trickle config requalify``; a second change starts it over; two workers
never judge a contact twice."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import Contact, Handoff, OutboxEvent, Site, StageChange
from app.services.delivery import DeliveryWorker
from app.services.delivery.worker import REQUALIFY_EVERY
from app.services.people import requalification_status, requalify_due_sites
from tests.factories import Widget, acme_config, make_site

LOOSE = {"min_score": 2, "fields_known": ["company"]}
STRICT = {"min_score": 50}


def stages(mql: dict) -> list[dict]:
    return [{"key": "lead", "when": {"fields_known": ["email"]}}, {"key": "mql", "when": mql}]


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {"REQUALIFY_BATCH": 2}


@pytest.fixture
def people(app, clock) -> list[int]:
    """Five leads of Acme (score 2, the submit: short of mql's 10); the third gave no company."""
    make_site(acme_config(stages=stages({"min_score": 10, "fields_known": ["company"]})))
    client = app.test_client()
    for n in range(1, 6):
        widget = Widget(client)
        widget.ask()
        answers = {"email": f"p{n}@acme-corp.example"}
        if n != 3:
            answers["company"] = f"Firm {n}"
        assert widget.submit(answers).status_code == 200
    ids = list(db.session.scalars(select(Contact.id).order_by(Contact.id)))
    assert [stage_of(i) for i in ids] == ["lead"] * 5
    return ids


@pytest.fixture
def worker(app, clock):
    running = DeliveryWorker(app, name="requalify-test", rng=random.Random(3))
    yield running
    running.close()


def stage_of(contact_id: int) -> str | None:
    db.session.expire_all()
    return db.session.get(Contact, contact_id).lifecycle_stage


def change_mql(mql: dict) -> None:
    make_site(acme_config(stages=stages(mql)))


def progress() -> tuple:
    status = requalification_status("acme")
    return (status.version, status.total, status.done, status.moved, status.running)


def moves_to_mql() -> list[tuple[int, dict]]:
    rows = db.session.scalars(
        select(StageChange).where(StageChange.to_stage == "mql").order_by(StageChange.id)
    )
    return [(row.contact_id, row.rule) for row in rows]


def stage_events() -> list[dict]:
    rows = db.session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.type == "contact.stage_changed")
        .order_by(OutboxEvent.id)
    )
    return [row.payload for row in rows if row.payload["to_stage"] == "mql"]


def test_the_worker_moves_contacts_a_lowered_rule_now_holds_for_in_batches(people, worker, clock):
    change_mql(LOOSE)
    assert progress() == (2, None, 0, 0, True)  # marked; the worker has not begun
    at = clock()
    expected = [(2, 5, 2, 2, True), (2, 5, 4, 3, True), (2, 5, 5, 4, False)]
    for after in expected:
        assert worker.requalify_if_due() == 1
        assert progress() == after
    assert worker.requalify_if_due() == 0  # done: nothing until REQUALIFY_EVERY has passed
    clock.advance(seconds=REQUALIFY_EVERY.total_seconds())
    assert worker.requalify_if_due() == 0  # and then nothing to do

    first, second, _, fourth, fifth = people
    assert [stage_of(i) for i in people] == ["mql", "mql", "lead", "mql", "mql"]
    rule = {"stage": "mql", "when": {"min_score": 2, "fields_known": ["company"]}}
    assert moves_to_mql() == [(i, rule) for i in (first, second, fourth, fifth)]
    assert stage_events()[0] == {
        "contact_id": first,
        "email": "p1@acme-corp.example",
        "from_stage": "lead",
        "to_stage": "mql",
        "rule": rule,
        "changed_at": at.isoformat().replace("+00:00", "Z"),
        "follow_up_by": (at + timedelta(hours=48)).isoformat().replace("+00:00", "Z"),
        "rule_words": ["Engagement score ≥ 2", "Known: Company"],
        "answers": {"company": {"label": "Company", "value": "Firm 1", "text": "Firm 1"}},
    }
    assert len(stage_events()) == 4
    handoffs = db.session.scalars(select(Handoff.contact_id).order_by(Handoff.contact_id))
    assert list(handoffs) == [first, second, fourth, fifth]


def run_to_end(worker, clock) -> None:
    clock.advance(seconds=REQUALIFY_EVERY.total_seconds())
    while worker.requalify_if_due():
        pass


def test_a_stricter_rule_moves_nobody_back(people, worker, clock):
    change_mql(LOOSE)
    run_to_end(worker, clock)
    moved = moves_to_mql()
    change_mql(STRICT)
    run_to_end(worker, clock)
    assert progress() == (3, 5, 5, 0, False)
    assert [stage_of(i) for i in people] == ["mql", "mql", "lead", "mql", "mql"]
    assert moves_to_mql() == moved


def test_a_change_that_is_not_of_the_definition_asks_for_nothing(people, worker):
    config = acme_config(stages=stages({"min_score": 10, "fields_known": ["company"]}))
    config["fields"][2]["label"] = "Company name"
    make_site(config)
    assert requalification_status("acme") is None
    assert requalify_due_sites(db.session.scalar(select(Site.updated_at))) == []


def test_a_second_change_while_one_runs_starts_it_over_for_the_new_version(people, worker):
    change_mql(LOOSE)
    worker.requalify_if_due()
    assert progress() == (2, 5, 2, 2, True)
    change_mql({"fields_known": ["company"]})  # another change: version 3
    assert progress() == (3, None, 0, 0, True)
    while worker.requalify_if_due():
        pass
    # Judged again from the first contact: the two moved already stay where they are.
    assert progress() == (3, 5, 5, 2, False)
    rules = [rule["when"] for _, rule in moves_to_mql()]
    assert rules == [LOOSE, LOOSE, {"fields_known": ["company"]}, {"fields_known": ["company"]}]


def test_two_workers_take_turns_and_judge_no_contact_twice(app, people, worker):
    other = DeliveryWorker(app, name="requalify-other", rng=random.Random(4))
    try:
        change_mql(LOOSE)
        assert worker.requalify_if_due() == 1
        assert other.requalify_if_due() == 1
        assert progress() == (2, 5, 4, 3, True)
        assert worker.requalify_if_due() == 1
        assert other.requalify_if_due() == 0
    finally:
        other.close()
    assert progress() == (2, 5, 5, 4, False)
    assert [contact for contact, _ in moves_to_mql()] == [people[0], people[1], *people[3:]]


def test_a_worker_skips_a_site_another_worker_is_running(app, people, clock, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SKIP LOCKED: PostgreSQL (SQLite mode runs one worker)")
    change_mql(LOOSE)
    with db.engine.connect() as held:  # another worker, in the middle of a batch of Acme
        held.execute(text("SELECT id FROM sites WHERE key = 'acme' FOR NO KEY UPDATE"))
        assert requalify_due_sites(clock(), 2) == []
    assert [p.done for p in requalify_due_sites(clock(), 2)] == [2]


def test_the_config_page_shows_the_progress_and_when_it_is_done(people, worker, signed_in, clock):
    client = signed_in("analyst")
    change_mql(LOOSE)
    page = client.get("/admin/sites/acme/config").get_data(as_text=True)
    assert "Re-qualification for version 2 is queued" in page
    worker.requalify_if_due()
    page = client.get("/admin/sites/acme/config").get_data(as_text=True)
    assert "Re-qualifying contacts for version 2: 2 of 5" in page
    assert '<progress max="5" value="2">' in page
    while worker.requalify_if_due():
        pass
    page = client.get("/admin/sites/acme/config").get_data(as_text=True)
    assert "Re-qualified for version 2: 4 contacts moved of 5, at 2026-03-02 09:00 UTC." in page


def test_the_command_runs_it_to_the_end_and_prints_the_progress(people, runner):
    change_mql(LOOSE)
    result = runner.invoke(args=["config", "requalify", "acme", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Re-qualifying contacts for version 2: 2 of 5\n"
        "Re-qualifying contacts for version 2: 4 of 5\n"
        "Re-qualified for version 2: 4 contacts moved of 5\n"
    )
    # Nothing to do: it runs once more for the current version (after a new weight, say).
    result = runner.invoke(args=["config", "requalify", "acme", "--batch", "3"])
    assert result.output == (
        "Re-qualifying contacts for version 2: 3 of 5\n"
        "Re-qualified for version 2: 0 contacts moved of 5\n"
    )


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["config", "requalify", "nope"], 1, 'error: No site "nope".\n'),
        (["config", "requalify", "acme", "--batch", "0"], 2, "Invalid value for '--batch'"),
    ],
)
def test_the_command_refuses_an_unknown_site_and_a_bad_batch(people, runner, args, code, said):
    result = runner.invoke(args=args)
    assert result.exit_code == code
    assert said in result.output
    assert requalification_status("acme") is None
