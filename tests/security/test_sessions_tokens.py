"""Customer sessions and agent tokens: how they are made, compared, revoked and ended.

What the adapter tests already prove is referenced, not repeated:
tests/adapters/test_http_agent.py (logout, the password change over REST),
tests/adapters/test_realtime_revocation.py (sockets closed with 4401 by logout, a
password change, a deactivation, an expiry), tests/adapters/test_http_admin.py and
tests/adapters/test_realtime_routing.py (deactivation hands one chat over).
"""

from __future__ import annotations

import ast
import base64
import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt

import adapters.system
from adapters.system import SECRET_BYTES, RandomIds
from chatcore.usecases import _base
from chatcore.usecases._base import transaction
from entrypoints.settings import Settings
from support.http_contract import error_of
from support.rest import (
    PASSWORD,
    Chat,
    bearer,
    customer_headers,
    expect,
    first_admin,
    go_online,
    hire,
    new_token,
    start_conversation,
)
from support.rest_async import agent_says, close_chat, escalate, rest, say
from support.servers import LiveServer, running
from support.ws import FAST, agent_url, assert_private, connect, customer_url, refused, run

SRC = Path(__file__).parents[2] / "src"
URL_SAFE_256_BITS = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 bytes, base64url, unpadded
CONVERSATION = "/api/v1/customer/conversations/{}"
NEW_PASSWORD = "a brand new passphrase"


# -- customer session ids: at least 128 random bits -------------------------------------


def _decoded(session_id: str) -> bytes:
    return base64.urlsafe_b64decode(session_id + "=" * (-len(session_id) % 4))


def test_the_server_issues_256_bit_url_safe_session_ids_never_twice(
    live_server: LiveServer,
) -> None:
    assert isinstance(live_server.chatcore.ctx.ids, RandomIds)  # what build() wires in
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        sessions = [start_conversation(client)[0] for _ in range(100)]
    for session_id in sessions:
        assert URL_SAFE_256_BITS.match(session_id), session_id
        assert len(_decoded(session_id)) == 32
    assert len(set(sessions)) == len(sessions)


def test_session_ids_look_uniformly_random_bit_by_bit() -> None:
    """Every one of the 256 bit positions is set about half the time over 4,000 ids.

    A counter, a timestamp, a small alphabet or a short random part would put some
    positions far outside 5 standard deviations (false alarm: about 1 in 7,000 runs).
    """
    ids = RandomIds()
    count = 4000
    drawn = [ids.new_secret() for _ in range(count)]
    assert len(set(drawn)) == count
    assert len({d[:8] for d in drawn}) == count  # 48-bit prefixes: no shared structure
    ones = [0] * 256
    for session_id in drawn:
        value = int.from_bytes(_decoded(session_id), "big")
        for bit in range(256):
            ones[bit] += (value >> bit) & 1
    sigma = (count * 0.25) ** 0.5
    lopsided = [bit for bit, n in enumerate(ones) if abs(n - count / 2) > 5 * sigma]
    assert not lopsided, f"bit positions far from half set: {lopsided}"


def test_session_ids_come_from_the_secrets_module_with_at_least_128_bits() -> None:
    """Static: randomness cannot be proved by sampling alone, so read the code too."""
    assert SECRET_BYTES * 8 >= 128
    tree = ast.parse(Path(adapters.system.__file__).read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert "random" not in imported  # the predictable Mersenne Twister
    [method] = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "new_secret"
    ]
    calls = {ast.unparse(node.func) for node in ast.walk(method) if isinstance(node, ast.Call)}
    assert calls == {"secrets.token_urlsafe"}, calls


# -- customer session ids: compared whole, in constant time -----------------------------


def test_every_one_character_change_of_a_session_is_refused(live_server: LiveServer) -> None:
    """Behaviour: the whole id counts, each position of it (a prefix compare, or one that
    stopped early, would let some of these through)."""
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        session, conversation = start_conversation(client)
        path = CONVERSATION.format(conversation["id"])
        expect(client.get(path, headers=customer_headers(session)), 200)
        for position in range(len(session)):
            other = "A" if session[position] != "A" else "B"
            changed = session[:position] + other + session[position + 1 :]
            error_of(client.get(path, headers=customer_headers(changed)), 403, "forbidden")
        for near in (session[:16], session[:-1], session + session[-1], session.swapcase()):
            error_of(client.get(path, headers=customer_headers(near)), 403, "forbidden")


