"""The weights and stages of engagement events (the config's ``engagement``); posted with
the site's settings."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DecimalField, FieldList, FormField, SelectField, StringField
from wtforms import Form as PlainForm
from wtforms.validators import NumberRange, Optional

from app.admin.config_forms.entries import STAGE_CHOICES, entry_key
from app.admin.forms import as_number, blank_none, number_parsed
from app.services.siteconfig import changed_engagement


class WeightForm(PlainForm):
    """One engagement kind: its weight and, optionally, the stage it always counts at."""

    kind = StringField("Event kind", filters=[blank_none], validators=[Optional(), entry_key])
    weight = DecimalField(
        "Weight", places=None, validators=[Optional(), number_parsed, NumberRange(min=0, max=1000)]
    )
    stage = SelectField("Counts at stage", choices=STAGE_CHOICES, default="")


class EngagementForm(FlaskForm):
    """Posted with the SiteForm, whose CSRF token covers both."""

    class Meta:
        csrf = False

    weights = FieldList(FormField(WeightForm), min_entries=1)

    def load(self, weights: dict[str, dict[str, Any]]) -> None:
        """``weights``: every kind the site counts, ``{kind: {weight, stage}}``; plus a blank row."""
        while self.weights.entries:
            self.weights.pop_entry()
        for kind, spec in weights.items():
            self.weights.append_entry({"kind": kind, **spec, "stage": spec.get("stage") or ""})
        self.weights.append_entry({})

    def engagement(self, defaults: dict[str, float]) -> dict[str, Any]:
        """The config's ``engagement``: kinds whose weight or stage differ from the default."""
        rows = {
            row.form.kind.data: {
                "weight": as_number(row.form.weight.data),
                "stage": row.form.stage.data or None,
            }
            for row in self.weights.entries
            if row.form.kind.data and row.form.weight.data is not None
        }
        return changed_engagement(rows, defaults)

    def kinds_twice(self) -> list[str]:
        kinds = [row.form.kind.data for row in self.weights.entries if row.form.kind.data]
        return sorted({kind for kind in kinds if kinds.count(kind) > 1})
