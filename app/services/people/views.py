"""An ask's read: everything a returning browser's questions depend on, in one statement.

The browser and its contact (with their engagement tallies), the contact's current values, the
account's trusted values, the skips the browser's view holds and, for a claimed browser, its own
answers and consents: one ``UNION ALL`` whose branches share one row shape (``_COLUMNS``), each
row tagged with what it is. With the site's freshness check (``site_snapshot``, once per
request) an ask makes two statements, and writes nothing (tests/asking/test_ask_round_trips.py).
The state it builds is the one ``load_contact_state`` builds from the same rows
(``ContactRows.state``): a claimed browser sees only what it gave itself (docs/architecture.md,
"Trust").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    Boolean,
    Double,
    Integer,
    String,
    bindparam,
    cast,
    literal_column,
    null,
    select,
)
from sqlalchemy import union_all as sql_union_all

from app.domain.specs import ContactState
from app.extensions import db
from app.models import (
    VERIFIED,
    AccountValue,
    ConsentRecord,
    Contact,
    ProfileValue,
    Skip,
    Submission,
    Visitor,
)
from app.models.types import UTCDateTime
from app.services.people.state import ContactRows, OwnSaid, Said
from app.services.siteconfig import SiteSnapshot

# The shape every branch of the view's statement returns, with each column's type.
_COLUMNS: dict[str, Any] = {
    "a": Integer,
    "b": Integer,
    "t1": String,
    "t2": String,
    "val": JSON,
    "at1": UTCDateTime,
    "at2": UTCDateTime,
    "at3": UTCDateTime,
    "num": Double,
    "n1": Integer,
    "n2": Integer,
    "n3": Integer,
    "n4": Integer,
    "flag": Boolean,
}
VISITOR, CONTACT, VALUE, ACCOUNT, SKIP, ANSWER, CONSENT = range(7)
_TALLY = ("tally_basis", "tally_at", "tally_last", "tally_total")
_COUNTS = ("tally_early", "tally_mid", "tally_late", "tally_seq")


class HeldValue(NamedTuple):
    """A current value as the rules read it (the columns of ``ProfileValue`` they use)."""

    value: Any
    updated_at: datetime
    visitor_id: int | None
    source: str
    verified: bool


class HeldAccountValue(NamedTuple):
    value: Any
    updated_at: datetime
    trusted: bool


class HeldSkip(NamedTuple):
    field_id: int
    visitor_id: int | None
    skipped_at: datetime
    seq_at: int
    own_seq_at: int


def _branch(src: int, **columns: Any) -> Any:
    """One branch: ``src`` and the given columns, every other one NULL of its type."""
    picked = [literal_column(str(src), Integer).label("src")]
    for name, type_ in _COLUMNS.items():
        column = columns.get(name)
        picked.append((column if column is not None else cast(null(), type_)).label(name))
    return picked


def _statement() -> Any:
    found = (
        select(
            Visitor.id.label("vid"),
            Visitor.contact_id.label("cid"),
            Visitor.trust,
            Visitor.last_seen_at,
            Contact.account_id,
            *(getattr(Visitor, name).label(f"v_{name}") for name in (*_TALLY, *_COUNTS)),
            *(getattr(Contact, name).label(f"c_{name}") for name in (*_TALLY, *_COUNTS)),
        )
        .join(Contact, Contact.id == Visitor.contact_id)
        .where(Visitor.public_id == bindparam("public_id"), Visitor.site_id == bindparam("site_id"))
        .cte("found")
    )
    own = found.c.trust != VERIFIED

    def tally(prefix: str) -> dict[str, Any]:
        c = found.c
        return {
            "t2": c[f"{prefix}tally_basis"],
            "at1": c[f"{prefix}tally_at"],
            "at2": c[f"{prefix}tally_last"],
            "num": c[f"{prefix}tally_total"],
            **{f"n{i}": c[f"{prefix}{name}"] for i, name in enumerate(_COUNTS, start=1)},
        }

    c = found.c

    def own_rows(src: int, model: Any, at: Any, **value: Any) -> Any:
        """A claimed browser's own rows of ``model`` (answers, consents); none for a verified."""
        return select(*_branch(src, a=model.field_id, at1=at, n1=model.id, **value)).join(
            found, (model.contact_id == c.cid) & (model.visitor_id == c.vid) & own
        )

    branches = [
        select(*_branch(VISITOR, a=c.vid, b=c.cid, t1=c.trust, at3=c.last_seen_at, **tally("v_"))),
        select(*_branch(CONTACT, a=c.cid, b=c.account_id, **tally("c_"))),
        select(
            *_branch(
                VALUE,
                a=ProfileValue.field_id,
                b=ProfileValue.visitor_id,
                t1=ProfileValue.source,
                val=ProfileValue.value,
                at1=ProfileValue.updated_at,
                flag=ProfileValue.verified,
            )
        ).join(found, ProfileValue.contact_id == c.cid),
        select(
            *_branch(
                ACCOUNT,
                a=AccountValue.field_id,
                val=AccountValue.value,
                at1=AccountValue.updated_at,
                flag=AccountValue.trusted,
            )
        )
        .join(found, AccountValue.account_id == c.account_id)
        .where(AccountValue.trusted.is_(True)),
        select(
            *_branch(
                SKIP,
                a=Skip.field_id,
                b=Skip.visitor_id,
                at1=Skip.skipped_at,
                n1=Skip.seq_at,
                n2=Skip.own_seq_at,
            )
        ).join(found, (Skip.contact_id == c.cid) & (~own | (Skip.visitor_id == c.vid))),
        own_rows(ANSWER, Submission, Submission.created_at, val=Submission.value),
        own_rows(CONSENT, ConsentRecord, ConsentRecord.recorded_at, flag=ConsentRecord.granted),
    ]
    return sql_union_all(*branches)


