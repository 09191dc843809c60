"""`trickle tokens`: create (shown once), list, revoke."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiToken
from app.services.accounts import authenticate_token, create_token
from app.services.errors import Unauthenticated

SHOWN = re.compile(r"^Token \(shown once\): (trk_[A-Za-z0-9_-]{43})$", re.M)


def token_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ApiToken))


def test_create_prints_the_token_once_and_stores_its_hash(runner, sites, clock):
    result = runner.invoke(args=["tokens", "create", "--site", "acme", "--role", "analyst"])
    assert result.exit_code == 0, result.output
    raw = SHOWN.search(result.output).group(1)
    token = db.session.scalars(select(ApiToken)).one()
    assert result.output == (
        f"Created analyst token #{token.id} \"cli\" for site 'acme'.\n"
        f"Token (shown once): {raw}\n"
        "It will not be shown again: store it now. A lost token can only be revoked.\n"
    )
    assert (token.name, token.role, token.created_by_id) == ("cli", "analyst", None)
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert authenticate_token(raw, "acme", "analyst", clock()).id == token.id


def test_create_takes_a_name(runner, sites):
    args = ["tokens", "create", "--site", "other", "--role", "admin", "--name", "Nightly BI"]
    assert runner.invoke(args=args).exit_code == 0
    assert db.session.execute(select(ApiToken.name, ApiToken.role)).one() == ("Nightly BI", "admin")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "nope", "--role", "analyst"], 'error: No site "nope".\n'),
        (
            ["--site", "acme", "--role", "analyst", "--name", "  "],
            "error: name: Enter a name, so you can tell this token from others.\n",
        ),
        (
            ["--site", "acme", "--role", "analyst", "--name", "x" * 201],
            "error: name: Use at most 200 characters.\n",
        ),
    ],
)
def test_bad_input_is_one_clear_line_and_creates_nothing(runner, sites, args, message):
    result = runner.invoke(args=["tokens", "create", *args])
    assert (result.exit_code, result.stderr, result.stdout) == (1, message, "")
    assert token_count() == 0


def test_an_unknown_role_is_refused_by_the_command(runner, sites):
    result = runner.invoke(args=["tokens", "create", "--site", "acme", "--role", "owner"])
    assert result.exit_code == 2
    assert "'owner' is not one of 'analyst', 'marketer', 'admin'" in result.output
    assert token_count() == 0


def test_list_shows_every_token_newest_first_never_the_token(runner, sites, clock):
    first, first_raw = create_token("acme", "analyst", "BI", now=clock())
    clock.advance(minutes=30)
    second, second_raw = create_token("other", "admin", "Erasure", now=clock())
    authenticate_token(first_raw, "acme", "analyst", clock.advance(hours=1))
    runner.invoke(args=["tokens", "revoke", "--site", "other", str(second.id)])

    result = runner.invoke(args=["tokens", "list"])
    assert result.exit_code == 0
    assert result.output == (
        "id\tsite\trole\tname\ttoken\tcreated\tlast used\trevoked\n"
        f"{second.id}\tother\tadmin\tErasure\t{second_raw[:12]}…\t2026-03-02 09:30"
        "\tnever\t2026-03-02 10:30\n"
        f"{first.id}\tacme\tanalyst\tBI\t{first_raw[:12]}…\t2026-03-02 09:00"
        "\t2026-03-02 10:30\tno\n"
    )
    assert first_raw not in result.output
    only_acme = runner.invoke(args=["tokens", "list", "--site", "acme"]).output
    assert only_acme.splitlines()[1:] == [result.output.splitlines()[2]]


def test_list_without_tokens_and_of_an_unknown_site(runner, sites):
    assert runner.invoke(args=["tokens", "list"]).output == "No tokens.\n"
    result = runner.invoke(args=["tokens", "list", "--site", "nope"])
    assert (result.exit_code, result.stderr) == (1, 'error: No site "nope".\n')


def test_revoke_stops_the_token_and_says_when_it_already_was(runner, sites, clock):
    token, raw = create_token("acme", "analyst", "BI", now=clock())
    result = runner.invoke(args=["tokens", "revoke", "--site", "acme", str(token.id)])
    assert (result.exit_code, result.output) == (
        0,
        f"Revoked token #{token.id} \"BI\" of site 'acme'.\n",
    )
    with pytest.raises(Unauthenticated):
        authenticate_token(raw, "acme", "analyst", clock())
    clock.advance(days=1)
    again = runner.invoke(args=["tokens", "revoke", "--site", "acme", str(token.id)])
    assert (again.exit_code, again.output) == (
        0,
        f'Token #{token.id} "BI" was already revoked on 2026-03-02 09:00 UTC.\n',
    )


@pytest.mark.parametrize(
    ("site", "which", "message"),
    [
        ("other", "own", 'error: No token #{id} on site "other".\n'),
        ("acme", "next", 'error: No token #{id} on site "acme".\n'),
        ("acme", "huge", 'error: No token #{id} on site "acme".\n'),
        ("nope", "own", 'error: No site "nope".\n'),
    ],
)
def test_revoking_an_unknown_or_foreign_token_changes_nothing(
    runner, sites, clock, site, which, message
):
    token, raw = create_token("acme", "analyst", "BI", now=clock())
    token_id = {"own": token.id, "next": token.id + 1, "huge": 10**20}[which]
    result = runner.invoke(args=["tokens", "revoke", "--site", site, str(token_id)])
    assert (result.exit_code, result.stderr) == (1, message.format(id=token_id))
    assert authenticate_token(raw, "acme", "analyst", clock()).id == token.id
