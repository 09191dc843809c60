"""`trickle retention run`: retention now, for one site or all, whatever the daily claim says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Contact, Site
from app.services.privacy import run_due
from tests.factories import acme_config, make_site

N = 30


def site(key: str, days: int | None) -> Site:
    config = acme_config()
    config["site"] = {**config["site"], "key": key, "anonymous_retention_days": days}
    return make_site(config)


def idle_contact(site: Site, clock) -> None:
    then = clock.now - timedelta(days=N + 1)
    db.session.add(Contact(site_id=site.id, created_at=then, updated_at=then))
    db.session.commit()


@pytest.fixture
def sites(app, clock) -> None:
    for key, days in (("acme", N), ("globex", None), ("initech", N)):
        made = site(key, days)
        idle_contact(made, clock)
        idle_contact(made, clock)


def contacts_by_site() -> dict[str, int]:
    db.session.expire_all()
    rows = db.session.execute(
        select(Site.key, func.count(Contact.id))
        .join(Contact, Contact.site_id == Site.id)
        .group_by(Site.key)
    )
    return {key: n for key, n in rows}


def ran_at() -> dict[str, object]:
    db.session.expire_all()
    return {key: when for key, when in db.session.execute(select(Site.key, Site.retention_ran_at))}


def test_run_covers_every_site_and_prints_the_counts(runner, sites, clock):
    result = runner.invoke(args=["retention", "run"])

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "acme: 2 anonymous contacts, 0 deliveries, 0 attempts, 0 webhook events removed\n"
        "globex: no retention set, nothing removed\n"
        "initech: 2 anonymous contacts, 0 deliveries, 0 attempts, 0 webhook events removed\n"
    )
    assert contacts_by_site() == {"globex": 2}
    assert ran_at() == {"acme": clock.now, "globex": clock.now, "initech": clock.now}


def test_run_for_one_site_ignores_the_daily_claim(runner, sites, clock):
    assert [r.site for r in run_due(clock.now)] == ["acme", "initech"]
    idle_contact(db.session.scalars(select(Site).where(Site.key == "acme")).one(), clock)
    clock.advance(hours=1)
    assert run_due(clock.now) == []  # the worker would wait for tomorrow

    result = runner.invoke(args=["retention", "run", "--site", "acme"])

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "acme: 1 anonymous contact, 0 deliveries, 0 attempts, 0 webhook events removed\n"
    )
    assert contacts_by_site() == {"globex": 2}
    assert ran_at() == {
        "acme": clock.now,
        "globex": None,
        "initech": clock.now - timedelta(hours=1),
    }


def test_an_unknown_site_is_an_error(runner, sites):
    result = runner.invoke(args=["retention", "run", "--site", "nope"])

    assert result.exit_code == 1
    assert (result.stdout, result.stderr) == ("", 'error: No site "nope".\n')
    assert contacts_by_site() == {"acme": 2, "globex": 2, "initech": 2}


def test_without_sites_there_is_nothing_to_do(runner):
    result = runner.invoke(args=["retention", "run"])

    assert (result.exit_code, result.stdout) == (0, "No sites.\n")
