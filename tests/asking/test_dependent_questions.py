"""A dependent question granted conditioned: shown in the same form once the answer to its
parent meets its condition, checked at submit, counted against max_questions only when shown."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import EngagementEvent, Field, QuestionStat, Submission
from app.services.insights.question_stats import flush
from tests.factories import Widget, acme_config, make_site

BUDGET_HIDDEN = "This question was not shown. It is asked only when decision_maker is Yes."
TIMELINE_STEPPED_BACK = "This question was not shown. The form shows at most 2 questions at a time."


@pytest.fixture
def site(app):
    config = acme_config()
    config["forms"].append(
        {"key": "quote", "title": "Get a quote", "tiers": ["qualification"], "max_questions": 2}
    )
    return make_site(config)


def qualified(client) -> Widget:
    """A browser with score 10 at the late stage: the qualification tier is open."""
    widget = Widget(client, form="quote")
    widget.event("webinar", "late")
    widget.event("webinar", "late")
    return widget


def stored() -> tuple[int, int]:
    """History rows, and form_submit events: what a submit writes."""
    events = select(func.count()).where(EngagementEvent.kind == "form_submit")
    return db.session.scalar(select(func.count()).select_from(Submission)), db.session.scalar(
        events.select_from(EngagementEvent)
    )


def test_the_ask_grants_budget_conditioned_after_its_parent(client, site):
    widget = qualified(client)
    response = widget.post("/forms/quote/ask", {"visitor": widget.visitor})
    data = response.get_json()
    assert response.status_code == 200
    assert data["form"].pop("strings")["skip"] == "Skip"  # the interface text
    assert data["form"] == {
        "title": "Get a quote",
        "submit_label": "Submit",
        "max_questions": 2,
        "language": "en",
        "dir": "ltr",
    }
    assert [(q["key"], q.get("when")) for q in data["questions"]] == [
        ("decision_maker", None),
        ("budget", {"field": "decision_maker", "equals": True}),
        ("timeline", None),
    ]


def test_yes_reveals_budget_which_takes_the_last_place(client, site):
    widget = qualified(client)
    assert widget.ask() == ["decision_maker", "budget", "timeline"]
    response = widget.submit({"decision_maker": True, "budget": "> 100k"})
    assert response.status_code == 200, response.get_json()
    rows = db.session.scalars(select(Submission).order_by(Submission.id)).all()
    assert [h.value for h in rows] == [True, "> 100k"]
    assert widget.ask() == ["timeline"]


def test_an_answer_to_a_question_that_stepped_back_is_refused(client, site):
    widget = qualified(client)
    widget.ask()
    response = widget.submit({"decision_maker": True, "budget": "> 100k", "timeline": "Now"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"timeline": [TIMELINE_STEPPED_BACK]}
    assert stored() == (0, 0)


@pytest.mark.parametrize(
    ("answers", "skipped"),
    [
        pytest.param({"decision_maker": False, "budget": "< 10k"}, [], id="answered after No"),
        pytest.param({"budget": "< 10k"}, [], id="answered with no parent answer"),
        pytest.param({"budget": "< 10k"}, ["decision_maker"], id="answered, parent skipped"),
        pytest.param({"decision_maker": False}, ["budget"], id="skipped after No"),
        pytest.param({"decision_maker": "yes", "budget": "< 10k"}, [], id="parent invalid"),
    ],
)
def test_an_answer_whose_condition_does_not_hold_stores_nothing(client, site, answers, skipped):
    widget = qualified(client)
    widget.ask()
    response = widget.submit(answers, skipped=skipped)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields["budget"] == [BUDGET_HIDDEN]
    assert stored() == (0, 0)


@pytest.mark.parametrize(
    ("language", "hidden", "stepped_back"),
    [
        (
            "de",
            "Diese Frage wurde nicht angezeigt. Sie wird nur gestellt, wenn decision_maker Ja ist.",
            "Diese Frage wurde nicht angezeigt. Das Formular zeigt höchstens 2 Fragen auf einmal.",
        ),
        (
            "he",
            "השאלה הזו לא הוצגה. היא נשאלת רק כאשר decision_maker הוא כן.",
            "השאלה הזו לא הוצגה. הטופס מציג לכל היותר 2 שאלות בכל פעם.",
        ),
    ],
)
def test_a_question_not_shown_is_refused_in_the_forms_language(
    client, app, language, hidden, stepped_back
):
    config = acme_config()
    config["forms"].append(
        {
            "key": "quote",
            "title": "Angebot",
            "tiers": ["qualification"],
            "max_questions": 2,
            "language": language,
        }
    )
    make_site(config)
    widget = qualified(client)
    widget.ask()
    response = widget.submit({"decision_maker": False, "budget": "< 10k"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"budget": [hidden]}
    response = widget.submit({"decision_maker": True, "budget": "> 100k", "timeline": "Now"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"timeline": [stepped_back]}
    assert stored() == (0, 0)


def test_no_keeps_budget_hidden_and_timeline_shown(client, site):
    widget = qualified(client)
    widget.ask()
    response = widget.submit({"decision_maker": False, "timeline": "Now"})
    assert response.status_code == 200, response.get_json()
    rows = db.session.scalars(select(Submission).order_by(Submission.id)).all()
    assert [h.value for h in rows] == [False, "Now"]
    assert widget.ask() == []


def test_a_parent_over_the_limit_brings_no_dependent(client, site):
    """With max_questions 1 the one place is decision_maker's: budget could never be shown."""
    config = acme_config()
    config["forms"].append(
        {"key": "quote", "title": "Get a quote", "tiers": ["qualification"], "max_questions": 1}
    )
    make_site(config)
    widget = qualified(client)
    assert widget.ask() == ["decision_maker"]


def test_a_known_parent_decides_as_before(client, site):
    widget = qualified(client)
    widget.ask()
    assert widget.submit({"decision_maker": True}).status_code == 200  # budget left blank
    # decision_maker is known now: budget comes plain.
    response = widget.post("/forms/quote/ask", {"visitor": widget.visitor})
    assert [(q["key"], q.get("when")) for q in response.get_json()["questions"]] == [
        ("budget", None),
        ("timeline", None),
    ]


def test_a_conditioned_question_counts_as_shown_only_when_a_submit_shows_it(client, site):
    yes, no = qualified(client), qualified(client)
    yes.ask()
    no.ask()
    assert yes.submit({"decision_maker": True, "budget": "> 100k"}).status_code == 200
    assert no.submit({"decision_maker": False}, skipped=["timeline"]).status_code == 200
    flush()
    rows = db.session.execute(
        select(Field.key, QuestionStat.shown, QuestionStat.answered, QuestionStat.skipped)
        .join(Field, Field.id == QuestionStat.field_id)
        .where(QuestionStat.form_key == "quote")
    )
    # (The ask counted timeline, which stepped back for budget in the first browser's form.)
    assert sorted(tuple(row) for row in rows) == [
        ("budget", 1, 1, 0),
        ("decision_maker", 2, 2, 0),
        ("timeline", 2, 0, 1),
    ]
