"""Reading and writing a site config as text: YAML or JSON, strict about duplicate keys."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from app.services.errors import Invalid

_NO_WRAP = 1_000_000


def read_config_file(path: str) -> dict[str, Any]:
    """The config in ``path``: JSON for ``*.json``, YAML otherwise, YAML from stdin for ``-``.

    Raises Invalid (one problem under ``<file>``, with line and column when known) when the file
    cannot be read or parsed, or holds something other than a mapping at the top.
    """
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise _unreadable(exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise _unreadable("the file is not UTF-8 text") from None
    return parse_config_text(text, json_format=path.lower().endswith(".json"))


def parse_config_text(text: str, *, json_format: bool = False) -> dict[str, Any]:
    """A config from text (YAML, or JSON), with the same errors as ``read_config_file``."""
    data = _parse_json(text) if json_format else _parse_yaml(text)
    if not isinstance(data, dict):
        raise _unreadable("the top level must be a mapping (site:, tiers:, fields:, forms:, ...)")
    return data


def _unreadable(problem: str) -> Invalid:
    return Invalid("Config file could not be read.", fields={"<file>": [problem]})


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key written twice in one mapping is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'duplicate key "{key}"', key_node.start_mark
                )
            if isinstance(key, str):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise _unreadable(where + str(exc.problem or exc.context)) from None
    except yaml.YAMLError as exc:
        raise _unreadable(str(exc)) from None


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f'duplicate key "{key}"')
        result[key] = value
    return result


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as exc:
        raise _unreadable(f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:
        raise _unreadable(str(exc)) from None


def dump_config(data: Mapping[str, Any], fmt: str) -> str:
    """``data`` as text: ``"yaml"`` (keys in their given order) or ``"json"`` (indented).

    YAML lines are never wrapped, so a changed label is a one-line diff in git.
    """
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=_NO_WRAP)
    raise ValueError(f"Unknown config format {fmt!r}: use yaml or json.")
