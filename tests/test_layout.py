"""The layout docs/architecture.md promises, checked on the source: imports point down only,
capability packages call each other through their ``__init__`` and form no cycle, the services'
root holds only the shared ground, and no module grows past 450 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
SHARED_GROUND = {
    *("__init__", "errors", "transactions", "tokens", "outbox", "addresses", "counters"),
}
EDGES = ("api", "admin", "cli", "ops", "demo", "embed")  # what stands on the services
MAX_LINES = 450


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The ``app.`` modules ``path`` imports: ``from app.x import y`` counts as ``app.x``, or as
    ``app.x.y`` when ``y`` is a module of its own."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if is_module(submodule) else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "app" or name.startswith("app.")}


def is_module(name: str) -> bool:
    path = APP.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


MODULES = {module_name(path): path for path in sorted(APP.rglob("*.py"))}


def capability(module: str) -> str | None:
    """``people`` for ``app.services.people.contacts``; None outside a capability package."""
    parts = module.split(".")
    if (
        len(parts) >= 3
        and parts[:2] == ["app", "services"]
        and (APP / "services" / parts[2]).is_dir()
    ):
        return parts[2]
    return None


def test_the_domain_imports_nothing_but_the_domain():
    wrong = {
        (module, imported)
        for module, path in MODULES.items()
        if module.startswith("app.domain")
        for imported in imports_of(path)
        if not imported.startswith("app.domain")
    }
    assert sorted(wrong) == []


def test_services_and_models_never_import_the_layers_above_them():
    above = tuple(f"app.{edge}" for edge in EDGES)
    wrong = {
        (module, imported)
        for module, path in MODULES.items()
        if module.startswith(("app.services", "app.models"))
        for imported in imports_of(path)
        if imported.startswith(above)
    }
    assert sorted(wrong) == []


def test_packages_call_each_other_through_their_public_init():
    wrong = {
        (module, imported)
        for module, path in MODULES.items()
        for imported in imports_of(path)
        if capability(imported) not in (None, capability(module))
        and imported != f"app.services.{capability(imported)}"
    }
    assert sorted(wrong) == []


def test_capability_packages_form_no_cycle():
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        own = capability(module)
        if own is None:
            continue
        needs = {capability(imported) for imported in imports_of(path)} - {None, own}
        graph.setdefault(own, set()).update(n for n in needs if n is not None)
    done: set[str] = set()

    def visit(package: str, trail: tuple[str, ...]) -> None:
        if package in trail:
            pytest.fail("import cycle: " + " → ".join((*trail[trail.index(package) :], package)))
        if package not in done:
            for needed in sorted(graph.get(package, ())):
                visit(needed, (*trail, package))
            done.add(package)

    for package in sorted(graph):
        visit(package, ())
    assert sorted(graph) == [
        "accounts",
        "asking",
        "delivery",
        "exports",
        "insights",
        "people",
        "privacy",
        "sales",
        "siteconfig",
    ]


def test_the_services_root_holds_only_the_shared_ground():
    root = {path.stem for path in (APP / "services").glob("*.py")}
    assert root == SHARED_GROUND


def test_no_module_passes_450_lines():
    long = {
        module: lines
        for module, path in MODULES.items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_clock_is_read_in_one_place():
    readers = {
        module for module, path in MODULES.items() if '"CLOCK"]' in path.read_text(encoding="utf-8")
    }
    assert readers == {"app.clock"}
