"""A batch of imported rows written set-based: a few statements per batch, not per row.

The rows are applied in memory, in their order, to what the batch's contacts hold (read once:
the contacts by email, their values, their accounts' values, their consents), exactly as one
row after the other would be: a later row of the same email sees the earlier one's values, a
value already held writes nothing, each changed value gets its history row with the value it
replaced. Then everything is written at once, in the caller's unit: the new accounts and
contacts (with RETURNING, for their ids), the values inserted or updated, the history, the
account values, one ``contact.updated`` per row that changed something (``outbox``'s
``record_outbox_many``), and the stage rules judged for each such row.

Per statement instead of per row: the row-by-row path spent 95 % of its time in per-row
SELECTs, flushes and ORM objects; this one is 5 to 12 times faster (docs/benchmarks.md, "Import").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select, text, update

from app.domain.identity import email_digest
from app.domain.imports import ImportedRow
from app.domain.specs import ContactState
from app.extensions import db
from app.models import Account, AccountValue, Contact, ProfileValue, Submission
from app.services.outbox import record_outbox_many
from app.services.people.contacts import consent_summaries, known
from app.services.people.identity import company_domain
from app.services.people.qualification import qualify
from app.services.people.state import Payload
from app.services.people.tallies import Engaged, engaged
from app.services.siteconfig import SiteSnapshot
from app.services.transactions import insert_rows

# Ids per IN (…) list: well under SQLite's and PostgreSQL's limits on bound parameters.
IN_CHUNK = 2000
# A fresh contact's tally columns: no event yet (``engaged`` reads nothing for it).
_NO_EVENTS = {"tally_basis": None, "tally_total": 0.0, "tally_at": None, "tally_last": None}
_NO_EVENTS |= {"tally_early": 0, "tally_mid": 0, "tally_late": 0, "tally_seq": 0}


@dataclass(frozen=True)
class Upserted:
    """What one row did: the contact, whether it was created, the keys whose value changed."""

    contact_id: int
    email: str
    created: bool
    changed: list[str]


class Held(NamedTuple):
    """A contact's value as the payload and the stage rules read it (``ProfileValue``'s
    columns); ``row_id``: its stored row, None until written."""

    value: Any
    source: str
    verified: bool
    updated_at: datetime
    row_id: int | None = None


class Shared(NamedTuple):
    """An account's value as the payload and the stage rules read it (``AccountValue``'s)."""

    value: Any
    trusted: bool
    updated_at: datetime
    row_id: int | None = None


@dataclass
class Person:
    """One contact of the batch, as its rows change it."""

    id: int
    email: str
    account_id: int | None
    about: Payload
    values: dict[str, Held]
    contact: Contact | None = None  # the row, when the stage rules need it
    created: bool = False


@dataclass
class Writes:
    """What the batch will write, gathered while its rows are applied."""

    values: dict[tuple[int, int], Held] = field(default_factory=dict)
    history: list[tuple[int, int, Any, Any]] = field(default_factory=list)
    shared: dict[tuple[int, int], tuple[Shared, int]] = field(default_factory=dict)
    events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    judged: list[tuple[Person, ContactState]] = field(default_factory=list)


def write_batch(
    site: SiteSnapshot,
    rows: Sequence[ImportedRow],
    source: str,
    now: datetime,
    sparing: str | None,
) -> list[Upserted]:
    """Upsert checked ``rows`` in the caller's unit, in their order (see the module's
    docstring). ``sparing``: the destination not told of what they change."""
    people, shared = _load(site, rows, now)
    writes, done, seen = Writes(), [], set()
    for row in rows:
        person = people[row.email]
        changed = _apply(site, person, shared, row, source, now, writes)
        created = person.created and row.email not in seen
        done.append(Upserted(person.id, row.email, created, changed))
        seen.add(row.email)
    _write(site, writes, source, now, sparing)
    return done


def _apply(
    site: SiteSnapshot,
    person: Person,
    shared: dict[int, dict[str, Shared]],
    row: ImportedRow,
    source: str,
    now: datetime,
    writes: Writes,
) -> list[str]:
    """Apply one row to ``person`` (and its account's values) in memory, gathering what it
    writes; the keys whose value changed. A value replaces what is held, whoever gave it
    (an import is verified); a value that says what is held writes nothing, not even history,
    so the same file imported again changes nothing."""
    account = shared.get(person.account_id, {}) if person.account_id is not None else {}
    changed = []
    for key, value in row.values.items():
        held = person.values.get(key)
        if held is not None and held.value == value:
            continue
        view = site.fields[key]
        person.values[key] = new = Held(value, source, True, now, held.row_id if held else None)
        writes.values[(person.id, view.id)] = new
        previous = held.value if held is not None else None
        writes.history.append((person.id, view.id, value, previous))
        if view.rule.scope == "account" and person.account_id is not None:
            old = account.get(key)
            account[key] = Shared(value, True, now, old.row_id if old else None)
            writes.shared[(person.account_id, view.id)] = (account[key], person.id)
        changed.append(key)
    if changed:
        if person.contact is not None and not person.created:
            person.contact.updated_at = now
        writes.events.append((person.id, person.about.build(changed, person.values, account)))
        if site.stages:
            writes.judged.append((person, _state(person, account)))
    return changed


def _state(person: Person, account: dict[str, Shared]) -> ContactState:
    """What the stage rules judge of ``person`` now (they read no skips)."""
    engagement = person.about.engagement
    return ContactState(
        values=known(person.values),
        account_values=known({key: row for key, row in account.items() if row.trusted}),
        score=engagement.score,
        reached_stage=engagement.reached_stage,
    )


# --- reading the batch's contacts -------------------------------------------------------------


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def _load(
    site: SiteSnapshot, rows: Sequence[ImportedRow], now: datetime
) -> tuple[dict[str, Person], dict[int, dict[str, Shared]]]:
    """The batch's contacts by email (the missing ones created, with their accounts) and
    their accounts' values, read once each, the contacts locked."""
    emails = list(dict.fromkeys(row.email for row in rows))
    found: dict[str, Contact] = {}
    for chunk in _chunks(emails):
        query = select(Contact).where(Contact.site_id == site.id, Contact.email.in_(chunk))
        found.update((c.email, c) for c in db.session.scalars(query.with_for_update()))
    fresh = [email for email in emails if email not in found]
    domain_of = {email: company_domain(email) for email in fresh}
    account_ids = _accounts(site, set(domain_of.values()) - {None}, now)
    ids = _insert_contacts(site, fresh, {e: account_ids.get(d) for e, d in domain_of.items()}, now)
    old = [contact.id for contact in found.values()]
    values, consents = _values(site, old), _consents(site, old)
    domains = {id_: domain for domain, id_ in account_ids.items()}
    domains |= _domains({c.account_id for c in found.values()} - domains.keys() - {None})
    people = {}
    for email, contact in found.items():
        about = Payload(
            contact.id,
            email,
            domains.get(contact.account_id),
            contact.lifecycle_stage,
            consents.get(contact.id, {}),
            engaged(site, contact, now),
        )
        people[email] = Person(
            contact.id, email, contact.account_id, about, values.get(contact.id, {}), contact
        )
    no_events = _fresh_engagement(site, now)
    for email, contact_id in zip(fresh, ids, strict=True):
        account_id = account_ids.get(domain_of[email])
        about = Payload(contact_id, email, domain_of[email], None, {}, no_events)
        people[email] = Person(contact_id, email, account_id, about, {}, created=True)
    return people, _shared(site, {p.account_id for p in people.values()} - {None})


def _fresh_engagement(site: SiteSnapshot, now: datetime) -> Engaged:
    """The engagement of a contact that has no event (the same for all)."""
    return engaged(site, Contact(**_NO_EVENTS), now)


def _accounts(site: SiteSnapshot, domains: set[str | None], now: datetime) -> dict[str, int]:
    """The site's account of each of ``domains`` by domain, the missing ones created."""
    wanted = sorted(d for d in domains if d is not None)
    ids: dict[str, int] = {}
    for chunk in _chunks(wanted):
        query = select(Account.domain, Account.id).where(
            Account.site_id == site.id, Account.domain.in_(chunk)
        )
        ids.update(db.session.execute(query).all())
    missing = [domain for domain in wanted if domain not in ids]
    if missing:
        table = Account.__table__
        made = db.session.scalars(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [{"site_id": site.id, "domain": domain, "created_at": now} for domain in missing],
        )
        ids.update(zip(missing, made, strict=True))
    return ids


def _insert_contacts(
    site: SiteSnapshot, emails: list[str], account_of: dict[str, int | None], now: datetime
) -> list[int]:
    """Create a contact for each of ``emails`` (with its link digest and account); their ids,
    in order. On PostgreSQL the ids are taken from the sequence first and the rows copied in
    (``insert_rows``); elsewhere an INSERT … RETURNING."""
    if not emails:
        return []
    table = Contact.__table__
    rows = [(email, email_digest(site.link_key, email), account_of[email]) for email in emails]
    fixed = {"site_id": site.id, "created_at": now, "updated_at": now, **_NO_EVENTS}
    columns = ("email", "email_digest", "account_id")
    if db.session.get_bind().dialect.name == "postgresql":
        ids = sorted(db.session.scalars(_NEXT_IDS, {"n": len(emails)}))
        insert_rows(
            table, ("id", *columns), [(i, *row) for i, row in zip(ids, rows, strict=True)], fixed
        )
        return ids
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(
        db.session.scalars(
            statement, [dict(zip(columns, row, strict=True)) | fixed for row in rows]
        )
    )


# ``n`` fresh contact ids from the table's sequence (PostgreSQL).
_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('contacts', 'id')) FROM generate_series(1, :n)"
)


