"""What the form of every config entry shares: its key, and the funnel-stage choice."""

from __future__ import annotations

from typing import Any

from wtforms import Field, SelectChoice
from wtforms.validators import ValidationError

from app.domain.specs import STAGES
from app.services.siteconfig import KEY_PATTERN

KEY_HELP = "Lower-case letters, digits and _, starting with a letter. Cannot be changed later."
STAGE_CHOICES = [SelectChoice("", "any"), *(SelectChoice(s) for s in STAGES)]


def entry_key(form: Any, field: Field) -> None:
    if field.data and not KEY_PATTERN.fullmatch(field.data):
        raise ValidationError(
            "Use lower-case letters, digits and _, starting with a letter (at most 64)."
        )
    if field.data == "new":  # /tiers/new is the page that creates one
        raise ValidationError('"new" is reserved: choose another key.')
