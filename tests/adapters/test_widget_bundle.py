"""/widget.js is exactly the assembly of the widget's module sources, and the assembler
refuses module forms it would get wrong. (The e2e tests show the assembly runs.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from adapters.web import widget_bundle
from adapters.web.widget_bundle import BundleError, assemble
from support.servers import LiveServer

WIDGET = widget_bundle.STATIC / "widget"


def test_the_served_script_is_the_assembly_of_the_sources(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        served = client.get("/widget.js")
        assert served.status_code == 200
        assert served.text == assemble()
        assert served.headers["content-type"] == "text/javascript; charset=utf-8"
        assert served.headers["access-control-allow-origin"] == "*"
        assert served.headers["cross-origin-resource-policy"] == "cross-origin"
        assert served.headers["cache-control"] == "no-cache"
        assert served.headers["x-content-type-options"] == "nosniff"
        again = client.get("/widget.js", headers={"If-None-Match": served.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""
        assert client.head("/widget.js").headers["etag"] == served.headers["etag"]


def test_every_source_is_in_the_assembly_once_in_dependency_order() -> None:
    script = assemble()
    order = re.findall(r"^// ---- (\S+)$", script, re.M)
    sources = {p.relative_to(widget_bundle.STATIC).as_posix() for p in WIDGET.rglob("*.js")}
    assert sorted(order) == sorted(sources | {"shared/socket.js"})
    assert order.index("shared/socket.js") < order.index("widget/transport.js")
    assert order.index("widget/state.js") < order.index("widget/chat.js")
    assert order[-1] == "widget/main.js"
    assert not re.search(r"^\s*(import|export)\b", script, re.M)
    css = (WIDGET / "widget.css").read_text(encoding="utf-8")
    assert script.count("const WIDGET_CSS = ") == 1
    assert f"const WIDGET_CSS = {json.dumps(css)};" in script
    assert script.startswith("/*")
    assert script.endswith("})();\n")


def _modules(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    css = folder / "widget.css"
    css.write_text(".a { color: red; }\n", encoding="utf-8")
    return folder / "main.js"


def test_a_small_tree_assembles_with_imports_gone_and_css_inlined(tmp_path: Path) -> None:
    entry = _modules(
        tmp_path,
        {
            "main.js": 'import { helper } from "./helper.js";\nhelper();\n',
            "helper.js": "export function helper() {\n  return WIDGET_CSS;\n}\n",
        },
    )
    script = assemble(entry, tmp_path / "widget.css")
    assert 'const WIDGET_CSS = ".a { color: red; }\\n";' in script
    assert script.index("function helper()") < script.index("helper();")
    assert "import" not in script.split("*/", 1)[1]
    assert "export" not in script


@pytest.mark.parametrize(
    ("main", "complaint"),
    [
        ('import helper from "./helper.js";\n', "unsupported import form"),
        ('import * as h from "./helper.js";\n', "unsupported import form"),
        ('import { helper as h } from "./helper.js";\n', "no 'as'"),
        ('const h = import("./helper.js");\n', "unsupported import form"),
        ('import { missing } from "./helper.js";\n', "not in helper.js"),
        ('import { helper } from "./helper.js";\nexport default helper;\n', "export form"),
        ('import { helper } from "./helper.js";\nexport { helper };\n', "export form"),
        ('import { helper } from "./helper.js";\nfunction helper() {}\n', "declared in both"),
        ('import { helper } from "./helper.js";\nconst WIDGET_CSS = "";\n', "declared in both"),
        ('import { helper } from "./helper.js";\nconst { a } = helper;\n', "destructuring"),
        ('import { nothing } from "./absent.js";\n', "missing module"),
        ('import { back } from "./cycle.js";\nexport function front() {}\n', "import cycle"),
    ],
)
def test_unsupported_module_forms_are_refused(tmp_path: Path, main: str, complaint: str) -> None:
    entry = _modules(
        tmp_path,
        {
            "main.js": main,
            "helper.js": "export function helper() {}\n",
            "cycle.js": 'import { front } from "./main.js";\nexport function back() {}\n',
        },
    )
    with pytest.raises(BundleError, match=re.escape(complaint)):
        assemble(entry, tmp_path / "widget.css")
