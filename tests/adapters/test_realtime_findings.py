"""Regressions found by the realtime tour: snapshot previews, a refused tab, secrets in logs."""

from __future__ import annotations

from pathlib import Path

import httpx

from support.rest import customer_headers, first_admin, go_online, start_conversation
from support.rest_async import rest
from support.serve_process import chatcore_serve
from support.servers import LiveServer
from support.ws import agent_url, connect, customer_url, refused, run


def test_an_agent_snapshot_carries_the_newest_message(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        admin = first_admin(client)
        _, conversation = start_conversation(client)
    x = conversation["id"]

    async def scenario() -> None:
        async with connect(agent_url(live_server.url, admin.token, conversation_id=x)) as agent:
            snapshot = await agent.next_frame("system.subscribed")
            shown = snapshot["data"]["conversation"]
            assert shown["last_message"] is not None
            assert shown["last_message"]["seq"] == shown["last_seq"] == 1

    run(scenario())


def test_a_refused_tab_does_not_make_the_hub_forget_who_holds_the_chat(
    live_server: LiveServer,
) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        admin = first_admin(client)
        go_online(client, admin)
        session, conversation = start_conversation(client)
        client.post(
            f"/api/v1/customer/conversations/{conversation['id']}/escalate",
            headers=customer_headers(session),
        ).raise_for_status()
    x = conversation["id"]

    async def scenario() -> None:
        async with connect(customer_url(live_server.url, x, session)) as customer:
            await customer.next_frame("system.subscribed")
            frames, code = await refused(customer_url(live_server.url, x, "not-the-session"))
            assert code == 4403
            assert [frame["type"] for frame in frames] == ["system.error"]
            async with rest(live_server.url) as http:
                answer = await http.post(
                    "/api/v1/agent/presence",
                    headers={"Authorization": f"Bearer {admin.token}"},
                    json={"presence": "away"},
                )
                assert answer.status_code == 200
            changed = await customer.next_frame("agent.presence.changed")
            assert changed["data"]["presence"] == "away"

    run(scenario())


def test_tokens_and_session_ids_never_reach_the_server_log(tmp_path: Path) -> None:
    env = {"CHATCORE_DATABASE": str(tmp_path / "log.db"), "CHATCORE_BCRYPT_ROUNDS": "4"}
    with chatcore_serve(env, log=tmp_path / "serve.log") as server:
        with httpx.Client(base_url=server.url) as client:
            admin = first_admin(client)
            session, conversation = start_conversation(client)

        async def scenario() -> None:
            async with connect(customer_url(server.url, conversation["id"], session)) as customer:
                await customer.next_frame("system.subscribed")
            async with connect(agent_url(server.url, admin.token)) as agent:
                await agent.next_frame("system.connected")

        run(scenario())
    log = server.output()  # the whole of it: the process has stopped
    assert "[accepted]" in log  # the lines are there...
    assert "[redacted]" in log
    assert admin.token not in log  # ...without the secrets
    assert session not in log
