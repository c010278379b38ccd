"""The ``chatcore serve`` the WebSocket tour runs against, and its short times.

A temporary database, rate limits off, bcrypt at 4 rounds, and typing, presence
grace and heartbeat times of a few seconds, so the tour does not wait long; the
story (tour_*.py) expects exactly these.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
from serving import free_port, stop

CHATCORE = str(Path(sys.executable).with_name("chatcore"))
TYPING_TIMEOUT = 2
GRACE = 2
HEARTBEAT = 2


@contextmanager
def serving(scratch: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CHATCORE_RATE_LIMITS": "off",
        "CHATCORE_DATABASE": str(scratch / "tour.db"),
        "CHATCORE_BCRYPT_ROUNDS": "4",
        "CHATCORE_PORT": str(port),
        "CHATCORE_TYPING_TIMEOUT_SECONDS": str(TYPING_TIMEOUT),
        "CHATCORE_PRESENCE_GRACE_SECONDS": str(GRACE),
        "CHATCORE_HEARTBEAT_SECONDS": str(HEARTBEAT),
    }
    log = open(scratch / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen([CHATCORE, "serve"], env=env, stdout=log, stderr=log)
    try:
        for _ in range(300):
            if server.poll() is not None:
                raise SystemExit(f"chatcore serve exited with {server.returncode}")
            with suppress(httpx.TransportError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield url, server
    finally:
        stop(server, timeout=30)
        log.close()
        lines = (scratch / "server.log").read_text(errors="replace").splitlines()
        # Warnings and errors only: the access log names every socket, secrets included.
        worth = [line for line in lines if not line.startswith("INFO:")]
        print(f"\n-- server log: {len(lines)} lines, {len(worth)} not INFO")
        print("\n".join(worth[:80]))
