"""Site config as a file: import (all or nothing), archive/restore, export, round trips."""

from __future__ import annotations

import base64
import copy
import json
import re
import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Destination,
    Field,
    Form,
    FormField,
    FormTier,
    LifecycleStage,
    Site,
    Tier,
)
from app.services.errors import Invalid, NotFound
from app.services.siteconfig import (
    dump_config,
    export_site_config,
    import_site_config,
    read_config_file,
    site_snapshot,
)

DEMO_FILE = Path(__file__).resolve().parents[2] / "app" / "demo" / "demo.yaml"
CONFIG_MODELS = (Site, Tier, Field, Form, FormTier, FormField, LifecycleStage, Destination)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

BASE: dict[str, Any] = {
    "site": {"key": "acme", "name": "Acme Analytics", "origins": ["https://www.acme.example"]},
    "tiers": [
        {"key": "basics", "rank": 1},
        {"key": "firmographics", "rank": 2, "min_score": 5},
        {"key": "qualification", "rank": 3, "min_score": 10, "min_stage": "late"},
    ],
    "fields": [
        {
            "key": "email",
            "label": "Work email",
            "kind": "email",
            "tier": "basics",
            "identity": True,
            "required": True,
        },
        {
            "key": "first_name",
            "label": "First name",
            "kind": "text",
            "tier": "basics",
            "priority": 10,
            "max_length": 80,
        },
        {
            "key": "company_size",
            "label": "Company size",
            "kind": "select",
            "tier": "firmographics",
            "scope": "account",
            "options": ["1-10", "11-50", {"value": "200+", "label": "More than 200"}],
        },
        {
            "key": "decision_maker",
            "label": "Do you sign off on purchases?",
            "kind": "boolean",
            "tier": "qualification",
        },
        {
            "key": "budget",
            "label": "Budget this year",
            "kind": "select",
            "tier": "qualification",
            "options": ["< 10k", "10k-100k", "> 100k"],
            "ask_if": {"field": "decision_maker", "equals": True},
        },
    ],
    "forms": [
        {
            "key": "blog",
            "title": "Stay in the loop",
            "stage": "early",
            "tiers": ["basics"],
            "fields": ["company_size"],
            "always_ask": ["first_name"],
            "submit_label": "Subscribe",
        },
        {"key": "pricing", "title": "Get a quote", "max_questions": 5},
    ],
    "stages": [
        {"key": "lead", "when": {"fields_known": ["email", "first_name"]}},
        {"key": "mql", "when": {"min_score": 15, "fields_known": ["company_size"]}},
    ],
}

CRM = {
    "key": "crm",
    "url": "https://crm.example/hooks",
    "events": ["contact.updated", "contact.stage_changed"],
    "mapping": {"company_size": "NumberOfEmployees"},
    "secret_env": "TRICKLE_TEST_CRM_SECRET",
}


def config(**sections: Any) -> dict[str, Any]:
    """A deep copy of BASE with whole sections replaced."""
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(sections))
    return data


def row_counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in CONFIG_MODELS
    }


def database_state() -> tuple[Any, ...]:
    """What a failed import must not change: the site's export, versions and every row count."""
    db.session.expire_all()
    sites = db.session.execute(select(Site.key, Site.config_version, Site.updated_at)).all()
    return export_site_config("acme"), sorted(sites), row_counts()


def empty_database() -> None:
    db.session.remove()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def by_key(model: type, key: str) -> Any:
    return db.session.scalars(select(model).where(model.key == key)).one()


# -- import -------------------------------------------------------------------------------


