from flask import url_for
from sqlalchemy import select
from werkzeug.routing import Rule

from app import create_app
from app.extensions import db
from app.models import Site
from tests.databases import settings_for


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


def _converters(rule: Rule) -> dict[str, tuple]:
    return {
        name: (type(c), {k: v for k, v in vars(c).items() if k != "map"}, c.map is rule.map)
        for name, c in rule._converters.items()
    }


def test_reused_rule_parts_are_the_ones_werkzeug_parses(app, database_url):
    """tests/url_builders.py parses each rule text once: a later app's rule has the parts,
    trace, arguments and converters (its own map's) that werkzeug's own parsing gives it, and
    the app routes and builds as before."""
    create_app(settings_for(database_url))  # so that the next app's rules are all reused
    app = create_app(settings_for(database_url))
    for rule in app.url_map.iter_rules():
        fresh = Rule(rule.rule, endpoint=rule.endpoint, defaults=rule.defaults)
        fresh.map = rule.map
        fresh._trace, fresh._converters = [], {}
        parts = list(Rule._parse_rule.__wrapped__(fresh, rule.rule))
        assert rule._parts[1:] == parts, rule.rule
        assert rule._trace[1:] == fresh._trace, rule.rule
        assert rule.arguments == fresh.arguments, rule.rule
        assert _converters(rule) == _converters(fresh), rule.rule
    adapter = app.url_map.bind("localhost")
    assert adapter.match("/api/v1/sites/acme/forms/blog/ask", method="POST") == (
        "api.ask",
        {"site": "acme", "form": "blog"},
    )
    with app.test_request_context():
        assert url_for("admin.contact", site="acme", contact_id=7) == "/admin/sites/acme/contacts/7"
