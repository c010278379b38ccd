"""Password guessing against a real ``chatcore serve`` with its documented limits on.

The attacks: guesses sent all at once, so that every one is checked before any is
counted; a burst of logins that fills the password-hashing threads while a real
agent tries to log in; the password-change endpoint as a side door for guessing.
Each runs against the in-process limiter and the Redis one (whose script must take
the slot as atomically as the in-process lock does).

Guesses come from 127.0.0.2, a loopback address of their own: the server sees a
second client address, and the agent's own address (127.0.0.1, where it logged in
before) stays apart, as it does in the field.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from support.redis_server import REDIS_URL, require_redis
from support.rest import PASSWORD, Staff, expect, first_admin
from support.serve_process import Instance, chatcore_serve

LOGIN = "/api/v1/agent/auth/login"
CHANGE_PASSWORD = "/api/v1/agent/password"
ATTACKER = "127.0.0.2"
# The documented defaults: 10 failed logins per email, 30 per address (15 minutes).
PER_EMAIL = 10
PER_ADDRESS = 30
WRONG = "not the password at all"


@pytest.fixture(params=["memory", "redis"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Instance]:
    env = {
        "CHATCORE_DATABASE": str(tmp_path / "served.db"),
        "CHATCORE_RATE_LIMITS": "on",
        # Slow enough that parallel checks overlap (what the attack needs), fast
        # enough for a test: about 60 ms a hash here.
        "CHATCORE_BCRYPT_ROUNDS": "10",
    }
    if request.param == "redis":
        require_redis(REDIS_URL)
        env["CHATCORE_REDIS_URL"] = REDIS_URL
        env["CHATCORE_REDIS_NAMESPACE"] = f"test{uuid.uuid4().hex[:12]}"
    with chatcore_serve(env, log=tmp_path / "serve.log") as instance:
        yield instance


@contextmanager
def client(url: str, *, source: str = "127.0.0.1") -> Iterator[httpx.Client]:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=url, timeout=60, transport=transport) as it:
        yield it


def _attacker(url: str, connections: int) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(
        local_address=ATTACKER,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )
    return httpx.AsyncClient(base_url=url, timeout=120, transport=transport)


async def _parallel_logins(url: str, logins: list[tuple[str, str]]) -> Counter[int]:
    async with _attacker(url, len(logins)) as attacker:
        answers = await asyncio.gather(
            *(attacker.post(LOGIN, json={"email": e, "password": p}) for e, p in logins)
        )
    return Counter(answer.status_code for answer in answers)


def _admin(server: Instance) -> Staff:
    with client(server.url) as it:
        return first_admin(it)


def test_a_hundred_parallel_guesses_get_at_most_the_limit_checked(server: Instance) -> None:
    admin = _admin(server)
    guesses = [(admin.email, f"{WRONG} {n}") for n in range(100)]
    statuses = asyncio.run(_parallel_logins(server.url, guesses))
    assert statuses[401] <= PER_EMAIL, statuses  # checked (and wrong)
    assert statuses[401] + statuses[429] == 100, statuses
    with client(server.url, source=ATTACKER) as it:
        # The right password, from the guesser's address: refused until the window
        # passes, not checked.
        refused = it.post(LOGIN, json={"email": admin.email, "password": PASSWORD})
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) > 0
    with client(server.url) as it:
        # The agent, from where it logged in before, is not locked out by the guesses.
        expect(it.post(LOGIN, json={"email": admin.email, "password": PASSWORD}), 200)


def test_a_login_burst_from_elsewhere_does_not_keep_an_agent_out(server: Instance) -> None:
    """200 parallel logins from one address, each for a different email (so only the
    per-address limit stops them), while the agent logs in from its own address."""
    admin = _admin(server)
    burst = [(f"someone{n}@example.com", WRONG) for n in range(200)]

    async def both() -> tuple[Counter[int], httpx.Response]:
        attack = asyncio.create_task(_parallel_logins(server.url, burst))
        await asyncio.sleep(0.2)  # the burst is in: its hashes are queued or running
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as agent:
            login = await agent.post(LOGIN, json={"email": admin.email, "password": PASSWORD})
        return await attack, login

    statuses, login = asyncio.run(both())
    assert login.status_code == 200, login.text  # within the client's generous 60 s
    # At most the address's allowance was hashed; the rest refused before bcrypt,
    # with 429 (over the limit) or 503 (the hashing line full).
    assert statuses[401] <= PER_ADDRESS, statuses
    assert statuses[401] + statuses[429] + statuses[503] == 200, statuses


def test_wrong_current_passwords_count_as_failed_logins(server: Instance) -> None:
    admin = _admin(server)
    change = {"new_password": "a brand new passphrase"}
    with client(server.url) as it:
        statuses = Counter(
            it.post(
                CHANGE_PASSWORD,
                json={"current_password": f"{WRONG} {n}", **change},
                headers=admin.headers,
            ).status_code
            for n in range(40)
        )
        assert statuses == Counter({401: PER_EMAIL, 429: 40 - PER_EMAIL}), statuses
        right = it.post(
            CHANGE_PASSWORD, json={"current_password": PASSWORD, **change}, headers=admin.headers
        )
        assert right.status_code == 429, right.text
        assert int(right.headers["Retry-After"]) > 0  # refused before it was checked


def test_a_right_current_password_costs_no_failed_login(server: Instance) -> None:
    """The slot taken for the check goes back when the password was right: an agent
    changing its password twice and logging in afterwards is not counted at all."""
    admin = _admin(server)
    with client(server.url, source=ATTACKER) as it:
        password = PASSWORD
        for n in range(PER_EMAIL + 1):
            new = f"passphrase number {n} of many"
            expect(
                it.post(
                    CHANGE_PASSWORD,
                    json={"current_password": password, "new_password": new},
                    headers=admin.headers,
                ),
                204,
            )
            password = new
        expect(it.post(LOGIN, json={"email": admin.email, "password": password}), 200)


def test_a_login_flood_from_many_addresses_is_refused_not_queued(tmp_path: Path) -> None:
    """200 parallel logins, each from its own address (behind a trusted proxy) for its
    own email, so no rate limit stops them: the hashing line takes what it holds and
    answers the rest 503 at once, instead of queueing every one behind the others."""
    env = {
        "CHATCORE_DATABASE": str(tmp_path / "served.db"),
        "CHATCORE_RATE_LIMITS": "on",
        "CHATCORE_TRUST_PROXY": "on",
        "CHATCORE_BCRYPT_ROUNDS": "11",  # a hash outlasts the time 200 requests take to arrive
    }
    with chatcore_serve(env, log=tmp_path / "serve.log") as server:

        async def flood() -> list[httpx.Response]:
            async with _attacker(server.url, 200) as attacker:
                return await asyncio.gather(
                    *(
                        attacker.post(
                            LOGIN,
                            json={"email": f"someone{n}@example.com", "password": WRONG},
                            headers={"X-Forwarded-For": f"10.0.{n}.1"},
                        )
                        for n in range(200)
                    )
                )

        answers = asyncio.run(flood())
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses[401] + statuses[503] == 200, statuses
    assert statuses[503] > 0, statuses
    busy = [answer for answer in answers if answer.status_code == 503]
    assert all(answer.headers["Retry-After"] == "1" for answer in busy)
    assert {answer.json()["error"]["code"] for answer in busy} == {"unavailable"}
