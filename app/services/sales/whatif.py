"""What-if before approving a definition change: over a past window, how many contacts would
have been handed to sales under the current definition and under the proposed one, by week;
what became of each group (accepted, rejected by reason, won); and who would enter or leave
the queue (docs/sales.md, "What-if").

Both definitions are replayed the same way, from each contact's whole recorded history (its
counted events, its applied answers, its company's values), so the two columns differ only by
the definition. Contacts are streamed in batches of ``BATCH`` by id: memory holds one batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Executable, Row, select

from app.domain.specs import KnownValue
from app.domain.whatif import Definition, Replay, Step
from app.extensions import db
from app.models import AccountValue, Contact, EngagementEvent, SalesOutcome, Submission
from app.services.siteconfig import SiteSnapshot, export_site_config, site_snapshot

BATCH = 1000
SAMPLE = 10


@dataclass
class Group:
    """The contacts one definition would have handed off in the window, and their fate."""

    handed_off: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # by reason
    won: int = 0


@dataclass
class WhatIf:
    site: str
    start: datetime
    end: datetime
    replayed: int = 0  # contacts active in the window
    weeks: dict[date, tuple[int, int]] = field(default_factory=dict)  # Monday -> (old, new)
    old: Group = field(default_factory=Group)
    new: Group = field(default_factory=Group)
    entering: int = 0  # handed off under the new definition only
    leaving: int = 0  # under the old only
    entering_sample: list[tuple[int, str | None]] = field(default_factory=list)
    leaving_sample: list[tuple[int, str | None]] = field(default_factory=list)


def simulate_definition(
    site_key: str, proposed: Mapping[str, Any], days: int, now: datetime
) -> WhatIf:
    """Replay the last ``days`` days under the site's definition and under ``proposed`` (a
    whole config, as an import takes it). NotFound for an unknown site. A window without
    activity gives an empty result with its weeks labelled, not an error."""
    site = site_snapshot(site_key)
    old = Definition.from_config(export_site_config(site_key).get("stages") or [])
    new = Definition.from_config(proposed.get("stages") or [])
    start = now - timedelta(days=days)
    result = WhatIf(site.key, start, now, weeks=_weeks(start, now))
    replay = Replay.of((old, new), site.weights, site.half_life_days)
    for batch in _active_contacts(site, start, now):
        histories = _histories(site, batch, now)
        shared = _account_values(site, batch)
        handed: dict[int, tuple[datetime | None, datetime | None]] = {}
        for contact_id, account_id in batch:
            known = shared.get(account_id, {}) if account_id else {}
            before, after = replay.first_handoffs(histories.get(contact_id, ()), known)
            handed[contact_id] = (_within(before, start, now), _within(after, start, now))
        result.replayed += len(batch)
        _tally(result, handed)
    return result


def _weeks(start: datetime, end: datetime) -> dict[date, tuple[int, int]]:
    monday = start.date() - timedelta(days=start.weekday())
    weeks = {}
    while monday <= end.date():
        weeks[monday] = (0, 0)
        monday += timedelta(days=7)
    return weeks


def _within(moment: datetime | None, start: datetime, end: datetime) -> datetime | None:
    return moment if moment is not None and start <= moment <= end else None


def _active_contacts(
    site: SiteSnapshot, start: datetime, end: datetime
) -> Iterator[list[tuple[int, int | None]]]:
    """The contacts with a counted event or an applied answer in the window, by id, in batches
    (each with its account). The walk is over the site's contacts by id, each batch read from
    where the last ended (``id >``), and each contact's activity is looked up on its own
    history's index (``contact_id``, then the time): a batch costs the same at the end of a
    large site as at its start. (Asking the events and answers tables for their next distinct
    contacts instead let SQLite read the site's whole history through ``site_id`` for every
    batch: the replay grew as the square of the site.)"""
    events = select(EngagementEvent.id).where(
        EngagementEvent.contact_id == Contact.id,
        EngagementEvent.site_id == site.id,
        EngagementEvent.counted.is_(True),
        EngagementEvent.occurred_at.between(start, end),
    )
    answers = select(Submission.id).where(
        Submission.contact_id == Contact.id,
        Submission.site_id == site.id,
        Submission.applied.is_(True),
        Submission.created_at.between(start, end),
    )
    after = 0
    while True:
        batch = [
            (contact_id, account_id)
            for contact_id, account_id in _rows(
                select(Contact.id, Contact.account_id)
                .where(
                    Contact.site_id == site.id,
                    Contact.id > after,
                    events.exists() | answers.exists(),
                )
                .order_by(Contact.id)
                .limit(BATCH)
            )
        ]
        if not batch:
            return
        yield batch
        after = batch[-1][0]


def _rows(statement: Executable) -> Sequence[Row[Any]]:
    """Plain rows, executed on the session's connection: no ORM result processing for the
    hundreds of thousands of rows a replay reads."""
    return db.session.connection().execute(statement).all()


def _histories(
    site: SiteSnapshot, batch: Sequence[tuple[int, int | None]], end: datetime
) -> dict[int, list[Step]]:
    """Each contact's counted events and applied answers up to ``end``, in time order (an
    answer before the event of the same moment: a submit stores its values first)."""
    ids = [contact_id for contact_id, _ in batch]
    keys = {field.id: key for key, field in site.fields.items()}
    timed: dict[int, list[tuple[datetime, int, Step]]] = {}
    for contact_id, kind, stage, at in _rows(
        select(
            EngagementEvent.contact_id,
            EngagementEvent.kind,
            EngagementEvent.stage,
            EngagementEvent.occurred_at,
        ).where(
            EngagementEvent.contact_id.in_(ids),
            EngagementEvent.counted.is_(True),
            EngagementEvent.occurred_at <= end,
        )
    ):
        timed.setdefault(contact_id, []).append((at, 1, Step(at, kind=kind, stage=stage)))
    for contact_id, field_id, value, at in _rows(
        select(
            Submission.contact_id, Submission.field_id, Submission.value, Submission.created_at
        ).where(
            Submission.contact_id.in_(ids),
            Submission.applied.is_(True),
            Submission.created_at <= end,
        )
    ):
        key = keys.get(field_id)
        if key is not None:
            timed.setdefault(contact_id, []).append((at, 0, Step(at, field=key, value=value)))
    return {
        contact_id: [step for *_, step in sorted(rows, key=lambda row: row[:2])]
        for contact_id, rows in timed.items()
    }


def _account_values(
    site: SiteSnapshot, batch: Sequence[tuple[int, int | None]]
) -> dict[int, dict[str, KnownValue]]:
    accounts = {account_id for _, account_id in batch if account_id}
    keys = {field.id: key for key, field in site.fields.items()}
    shared: dict[int, dict[str, KnownValue]] = {}
    if accounts:
        for account_id, field_id, value, at in _rows(
            select(
                AccountValue.account_id,
                AccountValue.field_id,
                AccountValue.value,
                AccountValue.updated_at,
            ).where(AccountValue.account_id.in_(accounts))
        ):
            if field_id in keys:
                shared.setdefault(account_id, {})[keys[field_id]] = KnownValue(value, at)
    return shared


def _tally(result: WhatIf, handed: Mapping[int, tuple[datetime | None, datetime | None]]) -> None:
    """Count one batch: the weeks, each group and its outcomes, who enters and who leaves."""
    for before, after in handed.values():
        for moment, column in ((before, 0), (after, 1)):
            if moment is not None:
                monday = moment.date() - timedelta(days=moment.weekday())
                counts = list(result.weeks.get(monday, (0, 0)))
                counts[column] += 1
                result.weeks[monday] = (counts[0], counts[1])
    olds = [c for c, (before, _) in handed.items() if before is not None]
    news = [c for c, (_, after) in handed.items() if after is not None]
    fates = _fates(sorted({*olds, *news}))
    for ids, group in ((olds, result.old), (news, result.new)):
        group.handed_off += len(ids)
        for contact_id in ids:
            kinds = fates.get(contact_id, {})
            group.accepted += "accepted" in kinds
            group.won += "won" in kinds
            if "rejected" in kinds:
                group.rejected[kinds["rejected"] or "(no reason)"] += 1
    entering = sorted(set(news) - set(olds))
    leaving = sorted(set(olds) - set(news))
    result.entering += len(entering)
    result.leaving += len(leaving)
    for ids, sample in ((entering, result.entering_sample), (leaving, result.leaving_sample)):
        room = SAMPLE - len(sample)
        if room > 0 and ids:
            chosen = select(Contact.id, Contact.email).where(Contact.id.in_(ids[:room]))
            emails = {contact_id: email for contact_id, email in _rows(chosen)}
            sample.extend((contact_id, emails.get(contact_id)) for contact_id in ids[:room])


def _fates(ids: Sequence[int]) -> dict[int, dict[str, str | None]]:
    """Per contact: the outcomes it got (first of each kind), with a rejection's reason."""
    fates: dict[int, dict[str, str | None]] = {}
    if ids:
        for contact_id, kind, reason in _rows(
            select(SalesOutcome.contact_id, SalesOutcome.kind, SalesOutcome.reason)
            .where(
                SalesOutcome.contact_id.in_(ids),
                SalesOutcome.kind.in_(("accepted", "rejected", "won")),
            )
            .order_by(SalesOutcome.occurred_at, SalesOutcome.id)
        ):
            fates.setdefault(contact_id, {}).setdefault(kind, reason)
    return fates
