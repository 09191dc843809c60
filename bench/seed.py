"""Demo-site data for the benchmark: accounts and contacts with visitors, profile values, skips and
engagement events, written with SQLAlchemy Core bulk inserts; and tokens for the seeded visitors."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import insert, select, text

from app.extensions import db
from app.models import (
    Account,
    AccountValue,
    Contact,
    EngagementEvent,
    Field,
    ProfileValue,
    Site,
    Skip,
    Visitor,
)

SITE, FORM = "demo", "blog"
BATCH = 5000

FIRST = ("Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia", "Guido")
LAST = ("Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Wirth")
WORDS = ("north", "blue", "cedar", "delta", "ember", "granite", "harbor", "juniper", "maple")
WORDS += ("orbit", "pine", "quartz", "river", "summit", "tidal", "vertex", "willow", "lumen")
STAGES = ("early", "mid", "late")
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "gmx.de")
TITLES = ("Marketing Manager", "Growth Lead", "CTO", "Data Analyst", "Head of Sales", "Founder")
# Share of identified contacts holding each field (anonymous ones hold a tenth as often).
VALUE_RATES = {"first_name": 0.8, "company": 0.55, "zip": 0.3, "company_size": 0.35}
VALUE_RATES |= {"industry": 0.35, "job_title": 0.3, "decision_maker": 0.12, "budget": 0.6}
VALUE_RATES |= {"timeline": 0.08, "looking_for": 0.05}
KIND_SHARES = {"page_view": 50, "email_click": 15, "content_download": 12, "video_play": 10}
KIND_SHARES |= {"form_submit": 5, "webinar": 5, "demo_request": 3}


@dataclass(frozen=True)
class DemoSite:
    id: int
    field_ids: dict[str, int]
    options: dict[str, list[Any]]  # select fields: the values they accept
    kind_stages: dict[str, str | None]


def demo_site() -> DemoSite:
    site = db.session.scalars(select(Site).where(Site.key == SITE)).one()
    fields = db.session.scalars(
        select(Field).where(Field.site_id == site.id, Field.archived_at.is_(None))
    ).all()
    return DemoSite(
        id=site.id,
        field_ids={f.key: f.id for f in fields},
        options={f.key: [o["value"] for o in f.options] for f in fields if f.options},
        kind_stages={kind: spec.get("stage") for kind, spec in (site.engagement or {}).items()},
    )


@dataclass(frozen=True)
class Company:
    account_id: int
    domain: str
    name: str


class Seeder:
    """Rows for contacts of one site, one batch at a time; contact ``n`` has visitor ``n``."""

    def __init__(self, site: DemoSite, companies: list[Company], rng: random.Random) -> None:
        self.site, self.companies, self.rng = site, companies, rng
        self.now = datetime.now(UTC)
        self.rows: dict[Any, list[dict[str, Any]]] = {}
        kinds = [k for k in KIND_SHARES if k in site.kind_stages]
        self.kinds, self.kind_shares = kinds, [KIND_SHARES[k] for k in kinds]

    def batch(self, first: int, last: int) -> tuple[list[str], dict[Any, list[dict[str, Any]]]]:
        """Rows for contacts ``first..last`` by table, parents first, and the visitors' ids."""
        self.rows = {
            t.__table__: [] for t in (Contact, Visitor, ProfileValue, EngagementEvent, Skip)
        }
        return [self.contact(cid) for cid in range(first, last + 1)], self.rows

    def add(self, model: Any, **row: Any) -> None:
        self.rows[model.__table__].append(row)

    def contact(self, cid: int) -> str:
        rng = self.rng
        created = self.now - timedelta(days=rng.uniform(1, 400))
        seen = created + (self.now - timedelta(hours=2) - created) * rng.random()
        company = rng.choice(self.companies) if rng.random() < 0.7 else None
        email = self.email(cid, company) if rng.random() < 0.7 else None
        values = self.values(email, company)
        self.add(Contact, id=cid, site_id=self.site.id, email=email,
                 account_id=company.account_id if company and email else None,
                 lifecycle_stage="lead" if email and "first_name" in values else None,
                 created_at=created, updated_at=seen)  # fmt: skip
        public_id = secrets.token_hex(16)
        self.add(Visitor, id=cid, site_id=self.site.id, public_id=public_id, contact_id=cid,
                 created_at=created, last_seen_at=seen)  # fmt: skip
        for key, value in values.items():
            self.add(ProfileValue, contact_id=cid, field_id=self.site.field_ids[key], value=value,
                     updated_at=seen, form_key=FORM, visitor_id=cid)  # fmt: skip
        for _ in range(rng.randint(0, 8)):
            self.event(cid, created)
        if rng.random() < 0.05:
            self.add(Skip, contact_id=cid, field_id=rng.choice(list(self.site.field_ids.values())),
                     form_key=FORM, skipped_at=seen)  # fmt: skip
        return public_id

    def email(self, cid: int, company: Company | None) -> str:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        domain = company.domain if company else self.rng.choice(FREE_MAIL)
        return f"{first}.{last}.{cid}@{domain}".lower()

    def values(self, email: str | None, company: Company | None) -> dict[str, Any]:
        """Values of a random subset of the fields; anonymous contacts hold a tenth as many."""
        values: dict[str, Any] = {"email": email} if email else {}
        for key, rate in VALUE_RATES.items():
            if key not in self.site.field_ids or self.rng.random() >= rate * (1 if email else 0.1):
                continue
            if key == "budget" and values.get("decision_maker") is not True:
                continue  # budget is asked only of decision makers
            values[key] = self.value(key, email, company)
        return values

    def value(self, key: str, email: str | None, company: Company | None) -> Any:
        rng = self.rng
        if key in self.site.options:
            return rng.choice(self.site.options[key])
        if key == "first_name":
            return (email or rng.choice(FIRST)).split(".")[0].title()
        if key == "company":
            return company.name if company else "Freelance"
        if key == "zip":
            return f"{rng.randint(1000, 99999):05d}"
        if key == "decision_maker":
            return rng.random() < 0.4
        return rng.choice(TITLES) if key == "job_title" else "Fewer, better questions."

    def event(self, cid: int, since: datetime) -> None:
        kind = self.rng.choices(self.kinds, self.kind_shares)[0]
        stage = self.site.kind_stages[kind] or self.rng.choices(STAGES, (6, 3, 1))[0]
        external_id = secrets.token_hex(8) if self.rng.random() < 0.3 else None
        self.add(EngagementEvent, site_id=self.site.id, contact_id=cid, visitor_id=cid, kind=kind,
                 stage=stage, external_id=external_id, content=None,
                 url=f"https://example.test/blog/{self.rng.randint(1, 300)}",
                 occurred_at=since + (self.now - since) * self.rng.random())  # fmt: skip