def test_import_creates_the_site_and_every_entity(app, clock):
    site = import_site_config(config())

    assert (site.key, site.name, site.config_version) == ("acme", "Acme Analytics", 1)
    assert site.origins == ["https://www.acme.example"]
    assert (site.skip_cooldown, site.half_life_days, site.followup_hours) == (3, None, 48)
    assert site.created_at == clock.now and site.updated_at == clock.now
    assert site.engagement["webinar"] == {"weight": 5, "stage": None}
    assert len(site.engagement) == 6
    assert [(t.key, t.rank, t.min_score, t.min_stage) for t in site.tiers] == [
        ("basics", 1, 0, None),
        ("firmographics", 2, 5, None),
        ("qualification", 3, 10, "late"),
    ]
    fields = {f.key: f for f in site.fields}
    assert [f.key for f in site.fields] == [
        "email",
        "first_name",
        "company_size",
        "decision_maker",
        "budget",
    ]
    assert [f.position for f in site.fields] == [0, 1, 2, 3, 4]
    assert fields["email"].identity and fields["email"].required
    assert fields["first_name"].max_length == 80
    assert fields["company_size"].tier.key == "firmographics"
    assert fields["company_size"].scope == "account"
    assert fields["company_size"].options == [
        {"value": "1-10", "label": "1-10"},
        {"value": "11-50", "label": "11-50"},
        {"value": "200+", "label": "More than 200"},
    ]
    assert fields["budget"].ask_if == {"field": "decision_maker", "equals": True}
    assert fields["decision_maker"].priority == 100
    assert fields["decision_maker"].options is None
    blog = by_key(Form, "blog")
    assert (blog.title, blog.stage, blog.max_questions) == ("Stay in the loop", "early", 3)
    assert (blog.submit_label, blog.thank_you) == ("Subscribe", "Thank you!")
    assert blog.always_ask == ["first_name"]
    stages = db.session.scalars(select(LifecycleStage).order_by(LifecycleStage.position)).all()
    assert [(s.key, s.position, s.when) for s in stages] == [
        ("lead", 0, {"fields_known": ["email", "first_name"]}),
        ("mql", 1, {"min_score": 15, "fields_known": ["company_size"]}),
    ]
    assert row_counts() == {
        "sites": 1,
        "tiers": 3,
        "fields": 5,
        "forms": 2,
        "form_tiers": 1,
        "form_fields": 1,
        "lifecycle_stages": 2,
        "destinations": 0,
    }


def test_a_form_pool_is_its_tiers_and_fields_or_else_every_field(app):
    import_site_config(config())

    blog = by_key(Form, "blog")
    assert [(link.tier.key, link.position) for link in blog.pool_tiers] == [("basics", 0)]
    assert [(link.field.key, link.position) for link in blog.pool_fields] == [("company_size", 0)]
    snapshot = site_snapshot("acme")
    assert snapshot.form("blog").rules.pool == {"email", "first_name", "company_size"}
    assert snapshot.form("pricing").rules.pool == {
        "email",
        "first_name",
        "company_size",
        "decision_maker",
        "budget",
    }


def test_reimport_updates_archives_a_left_out_field_and_restores_it(app, clock):
    import_site_config(config())
    original = export_site_config("acme")
    budget_id = by_key(Field, "budget").id
    changed = config()
    changed["fields"][1]["label"] = "Your first name"
    del changed["fields"][4]
    changed["forms"][0]["tiers"] = ["basics", "firmographics"]
    archived_at = clock.advance(hours=1)

    site = import_site_config(changed)

    assert site.config_version == 2 and site.updated_at == archived_at
    assert by_key(Field, "first_name").label == "Your first name"
    assert by_key(Field, "budget").archived_at == archived_at
    assert "budget" not in [f["key"] for f in export_site_config("acme")["fields"]]
    assert "budget" not in site_snapshot("acme").fields
    assert [link.tier.key for link in by_key(Form, "blog").pool_tiers] == [
        "basics",
        "firmographics",
    ]

    clock.advance(hours=1)
    site = import_site_config(config())

    budget = by_key(Field, "budget")
    assert (budget.id, budget.archived_at) == (budget_id, None)
    assert site.config_version == 3
    assert export_site_config("acme") == original
    assert row_counts()["fields"] == 5


def test_importing_the_same_config_twice_changes_only_the_version(app):
    import_site_config(config(destinations=[CRM]))
    before = export_site_config("acme"), row_counts(), _ids(), _secret("crm")

    site = import_site_config(config(destinations=[CRM]))

    assert site.config_version == 2
    assert (export_site_config("acme"), row_counts(), _ids(), _secret("crm")) == before


