"""Who receives what, row by row: every event to whom it belongs, and to nobody else.

Each scene has the customer of the conversation, its holder, a subscriber, and an
unrelated agent who neither holds nor subscribes; negatives are proved with a
ping/pong round trip, never a sleep. Customers' frames are checked for agents'
emails and secrets at the end of every scene.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from support.http_contract import CONVERSATION_KEYS, MESSAGE_KEYS
from support.rest import Chat, Staff, first_admin, go_online, hire, start_conversation
from support.rest_async import agent_says, close_chat, escalate, rest, say, set_presence, start_chat
from support.servers import LiveServer
from support.ws import FAST, WsClient, agent_url, assert_private, connect, customer_url, run

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Crew:
    server: LiveServer
    admin: Staff  # offline: never assigned
    alice: Staff  # online: gets the escalations
    bob: Staff  # offline until a test says otherwise

    @property
    def emails(self) -> list[str]:
        return [self.admin.email, self.alice.email, self.bob.email]

    def agent(self, account: Staff, **extra: Any) -> str:
        return agent_url(self.server.url, account.token, **extra)

    def customer(self, conversation_id: str, session: str, **extra: Any) -> str:
        return customer_url(self.server.url, conversation_id, session, **extra)


def _crew(make_server: Callable[..., LiveServer]) -> Crew:
    server = make_server(**FAST)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client, email="boss@support.example")
        alice = hire(client, admin, email="alice@support.example", display_name="Alice")
        bob = hire(client, admin, email="bob@support.example", display_name="Bob")
        go_online(client, alice)
    return Crew(server, admin, alice, bob)


def _customer_conversation(data: dict[str, Any]) -> None:
    """What a customer is sent: the Conversation, nothing more."""
    assert set(data) == CONVERSATION_KEYS, data


def _agent_conversation(data: dict[str, Any]) -> None:
    """What an agent is sent: the Conversation plus its last message."""
    assert set(data) == CONVERSATION_KEYS | {"last_message"}, data
    if data["last_message"] is not None:
        assert set(data["last_message"]) == MESSAGE_KEYS


def _outsider_conversation(data: dict[str, Any]) -> None:
    """What an agent who may not read it is sent: a customer's view, without the email."""
    _customer_conversation(data)
    assert data["customer"]["email"] is None, data


async def _ready(*clients: WsClient) -> None:
    for client in clients:
        await client.next_frame("system.connected")


# -- AUTOMATED -----------------------------------------------------------------------


def test_automated_conversation_updates_reach_every_agent_messages_only_subscribers(
    make_server: Callable[..., LiveServer],
) -> None:
    crew = _crew(make_server)

    async def scenario() -> None:
        async with (
            rest(crew.server.url) as http,
            connect(crew.agent(crew.alice), name="alice") as alice,
            connect(crew.agent(crew.bob), name="bob") as bob,
            connect(crew.agent(crew.admin), name="admin") as admin,
        ):
            await _ready(alice, bob, admin)
            chat = await start_chat(http)
            session, x = chat.session_id, chat.conversation_id
            # A new AUTOMATED conversation: every agent hears of it.
            for agent in (alice, bob, admin):
                updated = await agent.next_frame("conversation.updated", conversation_id=x)
                _agent_conversation(updated["data"])
                assert updated["data"]["status"] == "automated"
                assert updated["data"]["last_seq"] == 1

            await bob.send({"type": "subscribe", "conversation_id": x})
            await bob.next_frame("system.subscribed", conversation_id=x)
            async with connect(crew.customer(x, session), name="customer") as customer:
                await customer.next_frame("system.subscribed")
                await say(http, Chat(session, x), "Where is my order?")

                # The customer: both messages, then the update.
                created = await customer.take("message.created", 2, conversation_id=x)
                assert [f["data"]["seq"] for f in created] == [2, 3]
                assert [f["data"]["sender"]["type"] for f in created] == ["customer", "bot"]
                for frame in created:
                    assert set(frame["data"]) == MESSAGE_KEYS
                updated = await customer.next_frame("conversation.updated", conversation_id=x)
                _customer_conversation(updated["data"])
                assert updated["data"]["last_seq"] == 3

                # The subscriber: the messages and the update.
                created = await bob.take("message.created", 2, conversation_id=x)
                assert [f["data"]["seq"] for f in created] == [2, 3]
                updated = await bob.next_frame("conversation.updated", conversation_id=x)
                _agent_conversation(updated["data"])
                assert updated["data"]["last_message"]["seq"] == 3

                # Everyone else: the update (AUTOMATED), never the messages.
                for agent in (alice, admin):
                    updated = await agent.next_frame("conversation.updated", conversation_id=x)
                    assert updated["data"]["last_seq"] == 3
                    await agent.expect_nothing_more("message.created")
                for agent in (alice, bob, admin):
                    await agent.expect_nothing_more(conversation_id=x)
                await customer.expect_nothing_more()
                assert_private(customer, crew.emails)

    run(scenario())


