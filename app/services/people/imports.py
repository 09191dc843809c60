"""What the CRM knows, brought in: contacts upserted by email, from a file (source ``import``)
or the token API (source ``crm``).

Rows are checked first, each value by its field's own rules (``domain.imports``); a batch is
written all or nothing (one ``commit_unit``), set-based (``batches``): a contact is found by
its normalised email or created (with its link digest and account, as a browser's email makes
one); its values are verified, replace what is held and keep their history. A value already
held writes nothing, so importing the same rows again changes nothing and forwards nothing; a
contact whose values changed is forwarded as ``contact.updated`` and its stage rules are judged
again. Not to the destination the rows came from, when the caller names it (``origin``):
what the CRM said is not echoed back to it, unless the caller asks (``forward_to_origin``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.domain.imports import ImportedRow, check_imported_row
from app.extensions import db
from app.models import Destination
from app.services.errors import Invalid
from app.services.people.batches import Upserted, write_batch
from app.services.siteconfig import SiteSnapshot, site_snapshot
from app.services.transactions import commit_unit

IMPORT, CRM = "import", "crm"
EMAIL = "email"
# Rows the token API takes in one call (a file is written in batches of any size).
MAX_BULK = 1000


def email_key(site: SiteSnapshot) -> str:
    """The key a row names the email with: the site's identity field, else ``email``."""
    return next((key for key, view in site.fields.items() if view.rule.identity), EMAIL)


def check_contacts(
    site_key: str, rows: Sequence[Mapping[str, Any]], *, text: bool = False
) -> tuple[list[ImportedRow], dict[int, dict[str, str]]]:
    """Each of ``rows`` (values by key, the email under ``email_key``) checked: the rows that
    pass, and the messages by key of each row that does not (by its index in ``rows``).
    ``text``: every value came as a string (CSV). Reads only the site's config."""
    site = site_snapshot(site_key)
    rules = {key: view.rule for key, view in site.fields.items()}
    key = email_key(site)
    checked, problems = [], {}
    for index, row in enumerate(rows):
        imported, errors = check_imported_row(rules, key, row, text=text)
        if imported is None:
            problems[index] = errors
        else:
            checked.append(imported)
    return checked, problems


def write_contacts(
    site_key: str,
    rows: Sequence[ImportedRow],
    *,
    source: str,
    now: datetime,
    origin: str | None = None,
    forward_to_origin: bool = False,
) -> list[Upserted]:
    """Upsert checked ``rows`` in one unit (all or nothing), in their order (a later row of
    the same email wins). ``origin``: the key of the destination the rows came from; what
    they change is not sent back to it, unless ``forward_to_origin``."""
    site = site_snapshot(site_key)
    check_origin(site_key, origin)
    sparing = None if forward_to_origin else origin
    return commit_unit(lambda: write_batch(site, rows, source, now, sparing))


def check_origin(site_key: str, origin: str | None) -> None:
    """Invalid (naming ``from``) unless ``origin`` is None or a destination of the site."""
    if origin is None:
        return
    site = site_snapshot(site_key)
    known = db.session.scalar(
        select(Destination.id).where(Destination.site_id == site.id, Destination.key == origin)
    )
    if known is None:
        message = f'No destination "{origin}" on site "{site.key}".'
        raise Invalid(message, {"from": [message]})


def import_contacts(
    site_key: str,
    people: Sequence[tuple[Any, Mapping[str, Any]]],
    *,
    source: str,
    now: datetime,
    origin: str | None = None,
    forward_to_origin: bool = False,
) -> list[Upserted]:
    """Check and upsert ``people`` (each an email and values by key), all or nothing: Invalid
    (nothing written) naming each bad value ``contacts.<index>.email`` or
    ``contacts.<index>.fields.<key>``."""
    check_origin(site_key, origin)
    key = email_key(site_snapshot(site_key))
    checked, problems = check_contacts(site_key, [{**values, key: e} for e, values in people])
    if problems:
        fields = {
            f"contacts.{index}." + (EMAIL if name == key else f"fields.{name}"): [message]
            for index, errors in problems.items()
            for name, message in errors.items()
        }
        raise Invalid(f"{len(problems)} of {len(people)} contacts are not valid.", fields)
    return write_contacts(
        site_key,
        checked,
        source=source,
        now=now,
        origin=origin,
        forward_to_origin=forward_to_origin,
    )


def tally(done: Sequence[Upserted]) -> dict[str, int]:
    """How many rows created a contact, changed one, or changed nothing."""
    created = sum(1 for one in done if one.created)
    updated = sum(1 for one in done if one.changed and not one.created)
    return {"created": created, "updated": updated, "unchanged": len(done) - created - updated}


def upsert_contact(
    site_key: str,
    email: Any,
    values: Mapping[str, Any],
    *,
    source: str,
    now: datetime,
    origin: str | None = None,
    forward_to_origin: bool = False,
) -> Upserted:
    """Check and upsert one contact: Invalid naming ``from``, ``email`` or ``fields.<key>``."""
    check_origin(site_key, origin)
    try:
        [done] = import_contacts(
            site_key,
            [(email, values)],
            source=source,
            now=now,
            origin=origin,
            forward_to_origin=forward_to_origin,
        )
    except Invalid as refused:
        fields = {
            name.partition(".")[2].partition(".")[2]: found
            for name, found in (refused.fields or {}).items()
        }
        raise Invalid("The contact is not valid.", fields) from None
    return done