def _ids() -> list[tuple[str, str, int]]:
    return sorted(
        (model.__tablename__, row.key, row.id)
        for model in (Tier, Field, Form, LifecycleStage, Destination)
        for row in db.session.scalars(select(model))
    )


def _secret(key: str) -> str:
    db.session.expire_all()
    return by_key(Destination, key).secret


def test_an_archived_tier_form_and_stage_come_back_when_named_again(app, clock):
    site = {**BASE["site"], "definition_approval": False}  # stages change without approval
    import_site_config(config(site=site))
    smaller = config(
        site=site,
        tiers=BASE["tiers"][:2],
        fields=BASE["fields"][:3],
        forms=BASE["forms"][:1],
        stages=BASE["stages"][:1],
    )
    clock.advance(minutes=5)
    import_site_config(smaller)
    archived = [
        (model.__tablename__, row.key)
        for model in (Tier, Field, Form, LifecycleStage)
        for row in db.session.scalars(select(model).where(model.archived_at == clock.now))
    ]
    assert sorted(archived) == [
        ("fields", "budget"),
        ("fields", "decision_maker"),
        ("forms", "pricing"),
        ("lifecycle_stages", "mql"),
        ("tiers", "qualification"),
    ]

    import_site_config(config(site=site))

    archived_left = [
        row.key
        for model in (Tier, Field, Form, LifecycleStage)
        for row in db.session.scalars(select(model).where(model.archived_at.is_not(None)))
    ]
    assert archived_left == []


# -- export -------------------------------------------------------------------------------


def test_export_leaves_out_defaults_archived_entities_and_secrets(app, monkeypatch):
    monkeypatch.setenv("TRICKLE_TEST_CRM_SECRET", SECRET)
    data = config(
        engagement={"webinar": 5, "page_view": 2, "demo": {"weight": 8, "stage": "late"}},
        destinations=[CRM, {**CRM, "key": "cdp", "format": "segment", "secret_env": None}],
    )
    data["site"]["half_life_days"] = 30.5
    data["forms"][1]["consent"] = {"text": "You may email me.", "required": True}
    import_site_config(data)

    exported = export_site_config("acme")

    assert exported == {
        "site": {
            "key": "acme",
            "name": "Acme Analytics",
            "origins": ["https://www.acme.example"],
            "half_life_days": 30.5,
        },
        "engagement": {"page_view": 2, "demo": {"weight": 8, "stage": "late"}},
        "tiers": [
            {"key": "basics", "rank": 1},
            {"key": "firmographics", "rank": 2, "min_score": 5},
            {"key": "qualification", "rank": 3, "min_score": 10, "min_stage": "late"},
        ],
        "fields": [
            {
                "key": "email",
                "label": "Work email",
                "kind": "email",
                "tier": "basics",
                "required": True,
                "identity": True,
            },
            {
                "key": "first_name",
                "label": "First name",
                "kind": "text",
                "tier": "basics",
                "priority": 10,
                "max_length": 80,
            },
            {
                "key": "company_size",
                "label": "Company size",
                "kind": "select",
                "tier": "firmographics",
                "scope": "account",
                "options": ["1-10", "11-50", {"value": "200+", "label": "More than 200"}],
            },
            {
                "key": "decision_maker",
                "label": "Do you sign off on purchases?",
                "kind": "boolean",
                "tier": "qualification",
            },
            {
                "key": "budget",
                "label": "Budget this year",
                "kind": "select",
                "tier": "qualification",
                "options": ["< 10k", "10k-100k", "> 100k"],
                "ask_if": {"field": "decision_maker", "equals": True},
            },
            {  # the pricing form's consent line, given as text: now a consent field
                "key": "pricing_consent",
                "label": "You may email me.",
                "kind": "consent",
                "tier": "basics",
                "required": True,
                "pooled": False,
            },
        ],
        "forms": [
            {
                "key": "blog",
                "title": "Stay in the loop",
                "stage": "early",
                "submit_label": "Subscribe",
                "always_ask": ["first_name"],
                "tiers": ["basics"],
                "fields": ["company_size"],
            },
            {
                "key": "pricing",
                "title": "Get a quote",
                "max_questions": 5,
                "consent": {"field": "pricing_consent"},
            },
        ],
        "stages": BASE["stages"],
        "destinations": [
            {
                "key": "crm",
                "url": "https://crm.example/hooks",
                "events": ["contact.updated", "contact.stage_changed"],
                "mapping": {"company_size": "NumberOfEmployees"},
                "secret_env": "TRICKLE_TEST_CRM_SECRET",
            },
            {
                "key": "cdp",
                "url": "https://crm.example/hooks",
                "events": ["contact.updated", "contact.stage_changed"],
                "format": "segment",
                "mapping": {"company_size": "NumberOfEmployees"},
            },
        ],
    }
    for fmt in ("yaml", "json"):
        assert "whsec_" not in dump_config(exported, fmt)


