"""The token API's door, on the contacts export: 401 without a valid token, 403 for another
site's, the JSON envelope and nothing else; an analyst token gets its CSV."""

from __future__ import annotations

import base64
import json

import pytest

from app.extensions import db
from app.models import ApiToken
from app.services.accounts import create_token, revoke_token
from app.services.accounts.api_tokens import MISSING, NOT_VALID

EXPORT = "/api/v1/sites/{}/contacts/export?format=csv"


def export(client, authorization: str | None, site: str = "acme", ip: str = "198.51.100.1"):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return client.get(EXPORT.format(site), headers=headers, environ_base={"REMOTE_ADDR": ip})


def last_used(token_id: int):
    db.session.expire_all()
    return db.session.get(ApiToken, token_id).last_used_at


def refused(response, status: int, code: str, message: str) -> None:
    """The one JSON envelope, and not one byte more."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert json.loads(response.get_data()) == {"error": {"code": code, "message": message}}


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, MISSING),
        ("", MISSING),
        ("Bearer", MISSING),
        ("Basic {basic}", MISSING),
        ("Basic {raw}", MISSING),
        ("{raw}", MISSING),
        ("Bearer {raw}x", NOT_VALID),
        ("Bearer trk_" + "A" * 43, NOT_VALID),
        ("Bearer {revoked}", NOT_VALID),
        ("Bearer trk_é" + "A" * 42, NOT_VALID),
        ("Bearer " + "A" * 10_000, NOT_VALID),
    ],
)
def test_without_a_valid_token_it_is_401_with_a_bearer_challenge(
    client, sites, clock, authorization, message
):
    token, raw = create_token("acme", "admin", "BI", now=clock())
    old, revoked = create_token("acme", "admin", "old", now=clock())
    revoke_token("acme", old.id, clock())
    basic = base64.b64encode(f"root:{raw}".encode()).decode()
    if authorization is not None:
        authorization = authorization.format(raw=raw, basic=basic, revoked=revoked)
    response = export(client, authorization)
    refused(response, 401, "unauthenticated", message)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="trickle"'
    assert last_used(token.id) is None


def test_without_a_token_an_unknown_site_is_401_too(client, sites):
    response = export(client, None, site="nope")
    refused(response, 401, "unauthenticated", MISSING)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="trickle"'


@pytest.mark.parametrize("site", ["other", "nope"])
def test_a_token_of_another_site_is_403(client, sites, clock, site):
    token, raw = create_token("acme", "admin", "BI", now=clock())
    response = export(client, f"Bearer {raw}", site=site)
    refused(response, 403, "forbidden", "This API token belongs to another site.")
    assert "WWW-Authenticate" not in response.headers
    assert last_used(token.id) is None


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_an_analyst_token_gets_the_csv_and_its_use_is_recorded(client, sites, clock, scheme):
    token, raw = create_token("acme", "analyst", "BI", now=clock())
    used_at = clock.advance(minutes=5)
    response = export(client, f"{scheme} {raw}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "WWW-Authenticate" not in response.headers
    response.get_data()  # the whole stream
    assert last_used(token.id) == used_at


@pytest.mark.parametrize(
    "app_settings", [{"RATELIMIT_ENABLED": True, "RATELIMIT_TOKEN_API": "2/minute"}]
)
def test_calls_are_rate_limited_per_address_refused_ones_included(client, sites, clock):
    _, raw = create_token("acme", "analyst", "BI", now=clock())
    assert export(client, f"Bearer {raw}").status_code == 200
    assert export(client, "Bearer wrong").status_code == 401
    response = export(client, f"Bearer {raw}")
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert export(client, f"Bearer {raw}", ip="198.51.100.2").status_code == 200


@pytest.mark.parametrize(
    "app_settings", [{"RATELIMIT_ENABLED": True, "RATELIMIT_TOKEN_API": "2/minute"}]
)
def test_an_ipv6_caller_is_counted_by_its_64(client, sites, clock):
    _, raw = create_token("acme", "analyst", "BI", now=clock())
    same_64 = ("2001:db8:9::1", "2001:db8:9::2", "2001:db8:9:0:ffff::3")
    codes = [export(client, f"Bearer {raw}", ip=ip).status_code for ip in same_64]
    assert codes == [200, 200, 429]
    assert export(client, f"Bearer {raw}", ip="2001:db8:9:1::1").status_code == 200
