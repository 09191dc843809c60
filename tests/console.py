"""Helpers for console tests on Flask's test client: the password every test user gets, the page's
CSRF token, signing in, posting a form like the browser, and reading errors and table rows."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.factories import PASSWORD


def csrf_token(client, path: str = "/admin/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def sign_in(client, email: str = "ann@acme.example", password: str = PASSWORD, **query):
    return client.post(
        "/admin/login",
        query_string=query,
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
    )


def post_form(client, path: str, data: dict, page: str | None = None):
    """POST like the browser: the page's CSRF token and the config version it showed."""
    html = client.get(page or path).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    version = re.search(r'name="version" value="(\d+)"', html)
    fields = {"csrf_token": token, **({"version": version.group(1)} if version else {}), **data}
    return client.post(path, data=fields)


def field_errors(html: str) -> dict[str, str]:
    """Each input's error, by the input's id."""
    return dict(re.findall(r'<p class="error" id="([\w-]+)-error">([^<]*)</p>', html))


class _Cells(HTMLParser):
    """The text of every body row's cells, whitespace collapsed."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_body = self._in_cell = False

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "td":
            self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self.rows[-1][-1] = " ".join((self.rows[-1][-1] + " " + data).split())


def table_rows(html: str) -> list[list[str]]:
    parser = _Cells()
    parser.feed(html)
    return parser.rows
