"""Hot events of one account at once, over real HTTP on real connections: the handed-off
contact is told once (the claim on ``engaged_at`` is conditional), and every event is taken."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Contact, Handoff, OutboxEvent
from tests.factories import acme_config, make_site
from tests.sales.support import SALES, STAGES
from tests.test_concurrent_writes import (  # noqa: F401
    TIMEOUT,
    Browser,
    address,
    app_settings,
    contact_of,
    no_failures,
    together,
)

COLLEAGUES = 6
ENGAGEMENT = {"pricing_view": {"weight": 0, "stage": "late"}}
HOT = {"events": ["pricing_view"], "window_hours": 24}


def test_an_account_busy_at_once_tells_its_handed_off_contact_once(app, clock, address):  # noqa: F811
    site = make_site(
        acme_config(
            stages=STAGES, engagement=ENGAGEMENT, sales_outcomes={**SALES, "hot_activity": HOT}
        )
    )
    browsers = [Browser(address) for _ in range(COLLEAGUES + 1)]
    for number, browser in enumerate(browsers):
        browser.ask()
        assert browser.submit({"email": f"person{number}@zorblax.example"}) == 200
    ada = contact_of(browsers[0])
    db.session.add(
        Handoff(
            site_id=site.id,
            contact_id=ada,
            team="sales",
            started_at=clock() - timedelta(hours=1),
            due_at=clock() + timedelta(hours=47),
        )
    )
    db.session.commit()
    db.session.remove()  # the test's session holds nothing open while the server writes

    statuses = together([lambda b=b: b.event("pricing_view") for b in browsers])

    assert statuses == [202] * len(browsers)
    assert no_failures(browsers) == []
    told = db.session.scalars(
        select(OutboxEvent.contact_id).where(OutboxEvent.type == "contact.engaged")
    ).all()
    assert told == [ada]
    assert db.session.get(Contact, ada).engaged_at == clock()
