"""Access control as a table: every conversation-scoped endpoint, and the WebSocket, tried
by everyone who must be sent away.

The endpoints come from the served OpenAPI document and the app's route table:
a new endpoint fails ``test_every_endpoint_is_in_the_matrix_or_said_not_to_be``
until it is placed in the matrix (or said not to be about a conversation).

Every refusal must be exactly the contract's status and code, in the bare error
envelope, and must carry nothing of the conversation it was about: no message
body, customer name or email, conversation or session id, agent name or email,
and no token. A refused call changes nothing: no event about the conversation
is published and its messages stay as they were.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from starlette.routing import Route, WebSocketRoute

from chatcore.usecases._base import transaction
from entrypoints.settings import Settings
from support.http_contract import error_of
from support.rest import (
    Chat,
    Staff,
    bearer,
    customer_headers,
    expect,
    first_admin,
    go_online,
    hire,
    new_token,
    start_conversation,
)
from support.rest_async import agent_says, escalate, rest, say, set_presence, start_chat
from support.servers import LiveServer, running
from support.ws import (
    WS_PATH,
    WsClient,
    agent_url,
    assert_envelope,
    connect,
    customer_url,
    refused,
    run,
    ws_url,
)

SECRET_KEY = "matrix-signing-key-" + "k" * 48  # the server's: some tokens are crafted with it
OTHER_KEY = "not-the-servers-key-" + "x" * 40
UNKNOWN = "00000000-0000-4000-8000-000000000000"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


# -- the endpoints ----------------------------------------------------------------------

CUSTOMER = "/api/v1/customer/conversations/{id}"
AGENT = "/api/v1/agent/conversations/{id}"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    audience: str  # "customer": X-Customer-Session-Id; "agent": a bearer token
    body: dict[str, Any] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def url(self, conversation_id: str, slug: str) -> str:
        return self.path.replace("{id}", conversation_id).replace("{faq_slug}", slug)


POST_BODY = {"body": "A message a refused caller tried to post"}
ENDPOINTS: dict[str, Endpoint] = {
    "customer GET conversation": Endpoint("GET", CUSTOMER, "customer"),
    "customer GET messages": Endpoint("GET", CUSTOMER + "/messages", "customer"),
    "customer POST message": Endpoint("POST", CUSTOMER + "/messages", "customer", POST_BODY),
    "customer POST quick reply": Endpoint(
        "POST", CUSTOMER + "/quick-replies/{faq_slug}", "customer"
    ),
    "customer POST escalate": Endpoint("POST", CUSTOMER + "/escalate", "customer"),
    "agent GET messages": Endpoint("GET", AGENT + "/messages", "agent"),
    "agent POST message": Endpoint("POST", AGENT + "/messages", "agent", POST_BODY),
    "agent POST close": Endpoint("POST", AGENT + "/close", "agent"),
}

# Every other operation, and why it is not in the matrix.
NOT_CONVERSATION_SCOPED: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/customer/quick-questions"): "public: no credentials at all",
    ("POST", "/api/v1/customer/conversations/start"): "makes a conversation; an unknown"
    " session is 403 (tests/adapters/test_http_customer.py)",
    ("GET", "/api/v1/setup"): "public: whether the first agent is still to be registered",
    ("POST", "/api/v1/agent/register"): "admin only (tests/adapters/test_http_agent.py)",
    ("POST", "/api/v1/agent/auth/login"): "credentials in, token out",
    ("POST", "/api/v1/agent/auth/logout"): "the caller's own token",
    ("POST", "/api/v1/agent/password"): "the caller's own account (test_sessions_tokens.py)",
    ("GET", "/api/v1/agent/me"): "the caller's own account",
    ("POST", "/api/v1/agent/presence"): "the caller's own account",
    ("GET", "/api/v1/agent/conversations"): "a listing filtered by who asks"
    " (tests/adapters/test_http_agent.py)",
    ("GET", "/api/v1/admin/faqs"): "admin only (tests/adapters/test_http_admin.py)",
    ("POST", "/api/v1/admin/faqs"): "admin only",
    ("PUT", "/api/v1/admin/faqs/{slug}"): "admin only",
    ("DELETE", "/api/v1/admin/faqs/{slug}"): "admin only",
    ("GET", "/api/v1/admin/agents"): "admin only",
    ("POST", "/api/v1/admin/agents/{id}/deactivate"): "admin only (test_sessions_tokens.py)",
    ("GET", "/healthz"): "public probe",
    ("GET", "/readyz"): "public probe",
    ("GET", "/api/v1/openapi.json"): "public document",
}


# -- the world --------------------------------------------------------------------------


@dataclass
class World:
    server: LiveServer
    slug: str
    accounts: dict[str, Staff]
    conversations: dict[str, str]  # name -> id
    sessions: dict[str, str]  # name -> customer_session_id
    tokens: dict[str, str]  # extra tokens, dead in one way or another
    # Whatever a refusal must never show: ids, names, emails, bodies, secrets.
    never_shown: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def last_seq(self, conversation_id: str) -> int:
        with transaction(self.server.chatcore.ctx, write=False) as tx:
            conversation = tx.uow.conversations.get(conversation_id)
            assert conversation is not None
            return conversation.last_seq

    def events_about(self, conversation_id: str) -> list[Any]:
        return [e for e in list(self.server.events) if _about(e) == conversation_id]


def _about(event: Any) -> str | None:
    for path in ("conversation_id", "message.conversation_id", "view.conversation.id"):
        value: Any = event
        for part in path.split("."):
            value = getattr(value, part, None)
        if isinstance(value, str):
            return value
    return None


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _part(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _expired_token(server: LiveServer, agent_id: str) -> str:
    """A token the server really issued and stored, two days ago: long expired."""
    ctx = server.chatcore.ctx
    past = ctx.clock.now() - timedelta(days=2)
    issued = ctx.tokens.issue(agent_id, token_id=ctx.ids.new_id(), now=past)
    with transaction(ctx) as tx:
        tx.uow.tokens.add(issued.token_id, agent_id=agent_id, expires_at=issued.expires_at)
    return issued.token


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    database = tmp_path_factory.mktemp("access-matrix") / "chatcore.db"
    settings = Settings(
        database=str(database),
        bcrypt_rounds=4,
        secret_key=SECRET_KEY,
        rate_limits=False,
        heartbeat_seconds=5,
    )
    with running(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client, email="root@matrix.example", display_name="Rootia Admin")
        alice = hire(client, admin, email="alicia@matrix.example", display_name="Alicia Vantablack")
        bob = hire(client, admin, email="boris@matrix.example", display_name="Boris Umbra")
        carol = hire(client, admin, email="carla@matrix.example", display_name="Carla Nocturne")
        slug = expect(client.get("/api/v1/customer/quick-questions"), 200)["items"][0]["slug"]

        def chat(name: str, email: str, words: str) -> tuple[str, str]:
            session, conversation = start_conversation(client, display_name=name, email=email)
            path = f"/api/v1/customer/conversations/{conversation['id']}"
            expect(
                client.post(
                    f"{path}/messages", json={"body": words}, headers=customer_headers(session)
                ),
                201,
            )
            return session, conversation["id"]

        def escalate_to(holder: Staff, session: str, conversation_id: str, words: str) -> None:
            path = f"/api/v1/customer/conversations/{conversation_id}/escalate"
            assigned = expect(client.post(path, headers=customer_headers(session)), 200)
            assert assigned["assigned_agent"]["id"] == holder.id, assigned
            path = f"/api/v1/agent/conversations/{conversation_id}/messages"
            expect(client.post(path, json={"body": words}, headers=holder.headers), 201)

        # Carol (the only one online) takes `former`; she is deactivated further down.
        go_online(client, carol)
        former_session, former = chat("Fiona Formerly", "fiona@customer.example", "fiona-words")
        escalate_to(carol, former_session, former, "carla-private-reply")
        expect(
            client.post("/api/v1/agent/presence", json={"presence": "away"}, headers=carol.headers),
            200,
        )
        # Alice holds `held` and held `closed`.
        go_online(client, alice)
        held_session, held = chat("Zelda Quartz", "zelda@customer.example", "zelda-private-words")
        escalate_to(alice, held_session, held, "alicia-private-answer")
        closed_session, closed = chat("Kasimir Closed", "kasimir@customer.example", "kasimir-q")
        escalate_to(alice, closed_session, closed, "alicia-closing-words")
        expect(
            client.post(f"/api/v1/agent/conversations/{closed}/close", headers=alice.headers), 200
        )
        other_session, other = chat("Otto Else", "otto@customer.example", "otto-words")

        # Alice's dead tokens: logged out, killed by her password change, expired.
        logged_out = new_token(client, alice.email)
        expect(client.post("/api/v1/agent/auth/logout", headers=bearer(logged_out)), 204)
        replaced = new_token(client, alice.email)
        change = {"current_password": alice.password, "new_password": "a brand new passphrase"}
        expect(client.post("/api/v1/agent/password", json=change, headers=alice.headers), 204)
        expired = _expired_token(server, alice.id)
        # Carol's token: dead with her. `former` goes to Alice, the one online with room.
        expect(
            client.post(f"/api/v1/admin/agents/{carol.id}/deactivate", headers=admin.headers), 200
        )
        moved = expect(
            client.get(
                f"/api/v1/customer/conversations/{former}", headers=customer_headers(former_session)
            ),
            200,
        )
        assert moved["assigned_agent"]["id"] == alice.id, moved

        live = _claims(alice.token)  # Alice's main token: still alive after her own change
        forged_claims = {k: live[k] for k in ("sub", "jti", "iat", "exp")}
        tokens = {
            "logged_out": logged_out,
            "replaced": replaced,
            "expired": expired,
            "deactivated": carol.token,
            # Alice's very claims, live jti included: only the signature is wrong.
            "other_key": jwt.encode(forged_claims, OTHER_KEY, algorithm="HS256"),
            "alg_none": f"{_part({'alg': 'none', 'typ': 'JWT'})}.{_part(forged_claims)}.",
            "hs512": jwt.encode(forged_claims, SECRET_KEY, algorithm="HS512"),
            # The server's own key, a jti it never issued.
            "never_issued": jwt.encode(
                {**forged_claims, "jti": str(UNKNOWN)}, SECRET_KEY, algorithm="HS256"
            ),
            # The server's own key, Alice's live jti, the admin's subject: a token id
            # counts only for the agent it was issued to.
            "borrowed_jti": jwt.encode(
                {**forged_claims, "sub": admin.id}, SECRET_KEY, algorithm="HS256"
            ),
            # Alice's token with the subject swapped for the admin's, signature kept.
            "tampered": ".".join(
                [
                    alice.token.split(".")[0],
                    _part({**live, "sub": admin.id}),
                    alice.token.split(".")[2],
                ]
            ),
        }
        never_shown = [
            held,
            former,
            closed,
            other,
            held_session,
            former_session,
            closed_session,
            other_session,
            "Zelda Quartz",
            "zelda@customer.example",
            "zelda-private-words",
            "alicia-private-answer",
            "Fiona Formerly",
            "fiona-words",
            "carla-private-reply",
            "Kasimir Closed",
            "alicia-closing-words",
            *(a.email for a in (admin, alice, bob, carol)),
            *(a.agent["display_name"] for a in (admin, alice, bob, carol)),
            *(a.token for a in (admin, alice, bob, carol)),
            *tokens.values(),
        ]
        yield World(
            server=server,
            slug=slug,
            accounts={"admin": admin, "alice": alice, "bob": bob, "carol": carol},
            conversations={"held": held, "former": former, "closed": closed, "other": other},
            sessions={
                "held": held_session,
                "former": former_session,
                "closed": closed_session,
                "other": other_session,
            },
            tokens=tokens,
            never_shown=never_shown,
        )


def assert_nothing_shown(world: World, text: str, what: str) -> None:
    for secret in world.never_shown:
        assert secret not in text, f"{what} shows {secret!r}: {text}"


# -- who calls --------------------------------------------------------------------------

Headers = Callable[[World], dict[str, Any]]
ALLOWED = None  # the identity may do this: not a refusal, so not in this table


@dataclass(frozen=True)
class Identity:
    name: str
    headers: Headers
    customer: int | None  # status on the customer endpoints
    agent: int | None  # status on the agent endpoints
    target: str = "held"  # the conversation it tries
    only: dict[str, int | None] = field(default_factory=dict)  # per endpoint, where it differs

    def expected(self, endpoint_name: str) -> int | None:
        if endpoint_name in self.only:
            return self.only[endpoint_name]
        return self.customer if ENDPOINTS[endpoint_name].audience == "customer" else self.agent


def _session(name: str) -> Headers:
    return lambda w: customer_headers(w.sessions[name])


def _raw_session(value: str | bytes) -> Headers:
    return lambda w: {"X-Customer-Session-Id": value}


def _near_miss(change: Callable[[str], str]) -> Headers:
    return lambda w: customer_headers(change(w.sessions["held"]))


def _account(name: str) -> Headers:
    return lambda w: w.accounts[name].headers


def _token(name: str) -> Headers:
    return lambda w: bearer(w.tokens[name])


def _swapcase_first_letter(session: str) -> str:
    index = next(i for i, c in enumerate(session) if c.isalpha())
    return session[:index] + session[index].swapcase() + session[index + 1 :]


IDENTITIES: list[Identity] = [
    Identity("no credentials", lambda w: {}, customer=403, agent=401),
    # Customer sessions: not the owner's.
    Identity("another customer's session", _session("other"), customer=403, agent=401),
    Identity(
        "an unknown session of the right shape",
        lambda w: customer_headers(secrets.token_urlsafe(32)),
        customer=403,
        agent=401,
    ),
    Identity("a malformed session: one letter", _raw_session("x"), customer=403, agent=401),
    Identity("a malformed session: SQL", _raw_session("' OR '1'='1' --"), customer=403, agent=401),
    Identity("a malformed session: 8 KiB", _raw_session("A" * 8192), customer=403, agent=401),
    Identity("a malformed session: latin-1 bytes", _raw_session("été".encode("latin-1")), 403, 401),
    Identity("the owner's session but its last character", _near_miss(lambda s: s[:-1]), 403, 401),
    Identity("the owner's session and one more character", _near_miss(lambda s: s + "A"), 403, 401),
    Identity(
        "the owner's session, one letter's case swapped",
        _near_miss(_swapcase_first_letter),
        403,
        401,
    ),
    Identity(
        "the owner's session as a bearer token", lambda w: bearer(w.sessions["held"]), 403, 401
    ),
    # Agents who may not: another agent, an admin where even admins may not.
    Identity("another agent", _account("bob"), customer=403, agent=403),
    Identity("another agent, on a closed chat", _account("bob"), 403, 403, target="closed"),
    Identity(
        "an admin",
        _account("admin"),
        customer=403,
        agent=ALLOWED,
        only={"agent POST message": 403},  # admins close others' chats, never talk in them
    ),
    # The holder's own tokens, dead: the 401 is about the token, not the conversation.
    Identity("the holder's expired token", _token("expired"), customer=403, agent=401),
    Identity("the holder's logged-out token", _token("logged_out"), customer=403, agent=401),
    Identity("the holder's token revoked by a password change", _token("replaced"), 403, 401),
    Identity("the former holder, deactivated", _token("deactivated"), 403, 401, target="former"),
    Identity("forged: another key", _token("other_key"), customer=403, agent=401),
    Identity("forged: alg none", _token("alg_none"), customer=403, agent=401),
    Identity("forged: HS512 with the server's key", _token("hs512"), customer=403, agent=401),
    Identity("forged: the server's key, never issued", _token("never_issued"), 403, 401),
    Identity("tampered: subject swapped for the admin", _token("tampered"), 403, 401),
    Identity(
        "signed, the admin's subject on Alice's live token id", _token("borrowed_jti"), 403, 401
    ),
    Identity(
        "a bearer header that is not one", lambda w: {"Authorization": "Basic YTpi"}, 403, 401
    ),
]

CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "invalid_state"}
CELLS = [
    pytest.param(endpoint_name, identity, id=f"{endpoint_name} | {identity.name}")
    for endpoint_name in ENDPOINTS
    for identity in IDENTITIES
    if identity.expected(endpoint_name) is not ALLOWED
]


# -- the table is complete --------------------------------------------------------------


def test_every_endpoint_is_in_the_matrix_or_said_not_to_be(world: World) -> None:
    document = expect(httpx.get(world.url + "/api/v1/openapi.json"), 200)
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    about_a_conversation = {op for op in documented if "/conversations/{" in op[1]}
    in_matrix = {endpoint.key for endpoint in ENDPOINTS.values()}
    assert about_a_conversation == in_matrix, "add the new endpoint to ENDPOINTS"
    unplaced = documented - in_matrix - set(NOT_CONVERSATION_SCOPED)
    assert not unplaced, f"place these in ENDPOINTS or NOT_CONVERSATION_SCOPED: {unplaced}"
    gone = set(NOT_CONVERSATION_SCOPED) - documented
    assert not gone, f"no longer served, drop them: {gone}"

    # Nothing is served under /api beside the document, but the one WebSocket.
    sockets = set()
    for route in world.server.chatcore.app.routes:
        if isinstance(route, WebSocketRoute):
            sockets.add(route.path)
        elif isinstance(route, Route) and route.path.startswith("/api/"):
            for method in (route.methods or set()) - {"HEAD"}:
                assert (method, route.path) in documented, f"{method} {route.path} undocumented"
    assert sockets == {WS_PATH}


# -- REST -------------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint_name", "identity"), CELLS)
def test_a_refused_call_is_the_contracts_status_and_shows_nothing(
    world: World, endpoint_name: str, identity: Identity
) -> None:
    endpoint = ENDPOINTS[endpoint_name]
    status = identity.expected(endpoint_name)
    assert status is not None
    conversation_id = world.conversations[identity.target]
    seq_before = world.last_seq(conversation_id)
    events_before = world.events_about(conversation_id)
    response = httpx.request(
        endpoint.method,
        world.url + endpoint.url(conversation_id, world.slug),
        json=endpoint.body,
        headers=identity.headers(world),
        timeout=30,
    )
    error_of(response, status, CODES[status])  # the bare envelope, the contract's code
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    assert "set-cookie" not in response.headers
    assert_nothing_shown(world, response.text, f"{endpoint.method} {endpoint.path}")
    assert world.last_seq(conversation_id) == seq_before, "a refused call stored something"
    assert world.events_about(conversation_id) == events_before, "a refused call emitted"


def test_the_matrix_is_not_refusing_everyone(world: World) -> None:
    """The owners get in, so the refusals above are about who asks, not a broken setup."""
    held, session = world.conversations["held"], world.sessions["held"]
    alice, admin = world.accounts["alice"], world.accounts["admin"]
    with httpx.Client(base_url=world.url, timeout=30) as client:
        got = expect(
            client.get(f"/api/v1/customer/conversations/{held}", headers=customer_headers(session)),
            200,
        )
        assert got["customer"]["display_name"] == "Zelda Quartz"
        for account in (alice, admin):
            page = expect(
                client.get(f"/api/v1/agent/conversations/{held}/messages", headers=account.headers),
                200,
            )
            assert "zelda-private-words" in [m["body"] for m in page["items"]]
        former = world.conversations["former"]
        expect(
            client.get(f"/api/v1/agent/conversations/{former}/messages", headers=alice.headers),
            200,
        )


# -- the WebSocket handshake ------------------------------------------------------------

# (name, the URL, close code, error code). Each refused handshake gets exactly one
# system.error and its close code: no system.connected, no snapshot, nothing shown.
WsCase = tuple[str, Callable[[World], str], int, str]


def _customer_ws(session: Callable[[World], str | None], target: str = "held") -> Any:
    def url(w: World) -> str:
        return ws_url(
            w.url,
            role="customer",
            conversation_id=w.conversations[target],
            customer_session_id=session(w),
        )

    return url


def _agent_ws(token: Callable[[World], str | None], target: str | None = "held") -> Any:
    def url(w: World) -> str:
        conversation_id = w.conversations[target] if target else None
        return ws_url(w.url, role="agent", access_token=token(w), conversation_id=conversation_id)

    return url


def _dead(name: str) -> Callable[[World], str]:
    return lambda w: w.tokens[name]


WS_CASES: list[WsCase] = [
    # A customer: only the owner's session opens its conversation.
    (
        "customer, another customer's session",
        _customer_ws(lambda w: w.sessions["other"]),
        4403,
        "forbidden",
    ),
    (
        "customer, an unknown session",
        _customer_ws(lambda w: secrets.token_urlsafe(32)),
        4403,
        "forbidden",
    ),
    ("customer, no session", _customer_ws(lambda w: None), 4403, "forbidden"),
    ("customer, a malformed session", _customer_ws(lambda w: "' OR 1=1 --"), 4403, "forbidden"),
    ("customer, a 4 KiB session", _customer_ws(lambda w: "A" * 4096), 4403, "forbidden"),
    ("customer, a non-ASCII session", _customer_ws(lambda w: "sessión✓"), 4403, "forbidden"),
    (
        "customer, the owner's session but its last character",
        _customer_ws(lambda w: w.sessions["held"][:-1]),
        4403,
        "forbidden",
    ),
    (
        "customer, the holder's token as a session",
        _customer_ws(lambda w: w.accounts["alice"].token),
        4403,
        "forbidden",
    ),
    (
        "customer, another's session on a closed chat",
        _customer_ws(lambda w: w.sessions["other"], "closed"),
        4403,
        "forbidden",
    ),
    # An agent: a token that is not alive is 4401, with or without a conversation.
    ("agent, no token", _agent_ws(lambda w: None), 4401, "unauthorized"),
    ("agent, a session as a token", _agent_ws(lambda w: w.sessions["held"]), 4401, "unauthorized"),
    ("agent, the holder's expired token", _agent_ws(_dead("expired")), 4401, "unauthorized"),
    ("agent, expired, no conversation", _agent_ws(_dead("expired"), None), 4401, "unauthorized"),
    ("agent, the holder's logged-out token", _agent_ws(_dead("logged_out")), 4401, "unauthorized"),
    ("agent, revoked by a password change", _agent_ws(_dead("replaced")), 4401, "unauthorized"),
    ("agent, revoked, no conversation", _agent_ws(_dead("replaced"), None), 4401, "unauthorized"),
    (
        "agent, the former holder, deactivated",
        _agent_ws(_dead("deactivated"), "former"),
        4401,
        "unauthorized",
    ),
    (
        "agent, deactivated, no conversation",
        _agent_ws(_dead("deactivated"), None),
        4401,
        "unauthorized",
    ),
    ("agent, forged with another key", _agent_ws(_dead("other_key")), 4401, "unauthorized"),
    ("agent, forged alg none", _agent_ws(_dead("alg_none")), 4401, "unauthorized"),
    ("agent, forged HS512", _agent_ws(_dead("hs512")), 4401, "unauthorized"),
    (
        "agent, the server's key, never issued",
        _agent_ws(_dead("never_issued")),
        4401,
        "unauthorized",
    ),
    ("agent, tampered subject", _agent_ws(_dead("tampered")), 4401, "unauthorized"),
    ("agent, borrowed token id", _agent_ws(_dead("borrowed_jti")), 4401, "unauthorized"),
    # An agent that is alive, naming a conversation it may not read.
    (
        "agent, another agent's AGENT chat",
        _agent_ws(lambda w: w.accounts["bob"].token),
        4403,
        "forbidden",
    ),
    (
        "agent, another agent's closed chat",
        _agent_ws(lambda w: w.accounts["bob"].token, "closed"),
        4403,
        "forbidden",
    ),
]


@pytest.mark.parametrize(
    ("case", "close_code", "error_code"),
    [pytest.param(case, close, code, id=name) for name, case, close, code in WS_CASES],
)
def test_a_refused_handshake_is_one_error_its_close_code_and_shows_nothing(
    world: World, case: Callable[[World], str], close_code: int, error_code: str
) -> None:
    url = case(world)
    frames, code = run(refused(url))
    assert [frame["type"] for frame in frames] == ["system.error"], frames
    [error] = frames
    assert_envelope(error)
    assert error["conversation_id"] is None
    assert set(error["data"]) == {"code", "message"}
    assert error["data"]["code"] == error_code
    assert code == close_code
    assert_nothing_shown(world, json.dumps(frames), "the handshake's system.error")


# -- the WebSocket after the handshake --------------------------------------------------


async def _error(client: WsClient, frame: dict[str, Any], code: str) -> None:
    await client.send(frame)
    error = await client.next_frame("system.error")
    assert error["data"]["code"] == code, error
    await client.ping()  # the connection stays open


def test_subscribe_and_typing_where_an_agent_may_not_see_are_refused_and_stay_silent(
    world: World,
) -> None:
    held, closed = world.conversations["held"], world.conversations["closed"]
    session = world.sessions["held"]
    alice, bob = world.accounts["alice"], world.accounts["bob"]

    async def scenario() -> None:
        async with (
            rest(world.url) as http,
            connect(agent_url(world.url, bob.token), name="bob") as snoop,
            connect(customer_url(world.url, held, session), name="customer") as customer,
        ):
            await snoop.next_frame("system.connected")
            await customer.next_frame("system.subscribed")
            for conversation_id in (held, closed):
                await _error(
                    snoop, {"type": "subscribe", "conversation_id": conversation_id}, "forbidden"
                )
                await _error(
                    snoop,
                    {"type": "typing", "conversation_id": conversation_id, "is_typing": True},
                    "forbidden",
                )
            # Life goes on in the held chat; none of it reaches Bob.
            await customer.send({"type": "typing", "is_typing": True})
            await say(http, Chat(session, held), "zelda-second-private-words")
            await agent_says(http, alice.token, held, "alicia-second-private-answer")
            await customer.next_frame(
                "message.created", where=_body("alicia-second-private-answer")
            )
            await snoop.expect_nothing_more(conversation_id=held)
            await snoop.expect_nothing_more(
                "system.subscribed", "customer.typing", "message.created"
            )
            await customer.expect_nothing_more("agent.typing")
            for text in snoop.texts:
                for secret in ("zelda-second-private-words", "alicia-second-private-answer"):
                    assert secret not in text, text

    run(scenario())


def _body(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame["data"].get("body") == text


def test_an_agent_watching_the_bots_chat_stops_hearing_it_once_another_agent_holds_it(
    world: World,
) -> None:
    """Any agent may read (and subscribe to) what the bot holds; once the chat goes to
    an agent, the others may not read it over REST, so their subscription ends too: a
    ``system.unsubscribed`` after the status change, then nothing of that chat. Admins,
    who may read everything, stay subscribed; the new holder hears it as holder."""
    alice, bob, admin = world.accounts["alice"], world.accounts["bob"], world.accounts["admin"]

    async def scenario() -> None:
        async with rest(world.url) as http:
            chat = await start_chat(http, display_name="Wanda Watched")
            session, x = chat.session_id, chat.conversation_id
            async with (
                connect(agent_url(world.url, alice.token), name="alice") as holder,
                connect(agent_url(world.url, bob.token, conversation_id=x), name="bob") as watcher,
                connect(agent_url(world.url, admin.token, conversation_id=x), name="admin") as boss,
                connect(customer_url(world.url, x, session), name="customer") as customer,
            ):
                await holder.next_frame("system.connected")
                for client in (watcher, boss, customer):
                    await client.next_frame("system.subscribed", conversation_id=x)
                await set_presence(http, alice.token, "online")
                await escalate(http, Chat(session, x))
                # Bob hears of the change of status, as every agent does, then is let go.
                updated = await watcher.next_frame("conversation.updated", conversation_id=x)
                assert updated["data"]["status"] == "agent"
                gone = await watcher.next_frame("system.unsubscribed", conversation_id=x)
                assert gone["data"] == {"conversation_id": x}
                # REST agrees: Bob may no longer read it.
                refused_read = await http.get(
                    f"/api/v1/agent/conversations/{x}/messages", headers=bob.headers
                )
                error_of(refused_read, 403, "forbidden")

                await customer.send({"type": "typing", "is_typing": True})
                await say(http, Chat(session, x), "wanda-private-words")
                for client in (holder, boss):
                    await client.next_frame("message.created", where=_body("wanda-private-words"))
                await holder.next_frame("customer.typing", conversation_id=x)
                await watcher.expect_nothing_more(
                    "message.created", "customer.typing", "chat.closed"
                )
                await boss.expect_nothing_more("system.unsubscribed")
                for text in watcher.texts:
                    assert "wanda-private-words" not in text
                # Subscribing again is refused while Alice holds it.
                await _error(watcher, {"type": "subscribe", "conversation_id": x}, "forbidden")

    run(scenario())


def test_a_customer_socket_hears_only_its_own_conversation(world: World) -> None:
    """The other customer, connected to its own chat, hears nothing of the held one."""
    held, session = world.conversations["held"], world.sessions["held"]
    other, other_session = world.conversations["other"], world.sessions["other"]
    alice = world.accounts["alice"]
    said = ("zelda-third-private-words", "alicia-third-private-answer")

    async def scenario() -> None:
        async with (
            rest(world.url) as http,
            connect(customer_url(world.url, other, other_session), name="other") as stranger,
            connect(customer_url(world.url, held, session), name="owner") as owner,
        ):
            await stranger.next_frame("system.subscribed", conversation_id=other)
            await owner.next_frame("system.subscribed", conversation_id=held)
            await say(http, Chat(session, held), "zelda-third-private-words")
            await agent_says(http, alice.token, held, "alicia-third-private-answer")
            await owner.send({"type": "typing", "is_typing": True})
            await owner.next_frame("message.created", where=_body("alicia-third-private-answer"))
            await stranger.expect_nothing_more(conversation_id=held)
            assert all(f["conversation_id"] in (None, other) for f in stranger.frames)
            # A customer cannot subscribe to anything else.
            await stranger.send({"type": "subscribe", "conversation_id": held})
            error = await stranger.next_frame("system.error")
            assert error["data"]["code"] == "bad_request"
            await stranger.expect_nothing_more(conversation_id=held)
            seen = json.dumps(stranger.frames)
            for secret in (held, session, "Zelda Quartz", "zelda@customer.example", *said):
                assert secret not in seen, f"another customer saw {secret!r}"

    run(scenario())
