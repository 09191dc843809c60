"""Signed tokens the widget carries: a visitor token (who this browser is) and an ask token
(which questions were offered, to whom, when). Both are opaque to the browser and unforgeable."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app.domain.answers import Offer
from app.domain.specs import Dependency
from app.services.errors import AskExpired, Invalid


def serializer(purpose: str) -> URLSafeSerializer:
    """The signer for one kind of token; a token of one purpose never reads as another."""
    return _serializer(current_app.config["SECRET_KEY"], purpose)


@lru_cache(maxsize=64)
def _serializer(secret: str | bytes, purpose: str) -> URLSafeSerializer:
    """Built once per secret and purpose: a serializer holds no per-call state, and building
    one (its signer's settings) cost as much as signing (docs/benchmarks.md, "Hot path
    profile")."""
    return URLSafeSerializer(secret, salt=f"trickle.{purpose}")


def new_visitor_id() -> str:
    return secrets.token_hex(16)


def visitor_token(site_key: str, public_id: str, *, unstored: bool = False) -> str:
    """The token naming browser ``public_id``; ``unstored``: an ask issued it without storing a
    visitor, and the browser's first write stores one under this id."""
    data: dict[str, object] = {"s": site_key, "v": public_id}
    if unstored:
        data["n"] = 1
    return serializer("visitor").dumps(data)


def _visitor_claims(site_key: str, token: str | None) -> dict[str, object] | None:
    """What a token of this site says; None for a missing, forged or foreign one."""
    if not token or not token.isascii():  # every token we issue is ASCII
        return None
    try:
        data = serializer("visitor").loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(data, dict)
        or data.get("s") != site_key
        or not isinstance(data.get("v"), str)
    ):
        return None
    return data


def read_visitor_token(site_key: str, token: str | None) -> str | None:
    """The visitor id inside a token of this site; None for a missing, forged or foreign one."""
    data = _visitor_claims(site_key, token)
    return None if data is None else str(data["v"])


def returning_visitor_id(site_key: str, token: str | None) -> str | None:
    """The id inside a token issued for a stored visitor (by an ask that found it, or by the
    browser's first write); None for the token an ask gives a browser nothing is stored for yet
    (anyone can mint those by asking), and for a missing, forged or foreign one."""
    data = _visitor_claims(site_key, token)
    return None if data is None or data.get("n") == 1 else str(data["v"])


def unstored_visitor_id(site_key: str, token: str | None) -> str | None:
    """The id inside a token an ask issued without storing a visitor (its first write stores
    it under that id); None for any other token, valid or not. A token issued for a stored
    visitor never names a new one: once that visitor is erased, the browser starts over."""
    data = _visitor_claims(site_key, token)
    return None if data is None or data.get("n") != 1 else str(data["v"])


@dataclass(frozen=True)
class AskGrant:
    """What an ask token grants: answers for ``offered`` keys, from one visitor, on one form."""

    site_key: str
    form_key: str
    visitor_id: str
    offered: tuple[str, ...]
    required: tuple[str, ...]
    page_stage: str | None
    issued_at: int
    # The version of each consent text shown (consent fields only): a consent is recorded
    # against exactly the words the visitor saw.
    consents: dict[str, str] = field(default_factory=dict)
    # Questions granted conditioned (key -> its ask_if), shown only while the answer to the
    # parent meets it; with them, the form's max_questions and its consent line (not counted).
    conditions: dict[str, Dependency] = field(default_factory=dict)
    limit: int | None = None
    line: str | None = None

    @property
    def offer(self) -> Offer:
        """What the review of a submit checks the answers against."""
        uncounted = frozenset(() if self.line is None else (self.line,))
        return Offer(self.offered, self.required, self.conditions, self.limit, uncounted)


def ask_token(grant: AskGrant) -> str:
    return serializer("ask").dumps(
        {
            "s": grant.site_key,
            "f": grant.form_key,
            "v": grant.visitor_id,
            "k": list(grant.offered),
            "r": list(grant.required),
            "p": grant.page_stage,
            "t": grant.issued_at,
            "c": grant.consents,
            **_conditions_claims(grant),
        }
    )


def _conditions_claims(grant: AskGrant) -> dict[str, object]:
    if not grant.conditions:
        return {}
    return {
        "w": {
            key: [dep.field, dep.op, list(dep.value) if dep.op == "in" else dep.value]
            for key, dep in grant.conditions.items()
        },
        "m": grant.limit,
        "l": grant.line,
    }


def _read_conditions(value: object) -> dict[str, Dependency]:
    if not isinstance(value, dict):
        raise TypeError("token conditions must be a mapping")
    conditions = {}
    for key, (parent, op, wanted) in value.items():
        if not isinstance(parent, str) or op not in ("equals", "in", "known"):
            raise TypeError("token condition malformed")
        conditions[str(key)] = Dependency(parent, op, tuple(wanted) if op == "in" else wanted)
    return conditions


def _tampered() -> Invalid:
    return Invalid(
        "The ask_token is not valid for this visitor and form.",
        {"ask_token": ["Invalid or tampered token."]},
    )


def read_ask_token(
    token: str, site_key: str, form_key: str, visitor_id: str | None, now: datetime
) -> AskGrant:
    """Verify an ask token. Tampered or foreign → Invalid (422); too old → AskExpired (409)."""
    try:
        if not token.isascii():
            raise BadSignature("not one of our tokens")
        data = serializer("ask").loads(token)
        grant = AskGrant(
            site_key=data["s"],
            form_key=data["f"],
            visitor_id=data["v"],
            offered=tuple(_strings(data["k"])),
            required=tuple(_strings(data["r"])),
            page_stage=data["p"],
            issued_at=int(data["t"]),
            consents=_versions(data.get("c", {})),
            conditions=_read_conditions(data.get("w", {})),
            limit=data.get("m"),
            line=data.get("l"),
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        raise _tampered() from None
    if (grant.site_key, grant.form_key, grant.visitor_id) != (site_key, form_key, visitor_id):
        raise _tampered()
    if now.timestamp() - grant.issued_at > current_app.config["ASK_TOKEN_MAX_AGE_SECONDS"]:
        raise AskExpired("These questions have expired; ask again.")
    return grant


def _versions(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise TypeError("token consent versions must map strings to strings")
    return dict(value)


def _strings(values: Sequence[object]) -> list[str]:
    if not all(isinstance(v, str) for v in values):
        raise TypeError("token keys must be strings")
    return list(values)  # type: ignore[arg-type]
