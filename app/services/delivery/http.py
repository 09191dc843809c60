"""Sending one webhook request: resolve, check the address, POST, read the answer.

Standard library only, so that what happens on the wire is exactly what this module says:

- the host is resolved once and the connection goes to an address that was checked, so a DNS
  answer that changes between the check and the connection cannot reach a private network;
- redirects are never followed (a 3xx is an answer like any other: a failure);
- the whole attempt, resolving and connecting included, ends after ``timeout`` seconds;
- at most ``RESPONSE_KEPT_BYTES`` of the response body are read and kept.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import os
import queue
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.domain.webhooks import RESPONSE_KEPT_BYTES, masked_url
from app.services.addresses import Resolver, is_private, resolve


@dataclass(frozen=True)
class SendResult:
    status: int | None  # None: no HTTP answer at all
    duration_ms: int
    response: str  # the first RESPONSE_KEPT_BYTES of the body, decoded leniently
    retry_after: str | None
    error: str | None  # why there was no answer (or why it was not sent)


def post(
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    timeout: float,
    allow_private: bool,
    resolver: Resolver = resolve,
) -> SendResult:
    """POST ``body`` to ``url``; never raises for anything the network or receiver does."""
    started = time.monotonic()

    def result(
        status: int | None = None,
        response: bytes = b"",
        retry_after: str | None = None,
        error: str | None = None,
    ) -> SendResult:
        elapsed = int((time.monotonic() - started) * 1000)
        text = response.decode("utf-8", errors="replace")
        return SendResult(status, elapsed, text, retry_after, error)

    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # "http://[::1", "http://host:99999/"
        return result(error=f"not a valid URL: {masked_url(url)}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return result(error=f"not an http(s) URL: {masked_url(url)}")
    host = parts.hostname
    deadline = _Deadline(timeout)
    try:
        addresses = _resolve_within(resolver, host, port, deadline.remaining())
    except TimeoutError:
        return result(error=f"timed out after {timeout:g} s (resolving {host})")
    except (OSError, UnicodeError, ValueError):  # ValueError: a NUL in the name
        return result(error=f"could not resolve {host}")
    if not addresses:
        return result(error=f"could not resolve {host}")
    if not allow_private:
        private = [a for a in addresses if is_private(a)]
        if private:
            return result(
                error=f"refused: {host} resolves to {private[0]}, a private, loopback or "
                "link-local address (TRICKLE_ALLOW_PRIVATE_TARGETS is off)"
            )
    try:
        sock = _connect(addresses, port, deadline)
    except TimeoutError:
        return result(error=f"timed out after {timeout:g} s (connecting)")
    except OSError as exc:
        return result(error=f"could not connect to {host}:{port}: {exc.strerror or exc}")
    deadline.guard(sock)
    try:
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
            deadline.guard(sock)
        connection = http.client.HTTPConnection(host, port, timeout=deadline.remaining())
        connection.sock = sock
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers=dict(headers))
        response = connection.getresponse()
        kept = response.read(RESPONSE_KEPT_BYTES)
        if deadline.expired:
            # The shutdown ends a read as if the receiver had finished: what was read may be a
            # cut-off answer ("HTTP/1.1 200" parses), never a reason to count it delivered.
            return result(error=f"timed out after {timeout:g} s")
        return result(response.status, kept, response.getheader("retry-after"))
    except (OSError, http.client.HTTPException) as exc:
        if deadline.expired or isinstance(exc, TimeoutError):
            return result(error=f"timed out after {timeout:g} s")
        if isinstance(exc, ssl.SSLError):
            return result(error=f"TLS error: {exc.reason or exc}")
        if isinstance(exc, http.client.RemoteDisconnected | ConnectionError):
            return result(error="the receiver closed the connection without answering")
        if isinstance(exc, http.client.HTTPException):
            return result(error=f"unreadable answer: {type(exc).__name__}")
        return result(error=f"network error: {exc}")
    finally:
        deadline.cancel()
        sock.close()


class _Deadline:
    """One budget for the whole attempt: when it runs out the socket is shut down, which ends
    any read that a slow receiver keeps alive one byte at a time. One watchdog thread keeps
    every attempt's deadline (a thread per attempt was a seventh of a worker's samples)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self.cancelled = False
        self._sock: socket.socket | None = None

    def remaining(self) -> float:
        return max(0.001, self.ends - time.monotonic())

    def guard(self, sock: socket.socket) -> None:
        sock.settimeout(self.remaining())
        first = self._sock is None
        self._sock = sock
        if first:
            _WATCHDOG.watch(self)

    def expire(self) -> None:
        self.expired = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self.cancelled = True
        self._sock = None


class _Watchdog:
    """Expires the deadlines of attempts still running when their time is up; a cancelled
    deadline is dropped when its turn comes."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, _Deadline]] = []
        self._changed = threading.Condition()
        self._count = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: _Deadline) -> None:
        with self._changed:
            heapq.heappush(self._due, (deadline.ends, next(self._count), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            if self._due[0][2] is deadline:
                self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._due:
                    self._changed.wait()
                ends, _, deadline = self._due[0]
                if not deadline.cancelled and ends > time.monotonic():
                    self._changed.wait(ends - time.monotonic())
                    continue
                heapq.heappop(self._due)
            if not deadline.cancelled:
                deadline.expire()


_WATCHDOG = _Watchdog()


class _Lookups:
    """Name lookups run on reused daemon threads, a new one only when none is free: a lookup
    that hangs holds its own thread, never another attempt (nor the worker's exit)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[list[str]], Callable[[], list[str]]]] = (
            queue.SimpleQueue()
        )
        self._free = 0
        self._lock = threading.Lock()

    def submit(self, lookup: Callable[[], list[str]]) -> Future[list[str]]:
        future: Future[list[str]] = Future()
        with self._lock:
            if self._free:
                self._free -= 1
            else:
                threading.Thread(target=self._serve, name="resolve", daemon=True).start()
        self._jobs.put((future, lookup))
        return future

    def _serve(self) -> None:
        while True:
            future, lookup = self._jobs.get()
            try:
                future.set_result(lookup())
            except BaseException as exc:  # handed to the caller
                future.set_exception(exc)
            with self._lock:
                self._free += 1


_LOOKUPS = _Lookups()


def _after_fork() -> None:
    """A forked process has none of its parent's threads: it starts its own."""
    global _WATCHDOG, _LOOKUPS
    _WATCHDOG, _LOOKUPS = _Watchdog(), _Lookups()


os.register_at_fork(after_in_child=_after_fork)


def _resolve_within(resolver: Resolver, host: str, port: int, seconds: float) -> list[str]:
    """``resolver(host, port)``, given up on (TimeoutError) after ``seconds``: a name server that
    does not answer must not hold a worker past the attempt's deadline. The lookup itself cannot
    be cancelled; it ends in the background."""
    return _LOOKUPS.submit(lambda: resolver(host, port)).result(timeout=seconds)


def _connect(addresses: list[str], port: int, deadline: _Deadline) -> socket.socket:
    """A connection to the first of ``addresses`` that answers."""
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=deadline.remaining())
        except TimeoutError:
            raise
        except OSError as exc:
            error = exc
    raise error
