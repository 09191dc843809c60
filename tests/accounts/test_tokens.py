"""API tokens as a service: created hashed and shown once, listed, revoked, authenticated."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import ApiToken
from app.services.accounts import (
    authenticate_token,
    create_token,
    create_user,
    list_tokens,
    revoke_token,
)
from app.services.accounts.api_tokens import MISSING, NOT_VALID, _record_use
from app.services.errors import Forbidden, Invalid, NotFound, Unauthenticated

TOKEN = re.compile(r"trk_[A-Za-z0-9_-]{43}")


def new_token(clock, site: str = "acme", role: str = "analyst", name: str = "BI") -> str:
    return create_token(site, role, name, now=clock())[1]


def stored(token_id: int) -> ApiToken:
    """The row as stored now, not as cached by the session."""
    db.session.expire_all()
    return db.session.get(ApiToken, token_id)


def token_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ApiToken))


@contextmanager
def token_updates() -> Iterator[list[str]]:
    """The UPDATE statements on api_tokens sent while the block runs."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# --- create ---------------------------------------------------------------------------------


def test_create_returns_the_token_once_and_stores_only_its_hash(sites, clock):
    ann, _ = create_user("ann@acme.example", "admin", "correct horse battery")
    token, raw = create_token("acme", "marketer", "  Nightly BI  ", created_by=ann, now=clock())
    assert TOKEN.fullmatch(raw)
    row = stored(token.id)
    assert (row.site.key, row.role, row.name, row.created_by.email) == (
        "acme",
        "marketer",
        "Nightly BI",
        "ann@acme.example",
    )
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert row.prefix == raw[:12]
    assert (row.created_at, row.last_used_at, row.revoked_at) == (clock(), None, None)
    columns = db.session.execute(select(ApiToken.__table__)).one()
    assert raw not in [str(value) for value in columns]


def test_every_token_is_new(sites, clock):
    first, second = new_token(clock), new_token(clock)
    assert first != second
    assert len({row.token_hash for row in list_tokens()}) == 2


def test_a_token_without_a_creator_keeps_none(sites, clock):
    token, _ = create_token("acme", "analyst", "cli", now=clock())
    assert stored(token.id).created_by is None


def test_a_name_of_200_characters_is_kept_whole(sites, clock):
    token, _ = create_token("acme", "analyst", "é" * 200, now=clock())
    assert stored(token.id).name == "é" * 200


@pytest.mark.parametrize(
    ("role", "name", "fields"),
    [
        ("owner", "BI", {"role": ["Choose one of: analyst, marketer, admin, sales."]}),
        ("", "BI", {"role": ["Choose one of: analyst, marketer, admin, sales."]}),
        ("analyst", "", {"name": ["Enter a name, so you can tell this token from others."]}),
        ("analyst", " \t ", {"name": ["Enter a name, so you can tell this token from others."]}),
        ("analyst", "x" * 201, {"name": ["Use at most 200 characters."]}),
        ("analyst", "a\x00b", {"name": ["Contains characters that are not allowed."]}),
        ("analyst", "a\ud800b", {"name": ["Contains characters that are not allowed."]}),
        ("analyst", "two\nlines", {"name": ["Contains characters that are not allowed."]}),
        (
            "Admin",
            "",
            {
                "role": ["Choose one of: analyst, marketer, admin, sales."],
                "name": ["Enter a name, so you can tell this token from others."],
            },
        ),
    ],
)
def test_bad_input_is_invalid_and_saves_nothing(sites, clock, role, name, fields):
    with pytest.raises(Invalid) as refused:
        create_token("acme", role, name, now=clock())
    assert (refused.value.status, refused.value.message) == (422, "The token was not created.")
    assert refused.value.fields == fields
    assert token_count() == 0


@pytest.mark.parametrize("site", ["nope", "", "acme\x00", "\ud800"])
def test_an_unknown_site_is_not_found(sites, clock, site):
    with pytest.raises(NotFound):
        create_token(site, "analyst", "BI", now=clock())
    assert token_count() == 0


