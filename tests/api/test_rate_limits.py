"""Rate limits on the public endpoints: per client address and per site, 429 with Retry-After."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import select

from app.clock import current_time
from app.config import redis_test_url
from app.extensions import db
from app.models import Contact, Site, Visitor
from app.services.tokens import new_visitor_id, visitor_token
from tests.api.support import row_counts
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


# ---- IPv6 clients by their /64 ----


def test_an_ipv6_client_is_counted_by_its_64(client, sites):
    same_64 = ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff"]
    assert [post(client, ip=ip).status_code for ip in same_64] == [200, 200, 200]
    assert post(client, ip="2001:db8:1:2:abcd::9").status_code == 429
    assert post(client, ip="2001:db8:1:3::1").status_code == 200  # the next /64: its own budget


def test_an_ipv4_mapped_address_is_counted_as_the_ipv4_address(client, sites):
    assert [post(client, ip="198.51.100.7").status_code for _ in range(3)] == [200, 200, 200]
    assert post(client, ip="::ffff:198.51.100.7").status_code == 429
    assert post(client, ip="::ffff:c633:6408").status_code == 200  # 198.51.100.8


# ---- returning visitors: a bucket of their own, never the site's ----

SUBMIT = "/api/v1/sites/{}/forms/blog/submit"
EVENTS = "/api/v1/sites/{}/events"


def send(client, path, body, ip, site="acme"):
    return client.post(path.format(site), json=body, environ_base={"REMOTE_ADDR": ip})


def visitor_of(client, ip, site="acme") -> str:
    response = send(client, ASK, {}, ip, site)
    assert response.status_code == 200
    return response.get_json()["visitor"]


def returning_visitor(site="acme") -> str:
    """The token of a browser whose visitor is stored (its first write done), made without a
    request, so that no budget is used."""
    site_id = db.session.scalars(select(Site.id).where(Site.key == site)).one()
    public_id, now = new_visitor_id(), current_time()
    db.session.add(
        Visitor(
            site_id=site_id,
            public_id=public_id,
            contact=Contact(site_id=site_id, created_at=now, updated_at=now),
            created_at=now,
            last_seen_at=now,
        )
    )
    db.session.commit()
    return visitor_token(site, public_id)


def flood(client, addresses, per_address=3) -> list[int]:
    """Anonymous asks, ``per_address`` from each address in turn."""
    return [post(client, ip=ip).status_code for ip in addresses for _ in range(per_address)]


def test_a_token_holder_is_served_after_anonymous_clients_used_the_site_budget(app, client, sites):
    holder = "203.0.113.5"
    token = returning_visitor()
    assert flood(client, ["198.51.100.1", "198.51.100.2"]) == [200, 200, 200, 200, 200, 429]
    assert post(client, ip="198.51.100.3").status_code == 429  # a new anonymous client too
    asked = send(client, ASK, {"visitor": token}, holder)
    assert asked.status_code == 200
    assert asked.get_json()["visitor"] == token
    body = {"visitor": token, "ask_token": asked.get_json()["ask_token"], "answers": {}}
    body["skipped"] = [q["key"] for q in asked.get_json()["questions"]]
    assert send(client, SUBMIT, body, holder).status_code == 200
    event = {"visitor": token, "kind": "page_view"}
    assert [send(client, EVENTS, event, holder).status_code for _ in range(2)] == [202, 429]
    # ... that last one by the holder's per-address budget (3/minute), not the site's:
    assert (
        send(client, EVENTS, {"visitor": token, "kind": "page_view"}, "203.0.113.6").status_code
        == 202
    )
    assert post(client, ip="203.0.113.7").status_code == 429  # anonymous: still the site's


def test_each_visitor_token_has_its_own_bucket_on_ask_submit_and_events(app, client, sites):
    app.config["RATELIMIT_PUBLIC_PER_IP"] = "50/minute"
    app.config["RATELIMIT_PUBLIC_PER_VISITOR"] = "3/minute"
    ip = "198.51.100.1"
    first, second = returning_visitor(), returning_visitor()
    asked = send(client, ASK, {"visitor": first}, ip)
    body = {"visitor": first, "ask_token": asked.get_json()["ask_token"], "answers": {}}
    body["skipped"] = [q["key"] for q in asked.get_json()["questions"]]
    event = {"visitor": first, "kind": "page_view"}
    codes = [asked.status_code, send(client, SUBMIT, body, ip).status_code]
    codes += [send(client, EVENTS, event, ip).status_code for _ in range(2)]
    assert codes == [200, 200, 202, 429]
    refused = send(client, ASK, {"visitor": first}, "198.51.100.2")  # from another address too
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert send(client, EVENTS, {"visitor": second, "kind": "page_view"}, ip).status_code == 202
    # None of the token holders' requests used the site's budget: 5 anonymous asks are left.
    assert [post(client, ip=ip).status_code for _ in range(6)] == [200] * 5 + [429]


def test_a_new_browsers_token_counts_against_the_site_until_its_first_write(app, client, sites):
    """The token an ask gives a browser nothing is stored for costs nothing to mint: it is
    anonymous (the site's budget) until the browser's first write answers with its stored
    visitor's token, which has a bucket of its own."""
    app.config["RATELIMIT_PUBLIC_PER_IP"] = "50/minute"
    ip = "203.0.113.5"
    fresh = visitor_of(client, ip)  # site: 1 of 5
    event = send(client, EVENTS, {"visitor": fresh, "kind": "page_view"}, ip)  # 2 of 5
    assert event.status_code == 202
    stored = event.get_json()["visitor"]
    assert stored != fresh
    minted = visitor_of(client, "198.51.100.1")  # 3 of 5
    assert [post(client, ip="198.51.100.1").status_code for _ in range(3)] == [200, 200, 429]
    assert send(client, ASK, {"visitor": minted}, "198.51.100.1").status_code == 429
    assert send(client, ASK, {"visitor": fresh}, ip).status_code == 429
    asked = send(client, ASK, {"visitor": stored}, ip)
    assert asked.status_code == 200
    assert asked.get_json()["visitor"] == stored


def test_without_a_valid_token_a_request_is_anonymous(app, client, sites):
    """A token that does not verify for the URL's site buys no bucket: the site's budget counts
    the request, and once that is used the request is refused before its body is checked."""
    codes = [send(client, ASK, {}, f"198.51.100.{n}").status_code for n in range(1, 6)]
    assert codes == [200] * 5
    before = row_counts()
    for visitor in ("not-a-token", "eyJzIjoiYWNtZSIsInYiOiJhIn0.forged", 42, None, ["x"]):
        for path, body in ((ASK, {}), (EVENTS, {"kind": "page_view"})):
            response = send(client, path, {**body, "visitor": visitor}, "198.51.100.9")
            assert response.status_code == 429, (path, visitor)
            assert response.get_json()["error"]["code"] == "rate_limited"
    assert row_counts() == before  # nothing stored


def test_a_token_of_another_site_is_anonymous_here(app, client, sites):
    other_token = visitor_of(client, "198.51.100.1", site="other")
    codes = [send(client, ASK, {}, f"198.51.100.{n}").status_code for n in range(2, 7)]
    assert codes == [200] * 5
    assert send(client, ASK, {"visitor": other_token}, "198.51.100.9").status_code == 429
    assert send(client, ASK, {"visitor": other_token}, "198.51.100.9", "other").status_code == 200


def test_bodies_that_are_not_json_are_anonymous_and_answered_as_before(app, client, sites):
    ip = "198.51.100.1"
    path = ASK.format("acme")
    not_json = client.post(
        path, data="{", content_type="application/json", environ_base={"REMOTE_ADDR": ip}
    )
    assert not_json.status_code == 400
    assert not_json.get_json()["error"]["message"] == "The body is not valid JSON."
    as_text = client.post(
        path, data="{}", content_type="text/plain", environ_base={"REMOTE_ADDR": ip}
    )
    assert as_text.status_code == 415
    too_large = client.post(
        path,
        data='{"visitor": "' + "a" * 70_000 + '"}',
        content_type="application/json",
        environ_base={"REMOTE_ADDR": "198.51.100.2"},
    )
    assert too_large.status_code == 413
    # All three counted against the site's budget (5): two anonymous asks are left.
    assert [post(client, ip="198.51.100.3").status_code for _ in range(3)] == [200, 200, 429]


def test_requests_refused_by_the_client_budget_leave_the_site_budget_alone(app, client, sites):
    """A longer window on the client budget than on the site's (so Flask-Limiter would check
    the site's first): the flooder's refused requests still use none of the site's."""
    app.config["RATELIMIT_PUBLIC_PER_IP"] = "2/hour"
    assert [post(client, ip="198.51.100.1").status_code for _ in range(10)] == [200] * 2 + [429] * 8
    codes = [post(client, ip=f"198.51.100.{n}").status_code for n in (2, 2, 3, 4)]
    assert codes == [200, 200, 200, 429]


def test_a_preflight_is_counted_by_the_client_budget_only(client, sites):
    origin = {"Origin": "https://www.acme.example", "Access-Control-Request-Method": "POST"}

    def preflight(ip):
        return client.options(ASK.format("acme"), headers=origin, environ_base={"REMOTE_ADDR": ip})

    assert flood(client, ["198.51.100.1", "198.51.100.2"], per_address=3)[-1] == 429
    assert preflight("203.0.113.5").status_code == 204  # the site's budget is used up
    assert [preflight("203.0.113.6").status_code for _ in range(4)] == [204, 204, 204, 429]
