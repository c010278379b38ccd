"""chatcore behind deploy/nginx/chatcore.conf: HTTP, the WebSocket upgrade, quiet logs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from support.nginx import Nginx, nginx_in_front_of
from support.rest import Chat, customer_headers, first_admin, go_online, start_conversation
from support.rest_async import escalate, rest
from support.servers import LiveServer
from support.ws import agent_url, connect, customer_url, run


@pytest.fixture
def chatcore(make_server: Callable[..., LiveServer]) -> LiveServer:
    return make_server()


@pytest.fixture
def proxy(chatcore: LiveServer, tmp_path: Path) -> Iterator[Nginx]:
    scratch = tmp_path / "nginx"
    scratch.mkdir()
    with nginx_in_front_of([chatcore.url], scratch) as nginx:
        yield nginx


def test_the_api_answers_through_nginx_with_chatcores_own_errors(proxy: Nginx) -> None:
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        assert client.get("/healthz").status_code == 200
        session, conversation = start_conversation(client)
        big = {"body": "x" * (70 * 1024)}
        path = f"/api/v1/customer/conversations/{conversation['id']}/messages"
        answer = client.post(path, json=big, headers=customer_headers(session))
    # The 413 is chatcore's envelope, not nginx's HTML page: nginx lets the body through.
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"


def test_sockets_upgrade_through_nginx_and_events_flow_both_ways(proxy: Nginx) -> None:
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        admin = first_admin(client)
        go_online(client, admin)
        session, conversation = start_conversation(client)
    conversation_id = conversation["id"]

    async def scenario() -> None:
        customer_ws = customer_url(proxy.url, conversation_id, session)
        async with (
            connect(agent_url(proxy.url, admin.token)) as agent,
            connect(customer_ws) as customer,
        ):
            await agent.next_frame("system.connected")
            await customer.next_frame("system.connected")
            async with rest(proxy.url) as http:
                await escalate(http, Chat(session, conversation_id))
            await customer.next_frame("agent.assigned", conversation_id=conversation_id)
            await agent.next_frame("agent.assigned", conversation_id=conversation_id)
            assert (await customer.ping())["type"] == "system.pong"

    run(scenario())


def test_the_access_log_names_the_socket_path_but_no_secret(proxy: Nginx) -> None:
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        admin = first_admin(client)
        session, conversation = start_conversation(client)

    async def scenario() -> None:
        async with connect(agent_url(proxy.url, admin.token)) as agent:
            await agent.next_frame("system.connected")
        async with connect(customer_url(proxy.url, conversation["id"], session)) as customer:
            await customer.next_frame("system.connected")

    run(scenario())
    log = proxy.access_log.read_text()
    assert "/api/v1/realtime/ws" in log
    assert admin.token not in log
    assert session not in log
    assert "access_token" not in log
    assert "customer_session_id" not in log
