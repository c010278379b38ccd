"""The console's endpoints over a real server: accounts, tokens, the inbox and its rules."""

from __future__ import annotations

from support.http_contract import (
    CONVERSATION_KEYS,
    assert_agent,
    assert_conversation,
    assert_message,
    error_of,
    fields_of,
)
from support.rest import (
    AGENT,
    PASSWORD,
    bearer,
    client_of,
    escalated_chat,
    expect,
    first_admin,
    hire,
    new_token,
    say,
    start_chat,
    team,
)
from support.servers import LiveServer

REGISTER = f"{AGENT}/register"


def _newcomer(email: str = "new@example.com", **extra: str) -> dict[str, str]:
    return {"email": email, "password": PASSWORD, "display_name": "Newcomer", **extra}


def test_the_first_register_needs_no_token_and_makes_an_admin(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        assert expect(client.get("/api/v1/setup"), 200) == {"setup_needed": True}
        first = expect(client.post(REGISTER, json=_newcomer("Boss@Example.com")), 201)
        assert_agent(first)
        assert first["role"] == "admin"
        assert first["active"] is True
        assert first["presence"] == "offline"
        assert first["email"] == "boss@example.com"
        assert expect(client.get("/api/v1/setup"), 200) == {"setup_needed": False}
        error_of(client.post(REGISTER, json=_newcomer()), 401, "unauthorized")


def test_after_the_first_only_an_admin_registers(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)
        agent = expect(client.post(REGISTER, json=_newcomer(), headers=admin.headers), 201)
        assert agent["role"] == "agent"
        assert agent["presence"] == "offline"
        second_admin = expect(
            client.post(
                REGISTER, json=_newcomer("b@example.com", role="admin"), headers=admin.headers
            ),
            201,
        )
        assert second_admin["role"] == "admin"
        token = new_token(client, "new@example.com")
        refused = client.post(REGISTER, json=_newcomer("c@example.com"), headers=bearer(token))
        error_of(refused, 403, "forbidden")
        taken = client.post(REGISTER, json=_newcomer("NEW@example.com"), headers=admin.headers)
        error_of(taken, 409, "email_taken")
        forged = client.post(REGISTER, json=_newcomer("d@example.com"), headers=bearer("x.y.z"))
        error_of(forged, 401, "unauthorized")


def test_login_answers_a_bearer_token_and_one_401_for_every_bad_pair(
    live_server: LiveServer,
) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)
        session = expect(
            client.post(f"{AGENT}/auth/login", json={"email": admin.email, "password": PASSWORD}),
            200,
        )
        assert set(session) == {"access_token", "token_type", "expires_in", "agent"}
        assert session["token_type"] == "bearer"
        assert session["expires_in"] == 43200
        assert session["agent"] == admin.agent
        attempts = [
            {"email": admin.email, "password": "wrong password!"},
            {"email": "nobody@example.com", "password": PASSWORD},
            {"email": admin.email, "password": "short"},  # the policy is not revealed
            {"email": "not an email", "password": "x"},
        ]
        answers = []
        for attempt in attempts:
            response = client.post(f"{AGENT}/auth/login", json=attempt)
            answers.append(error_of(response, 401, "unauthorized"))
            assert response.headers["www-authenticate"] == "Bearer"
        assert all(answer == answers[0] for answer in answers)
        assert set(fields_of(client.post(f"{AGENT}/auth/login", json={"email": ""}))) == {
            "email",
            "password",
        }


