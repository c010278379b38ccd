"""Hypothesis fuzzes the WebSocket's client frames, over a real socket, as a customer and an agent.

Each example sends one frame (arbitrary text, arbitrary JSON, near-valid frames with
wrong fields or types, huge strings, unicode, deep nesting, binary), then a ``ping``.
Everything the server answered before that ping's ``system.pong`` must be what the
contract says for that frame (docs/realtime.md, "What a client sends"):

- not JSON, not an object, an unknown ``type``, a field missing or of the wrong
  type, binary, a customer's subscribe or unsubscribe: one ``system.error``
  ``bad_request``;
- ``ping``: ``system.pong``; ``unsubscribe``: ``system.unsubscribed``;
- ``subscribe``: ``system.subscribed``, or ``not_found`` / ``forbidden``;
- ``typing``: nothing, or ``not_found`` / ``forbidden`` / ``bad_request`` (an agent's
  without ``conversation_id``);
- over 64 KiB: the connection closes with 1009, and only then is a new one opened.

The socket never closes otherwise (no 1011), nothing is logged as an error, and the
server answers /healthz at the end. The oracle below reads the frame with Python's
own JSON parser and the documented frame shapes, not with the server's decoder.

Every run goes against SQLite and against PostgreSQL, whose text refuses NUL even in
a comparison: the strings the fuzzer makes hold NUL and unpaired surrogates often.

Derandomized by default (the same frames every run); CHATCORE_FUZZ_SEED=<n> explores.
CHATCORE_WS_FUZZ_EXAMPLES=<n> sets the frames per role on SQLite (default 500);
PostgreSQL gets a fifth of them, the same shapes, to keep `make test` short.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from entrypoints.settings import Settings
from support.postgres import scratch_database, url_for
from support.rest import expect, first_admin, go_online, hire, start_conversation
from support.servers import LiveServer, running
from support.ws import agent_url, assert_envelope, customer_url

MAX_FRAME_BYTES = 64 * 1024
MAX_SEQ = 2**53 - 1
RECV_TIMEOUT = 5
EXAMPLES = int(os.environ.get("CHATCORE_WS_FUZZ_EXAMPLES", "500"))
EXAMPLES_BY_STORE = {"sqlite": EXAMPLES, "postgresql": max(1, EXAMPLES // 5)}
SEED = os.environ.get("CHATCORE_FUZZ_SEED")
ERROR_CODES = {"bad_request", "not_found", "forbidden"}  # on a live socket (docs/realtime.md)

Answer = tuple[str, str | None]  # (frame type, system.error code or None)
PONG: Answer = ("system.pong", None)
BAD: Answer = ("system.error", "bad_request")
NOT_FOUND: Answer = ("system.error", "not_found")
FORBIDDEN: Answer = ("system.error", "forbidden")
SUBSCRIBED: Answer = ("system.subscribed", None)
UNSUBSCRIBED: Answer = ("system.unsubscribed", None)
CLOSED_1009: Answer = ("closed", "1009")
CLOSED_ABRUPTLY: Answer = ("closed", "None")


# -- the server, its people, and one connection per role -------------------------------


@dataclass
class Scene:
    server: LiveServer
    held: str  # AGENT, held by the fuzzed agent: its typing is relayed, nothing comes back
    automated: str  # the bot's: the agent may subscribe, not type
    foreign: str  # AGENT, held by another agent: forbidden
    own: str  # the fuzzed customer's conversation
    session: str
    token: str
    examples: int  # frames per role: fewer on PostgreSQL, whose run is slower
    errors: list[logging.LogRecord] = field(default_factory=list)

    def ids(self, role: str) -> list[str]:
        """Each role's own set: an agent subscribed to the customer's conversation would
        get its customer.typing, an answer to no frame of its own."""
        if role == "agent":
            return [self.held, self.automated, self.foreign]
        return [self.own, self.held]


class Peer:
    """One live socket, opened again only when the server has legitimately closed it."""

    def __init__(self, role: str, url: str) -> None:
        self.role = role
        self.url = url
        self._stack = ExitStack()
        self.ws = self._open()

    def _open(self) -> ClientConnection:
        ws = self._stack.enter_context(
            connect(self.url, max_size=None, open_timeout=RECV_TIMEOUT, close_timeout=2)
        )
        greeting = json.loads(ws.recv(timeout=RECV_TIMEOUT))
        assert greeting["type"] == "system.connected", greeting
        if self.role == "customer":
            snapshot = json.loads(ws.recv(timeout=RECV_TIMEOUT))
            assert snapshot["type"] == "system.subscribed", snapshot
        return ws

    def reopen(self) -> None:
        self._stack.close()
        self.ws = self._open()

    def close(self) -> None:
        self._stack.close()


class _Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture(scope="module", params=list(EXAMPLES_BY_STORE))
def scene(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scene]:
    with ExitStack() as stack:
        if request.param == "postgresql":
            database = url_for(stack.enter_context(scratch_database()))
            secret: str | None = "ws-fuzz-" * 5  # PostgreSQL keeps no key file beside it
        else:
            database = str(Path(tmp_path_factory.mktemp("wsfuzz")) / "chatcore.db")
            secret = None
        settings_ = replace(
            Settings(), database=database, secret_key=secret, bcrypt_rounds=4, rate_limits=False
        )
        server = stack.enter_context(running(settings_))
        client = stack.enter_context(httpx.Client(base_url=server.url, timeout=30))
        yield from _populated(server, client, examples=EXAMPLES_BY_STORE[request.param])


def _populated(server: LiveServer, client: httpx.Client, *, examples: int) -> Iterator[Scene]:
    admin = first_admin(client)
    agent = hire(client, admin)
    other = hire(client, admin)
    owner, automated = start_conversation(client)
    foreign = _escalated(client, owner, holder=other)
    held = _escalated(client, owner, holder=agent, before=other)
    session, own = start_conversation(client)
    scene = Scene(server, held, automated["id"], foreign, own["id"], session, agent.token, examples)
    handler = _Collect(scene.errors)
    loggers = [logging.getLogger(name) for name in ("chatcore", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield scene
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def _escalated(client: httpx.Client, session: str, *, holder: Any, before: Any = None) -> str:
    """A conversation of ``session`` escalated while ``holder`` is the only one online."""
    if before is not None:
        expect(
            client.post(
                "/api/v1/agent/presence", json={"presence": "offline"}, headers=before.headers
            ),
            200,
        )
    go_online(client, holder)
    _, conversation = start_conversation(client, session_id=session)
    path = f"/api/v1/customer/conversations/{conversation['id']}/escalate"
    answer = expect(client.post(path, headers={"X-Customer-Session-Id": session}), 200)
    assert answer["assigned_agent"]["id"] == holder.id, answer
    return str(conversation["id"])


@pytest.fixture(scope="module")
def customer(scene: Scene) -> Iterator[Peer]:
    peer = Peer("customer", customer_url(scene.server.url, scene.own, scene.session))
    yield peer
    peer.close()


@pytest.fixture(scope="module")
def agent(scene: Scene) -> Iterator[Peer]:
    peer = Peer("agent", agent_url(scene.server.url, scene.token))
    yield peer
    peer.close()


# -- the oracle: what the contract says a frame gets -----------------------------------


class _Invalid(Exception):
    pass


class _Duplicate(Exception):
    pass


def _no_constants(name: str) -> Any:
    raise _Invalid(name)  # NaN, Infinity: not JSON


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({name for name, _ in pairs}) != len(pairs):
        raise _Duplicate
    return dict(pairs)


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


def _parse(text: str, **hooks: Any) -> Any:
    value = json.loads(text, parse_constant=_no_constants, **hooks)
    if _has_surrogate(value):
        raise _Invalid("a lone surrogate")
    return value


def _is_seq(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEQ


def expected(frame: str | bytes, role: str, scene: Scene) -> set[tuple[Answer, ...]]:
    """The answers the contract allows for one frame (usually exactly one)."""
    size = len(frame) if isinstance(frame, bytes) else len(frame.encode("utf-8", "surrogatepass"))
    if size > MAX_FRAME_BYTES:
        # 1009, or no close frame at all: the server may close before it has read the
        # rest of the frame, and the kernel's reset can take its close frame with it.
        return {(CLOSED_1009,), (CLOSED_ABRUPTLY,)}
    if isinstance(frame, bytes):
        return {(BAD,)}
    try:
        return _for(_parse(frame, object_pairs_hook=_no_duplicates), role, scene)
    except (ValueError, _Invalid):
        return {(BAD,)}
    except _Duplicate:
        # A name given twice: refused, or read the common way (the last one wins).
        try:
            return {(BAD,), *_for(_parse(frame), role, scene)}
        except (ValueError, _Invalid):
            return {(BAD,)}
    except RecursionError:
        # Nested about as deep as Python's recursion limit, here and in the server: no
        # nesting limit is in the contract, so refused or read, both are fine.
        return {(BAD,), (PONG,)} if frame.startswith('{"type": "ping"') else {(BAD,)}


def _for(value: Any, role: str, scene: Scene) -> set[tuple[Answer, ...]]:
    if not isinstance(value, dict):
        return {(BAD,)}
    kind = value.get("type")
    conversation_id = value.get("conversation_id")
    if kind == "ping":
        return {(PONG,)}
    if kind == "subscribe":
        if not isinstance(conversation_id, str) or not _is_seq(value.get("after_seq", 0)):
            return {(BAD,)}
        if role == "customer":
            return {(BAD,)}
        if conversation_id in (scene.held, scene.automated, scene.own):
            return {(SUBSCRIBED,)}  # its own, and the bot's: any agent may read those
        if conversation_id == scene.foreign:
            return {(FORBIDDEN,)}
        return {(NOT_FOUND,)}
    if kind == "unsubscribe":
        if not isinstance(conversation_id, str) or role == "customer":
            return {(BAD,)}
        return {(UNSUBSCRIBED,)}
    if kind == "typing":
        if not isinstance(value.get("is_typing"), bool):
            return {(BAD,)}
        if conversation_id is not None and not isinstance(conversation_id, str):
            return {(BAD,)}
        if role == "customer":
            return {()}
        if conversation_id is None:
            return {(BAD,)}
        if conversation_id == scene.held:
            return {()}
        if conversation_id in (scene.automated, scene.foreign, scene.own):
            return {(FORBIDDEN,)}
        return {(NOT_FOUND,)}
    return {(BAD,)}


# -- sending one frame and reading what it got ----------------------------------------


def exchange(
    peer: Peer, frame: str | bytes, allowed: set[tuple[Answer, ...]]
) -> tuple[Answer, ...]:
    """Send ``frame`` then a ping: what the frame got, the frames before our ping's pong.

    Pongs carry nothing to tell them apart: when the frame itself may be answered with
    a pong, the first pong is the frame's if that is what the contract allows.
    """
    try:
        peer.ws.send(frame)
        peer.ws.send('{"type": "ping"}')
        answers = _until_pong(peer)
        if (*answers, PONG) in allowed:  # that pong answered the frame; ours is next
            assert _until_pong(peer) == (), "frames between two pongs"
            return (*answers, PONG)
        return answers
    except ConnectionClosed as closed:  # only 1009 is allowed; the caller compares
        code = closed.rcvd.code if closed.rcvd is not None else None
        peer.reopen()
        return (("closed", str(code)),)


def _until_pong(peer: Peer) -> tuple[Answer, ...]:
    answers: list[Answer] = []
    while True:
        try:
            text = peer.ws.recv(timeout=RECV_TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"no pong within {RECV_TIMEOUT} s; got {answers}") from None
        assert isinstance(text, str), f"a binary frame from the server: {text!r}"
        received = json.loads(text)
        assert_envelope(received)
        kind = received["type"]
        if kind == "system.pong":
            return tuple(answers)
        code = None
        if kind == "system.error":
            code = received["data"].get("code")
            assert code in ERROR_CODES, received
            assert isinstance(received["data"].get("message"), str), received
            assert received["data"]["message"], received
        answers.append((kind, code))


# -- what the fuzzer sends --------------------------------------------------------------

KINDS = ["ping", "typing", "subscribe", "unsubscribe"]
# Any code point, unpaired surrogates too (st.text() leaves them out), and NUL often:
# PostgreSQL's text refuses both, so each must be refused or found missing before it.
STORE_HOSTILE = ["\x00", "\ud800", "\udfff"]
hostile_text = st.text(
    st.characters(blacklist_categories=()) | st.sampled_from(STORE_HOSTILE), max_size=40
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _nested(opener: str, depth: int, in_ping: bool) -> str:
    inner = opener * depth + ("]" * depth if opener == "[" else "1" + "}" * depth)
    return '{"type": "ping", "x": ' + inner + "}" if in_ping else inner


def _huge(kind: str, char: str, size: int) -> str:
    """A frame of about ``size`` bytes of UTF-8: one long string in it, raw, not escaped."""
    frame = {"type": kind, "conversation_id": "", "is_typing": True}
    overhead = len(json.dumps(frame).encode())
    frame["conversation_id"] = char * max(0, (size - overhead) // len(char.encode()))
    return json.dumps(frame, ensure_ascii=False)


def _one_field_off(frame: dict[str, Any], name: str, value: Any, how: str) -> dict[str, Any]:
    """A valid frame with one thing wrong: a field replaced, dropped, or one more added."""
    frame = dict(frame)
    if how == "drop":
        frame.pop(name, None)
    elif how == "replace":
        frame[name] = value
    else:
        frame[f"{name}_"] = value
    return frame


def _dumped(value: Any, ensure_ascii: bool) -> str:
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    if ensure_ascii or _has_surrogate(text):
        # A surrogate travels only as an escape: a text frame is UTF-8, which cannot hold it.
        return json.dumps(value, ensure_ascii=True)
    return text


def _text(values: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return st.builds(_dumped, values, st.booleans())


def _frames(scene: Scene, role: str) -> st.SearchStrategy[str | bytes]:
    known = st.sampled_from(scene.ids(role))
    ids = (
        known
        | st.uuids().map(str)
        | hostile_text
        | st.builds(
            lambda id_, nul, at: id_[:at] + nul + id_[at:],
            known,
            st.sampled_from(STORE_HOSTILE),
            st.integers(0, 36),
        )
    )
    field_values: st.SearchStrategy[Any] = (
        ids
        | json_values
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.integers(min_value=MAX_SEQ - 2, max_value=2**64 + 2)
        | st.sampled_from([True, False, -1, 0, 1.0, 1e400, "1", "", None, [], {}])
    )
    valid = st.one_of(
        st.just({"type": "ping"}),
        st.builds(
            lambda c, s: {"type": "subscribe", "conversation_id": c, "after_seq": s},
            ids,
            st.integers(0, 10),
        ),
        st.builds(lambda c: {"type": "unsubscribe", "conversation_id": c}, ids),
        st.builds(
            lambda c, t: {"type": "typing", "conversation_id": c, "is_typing": t},
            ids | st.none(),
            st.booleans(),
        ),
        st.builds(lambda t: {"type": "typing", "is_typing": t}, st.booleans()),
    )
    one_off = st.builds(
        _one_field_off,
        valid,
        st.sampled_from(["type", "conversation_id", "after_seq", "is_typing"]),
        field_values,
        st.sampled_from(["replace", "replace", "drop", "extra"]),
    )
    edges = st.sampled_from([-1, 0, MAX_SEQ, MAX_SEQ + 1, 2**63 - 1, 2**63, 2**64, 10**30])
    subscribe_edges = st.builds(
        lambda c, s: {"type": "subscribe", "conversation_id": c, "after_seq": s},
        ids,
        edges | st.integers(),
    )
    any_fields = st.fixed_dictionaries(
        {"type": st.sampled_from(KINDS)},
        optional={
            "conversation_id": field_values,
            "after_seq": field_values,
            "is_typing": field_values,
        },
    )
    wrong_type = st.fixed_dictionaries(
        {"type": json_values | st.sampled_from(["PING", "ping ", "pong", "", "subscribe\x00"])},
        optional={"conversation_id": ids, "is_typing": st.booleans()},
    )
    huge = st.builds(
        _huge,
        st.sampled_from(["subscribe", "unsubscribe", "ping", "typing"]),
        st.sampled_from(["x", "é", "€", "😀"]),
        st.integers(MAX_FRAME_BYTES - 8, MAX_FRAME_BYTES + 8)
        | st.integers(MAX_FRAME_BYTES // 2, MAX_FRAME_BYTES + 1000),
    )
    nested = st.builds(
        _nested,
        st.sampled_from(["[", '{"a": ']),
        st.integers(1, 12_000) | st.integers(800, 1_100),
        st.booleans(),
    )
    mutated = st.builds(
        lambda text, at, junk: text[:at] + junk + text[at + 1 :],
        _text(valid),
        st.integers(0, 120),
        st.text(max_size=3),
    )
    return st.one_of(
        _text(one_off),
        _text(one_off),
        _text(subscribe_edges),
        _text(any_fields),
        _text(valid),
        _text(wrong_type),
        _text(json_values),
        mutated,
        st.text(max_size=200),
        nested,
        huge,
        st.binary(max_size=200),
        st.sampled_from(["", " ", "null", "[]", "{}", "0", '"ping"', '{"type": null}']),
    )


def _fuzz(test: Callable[..., None], examples: int) -> Callable[..., None]:
    fuzzed = settings(
        max_examples=examples,
        deadline=None,
        derandomize=SEED is None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )(test)
    return seed(int(SEED))(fuzzed) if SEED is not None else fuzzed


def _check(peer: Peer, scene: Scene, data: st.DataObject) -> None:
    frame = data.draw(_frames(scene, peer.role), label="frame")
    allowed = expected(frame, peer.role, scene)
    answers = exchange(peer, frame, allowed)
    assert answers in allowed, f"{peer.role} sent {frame!r:.300}: got {answers}, want {allowed}"


def _fuzz_frames(peer: Peer, scene: Scene) -> None:
    @given(data=st.data())
    def one_frame(data: st.DataObject) -> None:
        _check(peer, scene, data)

    _fuzz(one_frame, scene.examples)()


def test_customer_frames(customer: Peer, scene: Scene) -> None:
    _fuzz_frames(customer, scene)


def test_agent_frames(agent: Peer, scene: Scene) -> None:
    _fuzz_frames(agent, scene)


def test_valid_frames_still_work_after_the_junk(customer: Peer, agent: Peer, scene: Scene) -> None:
    assert exchange(customer, '{"type": "ping"}', {(PONG,)}) == (PONG,)
    assert exchange(agent, '{"type": "ping"}', {(PONG,)}) == (PONG,)
    subscribe = json.dumps({"type": "subscribe", "conversation_id": scene.automated})
    assert exchange(agent, subscribe, set()) == (SUBSCRIBED,)
    unknown = json.dumps({"type": "subscribe", "conversation_id": str(uuid.uuid4())})
    assert exchange(agent, unknown, set()) == (NOT_FOUND,)


def test_the_server_is_healthy_and_logged_no_error(scene: Scene) -> None:
    expect(httpx.get(scene.server.url + "/healthz", timeout=30), 200)
    assert not scene.errors, [record.getMessage() for record in scene.errors]
