"""/metrics: request counters and latency by route template, delivery gauges read at scrape time,
served to loopback and private addresses when no token is set."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app import create_app
from app.extensions import db
from app.models import Delivery
from tests.databases import settings_for
from tests.factories import acme_config, make_site
from tests.ops.support import sample, samples

ASK_ROUTE = "/api/v1/sites/<site>/forms/<form>/ask"


@pytest.fixture
def app_settings():
    return {"ALLOW_PRIVATE_TARGETS": True}  # the destination below is on 127.0.0.1


def scrape(client, remote: str = "127.0.0.1") -> dict:
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "Set-Cookie" not in response.headers
    return samples(response.get_data(as_text=True))


def test_requests_are_counted_by_method_route_template_and_status(client):
    make_site()
    before = scrape(client)
    for _ in range(3):
        client.get("/api/v1/health")
    client.get("/no/such/page")
    client.open("/api/v1/health", method="BREW")
    client.post("/api/v1/sites/acme/forms/blog/ask", json={})
    client.post("/api/v1/sites/nosuchsite/forms/blog/ask", json={})
    after = scrape(client)

    def added(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    requests = "trickle_http_requests_total"
    assert added(requests, method="GET", route="/api/v1/health", status="200") == 3
    assert added(requests, method="GET", route="(unmatched)", status="404") == 1
    assert added(requests, method="other", route="(unmatched)", status="405") == 1
    assert added(requests, method="POST", route=ASK_ROUTE, status="200") == 1
    assert added(requests, method="POST", route=ASK_ROUTE, status="404") == 1
    assert added(requests, method="GET", route="/metrics", status="200") == 1  # the first scrape
    latency = "trickle_http_request_duration_seconds"
    assert added(f"{latency}_count", route="/api/v1/health") == 3
    assert added(f"{latency}_count", route=ASK_ROUTE) == 2
    assert added(f"{latency}_bucket", route=ASK_ROUTE, le="+Inf") == 2
    assert added(f"{latency}_sum", route=ASK_ROUTE) > 0


def delivery(site, number: int, status: str, failures: int = 0) -> Delivery:
    return Delivery(
        site_id=site.id,
        destination_id=site.destinations[0].id,
        event_type="contact.updated",
        message_id=f"msg_{number}",
        body=b"{}",
        status=status,
        failures=failures,
        attempts=failures,
        next_attempt_at=datetime(2026, 3, 2, tzinfo=UTC),
    )


def test_delivery_gauges_are_read_from_the_database_at_scrape_time(client):
    gauges = ("pending", "dead", "failing")
    values = scrape(client)
    assert sample(values, "trickle_database_up") == 1
    assert [sample(values, f"trickle_deliveries_{g}") for g in gauges] == [0, 0, 0]
    hook = {"key": "crm", "url": "http://127.0.0.1:9/hook", "events": ["contact.updated"]}
    site = make_site(acme_config(destinations=[hook]))
    rows = [delivery(site, n, "pending") for n in range(3)]
    rows += [delivery(site, n, "pending", failures=n - 2) for n in range(3, 5)]
    rows += [delivery(site, n, "dead", failures=8) for n in range(5, 9)]
    rows += [delivery(site, n, "delivered", failures=1) for n in range(9, 14)]
    db.session.add_all(rows)
    db.session.commit()
    values = scrape(client)
    assert [sample(values, f"trickle_deliveries_{g}") for g in gauges] == [5, 4, 2]


@pytest.fixture
def metrics_scraped_before():
    """A /metrics request already counted in this process, whichever tests ran in it before
    (the counters are the process's; a scrape counts itself only after it is answered)."""
    app = create_app(settings_for("sqlite:////nonexistent-trickle-dir/trickle.db"))
    try:
        scrape(app.test_client())
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_scrape_without_the_database_says_so_and_leaves_the_gauges_out(metrics_scraped_before):
    app = create_app(settings_for("sqlite:////nonexistent-trickle-dir/trickle.db"))
    try:
        values = scrape(app.test_client())
    finally:
        with app.app_context():
            db.engine.dispose()
    assert sample(values, "trickle_database_up") == 0
    assert not [name for name, _ in values if name.startswith("trickle_deliveries_")]
    assert sample(
        values, "trickle_http_requests_total", method="GET", route="/metrics", status="200"
    )


def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(client):
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/openmetrics-text;")
    assert response.get_data(as_text=True).endswith("# EOF\n")


@pytest.mark.parametrize(
    "remote",
    [
        "127.0.0.1",
        "127.8.0.2",
        "::1",
        "::ffff:10.0.0.1",
        "10.2.3.4",
        "172.31.0.9",
        "192.168.1.20",
        "fd00::5",
    ],
)
def test_without_a_token_loopback_and_private_addresses_may_scrape(client, remote):
    assert sample(scrape(client, remote), "trickle_database_up") == 1


@pytest.mark.parametrize(
    "remote",
    ["8.8.8.8", "203.0.113.9", "172.32.0.1", "100.64.0.1", "2001:db8::1", "::ffff:8.8.8.8"],
)
def test_without_a_token_other_addresses_get_403(client, remote):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == 403
    assert response.get_json() == {
        "error": {
            "code": "forbidden",
            "message": "Metrics are served to loopback and private addresses, "
            "or with the metrics token.",
        }
    }


def test_a_forwarded_for_header_is_not_believed_without_proxy_fix(client):
    response = client.get(
        "/metrics",
        headers={"X-Forwarded-For": "127.0.0.1"},
        environ_base={"REMOTE_ADDR": "8.8.8.8"},
    )
    assert response.status_code == 403
