"""A real ``chatcore serve`` process on a free loopback port, for tests where the
process is the point (signals, SIGKILL, restarts, two instances, nginx in front).

Started with the given ``CHATCORE_*`` variables on top of this environment, its
output in a log file; ready once ``/healthz`` answers; stopped with SIGINT (a
graceful stop), killed if that takes too long.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from support.postgres import scratch_database, url_for
from support.redis_server import REDIS_URL
from support.servers import free_port

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


# -- scale-out: instances over one PostgreSQL database and one Redis -------------------


SECRET = "two-instances-test-secret-0123456789abcdef"


def scale_out_instance(
    database: str,
    redis_url: str,
    namespace: str,
    scratch: Path,
    name: str,
    *,
    env_extra: dict[str, str] | None = None,
) -> AbstractContextManager[Instance]:
    env = {
        "CHATCORE_DATABASE": database,
        "CHATCORE_REDIS_URL": redis_url,
        "CHATCORE_REDIS_NAMESPACE": namespace,
        "CHATCORE_SECRET_KEY": SECRET,
        "CHATCORE_RATE_LIMITS": "off",
        "CHATCORE_BCRYPT_ROUNDS": "4",
        "CHATCORE_PRESENCE_GRACE_SECONDS": "30",
        **(env_extra or {}),
    }
    return chatcore_serve(env, log=scratch / f"{name}.log", name=name)


@contextmanager
def two_instances(redis_url: str = REDIS_URL) -> Iterator[tuple[Instance, Instance]]:
    namespace = f"test{uuid.uuid4().hex[:12]}"  # apart from any other run on this Redis
    with (
        scratch_database() as name,
        tempfile.TemporaryDirectory(prefix="chatcore-two-") as scratch,
        ExitStack() as stack,
    ):
        database = url_for(name)
        a = stack.enter_context(
            scale_out_instance(database, redis_url, namespace, Path(scratch), "a")
        )
        b = stack.enter_context(
            scale_out_instance(database, redis_url, namespace, Path(scratch), "b")
        )
        yield a, b


def wait_ready(url: str, status: int, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while True:
        got = httpx.get(url + "/readyz", timeout=5).status_code
        if got == status:
            return
        assert time.monotonic() < deadline, f"/readyz stayed {got}, not {status}"
        time.sleep(0.1)
