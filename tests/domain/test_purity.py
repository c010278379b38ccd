"""The domain is standard library only and does no I/O: importing all of it proves it.

Each probe runs in a fresh interpreter, so nothing this test process loaded
(pytest, hypothesis, adapters) can hide or fake a dependency.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Set
from pathlib import Path

import chatcore

# Modules that mean I/O, concurrency machinery or a third-party dependency. A
# name matches itself and its submodules ("asyncio" covers "asyncio.streams").
FORBIDDEN = frozenset(
    {
        "sqlite3",
        "_sqlite3",
        "socket",
        "_socket",
        "ssl",
        "_ssl",
        "select",
        "selectors",
        "asyncio",
        "subprocess",
        "_posixsubprocess",
        "http",
        "urllib.request",
        "threading",
        "multiprocessing",
        "concurrent",
        "sqlite_utils",
        "starlette",
        "uvicorn",
        "anyio",
        "msgspec",
        "jwt",
        "bcrypt",
        "httpx",
    }
)
THIRD_PARTY_DIRS = frozenset({"site-packages", "dist-packages"})

# The probe prints every loaded module with its file. Both probes import the same
# tools, so the only difference between them is what importing the domain pulled in.
PROBE = """
import importlib, json, pkgutil, sys
walked = []
if {load_domain}:
    import chatcore
    for info in pkgutil.walk_packages(chatcore.__path__, "chatcore."):
        importlib.import_module(info.name)
        walked.append(info.name)
print(json.dumps({{
    "walked": walked,
    "modules": {{n: getattr(m, "__file__", None) for n, m in list(sys.modules.items())}},
}}))
"""


def _is_forbidden(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)


def _is_third_party(name: str, file: str | None) -> bool:
    ours = name == "chatcore" or name.startswith("chatcore.")
    return not ours and file is not None and not THIRD_PARTY_DIRS.isdisjoint(Path(file).parts)


def offenders(loaded: Mapping[str, str | None], *, baseline: Set[str]) -> list[str]:
    """Modules the domain brought in that it must not: I/O, or anything installed."""
    added = {name: file for name, file in loaded.items() if name not in baseline}
    return sorted(
        name for name, file in added.items() if _is_forbidden(name) or _is_third_party(name, file)
    )


def _probe(src_dir: Path, *, load_domain: bool, cwd: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src_dir), *_pythonpath()])}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(load_domain=load_domain)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _pythonpath() -> list[str]:
    existing = os.environ.get("PYTHONPATH", "")
    return [part for part in existing.split(os.pathsep) if part]


def _domain_offenders(src_dir: Path, tmp_path: Path) -> tuple[list[str], list[str], str | None]:
    baseline = _probe(src_dir, load_domain=False, cwd=tmp_path)["modules"]
    probed = _probe(src_dir, load_domain=True, cwd=tmp_path)
    modules = probed["modules"]
    walked = probed["walked"]
    assert isinstance(baseline, dict)
    assert isinstance(modules, dict)
    assert isinstance(walked, list)
    return offenders(modules, baseline=set(baseline)), walked, modules.get("chatcore")


SRC_DIR = Path(chatcore.__file__).resolve().parent.parent


def test_the_domain_loads_no_io_and_no_third_party_module(tmp_path: Path) -> None:
    found, walked, _ = _domain_offenders(SRC_DIR, tmp_path)
    assert "chatcore.usecases.customer" in walked  # the walk really reached the use cases
    assert "chatcore.ports" in walked
    assert found == []


def test_the_probe_catches_an_io_import_added_to_the_domain(tmp_path: Path) -> None:
    # A copy of the domain with one bad line: the same probe must flag it.
    copy_root = tmp_path / "src"
    shutil.copytree(SRC_DIR / "chatcore", copy_root / "chatcore")
    escalation = copy_root / "chatcore" / "escalation.py"
    escalation.write_text(escalation.read_text() + "\nimport sqlite3  # noqa\n")
    found, _, loaded_from = _domain_offenders(copy_root, tmp_path)
    assert loaded_from is not None
    assert Path(loaded_from).is_relative_to(copy_root)
    assert "sqlite3" in found


def test_offenders_flags_io_modules_and_installed_packages() -> None:
    loaded = {
        "json": "/usr/lib/python3.11/json/__init__.py",
        "sqlite3": "/usr/lib/python3.11/sqlite3/__init__.py",
        "asyncio.streams": "/usr/lib/python3.11/asyncio/streams.py",
        "urllib.request": "/usr/lib/python3.11/urllib/request.py",
        "urllib.parse": "/usr/lib/python3.11/urllib/parse.py",
        "requests": "/venv/lib/python3.11/site-packages/requests/__init__.py",
        "chatcore.bot": "/venv/lib/python3.11/site-packages/chatcore/bot.py",
        "builtins": None,
    }
    assert offenders(loaded, baseline=set()) == [
        "asyncio.streams",
        "requests",
        "sqlite3",
        "urllib.request",
    ]


def test_offenders_ignores_what_a_bare_interpreter_already_loaded() -> None:
    loaded = {"threading": "/usr/lib/python3.11/threading.py", "re": "/usr/lib/python3.11/re.py"}
    assert offenders(loaded, baseline={"threading"}) == []
    assert offenders(loaded, baseline=set()) == ["threading"]
