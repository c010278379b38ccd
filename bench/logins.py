"""Agents' logins for the measurements' set-up, as a well-behaved client makes them.

The server hashes passwords on a few threads with a bounded line; past it a login
answers 503 with ``Retry-After`` instead of queueing for ever. Set-up logs in many
agents at once, so it waits as told and tries again (a bounded number of times).
"""

from __future__ import annotations

import asyncio

import httpx

TRIES = 30


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> str:
    """The access token for ``email``, retrying while the server says it is busy."""
    for _ in range(TRIES):
        response = await client.post(
            "/api/v1/agent/auth/login", json={"email": email, "password": password}
        )
        if response.status_code != 503:
            response.raise_for_status()
            return str(response.json()["access_token"])
        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
    response.raise_for_status()
    raise AssertionError("unreachable: a 503 raises above")
