from flask import url_for
from sqlalchemy import select
from werkzeug.routing import Rule

from app.extensions import db
from app.models import Site


def test_a_site_row_round_trips(app, clock):
    db.session.add(Site(key="s1", name="One", origins=["https://a.example"], created_at=clock()))
    db.session.commit()
    site = db.session.scalars(select(Site)).one()
    assert (site.key, site.origins, site.created_at) == ("s1", ["https://a.example"], clock())


def _code(builder) -> tuple:
    code = builder.__code__
    return (code.co_code, code.co_consts, code.co_names, code.co_varnames, builder.__defaults__)


def test_reused_url_builders_are_the_ones_werkzeug_compiles(app):
    """tests/url_builders.py hands every app the builders compiled for the first one: each is
    the very code werkzeug compiles for that rule, and builds the same URLs."""
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 50
    for rule in rules:
        assert _code(rule._build.__func__) == _code(_fresh_builder(rule, False)), rule.rule
        assert _code(rule._build_unknown.__func__) == _code(_fresh_builder(rule, True)), rule.rule
    with app.test_request_context():
        assert url_for("api.submit", site="acme", form="blog", x="1") == (
            "/api/v1/sites/acme/forms/blog/submit?x=1"
        )


def _fresh_builder(rule, append_unknown: bool):
    return Rule._compile_builder.__wrapped__(rule, append_unknown)
