"""Text PostgreSQL cannot hold: NUL in a path, a query, a body or a frame, on both stores.

PostgreSQL's text refuses NUL (and unpaired surrogates), even only to compare, so
``POST .../quick-replies/%00%01`` was a 500 there and a 404 on SQLite. A real
``chatcore serve`` on each store must give every such request the same answer:
404 for a name that cannot exist, 400 naming the field for text that cannot be kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from support.http_contract import error_of
from support.postgres import scratch_database, url_for
from support.rest import (
    ADMIN,
    AGENT,
    CUSTOMER,
    PASSWORD,
    Staff,
    expect,
    first_admin,
    start_conversation,
)
from support.serve_process import Instance, chatcore_serve
from support.ws import agent_url, connect, customer_url, refused, run

NUL = "\x00\x01"


@dataclass(frozen=True)
class Scene:
    server: Instance
    client: httpx.Client
    admin: Staff
    session_id: str
    conversation_id: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def scene(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scene]:
    scratch = tmp_path_factory.mktemp(request.param)
    env = {"CHATCORE_BCRYPT_ROUNDS": "4", "CHATCORE_RATE_LIMITS": "off"}
    with scratch_database() as name:
        if request.param == "postgresql":
            env |= {"CHATCORE_DATABASE": url_for(name), "CHATCORE_SECRET_KEY": "nul-" * 10}
        else:
            env |= {"CHATCORE_DATABASE": str(Path(scratch) / "chat.db")}
        with (
            chatcore_serve(env, log=Path(scratch) / "serve.log") as server,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            admin = first_admin(client)
            session_id, conversation = start_conversation(client)
            yield Scene(server, client, admin, session_id, str(conversation["id"]))
            assert "Traceback" not in server.output(), server.tail()


def test_a_nul_in_a_path_names_nothing(scene: Scene) -> None:
    client, admin = scene.client, scene.admin
    chat = f"{CUSTOMER}/conversations/{scene.conversation_id}"
    customer = {"X-Customer-Session-Id": scene.session_id}
    for method, path, headers in [
        ("POST", f"{chat}/quick-replies/%00%01", customer),
        ("GET", f"{CUSTOMER}/conversations/%00", customer),
        ("POST", f"{CUSTOMER}/conversations/a%00b/escalate", customer),
        ("GET", f"{AGENT}/conversations/%00/messages", admin.headers),
        ("POST", f"{AGENT}/conversations/%00/close", admin.headers),
        ("DELETE", f"{ADMIN}/faqs/track%00order", admin.headers),
        ("POST", f"{ADMIN}/agents/%00/deactivate", admin.headers),
    ]:
        response = client.request(method, path, headers=headers)
        error_of(response, 404, "not_found")


def test_a_nul_in_a_body_or_a_query_is_refused_naming_the_field(scene: Scene) -> None:
    client, admin = scene.client, scene.admin
    customer = {"X-Customer-Session-Id": scene.session_id}
    chat = f"{CUSTOMER}/conversations/{scene.conversation_id}"
    for method, path, headers, body, field in [
        (
            "POST",
            f"{AGENT}/auth/login",
            {},
            {"email": f"a{NUL}@example.com", "password": PASSWORD},
            "email",
        ),
        (
            "POST",
            f"{AGENT}/auth/login",
            {},
            {"email": admin.email, "password": f"x{NUL}yzzzzzzzz"},
            "password",
        ),
        (
            "POST",
            f"{AGENT}/register",
            admin.headers,
            {"email": "b@example.com", "password": PASSWORD, "display_name": f"B{NUL}"},
            "display_name",
        ),
        (
            "POST",
            f"{CUSTOMER}/conversations/start",
            {},
            {"display_name": f"C{NUL}"},
            "display_name",
        ),
        ("POST", f"{chat}/messages", customer, {"body": f"hello{NUL}"}, "body"),
        (
            "POST",
            f"{chat}/messages",
            customer,
            {"body": "hello", "client_message_id": NUL},
            "client_message_id",
        ),
        (
            "POST",
            f"{ADMIN}/faqs",
            admin.headers,
            {"slug": "ok", "question": f"Q{NUL}?", "answer": "A"},
            "question",
        ),
        ("PUT", f"{ADMIN}/faqs/track-order", admin.headers, {"answer": f"A{NUL}"}, "answer"),
    ]:
        response = client.request(method, path, headers=headers, json=body)
        error = error_of(response, 400, "validation_error")
        assert set(error["fields"]) == {field}, (path, error)
    response = client.get(f"{AGENT}/conversations", params={"cursor": NUL}, headers=admin.headers)
    assert set(error_of(response, 400, "validation_error")["fields"]) == {"cursor"}
    # Nothing above was stored: the conversation has only the bot's greeting in it.
    messages = expect(client.get(f"{chat}/messages", headers=customer), 200)["items"]
    assert [m["sender"]["type"] for m in messages] == ["bot"], messages


def test_a_nul_over_the_websocket_names_nothing(scene: Scene) -> None:
    url = scene.server.url

    async def scenario() -> None:
        async with connect(agent_url(url, scene.admin.token)) as agent:
            await agent.next_frame("system.connected")
            for frame in (
                {"type": "subscribe", "conversation_id": NUL},
                {
                    "type": "typing",
                    "conversation_id": f"{scene.conversation_id}{NUL}",
                    "is_typing": True,
                },
            ):
                await agent.send(json.dumps(frame))
                error = await agent.next_frame("system.error")
                assert error["data"]["code"] == "not_found", error
        _, code = await refused(customer_url(url, NUL, scene.session_id))
        assert code == 4404, code
        _, code = await refused(customer_url(url, scene.conversation_id, NUL))
        assert code == 4403, code

    run(scenario())
