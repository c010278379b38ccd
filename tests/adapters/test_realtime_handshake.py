"""The WebSocket handshake over a real server: who gets in, and how everyone else is sent away.

A refused handshake is accepted, sent exactly one ``system.error`` and closed with
4400, 4401, 4403 or 4404; the checks run 401 → 400 → 404 → 403, as over REST.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from chatcore.bot import GREETING
from entrypoints.settings import Settings
from support.http_contract import CONVERSATION_KEYS, MESSAGE_KEYS
from support.rest import (
    Staff,
    bearer,
    expect,
    first_admin,
    go_online,
    hire,
    new_token,
    start_conversation,
)
from support.servers import LiveServer, running
from support.ws import agent_url, assert_envelope, connect, customer_url, refused, run, ws_url

HEARTBEAT = 5
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class World:
    server: LiveServer
    admin: Staff
    alice: Staff  # online; holds `held`
    bob: Staff  # holds nothing
    automated: str  # an AUTOMATED conversation of `session`
    session: str
    held: str  # an AGENT conversation of alice, of `held_session`
    held_session: str
    other_session: str  # owns neither
    logged_out_token: str
    deactivated_token: str

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    database = tmp_path_factory.mktemp("realtime-handshake") / "chatcore.db"
    settings = Settings(database=str(database), bcrypt_rounds=4, heartbeat_seconds=HEARTBEAT)
    with running(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin, display_name="Alice")
        bob = hire(client, admin, display_name="Bob")
        carol = hire(client, admin, display_name="Carol")
        go_online(client, alice)
        session, automated = start_conversation(client)
        held_session, held = start_conversation(client)
        expect(
            client.post(
                f"/api/v1/customer/conversations/{held['id']}/escalate",
                headers={"X-Customer-Session-Id": held_session},
            ),
            200,
        )
        other_session, _ = start_conversation(client)
        logged_out = new_token(client, alice.email)
        expect(client.post("/api/v1/agent/auth/logout", headers=bearer(logged_out)), 204)
        expect(
            client.post(f"/api/v1/admin/agents/{carol.id}/deactivate", headers=admin.headers),
            200,
        )
        yield World(
            server=server,
            admin=admin,
            alice=alice,
            bob=bob,
            automated=automated["id"],
            session=session,
            held=held["id"],
            held_session=held_session,
            other_session=other_session,
            logged_out_token=logged_out,
            deactivated_token=carol.token,
        )


# -- getting in -------------------------------------------------------------------------


def test_a_customer_gets_connected_then_the_snapshot_with_the_greeting(world: World) -> None:
    async def scenario() -> None:
        url = customer_url(world.url, world.automated, world.session)
        async with connect(url) as customer:
            connected = await customer.next_frame("system.connected")
            subscribed = await customer.next_frame("system.subscribed")
            assert customer.types()[:2] == ["system.connected", "system.subscribed"]
            assert connected["conversation_id"] is None
            assert connected["data"] == {
                "role": "customer",
                "agent_id": None,
                "heartbeat_seconds": HEARTBEAT,
            }
            assert subscribed["conversation_id"] == world.automated
            data = subscribed["data"]
            assert set(data) == {"conversation", "messages", "has_more"}
            assert set(data["conversation"]) == CONVERSATION_KEYS
            assert data["conversation"]["id"] == world.automated
            assert data["conversation"]["status"] == "automated"
            assert data["has_more"] is False
            [greeting] = data["messages"]
            assert set(greeting) == MESSAGE_KEYS
            assert (greeting["seq"], greeting["body"]) == (1, GREETING)
            await customer.expect_nothing_more()

    run(scenario())


def test_a_customer_with_after_seq_gets_only_what_follows_it(world: World) -> None:
    async def scenario() -> None:
        url = customer_url(world.url, world.automated, world.session, after_seq=1)
        async with connect(url) as customer:
            subscribed = await customer.next_frame("system.subscribed")
            assert subscribed["data"]["messages"] == []
            assert subscribed["data"]["has_more"] is False
            assert subscribed["data"]["conversation"]["last_seq"] == 1

    run(scenario())


def test_an_agent_gets_connected_and_no_snapshot_without_a_conversation(world: World) -> None:
    async def scenario() -> None:
        async with connect(agent_url(world.url, world.bob.token)) as agent:
            connected = await agent.next_frame("system.connected")
            assert agent.types()[0] == "system.connected"
            assert connected["conversation_id"] is None
            assert connected["data"] == {
                "role": "agent",
                "agent_id": world.bob.id,
                "heartbeat_seconds": HEARTBEAT,
            }
            await agent.expect_nothing_more("system.subscribed", "system.error")

    run(scenario())


@pytest.mark.parametrize(
    ("who", "conversation"),
    [
        ("bob", "automated"),  # anyone reads an AUTOMATED conversation
        ("alice", "held"),  # its holder
        ("admin", "held"),  # an admin reads everything
    ],
)
def test_an_agent_naming_a_conversation_it_may_read_gets_the_snapshot(
    world: World, who: str, conversation: str
) -> None:
    account: Staff = getattr(world, who)
    conversation_id: str = getattr(world, conversation)

    async def scenario() -> None:
        url = agent_url(world.url, account.token, conversation_id=conversation_id)
        async with connect(url) as agent:
            subscribed = await agent.next_frame("system.subscribed")
            assert agent.types()[:2] == ["system.connected", "system.subscribed"]
            assert subscribed["conversation_id"] == conversation_id
            data = subscribed["data"]
            assert set(data) == {"conversation", "messages", "has_more"}
            assert set(data["conversation"]) >= CONVERSATION_KEYS
            assert data["conversation"]["id"] == conversation_id
            seqs = [message["seq"] for message in data["messages"]]
            assert seqs == list(range(1, data["conversation"]["last_seq"] + 1))
            assert data["has_more"] is False

    run(scenario())


def test_an_agent_with_after_seq_gets_the_rest(world: World) -> None:
    async def scenario() -> None:
        url = agent_url(world.url, world.alice.token, conversation_id=world.held, after_seq=1)
        async with connect(url) as agent:
            subscribed = await agent.next_frame("system.subscribed")
            last = subscribed["data"]["conversation"]["last_seq"]
            assert last >= 2  # the greeting and the "joined" message
            assert [m["seq"] for m in subscribed["data"]["messages"]] == list(range(2, last + 1))

    run(scenario())


# -- being sent away --------------------------------------------------------------------

Case = Callable[[World], str]


def _customer(conversation: str = "automated", session: str = "session", **extra: object) -> Case:
    def url(w: World) -> str:
        conversation_id = getattr(w, conversation, conversation)
        session_id = getattr(w, session, session)
        return customer_url(w.url, conversation_id, session_id, **extra)

    return url


def _agent(token: str = "alice", conversation: str | None = None, **extra: object) -> Case:
    def url(w: World) -> str:
        account = getattr(w, token, None)
        raw = account.token if isinstance(account, Staff) else getattr(w, token, token)
        conversation_id = getattr(w, conversation, conversation) if conversation else None
        return agent_url(w.url, raw, conversation_id=conversation_id, **extra)

    return url


REFUSALS: list[tuple[str, Case, int, str]] = [
    # 4400: the request itself is wrong.
    ("no role", lambda w: ws_url(w.url, conversation_id=w.automated), 4400, "bad_request"),
    (
        "unknown role",
        lambda w: ws_url(w.url, role="admin", access_token=w.admin.token),
        4400,
        "bad_request",
    ),
    (
        "customer without conversation_id",
        lambda w: ws_url(w.url, role="customer", customer_session_id=w.session),
        4400,
        "bad_request",
    ),
    ("customer after_seq=-1", _customer(after_seq=-1), 4400, "bad_request"),
    ("customer after_seq=abc", _customer(after_seq="abc"), 4400, "bad_request"),
    ("customer after_seq=1.5", _customer(after_seq="1.5"), 4400, "bad_request"),
    ("agent after_seq=-1", _agent(conversation="automated", after_seq=-1), 4400, "bad_request"),
    ("agent after_seq=abc", _agent(conversation="automated", after_seq="abc"), 4400, "bad_request"),
    # 4401: no agent behind the token.
    ("agent without a token", lambda w: ws_url(w.url, role="agent"), 4401, "unauthorized"),
    ("agent with a garbage token", _agent(token="garbage.token.here"), 4401, "unauthorized"),
    ("agent with a logged-out token", _agent(token="logged_out_token"), 4401, "unauthorized"),
    ("deactivated agent", _agent(token="deactivated_token"), 4401, "unauthorized"),
    # 4404: no such conversation.
    ("customer, unknown conversation", _customer(conversation=UNKNOWN), 4404, "not_found"),
    ("customer, malformed conversation id", _customer(conversation="nope"), 4404, "not_found"),
    ("agent, unknown conversation", _agent(conversation=UNKNOWN), 4404, "not_found"),
    ("agent, malformed conversation id", _agent(conversation="nope"), 4404, "not_found"),
    # 4403: it exists, but not for you.
    ("customer, another session", _customer(session="other_session"), 4403, "forbidden"),
    ("customer, unknown session", _customer(session="not-a-session"), 4403, "forbidden"),
    (
        # The contract's 403: "customer session missing or not the conversation's owner".
        "customer without customer_session_id",
        lambda w: ws_url(w.url, role="customer", conversation_id=w.automated),
        4403,
        "forbidden",
    ),
    (
        "agent, another agent's AGENT chat",
        _agent(token="bob", conversation="held"),
        4403,
        "forbidden",
    ),
    # The order: 401 → 400 → 404 → 403.
    (
        "garbage token and after_seq=abc: 401 first",
        _agent(token="garbage", conversation="automated", after_seq="abc"),
        4401,
        "unauthorized",
    ),
    (
        "garbage token and unknown conversation: 401 first",
        _agent(token="garbage", conversation=UNKNOWN),
        4401,
        "unauthorized",
    ),
    (
        "agent after_seq=abc and unknown conversation: 400 first",
        _agent(token="bob", conversation=UNKNOWN, after_seq="abc"),
        4400,
        "bad_request",
    ),
    (
        "agent after_seq=abc on a forbidden chat: 400 first",
        _agent(token="bob", conversation="held", after_seq="abc"),
        4400,
        "bad_request",
    ),
    (
        "customer after_seq=abc on another's chat: 400 first",
        _customer(session="other_session", after_seq="abc"),
        4400,
        "bad_request",
    ),
    (
        "customer, unknown conversation with a foreign session: 404 first",
        _customer(conversation=UNKNOWN, session="other_session"),
        4404,
        "not_found",
    ),
    (
        "customer, unknown conversation without a session: 404 first",
        lambda w: ws_url(w.url, role="customer", conversation_id=UNKNOWN),
        4404,
        "not_found",
    ),
    (
        "customer without a session, after_seq=abc: 400 first",
        lambda w: ws_url(w.url, role="customer", conversation_id=w.automated, after_seq="abc"),
        4400,
        "bad_request",
    ),
    (
        "customer, unknown conversation with an unknown session: 404 first",
        _customer(conversation=UNKNOWN, session="not-a-session"),
        4404,
        "not_found",
    ),
]


@pytest.mark.parametrize(
    ("case", "close_code", "error_code"),
    [pytest.param(case, close, code, id=name) for name, case, close, code in REFUSALS],
)
def test_a_refused_handshake_gets_one_error_then_its_close_code(
    world: World, case: Case, close_code: int, error_code: str
) -> None:
    frames, code = run(refused(case(world)))
    assert [frame["type"] for frame in frames] == ["system.error"], frames
    [error] = frames
    assert_envelope(error)
    assert error["conversation_id"] is None
    assert set(error["data"]) == {"code", "message"}, error
    assert error["data"]["code"] == error_code, error
    assert isinstance(error["data"]["message"], str)
    assert error["data"]["message"]
    assert code == close_code


# -- Origin: the agent side is same-origin unless allowed ------------------------------

CONSOLE = "https://console.example.com"
EVIL = "https://evil.example.com"


def _connects(url: str, origin: str | None) -> bool:
    async def scenario() -> bool:
        async with connect(url, origin=origin) as client:
            first = await client.next_frame()
            if first["type"] == "system.connected":
                await client.ping()
                return True
            assert first["type"] == "system.error", first
            assert first["data"]["code"] == "forbidden", first
            assert await client.wait_closed() == 4403
            assert client.types() == ["system.error"]
            return False

    result: bool = run(scenario())
    return result


def test_an_agent_from_a_foreign_origin_is_4403_same_origin_and_no_origin_get_in(
    world: World,
) -> None:
    url = agent_url(world.url, world.bob.token)
    assert _connects(url, None)
    assert _connects(url, world.url)  # Origin http://127.0.0.1:PORT and Host 127.0.0.1:PORT
    assert not _connects(url, EVIL)
    assert not _connects(url, CONSOLE)  # not allowed on this server
    assert not _connects(url, world.url.replace("127.0.0.1", "localhost"))


def test_a_customer_connects_from_any_origin(world: World) -> None:
    assert _connects(customer_url(world.url, world.automated, world.session), EVIL)


def test_a_bad_token_from_a_foreign_origin_is_4401_first(world: World) -> None:
    frames, code = run(refused(agent_url(world.url, "garbage"), origin=EVIL))
    assert [f["data"]["code"] for f in frames] == ["unauthorized"]
    assert code == 4401


def test_allowed_origins_let_the_console_in_and_keep_others_out(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server(allowed_origins=(CONSOLE,))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
    url = agent_url(server.url, admin.token)
    assert _connects(url, CONSOLE)
    assert _connects(url, None)
    assert not _connects(url, EVIL)


def test_connected_tells_the_configured_heartbeat(
    make_server: Callable[..., LiveServer],
) -> None:
    """heartbeat_seconds in system.connected is the server's setting, not a constant."""
    server = make_server(heartbeat_seconds=7)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        session, conversation = start_conversation(client)

    async def scenario() -> None:
        async with connect(customer_url(server.url, conversation["id"], session)) as customer:
            connected = await customer.next_frame("system.connected")
            assert connected["data"]["heartbeat_seconds"] == 7

    run(scenario())
