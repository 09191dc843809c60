"""A tier of questions and its unlock rule (an entry of the config's ``tiers``)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.admin.config_forms.entries import KEY_HELP, STAGE_CHOICES, entry_key
from app.admin.forms import as_number, blank_none, number_parsed
from app.domain.specs import MAX_NUMBER


class TierForm(FlaskForm):
    key = StringField(
        "Key", description=KEY_HELP, validators=[DataRequired(), Length(max=64), entry_key]
    )
    label = StringField("Label", filters=[blank_none], validators=[Length(max=200)])
    rank = IntegerField(
        "Rank",
        description="Tiers are asked in rank order: lower first.",
        validators=[InputRequired(), number_parsed, NumberRange(min=-1_000_000, max=1_000_000)],
    )
    min_score = DecimalField(
        "Minimum engagement score",
        places=None,
        default=0,
        validators=[InputRequired(), number_parsed, NumberRange(min=0, max=MAX_NUMBER)],
    )
    min_stage = SelectField(
        "Minimum stage reached",
        choices=STAGE_CHOICES,
        default="",
        description="Only contacts who reached this funnel stage are asked this tier.",
    )

    def load(self, tier: dict[str, Any]) -> None:
        self.key.data = tier["key"]
        self.label.data = tier.get("label")
        self.rank.data = tier["rank"]
        self.min_score.data = tier.get("min_score", 0)
        self.min_stage.data = tier.get("min_stage") or ""

    def entry(self) -> dict[str, Any]:
        tier: dict[str, Any] = {"key": self.key.data, "rank": self.rank.data}
        if as_number(self.min_score.data):
            tier["min_score"] = as_number(self.min_score.data)
        if self.min_stage.data:
            tier["min_stage"] = self.min_stage.data
        if self.label.data:
            tier["label"] = self.label.data
        return tier
