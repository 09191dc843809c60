"""Exports under pressure: other sites' rows, config changes mid-stream, hostile filters,
colliding column names, values of an unexpected type, slow readers, and the CLI's file."""

from __future__ import annotations

import copy
import io
import json
import os
import signal
import stat

import pandas as pd
import pytest
from sqlalchemy import event, func, select, text, update

from app.extensions import db
from app.models import Contact, EngagementEvent, Field, ProfileValue, Visitor
from app.services.exports import streams as exports
from app.services.exports import writers as export_writers
from app.services.exports.params import contact_export_request, history_export_request
from app.services.exports.streams import export_contacts, export_history
from tests.exports.support import LAB_FIELDS, fill, lab_config
from tests.factories import Widget, make_site, verified


def get(client, token, path, query=""):
    return client.get(
        f"/api/v1/sites/lab/{path}/export{query}", headers={"Authorization": f"Bearer {token}"}
    )


def test_a_chunk_reads_only_its_own_contacts_rows(client, lab, clock, monkeypatch):
    """Values, events and visitors are read for the chunk's contacts, not for every contact
    whose id falls between them (other sites', or ones the filters left out), in the chunk's
    one query."""
    make_site()  # acme
    first = fill(client, {"email": "first@lab.example"})
    first.event("webinar")
    for n in range(5):
        other = Widget(client)  # acme's visitors, ids between lab's two contacts
        other.event("page_view")
        other.ask()
        other.submit({"email": f"o{n}@acme.example"})
    clock.advance(hours=1)
    fill(client, {"email": "last@lab.example"})
    anonymous = Widget(client, site="lab", form="more")
    anonymous.ask()
    anonymous.event("page_view")
    anonymous.submit({"title": "x"})
    monkeypatch.setattr(exports, "CHUNK", 1)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        fmt, filters = contact_export_request("lab", {"format": "jsonl", "identified": "true"})
        export = export_contacts("lab", fmt, filters, clock())
        lines = [json.loads(line) for line in b"".join(export.chunks).splitlines()]
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    expected = [
        (row.email, row.events, row.last_seen.isoformat().replace("+00:00", "Z"))
        for row in db.session.execute(
            select(
                Contact.email,
                select(func.count())
                .where(EngagementEvent.contact_id == Contact.id)
                .scalar_subquery()
                .label("events"),
                select(func.max(Visitor.last_seen_at))
                .where(Visitor.contact_id == Contact.id)
                .scalar_subquery()
                .label("last_seen"),
            )
            .where(Contact.email.in_(["first@lab.example", "last@lab.example"]))
            .order_by(Contact.id)
        )
    ]
    assert [(r["email"], r["engagement_events"], r["last_seen_at"]) for r in lines] == expected
    assert [events for _, events, _ in expected] == [2, 1]  # a submit each, and the webinar
    assert expected[0][2] != expected[1][2]
    # Two chunks of one contact and the empty one that ends the stream: one query each.
    assert sum("engagement_events" in s for s in statements) == 3
    assert export.written == 2


def test_each_chunk_ends_its_transaction_before_its_rows_go_out(
    app, client, lab, clock, monkeypatch
):
    monkeypatch.setattr(exports, "CHUNK", 2)
    monkeypatch.setattr(export_writers, "_FLUSH_ROWS", 1)
    for n in range(4):
        fill(client, {"email": f"t{n}@lab.example"})
    fmt, filters = contact_export_request("lab", {"format": "csv"})
    chunks = export_contacts("lab", fmt, filters, clock()).chunks
    next(chunks)  # the header and the first row are out; the reader is slow
    assert not db.session().in_transaction()
    assert len(b"".join(chunks).splitlines()) == 3


