"""Escalation under contention: 1,000 escalations racing over 50 online agents.

The agents are seeded into the database before the server starts, then each logs in
and goes online over REST; the conversations are started over REST. Then every
escalation is fired at once (bench/http_pool.py, 100 keep-alive connections), and a tenth of
the conversations are escalated twice at the same moment, so the "exactly one
assignment" guarantee is raced too.

Checked afterwards, from the answers and from the stored rows (the SQLite file, read
beside the running server):
- double assignments: a conversation whose answers name different agents, whose stored
  agent differs from an answer, or that holds other than one "joined" system message;
- spread: max - min of AGENT conversations per online agent (the policy promises ≤ 1);
- every answer that was not 200.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import seed
from http_pool import HttpPool
from idle_connections import start_conversations
from logins import log_in
from server import chatcore_server
from sizes import Size
from stats import summarize

NAME = "escalation"
CONNECTIONS = 100
SETUP_CONCURRENCY = 50
DUPLICATE_SHARE = 0.1  # of the conversations, escalated twice at once


async def _online(client: httpx.AsyncClient, email: str) -> None:
    token = await log_in(client, email, seed.PASSWORD)
    response = await client.post(
        "/api/v1/agent/presence",
        json={"presence": "online"},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()


async def _bring_online(url: str, emails: list[str]) -> None:
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def one(email: str) -> None:
            async with gate:
                await _online(client, email)

        await asyncio.gather(*(one(email) for email in emails))


async def _escalate_all(
    url: str, calls: list[tuple[str, str]]
) -> tuple[float, list[tuple[str, int, str | None, float]]]:
    """Every call at once; (wall seconds, [(conversation, status, agent id, seconds)])."""
    answers: list[tuple[str, int, str | None, float]] = []
    pool = HttpPool(url, CONNECTIONS)
    await pool.start()  # connected first: the race should be escalations, not handshakes
    try:

        async def one(conversation_id: str, session_id: str) -> None:
            began = time.perf_counter()
            answer = await pool.post(
                f"/api/v1/customer/conversations/{conversation_id}/escalate",
                None,
                {"X-Customer-Session-Id": session_id},
            )
            took = time.perf_counter() - began
            agent = None
            if answer.status == 200:
                assigned = answer.json().get("assigned_agent")
                agent = assigned["id"] if assigned else None
            answers.append((conversation_id, answer.status, agent, took))

        began = time.perf_counter()
        await asyncio.gather(*(one(c, s) for c, s in calls))
        wall = time.perf_counter() - began
    finally:
        await pool.close()
    return wall, answers


def _stored(path: Path, conversation_ids: set[str]) -> tuple[dict[str, str | None], Counter[str]]:
    """Each conversation's stored agent, and its number of "joined" system messages."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.execute("PRAGMA busy_timeout = 5000")
        agents = {
            row[0]: row[1]
            for row in conn.execute("SELECT id, assigned_agent_id FROM conversations")
            if row[0] in conversation_ids
        }
        joined: Counter[str] = Counter()
        for (conversation_id,) in conn.execute(
            "SELECT conversation_id FROM messages "
            "WHERE sender_type = 'system' AND body LIKE '% joined the conversation'"
        ):
            joined[conversation_id] += 1
    return agents, joined


def run(size: Size) -> dict[str, Any]:
    agent_count = int(getattr(size, "escalation_agents", 50))
    conversation_count = int(getattr(size, "escalation_conversations", 1_000))
    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix="chatcore-escalation-") as scratch:
        path = Path(scratch) / "escalation.db"
        seed.create_schema(path)
        _, agents = seed.seed_agents(path, agent_count)
        with chatcore_server(database=path) as server:
            asyncio.run(_bring_online(server.url, [a.email for a in agents]))
            made = asyncio.run(
                start_conversations(server.url, conversation_count, SETUP_CONCURRENCY)
            )
            twice = rng.sample(made, round(DUPLICATE_SHARE * len(made)))
            calls = made + twice
            rng.shuffle(calls)
            wall, answers = asyncio.run(_escalate_all(server.url, calls))
            stored, joined = _stored(path, {c for c, _ in made})

    by_conversation: dict[str, set[str | None]] = defaultdict(set)
    statuses: Counter[int] = Counter()
    for conversation_id, status, agent, _ in answers:
        statuses[status] += 1
        if status == 200:
            by_conversation[conversation_id].add(agent)
    double = 0
    for conversation_id, _ in made:
        answered = by_conversation.get(conversation_id, set())
        if (
            len(answered) > 1
            or (answered and stored.get(conversation_id) not in answered)
            or joined[conversation_id] != 1
        ):
            double += 1
    assigned = sum(1 for c, _ in made if stored.get(c) is not None)
    load = Counter(agent for agent in stored.values() if agent is not None)
    per_agent = [load.get(a.id, 0) for a in agents]
    return {
        "agents_online": agent_count,
        "conversations": conversation_count,
        "requests": len(calls),
        "duplicate_requests": len(twice),
        "connections": CONNECTIONS,
        "wall_seconds": round(wall, 3),
        "assignments": assigned,
        "assignments_per_second": round(assigned / wall, 1) if wall else None,
        "double_assignments": double,
        "unassigned": conversation_count - assigned,
        "load_min": min(per_agent),
        "load_max": max(per_agent),
        "load_spread": max(per_agent) - min(per_agent),
        "non_200": sum(n for status, n in statuses.items() if status != 200),
        "statuses": {str(status): n for status, n in sorted(statuses.items())},
        "latency": summarize([took for _, _, _, took in answers]),
    }
