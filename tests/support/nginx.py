"""A real nginx in front of real chatcore servers, configured by deploy/nginx/chatcore.conf.

The shipped file is used as it is but for the lines a test must own: the
upstream's ``server`` lines (the instances' ports), ``listen`` (a free port), the
access log's path, and ``server_name`` (``127.0.0.1``: a name the instances answer
to by default). Everything that makes the proxying work (the WebSocket upgrade,
the timeouts, the log format without query strings) is the shipped text.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from support.servers import free_port

SHIPPED = Path(__file__).parents[2] / "deploy" / "nginx" / "chatcore.conf"
STARTUP_SECONDS = 10


@dataclass(frozen=True)
class Nginx:
    url: str
    access_log: Path


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise AssertionError("nginx is not installed: `make test` installs Debian's nginx-light")
    return found


def site_config(upstreams: Sequence[str], *, port: int, access_log: Path) -> str:
    """The shipped file with this test's instances, port and log path."""
    text = SHIPPED.read_text()
    servers = "".join(f"    server {address};\n" for address in upstreams)
    text, upstream_lines = re.subn(r"(?m)^    server 127\.0\.0\.1:\d+;\n", "", text)
    text = text.replace("    keepalive 32;", servers + "    keepalive 32;", 1)
    text, listens = re.subn(r"(?m)^    listen 80;$", f"    listen 127.0.0.1:{port};", text)
    text, logs = re.subn(r"/var/log/nginx/chatcore\.access\.log", str(access_log), text)
    # The address the tests call nginx by, and a name the instances answer to by default.
    text, names = re.subn(
        r"(?m)^    server_name chat\.example\.com;$", "    server_name 127.0.0.1;", text
    )
    if (upstream_lines, listens, logs, names) != (2, 1, 1, 1):
        raise AssertionError(f"{SHIPPED} no longer has the lines this test replaces")
    return text


def main_config(scratch: Path, site: Path) -> str:
    temp = {name: scratch / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir()
    # Workers run as the invoking user: as root, nginx would switch them to nobody,
    # who cannot reach pytest's private temporary folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}daemon off;\npid {scratch / 'nginx.pid'};\n"
        f"error_log {scratch / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
        f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
        f"  scgi_temp_path {temp['scgi']};\n"
        f"  include {site};\n"
        "}\n"
    )


@contextmanager
def nginx_in_front_of(upstream_urls: Sequence[str], scratch: Path) -> Iterator[Nginx]:
    port = free_port()
    access_log = scratch / "access.log"
    upstreams = [url.removeprefix("http://") for url in upstream_urls]
    site = scratch / "chatcore.conf"
    site.write_text(site_config(upstreams, port=port, access_log=access_log))
    main = scratch / "nginx.conf"
    main.write_text(main_config(scratch, site))
    process = subprocess.Popen(
        [nginx_binary(), "-c", str(main), "-p", str(scratch)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(port, process, scratch)
        yield Nginx(f"http://127.0.0.1:{port}", access_log)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(port: int, process: subprocess.Popen[bytes], scratch: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            errors = (scratch / "error.log").read_text() if (scratch / "error.log").exists() else ""
            raise AssertionError(f"nginx exited with {process.returncode}: {errors}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("nginx did not start listening in time")
