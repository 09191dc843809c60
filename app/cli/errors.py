"""How every command reports a refusal: ``error: …`` on stderr, then exit status 1 (2 for
options that cannot go together, as click itself exits on a usage error)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

import click

from app.services.errors import ServiceError


def fail(*reasons: str, details: Sequence[str] = (), code: int = 1) -> NoReturn:
    """Print ``error: <reason>`` for each reason, then ``details`` as they are, on stderr, and
    exit with ``code``."""
    click.echo("\n".join([*(f"error: {reason}" for reason in reasons), *details]), err=True)
    sys.exit(code)


@contextmanager
def exit_on_refusal(*, problems_listed: bool = False, footer: str | None = None) -> Iterator[None]:
    """Run the block; a ServiceError it raises ends the command through ``fail``.

    By default one ``error: <field>: <reasons>`` line per field the error names, or
    ``error: <message>`` when it names none. With ``problems_listed`` (a config's problems):
    ``error: <message>`` with each problem under it as ``  <where>: <problem>``. ``footer``,
    when given, is the last line either way.
    """
    try:
        yield
    except ServiceError as exc:
        fields = exc.fields or {}
        after = [footer] if footer else []
        if problems_listed:
            problems = [f"  {where}: {each}" for where, found in fields.items() for each in found]
            fail(exc.message, details=[*problems, *after])
        reasons = [f"{where}: {' '.join(found)}" for where, found in fields.items()]
        fail(*(reasons or [exc.message]), details=after)
