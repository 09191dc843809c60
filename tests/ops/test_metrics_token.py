"""/metrics with TRICKLE_METRICS_TOKEN: the bearer token is required, from any address."""

from __future__ import annotations

import pytest

TOKEN = "s3cret-metrics-token"


@pytest.fixture
def app_settings():
    return {"METRICS_TOKEN": TOKEN}


def get(client, authorization: str | None = None, remote: str = "127.0.0.1"):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote})


@pytest.mark.parametrize("remote", ["8.8.8.8", "127.0.0.1"])
@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_the_token_opens_metrics_from_anywhere(client, remote, scheme):
    response = get(client, f"{scheme} {TOKEN}", remote)
    assert response.status_code == 200
    assert "trickle_database_up 1.0" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer tökén"],
)
def test_without_the_token_even_loopback_gets_401(client, authorization):
    response = get(client, authorization)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert response.get_json() == {
        "error": {
            "code": "unauthorized",
            "message": "Send the metrics token: Authorization: Bearer <token>.",
        }
    }
