"""What the fault tests share: chats to talk in, a flood of idempotent messages and its
ledger, the history checks, the 503 envelope check.
A PostgreSQL cluster of a test's own is support/private_postgres.py.

The ledger is the point of every fault test: each message is posted with a
``client_message_id`` (``<speaker>-<n>``, also its body) and lands in exactly one
of two books. ``acked``: a 2xx came back, so the server promised it is stored.
``unknown``: anything else (a 503, a connection cut, no answer), so it may or may
not be stored. After the fault, ``check_history`` proves every acknowledged
message is in the history exactly once, under the ``seq`` it was given, with
``seq`` dense from 1; ``retry_all`` posts every message again with the same key,
which must store nothing twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from support.rest import Chat, Staff, bearer, customer_headers, expect, first_admin, go_online
from support.rest_async import messages


@dataclass(frozen=True)
class HeldChat:
    """A conversation held by an agent: its customer and its agent can both post."""

    id: str
    session: str  # the customer's session id
    token: str  # the holding agent's access token

    @property
    def customer_chat(self) -> Chat:
        return Chat(self.session, self.id)


def setup_chats(base_url: str, count: int) -> tuple[Staff, list[HeldChat]]:
    """An admin, online, holding ``count`` new escalated conversations."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        admin = first_admin(http)
        go_online(http, admin)
        chats = []
        for _ in range(count):
            started = expect(http.post("/api/v1/customer/conversations/start"), 201)
            chat_id, session = started["conversation"]["id"], started["customer_session_id"]
            view = expect(
                http.post(
                    f"/api/v1/customer/conversations/{chat_id}/escalate",
                    headers=customer_headers(session),
                ),
                200,
            )
            assert view["status"] == "agent", view
            chats.append(HeldChat(chat_id, session, admin.token))
    return admin, chats


@dataclass(frozen=True)
class Speaker:
    """One side of one chat, posting over REST."""

    name: str
    chat: HeldChat
    role: str  # "customer" or "agent"

    def request(self, body: str) -> tuple[str, dict[str, Any], dict[str, str]]:
        """(path, json, headers) of a POST of ``body``, keyed by ``body`` itself."""
        payload = {"body": body, "client_message_id": body}
        if self.role == "customer":
            path = f"/api/v1/customer/conversations/{self.chat.id}/messages"
            return path, payload, customer_headers(self.chat.session)
        path = f"/api/v1/agent/conversations/{self.chat.id}/messages"
        return path, payload, bearer(self.chat.token)


def speakers_of(chats: list[HeldChat]) -> list[Speaker]:
    both = [(chat, role) for chat in chats for role in ("customer", "agent")]
    return [Speaker(f"{role[0]}{i // 2}", chat, role) for i, (chat, role) in enumerate(both)]


@dataclass
class Ledger:
    """Every message posted: acknowledged (2xx) or unknown (anything else)."""

    acked: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> the stored message
    unknown: dict[str, str] = field(default_factory=dict)  # key -> what came back instead
    speaker_of: dict[str, Speaker] = field(default_factory=dict)
    answered_at: dict[str, float] = field(default_factory=dict)  # key -> time.monotonic()
    statuses: Counter[str] = field(default_factory=Counter)

    def acked_in(self, chat: HeldChat) -> dict[str, dict[str, Any]]:
        return {k: m for k, m in self.acked.items() if self.speaker_of[k].chat == chat}


async def post(http: httpx.AsyncClient, speaker: Speaker, key: str) -> httpx.Response:
    path, payload, headers = speaker.request(key)
    return await http.post(path, json=payload, headers=headers)


async def post_recorded(
    http: httpx.AsyncClient, ledger: Ledger, speaker: Speaker, key: str
) -> httpx.Response:
    """One message with its key, written in the ledger as acknowledged or unknown."""
    ledger.speaker_of[key] = speaker
    response = await post(http, speaker, key)
    if response.status_code in (200, 201):
        ledger.acked[key] = response.json()["message"]
    else:
        ledger.unknown[key] = str(response.status_code)
    return response