def _compares(tree: ast.AST, name: str) -> list[str]:
    """Every ==, !=, in or not in with ``name`` in one of its operands (not ``is None``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops
        ):
            operands = [node.left, *node.comparators]
            if any(name in ast.unparse(operand) for operand in operands):
                found.append(ast.unparse(node))
    return found


def test_session_ids_are_compared_with_hmac_compare_digest_and_nothing_else() -> None:
    """Static, since timing cannot be measured reliably on a shared machine: the one check
    of a session against a conversation uses hmac.compare_digest, every use case reaches
    a conversation through it, and no == on a session id exists anywhere in src."""
    base = ast.parse(Path(_base.__file__).read_text())
    [check] = [
        node
        for node in ast.walk(base)
        if isinstance(node, ast.FunctionDef) and node.name == "customer_conversation"
    ]
    calls = {ast.unparse(node.func) for node in ast.walk(check) if isinstance(node, ast.Call)}
    assert "hmac.compare_digest" in calls
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text())
        offenders += [f"{path}: {c}" for c in _compares(tree, "session_id")]
        # Use cases given a session reach the conversation through customer_conversation.
        if path.parent.name == "usecases":
            for node in ast.walk(tree):
                if not isinstance(node, ast.FunctionDef):
                    continue
                arguments = [a.arg for a in (*node.args.args, *node.args.kwonlyargs)]
                if "session_id" not in arguments or node.name in (
                    "customer_conversation",
                    "start_conversation",  # a new session, or joining a known one
                    "session_exists",  # is it a session at all (rate limits key on it)
                ):
                    continue
                called = {ast.unparse(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
                assert "customer_conversation" in called, f"{path}: {node.name}"
    assert not offenders, offenders


# -- the password change ----------------------------------------------------------------


def test_a_refused_password_change_kills_no_token(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(**FAST)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin)
        other = new_token(client, alice.email)

    async def scenario() -> None:
        async with (
            rest(server.url) as http,
            connect(agent_url(server.url, other), name="other tab") as tab,
        ):
            await tab.next_frame("system.connected")
            path = "/api/v1/agent/password"
            wrong = {"current_password": "not my password", "new_password": NEW_PASSWORD}
            error_of(await http.post(path, json=wrong, headers=alice.headers), 401, "unauthorized")
            short = {"current_password": PASSWORD, "new_password": "short"}
            error_of(
                await http.post(path, json=short, headers=alice.headers), 400, "validation_error"
            )
            for token in (alice.token, other):
                expect(await http.get("/api/v1/agent/me", headers=bearer(token)), 200)
            await tab.ping()
            assert not tab.closed
        with httpx.Client(base_url=server.url, timeout=30) as client:
            new_token(client, alice.email, PASSWORD)  # the password did not change

    run(scenario())


def test_a_password_change_ends_the_other_tokens_everywhere_and_the_callers_socket_lives_on(
    make_server: Callable[..., LiveServer],
) -> None:
    """Beyond test_realtime_revocation: the closed socket is told why (system.error, then
    4401), the dead token cannot open a new one, and the caller's socket still gets its
    events, not only pongs."""
    server = make_server(**FAST)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin)
        go_online(client, alice)
        other = new_token(client, alice.email)

    async def scenario() -> None:
        async with (
            rest(server.url) as http,
            connect(agent_url(server.url, alice.token), name="caller") as caller,
            connect(agent_url(server.url, other), name="other") as stale,
        ):
            await caller.next_frame("system.connected")
            await stale.next_frame("system.connected")
            body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
            expect(await http.post("/api/v1/agent/password", json=body, headers=alice.headers), 204)
            told = await stale.next_frame("system.error")
            assert told["data"]["code"] == "unauthorized"
            assert await stale.wait_closed() == 4401
            frames, code = await refused(agent_url(server.url, other))
            assert (code, [f["data"]["code"] for f in frames]) == (4401, ["unauthorized"])
            for path in ("/api/v1/agent/me", "/api/v1/agent/conversations"):
                error_of(await http.get(path, headers=bearer(other)), 401, "unauthorized")
            # The caller works on: a chat comes in, and it answers.
            started = expect(await http.post("/api/v1/customer/conversations/start"), 201)
            session, x = started["customer_session_id"], started["conversation"]["id"]
            await escalate(http, Chat(session, x))
            await caller.next_frame("agent.assigned", conversation_id=x)
            await agent_says(http, alice.token, x, "Still here after my password change")

    run(scenario())


def test_revoked_tokens_stay_dead_after_a_restart(tmp_path: Path) -> None:
    """Revocation lives in storage: a restart (same database, same key) brings none back."""
    settings = Settings(database=str(tmp_path / "restart.db"), bcrypt_rounds=4, rate_limits=False)
    with running(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin)
        replaced = new_token(client, alice.email)
        logged_out = new_token(client, alice.email)
        expect(client.post("/api/v1/agent/auth/logout", headers=bearer(logged_out)), 204)
        body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        expect(client.post("/api/v1/agent/password", json=body, headers=alice.headers), 204)
    with running(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        expect(client.get("/api/v1/agent/me", headers=alice.headers), 200)
        for dead in (replaced, logged_out):
            error_of(client.get("/api/v1/agent/me", headers=bearer(dead)), 401, "unauthorized")


# -- expiry -----------------------------------------------------------------------------


def test_an_expired_token_is_refused_over_rest_and_at_the_handshake(
    make_server: Callable[..., LiveServer],
) -> None:
    """A token from a real new_token, left to expire (CHATCORE_TOKEN_TTL_SECONDS=1)."""
    server = make_server(**FAST, token_ttl_seconds=1)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        first_admin(client)
        answer = expect(
            client.post(
                "/api/v1/agent/auth/login",
                json={"email": "admin@example.com", "password": PASSWORD},
            ),
            200,
        )
        assert answer["expires_in"] == 1
        token = answer["access_token"]
        time.sleep(1.2)
        error_of(client.get("/api/v1/agent/me", headers=bearer(token)), 401, "unauthorized")
    frames, code = run(refused(agent_url(server.url, token)))
    assert (code, [f["data"]["code"] for f in frames]) == (4401, ["unauthorized"])


def test_expiry_is_judged_by_the_token_and_by_storage_each_on_its_own(
    live_server: LiveServer,
) -> None:
    """Signed expiry in the past with a live row: 401. Signed expiry ahead with an
    expired row: 401. Either one alone ends the token."""
    ctx = live_server.chatcore.ctx
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        admin = first_admin(client)
        now = ctx.clock.now()

        def stored(token_now: Any, row_expires: Any) -> str:
            issued = ctx.tokens.issue(admin.id, token_id=ctx.ids.new_id(), now=token_now)
            with transaction(ctx) as tx:
                tx.uow.tokens.add(issued.token_id, agent_id=admin.id, expires_at=row_expires)
            return issued.token

        fresh = stored(now, now + timedelta(hours=1))
        expect(client.get("/api/v1/agent/me", headers=bearer(fresh)), 200)  # the control
        signed_expired = stored(now - timedelta(days=1), now + timedelta(days=1))
        assert jwt.decode(signed_expired, options={"verify_signature": False})["exp"] < (
            now.timestamp()
        )
        row_expired = stored(now, now - timedelta(seconds=1))
        for token in (signed_expired, row_expired):
            error_of(client.get("/api/v1/agent/me", headers=bearer(token)), 401, "unauthorized")


# -- deactivation -----------------------------------------------------------------------


def test_deactivation_hands_each_chat_to_room_or_back_to_the_bot_and_tells_everyone(
    make_server: Callable[..., LiveServer],
) -> None:
    """Alice holds two chats and closed a third; Bob (capacity 2) has room for one more.
    Deactivating Alice: her socket is told and closed with 4401, her tokens and password
    are dead; one chat goes to Bob (one "joined" message; the customer and Bob see it,
    Bob without subscribing); the other goes back to the bot with one system message
    telling its customer, who may escalate again and gets Bob once he has room; the
    closed one stays closed, still showing Alice. Nobody exceeds the capacity."""
    server = make_server(**FAST, agent_capacity=2)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin, display_name="Alice")
        bob = hire(client, admin, display_name="Bob")
        go_online(client, alice)
        chats = [start_conversation(client) for _ in range(4)]
        (s_closed, closed), (s_x, x), (s_y, y), (s_w, w) = chats
        for session, conversation in chats[:3]:
            expect(
                client.post(
                    f"{CONVERSATION.format(conversation['id'])}/escalate",
                    headers=customer_headers(session),
                ),
                200,
            )
            if conversation is closed:  # Alice: one closed, then two of two
                expect(
                    client.post(
                        f"/api/v1/agent/conversations/{closed['id']}/close", headers=alice.headers
                    ),
                    200,
                )
        expect(
            client.post("/api/v1/agent/presence", json={"presence": "away"}, headers=alice.headers),
            200,
        )
        go_online(client, bob)
        expect(
            client.post(f"{CONVERSATION.format(w['id'])}/escalate", headers=customer_headers(s_w)),
            200,
        )  # Bob: 1 of 2

    async def scenario() -> None:
        async with (
            rest(server.url) as http,
            connect(agent_url(server.url, alice.token), name="alice") as leaving,
            connect(agent_url(server.url, bob.token), name="bob") as successor,
            connect(customer_url(server.url, x["id"], s_x), name="customer x") as cx,
            connect(customer_url(server.url, y["id"], s_y), name="customer y") as cy,
        ):
            for client in (leaving, successor):
                await client.next_frame("system.connected")
            for client in (cx, cy):
                await client.next_frame("system.subscribed")
            gone = expect(
                await http.post(
                    f"/api/v1/admin/agents/{alice.id}/deactivate", headers=admin.headers
                ),
                200,
            )
            assert gone["active"] is False
            assert (await leaving.next_frame("system.error"))["data"]["code"] == "unauthorized"
            assert await leaving.wait_closed() == 4401
            error_of(await http.get("/api/v1/agent/me", headers=alice.headers), 401, "unauthorized")
            error_of(
                await http.post(
                    "/api/v1/agent/auth/login", json={"email": alice.email, "password": PASSWORD}
                ),
                401,
                "unauthorized",
            )

            views = {
                c: expect(await http.get(CONVERSATION.format(c), headers=customer_headers(s)), 200)
                for c, s in ((x["id"], s_x), (y["id"], s_y))
            }
            statuses = sorted(v["status"] for v in views.values())
            assert statuses == ["agent", "automated"], views
            [handed] = [c for c, v in views.items() if v["status"] == "agent"]
            [back] = [c for c, v in views.items() if v["status"] == "automated"]
            assert views[handed]["assigned_agent"]["id"] == bob.id
            assert views[back]["assigned_agent"] is None
            handed_client, back_client = (cx, cy) if handed == x["id"] else (cy, cx)
            handed_session, back_session = (s_x, s_y) if handed == x["id"] else (s_y, s_x)

            # The chat handed to Bob: the customer and Bob hear it, Bob without subscribing.
            for client in (handed_client, successor):
                assigned = await client.next_frame("agent.assigned", conversation_id=handed)
                assert assigned["data"]["agent"]["id"] == bob.id
                joined = await client.next_frame("message.created", conversation_id=handed)
                assert joined["data"]["body"] == "Bob joined the conversation"
            await say(http, Chat(handed_session, handed), "Hello Bob?")
            await successor.next_frame(
                "message.created", where=lambda f: f["data"]["body"] == "Hello Bob?"
            )
            # The chat back with the bot: its customer is told, with one system message.
            told = await back_client.next_frame("message.created", conversation_id=back)
            assert told["data"]["sender"]["type"] == "system"
            assert "Alice" in told["data"]["body"]
            updated = await back_client.next_frame("conversation.updated", conversation_id=back)
            assert (updated["data"]["status"], updated["data"]["assigned_agent"]) == (
                "automated",
                None,
            )
            for session, conversation_id, text in (
                (handed_session, handed, "Bob joined the conversation"),
                (back_session, back, told["data"]["body"]),
            ):
                page = expect(
                    await http.get(
                        f"{CONVERSATION.format(conversation_id)}/messages",
                        headers=customer_headers(session),
                    ),
                    200,
                )
                system = [m["body"] for m in page["items"] if m["sender"]["type"] == "system"]
                assert system[-1] == text
                assert system.count(text) == 1
            await successor.expect_nothing_more("message.created", conversation_id=back)

            # Bob is full (2 of 2): the customer may ask again, and is told no agent is free...
            refused_again = await http.post(
                f"{CONVERSATION.format(back)}/escalate", headers=customer_headers(back_session)
            )
            error_of(refused_again, 409, "no_agent_available")
            # ...until Bob has room.
            await close_chat(http, bob.token, w["id"])
            again = expect(
                await http.post(
                    f"{CONVERSATION.format(back)}/escalate", headers=customer_headers(back_session)
                ),
                200,
            )
            assert again["assigned_agent"]["id"] == bob.id
            # The closed chat did not move.
            still = expect(
                await http.get(
                    CONVERSATION.format(closed["id"]), headers=customer_headers(s_closed)
                ),
                200,
            )
            assert (still["status"], still["assigned_agent"]["id"]) == ("closed", alice.id)
            for client in (cx, cy):
                assert_private(client, [admin.email, alice.email, bob.email])

    run(scenario())
