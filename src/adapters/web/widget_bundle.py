"""Assemble /widget.js from the widget's ES-module sources, without Node.

A shop embeds the widget with one classic ``<script>`` tag, so it must be one
file; the sources are small modules (``static/widget/``, plus the socket client
the console shares, ``static/shared/socket.js``). This joins them in dependency
order into one function scope: ``import {…} from "./x.js"`` lines go, the
``export`` keyword goes, and ``widget.css`` becomes the string ``WIDGET_CSS``
for a constructable stylesheet.

The assembly runs once per process, on the first request for /widget.js, and
is cached. It understands only the module forms the sources use; anything else
(default or namespace imports, renaming with ``as``, ``export {…}``, dynamic
``import()``, two modules declaring one name) is refused with an error naming
the file, rather than assembled into a script that breaks in a browser.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

STATIC = (Path(__file__).parent / "static").resolve()
ENTRY = STATIC / "widget" / "main.js"
STYLESHEET = STATIC / "widget" / "widget.css"
CSS_NAME = "WIDGET_CSS"

_IMPORT = re.compile(r'^import\s*\{([^}]*)\}\s*from\s*"(\.\.?/[^"]+\.js)";[ \t]*\n', re.M)
_ANY_IMPORT = re.compile(r"^\s*import\b|\bimport\s*\(", re.M)
_KINDS = r"(?:async\s+function\*?|function\*?|class|const|let|var)"
_IDENT = r"([A-Za-z_$][\w$]*)"
_EXPORT = re.compile(r"^export (?=(?:async function|function|class|const|let) )", re.M)
_EXPORTED = re.compile(rf"^export {_KINDS}\s+{_IDENT}", re.M)
_ANY_EXPORT = re.compile(r"^\s*export\b", re.M)
_DECLARATION = re.compile(rf"^{_KINDS}\s+{_IDENT}", re.M)
_DESTRUCTURING = re.compile(r"^(?:const|let|var)\s*[\[{]", re.M)
_NAME = re.compile(r"^[A-Za-z_$][\w$]*$")

HEADER = """\
/*
 * chatcore customer chat widget. Assembled by src/adapters/web/widget_bundle.py from
 * src/adapters/web/static/widget/ and static/shared/socket.js: edit those, not this text.
 *
 * Embed with one line:   <script src="https://YOUR-CHATCORE-SERVER/widget.js" async></script>
 * Optional attributes on that tag: data-server (another server base URL), data-title (panel title),
 * data-accent (a CSS color for the launcher, header and your bubbles).
 *
 * One classic script, no dependencies. Everything lives in the open shadow root of
 * <chatcore-widget> so the host page's CSS cannot reach it; all text is set with textContent,
 * styles come from a constructable stylesheet (allowed under a strict style-src CSP).
 */
"""


class BundleError(Exception):
    """The sources use a module form this assembler does not support."""


@dataclass(frozen=True)
class _Module:
    path: Path
    imports: dict[Path, list[str]]
    declared: list[str]
    exported: list[str]
    body: str


def _where(path: Path) -> str:
    """How errors and the assembly name a module: from static/ (or just its name elsewhere)."""
    return path.relative_to(STATIC).as_posix() if path.is_relative_to(STATIC) else path.name


def _parse(path: Path) -> _Module:
    text = path.read_text(encoding="utf-8")
    imports: dict[Path, list[str]] = {}
    for names, target in _IMPORT.findall(text):
        wanted = [n.strip() for n in names.split(",") if n.strip()]
        bad = [n for n in wanted if not _NAME.match(n)]
        if bad:
            raise BundleError(f"{_where(path)}: unsupported import of {bad} (no 'as')")
        imports.setdefault((path.parent / target).resolve(), []).extend(wanted)
    body = _IMPORT.sub("", text)
    if match := _ANY_IMPORT.search(body):
        line = body[: match.start()].count("\n") + 1
        raise BundleError(f"{_where(path)}: unsupported import form near body line {line}")
    exported = _EXPORTED.findall(body)
    body = _EXPORT.sub("", body)
    if match := _ANY_EXPORT.search(body):
        raise BundleError(f"{_where(path)}: unsupported export form: {match.group(0).strip()!r}…")
    if _DESTRUCTURING.search(body):
        raise BundleError(f"{_where(path)}: top-level destructuring is not supported")
    declared = _DECLARATION.findall(body)
    return _Module(path=path, imports=imports, declared=declared, exported=exported, body=body)


def _in_order(entry: Path) -> list[_Module]:
    """Every module reachable from ``entry``, each after the modules it imports."""
    done: dict[Path, _Module] = {}
    visiting: list[Path] = []

    def visit(path: Path) -> None:
        if path in done:
            return
        if path in visiting:
            cycle = " -> ".join(_where(p) for p in [*visiting, path])
            raise BundleError(f"import cycle: {cycle}")
        if not path.is_file():
            raise BundleError(f"missing module {path}")
        visiting.append(path)
        module = _parse(path)
        for target, names in module.imports.items():
            visit(target)
            missing = sorted(set(names) - set(done[target].exported))
            if missing:
                raise BundleError(f"{_where(path)} imports {missing}, not in {target.name}")
        visiting.pop()
        done[path] = module

    visit(entry.resolve())
    return list(done.values())


def assemble(entry: Path = ENTRY, stylesheet: Path = STYLESHEET) -> str:
    """The text of /widget.js: one strict-mode function holding every module."""
    modules = _in_order(entry)
    owner: dict[str, Path] = {}
    for module in modules:
        for name in module.declared:
            if name == CSS_NAME or name in owner:
                first = _where(owner[name]) if name in owner else "widget_bundle.py"
                raise BundleError(f"{name} is declared in both {first} and {_where(module.path)}")
            owner[name] = module.path
    css = json.dumps(stylesheet.read_text(encoding="utf-8"))
    parts = [HEADER, "(function () {\n", '"use strict";\n\n', f"const {CSS_NAME} = {css};\n"]
    for module in modules:
        parts.append(f"\n// ---- {_where(module.path)}\n\n{module.body.strip()}\n")
    parts.append("})();\n")
    return "".join(parts)


@cache
def widget_script() -> tuple[str, str]:
    """The assembly and its ETag, made once per process (the sources do not change under a
    running server)."""
    script = assemble()
    return script, '"' + hashlib.sha256(script.encode()).hexdigest()[:32] + '"'