def test_a_field_added_while_the_history_streams_is_exported_too(client, lab, clock, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 1)  # the history reads 5 rows per query
    monkeypatch.setattr(export_writers, "_FLUSH_ROWS", 1)
    # 16 rows: the reading thread, one chunk ahead, waits with rows 11-15 until the first
    # chunk's rows are written, so what follows row 15 is read after the new field came.
    for n in range(8):
        fill(client, {"email": f"h{n}@lab.example", "name": "N"})
    fmt, filters = history_export_request("lab", {"format": "csv"})
    export = export_history("lab", fmt, filters, clock())
    chunks = export.chunks
    next(chunks)
    config = lab_config()
    config["fields"].append(
        {"key": "city", "label": "City", "kind": "text", "tier": "basics", "priority": 5}
    )
    make_site(config)
    fill(client, {"email": "late@lab.example", "city": "Oslo"})
    frame = pd.read_csv(io.BytesIO(b"".join([b"submission_id", *chunks])[13:]), header=None)
    assert export.written == 18
    assert frame.iloc[-1, 3] == "city"
    assert frame.iloc[-1, 4] == "Oslo"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("contacts", "?updated_since=9999-12-31T23:59:59-01:00"),
        ("contacts", "?updated_since=0001-01-01T00:00:00%2B01:00"),
        ("submissions", "?since=9999-12-31T23:59:59-01:00"),
        ("contacts", "?min_completeness=" + "0" * 5000),
        ("contacts", "?min_completeness=0100"),
    ],
)
def test_out_of_range_filters_get_422(client, analyst_token, lab, path, query):
    response = get(client, analyst_token, path, query)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid"


@pytest.fixture
def colliding(app):
    """Keys that look like other columns: a field "stage", "name__at" beside "name"'s
    provenance, and "contact_id__2"."""
    config = lab_config()
    config["fields"] = [
        *copy.deepcopy(LAB_FIELDS[:2]),
        {"key": "name__at", "label": "At", "kind": "text", "tier": "basics", "priority": 11},
        {"key": "stage", "label": "Stage", "kind": "text", "tier": "basics", "priority": 12},
        {"key": "contact_id__2", "label": "C2", "kind": "text", "tier": "basics", "priority": 13},
    ]
    make_site(config)
    return "lab"


def test_no_column_shadows_another(client, colliding, clock):
    from app.services.accounts import create_token

    token = create_token("lab", "analyst", "t", now=clock())[1]
    fill(
        client,
        {
            "email": "c@lab.example",
            "name": "Nia",
            "name__at": "typed",
            "stage": "own stage",
            "contact_id__2": "c2",
        },
    )
    response = get(client, token, "contacts", "?format=parquet&provenance=true")
    frame = pd.read_parquet(io.BytesIO(response.get_data()))
    assert list(frame.columns)[8:] == [
        "email__at",
        "email__source",
        "name",
        "name__at",
        "name__source",
        "name__at__2",
        "name__at__at",
        "name__at__source",
        "stage__2",
        "stage__at",
        "stage__source",
        "contact_id__2",
        "contact_id__2__at",
        "contact_id__2__source",
    ]
    row = frame.iloc[0]
    assert (row["name"], row["name__at__2"], row["stage__2"]) == ("Nia", "typed", "own stage")
    assert row["stage"] == "lead"  # the contact's lifecycle stage, not the field keyed "stage"
    assert row["name__at"] == pd.Timestamp("2026-03-02T09:00:00Z")


def test_updated_since_includes_contacts_whose_company_value_changed(
    client, analyst_token, lab, clock
):
    first = verified(fill(client, {"email": "dee@shared.example"}), "dee@shared.example")
    fill(client, {"email": "eve@shared.example"})
    clock.advance(days=1)
    first.form = "more"
    first.ask()
    assert first.submit({"size": "11-50"}).status_code == 200
    response = get(client, analyst_token, "contacts", "?format=jsonl&updated_since=2026-03-03")
    frame = pd.read_json(io.StringIO(response.get_data(as_text=True)), lines=True)
    assert frame[["email", "size"]].to_dict("records") == [
        {"email": "dee@shared.example", "size": "11-50"},
        {"email": "eve@shared.example", "size": "11-50"},
    ]