def test_export_of_an_unknown_site_is_not_found(app):
    with pytest.raises(NotFound) as caught:
        export_site_config("nope")
    assert caught.value.message == 'No site "nope".'


def test_dump_config_writes_yaml_in_key_order_and_json_with_a_final_newline():
    data = {"site": {"name": "Café", "key": "x"}, "tiers": []}

    assert dump_config(data, "yaml") == "site:\n  name: Café\n  key: x\ntiers: []\n"
    assert dump_config(data, "json") == json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# -- round trips ----------------------------------------------------------------------------


def _full_config() -> dict[str, Any]:
    data = config(
        engagement={"webinar": {"weight": 6.5, "stage": "late"}, "trial_start": 4},
        destinations=[CRM],
    )
    data["site"].update(skip_cooldown=0, half_life_days=14, followup_hours=24)
    data["site"].update(anonymous_retention_days=30, delivery_retention_days=90)
    data["fields"][2]["ask_if"] = {"field": "first_name", "known": True}
    data["fields"][4]["ask_if"] = {"field": "decision_maker", "in": [True]}
    data["stages"].append({"key": "sql", "when": {"field_equals": {"budget": "> 100k"}}})
    return data


@pytest.mark.parametrize("source", ["full config", "demo file"])
def test_export_import_export_through_a_file_is_identical(app, tmp_path, source):
    data = _full_config() if source == "full config" else read_config_file(str(DEMO_FILE))
    key = data["site"]["key"]
    import_site_config(data)
    first = export_site_config(key)
    path = tmp_path / "site.yaml"
    path.write_text(dump_config(first, "yaml"), encoding="utf-8")
    empty_database()

    import_site_config(read_config_file(str(path)))

    assert export_site_config(key) == first


def test_the_demo_file_is_the_demo_site(app):
    site = import_site_config(read_config_file(str(DEMO_FILE)))

    assert (site.key, site.name) == ("demo", "Demo Co")
    assert [(t.key, t.rank, t.min_score, t.min_stage) for t in site.tiers] == [
        ("basics", 1, 0, None),
        ("firmographics", 2, 5, None),
        ("qualification", 3, 10, "late"),
    ]
    assert {f.key: f.tier.key for f in site.fields} == {
        "email": "basics",
        "first_name": "basics",
        "company": "basics",
        "zip": "basics",
        "company_size": "firmographics",
        "industry": "firmographics",
        "job_title": "firmographics",
        "marketing_consent": "basics",
        "budget": "qualification",
        "timeline": "qualification",
        "decision_maker": "qualification",
        "looking_for": "qualification",
    }
    assert [(f.key, f.stage) for f in site.forms] == [
        ("blog", "early"),
        ("case_study", "mid"),
        ("pricing", "late"),
    ]
    assert site.forms[1].consent == {"field": "marketing_consent"}
    assert site.forms[2].complete_message
    assert site.destinations == []


# -- secrets --------------------------------------------------------------------------------


def test_a_secret_comes_from_the_environment(app, monkeypatch):
    monkeypatch.setenv("TRICKLE_TEST_CRM_SECRET", SECRET)

    import_site_config(config(destinations=[CRM]))

    assert _secret("crm") == SECRET


