"""API tokens for the token API (DESIGN §4): create, list, revoke, authenticate.

A token is ``trk_`` and 43 URL-safe characters. It is shown once, when created; only its SHA-256
is stored (a token is random, so a fast hash is enough: nothing to guess), with its first
characters so people can tell their tokens apart. A token belongs to one site and one role.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from app.domain.specs import is_storable_text
from app.extensions import db
from app.models import TOKEN_ROLES, ApiToken, Site, User, role_allows
from app.services.errors import Forbidden, Invalid, NotFound, Unauthenticated
from app.services.transactions import commit_unit

TOKEN_PREFIX = "trk_"  # noqa: S105 - what every token starts with, not a secret
PREFIX_LENGTH = 12
MAX_NAME_LENGTH = 200
# A burst of calls records one "last used" write, not one per call.
LAST_USED_RESOLUTION = timedelta(seconds=60)
# What ``create_token`` issues: the prefix and secrets.token_urlsafe(32) (43 characters).
_TOKEN_SHAPE = re.compile(r"trk_[A-Za-z0-9_-]{43}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Row ids are PostgreSQL integers: a larger number names no token (and must not reach the query).
_MAX_ID = 2**31 - 1

MISSING = "Send an API token in the Authorization header: Bearer <token>."
NOT_VALID = "The API token is not valid: it is unknown or was revoked."


def token_digest(raw: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(
    site_key: str, role: str, name: str, *, created_by: User | None = None, now: datetime
) -> tuple[ApiToken, str]:
    """A new token of ``site_key`` with ``role``, and the token itself (shown once, never stored).

    Unknown site → NotFound; a role not in TOKEN_ROLES (the hierarchy, and ``sales``), or a name that is blank, longer than 200
    characters or holds control characters → Invalid naming ``role`` / ``name``; nothing saved.
    """
    site_id = _site_id(site_key)
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if role not in TOKEN_ROLES:
        errors["role"] = [f"Choose one of: {', '.join(TOKEN_ROLES)}."]
    if not name:
        errors["name"] = ["Enter a name, so you can tell this token from others."]
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = [f"Use at most {MAX_NAME_LENGTH} characters."]
    elif not is_storable_text(name) or _CONTROL.search(name):
        errors["name"] = ["Contains characters that are not allowed."]
    if errors:
        raise Invalid("The token was not created.", errors)
    creator_id = created_by.id if created_by is not None else None

    def work() -> tuple[ApiToken, str]:
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)  # a fresh one if a rerun follows a clash
        token = ApiToken(
            site_id=site_id,
            role=role,
            name=name,
            token_hash=token_digest(raw),
            prefix=raw[:PREFIX_LENGTH],
            created_by_id=creator_id,
            created_at=now,
        )
        db.session.add(token)
        return token, raw

    return commit_unit(work)


def list_tokens(site_key: str | None = None) -> list[ApiToken]:
    """Tokens of ``site_key`` (of every site without one), newest first; revoked ones too."""
    query = select(ApiToken).options(joinedload(ApiToken.site), joinedload(ApiToken.created_by))
    if site_key is not None:
        query = query.where(ApiToken.site_id == _site_id(site_key))
    return list(db.session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(site_key: str, token_id: int, now: datetime) -> ApiToken:
    """Revoke token ``token_id`` of ``site_key``: it stops working at once. Revoking it again
    keeps the first time. NotFound for an unknown site, an unknown id or another site's token."""
    site_id = _site_id(site_key)

    def work() -> ApiToken:
        token = None
        if 0 < token_id <= _MAX_ID:
            token = db.session.scalars(
                select(ApiToken)
                .where(ApiToken.id == token_id, ApiToken.site_id == site_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one_or_none()
        if token is None:
            raise NotFound(f'No token #{token_id} on site "{site_key}".')
        if token.revoked_at is None:
            token.revoked_at = now
        return token

    return commit_unit(work)


def authenticate_token(raw: str | None, site_key: str, role: str, now: datetime) -> ApiToken:
    """The token ``raw``, when it may act on ``site_key`` with ``role``; its use is recorded.

    Missing, malformed, unknown or revoked → Unauthenticated (401), decided before anything
    about the site is looked at. Another site's token, or a role below ``role`` → Forbidden (403).
    """
    if raw is None or not raw.strip():
        raise Unauthenticated(MISSING)
    if not _TOKEN_SHAPE.fullmatch(raw):
        raise Unauthenticated(NOT_VALID)
    token = db.session.scalars(
        select(ApiToken)
        .where(ApiToken.token_hash == token_digest(raw))
        .options(joinedload(ApiToken.site))
    ).one_or_none()
    if token is None or token.revoked_at is not None:
        raise Unauthenticated(NOT_VALID)
    if token.site.key != site_key:
        raise Forbidden("This API token belongs to another site.")
    if not role_allows(token.role, role):
        raise Forbidden(f"This API token's role ({token.role}) may not do this: it needs {role}.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        _record_use(token.id, now)
    return token


def _record_use(token_id: int, now: datetime) -> None:
    """Set the last use in its own unit; the condition keeps a later time a concurrent request
    wrote, and makes a burst of requests write once."""

    def work() -> None:
        db.session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                or_(
                    ApiToken.last_used_at.is_(None),
                    ApiToken.last_used_at <= now - LAST_USED_RESOLUTION,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )

    commit_unit(work)


def _site_id(site_key: str) -> int:
    site_id = None
    if is_storable_text(site_key):  # PostgreSQL refuses NUL in a query parameter
        site_id = db.session.scalar(select(Site.id).where(Site.key == site_key))
    if site_id is None:
        raise NotFound(f'No site "{site_key}".')
    return site_id
