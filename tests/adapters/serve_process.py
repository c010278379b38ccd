"""A real ``chatcore serve`` process on a free loopback port, for tests that need one.

Started with the given ``CHATCORE_*`` variables on top of this environment, its
output in a log file; ready once ``/healthz`` answers; stopped with SIGINT (a
graceful stop), killed if that takes too long.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

CHATCORE = str(Path(sys.executable).with_name("chatcore"))


@dataclass(frozen=True)
class Instance:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self) -> str:
        return self.output()[-3000:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def chatcore_serve(env: dict[str, str], *, log: Path, name: str = "serve") -> Iterator[Instance]:
    port = free_port()
    full_env = {
        **os.environ,
        **env,
        "CHATCORE_HOST": "127.0.0.1",
        "CHATCORE_PORT": str(port),
    }
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        process = subprocess.Popen([CHATCORE, "serve"], env=full_env, stdout=out, stderr=out)
    instance = Instance(url, process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}: {instance.tail()}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} did not come up: {instance.tail()}")
            time.sleep(0.05)
        yield instance
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
