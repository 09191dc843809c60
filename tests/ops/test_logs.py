"""JSON logs: one object per line, the request id in each record of a request, access lines."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db
from app.models import Delivery
from app.ops.logs import JsonFormatter
from tests.databases import settings_for
from tests.factories import acme_config, make_site
from tests.ops.support import json_lines

ROOT = Path(__file__).resolve().parents[2]
ASK = "/api/v1/sites/acme/forms/blog/ask"
GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def app_settings():
    return {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}


@pytest.fixture
def site(app):
    return make_site()


def logged(capsys) -> list[dict[str, object]]:
    return json_lines(capsys.readouterr().err)


def access_lines(lines):
    return [line for line in lines if line["logger"] == "trickle.access"]


def test_an_incoming_request_id_comes_back_and_is_in_the_json_access_line(client, site, capsys):
    capsys.readouterr()
    response = client.post(ASK, json={}, headers={"X-Request-ID": "trace-0123456789abcdef"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "trace-0123456789abcdef"
    [line] = access_lines(logged(capsys))
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "method",
        "path",
        "status",
        "duration_ms",
        "remote_addr",
    }
    assert (line["level"], line["request_id"], line["method"], line["path"]) == (
        "INFO",
        "trace-0123456789abcdef",
        "POST",
        ASK,
    )
    assert (line["status"], line["remote_addr"]) == (200, "127.0.0.1")
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["message"] == f"POST {ASK} 200 {line['duration_ms']:.1f} ms"
    assert datetime.fromisoformat(str(line["time"])).utcoffset() == timedelta(0)


def test_without_an_incoming_id_each_request_gets_a_new_one(client):
    first = client.get("/api/v1/health").headers["X-Request-ID"]
    second = client.get("/api/v1/health").headers["X-Request-ID"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    "bad",
    ["", "x" * 129, "has space", 'quote"d', "semi;colon", "<script>", "ünïcode", "tab\there"],
)
def test_a_bad_incoming_request_id_is_replaced(client, bad, capsys):
    capsys.readouterr()
    response = client.get("/nowhere", headers={"X-Request-ID": bad})
    assert response.status_code == 404
    replaced = response.headers["X-Request-ID"]
    assert GENERATED.fullmatch(replaced)
    [line] = access_lines(logged(capsys))
    assert line["request_id"] == replaced


def test_an_id_of_128_safe_characters_is_kept(client):
    given = "A-z_0.9:+/=" + "7" * 117
    assert len(given) == 128
    assert (
        client.get("/api/v1/health", headers={"X-Request-ID": given}).headers["X-Request-ID"]
        == given
    )


def test_every_record_made_during_a_request_carries_its_id(client, site, monkeypatch, capsys):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("app.api.routes.ask_questions", broken)
    capsys.readouterr()
    response = client.post(ASK, json={}, headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.get_json() == {
        "error": {"code": "internal_error", "message": "Something went wrong on our side."}
    }
    lines = logged(capsys)
    [error] = [line for line in lines if line["logger"] == "app.errors"]
    assert (error["level"], error["request_id"]) == ("ERROR", "req-500")
    assert error["message"] == f"unhandled error on POST {ASK}"
    assert "RuntimeError: boom" in str(error["exception"])
    [access] = access_lines(lines)
    assert (access["status"], access["request_id"]) == (500, "req-500")
    # Outside a request a record has no id.
    logging.getLogger("trickle.test").warning("outside")
    [outside] = logged(capsys)
    assert (outside["message"], outside["request_id"]) == ("outside", None)


def test_probes_are_logged_at_debug_everything_else_at_info(client, capsys):
    capsys.readouterr()
    for path in ("/healthz", "/metrics", "/api/v1/health"):
        assert client.get(path).status_code == 200
    assert client.get("/nowhere").status_code == 404
    assert [line["path"] for line in access_lines(logged(capsys))] == ["/nowhere"]
    logging.getLogger().setLevel(logging.DEBUG)
    client.get("/healthz")
    assert [(line["level"], line["path"]) for line in access_lines(logged(capsys))] == [
        ("DEBUG", "/healthz")
    ]


def test_text_leaves_logging_alone_and_other_formats_are_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'trickle.db'}"
    root = logging.getLogger()
    before = list(root.handlers), root.level
    create_app(settings_for(url, LOG_FORMAT="text"))
    assert (list(root.handlers), root.level) == before
    with pytest.raises(ValueError, match="TRICKLE_LOG_FORMAT must be one of text, json"):
        create_app(settings_for(url, LOG_FORMAT="xml"))
    with pytest.raises(ValueError, match="TRICKLE_LOG_LEVEL 'LOUD'"):
        create_app(settings_for(url, LOG_FORMAT="json", LOG_LEVEL="loud"))


def test_the_json_formatter_keeps_extras_and_exceptions():
    try:
        raise KeyError("k")
    except KeyError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "m %s", ("a",), sys.exc_info())
    record.destination = "crm"
    line = json_lines(JsonFormatter().format(record))[0]
    assert (line["message"], line["destination"], line["request_id"]) == ("m a", "crm", None)
    assert "KeyError: 'k'" in str(line["exception"])


def test_the_worker_logs_json_lines_too(tmp_path):
    """`trickle worker --once` with TRICKLE_LOG_FORMAT=json: every stderr line is a JSON object,
    the attempt's line among them."""
    url = f"sqlite:///{tmp_path / 'trickle.db'}"
    setup = create_app(settings_for(url, ALLOW_PRIVATE_TARGETS=True))
    with setup.app_context():
        db.create_all()
        hook = {"key": "crm", "url": "http://127.0.0.1:9/hook", "events": ["contact.updated"]}
        site = make_site(acme_config(destinations=[hook]))
        db.session.add(
            Delivery(
                site_id=site.id,
                destination_id=site.destinations[0].id,
                event_type="contact.updated",
                message_id="msg_json_worker",
                body=b"{}",
                next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC),
            )
        )
        db.session.commit()
        db.engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRICKLE_")}
    env |= {
        "TRICKLE_DATABASE_URL": url,
        "TRICKLE_SECRET_KEY": "test-secret-key",
        "TRICKLE_LOG_FORMAT": "json",
        "TRICKLE_ALLOW_PRIVATE_TARGETS": "true",
        "TRICKLE_DELIVERY_TIMEOUT_SECONDS": "2",
    }
    command = [str(Path(sys.executable).with_name("trickle")), "worker", "--once"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Sent 1 deliveries.\n"
    lines = json_lines(done.stderr)
    [attempt] = [line for line in lines if line["logger"] == "trickle.worker"]
    assert attempt["level"] == "INFO"
    assert str(attempt["message"]).startswith(
        "delivery msg_json_worker http://127.0.0.1:9/hook -> "
    )
    assert attempt["request_id"] is None
