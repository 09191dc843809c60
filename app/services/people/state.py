"""One contact's rows, read once per request, and what the rules and the webhook see of them.

A request that writes for a contact (a submit) reads the contact's value rows, its account's
and its skips once, after its locks (``read_contact``); its own writes keep those rows current
(``write_values`` and the submit's skips change them in memory, as they change the session;
``add_event`` keeps the contact's and the browser's engagement tallies current), so the state
the stage rules judge, the one the browser is shown and the ``contact.updated`` payload all
derive from them without reading any of them again. No event is read: see ``tallies``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select

from app.domain.specs import ContactState, KnownValue, iso
from app.extensions import db
from app.models import (
    BROWSER,
    VERIFIED,
    AccountValue,
    ConsentRecord,
    Contact,
    ProfileValue,
    Skip,
    Submission,
    Visitor,
)
from app.services.outbox import record_outbox
from app.services.people.contacts import account_values, consent_summary, contact_values, known
from app.services.people.tallies import Engaged, engaged
from app.services.siteconfig import SiteSnapshot


class Said(NamedTuple):
    """One of a browser's own answers (``value``) or consents (``value``: granted)."""

    field_id: int
    value: Any
    at: datetime
    id: int


class OwnSaid(NamedTuple):
    """What one browser said for its contact, oldest first: its answers and its consents."""

    answers: list[Said]
    consents: list[Said]


@dataclass
class ContactRows:
    """The rows of one contact a request reads once, kept current by that request's writes.

    ``values`` and ``account`` are the session's rows by field key (``write_values`` adds the
    ones it creates); ``skips`` get what the request adds, and is None when they were not read
    (a payload alone does not need them). The engagement is the contact's tally (and a
    browser's own, on its visitor row), which ``add_event`` keeps current: no event is read.
    """

    site: SiteSnapshot
    contact: Contact
    values: dict[str, ProfileValue]
    account: dict[str, AccountValue]
    skips: list[Skip] | None
    # The viewing browser's own answers and consents, when read with the rest (an ask).
    said: OwnSaid | None = None

    def add_skip(self, skip: Skip) -> None:
        if self.skips is not None:
            self.skips.append(skip)

    def engagement(self, now: datetime) -> Engaged:
        """The whole contact's score, reached stage and counted events at ``now``."""
        return engaged(self.site, self.contact, now)

    def state(self, now: datetime, viewer: Visitor | None = None) -> ContactState:
        """The ``ContactState`` as ``viewer`` may see it (see ``load_contact_state``)."""
        if self.skips is None:
            raise ValueError("The contact's skips were not read.")
        site = self.site
        own = viewer is not None and viewer.trust != VERIFIED
        engagement = engaged(site, viewer, now) if own else self.engagement(now)  # type: ignore[arg-type]
        by_id = site.keys_by_field_id
        latest: dict[str, Skip] = {}
        for skip in self.skips:
            key = by_id.get(skip.field_id)
            if key is None or (own and skip.visitor_id != viewer.id):  # type: ignore[union-attr]
                continue
            if key not in latest or latest[key].skipped_at < skip.skipped_at:
                latest[key] = skip
        trusted = {key: row for key, row in self.account.items() if row.trusted}
        return ContactState(
            values=_own_values(self, viewer.id) if own else known(self.values),  # type: ignore[union-attr]
            account_values=known(trusted),
            score=engagement.score,
            reached_stage=engagement.reached_stage,
            skips={key: skip.skipped_at for key, skip in latest.items()},
            events_since={
                key: engagement.seq - (skip.own_seq_at if own else skip.seq_at)
                for key, skip in latest.items()
            },
        )


def read_contact(
    site: SiteSnapshot, contact: Contact, *, only: Visitor | None = None, skips: bool = True
) -> ContactRows:
    """Read the contact's rows, one statement each: values, the account's values and
    (``skips``) skips. ``only``: just that browser's skips (all a view for it needs)."""
    return ContactRows(
        site=site,
        contact=contact,
        values=contact_values(site, contact.id),
        account=account_values(site, contact.account_id),
        skips=_skips(contact.id, only.id if only is not None else None) if skips else None,
    )


def _one_browser(model: Any) -> tuple[Any, Any]:
    """The criteria of one browser's rows of one contact (``contact_id``, ``visitor_id``
    bound per call)."""
    return (
        model.contact_id == bindparam("contact_id"),
        model.visitor_id == bindparam("visitor_id"),
    )


# The statements of ``read_contact`` and ``_own_values``, built once (see people.contacts).
_SKIPS = select(Skip).where(Skip.contact_id == bindparam("contact_id"))
_OWN_SKIPS = _SKIPS.where(Skip.visitor_id == bindparam("visitor_id"))
_OWN_ANSWERS = (
    select(Submission.field_id, Submission.value, Submission.created_at, Submission.id)
    .where(*_one_browser(Submission))
    .order_by(Submission.created_at, Submission.id)
)
_OWN_CONSENTS = (
    select(
        ConsentRecord.field_id, ConsentRecord.granted, ConsentRecord.recorded_at, ConsentRecord.id
    )
    .where(*_one_browser(ConsentRecord))
    .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
)


def _skips(contact_id: int, visitor_id: int | None) -> list[Skip]:
    if visitor_id is None:
        return list(db.session.scalars(_SKIPS, {"contact_id": contact_id}))
    params = {"contact_id": contact_id, "visitor_id": visitor_id}
    return list(db.session.scalars(_OWN_SKIPS, params))


