"""Cross-site WebSocket hijacking, and secrets in logs.

Already proved in tests/adapters/test_realtime_handshake.py: a foreign origin is
4403 for an agent, the same origin and no Origin get in, CHATCORE_ALLOWED_ORIGINS
lets the console in, customers connect from anywhere, a bad token is 4401 before
the origin is looked at. Here: origins that only look like allowed ones, a refused
origin that names a conversation, customers from hostile origins with a list set,
and the whole thing through ``chatcore serve`` configured by its environment.

Logs: tests/adapters/test_realtime_findings.py checks that one token and one
session in WebSocket URLs are redacted; tests/deploy/test_nginx.py checks nginx's
access log. Here a real ``chatcore serve`` gets every way a secret can reach a
URL or a request, refused ones included, and nothing secret may appear in its
output.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from entrypoints.server import RedactSecrets
from support.rest import (
    PASSWORD,
    bearer,
    customer_headers,
    expect,
    first_admin,
    go_online,
    hire,
    new_token,
    start_conversation,
)
from support.serve_process import Instance, chatcore_serve
from support.servers import LiveServer
from support.ws import WS_PATH, agent_url, connect, customer_url, refused, run

CONSOLE = "https://console.example.com"
EVIL = "https://evil.example.net"
SECRET_KEY = "log-test-signing-key-" + "q" * 48


def _connects(url: str, origin: str | None, *, conversation_id: str | None = None) -> bool:
    """True if the socket opens; False if refused with one forbidden error and 4403."""

    async def scenario() -> bool:
        async with connect(url, origin=origin) as client:
            first = await client.next_frame()
            if first["type"] == "system.connected":
                if conversation_id is not None:
                    await client.next_frame("system.subscribed", conversation_id=conversation_id)
                await client.ping()
                return True
            assert first["type"] == "system.error", first
            assert first["data"]["code"] == "forbidden", first
            assert await client.wait_closed() == 4403
            assert client.types() == ["system.error"]  # no snapshot, nothing else
            return False

    result: bool = run(scenario())
    return result


# -- Origin -----------------------------------------------------------------------------

LOOKALIKES = [
    "null",  # sandboxed iframes, file:// pages
    "https://console.example.com.evil.net",
    "https://evil-console.example.com",
    "https://console.example.com:8443",
    "http://console.example.com",  # the right host, the wrong scheme
    "https://console.example.com@evil.net",
    "https://sub.console.example.com",
]


@pytest.fixture
def guarded(make_server: Callable[..., LiveServer]) -> tuple[LiveServer, str, str]:
    """A server allowing CONSOLE; its admin's token and an AUTOMATED conversation."""
    server = make_server(allowed_origins=(CONSOLE,), rate_limits=False)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        _, conversation = start_conversation(client)
    return server, admin.token, conversation["id"]


def test_origins_that_only_look_allowed_are_refused(guarded: tuple[LiveServer, str, str]) -> None:
    server, token, _ = guarded
    url = agent_url(server.url, token)
    assert _connects(url, CONSOLE)
    port = server.url.rsplit(":", 1)[1]
    same_origin_lookalikes = [
        "http://127.0.0.1",  # no port: another origin
        f"http://127.0.0.1:{port}.evil.net",
        f"http://127.0.0.1:{port}@evil.net",
        f"http://evil.net/127.0.0.1:{port}",
    ]
    for origin in [*LOOKALIKES, *same_origin_lookalikes]:
        assert not _connects(url, origin), origin


def test_a_refused_origin_naming_a_conversation_gets_no_snapshot(
    guarded: tuple[LiveServer, str, str],
) -> None:
    """The token is good and the conversation readable: only the origin is wrong."""
    server, token, conversation_id = guarded
    url = agent_url(server.url, token, conversation_id=conversation_id)
    assert _connects(url, CONSOLE, conversation_id=conversation_id)
    assert not _connects(url, EVIL, conversation_id=conversation_id)


