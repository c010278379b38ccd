"""The widget's endpoints over a real server: shapes, statuses, retries, and the check order."""

from __future__ import annotations

import re

from chatcore.bot import FALLBACK, GREETING
from support.http_contract import assert_conversation, assert_message, error_of, fields_of
from support.rest import (
    CUSTOMER,
    client_of,
    customer_headers,
    escalated_chat,
    expect,
    first_admin,
    go_online,
    hire,
    say,
    start_chat,
    team,
)
from support.servers import LiveServer


def test_quick_questions_are_slug_and_question_in_display_order(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        items = expect(client.get(f"{CUSTOMER}/quick-questions"), 200)["items"]
        admin = first_admin(client)
        faqs = expect(client.get("/api/v1/admin/faqs", headers=admin.headers), 200)["items"]
    assert items, "a fresh database has default quick questions"
    assert all(set(item) == {"slug", "question"} for item in items)
    assert [i["slug"] for i in items] == [f["slug"] for f in faqs]
    positions = [f["position"] for f in faqs]
    assert positions == sorted(positions)


def test_start_without_a_body_greets_a_guest(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        response = client.post(f"{CUSTOMER}/conversations/start")
    started = expect(response, 201)
    assert set(started) == {"customer_session_id", "conversation", "messages", "quick_questions"}
    assert len(started["customer_session_id"]) >= 22  # 128 bits in base64 at the least
    conversation = started["conversation"]
    assert_conversation(conversation)
    assert conversation["status"] == "automated"
    assert re.fullmatch(r"Guest \d{4}", conversation["customer"]["display_name"])
    assert conversation["customer"]["email"] is None
    assert conversation["assigned_agent"] is None
    assert conversation["escalated_at"] is None
    assert conversation["closed_at"] is None
    assert conversation["last_seq"] == 1
    [greeting] = started["messages"]
    assert_message(greeting)
    assert greeting["seq"] == 1
    assert greeting["body"] == GREETING
    assert greeting["sender"] == {"type": "bot", "id": None, "display_name": "Assistant"}
    assert started["quick_questions"]
    assert set(started["quick_questions"][0]) == {"slug", "question"}


def test_start_takes_an_empty_object_or_a_name_and_email(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        expect(client.post(f"{CUSTOMER}/conversations/start", json={}), 201)
        body = {"display_name": "Maria", "email": "maria@example.com"}
        started = expect(client.post(f"{CUSTOMER}/conversations/start", json=body), 201)
    assert started["conversation"]["customer"] == body


def test_start_with_a_known_session_joins_it_and_an_unknown_one_is_403(
    live_server: LiveServer,
) -> None:
    with client_of(live_server) as client:
        first = start_chat(client)
        second = expect(client.post(f"{CUSTOMER}/conversations/start", headers=first.headers), 201)
        assert second["customer_session_id"] == first.session_id
        assert second["conversation"]["id"] != first.conversation_id
        # The same session reads both of its conversations.
        expect(
            client.get(
                f"{CUSTOMER}/conversations/{second['conversation']['id']}", headers=first.headers
            ),
            200,
        )
        unknown = client.post(
            f"{CUSTOMER}/conversations/start", headers=customer_headers("not-a-session")
        )
        error_of(unknown, 403, "forbidden")


def test_get_conversation_needs_the_owning_session(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        chat = start_chat(client)
        other = start_chat(client)
        conversation = expect(client.get(chat.path, headers=chat.headers), 200)
        assert_conversation(conversation)
        assert conversation["id"] == chat.conversation_id
        error_of(client.get(chat.path, headers=other.headers), 403, "forbidden")
        error_of(client.get(chat.path), 403, "forbidden")
        unknown = f"{CUSTOMER}/conversations/00000000-0000-4000-8000-000000000000"
        error_of(client.get(unknown, headers=chat.headers), 404, "not_found")
        error_of(
            client.get(f"{CUSTOMER}/conversations/not-a-uuid", headers=chat.headers),
            404,
            "not_found",
        )


def test_messages_page_ascending_after_a_seq(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        chat = start_chat(client)
        for n in range(3):
            say(client, chat, f"question number {n}")
        # greeting + 3 x (customer message, bot reply) = 7 messages
        page = expect(
            client.get(
                f"{chat.path}/messages", params={"after_seq": 2, "limit": 3}, headers=chat.headers
            ),
            200,
        )
        assert set(page) == {"items", "has_more"}
        assert [m["seq"] for m in page["items"]] == [3, 4, 5]
        assert page["has_more"] is True
        rest = expect(
            client.get(f"{chat.path}/messages", params={"after_seq": 5}, headers=chat.headers),
            200,
        )
        assert [m["seq"] for m in rest["items"]] == [6, 7]
        assert rest["has_more"] is False
        everything = expect(client.get(f"{chat.path}/messages", headers=chat.headers), 200)
        assert [m["seq"] for m in everything["items"]] == list(range(1, 8))
        for message in everything["items"]:
            assert_message(message)


def test_a_message_to_the_bot_gets_one_reply(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        chat = start_chat(client, display_name="Maria")
        answer = say(client, chat, "Where is my order?")
        assert set(answer) == {"message", "replies"}
        message, [reply] = answer["message"], answer["replies"]
        assert_message(message)
        assert message["sender"] == {"type": "customer", "id": None, "display_name": "Maria"}
        assert message["body"] == "Where is my order?"
        assert message["seq"] == 2
        assert reply["sender"]["type"] == "bot"
        assert reply["seq"] == 3
        assert reply["faq_slug"] == "track-order"
        fallback = say(client, chat, "xyzzy plugh")["replies"]
        assert [(r["body"], r["faq_slug"]) for r in fallback] == [(FALLBACK, None)]


def test_a_retried_client_message_id_answers_200_with_what_was_stored(
    live_server: LiveServer,
) -> None:
    with client_of(live_server) as client:
        chat = start_chat(client)
        body = {"body": "Where is my order?", "client_message_id": "tap-1"}
        first = expect(client.post(f"{chat.path}/messages", json=body, headers=chat.headers), 201)
        events_before = len(live_server.events)
        again = expect(client.post(f"{chat.path}/messages", json=body, headers=chat.headers), 200)
        assert again == first
        assert first["message"]["client_message_id"] == "tap-1"
        assert len(live_server.events) == events_before, "a retry emits nothing"
        conversation = expect(client.get(chat.path, headers=chat.headers), 200)
        assert conversation["last_seq"] == 3


def test_quick_reply_stores_question_and_answer(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        chat = start_chat(client)
        answer = expect(
            client.post(f"{chat.path}/quick-replies/track-order", headers=chat.headers), 201
        )
        message, [reply] = answer["message"], answer["replies"]
        assert message["sender"]["type"] == "customer"
        assert message["body"] == "Where is my order?"
        assert reply["faq_slug"] == "track-order"
        assert reply["sender"]["type"] == "bot"
        error_of(
            client.post(f"{chat.path}/quick-replies/no-such-entry", headers=chat.headers),
            404,
            "not_found",
        )


def test_quick_reply_outside_automated_is_409(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        team(client)
        chat = escalated_chat(client)
        response = client.post(f"{chat.path}/quick-replies/track-order", headers=chat.headers)
        error_of(response, 409, "invalid_state")


def test_escalate_without_a_free_agent_is_409_then_200_once_one_is_online(
    live_server: LiveServer,
) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)  # offline: not free
        chat = start_chat(client)
        error_of(
            client.post(f"{chat.path}/escalate", headers=chat.headers), 409, "no_agent_available"
        )
        assert expect(client.get(chat.path, headers=chat.headers), 200)["status"] == "automated"
        agent = hire(client, admin, display_name="Alice")
        go_online(client, agent)
        conversation = expect(client.post(f"{chat.path}/escalate", headers=chat.headers), 200)
        assert_conversation(conversation)
        assert conversation["status"] == "agent"
        assert conversation["assigned_agent"] == {
            "id": agent.id,
            "display_name": "Alice",
            "presence": "online",
        }
        assert conversation["escalated_at"] is not None
        events_before = len(live_server.events)
        again = expect(client.post(f"{chat.path}/escalate", headers=chat.headers), 200)
        assert again == conversation
        assert len(live_server.events) == events_before
        bodies = [
            m["body"]
            for m in expect(client.get(f"{chat.path}/messages", headers=chat.headers), 200)["items"]
        ]
        assert bodies.count("Alice joined the conversation") == 1


def test_with_an_agent_the_customer_gets_no_bot_reply_and_closed_refuses(
    live_server: LiveServer,
) -> None:
    with client_of(live_server) as client:
        crew = team(client)
        chat = escalated_chat(client)
        assert say(client, chat, "hello?")["replies"] == []
        expect(client.post(f"{chat.agent_path}/close", headers=crew.agent.headers), 200)
        refused = client.post(f"{chat.path}/messages", json={"body": "hi"}, headers=chat.headers)
        error_of(refused, 409, "invalid_state")
        error_of(client.post(f"{chat.path}/escalate", headers=chat.headers), 409, "invalid_state")


def test_customer_check_order_400_404_403_409(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        crew = team(client)
        chat = escalated_chat(client)
        stranger = start_chat(client)
        unknown = f"{CUSTOMER}/conversations/00000000-0000-4000-8000-000000000000"
        # A bad body wins over an unknown conversation.
        fields = fields_of(
            client.post(f"{unknown}/messages", json={"body": ""}, headers=chat.headers)
        )
        assert set(fields) == {"body"}
        # An unknown conversation wins over a wrong (or missing) session.
        error_of(client.post(f"{unknown}/messages", json={"body": "hi"}), 404, "not_found")
        expect(client.post(f"{chat.agent_path}/close", headers=crew.agent.headers), 200)
        # The wrong session wins over the closed state.
        wrong = client.post(f"{chat.path}/messages", json={"body": "hi"}, headers=stranger.headers)
        error_of(wrong, 403, "forbidden")
        right = client.post(f"{chat.path}/messages", json={"body": "hi"}, headers=chat.headers)
        error_of(right, 409, "invalid_state")
