"""docs/library.md is a program: its Python blocks run, in order, in a fresh interpreter.

A fresh interpreter, so that nothing this test process loaded (pytest, the
server's adapters) can stand in for an import the example forgot, or hide one
it should not make: the web server must stay unloaded.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import chatcore

DOC = Path(__file__).resolve().parents[2] / "docs" / "library.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)
WEB = ("starlette", "uvicorn", "anyio", "httpx", "h11", "websockets")
# Printed last by the test itself, after the doc's own code.
EPILOGUE = f"""
import json as _json, sys as _sys
print("loaded web modules:", _json.dumps(sorted(
    name for name in _sys.modules if name.split(".")[0] in {WEB!r})))
"""
# One support case: greeting, the question, the bot's answer, the agent joining,
# the agent's reply, the close.
SENDERS = ["bot", "customer", "bot", "system", "agent", "system"]


def run_the_doc(tmp_path: Path) -> str:
    code = "\n\n".join(BLOCK.findall(DOC.read_text(encoding="utf-8")))
    done = subprocess.run(
        [sys.executable, "-c", code + EPILOGUE],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def transcript(output: str, heading: str) -> list[tuple[int, str]]:
    section = output.split(heading + "\n", 1)[1]
    lines = re.findall(r"^(\d+) (\w+): ", section, re.MULTILINE)
    return [(int(seq), sender) for seq, sender in lines[: len(SENDERS)]]


def test_the_worked_example_holds_a_whole_case_on_both_stores(tmp_path: Path) -> None:
    output = run_the_doc(tmp_path)
    expected = list(enumerate(SENDERS, start=1))
    assert transcript(output, "in memory:") == expected
    assert transcript(output, "in a SQLite file:") == expected
    assert "Alice joined the conversation" in output
    events = re.search(r"^events: (.*)$", output, re.MULTILINE)
    assert events is not None
    assert set(events.group(1).split(", ")) >= {
        "AgentAssigned",
        "AgentPresenceChanged",
        "ChatClosed",
        "ConversationUpdated",
        "MessageCreated",
    }
    assert output.rstrip().endswith("loaded web modules: []")


def test_the_doc_has_code_to_run() -> None:
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 4
    assert any("MemoryDatabase(" in block for block in blocks)
    assert any("SqliteDatabase(" in block for block in blocks)


def test_the_doc_names_every_public_name_and_each_resolves() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert len(set(chatcore.__all__)) == len(chatcore.__all__)
    for name in chatcore.__all__:
        assert getattr(chatcore, name) is not None
        assert f"`{name}`" in text, f"docs/library.md does not name {name}"