# -- escalation, AGENT, close ----------------------------------------------------------


def test_escalation_messages_and_close_reach_each_their_own(
    make_server: Callable[..., LiveServer],
) -> None:
    crew = _crew(make_server)
    with httpx.Client(base_url=crew.server.url, timeout=30) as client:
        session, conversation = start_conversation(client)
    x = conversation["id"]

    async def scenario() -> None:
        async with (
            rest(crew.server.url) as http,
            connect(crew.customer(x, session), name="customer") as customer,
            connect(crew.agent(crew.alice), name="alice") as alice,
            connect(crew.agent(crew.alice), name="alice-2") as alice_2,
            connect(crew.agent(crew.bob), name="bob") as bob,
            connect(crew.agent(crew.admin, conversation_id=x), name="admin") as admin,
        ):
            await customer.next_frame("system.subscribed")
            await admin.next_frame("system.subscribed")
            await _ready(alice, alice_2, bob)
            holder = (alice, alice_2)

            # -- escalation
            await escalate(http, Chat(session, x))
            everyone = (customer, *holder, bob, admin)
            for client in everyone:
                assigned = await client.next_frame("agent.assigned", conversation_id=x)
                assert assigned["data"] == {
                    "conversation_id": x,
                    "agent": {"id": crew.alice.id, "display_name": "Alice", "presence": "online"},
                }
                updated = await client.next_frame("conversation.updated", conversation_id=x)
                assert updated["data"]["status"] == "agent"
                assert updated["data"]["assigned_agent"]["id"] == crew.alice.id
                if client is customer:
                    _customer_conversation(updated["data"])
                elif client is bob:  # neither holder nor admin: 403 over REST
                    _outsider_conversation(updated["data"])
                else:
                    _agent_conversation(updated["data"])
            for client in (customer, *holder, admin):  # the holder needs no subscribe
                joined = await client.next_frame("message.created", conversation_id=x)
                assert joined["data"]["seq"] == 2
                assert joined["data"]["sender"]["type"] == "system"
                assert joined["data"]["body"] == "Alice joined the conversation"
            await bob.expect_nothing_more(conversation_id=x)

            # -- a plain update: messages from both sides
            await say(http, Chat(session, x), "My parcel is late")
            await agent_says(http, crew.alice.token, x, "Let me look into it")
            for client in (customer, *holder, admin):
                created = await client.take("message.created", 2, conversation_id=x)
                assert [f["data"]["seq"] for f in created] == [3, 4]
                assert [f["data"]["sender"]["type"] for f in created] == ["customer", "agent"]
            for client in (customer, *holder):  # the update: customer and holder only
                first = await client.next_frame("conversation.updated", conversation_id=x)
                second = await client.next_frame("conversation.updated", conversation_id=x)
                assert (first["data"]["last_seq"], second["data"]["last_seq"]) == (3, 4)
            await admin.expect_nothing_more("conversation.updated")  # a subscriber, not holder
            await bob.expect_nothing_more(conversation_id=x)

            # -- close
            await close_chat(http, crew.alice.token, x)
            for client in (customer, *holder, admin):
                closing = await client.next_frame("message.created", conversation_id=x)
                assert closing["data"]["seq"] == 5
                assert closing["data"]["sender"]["type"] == "system"
                closed = await client.next_frame("chat.closed", conversation_id=x)
                assert set(closed["data"]) == {"conversation_id", "closed_by", "closed_at"}
                assert closed["data"]["conversation_id"] == x
                assert closed["data"]["closed_by"] == {"id": crew.alice.id, "display_name": "Alice"}
            for client in everyone:  # a change of status: every agent
                updated = await client.next_frame("conversation.updated", conversation_id=x)
                assert updated["data"]["status"] == "closed"
                assert updated["data"]["closed_at"] is not None
                if client is bob:
                    _outsider_conversation(updated["data"])
                elif client is not customer:  # the holder, who closed it, and an admin
                    _agent_conversation(updated["data"])
            for client in everyone:
                await client.expect_nothing_more(conversation_id=x)
            assert_private(customer, crew.emails)

    run(scenario())


