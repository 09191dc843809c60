"""Every test makes its own app, and every app compiles its URL rules' builders afresh: werkzeug
writes and compiles a small Python function per rule (two, with and without query arguments),
about 30 ms of each test's setup for the same few dozen rules. ``reuse_url_builders`` compiles
each distinct builder once per process and hands the same function to every later app.

It also parses each distinct rule once (``Rule._parse_rule``, three quarters of what is left of
making an app's URL map): a rule's parts depend only on its text and the converters it names,
so later rules of the same text get the same parts, with converters of their own map made
from the same arguments, exactly as werkzeug would make them.

A builder is a plain function of the rule it is bound to (it reads the rule's converters through
``self`` when called); its code depends only on the rule's parts (``_trace``), the names of its
defaults and whether unknown arguments become a query string. Those are the cache key. A rule
with a default for one of its own variables has that default's URL text compiled in: such rules
are not cached. URLs are built exactly as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from werkzeug.routing import Rule
from werkzeug.routing.rules import RulePart


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


def reuse_parsed_rules() -> None:
    """Patch ``Rule._parse_rule`` (werkzeug 3) to parse each distinct rule text once."""
    parse_rule = Rule._parse_rule
    if hasattr(parse_rule, "__wrapped__"):
        return  # patched already
    parsed: dict[Hashable, tuple[list[RulePart], list[Any], list[tuple[str, Any]]]] = {}

    @functools.wraps(parse_rule)
    def reused(self: Rule, rule: str) -> Iterator[RulePart]:
        key = (rule, tuple(self.map.converters.items()))
        known = parsed.get(key)
        if known is None:
            trace_from = len(self._trace)
            parts = list(parse_rule(self, rule))
            converters = [
                (name, (type(converter), converter.__dict__.copy()))
                for name, converter in self._converters.items()
                if name in _names(self._trace[trace_from:])
            ]
            known = parsed[key] = (parts, self._trace[trace_from:], converters)
            return iter(parts)
        parts, trace, converters = known
        self._trace.extend(trace)
        for name, (kind, state) in converters:
            converter = kind.__new__(kind)
            converter.__dict__.update(state, map=self.map)
            self._converters[name] = converter
            self.arguments.add(name)
        return iter(parts)

    Rule._parse_rule = reused  # type: ignore[method-assign]


def _names(trace: list[tuple[bool, str]]) -> set[str]:
    return {part for dynamic, part in trace if dynamic}