# --- list -----------------------------------------------------------------------------------


def test_list_is_newest_first_and_by_site(sites, clock):
    create_token("acme", "analyst", "first", now=clock())
    clock.advance(minutes=1)
    create_token("other", "analyst", "elsewhere", now=clock())
    clock.advance(minutes=1)
    create_token("acme", "admin", "third", now=clock())
    clock.advance(minutes=1)
    create_token("acme", "analyst", "same time, later id", now=clock())
    create_token("acme", "analyst", "latest id", now=clock())
    assert [t.name for t in list_tokens("acme")] == [
        "latest id",
        "same time, later id",
        "third",
        "first",
    ]
    assert [t.name for t in list_tokens("other")] == ["elsewhere"]
    assert [(t.site.key, t.name) for t in list_tokens()] == [
        ("acme", "latest id"),
        ("acme", "same time, later id"),
        ("acme", "third"),
        ("other", "elsewhere"),
        ("acme", "first"),
    ]


def test_list_of_an_unknown_site_is_not_found(sites):
    with pytest.raises(NotFound):
        list_tokens("nope")
    assert list_tokens("acme") == []


# --- revoke ---------------------------------------------------------------------------------


def test_revoking_stops_the_token_and_a_second_revoke_keeps_the_first_time(sites, clock):
    token, raw = create_token("acme", "analyst", "BI", now=clock())
    revoked_at = clock.advance(hours=1)
    assert revoke_token("acme", token.id, revoked_at).revoked_at == revoked_at
    clock.advance(hours=1)
    assert revoke_token("acme", token.id, clock()).revoked_at == revoked_at
    assert stored(token.id).revoked_at == revoked_at
    with pytest.raises(Unauthenticated) as refused:
        authenticate_token(raw, "acme", "analyst", clock())
    assert refused.value.message == NOT_VALID


@pytest.mark.parametrize(
    ("site", "which"),
    [("other", "own"), ("acme", "unknown"), ("acme", "huge"), ("acme", "zero"), ("nope", "own")],
)
def test_revoking_another_sites_or_an_unknown_token_is_not_found(sites, clock, site, which):
    token, raw = create_token("acme", "analyst", "BI", now=clock())
    token_id = {"own": token.id, "unknown": token.id + 1, "huge": 2**63, "zero": 0}[which]
    with pytest.raises(NotFound):
        revoke_token(site, token_id, clock())
    assert stored(token.id).revoked_at is None
    assert authenticate_token(raw, "acme", "analyst", clock()).id == token.id


# --- authenticate ---------------------------------------------------------------------------


def test_a_valid_token_is_returned_and_its_use_recorded(sites, clock):
    token, raw = create_token("acme", "analyst", "BI", now=clock())
    used_at = clock.advance(minutes=5)
    assert authenticate_token(raw, "acme", "analyst", used_at).id == token.id
    assert stored(token.id).last_used_at == used_at


def test_a_burst_of_calls_writes_the_last_use_once_a_minute(sites, clock):
    token, raw = create_token("acme", "analyst", "BI", now=clock())
    first = clock()
    with token_updates() as sent:
        authenticate_token(raw, "acme", "analyst", first)
        for _ in range(5):
            authenticate_token(raw, "acme", "analyst", clock.advance(seconds=10))
    assert len(sent) == 1
    assert stored(token.id).last_used_at == first
    later = clock.advance(seconds=10)  # 60 s after the recorded use
    with token_updates() as sent:
        authenticate_token(raw, "acme", "analyst", later)
    assert len(sent) == 1
    assert stored(token.id).last_used_at == later


