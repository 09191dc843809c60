"""cProfile inside gunicorn's workers, for ``bench/api_load.py --profile DIR``; no profiling
code lives in app/.

As a gunicorn config file (``-c bench/profiling.py``, with ``BENCH_PROFILE_DIR`` set) it wraps
each worker's WSGI app after it is loaded: each request runs under the profiler of its endpoint
(ask, submit, events; other paths are not profiled), and the worker writes one stats file per
endpoint (``<endpoint>-<pid>.prof``) when it exits. As a script it merges those files and prints
each endpoint's top functions by own time and by cumulative time (CPU seconds of the worker)::

    .venv/bin/python bench/profiling.py DIR [--top 10]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ENDPOINTS = {"/ask": "ask", "/submit": "submit", "/events": "events"}


def endpoint_of(path: str) -> str | None:
    """The widget endpoint a request path names (by its last segment), None for any other."""
    return next((name for end, name in ENDPOINTS.items() if path.endswith(end)), None)


class Profiled:
    """A WSGI app whose requests to the widget endpoints run under one profiler per endpoint
    (the response body is produced inside the call: the views answer with a complete body)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.profiles: dict[str, cProfile.Profile] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        name = endpoint_of(environ.get("PATH_INFO", ""))
        if name is None:
            return self.app(environ, start_response)
        profile = self.profiles.get(name)
        if profile is None:
            # The worker's CPU time, not the wall clock: the machine's other processes (wrk,
            # the other worker, a database server) then count for little.
            profile = self.profiles[name] = cProfile.Profile(time.process_time)
        profile.enable()
        try:
            return list(self.app(environ, start_response))
        finally:
            profile.disable()

    def dump(self, directory: Path) -> None:
        for name, profile in self.profiles.items():
            profile.dump_stats(directory / f"{name}-{os.getpid()}.prof")


# --- gunicorn hooks (this file as ``-c``) -----------------------------------------------------


def post_worker_init(worker: Any) -> None:
    worker.wsgi = Profiled(worker.wsgi)


def worker_exit(server: Any, worker: Any) -> None:
    if isinstance(worker.wsgi, Profiled):
        worker.wsgi.dump(Path(os.environ["BENCH_PROFILE_DIR"]))


# --- report -----------------------------------------------------------------------------------


def top(directory: Path, name: str, sort: str, count: int) -> str:
    """The merged stats of one endpoint's files, ``count`` lines sorted by ``sort``."""
    files = sorted(str(p) for p in directory.glob(f"{name}-*.prof"))
    if not files:
        return f"{name}: no profile\n"
    out = io.StringIO()
    stats = pstats.Stats(*files, stream=out)
    stats.strip_dirs().sort_stats(sort).print_stats(count)
    body = out.getvalue()
    table = body[body.index("   ncalls") :] if "   ncalls" in body else body
    head = f"{stats.total_calls} calls, {stats.total_tt:.2f} s"  # type: ignore[attr-defined]
    return f"{name} by {sort} ({head}):\n{table}"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="Print the worker profiles of an api_load run.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    for name in ENDPOINTS.values():
        for sort in ("tottime", "cumulative"):
            print(top(args.directory, name, sort, args.top))


if __name__ == "__main__":
    main(sys.argv[1:])
