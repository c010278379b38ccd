"""``chatcore serve`` on a port that is taken: a clear refusal, and nothing left behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def test_a_taken_port_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        database = tmp_path / "chat.db"
        done = subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)],
            env={**os.environ, "CHATCORE_DATABASE": str(database)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    assert f"cannot serve on 127.0.0.1 port {port}" in done.stderr
    assert "in use" in done.stderr
    assert "serving" not in done.stdout
    assert list(tmp_path.iterdir()) == [], "a refused start left files behind"