def test_an_older_clock_never_moves_the_last_use_back(sites, clock):
    token, raw = create_token("acme", "analyst", "BI", now=clock())
    authenticate_token(raw, "acme", "analyst", clock())
    authenticate_token(raw, "acme", "analyst", clock() - timedelta(hours=1))
    assert stored(token.id).last_used_at == clock()


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_no_token_is_401_asking_for_one(sites, clock, raw):
    with pytest.raises(Unauthenticated) as refused:
        authenticate_token(raw, "acme", "analyst", clock())
    assert (refused.value.status, refused.value.code) == (401, "unauthenticated")
    assert refused.value.message == MISSING


@pytest.mark.parametrize("site", ["acme", "nope", "\x00"])
def test_no_token_is_401_whether_or_not_the_site_exists(sites, clock, site):
    with pytest.raises(Unauthenticated):
        authenticate_token(None, site, "analyst", clock())


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw + "x",
        lambda raw: raw[:-1],
        lambda raw: raw.upper(),
        lambda raw: "Bearer " + raw,
        lambda raw: raw + "\n",
        lambda raw: raw[:-1] + "\x00",
        lambda raw: raw[:-1] + "é",
        lambda raw: raw[:-1] + "\ud800",
        lambda raw: "trk_" + "A" * 43,  # well formed, never issued
        lambda raw: "trk_",
        lambda raw: hashlib.sha256(raw.encode()).hexdigest(),  # the stored hash is no token
        lambda raw: raw * 220,  # about 10 KB
        lambda raw: "\x00" * 10_000,
    ],
)
def test_a_wrong_or_malformed_token_is_401_and_records_nothing(sites, clock, mangle):
    token, raw = create_token("acme", "analyst", "BI", now=clock())
    with pytest.raises(Unauthenticated) as refused:
        authenticate_token(mangle(raw), "acme", "analyst", clock())
    assert (refused.value.status, refused.value.message) == (401, NOT_VALID)
    assert stored(token.id).last_used_at is None


@pytest.mark.parametrize("site", ["other", "nope", "acme\x00"])
def test_a_token_of_another_site_is_403(sites, clock, site):
    token, raw = create_token("acme", "admin", "BI", now=clock())
    with pytest.raises(Forbidden) as refused:
        authenticate_token(raw, site, "analyst", clock())
    assert (refused.value.status, refused.value.code) == (403, "forbidden")
    assert refused.value.message == "This API token belongs to another site."
    assert stored(token.id).last_used_at is None


@pytest.mark.parametrize(
    ("has", "needs", "allowed"),
    [
        ("analyst", "analyst", True),
        ("analyst", "marketer", False),
        ("analyst", "admin", False),
        ("marketer", "analyst", True),
        ("marketer", "marketer", True),
        ("marketer", "admin", False),
        ("admin", "analyst", True),
        ("admin", "marketer", True),
        ("admin", "admin", True),
    ],
)
def test_a_token_may_do_what_its_role_and_the_roles_below_may(sites, clock, has, needs, allowed):
    token, raw = create_token("acme", has, "BI", now=clock())
    if allowed:
        assert authenticate_token(raw, "acme", needs, clock()).role == has
        assert stored(token.id).last_used_at == clock()
        return
    with pytest.raises(Forbidden) as refused:
        authenticate_token(raw, "acme", needs, clock())
    assert refused.value.message == (
        f"This API token's role ({has}) may not do this: it needs {needs}."
    )
    assert stored(token.id).last_used_at is None


def test_a_use_recorded_meanwhile_by_another_request_is_kept(sites, clock):
    """Two requests read the token at once; the one that writes second (with the earlier time,
    or within the minute) must not overwrite the other's recorded use: the SQL condition."""
    token, raw = create_token("acme", "analyst", "BI", now=clock())
    stale = db.session.scalars(select(ApiToken).where(ApiToken.id == token.id)).one()
    assert stale.last_used_at is None  # what both requests saw
    later = clock.advance(minutes=10)
    authenticate_token(raw, "acme", "analyst", later)  # the other request's write
    _record_use(token.id, later - timedelta(minutes=5))  # this one's, older
    _record_use(token.id, later + timedelta(seconds=30))  # and one within the minute
    assert stored(token.id).last_used_at == later
