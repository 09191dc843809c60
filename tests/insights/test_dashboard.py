"""The dashboard's charts: exact rows on small seeded sites, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AccountValue,
    Contact,
    EngagementEvent,
    ProfileValue,
    QuestionStat,
    StageChange,
    Submission,
)
from app.services.errors import NotFound
from app.services.insights import dashboard_chart, site_dashboard, window_days
from app.services.insights.contact_list import _known_keys
from app.services.insights.dashboard import (
    WHITESPACE,
    question_rates,
    score_distribution,
    stage_funnel,
    submissions_per_day,
    tier_completeness,
)
from app.services.siteconfig import site_snapshot
from tests.factories import Widget, acme_config, make_site, verified

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the test clock's start


def at(day: str, clock: str = "12:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}+00:00")


@pytest.fixture
def site(app):
    config = acme_config()
    config["tiers"][0]["label"] = "The basics"
    config["forms"].append(
        {"key": "short", "title": "Quick one", "fields": ["first_name", "company"]}
    )
    config["stages"] = [
        {"key": "lead", "when": {"fields_known": ["email"]}},
        {"key": "mql", "when": {"min_score": 15}},
        {"key": "sql", "when": {"field_equals": {"decision_maker": True}}},
    ]
    return make_site(config)


def snapshot():
    return site_snapshot("acme")


def contact_id(email: str) -> int:
    return db.session.scalar(select(Contact.id).where(Contact.email == email))


def identify(client, email: str, first_name: str = "Ada", company: str = "Acme") -> Widget:
    widget = Widget(client)
    widget.event("page_view")
    assert widget.ask() == ["email", "first_name", "company"]
    response = widget.submit({"email": email, "first_name": first_name, "company": company})
    assert response.status_code == 200
    return widget


def add_contacts(site, *created: datetime) -> list[int]:
    contacts = [Contact(site_id=site.id, created_at=when, updated_at=when) for when in created]
    db.session.add_all(contacts)
    db.session.commit()
    return [c.id for c in contacts]


@pytest.mark.parametrize(
    ("raw", "days"),
    [
        ("7", 7),
        ("30", 30),
        ("90", 90),
        ("365", 365),
        (None, 30),
        ("", 30),
        ("14", 30),
        ("abc", 30),
        ("-7", 30),
        ("7.0", 30),
        (" 7", 30),
        ("0365", 30),
    ],
)
def test_only_the_offered_windows_are_accepted(raw, days):
    assert window_days(raw) == days


# --- completeness -----------------------------------------------------------------------------


def test_completeness_counts_own_and_account_values_per_tier(client, site):
    identify(client, "ada@acme.example")
    bob = verified(identify(client, "bob@globex.example", "Bob", "Globex"), "bob@globex.example")
    bob.event("content_download")
    bob.event("content_download")
    assert bob.ask() == ["zip", "company_size", "industry"]
    bob.submit({"zip": "10115", "company_size": "11-50", "industry": "Retail"})
    identify(client, "cy@globex.example", "Cy", "Globex")  # knows Bob's two account answers
    Widget(client).event("page_view")  # an anonymous contact who knows nothing
    ada = contact_id("ada@acme.example")
    fields = snapshot().fields
    db.session.add_all(
        [
            ProfileValue(contact_id=ada, field_id=fields["zip"].id, value="\u3000 "),  # blank
            ProfileValue(contact_id=ada, field_id=fields["decision_maker"].id, value=False),
            AccountValue(
                account_id=db.session.get(Contact, ada).account_id,
                field_id=fields["company_size"].id,
                value="  ",  # blank
            ),
        ]
    )
    db.session.commit()

    chart = tier_completeness(snapshot())
    assert chart.columns == (
        "Tier",
        "Fields",
        "Answers known (%)",
        "Complete contacts",
        "Complete (%)",
    )
    # Basics: Ada 3, Bob 4, Cy 3, anonymous 0 of 4 → 10/16; firmographics: Bob's two account
    # answers count for Cy too → 4/16; qualification: Ada's "false" is an answer → 1/12.
    assert chart.rows == (
        ("The basics", 4, 62.5, 1, 25.0),
        ("firmographics", 4, 25.0, 0, 0.0),
        ("qualification", 3, 8.3, 0, 0.0),
    )
    assert chart.contacts == 4


def test_completeness_decides_blank_exactly_as_the_contacts_pages_do(app, site):
    values = [
        "",
        " ",
        "\u3000",
        "\t\n\x1c",
        "\xa0",
        [],
        None,
        0,
        False,
        "no",
        "x",
        [""],
        {"a": 1},
        "\xa0a\xa0",
        0.0,
        "\u200b",
    ]
    ids = add_contacts(site, *([NOW] * len(values)))
    company = snapshot().fields["company"].id
    db.session.add_all(
        ProfileValue(contact_id=i, field_id=company, value=v)
        for i, v in zip(ids, values, strict=True)
    )
    db.session.commit()
    contacts = db.session.scalars(select(Contact)).all()
    reference = sum("company" in keys for keys in _known_keys(snapshot(), contacts).values())
    basics = tier_completeness(snapshot()).rows[0]
    assert reference == 9
    assert basics == ("The basics", 4, round(100 * 9 / (4 * 16), 1), 0, 0.0)


def test_the_whitespace_sql_trims_is_what_str_strip_strips():
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == WHITESPACE


def test_completeness_of_a_site_without_contacts_is_blank(app, site):
    assert tier_completeness(snapshot()).rows == (
        ("The basics", 4, None, 0, None),
        ("firmographics", 4, None, 0, None),
        ("qualification", 3, None, 0, None),
    )


# --- questions --------------------------------------------------------------------------------


def test_questions_per_form_over_the_window(client, site, clock):
    early = Widget(client)
    early.ask()  # 40 days before the others: outside a 30-day window, inside 90
    clock.advance(days=40)
    ada = Widget(client)
    ada.ask()
    ada.submit({"email": "ada@acme.example", "first_name": "Ada"}, skipped=["company"])
    today = clock().date()
    db.session.add(  # a form since removed keeps its counts
        QuestionStat(
            site_id=site.id,
            field_id=snapshot().fields["zip"].id,
            form_key="old",
            day=today,
            shown=3,
            answered=1,
            skipped=0,
        )
    )
    db.session.commit()

    chart = question_rates(snapshot(), 30, clock())
    assert chart.title == "Questions shown, answered and skipped, last 30 days"
    assert chart.columns == (
        "Form",
        "Question",
        "Field",
        "Shown",
        "Answered",
        "Skipped",
        "Answer rate (%)",
    )
    never = [
        ("zip", "ZIP code"),
        ("company_size", "Company size"),
        ("industry", "Industry"),
        ("job_title", "Job title"),
        ("employees", "Employees"),
        ("decision_maker", "Do you sign off on purchases?"),
        ("budget", "Budget this year"),
        ("timeline", "When do you plan to buy?"),
    ]
    assert chart.rows == (
        ("blog", "Work email", "email", 1, 1, 0, 100.0),
        ("blog", "First name", "first_name", 1, 1, 0, 100.0),
        ("blog", "Company", "company", 1, 0, 1, 0.0),
        *(("blog", label, key, 0, 0, 0, None) for key, label in never),
        ("short", "First name", "first_name", 0, 0, 0, None),
        ("short", "Company", "company", 0, 0, 0, None),
        ("old", "ZIP code", "zip", 3, 1, 0, 33.3),
    )
    wider = question_rates(snapshot(), 90, clock())
    assert wider.rows[:3] == (
        ("blog", "Work email", "email", 2, 1, 0, 50.0),
        ("blog", "First name", "first_name", 2, 1, 0, 50.0),
        ("blog", "Company", "company", 2, 0, 1, 0.0),
    )


def test_the_window_ends_today_and_is_days_long(client, site, clock):
    widget = Widget(client)
    widget.ask()
    clock.advance(days=7)
    assert question_rates(snapshot(), 7, clock()).rows[0][3] == 0  # 8 days ago
    clock.advance(days=-1)
    assert question_rates(snapshot(), 7, clock()).rows[0][3] == 1  # 7 days ago, incl. today


# --- engagement scores ------------------------------------------------------------------------


def test_scores_fall_into_fixed_buckets_with_the_site_half_life(app):
    config = acme_config(site={"key": "acme", "name": "Acme", "half_life_days": 7})
    site = make_site(config)
    other = make_site(acme_config(site={"key": "other", "name": "Other"}))
    (other_contact,) = add_contacts(other, NOW)
    ids = add_contacts(site, *([NOW] * 10))
    week, fortnight = NOW - timedelta(days=7), NOW - timedelta(days=14)
    events = {
        0: [("webinar", NOW, None)] * 2,  # 10
        1: [("webinar", fortnight, None)],  # 5 halved twice: 1.25
        2: [("content_download", week, "dl-1")],  # 3 halved: 1.5
        3: [],  # no events: 0
        4: [("page_view", NOW - timedelta(days=70), None)],  # 1 / 1024
        5: [("webinar", NOW, None)] * 11,  # 55
        6: [("webinar", NOW, None)] * 4,  # 20: the lower bound of its bucket
        7: [("webinar", NOW, None)],  # 5
        8: [("webinar", week, None)] + [("webinar", NOW, None)] * 3,  # 2.5 + 15
        9: [("unheard_of", NOW, None)] * 3,  # a kind without a weight weighs 0
    }
    db.session.add_all(
        EngagementEvent(
            site_id=site.id,
            contact_id=ids[n],
            kind=kind,
            stage="early",
            occurred_at=when,
            external_id=external,
        )
        for n, rows in events.items()
        for kind, when, external in rows
    )
    db.session.add_all(
        EngagementEvent(
            site_id=other.id,
            contact_id=other_contact,
            kind="webinar",
            stage="late",
            occurred_at=NOW,
        )
        for _ in range(20)
    )
    db.session.commit()

    chart = score_distribution(site_snapshot("acme"), NOW)
    assert chart.columns == ("Score", "Contacts")
    assert chart.rows == (
        ("under 1", 3),
        ("1 to under 5", 2),
        ("5 to under 10", 1),
        ("10 to under 15", 1),
        ("15 to under 20", 1),
        ("20 to under 30", 1),
        ("30 to under 50", 0),
        ("50 and over", 1),
    )
    assert score_distribution(site_snapshot("other"), NOW).rows[-1] == ("50 and over", 1)


# --- lifecycle stages -------------------------------------------------------------------------


def test_contacts_by_furthest_stage_reached_per_day(app, site):
    other = make_site(acme_config(site={"key": "other", "name": "Other"}))
    c1, c2, c3, c4 = add_contacts(
        site,
        at("2026-02-01"),
        at("2026-02-25", "10:00"),
        at("2026-02-27", "23:59"),
        at("2026-03-02", "08:00"),
    )
    (stranger,) = add_contacts(other, at("2026-02-01"))
    moves = [
        (c1, "lead", at("2026-02-10")),  # before the window
        (c1, "mql", at("2026-02-26")),
        (c1, "sql", at("2026-03-01", "00:00")),
        (c2, "lead", at("2026-02-25", "10:00")),
        (c2, "mql", at("2026-02-25", "18:00")),  # the same day: only mql shows
        (c2, "sql", at("2026-03-03")),  # after today: not yet
        (c3, "sql", at("2026-02-28")),
        (c3, "lead", at("2026-03-01")),  # never backwards: c3 stays in sql
        (c4, "vip", at("2026-03-02", "08:30")),  # not a configured stage
    ]
    db.session.add_all(
        StageChange(site_id=site.id, contact_id=c, to_stage=stage, changed_at=when)
        for c, stage, when in moves
    )
    db.session.add(
        StageChange(
            site_id=other.id, contact_id=stranger, to_stage="sql", changed_at=at("2026-02-26")
        )
    )
    db.session.commit()

    chart = stage_funnel(snapshot(), 7, NOW)
    assert chart.title == "Contacts by lifecycle stage, last 7 days"
    assert chart.columns == ("Day", "Contacts", "lead", "mql", "sql")
    assert chart.rows == (
        (date(2026, 2, 24), 1, 1, 0, 0),
        (date(2026, 2, 25), 2, 1, 1, 0),
        (date(2026, 2, 26), 2, 0, 2, 0),
        (date(2026, 2, 27), 3, 0, 2, 0),
        (date(2026, 2, 28), 3, 0, 2, 1),
        (date(2026, 3, 1), 3, 0, 1, 2),
        (date(2026, 3, 2), 4, 0, 1, 2),
    )


def test_a_site_without_stages_shows_only_contacts(app):
    make_site()
    add_contacts(site_snapshot("acme"), at("2026-03-01"))
    chart = stage_funnel(site_snapshot("acme"), 7, NOW)
    assert chart.columns == ("Day", "Contacts")
    assert [row[1] for row in chart.rows] == [0, 0, 0, 0, 0, 1, 1]


# --- submissions ------------------------------------------------------------------------------


def test_submissions_per_utc_day_with_empty_days(client, site, clock):
    identify(client, "ada@acme.example")  # 3 values on 03-02
    clock.advance(days=2)
    identify(client, "bob@globex.example", "Bob", "Globex")
    ada = contact_id("ada@acme.example")
    field = snapshot().fields["zip"].id
    db.session.add_all(
        Submission(
            site_id=site.id,
            contact_id=ada,
            field_id=field,
            form_key="blog",
            value=v,
            created_at=when,
        )
        for v, when in [
            ("1", at("2026-03-04", "23:59:59")),
            ("2", at("2026-03-05", "00:00:00")),
            ("3", at("2026-02-20")),  # before the window
        ]
    )
    db.session.commit()
    clock.advance(days=1)

    chart = submissions_per_day(snapshot(), 7, clock())
    assert chart.title == "Submissions per day, last 7 days"
    assert chart.columns == ("Day", "Answers accepted", "Contacts")
    assert chart.rows == (
        (date(2026, 2, 27), 0, 0),
        (date(2026, 2, 28), 0, 0),
        (date(2026, 3, 1), 0, 0),
        (date(2026, 3, 2), 3, 1),
        (date(2026, 3, 3), 0, 0),
        (date(2026, 3, 4), 4, 2),
        (date(2026, 3, 5), 1, 1),
    )


# --- the whole dashboard ----------------------------------------------------------------------


def test_the_dashboard_has_every_chart_in_order(app, site):
    names = [name for name, _ in site_dashboard("acme", 30, NOW)]
    assert names == ["completeness", "questions", "scores", "stages", "submissions"]
    assert len(dashboard_chart("acme", "submissions", 90, NOW).rows) == 90


@pytest.mark.parametrize(("site_key", "chart"), [("nope", "scores"), ("acme", "nope")])
def test_an_unknown_site_or_chart_is_not_found(app, site, site_key, chart):
    with pytest.raises(NotFound):
        dashboard_chart(site_key, chart, 30, NOW)
