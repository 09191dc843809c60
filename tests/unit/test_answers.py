"""Answers: each kind's accepted and refused values, and what a whole submit may contain."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from app.domain.answers import (
    AnswerError,
    Offer,
    ReviewedSubmission,
    clean_answer,
    review_submission,
)
from app.domain.specs import Dependency, FieldRule

SIZES = ("1-10", "11-50", "51-200")
TOOLS = ("crm", "erp", "chat")


def f(kind: str, key: str = "q", **options: Any) -> FieldRule:
    return FieldRule(key=key, tier="basics", kind=kind, **options)


ACCEPTED = [
    # Blank is no answer, for every kind.
    *(
        pytest.param(f(kind), raw, None, id=f"{kind}: blank {raw!r} is None")
        for kind in ("text", "email", "number", "select", "multiselect", "boolean")
        for raw in (None, "", "  ", [])
    ),
    pytest.param(f("text"), "  Ada  ", "Ada", id="text: stripped"),
    pytest.param(f("text", max_length=3), "abc", "abc", id="text: exactly max_length"),
    pytest.param(f("text"), "a" * 255, "a" * 255, id="text: the default 255"),
    pytest.param(f("textarea"), "line 1\nline 2\n", "line 1\nline 2", id="textarea: newlines kept"),
    pytest.param(f("textarea"), "x" * 5000, "x" * 5000, id="textarea: the default 5000"),
    pytest.param(f("email"), " Ada@Acme.example ", "Ada@Acme.example", id="email: stripped"),
    pytest.param(f("email"), "a.b+tag@mail.acme.co", "a.b+tag@mail.acme.co", id="email: subdomain"),
    pytest.param(f("phone"), "+49 (30) 123-456", "+49 (30) 123-456", id="phone: punctuation"),
    pytest.param(f("phone"), "030/12.34.56", "030/12.34.56", id="phone: slashes and dots"),
    pytest.param(f("phone"), "123456", "123456", id="phone: six digits"),
    pytest.param(f("phone"), "1" * 20, "1" * 20, id="phone: twenty digits"),
    pytest.param(f("url"), " https://acme.example/p?q=1 ", "https://acme.example/p?q=1", id="url"),
    pytest.param(f("url"), "HTTP://acme.example", "HTTP://acme.example", id="url: scheme case"),
    pytest.param(f("number"), 42, 42, id="number: int"),
    pytest.param(f("number"), 0, 0, id="number: zero is an answer"),
    pytest.param(f("number"), 2.5, 2.5, id="number: float"),
    pytest.param(f("number"), 3.0, 3.0, id="number: an integral float stays float"),
    pytest.param(f("number"), " 007 ", 7, id="number: integer string"),
    pytest.param(f("number"), "-12", -12, id="number: negative integer string"),
    pytest.param(f("number"), "-3.50", -3.5, id="number: decimal string"),
    pytest.param(f("number"), "1e3", 1000.0, id="number: exponent string is float"),
    pytest.param(f("number"), 10**15, 10**15, id="number: the largest accepted int"),
    pytest.param(f("number"), -(10**15), -(10**15), id="number: the smallest accepted int"),
    pytest.param(f("select", options=SIZES), "11-50", "11-50", id="select: an option"),
    pytest.param(
        f("multiselect", options=TOOLS),
        ["chat", "crm"],
        ["crm", "chat"],
        id="multiselect: option order",
    ),
    pytest.param(f("boolean"), False, False, id="boolean: false is an answer"),
    pytest.param(f("boolean"), True, True, id="boolean: true"),
    pytest.param(f("consent"), True, True, id="consent: given"),
    pytest.param(f("consent"), False, False, id="consent: refused"),
]


@pytest.mark.parametrize(("field", "raw", "cleaned"), ACCEPTED)
def test_clean_answer_accepts(field: FieldRule, raw: Any, cleaned: Any) -> None:
    result = clean_answer(field, raw)

    assert result == cleaned
    assert type(result) is type(cleaned)


EMAIL = "Enter a valid email address."
PHONE = "Enter a valid phone number."
URL = "Enter a valid http(s) URL."
NUMBER = "Enter a number."
TOO_LARGE = "Enter a number between -1000000000000000 and 1000000000000000."
YES_NO = "Answer yes or no."
CHOICE = "Choose one of the offered options."
CHOICES = "Choose only from the offered options."

REFUSED = [
    pytest.param(
        f("text", max_length=80), "a" * 81, "Must be at most 80 characters.", id="text: too long"
    ),
    pytest.param(f("text"), "a" * 256, "Must be at most 255 characters.", id="text: default limit"),
    pytest.param(
        f("textarea"), "a" * 5001, "Must be at most 5000 characters.", id="textarea: limit"
    ),
    pytest.param(f("text"), 12, "Enter text.", id="text: a number"),
    pytest.param(f("text"), {"a": 1}, "Enter text.", id="text: an object"),
    pytest.param(f("text"), ["a"], "Enter text.", id="text: a list"),
    pytest.param(
        f("text"), "a\x00b", "Contains characters that are not allowed.", id="text: NUL character"
    ),
    pytest.param(
        f("text"), "a\ud800", "Contains characters that are not allowed.", id="text: lone surrogate"
    ),
    pytest.param(f("email"), "ada", EMAIL, id="email: no at sign"),
    pytest.param(f("email"), "ada@@acme.example", EMAIL, id="email: two at signs"),
    pytest.param(f("email"), "a@b@acme.example", EMAIL, id="email: at sign in local part"),
    pytest.param(f("email"), "@acme.example", EMAIL, id="email: empty local part"),
    pytest.param(f("email"), "a da@acme.example", EMAIL, id="email: space in local part"),
    pytest.param(f("email"), "ada@localhost", EMAIL, id="email: domain without a dot"),
    pytest.param(f("email"), "ada@acme..example", EMAIL, id="email: empty label"),
    pytest.param(f("email"), "ada@-acme.example", EMAIL, id="email: label starts with hyphen"),
    pytest.param(f("email"), "ada@acme_x.example", EMAIL, id="email: underscore in domain"),
    pytest.param(f("email"), "ada@acme.c", EMAIL, id="email: one-letter TLD"),
    pytest.param(f("email"), "ada@acme.c0m", EMAIL, id="email: digit in TLD"),
    pytest.param(f("email"), "a" * 243 + "@acme.example", EMAIL, id="email: over 254 characters"),
    pytest.param(f("email"), 5, EMAIL, id="email: a number"),
    pytest.param(f("phone"), "12345", PHONE, id="phone: five digits"),
    pytest.param(f("phone"), "1" * 21, PHONE, id="phone: twenty-one digits"),
    pytest.param(f("phone"), "+49 30 CALL-ME", PHONE, id="phone: letters"),
    pytest.param(f("phone"), 49301234567, PHONE, id="phone: a number"),
    pytest.param(f("url"), "ftp://acme.example", URL, id="url: other scheme"),
    pytest.param(f("url"), "javascript:alert(1)", URL, id="url: javascript"),
    pytest.param(f("url"), "acme.example", URL, id="url: no scheme"),
    pytest.param(f("url"), "https://", URL, id="url: no host"),
    pytest.param(f("url"), "https://acme.example:99999/", URL, id="url: bad port"),
    pytest.param(f("url"), "http://[::1", URL, id="url: broken IPv6 host"),
    pytest.param(f("url"), "https://acme.example/a b", URL, id="url: a space"),
    pytest.param(
        f("url"),
        "https://a.example/" + "p" * 2000,
        "Must be at most 2000 characters.",
        id="url: long",
    ),
    pytest.param(f("url"), ["https://acme.example"], URL, id="url: a list"),
    pytest.param(f("number"), True, NUMBER, id="number: true is not a number"),
    pytest.param(f("number"), "12 apples", NUMBER, id="number: words"),
    pytest.param(f("number"), "1_000", NUMBER, id="number: underscores"),
    pytest.param(f("number"), 10**15 + 1, TOO_LARGE, id="number: an int beyond the bound"),
    pytest.param(f("number"), "-1e16", TOO_LARGE, id="number: a string beyond the bound"),
    pytest.param(f("number"), 1e300, TOO_LARGE, id="number: a float beyond the bound"),
    pytest.param(f("number"), "nan", NUMBER, id="number: nan string"),
    pytest.param(f("number"), float("inf"), NUMBER, id="number: infinity"),
    pytest.param(f("number"), "1e999", NUMBER, id="number: overflows to infinity"),
    pytest.param(f("number"), "9" * 5000, NUMBER, id="number: a 5000-digit string"),
    pytest.param(f("number"), {"n": 1}, NUMBER, id="number: an object"),
    pytest.param(f("select", options=SIZES), "200+", CHOICE, id="select: not an option"),
    pytest.param(f("select", options=SIZES), ["1-10"], CHOICE, id="select: a list"),
    pytest.param(f("select", options=("1",)), 1, CHOICE, id="select: a number for a string option"),
    pytest.param(
        f("multiselect", options=TOOLS), ["crm", "fax"], CHOICES, id="multiselect: stranger"
    ),
    pytest.param(f("multiselect", options=TOOLS), "crm", CHOICES, id="multiselect: a string"),
    pytest.param(f("multiselect", options=TOOLS), [["crm"]], CHOICES, id="multiselect: nested"),
    pytest.param(
        f("multiselect", options=TOOLS),
        ["crm", "crm"],
        "Choose each option only once.",
        id="multiselect: repeated",
    ),
    pytest.param(f("boolean"), "yes", YES_NO, id="boolean: the string yes"),
    pytest.param(f("boolean"), 1, YES_NO, id="boolean: the number 1"),
    pytest.param(f("consent"), "true", YES_NO, id="consent: the string true"),
    pytest.param(f("consent"), {}, YES_NO, id="consent: an object"),
    pytest.param(f("hologram"), "x", "This question cannot be answered.", id="unknown kind"),
]


@pytest.mark.parametrize(("field", "raw", "message"), REFUSED)
def test_clean_answer_refuses(field: FieldRule, raw: Any, message: str) -> None:
    with pytest.raises(AnswerError) as refused:
        clean_answer(field, raw)

    assert refused.value.message == message


FIELDS = {
    "email": f("email", "email"),
    "name": f("text", "name"),
    "size": f("select", "size", options=SIZES),
    "terms": f("consent", "terms"),
}
OFFERED = ("email", "name", "size", "terms")


def review(
    answers: dict[str, Any],
    skipped: tuple[str, ...] = (),
    required: tuple[str, ...] = (),
    offered: tuple[str, ...] = OFFERED,
) -> ReviewedSubmission:
    return review_submission(FIELDS, Offer(offered, required), answers, skipped)


@pytest.mark.parametrize(
    ("submit", "expected"),
    [
        pytest.param(
            partial(review, {"email": " ada@acme.example ", "size": "11-50"}),
            ReviewedSubmission({"email": "ada@acme.example", "size": "11-50"}, (), {}),
            id="clean answers are accepted",
        ),
        pytest.param(
            partial(review, {"name": "  ", "size": None}),
            ReviewedSubmission({}, (), {}),
            id="blank answers are left out so they never overwrite",
        ),
        pytest.param(
            partial(review, {"name": "Ada", "phone": "123456"}, skipped=("fax",)),
            ReviewedSubmission(
                {"name": "Ada"},
                (),
                {
                    "phone": ("This question was not asked.",),
                    "fax": ("This question was not asked.",),
                },
            ),
            id="keys that were not offered are refused",
        ),
        pytest.param(
            partial(review, {"size": "huge"}),
            ReviewedSubmission({}, (), {"size": ("Choose one of the offered options.",)}),
            id="an invalid answer names its field",
        ),
        pytest.param(
            partial(review, {"name": "Ada"}, skipped=("name", "size", "size")),
            ReviewedSubmission(
                {}, ("name", "size"), {"name": ("Answer or skip this question, not both.",)}
            ),
            id="answered and skipped at once is refused",
        ),
        pytest.param(
            partial(review, {"name": ""}, skipped=("name",)),
            ReviewedSubmission({}, ("name",), {}),
            id="a blank answer may be skipped",
        ),
        pytest.param(
            partial(review, {}, required=("email", "name")),
            ReviewedSubmission(
                {},
                (),
                {"email": ("This question is required.",), "name": ("This question is required.",)},
            ),
            id="required questions left out are refused",
        ),
        pytest.param(
            partial(review, {"email": "   "}, required=("email",)),
            ReviewedSubmission({}, (), {"email": ("This question is required.",)}),
            id="a blank does not answer a required question",
        ),
        pytest.param(
            partial(review, {}, skipped=("email",), required=("email",)),
            ReviewedSubmission({}, ("email",), {}),
            id="a required question may be skipped",
        ),
        pytest.param(
            partial(review, {"email": "nope"}, required=("email",)),
            ReviewedSubmission({}, (), {"email": ("Enter a valid email address.",)}),
            id="an invalid required answer reports only its own error",
        ),
        pytest.param(
            partial(review, {"terms": True}, required=("terms",)),
            ReviewedSubmission({"terms": True}, (), {}),
            id="a required consent given",
        ),
        pytest.param(
            partial(review, {"terms": False}, required=("terms",)),
            ReviewedSubmission({}, (), {"terms": ("Consent is required.",)}),
            id="a required consent refused",
        ),
        pytest.param(
            partial(review, {}, skipped=("terms",), required=("terms",)),
            ReviewedSubmission({}, ("terms",), {"terms": ("Consent is required.",)}),
            id="a required consent skipped",
        ),
        pytest.param(
            partial(review, {}, required=("terms",)),
            ReviewedSubmission({}, (), {"terms": ("This question is required.",)}),
            id="a required consent not answered",
        ),
        pytest.param(
            partial(review, {"terms": False}),
            ReviewedSubmission({"terms": False}, (), {}),
            id="an optional consent may be refused",
        ),
    ],
)
def test_review_submission(
    submit: Callable[[], ReviewedSubmission], expected: ReviewedSubmission
) -> None:
    assert submit() == expected


def test_the_review_says_which_questions_the_form_showed() -> None:
    # name is revealed to people of a larger company, and then terms steps back (3 at most).
    larger = Dependency("size", "in", ("11-50", "51-200"))
    offered = ("email", "size", "name", "terms")
    offer = Offer(offered, (), conditions={"name": larger}, limit=3)
    small = review_submission(FIELDS, offer, {"size": "1-10"}, ())
    assert small.shown == ("email", "size", "terms")
    larger_one = review_submission(FIELDS, offer, {"size": "51-200", "name": "Ada"}, ())
    assert larger_one.errors == {}
    assert larger_one.shown == ("email", "size", "name")
    unconditioned = review_submission(FIELDS, Offer(OFFERED, ()), {"email": "a@b.example"}, ())
    assert unconditioned.shown == OFFERED
