"""Other local users reading the store: a real ``chatcore serve`` keeps its files 0600.

The SQLite database, its -wal and -shm hold session ids, password hashes and every
message; the secret signs every token. Under the usual umask (022) a file is made
readable by everyone unless the server says otherwise, so the server must.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from support.rest import first_admin, start_conversation
from support.serve_process import Instance, chatcore_serve

COMPANIONS = ("", "-wal", "-shm", ".secret")


@contextmanager
def _serving(database: Path, log: Path) -> Iterator[Instance]:
    # The umask a shell usually has: with it, files are world-readable unless made otherwise.
    before = os.umask(0o022)
    try:
        env = {"CHATCORE_DATABASE": str(database), "CHATCORE_BCRYPT_ROUNDS": "4"}
        with chatcore_serve(env, log=log) as server:
            os.umask(before)
            yield server
    finally:
        os.umask(before)


def _modes(database: Path) -> dict[str, str]:
    return {
        suffix: oct(stat.S_IMODE(os.stat(f"{database}{suffix}").st_mode)) for suffix in COMPANIONS
    }


def _write_something(server: Instance) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        first_admin(client)
        start_conversation(client)


def test_a_new_store_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "chat.db"
    with _serving(database, tmp_path / "serve.log") as server:
        _write_something(server)  # the WAL holds what was just said
        assert _modes(database) == dict.fromkeys(COMPANIONS, "0o600")


def test_a_store_left_world_readable_is_narrowed_when_served(tmp_path: Path) -> None:
    database = tmp_path / "chat.db"
    with _serving(database, tmp_path / "first.log") as server:
        _write_something(server)
    for suffix in COMPANIONS:
        name = f"{database}{suffix}"
        Path(name).touch()  # a clean stop checkpoints and removes the -wal and -shm
        os.chmod(name, 0o644)  # as an older version, or a careless copy, left them
    with _serving(database, tmp_path / "second.log") as server:
        _write_something_more(server)
        assert _modes(database) == dict.fromkeys(COMPANIONS, "0o600")


def _write_something_more(server: Instance) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        start_conversation(client)
