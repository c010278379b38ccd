"""The servers under measurement, as real processes: ``chatcore serve`` and the bare relay.

Both listen on a free loopback port and are stopped with SIGINT (uvicorn's
graceful shutdown), killed if that takes too long. Their output goes to a log
file in a temporary directory, named in the error if they do not come up.

    with chatcore_server() as server:
        server.url, server.ws_url, server.rss_kib(), server.cpu_seconds()
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from serving import free_port, stop, wait_until_up

from entrypoints.server import GRACEFUL_SHUTDOWN_SECONDS, MAX_FRAME_BYTES
from entrypoints.settings import Settings

BENCH = Path(__file__).resolve().parent
CHATCORE = str(Path(sys.executable).with_name("chatcore"))
STOP_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Server:
    url: str  # http://127.0.0.1:PORT
    ws_url: str  # ws://127.0.0.1:PORT
    pid: int
    log: Path

    def rss_kib(self) -> int:
        """Resident memory now (VmRSS, Linux /proc), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc: this measurement needs Linux")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _running(
    command: list[str], env: dict[str, str], port: int, log_path: Path, cwd: Path | None = None
) -> Iterator[Server]:
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=cwd)
        try:
            try:
                wait_until_up(url, process)
            except SystemExit as failed:
                raise RuntimeError(f"{failed} (log: {log_path.read_text()[-2000:]})") from None
            yield Server(url=url, ws_url=f"ws://127.0.0.1:{port}", pid=process.pid, log=log_path)
        finally:
            stop(process, timeout=STOP_TIMEOUT_SECONDS)


@contextmanager
def chatcore_server(
    *,
    env_extra: dict[str, str] | None = None,
    database: str | Path | None = None,
    log: Path | None = None,
) -> Iterator[Server]:
    """``chatcore serve``: rate limits off, bcrypt at 4 rounds, a temporary database
    unless ``database`` names one (a seeded file, say, or a ``postgresql://`` URL).
    ``env_extra`` wins over all. The log goes to ``log`` if given (to be read after
    the server has stopped), else beside the temporary database."""
    with tempfile.TemporaryDirectory(prefix="chatcore-bench-") as scratch:
        port = free_port()
        env = {
            **os.environ,
            "CHATCORE_RATE_LIMITS": "off",
            "CHATCORE_BCRYPT_ROUNDS": "4",
            "CHATCORE_DATABASE": str(database or Path(scratch) / "bench.db"),
            "CHATCORE_HOST": "127.0.0.1",
            "CHATCORE_PORT": str(port),
            **(env_extra or {}),
        }
        log_path = log or Path(scratch) / "server.log"
        with _running([CHATCORE, "serve"], env, port, log_path) as server:
            yield server


def relay_command(port: int) -> list[str]:
    """uvicorn with the options chatcore's ``uvicorn_config`` uses, on the relay app."""
    heartbeat = str(float(Settings().heartbeat_seconds))
    return [
        *(sys.executable, "-m", "uvicorn", "relay_app:app"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--log-level", "info", "--lifespan", "on"),
        *("--loop", "auto", "--http", "auto"),
        *("--ws", "websockets-sansio", "--ws-max-size", str(MAX_FRAME_BYTES)),
        *("--ws-ping-interval", heartbeat, "--ws-ping-timeout", heartbeat),
        *("--ws-per-message-deflate", "false", "--no-proxy-headers"),
        *("--timeout-graceful-shutdown", str(GRACEFUL_SHUTDOWN_SECONDS)),
    ]


@contextmanager
def relay_server() -> Iterator[Server]:
    """The baseline: bench/relay_app.py on uvicorn, the same stack and options."""
    with tempfile.TemporaryDirectory(prefix="chatcore-relay-") as scratch:
        port = free_port()
        log = Path(scratch) / "relay.log"
        with _running(relay_command(port), dict(os.environ), port, log, cwd=BENCH) as server:
            yield server
