"""`trickle identity rotate|status` and `trickle links`: the identity secret from the command
line (printed once), and signed links for a mailing as CSV."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.domain.identity import mint_link_token
from app.extensions import db
from app.models import Site, SiteSecret
from app.services.people import new_identity_secret

SHOWN = re.compile(r"^New identity secret for site 'acme' \(shown once\): (tis_\S{43})$", re.M)
ONCE = "It will not be shown again: put it in your site's backend and email tool now.\n"
# The fake clock's 2026-03-02 09:00 UTC, and the links' default 30 days later.
NOW, IN_30_DAYS = 1772442000, 1772442000 + 30 * 86400


def secrets() -> list[tuple]:
    db.session.expire_all()
    query = select(SiteSecret.secret, SiteSecret.created_by, SiteSecret.expires_at)
    return [tuple(row) for row in db.session.execute(query.order_by(SiteSecret.id))]


def link_key() -> str:
    return db.session.scalar(select(Site.link_key).where(Site.key == "acme"))


def test_rotate_prints_a_new_secret_once(runner, site):
    result = runner.invoke(args=["identity", "rotate", "--site", "acme"])

    assert result.exit_code == 0, result.output
    secret = SHOWN.search(result.output).group(1)
    assert result.output == (f"New identity secret for site 'acme' (shown once): {secret}\n{ONCE}")
    assert secrets() == [(secret, None, None)]


def test_rotate_keeps_the_replaced_secret_for_the_overlap(runner, site, clock):
    old = new_identity_secret("acme", "root@acme.example", clock())

    result = runner.invoke(args=["identity", "rotate", "--site", "acme", "--overlap-hours", "24"])

    assert result.exit_code == 0, result.output
    new = SHOWN.search(result.output).group(1)
    assert result.output.endswith(
        f"{ONCE}The replaced secret …{old[-4:]} verifies until 2026-03-03 09:00 UTC.\n"
    )
    assert [(s, e.isoformat() if e else None) for s, _, e in secrets()] == [
        (old, "2026-03-03T09:00:00+00:00"),
        (new, None),
    ]


def test_rotate_with_no_overlap_stops_the_old_secret_now(runner, site, clock):
    old = new_identity_secret("acme", "root@acme.example", clock())

    result = runner.invoke(args=["identity", "rotate", "--site", "acme", "--overlap-hours", "0"])

    assert result.exit_code == 0, result.output
    assert "replaced secret" not in result.output
    assert secrets()[0][2].isoformat() == "2026-03-02T09:00:00+00:00"
    assert secrets()[0][0] == old


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "nope"], 'error: No site "nope".\n'),
        (["--site", "acme", "--overlap-hours", "-1"], "error: overlap_hours: Enter 0 to 720 hours.\n"),
        (["--site", "acme", "--overlap-hours", "721"], "error: overlap_hours: Enter 0 to 720 hours.\n"),
    ],
)  # fmt: skip
def test_rotate_refuses_bad_input_and_changes_nothing(runner, site, args, message):
    result = runner.invoke(args=["identity", "rotate", *args])
    assert (result.exit_code, result.stderr, result.stdout) == (1, message, "")
    assert secrets() == []


def test_status_without_a_secret_says_how_to_make_one(runner, site):
    result = runner.invoke(args=["identity", "status", "--site", "acme"])

    assert result.exit_code == 0, result.output
    assert result.output == (
        "Site 'acme' has no identity secret: identity hashes and signed links are not checked."
        " Create one with `trickle identity rotate`.\n"
        f"link key (email tools compute link digests with it): {link_key()}\n"
    )


def test_status_lists_the_secrets_by_their_last_characters(runner, site, clock):
    old = new_identity_secret("acme", "root@acme.example", clock())
    clock.advance(hours=1)
    new = new_identity_secret("acme", None, clock(), overlap_hours=48)

    result = runner.invoke(args=["identity", "status", "--site", "acme"])

    assert result.exit_code == 0, result.output
    assert result.output == (
        f"secret …{new[-4:]}\tcurrent\tcreated 2026-03-02 10:00 UTC by trickle command\n"
        f"secret …{old[-4:]}\tuntil 2026-03-04 10:00 UTC\tcreated 2026-03-02 09:00 UTC by"
        " root@acme.example\n"
        f"link key (email tools compute link digests with it): {link_key()}\n"
    )
    assert old not in result.output and new not in result.output


def test_status_of_an_unknown_site_is_an_error(runner, site):
    result = runner.invoke(args=["identity", "status", "--site", "nope"])
    assert (result.exit_code, result.stderr) == (1, 'error: No site "nope".\n')


def expected_link(secret: str, email: str, expires: int = IN_30_DAYS) -> str:
    return mint_link_token(link_key(), secret, email, expires)


def test_links_reads_one_email_per_line_and_writes_csv(runner, site, clock, tmp_path):
    secret = new_identity_secret("acme", None, clock())
    source = tmp_path / "list.txt"
    source.write_text("ada@acme-corp.example\n\n  Bob@Globex.example  \n", encoding="utf-8")

    result = runner.invoke(args=["links", "--site", "acme", str(source)])

    assert result.exit_code == 0, result.stderr
    ada, bob = (
        expected_link(secret, "ada@acme-corp.example"),
        expected_link(secret, "bob@globex.example"),
    )
    assert result.stdout == (
        "email,token,url,expires_at\n"
        f"ada@acme-corp.example,{ada},,2026-04-01T09:00:00Z\n"
        f"bob@globex.example,{bob},,2026-04-01T09:00:00Z\n"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://www.acme.example/webinar", "https://www.acme.example/webinar?trickle={}"),
        ("https://www.acme.example/?utm_source=mail", "https://www.acme.example/?utm_source=mail&trickle={}"),
        ("https://www.acme.example/p?a=1#signup", "https://www.acme.example/p?a=1&trickle={}#signup"),
        ("http://localhost:8000/p?", "http://localhost:8000/p?trickle={}"),
        ("https://www.acme.example/p?trickle=old&a=%20b", "https://www.acme.example/p?a=%20b&trickle={}"),
    ],
)  # fmt: skip
def test_links_from_a_csv_on_stdin_with_a_url(runner, site, clock, url, linked):
    secret = new_identity_secret("acme", None, clock())
    mailing = 'name,Email\n"Lovelace, Ada",ada@acme-corp.example\n'

    args = ["links", "--site", "acme", "--days", "7", "--url", url, "-"]
    result = runner.invoke(args=args, input=mailing)

    assert result.exit_code == 0, result.stderr
    token = expected_link(secret, "ada@acme-corp.example", NOW + 7 * 86400)
    assert result.stdout == (
        "email,token,url,expires_at\n"
        f"ada@acme-corp.example,{token},{linked.format(token)},2026-03-09T09:00:00Z\n"
    )


@pytest.mark.parametrize(
    ("args", "lines", "message"),
    [
        (["--site", "acme"], "ada@acme-corp.example\n", None),  # no secret yet
        (["--site", "nope"], "ada@acme-corp.example\n", 'error: No site "nope".\n'),
        (["--site", "acme", "--days", "0"], "ada@acme-corp.example\n", "error: days: Enter 1 to 400.\n"),
        (["--site", "acme", "--days", "401"], "ada@acme-corp.example\n", "error: days: Enter 1 to 400.\n"),
        (["--site", "acme", "--url", "www.acme.example"], "ada@acme-corp.example\n", "error: --url must be an http:// or https:// address, got 'www.acme.example'.\n"),
        (["--site", "acme"], "ada@acme-corp.example\nnobody\n", "error: line 2: not an email address: 'nobody'\n"),
        (["--site", "acme"], "email\n\n", "error: No email address in the input: give one per line, or a CSV with an email column.\n"),
    ],
)  # fmt: skip
def test_links_refuses_with_one_clear_line(runner, site, clock, args, lines, message):
    if message is not None:
        new_identity_secret("acme", None, clock())
    result = runner.invoke(args=["links", *args, "-"], input=lines)
    expected = message or (
        "error: Identity verification is not set up on this site: an admin generates its"
        " identity secret on the site settings page.\n"
    )
    assert (result.exit_code, result.stderr, result.stdout) == (1, expected, "")
