"""Everything held on one person, read in one place.

The console's contact page and the data-subject document (``GET …/contacts/<id>``) present
the same rows; both read them here, so neither can miss a table the other shows. A test lists
every table that refers to a contact (from the models' metadata) and fails when this loader
leaves one out. Read only: nothing here writes or commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import and_, or_, select

from app.extensions import db
from app.models import (
    AccountValue,
    ConsentRecord,
    Contact,
    ContactMerge,
    Delivery,
    Destination,
    EngagementEvent,
    Field,
    Handoff,
    OutboxEvent,
    ProfileValue,
    SalesOutcome,
    Skip,
    StageChange,
    Submission,
    Visitor,
)
from app.services.people.contacts import site_contact
from app.services.siteconfig import SiteSnapshot


@dataclass(frozen=True)
class PersonRecords:
    """One person's rows, each collection oldest first (values in the site's field order).

    Fields are named by key through ``field_keys``, which holds every field the site ever had:
    values of fields that left the config are still held, so they are still here.
    """

    contact: Contact
    field_keys: dict[int, str]
    visitors: tuple[Visitor, ...]
    profile: tuple[ProfileValue, ...]
    # The company's values and any this person gave (they stay with the account).
    account_values: tuple[AccountValue, ...]
    submissions: tuple[Submission, ...]
    events: tuple[EngagementEvent, ...]
    consents: tuple[ConsentRecord, ...]
    stage_changes: tuple[StageChange, ...]
    skips: tuple[Skip, ...]
    sales_outcomes: tuple[SalesOutcome, ...]  # in the order they happened
    handoffs: tuple[Handoff, ...]  # hand-offs to sales and back, oldest first
    merges: tuple[ContactMerge, ...]  # contacts merged into this one
    # What was kept and sent downstream about the person (or a contact merged into them):
    # events stored for delivery, and every delivery with its exact body as (destination, row).
    # Empty unless loaded with ``sent=True``.
    recorded_events: tuple[OutboxEvent, ...]
    deliveries: tuple[tuple[str, Delivery], ...]

    @cached_property
    def _public_ids(self) -> dict[int, str]:
        return {visitor.id: visitor.public_id for visitor in self.visitors}

    def visitor_public_id(self, visitor_id: int | None) -> str | None:
        """The public id of one of the person's browsers (None when none is named)."""
        return None if visitor_id is None else self._public_ids.get(visitor_id)


def load_person_records(site: SiteSnapshot, contact_id: int, *, sent: bool = True) -> PersonRecords:
    """Everything held on contact ``contact_id``; NotFound for an unknown id or another site's
    contact. ``sent=False`` leaves out what was sent downstream (stored events, deliveries and
    their bodies), which the console's contact page does not show."""
    contact = site_contact(site, contact_id)
    fields = db.session.execute(
        select(Field.id, Field.key)
        .where(Field.site_id == site.id)
        .order_by(Field.position, Field.key)
    ).all()
    order = {row.id: n for n, row in enumerate(fields)}
    merges = _rows(
        ContactMerge,
        ContactMerge.survivor_id == contact.id,
        ContactMerge.merged_at,
        ContactMerge.id,
    )
    people = [contact.id, *(merge.merged_contact_id for merge in merges)]
    return PersonRecords(
        contact=contact,
        field_keys={row.id: row.key for row in fields},
        visitors=_rows(Visitor, Visitor.contact_id == contact.id, Visitor.id),
        profile=_in_field_order(
            _rows(ProfileValue, ProfileValue.contact_id == contact.id, ProfileValue.id), order
        ),
        account_values=_in_field_order(
            _rows(
                AccountValue,
                or_(
                    AccountValue.contact_id == contact.id,
                    AccountValue.account_id == contact.account_id,
                ),
                AccountValue.id,
            ),
            order,
        ),
        submissions=_rows(
            Submission, Submission.contact_id == contact.id, Submission.created_at, Submission.id
        ),
        events=_rows(
            EngagementEvent,
            EngagementEvent.contact_id == contact.id,
            EngagementEvent.occurred_at,
            EngagementEvent.id,
        ),
        consents=_rows(
            ConsentRecord,
            ConsentRecord.contact_id == contact.id,
            ConsentRecord.recorded_at,
            ConsentRecord.id,
        ),
        stage_changes=_rows(
            StageChange,
            StageChange.contact_id == contact.id,
            StageChange.changed_at,
            StageChange.id,
        ),
        skips=_rows(Skip, Skip.contact_id == contact.id, Skip.skipped_at, Skip.id),
        sales_outcomes=_rows(
            SalesOutcome,
            SalesOutcome.contact_id == contact.id,
            SalesOutcome.occurred_at,
            SalesOutcome.id,
        ),
        handoffs=_rows(Handoff, Handoff.contact_id == contact.id, Handoff.started_at, Handoff.id),
        merges=merges,
        recorded_events=_rows(
            OutboxEvent,
            and_(OutboxEvent.site_id == site.id, OutboxEvent.contact_id.in_(people)),
            OutboxEvent.created_at,
            OutboxEvent.id,
        )
        if sent
        else (),
        deliveries=_deliveries(site, people) if sent else (),
    )


def _deliveries(site: SiteSnapshot, people: list[int]) -> tuple[tuple[str, Delivery], ...]:
    rows = db.session.execute(
        select(Destination.key, Delivery)
        .join(Destination, Destination.id == Delivery.destination_id)
        .where(Delivery.site_id == site.id, Delivery.contact_id.in_(people))
        .order_by(Delivery.created_at, Delivery.id)
    )
    return tuple((row.key, row.Delivery) for row in rows)


def _rows(model: Any, where: Any, *order: Any) -> tuple[Any, ...]:
    return tuple(db.session.scalars(select(model).where(where).order_by(*order)))


def _in_field_order(rows: tuple[Any, ...], order: dict[int, int]) -> tuple[Any, ...]:
    return tuple(sorted(rows, key=lambda row: (order.get(row.field_id, len(order)), row.id)))