def _values(site: SiteSnapshot, contact_ids: list[int]) -> dict[int, dict[str, Held]]:
    """The current values of ``contact_ids`` by contact and key (fields no longer configured
    left out)."""
    by_id, held = site.keys_by_field_id, {}
    columns = (ProfileValue.value, ProfileValue.source, ProfileValue.verified)
    columns += (ProfileValue.updated_at, ProfileValue.id, ProfileValue.contact_id)
    for chunk in _chunks(contact_ids):
        query = select(*columns, ProfileValue.field_id).where(ProfileValue.contact_id.in_(chunk))
        for *row, contact_id, field_id in db.session.execute(query):
            if field_id in by_id:
                held.setdefault(contact_id, {})[by_id[field_id]] = Held(*row)
    return held


def _shared(site: SiteSnapshot, account_ids: set[int | None]) -> dict[int, dict[str, Shared]]:
    """The values of ``account_ids`` by account and key (each account present, maybe empty)."""
    by_id = site.keys_by_field_id
    ids = sorted(i for i in account_ids if i is not None)
    shared: dict[int, dict[str, Shared]] = {account_id: {} for account_id in ids}
    columns = (AccountValue.value, AccountValue.trusted, AccountValue.updated_at, AccountValue.id)
    for chunk in _chunks(ids):
        query = select(*columns, AccountValue.account_id, AccountValue.field_id).where(
            AccountValue.account_id.in_(chunk)
        )
        for *row, account_id, field_id in db.session.execute(query):
            if field_id in by_id:
                shared[account_id][by_id[field_id]] = Shared(*row)
    return shared


