"""Reading a customer's email off the socket, for a chat REST refuses to show.

Every agent's socket hears ``conversation.updated`` when a conversation changes
status, but an agent may read over REST only what the bot holds, what it holds or
closed (admins read everything). To an agent who may not read the conversation the
event carries ``customer.email: null`` and no ``last_message``; the holder, the
closer and admins get the whole preview. Here an agent who is neither watches a
chat escalated to a colleague and closed by her: on one server, and across two
instances where the event reaches it through Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from support.redis_server import REDIS_URL, require_redis
from support.rest import Staff, bearer, expect, first_admin, go_online, hire
from support.rest_async import close_chat, escalate, rest, start_chat
from support.serve_process import two_instances, wait_ready
from support.servers import LiveServer
from support.ws import Frame, WsClient, agent_url, connect, run

EMAIL = "dana.private@example.com"


class Desk:
    """Who is where: the customer's server, and each agent's."""

    def __init__(self, customer: str, holder: str, outsider: str, admin: str) -> None:
        self.customer, self.holder, self.outsider, self.admin = customer, holder, outsider, admin


def _staff(base: str) -> tuple[Staff, Staff, Staff]:
    """An admin (offline), Alice online (escalations go to her), Bob offline."""
    with httpx.Client(base_url=base, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin, display_name="Alice")
        bob = hire(client, admin, display_name="Bob")
        go_online(client, alice)
    return admin, alice, bob


async def _update(client: WsClient, chat: str, status: str) -> dict[str, Any]:
    def has_status(frame: Frame) -> bool:
        return bool(frame["data"]["status"] == status)

    frame = await client.next_frame("conversation.updated", conversation_id=chat, where=has_status)
    data: dict[str, Any] = frame["data"]
    return data


def _whole(data: dict[str, Any]) -> None:
    assert data["customer"] == {"display_name": "Dana", "email": EMAIL}, data
    assert "last_message" in data, data


def _redacted(data: dict[str, Any]) -> None:
    assert data["customer"] == {"display_name": "Dana", "email": None}, data
    assert "last_message" not in data, data


async def _scene(desk: Desk, admin: Staff, alice: Staff, bob: Staff) -> None:
    async with (
        rest(desk.customer) as http,
        rest(desk.outsider) as http_bob,
        connect(agent_url(desk.holder, alice.token), name="alice") as holder,
        connect(agent_url(desk.outsider, bob.token), name="bob") as outsider,
        connect(agent_url(desk.admin, admin.token), name="admin") as boss,
    ):
        everyone = (holder, outsider, boss)
        for client in everyone:
            await client.next_frame("system.connected")

        chat = await start_chat(http, display_name="Dana", email=EMAIL)
        for client in everyone:  # the bot holds it: any agent may read it, and hears it all
            _whole(await _update(client, chat.conversation_id, "automated"))

        heard_before = len(outsider.texts)
        await escalate(http, chat)
        for client in (holder, boss):
            _whole(await _update(client, chat.conversation_id, "agent"))
        _redacted(await _update(outsider, chat.conversation_id, "agent"))
        # The premise: REST refuses Bob the chat he heard about.
        expect(await http_bob.get(f"{chat.agent_path}/messages", headers=bearer(bob.token)), 403)

        await close_chat(http_bob, alice.token, chat.conversation_id)
        for client in (holder, boss):  # Alice closed it: she may still read it
            _whole(await _update(client, chat.conversation_id, "closed"))
        _redacted(await _update(outsider, chat.conversation_id, "closed"))
        await outsider.ping()  # everything sent to Bob before this has arrived
        assert not [text for text in outsider.texts[heard_before:] if EMAIL in text]


def test_an_agent_who_may_not_read_a_chat_never_hears_its_customers_email(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server()
    admin, alice, bob = _staff(server.url)
    run(_scene(Desk(server.url, server.url, server.url, server.url), admin, alice, bob))


def test_across_instances_too() -> None:
    require_redis(REDIS_URL)
    with two_instances() as (a, b):
        wait_ready(a.url, 200)
        wait_ready(b.url, 200)
        admin, alice, bob = _staff(b.url)
        # The customer and Alice on A; Bob and the admin hear it through Redis on B.
        desk = Desk(customer=a.url, holder=a.url, outsider=b.url, admin=b.url)
        try:
            run(_scene(desk, admin, alice, bob), within=120)
        except AssertionError as failed:
            raise AssertionError(f"{failed}\nA: {a.tail()}\nB: {b.tail()}") from None
