"""How the contact export reads: blank stored values, the reading thread, the collector."""

from __future__ import annotations

import gc
import io
import json
import threading

import pandas as pd
import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models import AccountValue, Contact, Field, ProfileValue
from app.services.exports import streams as exports
from app.services.exports import writers as export_writers
from app.services.exports.params import contact_export_request
from app.services.exports.streams import export_contacts
from tests.exports.support import fill


def readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "export-reader" and t.is_alive()]


def field_ids() -> dict[str, int]:
    return {key: id_ for key, id_ in db.session.execute(select(Field.key, Field.id))}


@pytest.mark.parametrize("provenance", [False, True])
def test_blank_stored_values_are_not_known_and_the_company_value_shows(
    client, analyst_token, lab, clock, provenance
):
    """Possible only by editing the database: blank values (is_blank) are not known, do not
    count towards completeness, and a blank own value lets the company's show through."""
    fill(client, {"email": "dee@shared.example", "name": "Dee"})
    contact = db.session.scalar(select(Contact).where(Contact.email == "dee@shared.example"))
    ids = field_ids()
    db.session.add(
        AccountValue(
            account_id=contact.account_id,
            field_id=ids["size"],
            value="11-50",
            updated_at=clock(),
            form_key="more",
        )
    )
    stored = {"name": " \t\u3000", "notes": "", "tags": [], "size": "  ", "title": None}
    for key, value in stored.items():
        row = db.session.scalar(
            select(ProfileValue).where(
                ProfileValue.contact_id == contact.id, ProfileValue.field_id == ids[key]
            )
        ) or ProfileValue(contact_id=contact.id, field_id=ids[key], form_key="signup")
        row.value, row.updated_at = value, clock()
        db.session.add(row)
    db.session.commit()
    query = "?format=jsonl" + ("&provenance=true" if provenance else "")
    response = client.get(
        f"/api/v1/sites/lab/contacts/export{query}",
        headers={"Authorization": f"Bearer {analyst_token}"},
    )
    (line,) = [json.loads(text) for text in response.get_data(as_text=True).splitlines()]
    assert {key: line[key] for key in ("name", "notes", "tags", "size", "title")} == {
        "name": None,
        "notes": None,
        "tags": None,
        "size": "11-50",
        "title": None,
    }
    assert line["completeness"] == 25  # email and the company's size, of 8 fields
    if provenance:
        assert (line["name__at"], line["name__source"]) == (None, None)
        assert (line["size__at"], line["size__source"]) == ("2026-03-02T09:00:00Z", "more")


def test_a_stream_closed_early_stops_its_reading_thread(client, lab, clock, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 1)
    monkeypatch.setattr(export_writers, "_FLUSH_ROWS", 1)
    for n in range(5):
        fill(client, {"email": f"c{n}@lab.example"})
    fmt, filters = contact_export_request("lab", {"format": "csv"})
    chunks = export_contacts("lab", fmt, filters, clock()).chunks
    header_and_first = next(chunks)
    assert header_and_first.count(b"\r\n") == 2
    assert len(readers()) == 1
    chunks.close()  # the client went away
    assert readers() == []
    assert not db.session().in_transaction()


def test_a_failed_read_is_raised_by_the_stream(client, lab, clock, monkeypatch):
    """The reading thread's error (here: the second chunk's query) ends the stream with it."""
    monkeypatch.setattr(exports, "CHUNK", 1)
    for n in range(3):
        fill(client, {"email": f"f{n}@lab.example"})
    chunk_queries = []

    def failing(conn, cursor, statement, *args):
        if "engagement_events" in statement:
            chunk_queries.append(threading.current_thread().name)
            if len(chunk_queries) == 2:
                raise RuntimeError("database went away")

    fmt, filters = contact_export_request("lab", {"format": "jsonl"})
    export = export_contacts("lab", fmt, filters, clock())
    event.listen(db.engine, "before_cursor_execute", failing)
    try:
        with pytest.raises(RuntimeError, match="database went away"):
            b"".join(export.chunks)
    finally:
        event.remove(db.engine, "before_cursor_execute", failing)
    assert chunk_queries == ["export-reader", "export-reader"]
    assert export.written == 1
    assert readers() == []


def test_young_collections_are_rarer_while_exports_stream(client, lab, clock, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 1)
    monkeypatch.setattr(export_writers, "_FLUSH_ROWS", 1)
    for n in range(3):
        fill(client, {"email": f"g{n}@lab.example"})
    before = gc.get_threshold()
    assert before[0] != exports._YOUNG
    fmt, filters = contact_export_request("lab", {"format": "csv"})
    first = export_contacts("lab", fmt, filters, clock()).chunks
    next(first)
    assert gc.get_threshold() == (exports._YOUNG, *before[1:])
    # A second export starts and ends while the first streams: the first keeps its setting.
    second = export_contacts("lab", fmt, filters, clock())
    assert pd.read_csv(io.BytesIO(b"".join(second.chunks)))["email"].tolist() == [
        f"g{n}@lab.example" for n in range(3)
    ]
    assert gc.get_threshold() == (exports._YOUNG, *before[1:])
    assert len(b"".join(first).splitlines()) == 2  # the two rows left
    assert gc.get_threshold() == before