def test_without_the_variable_a_secret_is_generated_and_then_kept(app, monkeypatch):
    monkeypatch.delenv("TRICKLE_TEST_CRM_SECRET", raising=False)
    other = {**CRM, "key": "cdp", "secret_env": None}
    import_site_config(config(destinations=[CRM, other]))
    generated = _secret("crm")
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", generated)
    assert len(base64.b64decode(generated.removeprefix("whsec_"))) == 32
    assert _secret("cdp") != generated

    import_site_config(config(destinations=[CRM, other]))
    assert _secret("crm") == generated

    monkeypatch.setenv("TRICKLE_TEST_CRM_SECRET", SECRET)
    import_site_config(config(destinations=[CRM, other]))
    assert _secret("crm") == SECRET


def test_a_secret_that_cannot_sign_is_refused(app, monkeypatch):
    monkeypatch.setenv("TRICKLE_TEST_CRM_SECRET", "whsec_AAAAAAAAAAAAAAAAA")  # bad padding

    with pytest.raises(Invalid) as refused:
        import_site_config(config(destinations=[CRM]))

    assert refused.value.fields == {
        "destinations[0].secret_env": [
            "TRICKLE_TEST_CRM_SECRET does not hold a signing secret: expected whsec_ followed by "
            "at least 16 base64 characters"
        ]
    }


def test_a_new_secret_from_the_environment_rotates_and_an_old_one_never_comes_back(
    app, monkeypatch, clock
):
    other = "whsec_plJ3nmyCDGBKInavdOK15jslW0PMxnbXavlDsOVq5Ek="
    monkeypatch.setenv("TRICKLE_TEST_CRM_SECRET", SECRET)
    import_site_config(config(destinations=[CRM]))
    monkeypatch.setenv("TRICKLE_TEST_CRM_SECRET", other)
    import_site_config(config(destinations=[CRM]))
    crm = by_key(Destination, "crm")
    assert (crm.secret, crm.previous_secret, crm.previous_secret_until) == (
        other,
        SECRET,
        clock() + timedelta(hours=24),
    )

    # A process that still has the old value imports: no rotation back to it.
    monkeypatch.setenv("TRICKLE_TEST_CRM_SECRET", SECRET)
    import_site_config(config(destinations=[CRM]))
    crm = by_key(Destination, "crm")
    assert (crm.secret, crm.previous_secret) == (other, SECRET)


def test_a_private_target_is_allowed_when_the_setting_says_so(app):
    app.config["ALLOW_PRIVATE_TARGETS"] = True

    import_site_config(config(destinations=[{**CRM, "url": "http://10.0.0.5:8080/hooks"}]))

    assert by_key(Destination, "crm").url == "http://10.0.0.5:8080/hooks"


def _resolving(names: dict[str, str]):
    """A stand-in for ``socket.getaddrinfo`` that knows ``names`` and nothing else."""

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]

    return getaddrinfo


def test_a_name_resolving_to_a_private_address_is_refused(app, monkeypatch):
    monkeypatch.setattr(
        socket, "getaddrinfo", _resolving({"hooks.internal.example": "169.254.169.254"})
    )
    url = "https://hooks.internal.example/in"

    with pytest.raises(Invalid) as refused:
        import_site_config(config(destinations=[{**CRM, "url": url}]))

    assert refused.value.fields == {"destinations[0].url": [PRIVATE_RULE]}
    assert db.session.scalar(select(func.count()).select_from(Destination)) == 0


def test_a_name_that_does_not_resolve_yet_is_accepted(app, monkeypatch):
    # Every send resolves again and refuses a private answer then.
    monkeypatch.setattr(socket, "getaddrinfo", _resolving({}))

    import_site_config(config(destinations=[{**CRM, "url": "https://crm.example/hooks"}]))

    assert by_key(Destination, "crm").url == "https://crm.example/hooks"


def test_a_destination_can_be_switched_off_in_the_file(app):
    import_site_config(config(destinations=[{**CRM, "enabled": False}]))
    assert by_key(Destination, "crm").enabled is False
    assert export_site_config("acme")["destinations"][0]["enabled"] is False

    import_site_config(config(destinations=[CRM]))  # left out: on
    assert by_key(Destination, "crm").enabled is True
    assert "enabled" not in export_site_config("acme")["destinations"][0]


# -- bad input: every problem listed, nothing changed ---------------------------------------