async def talk(
    http: httpx.AsyncClient,
    speaker: Speaker,
    ledger: Ledger,
    *,
    stop: asyncio.Event,
    pause: float = 0.0,
    on_ack: Callable[[], None] | None = None,
    give_up_on_failure: bool = True,
) -> None:
    """Post ``<speaker>-0``, ``-1``, … until ``stop`` (or, by default, the first failure)."""
    number = 0
    while not stop.is_set():
        key = f"{speaker.name}-{number}"
        number += 1
        ledger.speaker_of[key] = speaker
        try:
            response = await post(http, speaker, key)
        except httpx.HTTPError as error:
            ledger.statuses[type(error).__name__] += 1
            ledger.unknown[key] = type(error).__name__
        else:
            ledger.answered_at[key] = time.monotonic()
            ledger.statuses[str(response.status_code)] += 1
            if response.status_code in (200, 201):
                message = response.json()["message"]
                assert message["body"] == key, message
                assert message["client_message_id"] == key, message
                ledger.acked[key] = message
                if on_ack is not None:
                    on_ack()
                if pause:
                    await asyncio.sleep(pause)
                continue
            ledger.unknown[key] = f"{response.status_code} {response.text[:200]}"
        if give_up_on_failure:
            return
        await asyncio.sleep(0.05)


def check_history(chat: HeldChat, items: list[dict[str, Any]], ledger: Ledger) -> None:
    """Dense seq from 1, no message twice, every acknowledged one there under its seq."""
    seqs = [m["seq"] for m in items]
    assert seqs == list(range(1, len(items) + 1)), f"{chat.id}: seq not dense: {seqs}"
    ids = Counter(m["id"] for m in items)
    assert max(ids.values()) == 1, f"{chat.id}: a message id twice: {ids.most_common(3)}"
    keys = Counter(m["client_message_id"] for m in items if m["client_message_id"])
    assert not keys or max(keys.values()) == 1, f"{chat.id}: stored twice: {keys.most_common(3)}"
    stored = {m["client_message_id"]: m for m in items if m["client_message_id"]}
    for key, acked in ledger.acked_in(chat).items():
        assert key in stored, f"{chat.id}: {key} was acknowledged (seq {acked['seq']}) but is lost"
        assert stored[key]["id"] == acked["id"], (key, stored[key], acked)
        assert stored[key]["seq"] == acked["seq"], (key, stored[key], acked)


async def history(http: httpx.AsyncClient, chat: HeldChat) -> list[dict[str, Any]]:
    return await messages(http, chat.customer_chat)


async def retry_all(http: httpx.AsyncClient, ledger: Ledger) -> Counter[str]:
    """Every key posted again: acknowledged ones must answer 200 with the same message.

    Returns how the unknown ones answered: 200 (it had been stored after all) or
    201 (it had not; stored now).
    """
    for key, acked in ledger.acked.items():
        again = expect(await post(http, ledger.speaker_of[key], key), 200)["message"]
        assert (again["id"], again["seq"]) == (acked["id"], acked["seq"]), (key, again, acked)
    outcomes: Counter[str] = Counter()
    for key in ledger.unknown:
        response = await post(http, ledger.speaker_of[key], key)
        assert response.status_code in (200, 201), (key, response.status_code, response.text)
        outcomes[str(response.status_code)] += 1
        ledger.acked[key] = response.json()["message"]
    ledger.unknown.clear()
    return outcomes


# -- 503 ------------------------------------------------------------------------------


def assert_unavailable(response: httpx.Response) -> None:
    """The contract's 503: the error envelope, code ``unavailable``, and Retry-After."""
    where = f"{response.request.method} {response.request.url.path}"
    assert response.status_code == 503, f"{where}: {response.status_code} {response.text}"
    body = response.json()
    assert set(body) == {"error"}, f"{where}: {body}"
    assert body["error"]["code"] == "unavailable", f"{where}: {body}"
    assert isinstance(body["error"]["message"], str), body
    assert body["error"]["message"], body
    retry_after = response.headers.get("Retry-After", "")
    assert retry_after.isdigit(), f"{where}: no Retry-After: {response.headers}"


# -- a PostgreSQL cluster of the test's own -----------------------------------------
