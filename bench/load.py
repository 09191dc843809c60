"""A bounded, self-stopping HTTP load generator against the real server (gunicorn) on 127.0.0.1:
start the server, send numbered requests from client threads, time them and check every answer."""

from __future__ import annotations

import contextlib
import http.client
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEALTH_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(url: str, secret: str, workers: int, profile: Path | None = None) -> Iterator[int]:
    """The real server on a free local port; stopped (its whole process group) on the way out.
    ``profile``: a directory the workers write their profiles to (bench/profiling.py)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRICKLE_")}
    env |= {"TRICKLE_DATABASE_URL": url, "TRICKLE_SECRET_KEY": secret}
    env |= {"TRICKLE_RATELIMIT_ENABLED": "false"}
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", "1"]
    if profile is not None:
        env["BENCH_PROFILE_DIR"] = str(profile)
        command += ["-c", str(ROOT / "bench" / "profiling.py")]
    command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_until_healthy(server, port)
        yield port
    finally:
        stop_group(server)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started with ``start_new_session`` and everything it forked: TERM, then
    KILL after 10 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_until_healthy(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {server.returncode}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        with contextlib.suppress(OSError, http.client.HTTPException), contextlib.closing(conn):
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"/api/v1/health did not answer within {HEALTH_TIMEOUT_S:.0f} s")


@dataclass(frozen=True)
class Target:
    name: str
    method: str
    path: str
    body: Callable[[int], bytes | None]  # the body of request number i
    check: Callable[[int, bytes], str | None]  # what is wrong with response i's body, if anything
    status: int = 200  # the status every answer must have (an event's is 202)


@dataclass
class Measure:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: Measure) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds

    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)] * 1000 if ordered else 0.0


def send_all(port: int, target: Target, indexes: Iterator[int], measure: Measure) -> None:
    """One client thread: take request numbers until there are none, over a reused connection."""
    headers = {"Content-Type": "application/json"} if target.method == "POST" else {}
    conn: http.client.HTTPConnection | None = None
    for i in indexes:
        started = time.perf_counter()
        try:
            conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(target.method, target.path, target.body(i), headers)
            response = conn.getresponse()
            raw = response.read()
            ok = response.status == target.status
            problem = target.check(i, raw) if ok else f"HTTP {response.status}"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            problem, response = f"{type(exc).__name__}: {exc}", None
        measure.latencies.append(time.perf_counter() - started)
        if problem:
            measure.errors.append(problem)
        if conn is not None and (response is None or response.will_close):
            conn.close()  # gunicorn's sync workers close every connection after its response
            conn = None


def run_load(port: int, target: Target, offset: int, count: int, concurrency: int) -> Measure:
    """``count`` requests from ``concurrency`` threads; the clock runs from first to last."""
    numbers = iter(range(offset, offset + count))
    lock = threading.Lock()

    def indexes() -> Iterator[int]:
        while True:
            with lock:
                i = next(numbers, None)
            if i is None:
                return
            yield i

    parts = [Measure() for _ in range(concurrency)]
    threads = [
        threading.Thread(target=send_all, args=(port, target, indexes(), m), daemon=True)
        for m in parts
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Measure(seconds=time.perf_counter() - started)
    for part in parts:
        total.add(Measure(part.latencies, part.errors))
    return total


def measure_both(
    port: int, targets: list[Target], *, requests: int, warmup: int, rounds: int, concurrency: int
) -> dict[str, Measure]:
    """Warm up each target, then send ``requests`` to each, alternating them over ``rounds``."""
    for target in targets:
        warm = run_load(port, target, 0, warmup, concurrency)
        fail_on_errors(target.name + " (warm-up)", warm)
    results = {target.name: Measure() for target in targets}
    share = math.ceil(requests / rounds)
    for r in range(rounds):
        for target in targets:
            count = min(share, requests - r * share)
            results[target.name].add(run_load(port, target, warmup + r * share, count, concurrency))
    for name, measure in results.items():
        fail_on_errors(name, measure)
    return results


def fail_on_errors(name: str, measure: Measure) -> None:
    if measure.errors:
        kinds = sorted(set(measure.errors))[:5]
        raise SystemExit(f"{name}: {len(measure.errors)} failed requests, e.g. {kinds}")


def report_table(results: dict[str, Measure]) -> str:
    lines = [
        "| endpoint | requests | errors | req/s | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in results.items():
        lines.append(
            f"| `{name}` | {len(m.latencies)} | {len(m.errors)} | {m.per_second():.0f} | "
            f"{m.percentile_ms(50):.1f} | {m.percentile_ms(95):.1f} | {m.percentile_ms(99):.1f} |"
        )
    return "\n".join(lines)
