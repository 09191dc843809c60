"""Every test makes its own app, and every app's Jinja environment parses and compiles each
template it renders afresh: about 17 ms a template, a third of a console test's time for the
same few dozen templates. ``reuse_compiled_templates`` gives every app's environment one
in-memory bytecode cache for the process, so each template is compiled once.

Jinja's bytecode cache keys an entry by the template's name and file and checks it against a
checksum of the source: an edited template is compiled again. Templates render exactly as
before (each app still builds its own ``Template`` objects with its own globals).
"""

from __future__ import annotations

from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class _MemoryBytecodeCache(BytecodeCache):
    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        compiled = self._compiled.get(bucket.key)
        if compiled is not None:
            bucket.bytecode_from_string(compiled)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


def reuse_compiled_templates() -> None:
    """Give every Flask app's Jinja environment the process's one bytecode cache."""
    if "bytecode_cache" in Flask.jinja_options:
        return  # set already
    Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _MemoryBytecodeCache()}
