"""Prometheus metrics: requests and latency per route template, deliveries read at scrape time.

Under gunicorn with several workers set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, emptied
at every start): each worker writes its counters there and a scrape, answered by any worker, adds
them all up (prometheus_client's multiprocess mode). Without it each process serves its own.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.config import prometheus_multiproc_dir
from app.extensions import db
from app.models.delivery import DEAD, PENDING, Delivery

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"  # no route: 404s and 405s, kept under one label whatever the path

REQUESTS = Counter(
    "trickle_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=None,
)
LATENCY = Histogram(
    "trickle_http_request_duration_seconds",
    "Time from the request's arrival in the app to its response, by route template.",
    ["route"],
    registry=None,
)


def check_multiproc_dir() -> None:
    """Refuse to start with a multiprocess directory that is not there."""
    directory = prometheus_multiproc_dir()
    if directory and not Path(directory).is_dir():
        raise RuntimeError(f"PROMETHEUS_MULTIPROC_DIR={directory} is not a directory")


def observe(method: str, route: str | None, status: int, seconds: float) -> None:
    label = route or UNMATCHED
    REQUESTS.labels(method if method in METHODS else "other", label, str(status)).inc()
    LATENCY.labels(label).observe(seconds)


@dataclass(frozen=True)
class DeliveryCounts:
    pending: int
    dead: int
    failing: int  # pending, and the last attempt failed


def delivery_counts() -> DeliveryCounts:
    """Two counts over ``ix_deliveries_due`` (status first): cheap however large the log grows."""
    by_status = dict(
        db.session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.status.in_((PENDING, DEAD)))
            .group_by(Delivery.status)
        ).all()
    )
    failing = db.session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.status == PENDING, Delivery.failures > 0)
    )
    return DeliveryCounts(by_status.get(PENDING, 0), by_status.get(DEAD, 0), failing or 0)


class _DatabaseGauges:
    """The values read for this scrape, as gauges (never in the multiprocess files)."""

    def __init__(self, counts: DeliveryCounts | None) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "trickle_database_up",
            "1 when the scrape could read the database, else 0 (and no delivery gauges).",
            value=0 if self.counts is None else 1,
        )
        if self.counts is None:
            return
        gauges = {
            "pending": ("Deliveries waiting to be sent, retries included.", self.counts.pending),
            "dead": ("Dead-lettered deliveries, until replayed or removed.", self.counts.dead),
            "failing": ("Pending deliveries whose last attempt failed.", self.counts.failing),
        }
        for name, (documentation, value) in gauges.items():
            yield GaugeMetricFamily(f"trickle_deliveries_{name}", documentation, value=value)


def render(accept: str | None) -> tuple[bytes, str]:
    """The exposition of this process (in multiprocess mode, of every worker) and its type:
    Prometheus' text format, or OpenMetrics when the scraper asks for it."""
    try:
        counts: DeliveryCounts | None = delivery_counts()
    except SQLAlchemyError:
        db.session.rollback()
        counts = None
    registry = CollectorRegistry(auto_describe=False)
    directory = prometheus_multiproc_dir()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(_DatabaseGauges(counts))
    encode, content_type = choose_encoder(accept or "")
    return encode(registry), content_type


def refusal(token: str | None, given: str | None, remote_addr: str | None) -> int | None:
    """Why /metrics is not served to this caller (401 or 403), or None to serve it. ``given``:
    the request's bearer credentials (``app.api.auth.bearer_token``)."""
    if token:
        if given is not None and hmac.compare_digest(given.encode(), token.encode()):
            return None
        return 401
    return None if is_internal(remote_addr) else 403


# Loopback, RFC 1918 and IPv6 unique-local: where a Prometheus server scrapes from when no token
# is set. (ipaddress's ``is_private`` would also let in documentation and reserved ranges.)
INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
    )
)


def is_internal(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in INTERNAL_NETWORKS)
