"""End to end: the server bootstrap builds for a postgresql:// database serves real requests."""

from __future__ import annotations

import httpx

from adapters.postgres import PostgresDatabase
from entrypoints.settings import Settings
from support.postgres import scratch_database, url_for
from support.rest import customer_headers, expect, first_admin
from support.servers import running


def test_a_postgresql_database_serves_customers_and_agents() -> None:
    with scratch_database() as name:
        settings = Settings.load(
            {},
            {
                "CHATCORE_DATABASE": url_for(name),
                "CHATCORE_SECRET_KEY": "postgres-serve-test-secret-0123456789",
                "CHATCORE_BCRYPT_ROUNDS": "4",
            },
        )
        with running(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            assert isinstance(server.chatcore.database, PostgresDatabase)
            expect(client.get("/readyz"), 200)
            started = expect(client.post("/api/v1/customer/conversations/start"), 201)
            chat_id = started["conversation"]["id"]
            headers = customer_headers(started["customer_session_id"])
            posted = expect(
                client.post(
                    f"/api/v1/customer/conversations/{chat_id}/messages",
                    json={"body": "Where is my order?"},
                    headers=headers,
                ),
                201,
            )
            assert posted["message"]["seq"] == 2
            assert [reply["faq_slug"] for reply in posted["replies"]] == ["track-order"]
            admin = first_admin(client)
            assert admin.token
            agent = expect(client.get("/api/v1/agent/me", headers=admin.headers), 200)
            assert agent["role"] == "admin"
