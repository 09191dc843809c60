"""Schemathesis fuzzes every operation of ``/api/v1/openapi.json`` against the app in-process
(WSGI), once per database engine, with all of its checks: no 5xx; every status, content type,
header and body as the document describes them; invalid input refused; valid input accepted.

This is the ``schemathesis run`` engine (examples, coverage, fuzzing and stateful phases), run
from a test (``schemathesis.pytest.from_fixture`` does not work with pytest 9.2, which dropped
the ``Node._nodeid`` it sets; and the engine runs every phase). Path parameters are mostly real
(the site, its form, a live preview token, existing contacts) so requests get past the 404s
into the code behind them; the token API is called with a real admin token (and, by the
``ignored_auth`` check, without one). Seeded and bounded, so a run is deterministic and quick (the bulk upsert, whose cases import
up to a thousand people each, gets a fifth of the cases).
To dig deeper locally, with more cases and another seed:
``FUZZ_EXAMPLES=300 FUZZ_SEED=7 .venv/bin/pytest tests/api/test_fuzz.py``.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

import pytest
import schemathesis
import schemathesis.engine
from hypothesis import strategies as st
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.config._checks import NegativeDataRejectionConfig
from schemathesis.engine import events
from schemathesis.transport.wsgi import WSGITransport
from sqlalchemy import select

from app.extensions import db
from app.models import Contact
from app.services.accounts import create_token
from app.services.asking import PreviewVisitor, preview_token
from tests.factories import Widget, acme_config, consent_config, make_site

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))  # generated cases per operation
SEED = int(os.environ.get("FUZZ_SEED", "20260302"))
STAGES = [{"key": "lead", "when": {"fields_known": ["email"]}}]
DESTINATION = {"key": "crm", "url": "https://crm.example/hooks", "events": ["contact.updated"]}
COUNTED_KINDS = ("page_view", "content_download", "webinar", "form_submit", "video_play")
PREVIEW = "/preview/{token}/api/v1"

pytestmark = [
    # Hypothesis warns when it builds the repr of a large generated example (a 64 KB body):
    # noise about its own reporting, not about the app.
    pytest.mark.filterwarnings(
        "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
    ),
]


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {"RATELIMIT_ENABLED": False}


@pytest.fixture
def world(app, client, clock) -> dict[str, Any]:
    """Two sites; on the first, people (with consents, a stage, webhook deliveries) to read and
    others to erase, an admin token, a visitor holding a fresh ask, and a live preview with
    its ask."""
    make_site({**consent_config(), "stages": STAGES, "destinations": [DESTINATION]})
    other = acme_config()
    other["site"] = {**other["site"], "key": "other", "name": "Other"}
    make_site(other)
    for n in range(6):
        widget = Widget(client)
        widget.ask()
        widget.event("content_download", content="guide.pdf", id=f"dl-{n}")
        answers = {"email": f"p{n}@acme-corp.example", "newsletter": True}
        assert widget.submit(answers).status_code == 200
    people = list(db.session.scalars(select(Contact.id).order_by(Contact.id)))
    asking = Widget(client)
    offered = asking.ask()
    token = preview_token(PreviewVisitor("acme", "blog"), clock())
    preview = client.post(
        f"/api/v1{PREVIEW.format(token=token)}/sites/acme/forms/blog/ask", json={}
    )
    assert preview.status_code == 200
    world = {
        "site": "acme",
        "form": "blog",
        "token": token,
        "kept": people[:3],  # read, and consents withdrawn
        "erased": people[3:],  # DELETE's
        "admin": create_token("acme", "admin", "fuzz", now=clock())[1],
        "visitor": asking.visitor,
        "ask_token": asking.ask_token,
        "offered": offered,
        "preview_ask_token": preview.get_json()["ask_token"],
        "preview_offered": [q["key"] for q in preview.get_json()["questions"]],
    }
    db.session.commit()  # the engine calls the app from a thread of its own: hold no transaction
    return world


@pytest.fixture
def wsgi_probes(monkeypatch):
    """schemathesis 4.32's ``ignored_auth`` probe hands the WSGI transport the settings of a
    network session (``max_redirects``, ``verify``, ``cert``, ``proxies``), which werkzeug's
    test client refuses with a TypeError; drop them, as the transport does for its own calls."""
    send = WSGITransport.send

    def send_without_network_settings(self, case, *, session=None, **kwargs):
        if session is None:
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send_without_network_settings)


def _accepting_422(method: str, path: str) -> dict[str, Any]:
    return {
        "include-method": method,
        "include-path": path,
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": [*PositiveDataAcceptanceConfig().expected_statuses, "422"]
            }
        },
    }


def _refusing_with_413(method: str, path: str) -> dict[str, Any]:
    """A body whose documented bounds exceed the 64 KB limit (a thousand addresses) may be
    refused for its size (413, documented) before its shape is read."""
    return {
        "include-method": method,
        "include-path": path,
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [*NegativeDataRejectionConfig().expected_statuses, "413"]
            }
        },
    }


def fuzz_config(world: dict[str, Any]) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "workers": 1,
            # Nothing carried over from earlier runs (schemathesis' cache of what the API taught
            # it, Hypothesis' example database), so every run sends the same requests.
            "cache": {"enabled": False},
            "generation": {
                "database": "none",
                "max-examples": EXAMPLES,
                "deterministic": True,
                # The API refuses NUL in every string it stores with 422 (docs/api.md, "Text the
                # API refuses"; tests/api/test_hostile_input.py), which JSON Schema has no word
                # for: schema-valid strings are generated without it. (Lone surrogates, refused
                # too, are never generated: strings are generated as UTF-8.)
                "allow-x00": False,
            },
            "auth": {"openapi": {"bearer": {"bearer": world["admin"]}}},
            # A schema-valid request may still be refused with 422 where validity depends on
            # what the document cannot know: whether an ask_token is one Trickle signed and the
            # answers fit the fields' rules (submit), and whether export filters name the
            # site's stages, tiers and forms and parse as times, and whether the CRM's
            # upserts name a valid email and the site's fields with values they accept.
            # Everything else must be accepted as the document promises.
            "operations": [
                _accepting_422("PUT", "/sites/{site}/contacts/by-email/{email}"),
                {  # up to 1000 people: a schema-valid body may pass 1 MB too. Each case
                    # imports up to a thousand people, so fewer cases than elsewhere.
                    **(bulk := _accepting_422("POST", "/sites/{site}/contacts/bulk")),
                    "checks": {**bulk["checks"], **_refusing_with_413("POST", "")["checks"]},
                    "generation": {"max-examples": max(1, EXAMPLES // 5)},
                },
                _accepting_422("POST", "/sites/{site}/forms/{form}/submit"),
                _accepting_422("POST", PREVIEW + "/sites/{site}/forms/{form}/submit"),
                _accepting_422("GET", "/sites/{site}/contacts/export"),
                _accepting_422("GET", "/sites/{site}/submissions/export"),
                _refusing_with_413("POST", "/sites/{site}/links"),
            ],
        }
    )


def fuzz_schema(app, world: dict[str, Any]):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=fuzz_config(world))

    @schema.hook
    def flatmap_path_parameters(ctx, path_parameters):
        """Three times in four the real value of each path parameter, else the generated one."""
        people = world["erased" if ctx.operation.method.upper() == "DELETE" else "kept"]
        real = {
            "site": st.just(world["site"]),
            "form": st.just(world["form"]),
            "token": st.just(world["token"]),
            "contact_id": st.sampled_from(people),
        }
        return st.fixed_dictionaries(
            {
                name: st.one_of(real[name], real[name], real[name], st.just(value))
                if name in real
                else st.just(value)
                for name, value in (path_parameters or {}).items()
            }
        )

    @schema.hook
    def map_case(ctx, case):
        """Schema-valid bodies get what only the site can make valid (a kind it counts, a
        consent field it has, a genuine ask), so they reach the code behind the check."""
        if case.meta is None or not case.meta.generation.mode.is_positive:
            return case
        if not isinstance(case.body, dict):
            return case
        body, path = case.body, case.operation.path
        if path.endswith("/events") and isinstance(body.get("kind"), str):
            body["kind"] = COUNTED_KINDS[len(body["kind"]) % len(COUNTED_KINDS)]
        elif path.endswith("/consents/withdraw") and isinstance(body.get("fields"), list):
            body["fields"] = ["newsletter"]
        elif path.endswith("/submit") and isinstance(body.get("answers"), dict):
            preview = path.startswith(PREVIEW)
            offered = world["preview_offered" if preview else "offered"]
            body["ask_token"] = world["preview_ask_token" if preview else "ask_token"]
            if not preview:
                body["visitor"] = world["visitor"]
            values = list(body["answers"].values())
            body["answers"] = dict(zip(offered, values, strict=False))
        return case

    return schema


def run(schema) -> tuple[list[str], dict[str, int]]:
    """Every phase over every operation: the problems found, and the calls made per operation
    (by its label, ``METHOD /path``)."""
    problems: list[str] = []
    calls: dict[str, int] = {}
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            calls[recorder.label] = calls.get(recorder.label, 0) + len(recorder.interactions)
            for checks in recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        problems.append(
                            f"{recorder.label}: {check.name}: {failure.title}\n{failure.message}"
                            f"\n{check.failure_info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError):
            trace = "".join(traceback.format_exception(event.value))
            problems.append(f"{event.label}: {event.info.title}: {event.info.message}\n{trace}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return problems, calls


def test_the_api_survives_fuzzing(app, world, wsgi_probes):
    problems, calls = run(fuzz_schema(app, world))
    assert not problems, "\n\n".join(dict.fromkeys(problems))
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    operations = {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}
    assert operations <= {label for label, count in calls.items() if count}
