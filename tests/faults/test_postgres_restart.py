"""Fault: PostgreSQL stops under a running server, then comes back.

The cluster is this test's own (support/faults.py, PrivatePostgres: initdb into a temporary
directory, a free port, trust auth), so stopping it disturbs no other test; the
shared server on 5432 is never touched. ``chatcore serve`` runs against it with a
customer socket open. Then ``pg_ctl stop -m immediate`` (a crash, as far as
chatcore can tell), and during the outage:

- every request that needs the database, of every kind (posting, reading,
  starting a chat, logging in), answers 503 with the error envelope
  ``{"error": {"code": "unavailable", …}}`` and Retry-After, never a 500: the
  first within the pool's 5 s wait, and once chatcore has seen a dead connection
  within half a second, even a dozen at once, for the whole 20 s outage;
- ``/readyz`` answers 503, ``/healthz`` 200 (the process is fine);
- a WebSocket handshake (customer or agent) is refused with one ``system.error``
  ``unavailable`` and close code 1013 (try again), not 1011; an open socket stays
  open and answers pings; an agent whose only socket closes meanwhile is not held
  online for ever: its departure is recorded once the database is back.

Then the cluster starts again and, without restarting chatcore: requests succeed
again within seconds (psycopg_pool's default backoff would have waited over 10),
``/readyz`` is 200, WebSocket handshakes work, every message acknowledged before
the outage is there once, and the ones that failed can be posted again with their
key without duplicates.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from support.faults import (
    HeldChat,
    Ledger,
    assert_unavailable,
    check_history,
    history,
    post_recorded,
    retry_all,
    setup_chats,
    speakers_of,
)
from support.private_postgres import PrivatePostgres, private_postgres
from support.rest import PASSWORD, bearer, customer_headers
from support.serve_process import Instance, scale_out_instance
from support.ws import agent_url, connect, customer_url, refused, run

# The first answers after the server went away may wait for a connection as long as the
# pool lets them (5 s, adapters/postgres/connections.py); once a dead connection has been
# seen, the server counts as down and every answer comes within half a second. A little
# more for a busy machine.
FIRST_ANSWER_WITHIN = 7.0
ANSWER_WITHIN = 2.5
# Long enough that psycopg_pool's own reconnection backoff, left at its defaults,
# would wait over 10 s after the server's return before trying again.
OUTAGE_SECONDS = 20.0
RECOVER_WITHIN = 6.0
GRACE_SECONDS = 1


@contextmanager
def _cluster() -> Iterator[PrivatePostgres]:
    # Not pytest's tmp_path: as root the cluster runs as the postgres user, who cannot
    # enter /tmp/pytest-of-root (0700).
    directory = Path(tempfile.mkdtemp(prefix="chatcore-pg-"))
    try:
        with private_postgres(directory) as cluster:
            yield cluster
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_chatcore_answers_503_while_postgres_is_down_and_recovers_without_restart(
    tmp_path: Path,
) -> None:
    with (
        _cluster() as cluster,
        scale_out_instance(
            cluster.url,
            "",
            f"pg{uuid.uuid4().hex[:8]}",
            tmp_path,
            "chatcore",
            env_extra={"CHATCORE_PRESENCE_GRACE_SECONDS": str(GRACE_SECONDS)},
        ) as server,
    ):
        admin, chats = setup_chats(server.url, 1)
        try:
            report = run(_outage(server, cluster, chats[0], admin.email), within=150)
        except AssertionError as failed:
            raise AssertionError(f"{failed}\nchatcore: {server.tail()}") from None
        print(f"\nPostgreSQL outage: {report}")


async def _outage(
    server: Instance, cluster: PrivatePostgres, chat: HeldChat, email: str
) -> dict[str, Any]:
    report: dict[str, Any] = {}
    ledger = Ledger()
    customer, agent = speakers_of([chat])
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
        connect(customer_url(server.url, chat.id, chat.session), name="open socket") as open_ws,
        connect(agent_url(server.url, chat.token), name="agent leaving") as leaving,
    ):
        await open_ws.next_frame("system.subscribed")
        await leaving.ping()  # answered once its handshake, the connection counted, is done
        for n in range(5):
            for speaker in (customer, agent):
                await post_recorded(http, ledger, speaker, f"{speaker.name}-{n}")
        assert len(ledger.acked) == 10, ledger.unknown

        stopped = time.monotonic()
        await asyncio.to_thread(cluster.stop, "immediate")

        # One of each kind of request, one after the other, then a dozen at once.
        kinds = _requests(http, chat, email)
        timings: dict[str, float] = {}
        for name, request in kinds.items():
            timings[name] = await _unavailable_in_time(request, FIRST_ANSWER_WITHIN)
        report["one by one (s)"] = timings
        burst = [kinds[name] for name in list(kinds) * 2][:12]
        together = await asyncio.gather(*(_unavailable_in_time(r) for r in burst))
        report["12 at once, slowest (s)"] = max(together)
        for n in range(5, 7):  # messages posted during the outage: unknown, retried later
            for speaker in (customer, agent):
                key = f"{speaker.name}-{n}"
                response = await post_recorded(http, ledger, speaker, key)
                assert_unavailable(response)

        ready = await http.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert ready.json()["error"]["code"] == "unavailable", ready.text
        assert (await http.get("/healthz")).status_code == 200

        # Sockets: new handshakes told to try again, the open one still alive.
        for url in (
            customer_url(server.url, chat.id, chat.session),
            agent_url(server.url, chat.token),
        ):
            frames, code = await refused(url)
            errors = [f["data"]["code"] for f in frames if f["type"] == "system.error"]
            assert (errors, code) == (["unavailable"], 1013), (url, frames, code)
        await open_ws.ping()
        await leaving.close()  # the agent's only socket goes while nothing can be recorded

        # And so on for as long as the outage lasts: every answer a quick 503.
        later: list[float] = []
        while time.monotonic() - stopped < OUTAGE_SECONDS:
            later.append(await _unavailable_in_time(kinds[list(kinds)[len(later) % len(kinds)]]))
            await asyncio.sleep(0.2)
        report["later 503s"] = f"{len(later)}, slowest {max(later)} s"
        report["outage (s)"] = round(time.monotonic() - stopped, 2)

        # Back: chatcore recovers by itself.
        await asyncio.to_thread(cluster.start)
        restarted = time.monotonic()
        seen: Counter[int] = Counter()
        while True:
            response = await http.get(
                f"/api/v1/customer/conversations/{chat.id}",
                headers=customer_headers(chat.session),
            )
            seen[response.status_code] += 1
            if response.status_code == 200:
                break
            assert_unavailable(response)
            assert time.monotonic() - restarted < RECOVER_WITHIN, f"still 503 after: {seen}"
            await asyncio.sleep(0.1)
        report["recovered after (s)"] = round(time.monotonic() - restarted, 2)
        report["statuses while recovering"] = dict(seen)
        assert (await http.get("/readyz")).status_code == 200
        async with connect(customer_url(server.url, chat.id, chat.session, after_seq=0)) as again:
            snapshot = await again.next_frame("system.subscribed")
            assert len(snapshot["data"]["messages"]) >= len(ledger.acked)
        async with connect(agent_url(server.url, chat.token, conversation_id=chat.id)) as agent_ws:
            await agent_ws.next_frame("system.subscribed")

        # The agent who left during the outage is not held online for ever: its departure
        # is recorded once the database is back, and the grace period runs out.
        left = time.monotonic()
        while (presence := await _presence(http, chat)) != "offline":
            assert time.monotonic() - left < GRACE_SECONDS + 8, f"the agent stays {presence}"
            await asyncio.sleep(0.2)
        report["agent gone offline after (s)"] = round(time.monotonic() - left, 2)

        check_history(chat, await history(http, chat), ledger)
        unknown = len(ledger.unknown)
        retried = await retry_all(http, ledger)
        check_history(chat, await history(http, chat), ledger)
        report["posted during the outage, retried"] = f"{unknown}: {dict(retried)}"
    return report


def _requests(
    http: httpx.AsyncClient, chat: HeldChat, email: str
) -> dict[str, Callable[[], Awaitable[httpx.Response]]]:
    customer = customer_headers(chat.session)
    agent = bearer(chat.token)
    messages = f"/api/v1/customer/conversations/{chat.id}/messages"
    return {
        "customer posts": lambda: http.post(messages, json={"body": "x"}, headers=customer),
        "customer reads": lambda: http.get(messages, headers=customer),
        "agent posts": lambda: http.post(
            f"/api/v1/agent/conversations/{chat.id}/messages", json={"body": "y"}, headers=agent
        ),
        "agent lists": lambda: http.get("/api/v1/agent/conversations", headers=agent),
        "agent me": lambda: http.get("/api/v1/agent/me", headers=agent),
        "new chat": lambda: http.post("/api/v1/customer/conversations/start"),
        "login": lambda: http.post(
            "/api/v1/agent/auth/login", json={"email": email, "password": PASSWORD}
        ),
    }


async def _presence(http: httpx.AsyncClient, chat: HeldChat) -> str:
    me = await http.get("/api/v1/agent/me", headers=bearer(chat.token))
    assert me.status_code == 200, me.text
    return str(me.json()["presence"])


async def _unavailable_in_time(
    request: Callable[[], Awaitable[httpx.Response]], within: float = ANSWER_WITHIN
) -> float:
    started = time.monotonic()
    response = await request()
    took = round(time.monotonic() - started, 2)
    assert_unavailable(response)
    assert took < within, f"{response.request.url.path}: answered after {took} s"
    return took