def seed_accounts(site: DemoSite, count: int, rng: random.Random) -> list[Company]:
    """``count`` companies, about half of them with firmographics."""
    now = datetime.now(UTC)
    companies = []
    for aid in range(1, count + 1):
        name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {aid}"
        companies.append(Company(aid, name.lower().replace(" ", "-") + ".example", name))
    accounts = [
        {"id": c.account_id, "site_id": site.id, "domain": c.domain, "created_at": now}
        for c in companies
    ]
    values = [
        {"account_id": c.account_id, "field_id": site.field_ids[key], "updated_at": now,
         "value": rng.choice(site.options[key])}
        for c in companies if rng.random() < 0.5
        for key in ("company_size", "industry") if key in site.options
    ]  # fmt: skip
    with db.engine.begin() as conn:
        conn.execute(insert(Account.__table__), accounts)
        if values:
            conn.execute(insert(AccountValue.__table__), values)
    return companies


def seed(app: Flask, count: int, rng: random.Random) -> list[str]:
    """Seed ``count`` contacts on the demo site; return their visitors' public ids."""
    public_ids: list[str] = []
    with app.app_context():
        site = demo_site()
        seeder = Seeder(site, seed_accounts(site, max(count // 40, 10), rng), rng)
        for first in range(1, count + 1, BATCH):
            ids, rows = seeder.batch(first, min(first + BATCH - 1, count))
            public_ids += ids
            with db.engine.begin() as conn:
                for table, batch in rows.items():
                    if batch:
                        conn.execute(insert(table), batch)
        finish_seeding()
        build_tallies()
    return public_ids


def build_tallies() -> None:
    """The seeded contacts' and visitors' engagement tallies, as after an upgrade: counters from
    the events, then the worker's rebuild (people.rebuild_stale_tallies)."""
    from app.services.people import rebuild_stale_tallies

    with db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE contacts SET tally_basis = NULL, tally_seq = (SELECT count(*)"
                " FROM engagement_events e WHERE e.contact_id = contacts.id AND e.counted)"
            )
        )
        conn.execute(
            text(
                "UPDATE visitors SET tally_basis = NULL, tally_seq = (SELECT count(*)"
                " FROM engagement_events e WHERE e.visitor_id = visitors.id"
                " AND e.contact_id = visitors.contact_id)"
            )
        )
        conn.execute(text("UPDATE sites SET tally_basis = NULL"))
    rebuild_stale_tallies()


def finish_seeding() -> None:
    """PostgreSQL: move the id sequences past the explicit ids, and gather planner statistics."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.begin() as conn:
        for table in ("accounts", "contacts", "visitors"):
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            conn.execute(text(f"select setval({sequence}, max(id)) from {table}"))  # noqa: S608
        conn.execute(text("analyze"))


def visitor_tokens(app: Flask, public_ids: list[str], count: int, rng: random.Random) -> list[str]:
    from app.services.tokens import visitor_token

    with app.app_context():
        return [
            visitor_token(SITE, pid) for pid in rng.sample(public_ids, min(count, len(public_ids)))
        ]
