"""Builders shared by the tests: site configs and a scripted widget talking HTTP to the API."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from flask.testing import FlaskClient

from app.models import Site
from app.services.siteconfig import import_site_config

ORIGIN = "https://www.acme.example"
PASSWORD = "correct horse battery"  # every console user made by a test

# Approvals of definition changes off (the product's default is on): most tests change stages
# freely; tests/siteconfig/test_approvals.py turns them on.
ACME_CONFIG: dict[str, Any] = {
    "site": {
        "key": "acme",
        "name": "Acme Analytics",
        "origins": [ORIGIN],
        "skip_cooldown": 3,
        "definition_approval": False,
    },
    "engagement": {"page_view": 1, "content_download": 3, "webinar": 5, "form_submit": 2},
    "tiers": [
        {"key": "basics", "rank": 1, "min_score": 0},
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
        {"key": "company", "label": "Company", "kind": "text", "tier": "basics", "priority": 20},
        {"key": "zip", "label": "ZIP code", "kind": "text", "tier": "basics", "priority": 30},
        {
            "key": "company_size",
            "label": "Company size",
            "kind": "select",
            "tier": "firmographics",
            "scope": "account",
            "priority": 10,
            "options": ["1-10", "11-50", "51-200", {"value": "200+", "label": "More than 200"}],
        },
        {
            "key": "industry",
            "label": "Industry",
            "kind": "select",
            "tier": "firmographics",
            "scope": "account",
            "priority": 20,
            "options": ["Software", "Retail", "Finance"],
        },
        {
            "key": "job_title",
            "label": "Job title",
            "kind": "text",
            "tier": "firmographics",
            "priority": 30,
            "refresh_after_days": 365,
        },
        {
            "key": "employees",
            "label": "Employees",
            "kind": "number",
            "tier": "firmographics",
            "priority": 40,
        },
        {
            "key": "decision_maker",
            "label": "Do you sign off on purchases?",
            "kind": "boolean",
            "tier": "qualification",
            "priority": 10,
        },
        {
            "key": "budget",
            "label": "Budget this year",
            "kind": "select",
            "tier": "qualification",
            "priority": 20,
            "options": ["< 10k", "10k-100k", "> 100k"],
            "ask_if": {"field": "decision_maker", "equals": True},
        },
        {
            "key": "timeline",
            "label": "When do you plan to buy?",
            "kind": "select",
            "tier": "qualification",
            "priority": 30,
            "options": ["Now", "This quarter", "Later"],
        },
    ],
    "forms": [
        {
            "key": "blog",
            "title": "Stay in the loop",
            "stage": "early",
            "max_questions": 3,
            "submit_label": "Subscribe",
            "thank_you": "Thanks!",
        },
    ],
}


def acme_config(**overrides: Any) -> dict[str, Any]:
    config = copy.deepcopy(ACME_CONFIG)
    config.update(overrides)
    return config


def make_site(config: dict[str, Any] | None = None) -> Site:
    return import_site_config(config or acme_config())


CONSENT_LABEL = "Email me product news"
CONSENT_HELP = "You can withdraw this at any time."
CONSENT_TEXT = f"{CONSENT_LABEL}\n\n{CONSENT_HELP}"
CONSENT_VERSION = hashlib.sha256(CONSENT_TEXT.encode()).hexdigest()[:12]
NEWSLETTER = {
    "key": "newsletter",
    "label": CONSENT_LABEL,
    "help": CONSENT_HELP,
    "kind": "consent",
    "tier": "basics",
    "priority": 5,
}


def consent_config(newsletter: dict | None = None) -> dict:
    """The Acme config with a newsletter consent field third (after email and first name)."""
    fields = [*ACME_CONFIG["fields"][:2], newsletter or NEWSLETTER, *ACME_CONFIG["fields"][2:]]
    return acme_config(fields=fields)


class Widget:
    """One browser running the widget: keeps its visitor token and every response it saw."""

    def __init__(self, client: FlaskClient, site: str = "acme", form: str = "blog") -> None:
        self.client, self.site, self.form = client, site, form
        self.visitor: str | None = None
        self.ask_token: str | None = None
        self.bodies: list[str] = []

    def post(self, path: str, body: Any, **kwargs: Any):
        response = self.client.post(f"/api/v1/sites/{self.site}{path}", json=body, **kwargs)
        self.bodies.append(response.get_data(as_text=True))
        return response

    def ask(self, stage: str | None = None) -> list[str]:
        """Ask; return the offered keys in order."""
        body: dict[str, Any] = {"page": {"url": "https://www.acme.example/blog/1"}}
        if stage:
            body["page"]["stage"] = stage
        if self.visitor:
            body["visitor"] = self.visitor
        response = self.post(f"/forms/{self.form}/ask", body)
        assert response.status_code == 200, response.get_json()
        data = response.get_json()
        self.visitor, self.ask_token = data["visitor"], data["ask_token"]
        return [q["key"] for q in data["questions"]]

    def submit(self, answers: dict[str, Any], skipped: list[str] | None = None, **extra: Any):
        body = {"visitor": self.visitor, "ask_token": self.ask_token, "answers": answers}
        if skipped is not None:
            body["skipped"] = skipped
        body.update(extra)
        return self.post(f"/forms/{self.form}/submit", body)

    def identify(self, **proof: Any) -> bool:
        """Prove who this browser is (``email`` and ``hash``, or ``link``); whether it verified."""
        response = self.post("/identify", {"visitor": self.visitor, **proof})
        assert response.status_code == 200, response.get_json()
        self.visitor = response.get_json()["visitor"]
        return response.get_json()["verified"]

    def event(self, kind: str = "page_view", stage: str | None = "early", **extra: Any):
        body: dict[str, Any] = {"kind": kind, **extra}
        if stage:
            body["stage"] = stage
        if self.visitor:
            body["visitor"] = self.visitor
        response = self.post("/events", body)
        assert response.status_code == 202, response.get_json()
        self.visitor = response.get_json()["visitor"]
        return response


def verified(widget: Widget, email: str) -> Widget:
    """``widget`` proves it is ``email`` with an identity hash (the site gets a secret for it),
    so its company answers are trusted at once (a claimed browser's are only candidates)."""
    from app.clock import current_time
    from app.domain.identity import identity_hash
    from app.services.people import new_identity_secret

    secret = new_identity_secret(widget.site, None, current_time())
    assert widget.identify(email=email, hash=identity_hash(secret, email))
    return widget