def test_bearer_headers_that_are_not_bearer_tokens_are_401(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)
        expect(client.get(f"{AGENT}/me", headers={"Authorization": f"bEaReR {admin.token}"}), 200)
        for header in ("", "Bearer", "Basic abc", f"Token {admin.token}", "Bearer a b"):
            response = client.get(f"{AGENT}/me", headers={"Authorization": header})
            error_of(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"
        error_of(client.get(f"{AGENT}/me"), 401, "unauthorized")


def test_logout_kills_only_the_calling_token(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)
        other = new_token(client, admin.email)
        response = client.post(f"{AGENT}/auth/logout", headers=admin.headers)
        assert response.status_code == 204
        assert response.content == b""
        error_of(client.get(f"{AGENT}/me", headers=admin.headers), 401, "unauthorized")
        error_of(client.post(f"{AGENT}/auth/logout", headers=admin.headers), 401, "unauthorized")
        expect(client.get(f"{AGENT}/me", headers=bearer(other)), 200)


def test_password_change_keeps_the_calling_token_and_kills_the_others(
    live_server: LiveServer,
) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)
        other = new_token(client, admin.email)
        path = f"{AGENT}/password"
        wrong = {"current_password": "not the password", "new_password": "a new password 1"}
        error_of(client.post(path, json=wrong, headers=admin.headers), 401, "unauthorized")
        short = {"current_password": PASSWORD, "new_password": "too short"}
        assert set(fields_of(client.post(path, json=short, headers=admin.headers))) == {
            "new_password"
        }
        good = {"current_password": PASSWORD, "new_password": "a new password 1"}
        response = client.post(path, json=good, headers=admin.headers)
        assert response.status_code == 204
        assert response.content == b""
        expect(client.get(f"{AGENT}/me", headers=admin.headers), 200)
        error_of(client.get(f"{AGENT}/me", headers=bearer(other)), 401, "unauthorized")
        bad_old = client.post(
            f"{AGENT}/auth/login", json={"email": admin.email, "password": PASSWORD}
        )
        error_of(bad_old, 401, "unauthorized")
        new_token(client, admin.email, "a new password 1")


def test_me_and_presence(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)
        me = expect(client.get(f"{AGENT}/me", headers=admin.headers), 200)
        assert me == admin.agent
        for presence in ("online", "away", "offline"):
            agent = expect(
                client.post(
                    f"{AGENT}/presence", json={"presence": presence}, headers=admin.headers
                ),
                200,
            )
            assert_agent(agent)
            assert agent["presence"] == presence
        bad = client.post(f"{AGENT}/presence", json={"presence": "busy"}, headers=admin.headers)
        assert fields_of(bad) == {"presence": "must be one of: online, away, offline"}


def test_listing_by_status_with_last_message_and_a_cursor(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        crew = team(client)
        held = escalated_chat(client)
        bot_ids = {start_chat(client).conversation_id for _ in range(3)}
        path = f"{AGENT}/conversations"
        mine = expect(client.get(path, params={"status": "agent"}, headers=crew.agent.headers), 200)
        assert set(mine) == {"items", "next_cursor"}
        assert mine["next_cursor"] is None
        [item] = mine["items"]
        assert item["id"] == held.conversation_id
        assert set(item) == CONVERSATION_KEYS | {"last_message"}
        assert_conversation({k: v for k, v in item.items() if k != "last_message"})
        assert_message(item["last_message"])
        assert item["last_message"]["body"].endswith("joined the conversation")
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, str | int] = {"status": "automated", "limit": 1}
            if cursor:
                params["cursor"] = cursor
            page = expect(client.get(path, params=params, headers=crew.agent.headers), 200)
            seen.extend(i["id"] for i in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen))
        assert set(seen) == bot_ids
        everything = expect(client.get(path, headers=crew.agent.headers), 200)["items"]
        assert {i["id"] for i in everything} == bot_ids | {held.conversation_id}
        stamps = [i["updated_at"] for i in everything]
        assert stamps == sorted(stamps, reverse=True)
        # An admin sees every AGENT conversation; the bot's are everyone's.
        admin_view = expect(
            client.get(path, params={"status": "agent"}, headers=crew.admin.headers), 200
        )
        assert [i["id"] for i in admin_view["items"]] == [held.conversation_id]


def test_any_agent_reads_the_bots_chats_only_holders_and_admins_the_rest(
    live_server: LiveServer,
) -> None:
    with client_of(live_server) as client:
        crew = team(client)
        outsider = hire(client, crew.admin)
        bot_chat = start_chat(client)
        page = expect(client.get(f"{bot_chat.agent_path}/messages", headers=outsider.headers), 200)
        assert [m["seq"] for m in page["items"]] == [1]
        assert page["has_more"] is False
        held = escalated_chat(client)
        error_of(
            client.get(f"{held.agent_path}/messages", headers=outsider.headers), 403, "forbidden"
        )
        for account in (crew.agent, crew.admin):
            expect(
                client.get(
                    f"{held.agent_path}/messages", params={"after_seq": 1}, headers=account.headers
                ),
                200,
            )


