"""What the console's home page shows: every site, its forms and how many people it knows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import Contact, Form, Site


@dataclass(frozen=True)
class FormSummary:
    key: str
    title: str
    stage: str | None


@dataclass(frozen=True)
class SiteOverview:
    key: str
    name: str
    origins: tuple[str, ...]
    config_version: int
    contacts: int
    identified: int
    forms: tuple[FormSummary, ...]


def site_overviews() -> list[SiteOverview]:
    """Every site with its active forms and contact counts, by name."""
    counts = {
        row.site_id: (row.contacts, row.identified)
        for row in db.session.execute(
            select(
                Contact.site_id,
                func.count().label("contacts"),
                func.count(Contact.email).label("identified"),
            ).group_by(Contact.site_id)
        )
    }
    forms: dict[int, list[FormSummary]] = {}
    for form in db.session.scalars(
        select(Form).where(Form.archived_at.is_(None)).order_by(Form.position)
    ):
        forms.setdefault(form.site_id, []).append(FormSummary(form.key, form.title, form.stage))
    return [
        SiteOverview(
            key=site.key,
            name=site.name,
            origins=tuple(site.origins or ()),
            config_version=site.config_version,
            contacts=counts.get(site.id, (0, 0))[0],
            identified=counts.get(site.id, (0, 0))[1],
            forms=tuple(forms.get(site.id, ())),
        )
        for site in db.session.scalars(select(Site).order_by(Site.name))
    ]


def site_names() -> list[tuple[str, str]]:
    """Every site's (key, name), by name: the console's site switcher."""
    return [
        (row.key, row.name)
        for row in db.session.execute(select(Site.key, Site.name).order_by(Site.name))
    ]
