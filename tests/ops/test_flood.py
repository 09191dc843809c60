"""One flood does not starve a returning visitor (issue 18, item 7), against real gunicorn with
two workers counting in Redis, behind one trusted proxy hop (``TRICKLE_PROXY_FIX=1``), so each
request names its client in ``X-Forwarded-For``.

A few addresses use up the site's budget for anonymous requests; then, in concurrent bursts until
the access log shows both workers answering each side, the visitor who holds a token is served
and the flooders are refused: both workers read the same counts.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.ops.support import BURST, Server, redis_gunicorn

ASK = "/api/v1/sites/acme/forms/blog/ask"
EVENTS = "/api/v1/sites/acme/events"
SITE_BUDGET = 6
LIMITS = {
    "PROXY_FIX": "1",
    "RATELIMIT_PUBLIC_PER_IP": "100/minute",
    "RATELIMIT_PUBLIC_PER_SITE": f"{SITE_BUDGET}/minute",
    "RATELIMIT_PUBLIC_PER_VISITOR": "100/minute",
}
# Two IPv4 clients and one IPv6 client using two addresses of its /64.
FLOODERS = ["198.51.100.1", "198.51.100.2", "2001:db8:7:7::1", "2001:db8:7:7::2"]
HOLDER = "203.0.113.5"
MAX_BURSTS = 12


@pytest.fixture(scope="module")
def server(database, tmp_path_factory) -> Iterator[Server]:
    with redis_gunicorn(database, tmp_path_factory.mktemp("flood"), **LIMITS) as server:
        yield server


def ask(server: Server, client: str, visitor: str | None = None) -> tuple[int, bytes]:
    body = {"visitor": visitor} if visitor else {}
    status, _, answer = server.request("POST", ASK, {"X-Forwarded-For": client}, body)
    return status, answer


def test_a_flood_uses_the_site_budget_and_a_token_holder_is_still_served(server):
    status, answer = ask(server, HOLDER)  # the holder's first visit: the site's 1st request
    assert status == 200
    # Its first write stores the visitor (the site's 2nd request): the token it answers with is
    # a returning visitor's, with a bucket of its own.
    status, _, answer = server.request(
        "POST",
        EVENTS,
        {"X-Forwarded-For": HOLDER},
        {"visitor": json.loads(answer)["visitor"], "kind": "page_view"},
    )
    assert status == 202
    token = json.loads(answer)["visitor"]

    flood = [ask(server, client)[0] for _ in range(2) for client in FLOODERS]
    assert flood == [200] * (SITE_BUDGET - 2) + [429] * (2 * len(FLOODERS) - SITE_BUDGET + 2)
    assert ask(server, "192.0.2.50")[0] == 429  # a new anonymous visitor: the site's budget

    answers: dict[str, list[int]] = {"holder": [], "flooders": []}
    for _ in range(MAX_BURSTS):
        with ThreadPoolExecutor(BURST) as pool:
            held = [pool.submit(ask, server, HOLDER, token) for _ in range(BURST // 2)]
            flooded = [pool.submit(ask, server, secrets.choice(FLOODERS)) for _ in held]
            answers["holder"] += [future.result()[0] for future in held]
            answers["flooders"] += [future.result()[0] for future in flooded]
        if len(server.pids(ASK, HOLDER)) == 2 and len(flooder_pids(server)) == 2:
            break
    else:
        pytest.fail(f"one worker answered every request: {server.pids(ASK, HOLDER)}")
    assert set(answers["holder"]) == {200}
    assert set(answers["flooders"]) == {429}


def flooder_pids(server: Server) -> set[str]:
    return set().union(*(server.pids(ASK, client) for client in FLOODERS))
