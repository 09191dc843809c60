"""What-if over several batches: the walk over the site's contacts by id finds exactly the
contacts active in the window (a counted event or an applied answer), skips the others and
another site's, and replays each with its own answers and its company's values."""

from __future__ import annotations

import copy
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Account,
    AccountValue,
    Contact,
    EngagementEvent,
    Field,
    SalesOutcome,
    Site,
    Submission,
)
from app.services.sales import simulate_definition, whatif
from tests.factories import acme_config, make_site
from tests.sales.support import STAGES, add_contact, sales_config, sales_site


def software_only() -> dict:
    """The sales config with mql also asking for the industry Software."""
    config = sales_config()
    config["stages"] = copy.deepcopy(STAGES)
    config["stages"][2]["when"] = {"min_score": 10, "field_equals": {"industry": "Software"}}
    return config


class History:
    """Rows written straight to the tables the what-if reads, at times relative to ``now``."""

    def __init__(self, site_key: str, now):
        self.now = now
        site_id = db.session.scalar(select(Site.id).where(Site.key == site_key))
        fields = select(Field.key, Field.id).where(Field.site_id == site_id)
        self.fields = {key: id_ for key, id_ in db.session.execute(fields)}

    def site_id(self, contact_id: int) -> int:
        return db.session.get(Contact, contact_id).site_id

    def webinar(self, contact_id: int, days: float, *, counted: bool = True) -> None:
        db.session.add(
            EngagementEvent(
                site_id=self.site_id(contact_id),
                contact_id=contact_id,
                kind="webinar",
                stage="late",
                occurred_at=self.now - timedelta(days=days),
                counted=counted,
            )
        )

    def answer(self, contact_id: int, key: str, value, days: float, *, applied=True) -> None:
        db.session.add(
            Submission(
                site_id=self.site_id(contact_id),
                contact_id=contact_id,
                field_id=self.fields[key],
                form_key="blog",
                value=value,
                created_at=self.now - timedelta(days=days),
                applied=applied,
            )
        )

    def company(self, contact_id: int, domain: str, industry: str, days: float) -> None:
        account = Account(site_id=self.site_id(contact_id), domain=domain)
        db.session.add(account)
        db.session.flush()
        db.session.get(Contact, contact_id).account_id = account.id
        db.session.add(
            AccountValue(
                account_id=account.id,
                field_id=self.fields["industry"],
                value=industry,
                updated_at=self.now - timedelta(days=days),
            )
        )

    def outcome(self, contact_id: int, kind: str, reason: str | None = None) -> None:
        db.session.add(
            SalesOutcome(
                site_id=self.site_id(contact_id),
                contact_id=contact_id,
                kind=kind,
                reason=reason,
                by="rep@acme.example",
                idempotency_key=f"{kind}-{contact_id}",
                occurred_at=self.now,
                recorded_at=self.now,
            )
        )


def test_batches_replay_exactly_the_active_contacts(app, clock, monkeypatch):
    monkeypatch.setattr(whatif, "BATCH", 2)
    now = clock()  # Monday 2 March 2026, 09:00
    sales_site(now)
    other = acme_config()
    other["site"] = {**other["site"], "key": "other", "name": "Other"}
    make_site(other)
    history = History("acme", now)
    hour = 1 / 24
    ann = add_contact("acme", "ann@a.example", None)
    history.webinar(ann, 5)
    history.webinar(ann, 5 - hour)  # 10: mql now
    history.company(ann, "a.example", "Software", 3)
    history.webinar(ann, 2)  # Software known since day 3: mql under the proposal
    ben = add_contact("acme", "ben@b.example", None)
    history.webinar(ben, 40)  # before the window only: not replayed
    cat = add_contact("acme", "cat@c.example", None)
    history.answer(cat, "industry", "Software", 4)  # her own value
    history.webinar(cat, 4)
    history.webinar(cat, 4 - hour)  # both now and under the proposal
    history.outcome(cat, "accepted")
    dan = add_contact("acme", "dan@d.example", None)
    history.answer(dan, "email", "dan@d.example", 1)  # active, never mql
    eve = add_contact("other", "eve@e.example", None)
    history.webinar(eve, 3)
    history.webinar(eve, 3 - hour)  # another site's: not replayed
    fay = add_contact("acme", "fay@f.example", None)
    history.webinar(fay, 6, counted=False)
    history.webinar(fay, 6 - hour, counted=False)
    history.webinar(fay, 6 - 2 * hour)  # 5: the uncounted ones add nothing
    gus = add_contact("acme", "gus@g.example", None)
    history.answer(gus, "email", "gus@g.example", 1, applied=False)  # not applied: not active
    hal = add_contact("acme", "hal@h.example", None)
    history.company(hal, "h.example", "Retail", 20)
    history.webinar(hal, 9)
    history.webinar(hal, 9 - hour)  # mql now, not under the proposal
    history.outcome(hal, "rejected", "bad_fit")
    db.session.commit()

    result = simulate_definition("acme", software_only(), 30, now)

    assert result.replayed == 5  # ann, cat, dan, fay, hal
    assert {week: counts for week, counts in result.weeks.items() if counts != (0, 0)} == {
        date(2026, 2, 16): (1, 0),  # hal, 21 February
        date(2026, 2, 23): (2, 2),  # ann (25 and 28 February), cat (26 February)
    }
    old, new = result.old, result.new
    assert (old.handed_off, old.accepted, old.won, dict(old.rejected)) == (3, 1, 0, {"bad_fit": 1})
    assert (new.handed_off, new.accepted, new.won, dict(new.rejected)) == (2, 1, 0, {})
    assert (result.entering, result.leaving) == (0, 1)
    assert result.leaving_sample == [(hal, "hal@h.example")]
    assert result.entering_sample == []