@pytest.mark.parametrize(
    ("key", "stored", "csv", "jsonl", "parquet"),
    [
        ("employees", "12", "12", "12", None),
        ("employees", True, "true", True, None),
        ("subscribed", "yes", "yes", "yes", None),
        (
            "tags",
            [None, {"k": "=v"}, 3],
            ';{"k": "=v"};3',
            [None, {"k": "=v"}, 3],
            ["null", '{"k": "=v"}', "3"],
        ),
        ("tags", "solo", "solo", "solo", ["solo"]),
        ("name", 42, "42", 42, "42"),
    ],
)
def test_a_value_of_an_unexpected_type_never_breaks_an_export(
    client, analyst_token, lab, key, stored, csv, jsonl, parquet
):
    """Possible after a field's kind changed: CSV and JSONL show the value as stored, Parquet
    keeps its column's type (null where the value cannot be one, text as JSON)."""
    fill(
        client,
        {
            "email": "odd@lab.example",
            "name": "placeholder",
            "employees": 1,
            "subscribed": False,
            "tags": ["x"],
        },
    )
    field_id = select(Field.id).where(Field.key == key).scalar_subquery()
    db.session.execute(
        update(ProfileValue).where(ProfileValue.field_id == field_id).values(value=stored)
    )
    db.session.commit()
    as_csv = pd.read_csv(
        io.BytesIO(get(client, analyst_token, "contacts").get_data()),
        dtype=str,
        keep_default_na=False,
    )
    assert as_csv[key].tolist() == [csv]
    line = json.loads(get(client, analyst_token, "contacts", "?format=jsonl").get_data())
    assert line[key] == jsonl
    as_parquet = pd.read_parquet(
        io.BytesIO(get(client, analyst_token, "contacts", "?format=parquet").get_data())
    )
    value = as_parquet[key].tolist()[0]
    if parquet is None:
        assert pd.isna(value)
    elif isinstance(parquet, list):
        assert list(value) == parquet
    else:
        assert value == parquet


def test_the_cli_file_gets_the_usual_mode(runner, lab, client, tmp_path):
    fill(client, {"email": "m@lab.example"})
    target = tmp_path / "out.csv"
    target.write_text("old")
    target.chmod(0o600)
    umask = os.umask(0o022)
    try:
        result = runner.invoke(args=["export", "lab", "-o", str(target)])
    finally:
        os.umask(umask)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_the_cli_refuses_a_missing_folder(runner, lab, tmp_path):
    result = runner.invoke(args=["export", "lab", "-o", str(tmp_path / "nope" / "out.csv")])
    assert result.exit_code == 1
    assert result.stderr == f"error: no such folder: {tmp_path / 'nope'}\n"


def test_sigterm_leaves_no_partial_file(runner, lab, client, tmp_path, monkeypatch):
    for n in range(3):
        fill(client, {"email": f"s{n}@lab.example"})
    monkeypatch.setattr(exports, "CHUNK", 1)
    monkeypatch.setattr(export_writers, "_FLUSH_ROWS", 1)
    real = exports.end_reads
    seen = []

    def terminate_on_second():
        seen.append(1)
        if len(seen) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        real()

    monkeypatch.setattr(exports, "end_reads", terminate_on_second)
    result = runner.invoke(args=["export", "lab", "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_postgres_holds_no_transaction_while_a_download_waits(app, client, analyst_token, lab):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_stat_activity is PostgreSQL's; the SQLite leg checks in_transaction")
    fill(client, {"email": "w@lab.example"})
    response = get(client, analyst_token, "contacts")
    body = iter(response.response)
    next(body)  # the first bytes are out
    busy = db.session.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
        )
    )
    db.session.rollback()
    assert busy == 0
    response.close()