def test_customers_connect_from_any_origin_even_with_a_list_set(
    guarded: tuple[LiveServer, str, str],
) -> None:
    server, _, _ = guarded
    with httpx.Client(base_url=server.url, timeout=30) as client:
        session, conversation = start_conversation(client)
    url = customer_url(server.url, conversation["id"], session)
    for origin in (EVIL, "null", CONSOLE, None):
        assert _connects(url, origin, conversation_id=conversation["id"]), origin


# -- a real `chatcore serve`, its output captured ---------------------------------------


def serving(tmp_path: Path, **env_extra: str) -> AbstractContextManager[Instance]:
    env = {
        "CHATCORE_DATABASE": str(tmp_path / "served.db"),
        "CHATCORE_BCRYPT_ROUNDS": "4",
        "CHATCORE_RATE_LIMITS": "off",
        **env_extra,
    }
    return chatcore_serve(env, log=tmp_path / "serve.log")


def test_chatcore_serve_takes_allowed_origins_from_its_environment(tmp_path: Path) -> None:
    with (
        serving(tmp_path, CHATCORE_ALLOWED_ORIGINS=f"{CONSOLE}, https://other.example.org") as s,
        httpx.Client(base_url=s.url, timeout=30) as client,
    ):
        admin = first_admin(client)
        url = agent_url(s.url, admin.token)
        assert _connects(url, CONSOLE)
        assert _connects(url, "https://other.example.org")
        assert _connects(url, s.url)  # the server's own pages
        assert not _connects(url, EVIL)


def _ws(base: str, query: str) -> str:
    return base.replace("http://", "ws://", 1) + WS_PATH + "?" + query


async def _opened(url: str) -> None:
    async with connect(url) as client:
        await client.next_frame("system.connected")