def _own_said(rows: ContactRows, visitor_id: int) -> OwnSaid:
    if rows.said is not None:
        return rows.said
    params = {"contact_id": rows.contact.id, "visitor_id": visitor_id}
    return OwnSaid(
        [Said(*row) for row in db.session.execute(_OWN_ANSWERS, params)],
        [Said(*row) for row in db.session.execute(_OWN_CONSENTS, params)],
    )


def _own_values(rows: ContactRows, visitor_id: int) -> dict[str, KnownValue]:
    """What one browser said for the contact: its newest answer per field (claims included),
    or the current value where that browser set it later (a withdrawal)."""
    by_id = rows.site.keys_by_field_id
    answers, consents = _own_said(rows, visitor_id)
    said: dict[str, KnownValue] = {}
    for answer in answers:
        if answer.field_id in by_id:
            said[by_id[answer.field_id]] = KnownValue(answer.value, answer.at)
    for key, value in rows.values.items():
        mine = value.visitor_id == visitor_id and value.source == BROWSER
        if mine and (key not in said or said[key].updated_at <= value.updated_at):
            said[key] = KnownValue(value.value, value.updated_at)
    # Its consents as it last gave or withdrew them, in force or not.
    for consent in consents:
        key = by_id.get(consent.field_id)
        if key is not None and (key not in said or said[key].updated_at <= consent.at):
            said[key] = KnownValue(consent.value, consent.at)
    return said


def load_contact_state(
    site: SiteSnapshot, contact: Contact, now: datetime, viewer: Visitor | None = None
) -> ContactState:
    """Everything the rules need to decide what to ask ``contact`` at ``now``.

    ``viewer``: the browser asking. A browser that only claimed the contact's email sees what
    it gave itself (its answers, events and skips) and the account's trusted values, nothing
    another browser or source gave: its questions tell it nothing it did not say. A verified
    browser, and the rules judging the contact (``viewer`` None), see the whole profile.
    """
    own = viewer is not None and viewer.trust != VERIFIED
    return read_contact(site, contact, only=viewer if own else None).state(now, viewer)


def contact_payload(
    site: SiteSnapshot,
    contact: Contact,
    changed: list[str] | None,
    now: datetime,
    rows: ContactRows | None = None,
) -> dict[str, Any]:
    """What a ``contact.updated`` event carries: the keys that changed (all known keys when
    ``changed`` is None, as in a backfill), the whole current profile, the account's values on
    their own, the lifecycle stage and the engagement as of ``now``. ``rows``: the contact's
    rows as the caller holds them (read here otherwise)."""
    rows = rows or read_contact(site, contact, skips=False)
    about = Payload(
        contact_id=contact.id,
        email=contact.email,
        account_domain=contact.account.domain if contact.account is not None else None,
        stage=contact.lifecycle_stage,
        consents=consent_summary(site, contact.id),
        engagement=rows.engagement(now),
    )
    return about.build(changed, rows.values, rows.account)


class Payload(NamedTuple):
    """What a ``contact.updated`` payload says of the contact besides its values: the one
    shape ``contact_payload`` and a batch of imported rows (``people.batches``) both fill."""

    contact_id: int
    email: str | None
    account_domain: str | None
    stage: str | None
    consents: dict[str, dict[str, Any]]
    engagement: Engaged

    def build(
        self, changed: list[str] | None, values: Mapping[str, Any], account: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The payload, ``values`` and ``account`` being the contact's and its account's
        current rows by key (anything with the columns ``_provenance`` and ``_from_account``
        read)."""
        # Each value with where it came from; the profile is the same values without it.
        provenance = {
            **{key: _from_account(row) for key, row in account.items()},
            **{key: _provenance(row) for key, row in values.items()},
        }
        profile = {key: entry["value"] for key, entry in provenance.items()}
        engagement = self.engagement
        return {
            "contact_id": self.contact_id,
            "email": self.email,
            "changed": list(profile) if changed is None else changed,
            "profile": profile,
            "values": provenance,
            "account": {key: row.value for key, row in account.items()},
            "account_domain": self.account_domain,
            "stage": self.stage,
            "consents": self.consents,
            "engagement": {
                "score": round(engagement.score, 2),
                "events": engagement.events,
                "reached_stage": engagement.reached_stage,
            },
        }


def _provenance(row: Any) -> dict[str, Any]:
    """One value as a receiver decides whether to trust it: where it came from and whether the
    one who gave it proved who they are (a browser that merely typed the email did not)."""
    return {
        "value": row.value,
        "source": row.source,
        "verified": row.verified,
        "at": iso(row.updated_at),
    }


def _from_account(row: Any) -> dict[str, Any]:
    return {
        "value": row.value,
        "source": "account",
        "verified": row.trusted,
        "at": iso(row.updated_at),
    }


def announce_update(
    site: SiteSnapshot,
    contact: Contact,
    changed: list[str],
    now: datetime,
    rows: ContactRows | None = None,
    sparing: str | None = None,
) -> None:
    """Forward a change of ``changed`` keys as ``contact.updated`` (nothing when none changed);
    ``rows``: the contact's rows as the caller holds them (see ``contact_payload``);
    ``sparing``: the destination the change came from, not told of it."""
    if changed:
        record_outbox(
            site.id,
            "contact.updated",
            contact.id,
            contact_payload(site, contact, changed, now, rows),
            now,
            sparing=sparing,
        )
