"""Every validation limit, the body framing rules, 413, and the envelope on routing errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.http_contract import error_of, fields_of
from support.rest import ADMIN, AGENT, CUSTOMER, Chat, client_of, expect, first_admin, start_chat
from support.servers import LiveServer

LIMIT = 64 * 1024


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with client_of(live_server) as client:
        yield client


@pytest.fixture
def chat(client: httpx.Client) -> Chat:
    return start_chat(client)


@pytest.fixture
def admin_headers(client: httpx.Client) -> dict[str, str]:
    return first_admin(client).headers


def _post_message(client: httpx.Client, chat: Chat, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"{chat.path}/messages", json=body, headers=chat.headers)


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({"body": ""}, {"body": "must not be empty"}),
        ({"body": "x" * 4001}, {"body": "must be at most 4000 characters"}),
        ({"body": " \n\t "}, {"body": "must not be only whitespace"}),
        ({"body": 5}, {"body": "must be a string"}),
        ({"body": None}, {"body": "must be a string"}),
        ({}, {"body": "is required"}),
        ({"body": "hi", "client_message_id": ""}, {"client_message_id": "must not be empty"}),
        (
            {"body": "hi", "client_message_id": "x" * 129},
            {"client_message_id": "must be at most 128 characters"},
        ),
        ({"body": "hi", "extra": 1}, {"extra": "unknown field"}),
        (
            {"body": "", "client_message_id": "", "sender": "me"},
            {
                "body": "must not be empty",
                "client_message_id": "must not be empty",
                "sender": "unknown field",
            },
        ),
    ],
)
def test_message_body_limits(
    client: httpx.Client, chat: Chat, body: dict[str, Any], problems: dict[str, str]
) -> None:
    assert fields_of(_post_message(client, chat, body)) == problems


def test_message_limits_are_inclusive(client: httpx.Client, chat: Chat) -> None:
    longest = {"body": "é" * 4000, "client_message_id": "k" * 128}
    answer = expect(_post_message(client, chat, longest), 201)
    assert answer["message"]["body"] == "é" * 4000  # characters, not bytes
    expect(_post_message(client, chat, {"body": "x", "client_message_id": None}), 201)


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({"display_name": "x" * 81}, {"display_name": "must be at most 80 characters"}),
        ({"display_name": ""}, {"display_name": "must not be empty"}),
        ({"display_name": "   "}, {"display_name": "must not be only whitespace"}),
        ({"email": "nope"}, {"email": "must be a valid email address"}),
        ({"email": "a@b"}, {"email": "must be a valid email address"}),
        ({"email": "a b@c.de"}, {"email": "must be a valid email address"}),
        ({"email": "a@" + "b" * 250 + ".de"}, {"email": "must be at most 254 characters"}),
    ],
)
def test_start_limits(client: httpx.Client, body: dict[str, Any], problems: dict[str, str]) -> None:
    assert fields_of(client.post(f"{CUSTOMER}/conversations/start", json=body)) == problems


def test_start_accepts_the_longest_name(client: httpx.Client) -> None:
    body = {"display_name": "n" * 80}
    started = expect(client.post(f"{CUSTOMER}/conversations/start", json=body), 201)
    assert started["conversation"]["customer"]["display_name"] == "n" * 80


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"password": "p" * 9}, {"password": "must be at least 10 characters"}),
        ({"password": "p" * 129}, {"password": "must be at most 128 characters"}),
        ({"email": "nobody"}, {"email": "must be a valid email address"}),
        ({"display_name": "d" * 81}, {"display_name": "must be at most 80 characters"}),
        ({"role": "owner"}, {"role": "must be one of: admin, agent"}),
        (
            {"email": "x", "password": "short", "display_name": "", "nickname": "x"},
            {
                "email": "must be a valid email address",
                "password": "must be at least 10 characters",
                "display_name": "must not be empty",
                "nickname": "unknown field",
            },
        ),
    ],
)
def test_register_limits(
    client: httpx.Client,
    admin_headers: dict[str, str],
    changes: dict[str, Any],
    problems: dict[str, str],
) -> None:
    body = {"email": "new@example.com", "password": "p" * 10, "display_name": "New", **changes}
    response = client.post(f"{AGENT}/register", json=body, headers=admin_headers)
    assert fields_of(response) == problems


def test_register_accepts_passwords_of_10_and_128(
    client: httpx.Client, admin_headers: dict[str, str]
) -> None:
    for n, length in enumerate((10, 128)):
        body = {"email": f"p{n}@example.com", "password": "p" * length, "display_name": "P"}
        expect(client.post(f"{AGENT}/register", json=body, headers=admin_headers), 201)


FAQ = {"slug": "ok-slug", "question": "Q?", "answer": "A."}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "a--b"}, "slug"),
        ({"slug": "-a"}, "slug"),
        ({"slug": "a" * 65}, "slug"),
        ({"question": "q" * 201}, "question"),
        ({"question": ""}, "question"),
        ({"answer": "a" * 4001}, "answer"),
        ({"answer": "  "}, "answer"),
        ({"position": -1}, "position"),
        ({"position": 1.5}, "position"),
        ({"position": True}, "position"),
        ({"position": 10**30}, "position"),
    ],
)
def test_faq_limits(
    client: httpx.Client, admin_headers: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    response = client.post(f"{ADMIN}/faqs", json={**FAQ, **changes}, headers=admin_headers)
    assert set(fields_of(response)) == {field}


def test_faq_limits_are_inclusive(client: httpx.Client, admin_headers: dict[str, str]) -> None:
    body = {"slug": "a" * 64, "question": "q" * 200, "answer": "a" * 4000, "position": 0}
    expect(client.post(f"{ADMIN}/faqs", json=body, headers=admin_headers), 201)
    assert fields_of(
        client.put(f"{ADMIN}/faqs/{'a' * 64}", json={"question": ""}, headers=admin_headers)
    ) == {"question": "must not be empty"}
    slug_field = client.post(f"{ADMIN}/faqs", json={**FAQ, "slug": "Nope"}, headers=admin_headers)
    assert "hyphens" in fields_of(slug_field)["slug"]


@pytest.mark.parametrize(
    ("params", "problems"),
    [
        ({"limit": 0}, {"limit": "must be at least 1"}),
        ({"limit": 501}, {"limit": "must be at most 500"}),
        ({"after_seq": -1}, {"after_seq": "must be at least 0"}),
        ({"after_seq": "abc"}, {"after_seq": "must be an integer"}),
        ({"after_seq": 2**64}, {"after_seq": "must be at most 9007199254740991"}),
        (
            {"limit": "", "after_seq": "1.5"},
            {"limit": "must be an integer", "after_seq": "must be an integer"},
        ),
    ],
)
def test_message_query_limits(
    client: httpx.Client, chat: Chat, params: dict[str, Any], problems: dict[str, str]
) -> None:
    response = client.get(f"{chat.path}/messages", params=params, headers=chat.headers)
    assert fields_of(response) == problems


def test_message_query_accepts_500_and_ignores_unknown_parameters(
    client: httpx.Client, chat: Chat
) -> None:
    params: dict[str, str | int] = {"limit": 500, "after_seq": 0, "_": "cache-buster"}
    page = expect(client.get(f"{chat.path}/messages", params=params, headers=chat.headers), 200)
    assert len(page["items"]) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "open"}, "status"),
        ({"status": ""}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "!!!!"}, "cursor"),
        ({"cursor": "bm90LWEtZGF0ZXxpZA"}, "cursor"),  # base64 of "not-a-date|id"
    ],
)
def test_listing_query_limits(
    client: httpx.Client, admin_headers: dict[str, str], params: dict[str, Any], field: str
) -> None:
    response = client.get(f"{AGENT}/conversations", params=params, headers=admin_headers)
    assert set(fields_of(response)) == {field}


@pytest.mark.parametrize(
    "raw",
    [b"{bad json", b"[1, 2]", b'"body"', b"42", b"null", b"[" * 60000, b"\xff\xfe"],
)
def test_bodies_that_are_not_json_objects_are_400_without_fields(
    client: httpx.Client, chat: Chat, raw: bytes
) -> None:
    headers = {**chat.headers, "Content-Type": "application/json"}
    response = client.post(f"{chat.path}/messages", content=raw, headers=headers)
    error = error_of(response, 400, "validation_error")
    assert "fields" not in error


@pytest.mark.parametrize("declared", [None, "text/plain", "application/jsonx", "text/json"])
def test_a_body_not_declared_json_is_415_where_400_would_be(
    client: httpx.Client, chat: Chat, declared: str | None
) -> None:
    typed = {"Content-Type": declared} if declared else {}
    valid = json.dumps({"body": "hello"}).encode()
    response = client.post(
        f"{chat.path}/messages", content=valid, headers={**chat.headers, **typed}
    )
    error_of(response, 415, "unsupported_media_type")
    # After 401: an agent endpoint without a token says so first.
    unauthenticated = client.post(f"{AGENT}/presence", content=b"{", headers=typed)
    error_of(unauthenticated, 401, "unauthorized")
    charset = {**chat.headers, "Content-Type": "Application/JSON; charset=UTF-8"}
    expect(client.post(f"{chat.path}/messages", content=valid, headers=charset), 201)


def test_a_required_body_that_is_missing_is_400(client: httpx.Client, chat: Chat) -> None:
    response = client.post(f"{chat.path}/messages", headers=chat.headers)
    assert "fields" not in error_of(response, 400, "validation_error")


def _padded(size: int) -> bytes:
    """A valid message body of exactly ``size`` bytes (JSON allows trailing whitespace)."""
    raw = json.dumps({"body": "hello"}).encode()
    return raw + b" " * (size - len(raw))


def test_64_kib_is_accepted_one_byte_more_is_413(client: httpx.Client, chat: Chat) -> None:
    path = f"{chat.path}/messages"
    headers = {**chat.headers, "Content-Type": "application/json"}
    expect(client.post(path, content=_padded(LIMIT), headers=headers), 201)
    error_of(
        client.post(path, content=_padded(LIMIT + 1), headers=headers),
        413,
        "payload_too_large",
    )


def test_a_chunked_body_over_64_kib_is_413(client: httpx.Client, chat: Chat) -> None:
    def chunks() -> Iterator[bytes]:
        body = _padded(LIMIT + 1)
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = client.post(f"{chat.path}/messages", content=chunks(), headers=chat.headers)
    assert response.request.headers.get("transfer-encoding") == "chunked"
    error_of(response, 413, "payload_too_large")
    # The connection is still good for the next request.
    expect(client.get(chat.path, headers=chat.headers), 200)


def test_unknown_routes_are_404_envelopes(client: httpx.Client) -> None:
    for path in ("/nope", "/api/v1/nope", f"{CUSTOMER}/conversations", f"{AGENT}/me/extra"):
        error_of(client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", f"{CUSTOMER}/quick-questions", {"GET", "HEAD"}),
        ("PUT", f"{ADMIN}/faqs", {"GET", "HEAD", "POST"}),
        ("GET", f"{ADMIN}/agents/x/deactivate", {"POST"}),
        ("POST", "/healthz", {"GET", "HEAD"}),
        ("PATCH", f"{ADMIN}/faqs/some-slug", {"PUT", "DELETE"}),
    ],
)
def test_wrong_methods_are_405_envelopes_with_allow(
    client: httpx.Client, method: str, path: str, allowed: set[str]
) -> None:
    response = client.request(method, path)
    error_of(response, 405, "method_not_allowed")
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


def test_odd_ids_and_headers_are_never_a_500(client: httpx.Client, chat: Chat) -> None:
    odd = ["%00", "x" * 5000, "%F0%9F%98%80", "..%2F..%2Fetc"]
    for conversation_id in odd:
        response = client.get(f"{CUSTOMER}/conversations/{conversation_id}", headers=chat.headers)
        error_of(response, 404, "not_found")
    foreign = client.get(
        chat.path, headers={b"X-Customer-Session-Id": "\xe9t\xe9".encode("latin-1")}
    )
    error_of(foreign, 403, "forbidden")
    error_of(
        client.post(f"{chat.path}/quick-replies/{'z' * 3000}", headers=chat.headers),
        404,
        "not_found",
    )
