"""The config commands: ``trickle import-config``, ``export-config`` and ``demo``."""

from __future__ import annotations

import json
import re

import yaml
from sqlalchemy import func, select

from app.extensions import db
from app.models import Site
from app.services.siteconfig import dump_config, export_site_config, import_site_config
from tests.factories import acme_config as config


def write_config(path, data) -> str:
    path.write_text(dump_config(data, "yaml"), encoding="utf-8")
    return str(path)


def site_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Site))


def test_import_config_creates_the_site(runner, tmp_path):
    path = write_config(tmp_path / "acme.yaml", config())

    result = runner.invoke(args=["import-config", path])

    assert result.exit_code == 0, result.output
    assert result.output == "Imported site 'acme' (config version 1).\n"
    assert [t["key"] for t in export_site_config("acme")["tiers"]] == [
        "basics",
        "firmographics",
        "qualification",
    ]


def test_import_config_again_bumps_the_version(runner, tmp_path):
    path = write_config(tmp_path / "acme.yaml", config())
    runner.invoke(args=["import-config", path])

    result = runner.invoke(args=["import-config", path])

    assert result.output == "Imported site 'acme' (config version 2).\n"


def test_import_config_reads_json_and_stdin(runner, tmp_path):
    path = tmp_path / "acme.json"
    path.write_text(dump_config(config(), "json"), encoding="utf-8")

    assert runner.invoke(args=["import-config", str(path)]).exit_code == 0
    result = runner.invoke(args=["import-config", "-"], input=dump_config(config(), "yaml"))

    assert result.exit_code == 0, result.output
    assert result.output == "Imported site 'acme' (config version 2).\n"


def test_an_invalid_config_lists_every_error_and_changes_nothing(runner, tmp_path):
    data = config()
    budget = next(i for i, field in enumerate(data["fields"]) if field["key"] == "budget")
    data["fields"][budget]["tier"] = "qualifcation"
    data["forms"][0]["always_ask"] = ["x"]
    path = write_config(tmp_path / "acme.yaml", data)

    result = runner.invoke(args=["import-config", path])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: The config has 2 errors.",
        f'  fields[{budget}].tier: unknown tier "qualifcation"',
        '  forms[0].always_ask[0]: unknown field "x"',
        "Nothing was changed.",
    ]
    assert site_count() == 0


def test_an_unparsable_file_is_reported_with_line_and_column(runner, tmp_path):
    path = tmp_path / "acme.yaml"
    path.write_text("site:\n  key: acme\n   name: x\n", encoding="utf-8")

    result = runner.invoke(args=["import-config", str(path)])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: Config file could not be read.",
        "  <file>: line 3, column 8: mapping values are not allowed here",
        "Nothing was changed.",
    ]


def test_a_missing_file_is_reported(runner, tmp_path):
    result = runner.invoke(args=["import-config", str(tmp_path / "nope.yaml")])

    assert result.exit_code == 1
    assert "  <file>: No such file or directory" in result.stderr.splitlines()


def test_export_config_prints_yaml_by_default(runner):
    import_site_config(config())

    result = runner.invoke(args=["export-config", "acme"])

    assert result.exit_code == 0, result.output
    assert result.stdout == dump_config(export_site_config("acme"), "yaml")
    assert yaml.safe_load(result.stdout)["site"]["key"] == "acme"


def test_export_config_prints_json(runner):
    import_site_config(config())

    result = runner.invoke(args=["export-config", "acme", "--format", "json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == export_site_config("acme")
    assert result.stdout.endswith("}\n")


def test_export_config_writes_a_file_that_imports_back(runner, tmp_path):
    import_site_config(config())
    target = tmp_path / "out" / "acme.yaml"
    target.parent.mkdir()

    result = runner.invoke(args=["export-config", "acme", "-o", str(target)])

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == dump_config(export_site_config("acme"), "yaml")
    again = runner.invoke(args=["import-config", str(target)])
    assert again.output == "Imported site 'acme' (config version 2).\n"


def test_export_config_of_an_unknown_site_fails(runner):
    result = runner.invoke(args=["export-config", "nope"])

    assert result.exit_code == 1
    assert result.stderr == 'error: No site "nope".\n'


def test_demo_loads_the_demo_site(runner):
    result = runner.invoke(args=["demo"])

    assert result.exit_code == 0, result.output
    first_line, login_line, sales_line = result.output.splitlines()
    assert first_line == (
        "Demo site 'demo' loaded: forms blog, case_study, pricing; 7 demo contacts added"
    )
    assert re.fullmatch(
        r"Demo sales login \(the hand-off queue\): sales@demo\.example / \S{20}", sales_line
    )
    assert re.fullmatch(r"Demo console login: admin@demo\.example / \S{20}", login_line)
    exported = export_site_config("demo")
    assert exported["site"]["origins"] == [
        "http://127.0.0.1:5000",
        "http://localhost:5000",
        "http://127.0.0.1:8000",
        "http://localhost:8000",
    ]
    assert [t["key"] for t in exported["tiers"]] == ["basics", "firmographics", "qualification"]
    assert len(exported["fields"]) == 12
    assert "destinations" not in exported


def test_demo_twice_refreshes_the_same_site(runner):
    runner.invoke(args=["demo"])
    before = export_site_config("demo")

    result = runner.invoke(args=["demo"])

    assert result.exit_code == 0, result.output
    assert export_site_config("demo") == before
    assert site_count() == 1
