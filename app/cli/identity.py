"""`trickle identity` and `trickle links`: a site's identity secret, and signed links for
marketing email (a link verifies whoever opens it as its recipient)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import TextIO
from urllib.parse import urlencode, urlsplit, urlunsplit

import click

from app.cli.errors import exit_on_refusal, fail
from app.clock import current_time

identity_group = click.Group(
    "identity", help="The site's identity secret: it signs identity hashes and links."
)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


@identity_group.command("rotate")
@click.option("--site", "site_key", required=True, help="Site key.")
@click.option(
    "--overlap-hours",
    type=int,
    default=72,
    show_default=True,
    help="How long the current secret keeps verifying (0 to 720; 0: it stops now).",
)
def rotate_command(site_key: str, overlap_hours: int) -> None:
    """Generate the site's identity secret (or replace the current one) and print it, once."""
    from app.services.people import new_identity_secret, secret_status

    now = current_time()
    with exit_on_refusal():
        secret = new_identity_secret(site_key, None, now, overlap_hours)
        replaced = [info for info in secret_status(site_key, now) if info.expires_at is not None]
    click.echo(f"New identity secret for site {site_key!r} (shown once): {secret}")
    click.echo("It will not be shown again: put it in your site's backend and email tool now.")
    for info in replaced:
        click.echo(f"The replaced secret {info.hint} verifies until {_when(info.expires_at)}.")


@identity_group.command("status")
@click.option("--site", "site_key", required=True, help="Site key.")
def status_command(site_key: str) -> None:
    """Show the site's identity secrets (their last characters only) and its link key."""
    from app.services.people import secret_status
    from app.services.siteconfig import site_snapshot

    with exit_on_refusal():
        secrets = secret_status(site_key, current_time())
        link_key = site_snapshot(site_key).link_key
    if not secrets:
        click.echo(
            f"Site {site_key!r} has no identity secret: identity hashes and signed links are "
            "not checked. Create one with `trickle identity rotate`."
        )
    for info in secrets:
        state = "current" if info.expires_at is None else f"until {_when(info.expires_at)}"
        by = info.created_by or "trickle command"
        click.echo(f"secret {info.hint}\t{state}\tcreated {_when(info.created_at)} by {by}")
    click.echo(f"link key (email tools compute link digests with it): {link_key}")


@click.command("links")
@click.option("--site", "site_key", required=True, help="Site key.")
@click.option("--days", type=int, default=30, show_default=True, help="How long links work.")
@click.option("--url", "base_url", help="A page to link to: its URL gets the token appended.")
@click.argument("source", metavar="FILE_OR_-", type=click.File("r", encoding="utf-8-sig"))
def links_command(site_key: str, days: int, base_url: str | None, source: TextIO) -> None:
    """Signed links for the emails in FILE (one per line, or a CSV with an `email` column; -
    reads standard input), as CSV on standard output: email, token, url, expires_at."""
    from app.domain.specs import iso
    from app.services.people import LINK_PARAMETER, mint_links

    if base_url is not None and not _is_page_url(base_url):
        fail(f"--url must be an http:// or https:// address, got {base_url!r}.")
    emails = read_emails(source)
    if not emails:
        fail("No email address in the input: give one per line, or a CSV with an email column.")
    with exit_on_refusal():
        minted = mint_links(site_key, emails, current_time(), days)
    table = io.StringIO()
    out = csv.writer(table, lineterminator="\n")
    out.writerow(["email", "token", "url", "expires_at"])
    for link in minted:
        url = with_parameter(base_url, LINK_PARAMETER, link.token) if base_url else ""
        out.writerow([link.email, link.token, url, iso(link.expires_at)])
    click.echo(table.getvalue(), nl=False)


def read_emails(source: TextIO) -> list[str]:
    """The addresses of a file: a CSV whose header names an ``email`` column (any case), else
    one address per line. Blank lines are skipped; anything else that is no address ends the
    command, naming its line."""
    lines = source.read().splitlines()
    header = next(csv.reader(lines[:1]), [])
    names = [cell.strip().lower() for cell in header]
    if "email" in names:
        column = names.index("email")
        cells = [(row[column] if column < len(row) else "") for row in csv.reader(lines[1:])]
        numbered = enumerate(cells, start=2)
    else:
        numbered = enumerate(lines, start=1)
    emails = []
    for number, cell in numbered:
        address = cell.strip()
        if not address:
            continue
        if not _looks_like_an_address(address):
            fail(f"line {number}: not an email address: {address!r}")
        emails.append(address)
    return emails


def _looks_like_an_address(text: str) -> bool:
    return "@" in text and len(text) <= 320 and not any(c.isspace() or c == "," for c in text)


def _is_page_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def with_parameter(url: str, name: str, value: str) -> str:
    """``url`` with ``name=value`` last in its query (replacing a ``name`` it already has; the
    other parameters kept as written), before its fragment."""
    parts = urlsplit(url)
    kept = [pair for pair in parts.query.split("&") if pair and pair.split("=", 1)[0] != name]
    query = "&".join([*kept, urlencode({name: value})])
    return urlunsplit(parts._replace(query=query))
