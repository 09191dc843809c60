"""A change of weights or half-life while traffic goes on: every score reads exactly before,
during and after the rebuild of the tallies, which the worker does in batches (issue 19)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Contact, Site
from app.services.delivery.worker import DeliveryWorker
from app.services.people import tallies
from app.services.people.tallies import engaged, is_current
from app.services.siteconfig import site_snapshot
from tests.factories import Widget, acme_config, make_site
from tests.tallies import from_scratch, tally_mismatches

BROWSERS = 7


def exact_reads(now) -> list[str]:
    """Contacts whose score, as the rules read it, is not what their events say."""
    db.session.expire_all()
    site = site_snapshot("acme")
    wrong = []
    for contact in db.session.scalars(select(Contact)):
        read = engaged(site, contact, now)
        summary = from_scratch("acme", contact.id, now)
        if (read.score, read.reached_stage) != (summary.score, summary.reached_stage):
            wrong.append(f"{contact.id}: {read.score} != {summary.score}")
    db.session.commit()
    return wrong


def stale_contacts() -> int:
    db.session.expire_all()
    site = site_snapshot("acme")
    count = sum(not is_current(site, c) for c in db.session.scalars(select(Contact)))
    db.session.commit()
    return count


def reweigh(weight: float, half_life: float | None) -> None:
    config = acme_config(engagement={"page_view": weight, "webinar": 5, "form_submit": 2})
    config["site"] = {**config["site"], "half_life_days": half_life}
    make_site(config)


def test_scores_stay_exact_through_a_rebuild_in_batches(app, client, clock, monkeypatch):
    monkeypatch.setattr(tallies, "REBUILD_BATCH", 2)
    make_site()
    browsers = [Widget(client) for _ in range(BROWSERS)]
    for n, browser in enumerate(browsers):
        for i in range(n + 1):
            clock.advance(hours=5)
            browser.event("page_view", id=f"p{i}")
            browser.event("webinar" if i % 2 else "page_view", stage="mid")
    assert tally_mismatches("acme", clock()) == []

    reweigh(4, 3)  # page views weigh 4 now, and decay with a 3-day half-life
    site = site_snapshot("acme")
    assert db.session.get(Site, site.id).tally_basis is None
    assert stale_contacts() == BROWSERS
    assert exact_reads(clock()) == []

    # The rebuild goes batch by batch while browsers go on sending events.
    after = 0
    done = 0
    while after is not None:
        after, count = tallies.rebuild_contacts_batch(site, after)
        db.session.commit()
        done += count
        clock.advance(minutes=30)
        browsers[done % BROWSERS].event("page_view")  # a stale one's event rebuilds it
        assert exact_reads(clock()) == []
    assert stale_contacts() == 0

    # A second change before the worker marked the site: its next turn rebuilds again.
    reweigh(1, None)
    assert stale_contacts() == BROWSERS
    worker = DeliveryWorker(app)
    try:
        worker.rebuild_tallies_if_due()
    finally:
        worker.close()
    assert stale_contacts() == 0
    assert db.session.get(Site, site.id).tally_basis == site_snapshot("acme").tally_basis
    assert tally_mismatches("acme", clock()) == []
    assert exact_reads(clock.advance(days=30)) == []