# Built once, like the other statements of the widget's path (see people.contacts).
_VIEW = _statement()


def _tally_of(row: Any) -> dict[str, Any]:
    return {
        "tally_basis": row.t2,
        "tally_at": row.at1,
        "tally_last": row.at2,
        "tally_total": row.num,
        **{name: row[f"n{i}"] for i, name in enumerate(_COUNTS, start=1)},
    }


def ask_view(site: SiteSnapshot, public_id: str, now: datetime) -> ContactState | None:
    """The state a returning browser's questions are chosen from, read in one statement; None
    when no stored visitor has this id (an ask stores nobody: see ``stored_visitor``)."""
    rows = db.session.execute(_VIEW, {"public_id": public_id, "site_id": site.id}).mappings()
    visitor: Visitor | None = None
    contact: Contact | None = None
    by_id = site.keys_by_field_id
    values: dict[str, HeldValue] = {}
    account: dict[str, HeldAccountValue] = {}
    skips: list[HeldSkip] = []
    answers: list[Said] = []
    consents: list[Said] = []
    for row in rows:
        src = row["src"]
        if src == VISITOR:
            # Transient rows: what the tallies' readers take (nothing is added to the session).
            visitor = Visitor(id=row["a"], contact_id=row["b"], trust=row["t1"], **_tally_of(row))
        elif src == CONTACT:
            contact = Contact(id=row["a"], account_id=row["b"], **_tally_of(row))
        elif src == SKIP:
            skips.append(HeldSkip(row["a"], row["b"], row["at1"], row["n1"], row["n2"]))
        elif src in (ANSWER, CONSENT):
            said = Said(
                row["a"], row["val"] if src == ANSWER else row["flag"], row["at1"], row["n1"]
            )
            (answers if src == ANSWER else consents).append(said)
        elif row["a"] in by_id:
            key = by_id[row["a"]]
            if src == VALUE:
                values[key] = HeldValue(row["val"], row["at1"], row["b"], row["t1"], row["flag"])
            else:
                account[key] = HeldAccountValue(row["val"], row["at1"], row["flag"])
    if visitor is None or contact is None:
        return None
    answers.sort(key=lambda said: (said.at, said.id))
    consents.sort(key=lambda said: (said.at, said.id))
    held = ContactRows(
        site=site,
        contact=contact,
        values=values,  # type: ignore[arg-type]
        account=account,  # type: ignore[arg-type]
        skips=skips,  # type: ignore[arg-type]
        said=OwnSaid(answers, consents),
    )
    return held.state(now, visitor)
