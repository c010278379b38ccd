"""Admin endpoints over a real server: the quick questions, the agents, deactivation."""

from __future__ import annotations

from chatcore.events import AgentAccessRevoked
from support.http_contract import assert_agent, error_of
from support.rest import (
    ADMIN,
    AGENT,
    CUSTOMER,
    bearer,
    client_of,
    escalated_chat,
    expect,
    first_admin,
    go_online,
    hire,
    new_token,
    start_chat,
    team,
)
from support.servers import LiveServer

FAQS = f"{ADMIN}/faqs"
ENTRY = {"slug": "opening-hours", "question": "When are you open?", "answer": "Always."}


def test_faq_create_list_update_delete(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)
        before = expect(client.get(FAQS, headers=admin.headers), 200)["items"]
        assert all(set(item) == {"slug", "question", "answer", "position"} for item in before)
        created = expect(client.post(FAQS, json=ENTRY, headers=admin.headers), 201)
        last = max(item["position"] for item in before)
        assert created == {**ENTRY, "position": last + 1}, "without a position it goes last"
        error_of(client.post(FAQS, json=ENTRY, headers=admin.headers), 409, "slug_taken")
        first = {**ENTRY, "slug": "first-thing", "position": 0}
        expect(client.post(FAQS, json=first, headers=admin.headers), 201)

        changed = expect(
            client.put(
                f"{FAQS}/opening-hours", json={"answer": "Nine to five."}, headers=admin.headers
            ),
            200,
        )
        assert changed == {**created, "answer": "Nine to five."}
        unchanged = expect(client.put(f"{FAQS}/opening-hours", json={}, headers=admin.headers), 200)
        assert unchanged == changed
        error_of(
            client.put(f"{FAQS}/no-such", json={"answer": "x"}, headers=admin.headers),
            404,
            "not_found",
        )
        widget = expect(client.get(f"{CUSTOMER}/quick-questions"), 200)["items"]
        assert {"slug": "opening-hours", "question": "When are you open?"} in widget

        response = client.delete(f"{FAQS}/opening-hours", headers=admin.headers)
        assert response.status_code == 204
        assert response.content == b""
        error_of(client.delete(f"{FAQS}/opening-hours", headers=admin.headers), 404, "not_found")
        after = expect(client.get(FAQS, headers=admin.headers), 200)["items"]
        assert "opening-hours" not in {item["slug"] for item in after}


def test_a_deleted_entry_leaves_old_answers_their_slug(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)
        chat = start_chat(client)
        expect(client.post(f"{chat.path}/quick-replies/track-order", headers=chat.headers), 201)
        expect(client.delete(f"{FAQS}/track-order", headers=admin.headers), 204)
        items = expect(client.get(f"{chat.path}/messages", headers=chat.headers), 200)["items"]
        assert items[-1]["faq_slug"] == "track-order"


def test_admin_endpoints_refuse_agents_and_strangers(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)
        agent = hire(client, admin)
        calls = [
            ("GET", FAQS, None),
            ("POST", FAQS, ENTRY),
            ("PUT", f"{FAQS}/track-order", {"answer": "x"}),
            ("DELETE", f"{FAQS}/track-order", None),
            ("GET", f"{ADMIN}/agents", None),
            ("POST", f"{ADMIN}/agents/{admin.id}/deactivate", None),
        ]
        for method, path, body in calls:
            error_of(client.request(method, path, json=body), 401, "unauthorized")
            error_of(
                client.request(method, path, json=body, headers=agent.headers), 403, "forbidden"
            )
        # 404 comes before 403: an unknown entry is unknown to everyone.
        error_of(client.delete(f"{FAQS}/no-such", headers=agent.headers), 404, "not_found")


def test_list_agents(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)
        agent = hire(client, admin)
        items = expect(client.get(f"{ADMIN}/agents", headers=admin.headers), 200)["items"]
        for item in items:
            assert_agent(item)
        assert {item["id"] for item in items} == {admin.id, agent.id}


def test_deactivate_locks_out_and_hands_chats_to_a_free_agent(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        crew = team(client)
        chat = escalated_chat(client)
        successor = hire(client, crew.admin, display_name="Bob")
        go_online(client, successor)
        path = f"{ADMIN}/agents/{crew.agent.id}/deactivate"
        revoked_before = len(live_server.events_of(AgentAccessRevoked))
        gone = expect(client.post(path, headers=crew.admin.headers), 200)
        assert_agent(gone)
        assert gone["active"] is False
        assert gone["id"] == crew.agent.id
        assert len(live_server.events_of(AgentAccessRevoked)) == revoked_before + 1
        error_of(client.get(f"{AGENT}/me", headers=crew.agent.headers), 401, "unauthorized")
        refused = client.post(
            f"{AGENT}/auth/login", json={"email": crew.agent.email, "password": crew.agent.password}
        )
        error_of(refused, 401, "unauthorized")
        conversation = expect(client.get(chat.path, headers=chat.headers), 200)
        assert conversation["status"] == "agent"
        assert conversation["assigned_agent"]["id"] == successor.id
        again = expect(client.post(path, headers=crew.admin.headers), 200)
        assert again["active"] is False


def test_deactivate_with_nobody_free_hands_back_to_the_bot(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        crew = team(client)
        chat = escalated_chat(client)
        expect(
            client.post(f"{ADMIN}/agents/{crew.agent.id}/deactivate", headers=crew.admin.headers),
            200,
        )
        conversation = expect(client.get(chat.path, headers=chat.headers), 200)
        assert conversation["status"] == "automated"
        assert conversation["assigned_agent"] is None
        last = expect(client.get(f"{chat.path}/messages", headers=chat.headers), 200)["items"][-1]
        assert last["sender"]["type"] == "system"
        error_of(
            client.post(f"{chat.path}/escalate", headers=chat.headers), 409, "no_agent_available"
        )


def test_deactivate_refuses_yourself_and_unknown_agents(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)
        error_of(
            client.post(f"{ADMIN}/agents/{admin.id}/deactivate", headers=admin.headers),
            409,
            "invalid_state",
        )
        error_of(
            client.post(f"{ADMIN}/agents/no-such-agent/deactivate", headers=admin.headers),
            404,
            "not_found",
        )
        # An admin may deactivate another admin, whose tokens die; the one left still cannot
        # go. (The last-active-admin rule is not reachable over HTTP: whoever calls is
        # itself a second active admin.)
        second = expect(
            client.post(
                f"{AGENT}/register",
                headers=admin.headers,
                json={
                    "email": "second@example.com",
                    "password": "a long password",
                    "display_name": "Second",
                    "role": "admin",
                },
            ),
            201,
        )
        token = new_token(client, "second@example.com", "a long password")
        expect(client.post(f"{ADMIN}/agents/{admin.id}/deactivate", headers=bearer(token)), 200)
        error_of(client.get(f"{ADMIN}/agents", headers=admin.headers), 401, "unauthorized")
        error_of(
            client.post(f"{ADMIN}/agents/{second['id']}/deactivate", headers=bearer(token)),
            409,
            "invalid_state",
        )
