"""Sending one webhook request (``app.services.delivery.http.post``), against a local receiver:
private addresses refused before connecting, the checked address pinned, no redirects, one
deadline for the whole attempt, at most 1 KB of the answer kept."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from app.services.delivery import http as webhook_http
from app.services.delivery.http import post
from tests.receiver import Answer, Receiver

BODY = b'{"type":"contact.updated"}'
HEADERS = {"content-type": "application/json", "webhook-id": "msg_1"}


@pytest.fixture
def connections(monkeypatch) -> list[tuple[str, int]]:
    """Every connection ``post`` opens (they still go through)."""
    opened: list[tuple[str, int]] = []
    real = socket.create_connection

    def recording(address, *args, **kwargs):
        opened.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(webhook_http.socket, "create_connection", recording)
    return opened


def resolving_to(*addresses: str):
    calls: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return list(addresses)

    resolver.calls = calls  # type: ignore[attr-defined]
    return resolver


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "10.0.0.1",
        "::1",
        "127.0.0.1",
        "192.168.1.20",
        "::ffff:10.1.2.3",
        "fd00::1",
        # IPv4 inside IPv6 (issue 18): NAT64, NAT64 local-use, IPv4-compatible, 6to4, Teredo
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::a00:1",
        "64:ff9b:1::a9fe:a9fe",
        "::127.0.0.1",
        "2002:a00:1::",
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",
    ],
)
def test_a_name_resolving_to_a_private_address_is_refused_without_connecting(address, connections):
    resolver = resolving_to(address)
    result = post(
        "https://hooks.example.com/in",
        HEADERS,
        BODY,
        timeout=1,
        allow_private=False,
        resolver=resolver,
    )
    assert result.status is None
    assert result.error == (
        f"refused: hooks.example.com resolves to {address}, a private, loopback or link-local "
        "address (TRICKLE_ALLOW_PRIVATE_TARGETS is off)"
    )
    assert resolver.calls == [("hooks.example.com", 443)]
    assert connections == []


def test_one_private_address_among_public_ones_is_enough_to_refuse(connections):
    result = post(
        "http://hooks.example.com:8080/in",
        HEADERS,
        BODY,
        timeout=1,
        allow_private=False,
        resolver=resolving_to("93.184.216.34", "10.0.0.7"),
    )
    assert result.error.startswith("refused: hooks.example.com resolves to 10.0.0.7,")
    assert connections == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/",
        "http://10.0.0.1/hooks",
        "http://[::1]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[64:ff9b::a00:1]/",
        "https://[64:ff9b:1::a9fe:a9fe]/",
        "https://[::127.0.0.1]/",
    ],
)
def test_private_ip_literals_are_refused_without_connecting(url, connections):
    result = post(url, HEADERS, BODY, timeout=1, allow_private=False)
    assert result.status is None
    assert result.error.startswith("refused: ")
    assert connections == []


def test_the_connection_goes_to_the_address_that_was_checked(receiver, connections):
    resolver = resolving_to("127.0.0.1")
    result = post(
        f"http://receiver.invalid:{receiver.port}/hooks?x=1",
        HEADERS,
        BODY,
        timeout=2,
        allow_private=True,
        resolver=resolver,
    )
    assert (result.status, result.response, result.error) == (200, "ok", None)
    assert resolver.calls == [("receiver.invalid", receiver.port)]  # resolved once
    assert connections == [("127.0.0.1", receiver.port)]
    (request,) = receiver.received()
    assert (request.path, request.body) == ("/hooks?x=1", BODY)
    assert request.headers["host"] == f"receiver.invalid:{receiver.port}"
    assert request.headers["webhook-id"] == "msg_1"


def test_a_redirect_is_returned_not_followed(receiver, connections):
    with Receiver() as other:
        receiver.answer(307, {"Location": other.url})
        result = post(receiver.url, HEADERS, BODY, timeout=2, allow_private=True)
        assert (result.status, result.error) == (307, None)
        assert other.received() == []
    assert len(connections) == 1


def test_only_the_first_kilobyte_of_the_answer_is_kept(receiver):
    receiver.answer(400, {"Retry-After": "30"}, b"\xe2\x82\xac" + b"x" * 5000)
    result = post(receiver.url, HEADERS, BODY, timeout=2, allow_private=True)
    assert result.status == 400
    assert result.retry_after == "30"
    assert result.response == "\u20ac" + "x" * 1021  # 1024 bytes, decoded


def test_a_hanging_receiver_times_out(receiver):
    receiver.hang()
    try:
        result = post(receiver.url, HEADERS, BODY, timeout=0.3, allow_private=True)
    finally:
        receiver.answer(200)
    assert (result.status, result.error) == (None, "timed out after 0.3 s")
    assert 250 <= result.duration_ms < 1500


@pytest.mark.parametrize(
    ("head", "trickle"),
    [(b"HTTP/1.1 200 OK\r\n", b"X"), (b"HTTP/1.1 200", b""), (b"HTTP/1.1 2", b"0")],
    ids=["byte by byte", "cut-off status line", "slow status line"],
)
def test_an_answer_unfinished_at_the_deadline_is_a_timeout(head, trickle):
    """Each byte arrives well within any per-read timeout; the whole attempt still ends, and
    what was read by then (it may parse as a 200) does not count as an answer."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(head)
            while not stop.is_set():
                try:
                    conn.sendall(trickle)
                except OSError:
                    return
                stop.wait(0.02)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        result = post(f"http://127.0.0.1:{port}/", HEADERS, BODY, timeout=0.3, allow_private=True)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        server.close()
        thread.join(5)
    assert (result.status, result.error) == (None, "timed out after 0.3 s")
    assert 0.25 <= elapsed < 1.5


