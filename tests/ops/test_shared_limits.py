"""Rate limits that hold across processes and behind a proxy.

In process (cheap): behind ``TRICKLE_PROXY_FIX=1`` the client is the last ``X-Forwarded-For`` hop,
the one the proxy appended, so a made-up first hop does not buy a fresh budget; the probes are
not limited. Against real gunicorn with two workers: with Redis storage the two share one count
(exactly ``LIMIT`` answers, then 429); with memory storage each worker counts alone, which is what
makes the Redis result mean something. Which worker answered comes from gunicorn's access log
(``%(p)s``, the worker's pid), never from the app's responses.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from app import create_app
from app.extensions import db, limiter
from tests.databases import settings_for
from tests.factories import make_site
from tests.ops.support import Server, gunicorn, redis_gunicorn, sample

ASK = "/api/v1/sites/acme/forms/blog/ask"
ASK_ROUTE = "/api/v1/sites/<site>/forms/<form>/ask"
LIMIT = 5
MAX_BURSTS = 25


@pytest.fixture
def app_settings():
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_PUBLIC_PER_IP": f"{LIMIT}/minute",
        "PROXY_FIX": 1,
    }


# ---- in process ----


def ask(client, forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(ASK, json={}, headers=headers)


def test_a_spoofed_first_hop_does_not_reset_the_limit(client):
    make_site()
    client_ip = "198.51.100.7"
    codes = [ask(client, f"10.0.0.{n}, {client_ip}").status_code for n in range(LIMIT)]
    assert codes == [200] * LIMIT
    for spoofed in ("10.0.0.99", "1.2.3.4, 5.6.7.8", "unknown", "198.51.100.8"):
        response = ask(client, f"{spoofed}, {client_ip}")
        assert response.status_code == 429, spoofed
        assert 0 < int(response.headers["Retry-After"]) <= 60
    assert ask(client, client_ip).status_code == 429  # the same client, no spoofing at all
    assert ask(client, "198.51.100.8").status_code == 200  # another client has its own budget
    assert ask(client).status_code == 200  # and so has the proxy itself (no header)


def test_probes_are_exempt_from_rate_limits(client):
    make_site()
    forwarded = "10.1.1.1"  # a private address: /metrics is served to it
    assert [ask(client, forwarded).status_code for _ in range(LIMIT + 1)] == [200] * LIMIT + [429]
    headers = {"X-Forwarded-For": forwarded}
    for path in ("/healthz", "/metrics", "/api/v1/health") * 3:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert "X-RateLimit-Limit" not in response.headers
    assert ask(client, forwarded).status_code == 429


def test_an_unreachable_redis_falls_back_to_counting_in_memory(app, database_url, clock):
    """Redis down: the public API keeps answering, and the limit still holds (per process)."""
    make_site()  # through the fixture's app, which wipes the rows afterwards
    settings = settings_for(
        database_url,
        CLOCK=clock,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",  # nothing listens on port 1
        RATELIMIT_PUBLIC_PER_IP=f"{LIMIT}/minute",
    )
    limited = create_app(settings)
    try:
        with limited.app_context():
            client = limited.test_client()
            codes = [client.post(ASK, json={}).status_code for _ in range(LIMIT + 1)]
            db.session.remove()
            db.engine.dispose()
    finally:
        # The limiter is one object for every app of the process, and only its constructor
        # clears "storage dead": left set, the next tests' apps would count in the fallback
        # memory until a backend check switched them back mid-test (a count reset, an extra 200).
        limiter._storage_dead = False
    assert codes == [200] * LIMIT + [429]


# ---- real gunicorn, two workers ----


@pytest.fixture(scope="module")
def redis_server(database, tmp_path_factory) -> Iterator[Server]:
    """Limits counted in the test Redis, under a key prefix of this run; metrics in
    multiprocess mode; behind one trusted proxy hop."""
    workdir = tmp_path_factory.mktemp("redis-server")
    multiproc = workdir / "prometheus"
    multiproc.mkdir()
    settings = {"PROXY_FIX": "1", "RATELIMIT_PUBLIC_PER_IP": f"{LIMIT}/minute"}
    with redis_gunicorn(database, workdir, multiproc, **settings) as server:
        yield server


@pytest.fixture(scope="module")
def memory_server(database, tmp_path_factory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("memory-server")
    settings = {"RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_PUBLIC_PER_IP": f"{LIMIT}/minute"}
    with gunicorn(database, workdir, **settings) as server:
        yield server


def until_both_workers_answered(
    server: Server, path: str, client: str | None = None, spoof: bool = False
) -> list:
    """Bursts of concurrent requests (from ``client`` behind the proxy, each with a made-up
    first hop when ``spoof``) until the access log shows both workers answering."""

    def headers() -> dict[str, str]:
        if client is None:
            return {}
        first = f"203.0.113.{secrets.randbelow(250)}, " if spoof else ""
        return {"X-Forwarded-For": first + client}

    answers = []
    for _ in range(MAX_BURSTS):
        answers += server.burst("POST" if path == ASK else "GET", path, headers)
        if len(server.pids(path, client)) == 2:
            return answers
    pytest.fail(f"one worker answered all {len(answers)} requests: {server.pids(path, client)}")


def test_two_workers_share_one_limit_in_redis(redis_server):
    before = redis_server.metrics()
    answers = [redis_server.request("POST", ASK) for _ in range(LIMIT + 1)]
    assert [status for status, _, _ in answers] == [200] * LIMIT + [429]
    assert 0 < int(answers[-1][1]) <= 60
    answers += until_both_workers_answered(redis_server, ASK)
    # Both workers answered, and together they let exactly LIMIT requests through: each saw
    # the other's count (alone, the worker with fewer than LIMIT would have said 200).
    statuses = [status for status, _, _ in answers]
    assert statuses == [200] * LIMIT + [429] * (len(answers) - LIMIT)
    assert all(0 < int(retry_after) <= 60 for _, retry_after, _ in answers[LIMIT:])
    # Whichever worker serves the scrape, it counts every worker's requests.
    after = redis_server.metrics()
    for status, count in (("200", LIMIT), ("429", len(answers) - LIMIT)):
        labels = {"method": "POST", "route": ASK_ROUTE, "status": status}
        added = sample(after, "trickle_http_requests_total", **labels) - sample(
            before, "trickle_http_requests_total", **labels
        )
        assert added == count, status


def test_without_shared_storage_each_worker_counts_alone(memory_server):
    """The control: the same server with memory storage lets more than LIMIT through."""
    answers = until_both_workers_answered(memory_server, ASK)
    assert len(answers) > LIMIT
    assert sum(status == 200 for status, _, _ in answers) > LIMIT


def test_behind_the_proxy_a_spoofed_hop_does_not_reset_the_shared_limit(redis_server):
    client_ip = "198.51.100.20"
    codes = [
        redis_server.request("POST", ASK, {"X-Forwarded-For": f"10.9.9.{n}, {client_ip}"})[0]
        for n in range(LIMIT)
    ]
    assert codes == [200] * LIMIT
    answers = until_both_workers_answered(redis_server, ASK, client_ip, spoof=True)
    assert {status for status, _, _ in answers} == {429}
    for n in range(3):  # a new made-up first hop each time
        headers = {"X-Forwarded-For": f"192.0.2.{n}, {client_ip}"}
        assert redis_server.request("POST", ASK, headers)[0] == 429
    assert redis_server.request("POST", ASK, {"X-Forwarded-For": "198.51.100.21"})[0] == 200


def test_metrics_add_up_across_workers(redis_server):
    """Multiprocess mode: a scrape counts the requests of both workers, and reads the gauges."""
    before = redis_server.metrics()
    answers = until_both_workers_answered(redis_server, "/api/v1/health")
    assert {status for status, _, _ in answers} == {200}
    after = redis_server.metrics()
    labels = {"method": "GET", "route": "/api/v1/health", "status": "200"}
    added = sample(after, "trickle_http_requests_total", **labels) - sample(
        before, "trickle_http_requests_total", **labels
    )
    assert added == len(answers)
    assert sample(after, "trickle_database_up") == 1
    assert sample(after, "trickle_deliveries_pending") == 0
