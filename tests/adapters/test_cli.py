"""The ``chatcore`` console script, run as the operator runs it: a subprocess of the venv's."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatcore.usecases import accounts
from entrypoints.bootstrap import build_context
from entrypoints.settings import Settings
from support.rest import PASSWORD, expect, new_token
from support.servers import LiveServer, free_port

CHATCORE = str(Path(sys.executable).with_name("chatcore"))


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "chat.db"


@pytest.fixture
def run(database: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
        environment = {
            **os.environ,
            "CHATCORE_DATABASE": str(database),
            "CHATCORE_BCRYPT_ROUNDS": "4",
            **env,
        }
        return subprocess.run(
            [CHATCORE, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=environment,
            timeout=60,
            check=False,
        )

    return run


Run = Callable[..., subprocess.CompletedProcess[str]]


def create(run: Run, email: str, *extra: str, password: str = PASSWORD) -> Any:
    return run(
        "agent", "create", "--email", email, "--name", "Alice", *extra, stdin=password + "\n"
    )


def test_agent_create_reads_the_password_from_stdin(run: Run, database: Path) -> None:
    done = create(run, "alice@example.com")
    assert done.returncode == 0, done.stderr
    assert "Created admin Alice <alice@example.com>" in done.stdout  # the first agent is admin
    assert PASSWORD not in done.stdout + done.stderr
    core = build_context(Settings(database=str(database), bcrypt_rounds=4))
    try:
        session = accounts.login(core.ctx, email="alice@example.com", password=PASSWORD)
    finally:
        core.close()
    assert session.agent.role.value == "admin"


def test_created_agents_log_in_over_http(
    run: Run, database: Path, make_server: Callable[..., LiveServer]
) -> None:
    assert create(run, "admin@example.com").returncode == 0
    plain = create(run, "bob@example.com")
    second_admin = create(run, "carol@example.com", "--admin")
    assert plain.returncode == 0, plain.stderr
    assert "Created agent" in plain.stdout
    assert "Created admin" in second_admin.stdout
    server = make_server(database=str(database))
    with httpx.Client(base_url=server.url) as client:
        token = new_token(client, "bob@example.com")
        me = expect(
            client.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {token}"}), 200
        )
    assert me["email"] == "bob@example.com"
    assert me["role"] == "agent"


def test_agent_create_handles_a_crlf_line(run: Run) -> None:
    done = run(
        "agent", "create", "--email", "a@example.com", "--name", "A", stdin=PASSWORD + "\r\n"
    )
    assert done.returncode == 0, done.stderr


def test_there_is_no_password_option(run: Run) -> None:
    done = run("agent", "create", "--email", "a@example.com", "--name", "A", "--password", PASSWORD)
    assert done.returncode == 2
    assert "unrecognized arguments" in done.stderr


def test_no_password_on_stdin_is_refused(run: Run) -> None:
    done = run("agent", "create", "--email", "a@example.com", "--name", "A", stdin="")
    assert done.returncode == 1
    assert "No password" in done.stderr


def test_domain_refusals_exit_1_with_the_reason(run: Run) -> None:
    short = create(run, "a@example.com", password="short")
    assert short.returncode == 1
    assert "password: must be 10 to 128 characters" in short.stderr
    bad_email = create(run, "not-an-email")
    assert bad_email.returncode == 1
    assert "email: must be a valid email address" in bad_email.stderr
    assert create(run, "a@example.com").returncode == 0
    taken = create(run, "A@Example.com")
    assert taken.returncode == 1
    assert "already exists" in taken.stderr


def test_usage_errors_exit_2(run: Run) -> None:
    assert run().returncode == 2
    assert run("agent", "create", "--email", "a@example.com").returncode == 2
    bad_setting = run("serve", CHATCORE_PORT="eighty")
    assert bad_setting.returncode == 2
    assert "CHATCORE_PORT must be an integer" in bad_setting.stderr
    postgres = run("faq", "export", "--database", "postgresql://db/chat")
    assert postgres.returncode == 2
    assert "CHATCORE_SECRET_KEY must be set with a PostgreSQL database" in postgres.stderr
    other = run("faq", "export", "--database", "mysql://db/chat")
    assert other.returncode == 2
    assert "must be a SQLite file path or a postgresql:// URL" in other.stderr


def export(run: Run) -> list[dict[str, Any]]:
    done = run("faq", "export")
    assert done.returncode == 0, done.stderr
    items: list[dict[str, Any]] = json.loads(done.stdout)["items"]
    return items


def entry(slug: str, position: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"slug": slug, "question": f"What about {slug}?", "answer": f"{slug}!"}
    if position is not None:
        item["position"] = position
    return item


def write(tmp_path: Path, data: object, name: str = "faqs.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_faq_import_and_export_round_trip(run: Run, tmp_path: Path) -> None:
    defaults = export(run)
    assert defaults, "a fresh database starts with default quick questions"
    items = [entry("zeta", 1), entry("alpha", 0), entry("omega")]
    done = run("faq", "import", write(tmp_path, {"items": items}), "--replace")
    assert done.returncode == 0, done.stderr
    assert f"{len(defaults)} deleted" in done.stdout
    exported = export(run)
    assert [e["slug"] for e in exported] == ["alpha", "zeta", "omega"]  # display order
    assert exported[2]["position"] == 2  # no position: after the last one
    again = run("faq", "import", write(tmp_path, {"items": exported}, "again.json"), "--replace")
    assert again.returncode == 0, again.stderr
    assert export(run) == exported


def test_faq_import_updates_by_slug_and_keeps_the_rest(run: Run, tmp_path: Path) -> None:
    defaults = export(run)
    changed = {**defaults[0], "answer": "A new answer."}
    del changed["position"]  # keeps its place
    done = run("faq", "import", write(tmp_path, [changed, entry("brand-new")]))
    assert done.returncode == 0, done.stderr
    assert "1 created, 1 updated, 0 deleted" in done.stdout
    after = export(run)
    assert after[0] == {**defaults[0], "answer": "A new answer."}
    assert after[1:-1] == defaults[1:]
    assert after[-1]["slug"] == "brand-new"


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("{not json", "is not valid JSON"),
        ('{"entries": []}', 'must hold {"items": [...]}'),
        (
            json.dumps([entry("ok"), {"slug": "no-question", "answer": "x"}]),
            "question: is required",
        ),
        (json.dumps([entry("ok"), {**entry("x"), "position": "1"}]), "must be an integer"),
        (json.dumps([entry("ok"), {**entry("x"), "extra": 1}]), "extra: unknown field"),
        (json.dumps([entry("ok"), entry("Not A Slug")]), "items[1].slug: must be lowercase"),
        (json.dumps([entry("ok"), {**entry("x"), "question": " "}]), "question: must not be empty"),
        (json.dumps([entry("ok"), entry("ok")]), "items[1].slug: appears more than once"),
    ],
)
def test_a_bad_file_imports_nothing(run: Run, tmp_path: Path, content: str, complaint: str) -> None:
    before = export(run)
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    done = run("faq", "import", str(path), "--replace")
    assert done.returncode == 1
    assert complaint in done.stderr
    assert export(run) == before


def test_a_missing_file_exits_1(run: Run, tmp_path: Path) -> None:
    done = run("faq", "import", str(tmp_path / "nope.json"))
    assert done.returncode == 1
    assert "Cannot read" in done.stderr


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_answers_then_stops_cleanly(database: Path, stop: signal.Signals) -> None:
    port = free_port()
    env = {**os.environ, "CHATCORE_BCRYPT_ROUNDS": "4", "CHATCORE_PORT": "1"}
    server = subprocess.Popen(
        [CHATCORE, "serve", "--port", str(port), "--database", str(database)],
        env=env,  # the option beats CHATCORE_PORT=1
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first_line = server.stdout.readline()
        assert first_line.startswith(f"chatcore serving http://127.0.0.1:{port} ")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            health = _poll(client, "/healthz")
            assert health.json() == {"status": "ok"}
            assert client.get("/readyz").status_code == 200
    finally:
        server.send_signal(stop)
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr
    assert Path(str(database) + ".secret").exists()
    assert not Path(str(database) + "-wal").exists()  # storage was closed, WAL checkpointed


def _poll(client: httpx.Client, path: str) -> httpx.Response:
    for _ in range(400):
        try:
            return client.get(path)
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{path} never answered")


def _on_a_terminal(args: list[str], env: dict[str, str], answers: list[str]) -> tuple[int, str]:
    """Run the command with a pseudo-terminal as its controlling tty; type each answer on cue."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the command
        os.execve(CHATCORE, [CHATCORE, *args], env)
    seen = b""
    fresh = b""  # what the command said since the last answer: the next cue must be in it
    pending = list(answers)
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"the command went quiet; it said {seen!r}")
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # EIO: the child closed the terminal
            chunk = b""
        if not chunk:
            break
        seen += chunk
        fresh += chunk
        if pending and fresh.rstrip().endswith(b":"):
            os.write(fd, pending.pop(0).encode() + b"\n")
            seen += b"\n"
            fresh = b""
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


def test_agent_create_asks_twice_on_a_terminal(database: Path) -> None:
    env = {**os.environ, "CHATCORE_DATABASE": str(database), "CHATCORE_BCRYPT_ROUNDS": "4"}
    args = ["agent", "create", "--email", "tty@example.com", "--name", "Tess"]
    code, said = _on_a_terminal(args, env, [PASSWORD, PASSWORD])
    assert code == 0, said
    assert "Password: " in said
    assert "Password (again): " in said
    assert PASSWORD not in said  # not echoed
    assert "Created admin Tess <tty@example.com>" in said


def test_mismatched_passwords_on_a_terminal_create_nothing(database: Path, run: Run) -> None:
    env = {**os.environ, "CHATCORE_DATABASE": str(database), "CHATCORE_BCRYPT_ROUNDS": "4"}
    args = ["agent", "create", "--email", "tty@example.com", "--name", "Tess"]
    code, said = _on_a_terminal(args, env, [PASSWORD, PASSWORD + "!"])
    assert code == 1
    assert "The passwords do not match." in said
    assert create(run, "tty@example.com").returncode == 0  # the email is still free
