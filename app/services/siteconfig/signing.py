"""Destinations' signing secrets: read from the environment, generated, rotated with an overlap."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from app.config import secret_from_environment
from app.domain.webhooks import secret_key
from app.models import Destination
from app.services.errors import Invalid
from app.services.siteconfig.rules import Problems, entries
from app.services.siteconfig.schema import ENV_NAME_PATTERN

SECRET_PATTERN = re.compile(r"whsec_[A-Za-z0-9+/=]{16,}")
_SECRET_MAX = 200
SECRET_OVERLAP = timedelta(hours=24)  # the width of Destination.secret


def secrets_from_environment(data: Mapping[str, Any], problems: Problems) -> dict[int, str]:
    """Secrets named by ``secret_env`` and set, by destination index; a malformed one is a problem."""
    found: dict[int, str] = {}
    for i, destination in entries(data, "destinations"):
        name = destination.get("secret_env")
        if not isinstance(name, str) or not ENV_NAME_PATTERN.fullmatch(name):
            continue
        secret = secret_from_environment(name)
        if secret is None:
            continue
        if SECRET_PATTERN.fullmatch(secret) and len(secret) <= _SECRET_MAX and _signs(secret):
            found[i] = secret
        else:
            problems.setdefault(f"destinations[{i}].secret_env", []).append(
                f"{name} does not hold a signing secret: expected whsec_ followed by at least "
                "16 base64 characters"
            )
    return found


def _signs(secret: str) -> bool:
    """Whether ``secret`` can sign: its base64 part decodes (padding and all)."""
    try:
        secret_key(secret)
    except ValueError:
        return False
    return True


def rotate_secret(destination: Destination, now: datetime, new: str | None = None) -> str:
    """Give ``destination`` a new signing secret (``new`` or a generated one); the old one
    stays valid beside it for ``SECRET_OVERLAP``. Returns the new secret."""
    destination.previous_secret = destination.secret
    destination.previous_secret_until = now + SECRET_OVERLAP
    destination.secret = new or generate_signing_secret()
    return destination.secret


def rotate_generated_secret(destination: Destination, now: datetime) -> datetime:
    """The console's rotation: a generated secret replaces the current one, which signs too
    until the returned time. Invalid when the secret comes from the environment (the next
    import would put it back) or while a rotation is still under way (its previous secret
    would stop signing early)."""
    if destination.secret_env:
        raise Invalid(
            "The signing secret comes from the environment variable "
            f"{destination.secret_env}: put a new whsec_ secret there and save the config "
            "(the old one keeps signing for 24 hours)."
        )
    until = destination.previous_secret_until
    if until is not None and until > now:
        raise Invalid(
            f"A rotation is under way: the previous secret signs until {until:%Y-%m-%d %H:%M UTC}."
            " Rotate again after that, so that no secret a receiver may still use stops signing "
            "early."
        )
    rotate_secret(destination, now)
    return now + SECRET_OVERLAP


def generate_signing_secret() -> str:
    """A new Standard Webhooks signing secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")
