"""The brief: one screen on a handed-off contact for the call, in the words the visitor saw."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.sales import OutcomeInput
from app.extensions import db
from app.models import (
    Account,
    AccountValue,
    Contact,
    EngagementEvent,
    ProfileValue,
    StageChange,
    Submission,
)
from app.services.sales import record_outcome
from app.services.siteconfig import site_snapshot
from tests.console import table_rows
from tests.factories import acme_config, make_site
from tests.sales.support import add_contact, add_handoff, sales_config

BRIEF = "/admin/sites/acme/queue/{id}"


def person(email: str, account: Account | None) -> Contact:
    contact = db.session.get(Contact, add_contact("acme", email))
    contact.account_id = account.id if account else None
    return contact


def answer(contact: Contact, key: str, value, at, *, account: Account | None = None) -> None:
    """A value held on ``contact`` (or its account) and the submission behind it."""
    field_id = site_snapshot("acme").fields[key].id
    if account is None:
        db.session.add(
            ProfileValue(contact_id=contact.id, field_id=field_id, value=value, updated_at=at)
        )
    else:
        db.session.add(
            AccountValue(
                account_id=account.id,
                field_id=field_id,
                value=value,
                updated_at=at,
                contact_id=contact.id,
            )
        )
    db.session.add(
        Submission(
            site_id=contact.site_id,
            contact_id=contact.id,
            field_id=field_id,
            form_key="blog",
            value=value,
            created_at=at,
        )
    )


def event(contact: Contact, kind: str, at, url=None, content=None) -> None:
    db.session.add(
        EngagementEvent(
            site_id=contact.site_id,
            contact_id=contact.id,
            kind=kind,
            stage="mid",
            url=url,
            content=content,
            occurred_at=at,
        )
    )


@pytest.fixture
def ada(app, clock, signed_in):
    """Ada of corp.example, handed off two hours ago, with a colleague and a stranger."""
    make_site(sales_config())
    now = clock()
    h = timedelta(hours=1)
    site_id = site_snapshot("acme").id
    corp = Account(site_id=site_id, domain="corp.example")
    db.session.add(corp)
    db.session.flush()
    ada, bob = person("ada@corp.example", corp), person("bob@corp.example", corp)
    stranger = person("eve@elsewhere.example", None)
    answer(ada, "first_name", "Ada", now - 6 * h)
    answer(ada, "job_title", "CTO", now - 6 * h)
    answer(ada, "decision_maker", True, now - 5 * h)
    answer(ada, "company_size", "200+", now - 4 * h, account=corp)
    answer(bob, "industry", "Software", now - 7 * h, account=corp)
    event(ada, "page_view", now - 3 * h, url="https://www.acme.example/pricing")
    event(bob, "content_download", now - 150 * timedelta(minutes=1), content="ROI guide")
    event(ada, "webinar", now - h, content="Scaling forms")
    event(stranger, "webinar", now - h, content="not a colleague")
    for stage, when, at in [
        ("lead", {"fields_known": ["email"]}, now - 6 * h),
        ("mql", {"min_score": 10}, now - 2 * h),
    ]:
        db.session.add(
            StageChange(
                site_id=site_id,
                contact_id=ada.id,
                from_stage=None if stage == "lead" else "lead",
                to_stage=stage,
                rule={"stage": stage, "when": when, **({"score": 22.5} if stage == "mql" else {})},
                changed_at=at,
            )
        )
    db.session.commit()
    add_handoff(ada.id, now - 2 * h, now + 46 * h)
    record_outcome(
        "acme",
        ada.id,
        OutcomeInput("contacted", "rep@acme.example", "k1", now - 30 * timedelta(minutes=1),
                     note="Voicemail"),
        now,
    )  # fmt: skip
    signed_in("sales", "rep@acme.example")
    return ada.id


def test_the_brief_says_who_why_and_what_happened(ada, client):
    html = client.get(BRIEF.format(id=ada)).get_data(as_text=True)
    assert '<h1>ada@corp.example <small class="count">#1</small></h1>' in html
    assert "<dt>Name</dt><dd>Ada</dd>" in html
    assert "<dt>Company</dt><dd>corp.example</dd>" in html
    # The contact attempt 30 minutes ago stopped the clock: met, no time left to count.
    assert "<dt>Time left</dt><dd>—</dd>" in html
    assert '<span class="tag sla-met">met</span>' in html
    assert "<li>Engagement score ≥ 10 (was 22.5)</li>" in html
    assert table_rows(html) == [
        # their answers, in field order, options by their labels
        ["First name", "Ada", "2026-03-02 03:00 UTC"],
        ["Job title", "CTO", "2026-03-02 03:00 UTC"],
        ["Do you sign off on purchases?", "Yes", "2026-03-02 04:00 UTC"],
        # the company's
        ["Company size", "More than 200", "2026-03-02 05:00 UTC"],
        ["Industry", "Software", "2026-03-02 02:00 UTC"],
        # outcomes so far
        ["2026-03-02 08:30 UTC", "contacted", "—", "Voicemail", "rep@acme.example", "—"],
        # activity: theirs and their colleague's, newest first
        ["2026-03-02 08:00 UTC", "ada@corp.example this contact", "webinar", "Scaling forms"],
        ["2026-03-02 06:30 UTC", "bob@corp.example", "content_download", "ROI guide"],
        ["2026-03-02 06:00 UTC", "ada@corp.example this contact", "page_view",
         "https://www.acme.example/pricing"],
        ["2026-03-02 05:00 UTC", "ada@corp.example this contact", "answered “Company size”",
         "More than 200"],
        ["2026-03-02 04:00 UTC", "ada@corp.example this contact",
         "answered “Do you sign off on purchases?”", "Yes"],
        ["2026-03-02 03:00 UTC", "ada@corp.example this contact", "answered “Job title”", "CTO"],  # given after the first name
        ["2026-03-02 03:00 UTC", "ada@corp.example this contact", "answered “First name”", "Ada"],
        ["2026-03-02 02:00 UTC", "bob@corp.example", "answered “Industry”", "Software"],
    ]  # fmt: skip
    assert "not a colleague" not in html


def test_activity_keeps_the_newest_20(ada, client, clock):
    contact = db.session.get(Contact, ada)
    for n in range(25):
        event(contact, "page_view", clock() - timedelta(minutes=n), url=f"https://a.example/{n}")
    db.session.commit()
    rows = table_rows(client.get(BRIEF.format(id=ada)).get_data(as_text=True))
    activity = [row for row in rows if len(row) == 4]
    assert len(activity) == 20
    assert activity[0][3] == "https://a.example/0"
    assert activity[-1][3] == "https://a.example/19"


def test_another_sites_contact_is_404(ada, client):
    other = acme_config()
    other["site"] = {**other["site"], "key": "other", "name": "Other"}
    make_site(other)
    theirs = add_contact("other", "eve@other.example")
    assert client.get(BRIEF.format(id=theirs)).status_code == 404
    assert client.get(f"/admin/sites/other/queue/{ada}").status_code == 404
    assert client.get(BRIEF.format(id=999999)).status_code == 404


def test_a_contact_without_a_handoff_or_stage_move_has_a_brief_too(ada, client):
    quiet = add_contact("acme", None, stage=None)
    html = client.get(BRIEF.format(id=quiet)).get_data(as_text=True)
    assert "<h1>Anonymous" in html
    assert "No open hand-off." in html
    assert "No stage move recorded." in html
    assert "No answers yet." in html


def test_labels_are_shown_as_text(app, clock, signed_in, client):
    config = sales_config()
    config["fields"] = [
        {**f, "label": "<script>alert(1)</script> size"} if f["key"] == "company_size" else f
        for f in config["fields"]
    ]
    make_site(config)
    contact = person("ada@corp.example", None)
    answer(contact, "first_name", "<img src=x onerror=alert(2)>", clock())
    db.session.commit()
    corp = Account(site_id=contact.site_id, domain="corp.example")
    db.session.add(corp)
    db.session.flush()
    contact.account_id = corp.id
    answer(contact, "company_size", "200+", clock(), account=corp)
    db.session.commit()
    signed_in("sales", "rep@acme.example")
    html = client.get(BRIEF.format(id=contact.id)).get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; size" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
