"""History: a 50-message page deep in a 100,000-message conversation, and the agents' list
with 100,000 conversations in the database, over HTTP against ``chatcore serve``.

The database is seeded before the server starts (bench/seed.py: chatcore's own schema,
rows written in bulk), so the server sees a file that has simply grown old. Requests go
one at a time over one keep-alive connection: the figure is the time one request takes,
client included (httpx adds a fraction of a millisecond), not a throughput.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import seed
from server import chatcore_server
from sizes import Size
from stats import summarize

NAME = "history"
PAGE = 50
WARMUP_REQUESTS = 20
CURSOR_PAGES = 10  # the listing is walked this deep to collect cursors


def _timed(client: httpx.Client, count: int, request: Callable[[], httpx.Request]) -> list[float]:
    """``count`` requests one after another; seconds each. Any non-200 stops the run."""
    latencies: list[float] = []
    for _ in range(count):
        prepared = request()
        began = time.perf_counter()
        response = client.send(prepared)
        took = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"{prepared.url} answered {response.status_code}: {response.text}")
        latencies.append(took)
    return latencies


def _login(client: httpx.Client, email: str) -> str:
    response = client.post(
        "/api/v1/agent/auth/login", json={"email": email, "password": seed.PASSWORD}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def run(size: Size) -> dict[str, Any]:
    messages = int(getattr(size, "history_messages", 100_000))
    conversations = int(getattr(size, "history_conversations", 100_000))
    requests = int(getattr(size, "history_requests", 200))
    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix="chatcore-history-") as scratch:
        path = Path(scratch) / "history.db"
        began = time.perf_counter()
        seed.create_schema(path)
        admin, _ = seed.seed_agents(path, 0)
        assert admin is not None
        long = seed.seed_long_conversation(path, messages)
        seed.seed_conversations(path, conversations)
        seeded_in = time.perf_counter() - began
        database_mib = (
            sum(p.stat().st_size for p in Path(scratch).glob("history.db*")) / 1024 / 1024
        )

        with (
            chatcore_server(database=path) as server,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            token = _login(client, admin.email)
            agent_headers = {"Authorization": f"Bearer {token}"}
            customer_headers = {"X-Customer-Session-Id": long.session_id}
            history_url = f"/api/v1/customer/conversations/{long.id}/messages"
            listing_url = "/api/v1/agent/conversations"

            def page() -> httpx.Request:
                after = rng.randint(0, max(messages - PAGE, 0))
                return client.build_request(
                    "GET",
                    history_url,
                    params={"after_seq": after, "limit": PAGE},
                    headers=customer_headers,
                )

            # Sanity: a page deep in the history is full and in seq order.
            check = client.send(page()).json()["items"]
            if len(check) != PAGE or [m["seq"] for m in check] != sorted(m["seq"] for m in check):
                raise RuntimeError("the history page is not 50 messages in seq order")

            def first_page() -> httpx.Request:
                return client.build_request(
                    "GET",
                    listing_url,
                    params={"status": "automated", "limit": PAGE},
                    headers=agent_headers,
                )

            cursors: list[str] = []
            cursor: str | None = None
            for _ in range(CURSOR_PAGES):
                params: dict[str, str | int] = {"status": "automated", "limit": PAGE}
                if cursor is not None:
                    params["cursor"] = cursor
                body = client.get(listing_url, params=params, headers=agent_headers).json()
                if len(body["items"]) != PAGE or body["next_cursor"] is None:
                    raise RuntimeError("the agents' list ran out before the cursor pages")
                cursor = body["next_cursor"]
                cursors.append(cursor)

            def deep_page() -> httpx.Request:
                return client.build_request(
                    "GET",
                    listing_url,
                    params={"status": "automated", "limit": PAGE, "cursor": rng.choice(cursors)},
                    headers=agent_headers,
                )

            _timed(client, WARMUP_REQUESTS, page)
            _timed(client, WARMUP_REQUESTS, first_page)
            _timed(client, WARMUP_REQUESTS, deep_page)
            history = _timed(client, requests, page)
            listing = _timed(client, requests, first_page)
            listing_deep = _timed(client, requests, deep_page)
            rss = server.rss_kib()

    return {
        "messages_in_conversation": messages,
        "conversations_in_database": conversations + 1,
        "page_size": PAGE,
        "requests_each": requests,
        "seeded_seconds": round(seeded_in, 2),
        "database_mib": round(database_mib, 1),
        "server_rss_kib": rss,
        "history_page": summarize(history),
        "agent_list_first_page": summarize(listing),
        "agent_list_cursor_page": {
            **summarize(listing_deep),
            "pages_deep": f"2-{CURSOR_PAGES + 1}",
        },
    }
