"""How a command reports a refusal: `error: …` on stderr and exit status 1."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from app.services.errors import ServiceError


def refused(exc: ServiceError) -> NoReturn:
    """Report a service's refusal on stderr, one line per reason, and exit 1."""
    fields = exc.fields or {}
    lines = [f"error: {where}: {' '.join(found)}" for where, found in fields.items()]
    click.echo("\n".join(lines or [f"error: {exc.message}"]), err=True)
    sys.exit(1)