def test_a_dropped_connection_and_a_refused_one(receiver):
    receiver.close()
    dropped = post(receiver.url, HEADERS, BODY, timeout=2, allow_private=True)
    assert (dropped.status, dropped.error) == (
        None,
        "the receiver closed the connection without answering",
    )
    receiver.stop()
    refused = post(receiver.url, HEADERS, BODY, timeout=2, allow_private=True)
    assert refused.status is None
    assert refused.error == f"could not connect to 127.0.0.1:{receiver.port}: Connection refused"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        # The URL in the error is masked as everywhere outside the admin's pages; one that
        # cannot be read at all is hidden whole.
        ("http://[::1", "not a valid URL: ***"),
        ("http://bob:S3cret@h.example:99999/", "not a valid URL: ***"),
        ("ftp://h.example/", "not an http(s) URL: ftp://h.example/"),
        (
            "ftp://bob:S3cret@h.example/?key=XYZ",
            "not an http(s) URL: ftp://***:***@h.example/?key=***",
        ),
        ("https:///path", "not an http(s) URL: https:///path"),
        ("http://bad\x00name/", "could not resolve bad\x00name"),
    ],
)
def test_an_unusable_url_is_an_error_not_an_exception(url, error, connections):
    result = post(url, HEADERS, BODY, timeout=1, allow_private=False)
    assert (result.status, result.error) == (None, error)
    assert connections == []


def test_a_name_that_does_not_resolve_is_an_error(connections):
    def failing(host: str, port: int) -> list[str]:
        raise socket.gaierror(-2, "Name or service not known")

    result = post(
        "https://nowhere.invalid/", HEADERS, BODY, timeout=1, allow_private=False, resolver=failing
    )
    assert (result.status, result.error) == (None, "could not resolve nowhere.invalid")
    empty = post(
        "https://nowhere.invalid/",
        HEADERS,
        BODY,
        timeout=1,
        allow_private=False,
        resolver=resolving_to(),
    )
    assert empty.error == "could not resolve nowhere.invalid"
    assert connections == []


def test_answers_are_kept_as_given(receiver):
    receiver.script(
        Answer(204, body=b""), Answer(503, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"})
    )
    first = post(receiver.url, HEADERS, BODY, timeout=2, allow_private=True)
    second = post(receiver.url, HEADERS, BODY, timeout=2, allow_private=True)
    assert (first.status, first.response, first.retry_after) == (204, "", None)
    assert (second.status, second.retry_after) == (503, "Wed, 21 Oct 2026 07:28:00 GMT")


def test_a_name_server_that_does_not_answer_counts_against_the_deadline(connections):
    released = threading.Event()

    def stuck(host: str, port: int) -> list[str]:
        released.wait(10)
        return ["127.0.0.1"]

    started = time.monotonic()
    try:
        result = post(
            "http://slow.example/in", HEADERS, BODY, timeout=0.3, allow_private=True, resolver=stuck
        )
    finally:
        released.set()
    elapsed = time.monotonic() - started
    assert (result.status, result.error) == (None, "timed out after 0.3 s (resolving slow.example)")
    assert 0.25 <= elapsed < 1.5
    assert connections == []