def test_only_the_holder_writes_and_retries_answer_200(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        crew = team(client)
        outsider = hire(client, crew.admin)
        held = escalated_chat(client)
        body = {"body": "Hi, I am Alice.", "client_message_id": "c-1"}
        path = f"{held.agent_path}/messages"
        first = expect(client.post(path, json=body, headers=crew.agent.headers), 201)
        assert set(first) == {"message"}
        assert first["message"]["sender"] == {
            "type": "agent",
            "id": crew.agent.id,
            "display_name": crew.agent.agent["display_name"],
        }
        events_before = len(live_server.events)
        again = expect(client.post(path, json=body, headers=crew.agent.headers), 200)
        assert again == first
        assert len(live_server.events) == events_before
        error_of(client.post(path, json=body, headers=outsider.headers), 403, "forbidden")
        error_of(client.post(path, json=body, headers=crew.admin.headers), 403, "forbidden")
        bot_chat = start_chat(client)
        error_of(
            client.post(
                f"{bot_chat.agent_path}/messages", json={"body": "hi"}, headers=crew.agent.headers
            ),
            409,
            "invalid_state",
        )


def test_close_by_the_holder_or_an_admin_keeps_the_assignment(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        crew = team(client)
        outsider = hire(client, crew.admin)
        first, second = escalated_chat(client), escalated_chat(client)
        error_of(
            client.post(f"{first.agent_path}/close", headers=outsider.headers), 403, "forbidden"
        )
        closed = expect(client.post(f"{first.agent_path}/close", headers=crew.agent.headers), 200)
        assert_conversation(closed)
        assert closed["status"] == "closed"
        assert closed["closed_at"] is not None
        assert closed["assigned_agent"]["id"] == crew.agent.id
        error_of(
            client.post(f"{first.agent_path}/close", headers=crew.agent.headers),
            409,
            "invalid_state",
        )
        by_admin = expect(
            client.post(f"{second.agent_path}/close", headers=crew.admin.headers), 200
        )
        assert by_admin["status"] == "closed"
        bot_chat = start_chat(client)
        error_of(
            client.post(f"{bot_chat.agent_path}/close", headers=crew.agent.headers),
            409,
            "invalid_state",
        )
        # A closed chat of someone else: 403 before 409.
        error_of(
            client.post(
                f"{first.agent_path}/messages", json={"body": "hi"}, headers=outsider.headers
            ),
            403,
            "forbidden",
        )
        error_of(
            client.post(
                f"{first.agent_path}/messages", json={"body": "hi"}, headers=crew.agent.headers
            ),
            409,
            "invalid_state",
        )


def test_agent_check_order_401_400_404(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        crew = team(client)
        held = escalated_chat(client)
        say(client, held, "hello")
        unknown = f"{AGENT}/conversations/00000000-0000-4000-8000-000000000000"
        # No token beats a bad body; a bad body beats an unknown conversation.
        error_of(client.post(f"{unknown}/messages", json={"body": ""}), 401, "unauthorized")
        assert set(
            fields_of(
                client.post(f"{unknown}/messages", json={"body": ""}, headers=crew.agent.headers)
            )
        ) == {"body"}
        error_of(
            client.post(f"{unknown}/messages", json={"body": "hi"}, headers=crew.agent.headers),
            404,
            "not_found",
        )
        error_of(client.get(f"{unknown}/messages", params={"limit": 0}), 401, "unauthorized")
        assert set(
            fields_of(
                client.get(f"{unknown}/messages", params={"limit": 0}, headers=crew.agent.headers)
            )
        ) == {"limit"}
        error_of(client.post(f"{AGENT}/presence", json={"presence": "busy"}), 401, "unauthorized")
