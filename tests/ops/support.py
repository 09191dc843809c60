"""Reading what operations endpoints write (JSON log lines, Prometheus expositions), and real
gunicorn servers with two workers to read them from."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from gunicorn.config import Config as GunicornConfig
from prometheus_client.parser import text_string_to_metric_families

from app.config import redis_test_url
from bench.load import stop_group

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 30.0
BURST = 8  # concurrent requests, on fresh connections: more than two sync workers can hold


def json_lines(text: str) -> list[dict[str, object]]:
    """Every non-empty line of ``text`` as JSON (fails the test on a line that is not)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``{(sample name, labels): value}`` of a Prometheus text exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def sample(values: dict, name: str, **labels: str) -> float:
    return values.get((name, frozenset(labels.items())), 0.0)


# ---- real gunicorn, two workers ----


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    port: int
    access_log: Path
    stderr: Path

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        json_body: object = None,
    ):
        """One request on a fresh connection: (status, Retry-After, body). A POST sends
        ``json_body``, ``{}`` without one."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        with contextlib.closing(conn):
            body = json.dumps(json_body or {}).encode() if method == "POST" else None
            sent = {"Content-Type": "application/json", **(headers or {})}
            conn.request(method, path, body, sent)
            response = conn.getresponse()
            return response.status, response.getheader("Retry-After"), response.read()

    def burst(self, method: str, path: str, headers: Callable[[], dict[str, str]]) -> list:
        """BURST requests at once, each on its own connection, with its own ``headers()``."""
        with ThreadPoolExecutor(BURST) as pool:
            futures = [pool.submit(self.request, method, path, headers()) for _ in range(BURST)]
            return [future.result() for future in futures]

    def pids(self, path: str, client: str | None = None) -> set[str]:
        """Workers that logged an answer to ``path`` for this client: the last X-Forwarded-For
        hop, or None for requests without the header."""
        found = set()
        for line in self.access_log.read_text().splitlines():
            pid, _status, logged_path, forwarded = line.split(" ", 3)
            last_hop = None if forwarded == "-" else forwarded.rsplit(",", 1)[-1].strip()
            if logged_path == path and last_hop == client:
                found.add(pid)
        return found

    def metrics(self) -> dict:
        status, _, body = self.request("GET", "/metrics")
        assert status == 200
        return samples(body.decode())


@contextlib.contextmanager
def gunicorn(
    database: str, workdir: Path, multiproc_dir: Path | None = None, **settings: str
) -> Iterator[Server]:
    """``gunicorn -w 2`` on a free port, with ``TRICKLE_<name>`` set from ``settings``; its whole
    process group is stopped on the way out."""
    port = free_port()
    server = Server(port, workdir / "access.log", workdir / "stderr.log")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRICKLE_", "PROMETHEUS_"))}
    env |= {"TRICKLE_DATABASE_URL": database, "TRICKLE_SECRET_KEY": "test-secret-key"}
    env |= {f"TRICKLE_{name}": value for name, value in settings.items()}
    if multiproc_dir is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(multiproc_dir)
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}"]
    command += ["--access-logfile", str(server.access_log)]
    command += ["--access-logformat", "%(p)s %(s)s %(U)s %({x-forwarded-for}i)s"]
    if "control_socket" in GunicornConfig().settings:  # gunicorn 25+: not the shared default path
        command += ["--control-socket", str(workdir / "gunicorn.ctl")]
    command += ["app:create_app()"]
    with server.stderr.open("wb") as stderr:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=stderr, stderr=stderr, start_new_session=True
        )
    try:
        wait_until_healthy(process, server)
        yield server
    finally:
        stop_group(process)


def wait_until_healthy(process: subprocess.Popen[bytes], server: Server) -> None:
    """Until both workers have answered /healthz: one answering while the other still boots
    would serve every request of a test alone."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited ({process.returncode}):\n{server.stderr.read_text()}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            statuses = {status for status, _, _ in server.burst("GET", "/healthz", dict)}
            if statuses == {200} and len(server.pids("/healthz")) == 2:
                return
        time.sleep(0.05)
    pytest.fail(
        f"both workers did not answer /healthz in {STARTUP_TIMEOUT_S:.0f} s:\n"
        + server.stderr.read_text()
    )


@contextlib.contextmanager
def redis_gunicorn(
    database: str, workdir: Path, multiproc_dir: Path | None = None, **settings: str
) -> Iterator[Server]:
    """``gunicorn`` counting its limits in the test Redis, under a key prefix of its own that is
    deleted afterwards. Skipped (the reason is printed) when ``TRICKLE_TEST_REDIS_URL`` is unset."""
    url = redis_test_url()
    if not url:
        pytest.skip("TRICKLE_TEST_REDIS_URL is not set: the shared-storage leg is skipped")
    prefix = f"trickle-test-{uuid.uuid4().hex[:12]}"
    settings = {"RATELIMIT_STORAGE_URI": url, "RATELIMIT_KEY_PREFIX": prefix, **settings}
    try:
        with gunicorn(database, workdir, multiproc_dir, **settings) as server:
            yield server
    finally:
        with contextlib.closing(redis.Redis.from_url(url)) as client:
            keys = list(client.scan_iter(match=f"*{prefix}*"))
            if keys:
                client.delete(*keys)
