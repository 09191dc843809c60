"""A webhook destination (an entry of the config's ``destinations``) and its field mapping."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length

from app.admin.config_forms.entries import KEY_HELP, entry_key
from app.admin.forms import CheckboxesField, blank_none, text_lines
from app.services.siteconfig import EVENTS, FORMATS

_FORMAT_LABELS = {
    "trickle": "Trickle envelope (type, id, timestamp, data)",
    "segment": "Segment identify call (userId and traits)",
}


class DestinationForm(FlaskForm):
    """A webhook destination (DESIGN §6). Its signing secret is never part of the config: it is
    generated when the destination is created (or read from ``secret_env``) and shown on the
    destination's page."""

    key = StringField(
        "Key", description=KEY_HELP, validators=[DataRequired(), Length(max=64), entry_key]
    )
    url = URLField(
        "URL",
        description="Events are POSTed here, signed the Standard Webhooks way. Redirects are "
        "not followed.",
        filters=[blank_none],
        validators=[DataRequired(), Length(max=2000)],
    )
    events = CheckboxesField(
        "Events",
        choices=[SelectChoice(event) for event in EVENTS],
        description="Only these are sent to this destination.",
    )
    format = SelectField(
        "Format",
        choices=[SelectChoice(f, _FORMAT_LABELS.get(f, f)) for f in FORMATS],
        default="trickle",
    )
    mapping = TextAreaField(
        "Field mapping",
        description='One per line: "our_key | their_key" renames a field for the receiver; '
        "fields not listed keep their key.",
        render_kw={"rows": 4},
    )
    enabled = BooleanField("Enabled (send events to this destination)", default=True)
    secret_env = StringField(
        "Signing secret from environment variable",
        filters=[blank_none],
        description="Optional. The name of a variable (like CRM_WEBHOOK_SECRET) holding "
        "whsec_…; leave empty and Trickle generates the secret.",
        validators=[Length(max=200)],
    )

    def load(self, destination: dict[str, Any]) -> None:
        self.key.data = destination["key"]
        self.url.data = destination["url"]
        self.events.data = list(destination.get("events", []))
        self.format.data = destination.get("format", "trickle")
        self.mapping.data = "\n".join(
            f"{ours} | {theirs}" for ours, theirs in (destination.get("mapping") or {}).items()
        )
        self.enabled.data = destination.get("enabled", True)
        self.secret_env.data = destination.get("secret_env")

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not self.events.data:
            self.events.errors.append("Pick at least one event.")
            valid = False
        problems = mapping_problems(self.mapping.data)
        if problems:
            self.mapping.errors.extend(problems)
            valid = False
        return valid

    def entry(self, previous: list[str] | None = None) -> dict[str, Any]:
        """The config entry. ``events`` keeps its ``previous`` order; newly ticked ones follow
        in the usual order (so saving an unchanged destination changes nothing)."""
        picked = set(self.events.data or ())
        kept = [event for event in previous or [] if event in picked]
        destination: dict[str, Any] = {
            "key": self.key.data,
            "url": self.url.data,
            "events": kept + [e for e in EVENTS if e in picked and e not in kept],
        }
        if self.format.data != "trickle":
            destination["format"] = self.format.data
        mapping = parse_mapping(self.mapping.data)
        if mapping:
            destination["mapping"] = mapping
        if not self.enabled.data:
            destination["enabled"] = False
        if self.secret_env.data:
            destination["secret_env"] = self.secret_env.data
        return destination


def parse_mapping(text: str | None) -> dict[str, str]:
    """``our_key | their_key`` lines as a mapping, in their order (see ``mapping_problems``)."""
    mapping = {}
    for line in text_lines(text):
        ours, _, theirs = line.partition("|")
        mapping[ours.strip()] = theirs.strip()
    return mapping


def mapping_problems(text: str | None) -> list[str]:
    """What is wrong with the lines of a mapping, as messages naming the line."""
    problems, seen = [], set()
    for number, line in enumerate(text_lines(text), start=1):
        ours, bar, theirs = line.partition("|")
        ours, theirs = ours.strip(), theirs.strip()
        if not bar or not ours or not theirs:
            problems.append(f'Line {number}: write "our_key | their_key".')
        elif ours in seen:
            problems.append(f'Line {number}: "{ours}" is mapped twice.')
        seen.add(ours)
    return problems
