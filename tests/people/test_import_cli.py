"""`trickle import contacts`: CSV, JSON Lines and Parquet files, a column map, dry runs,
batches written all or nothing, errors by row and column."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Contact, OutboxEvent, ProfileValue, Submission


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def emails() -> list[str]:
    return db.session.scalars(select(Contact.email).order_by(Contact.email)).all()


def first_names() -> dict[str, str]:
    from app.services.siteconfig import site_snapshot

    field_id = site_snapshot("acme").fields["first_name"].id
    rows = db.session.execute(
        select(Contact.email, ProfileValue.value)
        .join(ProfileValue, ProfileValue.contact_id == Contact.id)
        .where(ProfileValue.field_id == field_id)
    )
    return dict(rows.all())


@pytest.fixture
def write(tmp_path):
    def write_file(name: str, text: str):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write_file


CSV = (
    "Email,First name,employees,decision_maker\n"
    "ada@acme-corp.example,Ada,250,yes\n"
    "bo@beta.example,Bo,,no\n"
    "cy@beta.example,Cy,12,\n"
)
MAP = ["--map", "Email=email", "--map", "First name=first_name"]


def test_a_csv_file_is_imported_and_again_changes_nothing(runner, site, write):
    path = write("crm.csv", CSV)
    result = runner.invoke(args=["import", "contacts", "acme", path, *MAP])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Imported 3 of 3 rows: 3 created, 0 updated, 0 unchanged; 0 batches not written.\n"
    )
    assert emails() == ["ada@acme-corp.example", "bo@beta.example", "cy@beta.example"]
    assert first_names() == {
        "ada@acme-corp.example": "Ada",
        "bo@beta.example": "Bo",
        "cy@beta.example": "Cy",
    }
    history, events = count(Submission), count(OutboxEvent)
    again = runner.invoke(args=["import", "contacts", "acme", path, *MAP])
    assert again.exit_code == 0, again.output
    assert again.stdout == (
        "Imported 3 of 3 rows: 0 created, 0 updated, 3 unchanged; 0 batches not written.\n"
    )
    assert (count(Submission), count(OutboxEvent)) == (history, events)


def test_an_unknown_column_refuses_the_file_before_anything_is_written(runner, site, write):
    path = write("crm.csv", CSV)
    result = runner.invoke(args=["import", "contacts", "acme", path, "--map", "Email=email"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: columns that name no field: First name.\n"
        "Map them with --map HEADER=KEY or --map-file, or skip them with --ignore.\n"
    )
    assert count(Contact) == 0
    ignored = runner.invoke(
        args=["import", "contacts", "acme", path, "--map", "Email=email", "--ignore"]
    )
    assert ignored.exit_code == 0, ignored.output
    assert (count(Contact), first_names()) == (3, {})


def test_a_map_file_maps_and_null_skips_a_column(runner, site, write):
    path = write("crm.csv", CSV)
    mapping = write("map.yaml", "Email: email\nFirst name: null\n")
    result = runner.invoke(args=["import", "contacts", "acme", path, "--map-file", mapping])
    assert result.exit_code == 0, result.output
    assert (count(Contact), first_names()) == (3, {})


def test_a_bad_row_fails_its_batch_only_reported_by_row_and_column(runner, site, write):
    path = write(
        "crm.csv",
        "Email,First name,employees\n"
        "ada@acme-corp.example,Ada,1\n"
        "bo@beta.example,Bo,2\n"
        "cy@,Cy,lots\n"
        "di@beta.example,Di,4\n",
    )
    result = runner.invoke(args=["import", "contacts", "acme", path, *MAP, "--batch", "2"])
    assert result.exit_code == 1
    reported = [line for line in result.stderr.splitlines() if line.startswith("row ")]
    assert reported == [
        "row 3, column Email: Enter a valid email address.",
        "row 3, column employees: Enter a number.",
    ]
    assert result.stdout == (
        "Imported 2 of 4 rows: 2 created, 0 updated, 0 unchanged; 1 batch not written.\n"
    )
    assert emails() == ["ada@acme-corp.example", "bo@beta.example"]


def test_a_dry_run_checks_everything_and_writes_nothing(runner, site, write):
    path = write("crm.csv", CSV.replace("250", "many"))
    result = runner.invoke(args=["import", "contacts", "acme", path, *MAP, "--dry-run"])
    assert result.exit_code == 1
    assert "row 1, column employees: Enter a number." in result.stderr
    assert result.stdout == "Checked 3 rows (dry run, nothing written): 1 batch not written.\n"
    assert count(Contact) == 0
    clean = runner.invoke(
        args=["import", "contacts", "acme", write("ok.csv", CSV), *MAP, "--dry-run"]
    )
    assert clean.exit_code == 0, clean.output
    assert count(Contact) == 0


def test_json_lines_keep_their_types(runner, site, write):
    lines = [
        {"email": "ada@acme-corp.example", "employees": 250, "decision_maker": True},
        {"email": "bo@beta.example", "decision_maker": "yes"},
    ]
    path = write("crm.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    result = runner.invoke(args=["import", "contacts", "acme", path])
    assert result.exit_code == 1
    # JSON carries types: a string is no yes/no answer there.
    assert "row 2, column decision_maker: Answer yes or no." in result.stderr
    assert emails() == []
    one = runner.invoke(args=["import", "contacts", "acme", path, "--batch", "1"])
    assert one.exit_code == 1
    assert emails() == ["ada@acme-corp.example"]


def test_a_line_that_is_not_json_refuses_the_file(runner, site, write):
    path = write("crm.jsonl", '{"email": "ada@acme-corp.example"}\n{nope\n')
    result = runner.invoke(args=["import", "contacts", "acme", path])
    assert (result.exit_code, result.stderr) == (1, "error: crm.jsonl: row 2: not valid JSON.\n")
    assert count(Contact) == 0


def test_parquet(runner, site, tmp_path):
    parquet = pytest.importorskip("pyarrow.parquet")
    import pyarrow

    path = tmp_path / "crm.parquet"
    table = pyarrow.table({"email": ["ada@acme-corp.example"], "employees": [250]})
    parquet.write_table(table, path)
    result = runner.invoke(args=["import", "contacts", "acme", str(path)])
    assert result.exit_code == 0, result.output
    assert emails() == ["ada@acme-corp.example"]


def test_an_unknown_site_or_format(runner, site, write):
    path = write("crm.csv", CSV)
    result = runner.invoke(args=["import", "contacts", "nope", path])
    assert (result.exit_code, result.stderr) == (1, 'error: No site "nope".\n')
    other = runner.invoke(args=["import", "contacts", "acme", write("crm.txt", CSV)])
    assert other.exit_code == 1
    assert "unknown format" in other.stderr
    origin = runner.invoke(args=["import", "contacts", "acme", path, *MAP, "--from", "nope"])
    assert (origin.exit_code, origin.stderr) == (
        1,
        'error: from: No destination "nope" on site "acme".\n',
    )
    assert count(Contact) == 0
