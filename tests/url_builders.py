"""Every test makes its own app, and every app compiles its URL rules' builders afresh: werkzeug
writes and compiles a small Python function per rule (two, with and without query arguments),
about 30 ms of each test's setup for the same few dozen rules. ``reuse_url_builders`` compiles
each distinct builder once per process and hands the same function to every later app.

A builder is a plain function of the rule it is bound to (it reads the rule's converters through
``self`` when called); its code depends only on the rule's parts (``_trace``), the names of its
defaults and whether unknown arguments become a query string. Those are the cache key. A rule
with a default for one of its own variables has that default's URL text compiled in: such rules
are not cached. URLs are built exactly as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any

from werkzeug.routing import Rule


def reuse_url_builders() -> None:
    """Patch ``Rule._compile_builder`` (werkzeug 3) to compile each distinct builder once."""
    compile_builder = Rule._compile_builder
    if hasattr(compile_builder, "__wrapped__"):
        return  # patched already
    builders: dict[Hashable, Callable[..., Any]] = {}

    @functools.wraps(compile_builder)
    def reused(self: Rule, append_unknown: bool = True) -> Callable[..., Any]:
        defaults = self.defaults or {}
        if any(dynamic and part in defaults for dynamic, part in self._trace):
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), tuple(map(str, defaults)), append_unknown)
        builder = builders.get(key)
        if builder is None:
            builder = builders[key] = compile_builder(self, append_unknown)
        return builder

    Rule._compile_builder = reused  # type: ignore[method-assign]