def test_no_token_session_id_password_or_key_reaches_the_servers_output(tmp_path: Path) -> None:
    wrong_password = "this is not the password"
    new_password = "a brand new passphrase"
    with (
        serving(tmp_path, CHATCORE_SECRET_KEY=SECRET_KEY) as served,
        httpx.Client(base_url=served.url, timeout=30) as client,
    ):
        url = served.url
        admin = first_admin(client)
        alice = hire(client, admin, display_name="Alice")
        go_online(client, alice)
        second = new_token(client, alice.email)
        spare = new_token(client, alice.email)
        session, conversation = start_conversation(client, display_name="Logged Customer")
        other_session, _ = start_conversation(client)
        x = conversation["id"]
        chat = f"/api/v1/customer/conversations/{x}"
        expired = jwt.encode(
            {
                "sub": alice.id,
                "jti": "never-issued",
                "iat": int((datetime.now(UTC) - timedelta(days=2)).timestamp()),
                "exp": int((datetime.now(UTC) - timedelta(days=1)).timestamp()),
            },
            SECRET_KEY,
            algorithm="HS256",
        )

        # REST: the session header, bearer tokens, refusals of every kind.
        expect(client.get(chat, headers=customer_headers(session)), 200)
        expect(
            client.post(f"{chat}/messages", json={"body": "hi"}, headers=customer_headers(session)),
            201,
        )
        expect(client.get(chat, headers=customer_headers(other_session)), 403)
        expect(
            client.post(f"{chat}/messages", json={"body": ""}, headers=customer_headers(session)),
            400,
        )
        expect(
            client.get("/api/v1/customer/conversations/nope", headers=customer_headers(session)),
            404,
        )
        expect(client.get("/api/v1/agent/me", headers=bearer(expired)), 401)
        expect(client.get("/api/v1/agent/me", headers={"Authorization": f"Token {spare}"}), 401)
        login_body = {"email": alice.email, "password": wrong_password}
        expect(client.post("/api/v1/agent/auth/login", json=login_body), 401)
        bad_change = {"current_password": wrong_password, "new_password": new_password}
        expect(client.post("/api/v1/agent/password", json=bad_change, headers=alice.headers), 401)
        change = {"current_password": PASSWORD, "new_password": new_password}
        expect(client.post("/api/v1/agent/password", json=change, headers=alice.headers), 204)
        expect(client.get("/api/v1/agent/me", headers=bearer(second)), 401)  # revoked now
        # Secrets pasted into REST URLs, where nothing reads them.
        expect(client.get(f"/api/v1/agent/me?access_token={alice.token}"), 401)
        expect(client.get(f"/no/such/page?customer_session_id={session}"), 404)

        async def sockets() -> None:
            await _opened(customer_url(url, x, session))
            await _opened(agent_url(url, alice.token))
            await _opened(agent_url(url, alice.token, conversation_id=x))
            # Names percent-encoded: they still mean access_token and customer_session_id.
            await _opened(_ws(url, f"role=agent&access%5Ftoken={alice.token}"))
            await _opened(_ws(url, f"role=agent&access%5ftoken={alice.token}"))
            await _opened(
                _ws(url, f"role=customer&conversation_id={x}&customer%5Fsession%5Fid={session}")
            )
            await _opened(_ws(url, f"role=agent&access_token=&access_token={alice.token}"))
            await _opened(_ws(url, f"access_token={alice.token}&role=agent"))
            for refusal in (
                customer_url(url, x, other_session),  # 4403
                agent_url(url, second),  # revoked: 4401
                agent_url(url, expired),  # 4401
                agent_url(url, spare, conversation_id="nope"),  # 4404
                _ws(url, f"role=admin&access_token={spare}"),  # 4400
            ):
                await refused(refusal)
            # A socket to a path that does not exist, secrets in its URL.
            base = url.replace("http://", "ws://", 1)
            with pytest.raises(AssertionError, match="refused with HTTP"):
                async with connect(f"{base}/api/v1/realtime/nope?access_token={spare}"):
                    pass

        run(sockets())
        assert not _connects(agent_url(url, alice.token), EVIL)  # 4403, the token in its URL
    output = served.output()

    # The lines are there, so the absence below means something...
    assert "[accepted]" in output
    assert "POST /api/v1/agent/auth/login" in output
    assert "[redacted]" in output
    # ...and nothing secret is in them.
    secrets_ = {
        "the admin's token": admin.token,
        "Alice's token": alice.token,
        "Alice's revoked token": second,
        "Alice's spare token": spare,
        "an expired token": expired,
        "the customer's session": session,
        "another customer's session": other_session,
        "the password": PASSWORD,
        "the new password": new_password,
        "a wrong password": wrong_password,
        "the signing key": SECRET_KEY,
    }
    for what, value in secrets_.items():
        assert value not in output, f"{what} is in the server's output:\n{output}"
    for what, value in secrets_.items():
        # Any 16-character stretch of it, in case a line cut it or wrapped it.
        for start in range(0, max(1, len(value) - 16), 8):
            piece = value[start : start + 16]
            if len(piece) == 16 and not piece.isspace():
                assert piece not in output, f"part of {what} is in the output:\n{output}"


@pytest.mark.parametrize(
    "line",
    [
        '"WebSocket /api/v1/realtime/ws?role=agent&access_token=SECRET1" [accepted]',
        '"WebSocket /api/v1/realtime/ws?access%5Ftoken=SECRET1&role=agent" [accepted]',
        '"WebSocket /api/v1/realtime/ws?role=agent&access%255Ftoken=SECRET1" 403',
        '"GET /x?role=agent;access_token=SECRET1 HTTP/1.1" 404',
        '"GET /x?customer%5fsession%5fid=SECRET1&a=b HTTP/1.1" 404',
        '"GET /x?Access_Token=SECRET1 HTTP/1.1" 401',
        '"GET /x?access_token=&access_token=SECRET1 HTTP/1.1" 401',
        '"GET /x?password=SECRET1 HTTP/1.1" 401',
    ],
)
def test_the_log_filter_cuts_every_spelling_of_a_secret_parameter(line: str) -> None:
    """The filter on uvicorn's loggers, line by line (the test above runs it for real)."""
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "%s", (line,), None)
    assert RedactSecrets().filter(record)
    shown = record.getMessage()
    assert "SECRET1" not in shown
    assert "[redacted]" in shown


def test_the_log_filter_leaves_the_rest_of_a_line_alone() -> None:
    line = '"WebSocket /api/v1/realtime/ws?role=customer&conversation_id=abc&after_seq=4" 403'
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "%s", (line,), None)
    RedactSecrets().filter(record)
    assert record.getMessage() == line
