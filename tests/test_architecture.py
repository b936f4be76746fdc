"""Which part of Viva may import which: the README's architecture table, checked.

Imports are read with `ast` from the source (module level and inside functions, and
those under TYPE_CHECKING too), so the check needs nothing installed and sees every
import a reader would. Run alone: `.venv/bin/python -m pytest -q tests/test_architecture.py`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "flows", "voice", "storage")
MODULES = ("server", "settings", "metrics")

# part -> the parts it may import (besides itself); the same table is in README.md.
# flows/errors.py is a leaf of its own: the domain's error types, raised by storage too.
ALLOWED: dict[str, set[str]] = {
    "settings": set(),
    "metrics": set(),
    "flows.errors": set(),
    "storage": {"metrics", "flows.errors"},
    "flows.providers": {"metrics"},
    "flows": {"flows.providers", "flows.errors", "storage", "metrics"},
    "voice": {"flows", "flows.providers", "flows.errors", "storage", "metrics"},
    "api": {"voice", "flows", "flows.providers", "flows.errors", "storage", "settings", "metrics"},
    "server": {
        "api", "voice", "flows", "flows.providers", "flows.errors", "storage", "settings",
        "metrics",
    },
}


def part(module: str) -> str | None:
    """The architectural part a dotted module name belongs to; None if not Viva's."""
    if module == "flows.providers" or module.startswith("flows.providers."):
        return "flows.providers"
    if module == "flows.errors" or module.startswith("flows.errors."):
        return "flows.errors"
    top = module.split(".")[0]
    return top if top in PACKAGES or top in MODULES else None


def sources() -> Iterator[tuple[str, Path]]:
    for name in MODULES:
        yield name, ROOT / f"{name}.py"
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def imported(path: Path, module: str) -> Iterator[str]:
    package = module.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def edges() -> dict[tuple[str, str], str]:
    """(importer part, imported part) -> one module where that import happens."""
    found: dict[tuple[str, str], str] = {}
    for module, path in sources():
        source = part(module)
        assert source is not None, module
        for name in imported(path, module):
            target = part(name)
            if target is not None and target != source:
                found.setdefault((source, target), module)
    return found


def test_every_import_between_parts_is_allowed() -> None:
    found = edges()
    assert found, "no imports found: the scan is broken"
    forbidden = {
        f"{source} -> {target} (in {module})"
        for (source, target), module in found.items()
        if target not in ALLOWED[source]
    }
    assert not forbidden


def test_no_import_cycle_between_parts() -> None:
    graph: dict[str, set[str]] = {name: set() for name in ALLOWED}
    for source, target in edges():
        graph[source].add(target)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError(f"import cycle between parts: {error.args[1]}") from None
    assert order[-1] == "server"  # wiring comes last: it may import everything


def test_the_allowed_table_itself_has_no_cycle() -> None:
    list(TopologicalSorter(ALLOWED).static_order())


def test_the_scan_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The scanner must notice an import that breaks the table (so the checks can fail)."""
    probe = tmp_path / "probe.py"
    probe.write_text("from settings import Settings\nfrom . import engine\n", encoding="utf-8")
    names = set(imported(probe, "voice.probe"))
    assert {part(name) for name in names} >= {"settings", "voice"}
    assert "settings" not in ALLOWED["voice"]
