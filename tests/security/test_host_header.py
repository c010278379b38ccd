"""Host header injection: a client's ``Host`` written back into an answer.

``Host: evil.example`` on a URL with a trailing slash used to come back as
``307 Location: http://evil.example/…`` (a poisoned cache sends every visitor
there), and a DNS-rebinding page whose ``Origin`` and ``Host`` both say
evil.example passed the socket's same-origin check. Only the names in
``CHATCORE_ALLOWED_HOSTS`` (default: the address served, localhost, 127.0.0.1)
reach the application, and the shipped nginx sends its own name, not the client's.

Against a real ``chatcore serve``, and the shipped nginx in front of a server.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from support.nginx import nginx_in_front_of
from support.rest import first_admin
from support.serve_process import Instance, chatcore_serve
from support.servers import LiveServer
from support.ws import WS_PATH

EVIL = "evil.example"
PUBLIC = "chat.example.com"
# Slash-ended spellings of real paths (Starlette redirected those), the pages, an
# unknown path, the API document.
PATHS = (
    "/api/v1/agent/me/",
    "/api/v1/customer/quick-questions/",
    "/console/",
    "/static",
    "/",
    "/healthz/",
    "/no/such/thing/",
    "/api/v1/openapi.json",
)


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    env = {
        "CHATCORE_DATABASE": str(tmp_path / "chat.db"),
        "CHATCORE_BCRYPT_ROUNDS": "4",
        "CHATCORE_ALLOWED_HOSTS": f"{PUBLIC}, 127.0.0.1",
    }
    with chatcore_serve(env, log=tmp_path / "serve.log") as served:
        yield served


def assert_not_echoed(response: httpx.Response, path: str) -> None:
    assert EVIL not in response.headers.get("location", ""), (path, dict(response.headers))
    assert EVIL.encode() not in response.content, (path, response.content[:300])


def test_a_foreign_host_is_never_echoed_nor_served(instance: Instance) -> None:
    with httpx.Client(base_url=instance.url, timeout=30) as client:
        for path in PATHS:
            for host in (EVIL, f"{EVIL}:80", f"{EVIL}:{urlsplit(instance.url).port}"):
                response = client.get(path, headers={"Host": host})
                assert_not_echoed(response, path)
                assert response.status_code == 400, (path, host, response.status_code)
                assert response.json()["error"]["code"] == "validation_error"
        # The names it was given answer, and a slash too many is a plain 404 for them too.
        for host in (PUBLIC, f"{PUBLIC}:8443", "127.0.0.1"):
            assert client.get("/healthz", headers={"Host": host}).status_code == 200, host
            slashed = client.get("/healthz/", headers={"Host": host})
            assert slashed.status_code == 404, host
            assert "location" not in slashed.headers
        assert client.get("/healthz", headers={"Host": "localhost"}).status_code == 400


def _handshake_status(url: str, path: str, *, host: str) -> bytes:
    address = urlsplit(url)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(request.encode())
        return conn.recv(4096).split(b"\r\n", 1)[0]


def test_a_rebound_page_cannot_open_an_agent_socket(instance: Instance) -> None:
    """Origin and Host both evil.example: 'same origin', unless the Host is checked."""
    with httpx.Client(base_url=instance.url, timeout=30) as client:
        admin = first_admin(client)
    path = f"{WS_PATH}?role=agent&token={admin.token}"
    status = _handshake_status(instance.url, path, host=EVIL)
    assert b" 101 " not in status, status
    # The same handshake with a name the server answers to opens.
    assert b" 101 " in _handshake_status(instance.url, path, host=PUBLIC), "control failed"


def test_nginx_sends_its_own_name_not_the_clients(live_server: LiveServer, tmp_path: Path) -> None:
    scratch = tmp_path / "nginx"
    scratch.mkdir()
    with (
        nginx_in_front_of([live_server.url], scratch) as proxy,
        httpx.Client(base_url=proxy.url, timeout=30) as client,
    ):
        for path in PATHS:
            response = client.get(path, headers={"Host": EVIL})
            assert_not_echoed(response, path)
            assert response.status_code in (200, 401, 404), (path, response.status_code)
        assert client.get("/healthz", headers={"Host": EVIL}).status_code == 200
