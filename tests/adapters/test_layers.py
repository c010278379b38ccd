"""Arrows only point down: chatcore ← adapters ← entrypoints, read from the source.

Every import statement counts, wherever it stands: at the top, inside a function
(a lazy import), under ``if TYPE_CHECKING``, relative, or as a constant string
given to ``importlib.import_module``. Nothing is imported to find them, so a
module that would fail to import is still checked.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import adapters

SRC_DIR = Path(adapters.__file__).resolve().parent.parent

# Each package, and the packages above it that it must never import.
FORBIDDEN_ABOVE = {
    "chatcore": ("adapters", "entrypoints"),
    "adapters": ("entrypoints",),
}


def module_name(path: Path, *, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(path: Path, *, root: Path) -> list[str]:
    name = module_name(path, root=root).split(".")
    return name if path.name == "__init__.py" else name[:-1]


def imported_names(path: Path, *, root: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every module ``path`` may import; for ``from m import n``,
    both ``m`` and ``m.n`` (``n`` may be a submodule)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _package_of(path, root=root)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            # A relative import climbs level - 1 packages up from this one.
            base = package[: max(0, len(package) - node.level + 1)] if node.level else []
            stem = ".".join([*base, *([node.module] if node.module else [])])
            if stem:
                yield node.lineno, stem
            for alias in node.names:
                yield node.lineno, f"{stem}.{alias.name}" if stem else alias.name
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def upward_imports(root: Path, package: str, forbidden: tuple[str, ...]) -> list[str]:
    """Every import of a ``forbidden`` package by a module of ``package``, as file:line."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for line, name in imported_names(path, root=root):
            if any(_is_within(name, above) for above in forbidden):
                found.append(f"{path.relative_to(root).as_posix()}:{line} imports {name}")
    return sorted(set(found))


@pytest.mark.parametrize(("package", "forbidden"), sorted(FORBIDDEN_ABOVE.items()))
def test_no_package_imports_one_above_it(package: str, forbidden: tuple[str, ...]) -> None:
    modules = list((SRC_DIR / package).rglob("*.py"))
    assert len(modules) > 10  # the walk really reached the package's source
    assert upward_imports(SRC_DIR, package, forbidden) == []


def test_every_way_of_importing_upwards_is_caught(tmp_path: Path) -> None:
    # A small tree with one upward import of each kind: each must be named.
    http = tmp_path / "adapters" / "http"
    http.mkdir(parents=True)
    (tmp_path / "adapters" / "__init__.py").write_text("")
    (http / "__init__.py").write_text("from ... import entrypoints\n")
    (http / "app.py").write_text(
        "import json\n"
        "from adapters import wire\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from entrypoints.settings import Settings\n"
        "def build():\n"
        "    import entrypoints.bootstrap\n"
        "def load():\n"
        "    return importlib.import_module('entrypoints.cli')\n"
    )
    (http / "fine.py").write_text("from ..sqlite import rows\nimport entrypointsish\n")
    assert upward_imports(tmp_path, "adapters", ("entrypoints",)) == [
        "adapters/http/__init__.py:1 imports entrypoints",
        "adapters/http/app.py:5 imports entrypoints.settings",
        "adapters/http/app.py:5 imports entrypoints.settings.Settings",
        "adapters/http/app.py:7 imports entrypoints.bootstrap",
        "adapters/http/app.py:9 imports entrypoints.cli",
    ]