def test_a_holder_that_also_subscribes_gets_each_event_once(
    make_server: Callable[..., LiveServer],
) -> None:
    crew = _crew(make_server)
    with httpx.Client(base_url=crew.server.url, timeout=30) as client:
        session, conversation = start_conversation(client)
    x = conversation["id"]

    async def scenario() -> None:
        async with rest(crew.server.url) as http:
            await escalate(http, Chat(session, x))
            async with connect(crew.agent(crew.alice, conversation_id=x), name="alice") as alice:
                snapshot = await alice.next_frame("system.subscribed")
                assert snapshot["data"]["conversation"]["last_seq"] == 2
                await alice.send({"type": "subscribe", "conversation_id": x, "after_seq": 2})
                await alice.next_frame("system.subscribed")
                await say(http, Chat(session, x), "hello?")
                created = await alice.next_frame("message.created", conversation_id=x)
                assert created["data"]["seq"] == 3
                await alice.next_frame("conversation.updated", conversation_id=x)
                await alice.expect_nothing_more(conversation_id=x)

    run(scenario())


# -- presence --------------------------------------------------------------------------


def test_presence_reaches_every_agent_and_only_the_holders_customer(
    make_server: Callable[..., LiveServer],
) -> None:
    crew = _crew(make_server)

    async def scenario() -> None:
        async with rest(crew.server.url) as http:
            held_by_alice = await start_chat(http)
            await escalate(http, held_by_alice)
            await set_presence(http, crew.bob.token, "online")
            held_by_bob = await start_chat(http)
            assigned = await escalate(http, held_by_bob)
            assert assigned["assigned_agent"]["id"] == crew.bob.id  # the one with fewer chats
            automated = await start_chat(http)

            async with (
                connect(
                    crew.customer(held_by_alice.conversation_id, held_by_alice.session_id)
                ) as alices_customer,
                connect(
                    crew.customer(held_by_bob.conversation_id, held_by_bob.session_id)
                ) as bobs_customer,
                connect(
                    crew.customer(automated.conversation_id, automated.session_id)
                ) as bots_customer,
                connect(crew.agent(crew.alice), name="alice") as alice,
                connect(crew.agent(crew.bob), name="bob") as bob,
                connect(crew.agent(crew.admin), name="admin") as admin,
            ):
                customers = (alices_customer, bobs_customer, bots_customer)
                for customer in customers:
                    await customer.next_frame("system.subscribed")
                await _ready(alice, bob, admin)

                await set_presence(http, crew.alice.token, "away")
                expected = {"agent_id": crew.alice.id, "display_name": "Alice", "presence": "away"}
                for client in (alice, bob, admin, alices_customer):
                    changed = await client.next_frame("agent.presence.changed")
                    assert changed["data"] == expected
                    assert changed["conversation_id"] in (None, held_by_alice.conversation_id)
                for customer in (bobs_customer, bots_customer):
                    await customer.expect_nothing_more("agent.presence.changed")

                await set_presence(http, crew.bob.token, "away")
                expected = {"agent_id": crew.bob.id, "display_name": "Bob", "presence": "away"}
                for client in (alice, bob, admin, bobs_customer):
                    changed = await client.next_frame("agent.presence.changed")
                    assert changed["data"] == expected
                for customer in (alices_customer, bots_customer):
                    await customer.expect_nothing_more("agent.presence.changed")

                for customer in customers:
                    assert_private(customer, crew.emails)

    run(scenario())


# -- typing ----------------------------------------------------------------------------


def test_typing_goes_to_the_other_side_and_subscribers_never_back(
    make_server: Callable[..., LiveServer],
) -> None:
    crew = _crew(make_server)
    with httpx.Client(base_url=crew.server.url, timeout=30) as client:
        session, conversation = start_conversation(client)
        _, bots = start_conversation(client)
    x = conversation["id"]

    async def scenario() -> None:
        async with rest(crew.server.url) as http:
            await escalate(http, Chat(session, x))
            async with (
                connect(crew.customer(x, session), name="customer") as customer,
                connect(crew.customer(x, session), name="customer-tab-2") as customer_2,
                connect(crew.agent(crew.alice), name="alice") as alice,
                connect(crew.agent(crew.admin, conversation_id=x), name="admin") as admin,
                connect(crew.agent(crew.bob), name="bob") as bob,
            ):
                await customer.next_frame("system.subscribed")
                await customer_2.next_frame("system.subscribed")
                await admin.next_frame("system.subscribed")
                await _ready(alice, bob)

                # The holder types: the customer's tabs and the subscriber hear it.
                await alice.send({"type": "typing", "conversation_id": x, "is_typing": True})
                for client in (customer, customer_2, admin):
                    typing = await client.next_frame("agent.typing", conversation_id=x)
                    assert typing["data"] == {
                        "agent_id": crew.alice.id,
                        "display_name": "Alice",
                        "is_typing": True,
                    }
                # The customer types: the holder and the subscriber hear it.
                await customer.send({"type": "typing", "is_typing": True})
                for client in (alice, admin):
                    typing = await client.next_frame("customer.typing", conversation_id=x)
                    assert typing["data"] == {"is_typing": True}

                await alice.expect_nothing_more("agent.typing")  # never back to the typist
                await bob.expect_nothing_more("agent.typing", "customer.typing")
                for client in (customer, customer_2):  # customers never hear customers
                    await client.expect_nothing_more("customer.typing")

                # Only the holder may type in an AGENT conversation.
                for agent in (bob, admin):
                    await agent.send({"type": "typing", "conversation_id": x, "is_typing": True})
                    error = await agent.next_frame("system.error")
                    assert error["data"]["code"] == "forbidden", error
                    await agent.ping()
                # Nobody holds an AUTOMATED one; and an unknown one does not exist.
                await alice.send(
                    {"type": "typing", "conversation_id": bots["id"], "is_typing": True}
                )
                assert (await alice.next_frame("system.error"))["data"]["code"] == "forbidden"
                await alice.send({"type": "typing", "conversation_id": UNKNOWN, "is_typing": True})
                assert (await alice.next_frame("system.error"))["data"]["code"] == "not_found"
                await alice.ping()
                for client in (customer, customer_2):
                    await client.expect_nothing_more(
                        "agent.typing", where=lambda f: f["data"]["agent_id"] != crew.alice.id
                    )
                    assert_private(client, crew.emails)

    run(scenario())


