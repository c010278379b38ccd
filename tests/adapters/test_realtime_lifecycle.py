"""Stopping the server closes every open socket with 1001 or 1012, and the stop completes."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

import httpx

from entrypoints.settings import Settings
from support.rest import first_admin, start_conversation
from support.servers import running
from support.ws import FAST, agent_url, connect, customer_url, run


def test_stopping_the_server_closes_sockets_with_going_away_or_restart(tmp_path: Path) -> None:
    settings = Settings(database=str(tmp_path / "chatcore.db"), bcrypt_rounds=4, **FAST)
    with ExitStack() as stack:
        server = stack.enter_context(running(settings))
        with httpx.Client(base_url=server.url, timeout=30) as client:
            admin = first_admin(client)
            session, conversation = start_conversation(client)

        async def scenario() -> None:
            url = customer_url(server.url, conversation["id"], session)
            async with (
                connect(url, name="customer") as customer,
                connect(agent_url(server.url, admin.token), name="admin") as agent,
            ):
                await customer.next_frame("system.subscribed")
                await agent.next_frame("system.connected")
                stopping = asyncio.create_task(asyncio.to_thread(stack.close))
                codes = [await c.wait_closed(within=20) for c in (customer, agent)]
                await stopping
                assert all(code in (1001, 1012) for code in codes), codes

        run(scenario())
