"""Identity: email normalizing, accounts by domain, what a submitted email does, merges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.identity import (
    FREE_MAIL_DOMAINS,
    IdentityAction,
    IdentityDecision,
    account_domain,
    decide_identity,
    merge_values,
    normalize_email,
)
from app.domain.specs import ContactRef, KnownValue

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ANONYMOUS = ContactRef(1, None)
ADA = ContactRef(1, "ada@acme.example")
BOB = ContactRef(2, "bob@acme.example")


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        pytest.param("ada@acme.example", "ada@acme.example", id="already normal"),
        pytest.param("  Ada@ACME.Example\n", "ada@acme.example", id="trimmed and lower-cased"),
    ],
)
def test_normalize_email(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize(
    ("email", "extra", "domain"),
    [
        pytest.param("ada@acme.example", (), "acme.example", id="company domain"),
        pytest.param("ada@Sales.ACME.example", (), "sales.acme.example", id="lower-cased"),
        pytest.param("ada@gmail.com", (), None, id="free mail has no account"),
        pytest.param("ada@googlemail.com", (), None, id="googlemail is free mail"),
        pytest.param("ada@proton.me", (), None, id="proton is free mail"),
        pytest.param("ada@web.de", (), None, id="web.de is free mail"),
        pytest.param("ada@isp.example", ("ISP.example ",), None, id="an extra free-mail domain"),
        pytest.param("ada@acme.example", ("isp.example",), "acme.example", id="extra not matching"),
        pytest.param("ada", (), None, id="no at sign"),
        pytest.param("ada@", (), None, id="nothing after the at sign"),
    ],
)
def test_account_domain(email: str, extra: tuple[str, ...], domain: str | None) -> None:
    assert account_domain(email, extra) == domain


def test_free_mail_list_covers_the_common_providers() -> None:
    assert {"gmail.com", "outlook.com", "hotmail.com", "icloud.com", "qq.com"} <= FREE_MAIL_DOMAINS
    assert len(FREE_MAIL_DOMAINS) >= 40


@pytest.mark.parametrize(
    ("current", "email", "owner", "decision"),
    [
        pytest.param(
            ADA, "ada@acme.example", ADA, IdentityDecision(IdentityAction.KEEP), id="own email"
        ),
        pytest.param(
            ContactRef(1, "Ada@Acme.example"),
            "ada@acme.example",
            None,
            IdentityDecision(IdentityAction.KEEP),
            id="own email in another case",
        ),
        pytest.param(
            ANONYMOUS,
            "ada@acme.example",
            None,
            IdentityDecision(IdentityAction.IDENTIFY),
            id="anonymous with a new email is identified",
        ),
        pytest.param(
            ContactRef(1, ""),
            "ada@acme.example",
            None,
            IdentityDecision(IdentityAction.IDENTIFY),
            id="a blank stored email counts as anonymous",
        ),
        pytest.param(
            ContactRef(3, None),
            "ada@acme.example",
            ADA,
            IdentityDecision(IdentityAction.MERGE, target_id=1),
            id="anonymous with a known email merges into its owner",
        ),
        pytest.param(
            BOB,
            "ada@acme.example",
            ADA,
            IdentityDecision(IdentityAction.REPOINT, target_id=1),
            id="another person's email on a shared browser repoints without merging",
        ),
        pytest.param(
            BOB,
            "carol@acme.example",
            None,
            IdentityDecision(IdentityAction.REPOINT_NEW),
            id="a new email on an identified contact repoints to a new contact",
        ),
    ],
)
def test_decide_identity(
    current: ContactRef, email: str, owner: ContactRef | None, decision: IdentityDecision
) -> None:
    assert decide_identity(current, email, owner) == decision


def kv(value: object, days_ago: int) -> KnownValue:
    return KnownValue(value, NOW - timedelta(days=days_ago))


@pytest.mark.parametrize(
    ("survivor", "absorbed", "taken"),
    [
        pytest.param({}, {"title": kv("CTO", 1)}, {"title": kv("CTO", 1)}, id="missing key taken"),
        pytest.param(
            {"title": kv("CEO", 5)},
            {"title": kv("CTO", 1)},
            {"title": kv("CTO", 1)},
            id="newer absorbed value wins",
        ),
        pytest.param(
            {"title": kv("CEO", 1)}, {"title": kv("CTO", 5)}, {}, id="older absorbed value loses"
        ),
        pytest.param(
            {"title": kv("CEO", 3)}, {"title": kv("CTO", 3)}, {}, id="a tie keeps the survivor's"
        ),
        pytest.param(
            {"title": kv("CEO", 5)}, {"title": kv("  ", 1)}, {}, id="a newer blank never wins"
        ),
        pytest.param({}, {"tools": kv([], 1)}, {}, id="a blank is not taken for a missing key"),
        pytest.param(
            {"title": kv("", 1)},
            {"title": kv("CTO", 5)},
            {"title": kv("CTO", 5)},
            id="an older answer beats a blank",
        ),
        pytest.param(
            {"consent": kv(True, 5)},
            {"consent": kv(False, 1)},
            {"consent": kv(False, 1)},
            id="a newer false is an answer",
        ),
    ],
)
def test_merge_values(
    survivor: dict[str, KnownValue], absorbed: dict[str, KnownValue], taken: dict[str, KnownValue]
) -> None:
    assert merge_values(survivor, absorbed) == taken