def _consents(site: SiteSnapshot, contact_ids: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(contact_ids):
        found |= consent_summaries(site, chunk)
    return found


def _domains(account_ids: set[int | None]) -> dict[int, str]:
    ids = sorted(i for i in account_ids if i is not None)
    found: dict[int, str] = {}
    for chunk in _chunks(ids):
        query = select(Account.id, Account.domain).where(Account.id.in_(chunk))
        found.update(db.session.execute(query).all())
    return found


# --- writing it -------------------------------------------------------------------------------

_VALUES, _SHARED = ProfileValue.__table__, AccountValue.__table__


def _update_by_id(table: Any, **fixed: Any) -> Any:
    """An UPDATE of one row by id (``row_id``): its value (``new_value``) and time (``at``)
    bound per row, ``fixed`` the other columns."""
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            value=bindparam("new_value", type_=table.c.value.type),
            updated_at=bindparam("at", type_=table.c.updated_at.type),
            **fixed,
        )
    )


_UPDATE_VALUE = _update_by_id(
    _VALUES, source=bindparam("given_by"), verified=True, form_key=None, visitor_id=None
)
_UPDATE_SHARED = _update_by_id(
    _SHARED, contact_id=bindparam("given_for"), trusted=True, form_key=None
)


def _write(
    site: SiteSnapshot, writes: Writes, source: str, now: datetime, sparing: str | None
) -> None:
    """Write what the batch's rows gathered: new rows straight to the driver
    (``insert_rows``), changed ones with an executemany each, the events in one."""
    given = {"updated_at": now, "source": source, "verified": True}
    new_values, changed_values = [], []
    for (contact_id, field_id), held in writes.values.items():
        if held.row_id is None:
            new_values.append((contact_id, field_id, held.value))
        else:
            changed_values.append(
                {"row_id": held.row_id, "new_value": held.value, "at": now, "given_by": source}
            )
    insert_rows(_VALUES, ("contact_id", "field_id", "value"), new_values, given)
    _execute(_UPDATE_VALUE, changed_values)
    history = {"site_id": site.id, "form_key": source, "created_at": now, "applied": True}
    history |= {"verified": True, "source": source}
    columns = ("contact_id", "field_id", "value", "previous_value")
    insert_rows(Submission.__table__, columns, writes.history, history)
    new_shared, changed_shared = [], []
    for (account_id, field_id), (row, contact_id) in writes.shared.items():
        if row.row_id is None:
            new_shared.append((account_id, field_id, row.value, contact_id))
        else:
            changed_shared.append(
                {"row_id": row.row_id, "new_value": row.value, "at": now, "given_for": contact_id}
            )
    columns = ("account_id", "field_id", "value", "contact_id")
    insert_rows(_SHARED, columns, new_shared, {"updated_at": now, "trusted": True})
    _execute(_UPDATE_SHARED, changed_shared)
    record_outbox_many(site.id, "contact.updated", writes.events, now, sparing=sparing)
    _judge(site, writes.judged, now)


def _execute(statement: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        db.session.execute(statement, rows)


def _judge(site: SiteSnapshot, judged: list[tuple[Person, ContactState]], now: datetime) -> None:
    """Judge the stage rules after each changed row, on the state it left (the contacts
    created by the batch read as rows first, in one statement)."""
    unread = sorted({person.id for person, _ in judged if person.contact is None})
    rows: dict[int, Contact] = {}
    for chunk in _chunks(unread):
        rows.update(
            (c.id, c) for c in db.session.scalars(select(Contact).where(Contact.id.in_(chunk)))
        )
    for person, state in judged:
        person.contact = person.contact or rows[person.id]
        qualify(site, person.contact, now, state)