# -- deactivation: the chat changes hands, or goes back to the bot ----------------------


def test_deactivation_hands_the_chat_to_a_free_agent_who_hears_it_unsubscribed(
    make_server: Callable[..., LiveServer],
) -> None:
    crew = _crew(make_server)
    with httpx.Client(base_url=crew.server.url, timeout=30) as client:
        session, conversation = start_conversation(client)
    x = conversation["id"]

    async def scenario() -> None:
        async with rest(crew.server.url) as http:
            await escalate(http, Chat(session, x))  # to alice, the only one online
            await set_presence(http, crew.bob.token, "online")
            async with (
                connect(crew.customer(x, session), name="customer") as customer,
                connect(crew.agent(crew.bob), name="bob") as bob,
                connect(crew.agent(crew.admin), name="admin") as admin,
            ):
                await customer.next_frame("system.subscribed")
                await _ready(bob, admin)
                response = await http.post(
                    f"/api/v1/admin/agents/{crew.alice.id}/deactivate",
                    headers=crew.admin.headers,
                )
                assert response.status_code == 200, response.text
                for client in (customer, bob, admin):
                    assigned = await client.next_frame("agent.assigned", conversation_id=x)
                    assert assigned["data"]["agent"]["id"] == crew.bob.id
                for client in (customer, bob):  # the new holder, without subscribing
                    joined = await client.next_frame("message.created", conversation_id=x)
                    assert joined["data"]["body"] == "Bob joined the conversation"
                    updated = await client.next_frame("conversation.updated", conversation_id=x)
                    assert updated["data"]["assigned_agent"]["id"] == crew.bob.id
                await admin.expect_nothing_more("message.created")
                await say(http, Chat(session, x), "Are you still there?")
                for client in (customer, bob):
                    created = await client.next_frame("message.created", conversation_id=x)
                    assert created["data"]["body"] == "Are you still there?"
                assert_private(customer, crew.emails)

    run(scenario())


def test_deactivation_with_nobody_free_hands_the_chat_back_to_the_bot(
    make_server: Callable[..., LiveServer],
) -> None:
    crew = _crew(make_server)
    with httpx.Client(base_url=crew.server.url, timeout=30) as client:
        session, conversation = start_conversation(client)
    x = conversation["id"]

    async def scenario() -> None:
        async with rest(crew.server.url) as http:
            await escalate(http, Chat(session, x))
            async with (
                connect(crew.customer(x, session), name="customer") as customer,
                connect(crew.agent(crew.bob), name="bob") as bob,
                connect(crew.agent(crew.admin), name="admin") as admin,
            ):
                await customer.next_frame("system.subscribed")
                await _ready(bob, admin)
                response = await http.post(
                    f"/api/v1/admin/agents/{crew.alice.id}/deactivate",
                    headers=crew.admin.headers,
                )
                assert response.status_code == 200, response.text
                told = await customer.next_frame("message.created", conversation_id=x)
                assert told["data"]["sender"]["type"] == "system"
                for client in (customer, bob, admin):  # a change of status: every agent
                    updated = await client.next_frame("conversation.updated", conversation_id=x)
                    assert updated["data"]["status"] == "automated"
                    assert updated["data"]["assigned_agent"] is None
                for agent in (bob, admin):
                    await agent.expect_nothing_more("message.created", "agent.assigned")
                assert_private(customer, crew.emails)

    run(scenario())
