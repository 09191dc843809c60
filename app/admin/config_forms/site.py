"""The site's own settings (the config's ``site``), and a new site."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.admin.config_forms.language import (
    language_field,
    load_strings,
    strings_entry,
    strings_field,
)
from app.admin.forms import as_number, number_parsed, text_lines
from app.services.siteconfig import MAX_RETENTION_DAYS


class SiteForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    origins = TextAreaField(
        "Allowed origins",
        description="One per line, like https://www.example.com. The widget and the API answer "
        "only pages on these origins.",
        render_kw={"rows": 3},
    )
    skip_cooldown = IntegerField(
        "Skip cooldown",
        description="Engagement events after a skip before the question may come back.",
        validators=[InputRequired(), number_parsed, NumberRange(min=0, max=10_000)],
    )
    half_life_days = DecimalField(
        "Engagement half-life (days)",
        places=None,
        description="Leave empty to never decay the score.",
        validators=[Optional(), number_parsed, NumberRange(min=0.01, max=36_500)],
    )
    followup_hours = IntegerField(
        "Follow-up window (hours)",
        description="How long sales has to follow up a qualified lead.",
        validators=[InputRequired(), number_parsed, NumberRange(min=0, max=100_000)],
    )
    anonymous_retention_days = IntegerField(
        "Delete idle anonymous contacts after (days)",
        description="Anonymous contacts that never submitted anything and have not been seen "
        "for this many days are deleted. Leave empty to keep them.",
        validators=[Optional(), number_parsed, NumberRange(min=1, max=MAX_RETENTION_DAYS)],
    )
    delivery_retention_days = IntegerField(
        "Keep the webhook delivery log (days)",
        description="Delivered and dead-lettered webhooks older than this are deleted (pending "
        "ones never are). Leave empty to keep them.",
        validators=[Optional(), number_parsed, NumberRange(min=1, max=MAX_RETENTION_DAYS)],
    )

    language = language_field(
        "Language",
        "What the widget says on its own (Submit, Skip, its messages) and the messages of a "
        "submit, on every form that sets no language of its own. Arabic and Hebrew forms run "
        "right to left. Labels and titles stay as you write them.",
    )
    strings = strings_field(
        "Your own words for built-in strings, on the forms that speak the site's language. "
        "Leave a string empty for the built-in text of the language, shown greyed; {label}, "
        "{min}, {max}, {field}, {value} and {values} are filled in where a string takes them."
    )

    def load(self, site: dict[str, Any]) -> None:
        self.name.data = site["name"]
        self.language.data = site.get("language", "en")
        load_strings(self.strings, site.get("strings") or {})
        self.origins.data = "\n".join(site.get("origins", []))
        self.skip_cooldown.data = site.get("skip_cooldown", 3)
        self.half_life_days.data = site.get("half_life_days")
        self.followup_hours.data = site.get("followup_hours", 48)
        self.anonymous_retention_days.data = site.get("anonymous_retention_days")
        self.delivery_retention_days.data = site.get("delivery_retention_days")

    def entry(self, key: str) -> dict[str, Any]:
        site: dict[str, Any] = {
            "key": key,
            "name": self.name.data.strip(),
            "origins": text_lines(self.origins.data),
            "skip_cooldown": self.skip_cooldown.data,
            "followup_hours": self.followup_hours.data,
            "language": self.language.data,
        }
        if strings_entry(self.strings):
            site["strings"] = strings_entry(self.strings)
        if self.half_life_days.data is not None:
            site["half_life_days"] = as_number(self.half_life_days.data)
        for name in ("anonymous_retention_days", "delivery_retention_days"):
            if getattr(self, name).data is not None:
                site[name] = getattr(self, name).data
        return site


class NewSiteForm(FlaskForm):
    key = StringField(
        "Key",
        description="Used in the embed snippet and the API. Lower-case letters, digits, _ and -.",
        validators=[DataRequired(), Length(max=64)],
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    origins = TextAreaField(
        "Allowed origins",
        description="One per line, like https://www.example.com. You can add them later.",
        render_kw={"rows": 3},
    )

    def origin_list(self) -> list[str]:
        return text_lines(self.origins.data)
