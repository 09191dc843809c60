"""Real Chromium against a live Trickle server, with host pages served from another origin.

Two servers bind to 127.0.0.1 on free ports: the Trickle app (the ``app`` fixture's, so every
browser test also runs on each database backend) and a host site whose pages embed the widget,
so CORS is real. Chromium is the system one when present (Debian's /usr/bin/chromium), else
Playwright's own.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "e2e"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        executable = str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.exists() else None
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class ServerThread:
    """A socketserver serving from a daemon thread until ``stop``."""

    def __init__(self, server: socketserver.BaseServer) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class LiveServer(ServerThread):
    def __init__(self, app: Flask) -> None:
        super().__init__(make_server("127.0.0.1", 0, app, threaded=True))
        self.url = f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def trickle(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


class HostSite(ServerThread):
    """Another origin serving pages by path: ``pages["/blog"] = "<html>..."``."""

    def __init__(self) -> None:
        pages: dict[str, str] = {}
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
        self.origin = f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def host() -> Iterator[HostSite]:
    site = HostSite()
    yield site
    site.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.page_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()
