"""Rate limits on the public endpoints: per client address and per site, 429 with Retry-After."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
import redis

from app.config import redis_test_url
from tests.factories import acme_config, make_site

ASK = "/api/v1/sites/{}/forms/blog/ask"


# This process's keys in the shared test Redis (xdist workers and other runs use the same database):
# the app's limiter may keep the first prefix it was given, so one prefix serves the whole process.
REDIS_PREFIX = f"trickle-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def delete_keys(url: str) -> None:
    with contextlib.closing(redis.Redis.from_url(url)) as client:
        keys = list(client.scan_iter(match=f"*{REDIS_PREFIX}*"))
        if keys:
            client.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
def app_settings(request) -> Iterator[dict[str, object]]:
    """Limits on, counted in memory and, when TRICKLE_TEST_REDIS_URL is set, in Redis under this
    process's key prefix, emptied before and after each test."""
    storage, prefix = "memory://", ""
    if request.param == "redis":
        storage = redis_test_url()
        if not storage:
            pytest.skip("TRICKLE_TEST_REDIS_URL is not set: the Redis leg is skipped")
        prefix = REDIS_PREFIX
        delete_keys(storage)
    yield {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_KEY_PREFIX": prefix,
        "RATELIMIT_PUBLIC_PER_IP": "3/minute",
        "RATELIMIT_PUBLIC_PER_SITE": "5/minute",
    }
    if prefix:
        delete_keys(storage)


@pytest.fixture
def sites(app):
    make_site()
    other = acme_config()
    other["site"] = {**other["site"], "key": "other"}
    make_site(other)


def post(client, site="acme", ip="198.51.100.1"):
    return client.post(ASK.format(site), json={}, environ_base={"REMOTE_ADDR": ip})


def test_over_the_per_ip_limit_is_429_with_retry_after(client, sites):
    assert [post(client).status_code for _ in range(3)] == [200, 200, 200]
    response = post(client)
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert post(client, ip="198.51.100.2").status_code == 200  # another address has its own budget


def test_the_per_site_limit_counts_every_address(client, sites):
    codes = [post(client, ip=f"198.51.100.{n}").status_code for n in range(1, 6)]
    assert codes == [200] * 5
    assert post(client, ip="198.51.100.99").status_code == 429
    assert post(client, site="other", ip="198.51.100.99").status_code == 200
