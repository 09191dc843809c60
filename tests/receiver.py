"""A local webhook receiver for tests and benchmarks: records every request, answers as told.

It binds to 127.0.0.1 on a free port. Behaviour can be changed at any time:

- ``answer(status, headers, body)``: every request gets this answer (default 200 "ok");
- ``script(*answers)``: the next requests get these answers in turn, then the default again;
- ``hang()``: requests get no answer until the receiver is stopped or ``answer`` is called;
- ``close()``: the connection is dropped without an answer;
- ``script_for(webhook_id, *answers)``: requests with that ``webhook-id`` get these answers in
  turn (before any ``script``), then the others' answer again;
- ``delay(seconds)``: every answer waits this long after the request was recorded;
- ``stop()`` / ``start()``: nothing listens (connections refused), then the same port again.

``wait_for(count)`` waits (with a timeout) until that many requests have arrived, and
``wait_answered(webhook_ids)`` until the answers to those were written out, for tests that drive a
worker in another process or thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import standardwebhooks.webhooks
from standardwebhooks.webhooks import Webhook


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    mode: str = "answer"  # answer | hang | close


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


def verify(secret: str, request: Received) -> Any:
    """``Webhook(secret).verify`` as a receiver whose clock reads the request's own timestamp:
    tests move the sender's clock by hours, and the package checks the timestamp against "now"
    (5 minutes' tolerance). Signature, id and timestamp are all checked as usual."""
    sent = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return sent

    with mock.patch.object(standardwebhooks.webhooks, "datetime", Frozen):
        return Webhook(secret).verify(request.body, request.headers)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answered: list[str] = []  # the webhook-id of each answer written out, in turn
        self._default = Answer()
        self._script: deque[Answer] = deque()
        self._by_id: dict[str, deque[Answer]] = {}
        self._delay = 0.0
        self._arrived = threading.Condition()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.start()

    # --- behaviour ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def answer(self, status: int = 200, headers: dict[str, str] | None = None, body: bytes = b"ok"):
        with self._lock:
            self._default = Answer(status, headers or {}, body)
            self._script.clear()
        self._release.set()
        self._release = threading.Event()

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self._script.extend(answers)

    def hang(self) -> None:
        with self._lock:
            self._default = Answer(mode="hang")

    def close(self) -> None:
        with self._lock:
            self._default = Answer(mode="close")

    def script_for(self, webhook_id: str, *answers: Answer) -> None:
        with self._lock:
            self._by_id.setdefault(webhook_id, deque()).extend(answers)

    def delay(self, seconds: float) -> None:
        with self._lock:
            self._delay = seconds

    def _next(self, webhook_id: str) -> tuple[Answer, float]:
        with self._lock:
            own = self._by_id.get(webhook_id)
            if own:
                return own.popleft(), self._delay
            return (self._script.popleft() if self._script else self._default), self._delay

    def wait_for(self, count: int, timeout: float = 30.0) -> int:
        """Wait until at least ``count`` requests arrived; returns how many did (AssertionError
        after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.requests)} requests arrived, not {count}")
                self._arrived.wait(left)
            return len(self.requests)

    def wait_answered(self, webhook_ids: set[str], timeout: float = 30.0) -> None:
        """Wait until every one of ``webhook_ids`` was answered: the whole answer written out
        (AssertionError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not webhook_ids <= set(self.answered):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"answered {sorted(self.answered)}, not all of {webhook_ids}"
                    )
                self._arrived.wait(left)

    def ids(self) -> list[str]:
        """The ``webhook-id`` of every request received, in order."""
        with self._lock:
            return [r.headers.get("webhook-id", "") for r in self.requests]

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        receiver = self
        self._release = threading.Event()  # a stop() released the hung requests of before

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The head and the body are two writes: without this, the second one waits for a
            # delayed ACK (40 ms per request).
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: nothing was received
                    self.close_connection = True
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.requests.append(Received(self.path, headers, body))
                with receiver._arrived:
                    receiver._arrived.notify_all()
                reply, delay = receiver._next(headers.get("webhook-id", ""))
                if delay:
                    time.sleep(delay)
                if reply.mode == "hang":
                    receiver._release.wait(30)
                    self.close_connection = True
                    return
                if reply.mode == "close":
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
                with receiver._arrived:
                    receiver.answered.append(headers.get("webhook-id", ""))
                    receiver._arrived.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 512  # workers send side by side (the default backlog is 5)
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a sender that hung up (timed out, killed) is what some tests do

        server = Server(("127.0.0.1", self.port), Handler)
        self.port = server.server_address[1]
        self._server = server
        # A short poll interval: stop() waits for the serving loop to notice (0.5 s by default).
        self._thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: new connections are refused until ``start``."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
