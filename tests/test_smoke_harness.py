from sqlalchemy import select

from app.extensions import db
from app.models import Site


def test_a_site_row_round_trips(app, clock):
    db.session.add(Site(key="s1", name="One", origins=["https://a.example"], created_at=clock()))
    db.session.commit()
    site = db.session.scalars(select(Site)).one()
    assert (site.key, site.origins, site.created_at) == ("s1", ["https://a.example"], clock())