ORIGIN_RULE = (
    'must be an origin like "https://www.example.com": http or https, host, optional port, '
    "lower case, no path or trailing slash"
)
EVENTS_RULE = (
    "must be one of: contact.updated, contact.merged, contact.stage_changed, contact.deleted,"
    " contact.outcome_recorded, contact.sla_breached, contact.engaged, definition.changed"
)
PRIVATE_RULE = (
    "points to a private, loopback or link-local address "
    "(set TRICKLE_ALLOW_PRIVATE_TARGETS=true to allow it)"
)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change to a config: set the value at a dotted path (``fields.4.tier``)."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = copy.deepcopy(value)

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[int(last) if isinstance(node, list) else last]

    return change


def _add_field(**spec: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["fields"].append({"label": "Extra", "tier": "basics", **spec})


BAD_INPUT = [
    (
        "unknown tier",
        _set("fields.4.tier", "qualifcation"),
        {"fields[4].tier": ['unknown tier "qualifcation"']},
    ),
    (
        "duplicate field key",
        _add_field(key="first_name", kind="text"),
        {"fields[5].key": ['duplicate key "first_name", first used by fields[1]']},
    ),
    (
        "duplicate tier rank",
        _set("tiers.2.rank", 2),
        {"tiers[2].rank": ["rank 2 is already used by tiers[1]"]},
    ),
    ("unknown key", _set("tiers.0.colour", "red"), {"tiers[0].colour": ["unknown key"]}),
    ("unknown section", _set("widgets", []), {"widgets": ["unknown key"]}),
    ("missing section", _drop("forms"), {"forms": ["required"]}),
    (
        "origin with a trailing slash",
        _set("site.origins", ["https://www.acme.example/"]),
        {"site.origins[0]": [ORIGIN_RULE]},
    ),
    (
        "origin with another scheme",
        _set("site.origins", ["https://ok.example", "ftp://www.acme.example"]),
        {"site.origins[1]": [ORIGIN_RULE]},
    ),
    (
        "bad site key",
        _set("site.key", "Acme!"),
        {
            "site.key": [
                "must be lower-case letters, digits, _ and -, starting with a letter or digit "
                "(at most 64)"
            ]
        },
    ),
    (
        "select without options",
        _drop("fields.2.options"),
        {"fields[2].options": ["required for kind select"]},
    ),
    (
        "options on a text field",
        _set("fields.1.options", ["a", "b"]),
        {"fields[1].options": ["only for kinds select and multiselect"]},
    ),
    (
        "duplicate option",
        _set("fields.4.options", ["a", {"value": "a", "label": "A again"}]),
        {"fields[4].options[1]": ['duplicate option "a"']},
    ),
    (
        "max_length on a select",
        _set("fields.2.max_length", 10),
        {"fields[2].max_length": ["only for kinds text and textarea"]},
    ),
    (
        "two identity fields",
        _add_field(key="other_email", kind="email", identity=True),
        {"fields[5].identity": ["only one field can be the identity; fields[0] already is"]},
    ),
    (
        "identity field not an email",
        _set("fields.0.kind", "text"),
        {"fields[0].identity": ["the identity field must be of kind email"]},
    ),
    (
        "ask_if on an unknown field",
        _set("fields.4.ask_if.field", "decider"),
        {"fields[4].ask_if.field": ['unknown field "decider"']},
    ),
    (
        "ask_if on itself",
        _set("fields.4.ask_if", {"field": "budget", "known": True}),
        {"fields[4].ask_if.field": ["a field cannot depend on itself"]},
    ),
    (
        "ask_if cycle",
        _set("fields.3.ask_if", {"field": "budget", "known": False}),
        {
            "fields[3].ask_if.field": [
                "dependency cycle: decision_maker -> budget -> decision_maker"
            ]
        },
    ),
    (
        "ask_if with two conditions",
        _set("fields.4.ask_if.known", True),
        {"fields[4].ask_if": ["needs exactly one of: equals, in, known"]},
    ),
    (
        "wrong type",
        _set("fields.1.priority", "high"),
        {"fields[1].priority": ["must be a whole number"]},
    ),
    (
        "always_ask an unknown field",
        _set("forms.1.always_ask", ["x"]),
        {"forms[1].always_ask[0]": ['unknown field "x"']},
    ),
    (
        "pool tier listed twice",
        _set("forms.0.tiers", ["basics", "basics"]),
        {"forms[0].tiers[1]": ["listed twice"]},
    ),
    (
        "too many questions",
        _set("forms.0.max_questions", 11),
        {"forms[0].max_questions": ["must be between 1 and 10"]},
    ),
    (
        "stage rule on an unknown field",
        _set("stages.1.when.fields_known", ["company_size", "job_title"]),
        {"stages[1].when.fields_known[1]": ['unknown field "job_title"']},
    ),
    (
        "stage rule without a condition",
        _set("stages.0.when", {}),
        {
            "stages[0].when": [
                "needs at least one of: min_score, fields_known, field_equals, min_stage"
            ]
        },
    ),
    (
        "two hand-off stages",
        _set(
            "stages",
            [
                {"key": "lead", "when": {"min_score": 1}, "handoff": True},
                {"key": "mql", "when": {"min_score": 5}, "handoff": True},
            ],
        ),
        {"stages[1].handoff": ["only one stage can be the hand-off stage (stages[0] is)"]},
    ),
    (
        "hand-off flag not yes or no",
        _set("stages.0.handoff", "soon"),
        {"stages[0].handoff": ["must be true or false"]},
    ),
    (
        "negative engagement weight",
        _set("engagement", {"webinar": -1}),
        {"engagement.webinar": ["must be at least 0"]},
    ),
    (
        "bad destination event",
        _set("destinations", [{**CRM, "events": ["contact.created"]}]),
        {"destinations[0].events[0]": [EVENTS_RULE]},
    ),
    (
        "destination mapping of an unknown field",
        _set("destinations", [{**CRM, "mapping": {"size": "Employees"}}]),
        {"destinations[0].mapping.size": ['unknown field "size"']},
    ),
    (
        "private destination",
        _set("destinations", [{**CRM, "url": "http://10.0.0.5/hooks"}]),
        {"destinations[0].url": [PRIVATE_RULE]},
    ),
    (
        "loopback destination",
        _set("destinations", [{**CRM, "url": "http://[::1]:9000/hooks"}]),
        {"destinations[0].url": [PRIVATE_RULE]},
    ),
]


@pytest.fixture
def existing_site(app):
    """A site already in the database, and its state before a bad import."""
    import_site_config(config())
    return database_state()


@pytest.mark.parametrize(
    ("change", "problems"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_is_reported_by_path_and_changes_nothing(existing_site, change, problems):
    data = config()
    change(data)

    with pytest.raises(Invalid) as caught:
        import_site_config(data)

    assert caught.value.fields == problems
    assert caught.value.message == "The config has 1 error."
    assert database_state() == existing_site


RETENTION_KEYS = ("anonymous_retention_days", "delivery_retention_days")


@pytest.mark.parametrize("name", RETENTION_KEYS)
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (0, "must be between 1 and 36500"),
        (-1, "must be between 1 and 36500"),
        (36501, "must be between 1 and 36500"),
        ("ten", "must be a whole number"),
        ("30", "must be a whole number"),
        (1.5, "must be a whole number"),
        (True, "must be a whole number"),
    ],
)
def test_retention_days_are_whole_days_up_to_a_hundred_years(existing_site, name, value, problem):
    data = config()
    data["site"][name] = value

    with pytest.raises(Invalid) as caught:
        import_site_config(data)

    assert caught.value.fields == {f"site.{name}": [problem]}
    assert database_state() == existing_site


def test_retention_settings_are_imported_and_exported_only_when_set(app):
    data = config()
    data["site"].update(anonymous_retention_days=1, delivery_retention_days=36500)

    site = import_site_config(data)

    assert (site.anonymous_retention_days, site.delivery_retention_days) == (1, 36500)
    assert export_site_config("acme")["site"] == {
        **BASE["site"],
        "anonymous_retention_days": 1,
        "delivery_retention_days": 36500,
    }
    data["site"]["anonymous_retention_days"] = None  # null: keep
    del data["site"]["delivery_retention_days"]  # left out: keep

    site = import_site_config(data)

    assert (site.anonymous_retention_days, site.delivery_retention_days) == (None, None)
    assert export_site_config("acme")["site"] == BASE["site"]


def test_a_malformed_secret_in_the_environment_is_an_error(existing_site, monkeypatch):
    monkeypatch.setenv("TRICKLE_TEST_CRM_SECRET", "hunter2")

    with pytest.raises(Invalid) as caught:
        import_site_config(config(destinations=[CRM]))

    assert caught.value.fields == {
        "destinations[0].secret_env": [
            "TRICKLE_TEST_CRM_SECRET does not hold a signing secret: expected whsec_ followed "
            "by at least 16 base64 characters"
        ]
    }
    assert "hunter2" not in str(caught.value.fields)
    assert database_state() == existing_site


def test_every_problem_is_listed_at_once_in_document_order(existing_site):
    data = config(destinations=[{**CRM, "url": "http://127.0.0.1/hooks"}])
    data["forms"][1]["always_ask"] = ["x"]
    data["fields"][4]["tier"] = "qualifcation"
    data["fields"][1]["colour"] = "red"
    data["site"]["origins"] = ["https://www.acme.example/"]
    data["tiers"][0]["min_score"] = -1

    with pytest.raises(Invalid) as caught:
        import_site_config(data)

    assert caught.value.message == "The config has 6 errors."
    assert list(caught.value.fields.items()) == [
        ("site.origins[0]", [ORIGIN_RULE]),
        ("tiers[0].min_score", ["must be at least 0"]),
        ("fields[1].colour", ["unknown key"]),
        ("fields[4].tier", ['unknown tier "qualifcation"']),
        ("forms[1].always_ask[0]", ['unknown field "x"']),
        ("destinations[0].url", [PRIVATE_RULE]),
    ]
    assert database_state() == existing_site


def test_a_config_that_is_not_a_mapping_is_an_error(existing_site):
    with pytest.raises(Invalid) as caught:
        import_site_config(["site"])  # type: ignore[arg-type]

    assert caught.value.fields == {"<config>": ["must be a mapping"]}
    assert database_state() == existing_site


# -- reading files ----------------------------------------------------------------------------


def test_read_config_file_reads_yaml_and_json(tmp_path):
    (tmp_path / "site.yaml").write_text("site: {key: acme}\ntiers: []\n", encoding="utf-8")
    (tmp_path / "site.json").write_text('{"site": {"key": "acme"}}', encoding="utf-8")

    assert read_config_file(str(tmp_path / "site.yaml")) == {"site": {"key": "acme"}, "tiers": []}
    assert read_config_file(str(tmp_path / "site.json")) == {"site": {"key": "acme"}}


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        (
            "bad.yaml",
            "site:\n  key: acme\n   name: x\n",
            "line 3, column 8: mapping values are not allowed here",
        ),
        (
            "bad.json",
            '{"site": {"key": "acme",}}',
            "line 1, column 25: Expecting property name enclosed in double quotes",
        ),
        ("twice.yaml", "site:\n  key: a\n  key: b\n", 'line 3, column 3: duplicate key "key"'),
        ("twice.json", '{"site": 1, "site": 2}', 'duplicate key "site"'),
        (
            "list.yaml",
            "- site\n",
            "the top level must be a mapping (site:, tiers:, fields:, forms:, ...)",
        ),
        ("empty.yaml", "", "the top level must be a mapping (site:, tiers:, fields:, forms:, ...)"),
    ],
)
def test_an_unreadable_file_is_reported_with_its_position(tmp_path, name, text, problem):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")

    with pytest.raises(Invalid) as caught:
        read_config_file(str(path))

    assert caught.value.message == "Config file could not be read."
    assert caught.value.fields == {"<file>": [problem]}


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(Invalid) as caught:
        read_config_file(str(tmp_path / "nope.yaml"))

    assert caught.value.fields == {"<file>": ["No such file or directory"]}


def test_a_yaml_export_reads_back_as_the_same_mapping(app):
    import_site_config(config())
    exported = export_site_config("acme")

    assert yaml.safe_load(dump_config(exported, "yaml")) == exported
    assert json.loads(dump_config(exported, "json")) == exported
