"""Rate limits over real HTTP: conversation starts, customer writes, failed logins.

Servers here turn the limits on with small numbers (``limits=Limits(...)``) and
trust X-Forwarded-For, so one test client can be several addresses. Over a limit
the answer is the contract's 429 envelope with a whole-seconds ``Retry-After``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.ratelimit import Limit, Limits
from support.rest import PASSWORD, customer_headers, expect, first_admin, start_conversation
from support.servers import LiveServer

LOGIN = "/api/v1/agent/auth/login"
START = "/api/v1/customer/conversations/start"
DANA = {"X-Forwarded-For": "198.51.100.7"}
SAM = {"X-Forwarded-For": "203.0.113.9"}


def _server(make_server: Callable[..., LiveServer], **limits: Any) -> LiveServer:
    return make_server(rate_limits=True, trust_proxy=True, limits=Limits(**limits))


def _limited(response: httpx.Response) -> int:
    """The 429 envelope, exactly; returns its Retry-After."""
    assert response.status_code == 429, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["message"]
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert int(retry_after) >= 1
    return int(retry_after)


def _start(client: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    return client.post(START, headers=headers)


def _log_in(
    client: httpx.Client, email: str, password: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.post(LOGIN, json={"email": email, "password": password}, headers=headers)


def test_the_start_over_the_limit_is_a_429_and_another_address_is_not_affected(
    make_server: Callable[..., LiveServer],
) -> None:
    server = _server(make_server, conversation_starts=Limit("starts", 3, 60.0))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(3):
            expect(_start(client, DANA), 201)
        assert _limited(_start(client, DANA)) == 20  # one back every 60 / 3 s
        expect(_start(client, SAM), 201)
        # Only the proxy's last hop counts: a hop the client wrote itself changes nothing.
        spoofed = {"X-Forwarded-For": "192.0.2.1, 198.51.100.7"}
        _limited(_start(client, spoofed))
        # Refused starts made nothing.
        assert _limited(_start(client, DANA)) == 20


def test_customer_writes_are_limited_per_session(make_server: Callable[..., LiveServer]) -> None:
    server = _server(make_server, customer_writes=Limit("writes", 3, 60.0))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        session, conversation = start_conversation(client)
        chat = f"/api/v1/customer/conversations/{conversation['id']}"
        mine = customer_headers(session)
        for n in range(2):
            body = {"body": f"hello {n}", "client_message_id": f"m-{n}"}
            expect(client.post(chat + "/messages", json=body, headers=mine), 201)
        expect(client.post(chat + "/quick-replies/track-order", headers=mine), 201)
        # Messages, quick replies and escalations share one allowance.
        body = {"body": "one more", "client_message_id": "m-9"}
        _limited(client.post(chat + "/messages", json=body, headers=mine))
        _limited(client.post(chat + "/quick-replies/track-order", headers=mine))
        _limited(client.post(chat + "/escalate", headers=mine))
        # Reading is not limited; another customer is not affected.
        expect(client.get(chat + "/messages", headers=mine), 200)
        other, theirs = start_conversation(client)
        path = f"/api/v1/customer/conversations/{theirs['id']}/messages"
        body = {"body": "hi", "client_message_id": "x"}
        expect(client.post(path, json=body, headers=customer_headers(other)), 201)
        # Stored: exactly what was allowed (greeting, 2 messages, a quick reply and its answer).
        listed = expect(client.get(chat + "/messages", headers=mine), 200)
        assert [m["sender"]["type"] for m in listed["items"]].count("customer") == 3


def test_failed_logins_per_email_lock_for_at_most_the_window(
    make_server: Callable[..., LiveServer],
) -> None:
    # Three failures, then one back every 2 s: a window short enough to wait out.
    server = _server(
        make_server,
        login_failures_per_email=Limit("login-email", 3, 6.0),
        login_failures_per_address=Limit("login-address", 100, 60.0),
    )
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        for _ in range(3):
            expect(_log_in(client, admin.email, "wrong password!", DANA), 401)
        # Locked for that email from every address, the right password included: it is
        # not even checked.
        _limited(_log_in(client, admin.email, PASSWORD, SAM))
        retry_after = _limited(_log_in(client, admin.email.upper(), PASSWORD, DANA))
        assert retry_after <= 2
        # The real agent waits the Retry-After it was given, then gets in.
        time.sleep(retry_after)
        expect(_log_in(client, admin.email, PASSWORD, SAM), 200)


def test_an_agent_at_a_known_address_is_never_locked_out_by_failures_elsewhere(
    make_server: Callable[..., LiveServer],
) -> None:
    server = _server(
        make_server,
        login_failures_per_email=Limit("login-email", 3, 600.0),
        login_failures_per_known_address=Limit("login-pair", 2, 600.0),
    )
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        expect(_log_in(client, admin.email, PASSWORD, SAM), 200)  # SAM: known from now on
        for _ in range(3):
            expect(_log_in(client, admin.email, "wrong password!", DANA), 401)
        _limited(_log_in(client, admin.email, PASSWORD, DANA))  # the guesser is locked out
        _limited(_log_in(client, admin.email, PASSWORD, {"X-Forwarded-For": "192.0.2.1"}))
        # The agent, at her own address, gets in as often as she likes: nobody else's
        # failures count there, and her success does not hand the guesser a new allowance.
        for _ in range(3):
            expect(_log_in(client, admin.email, PASSWORD, SAM), 200)
        _limited(_log_in(client, admin.email, "wrong password!", DANA))
        # Failures at the known address itself still count, against that address.
        for _ in range(2):
            expect(_log_in(client, admin.email, "wrong password!", SAM), 401)
        _limited(_log_in(client, admin.email, PASSWORD, SAM))


def test_a_refused_login_does_not_tell_whether_the_email_exists(
    make_server: Callable[..., LiveServer],
) -> None:
    server = _server(make_server, login_failures_per_email=Limit("login-email", 2, 600.0))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        answers: dict[str, list[Any]] = {}
        for email in (admin.email, "nobody@example.com"):
            got = [_log_in(client, email, "wrong password!", DANA) for _ in range(4)]
            answers[email] = [(r.status_code, r.json(), r.headers.get("Retry-After")) for r in got]
        assert answers[admin.email] == answers["nobody@example.com"]
        assert [status for status, _, _ in answers[admin.email]] == [401, 401, 429, 429]


def test_failed_logins_per_address_lock_that_address_only(
    make_server: Callable[..., LiveServer],
) -> None:
    server = _server(make_server, login_failures_per_address=Limit("login-address", 3, 60.0))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        for n in range(3):
            expect(_log_in(client, f"guess-{n}@example.com", "wrong password!", DANA), 401)
        assert _limited(_log_in(client, admin.email, PASSWORD, DANA)) == 20
        expect(_log_in(client, admin.email, PASSWORD, SAM), 200)


def test_successful_logins_are_not_counted(make_server: Callable[..., LiveServer]) -> None:
    server = _server(
        make_server,
        login_failures_per_email=Limit("login-email", 2, 600.0),
        login_failures_per_address=Limit("login-address", 2, 600.0),
    )
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        for _ in range(6):
            expect(_log_in(client, admin.email, PASSWORD, DANA), 200)
        expect(_log_in(client, admin.email, "wrong password!", DANA), 401)
        expect(_log_in(client, admin.email, PASSWORD, DANA), 200)


def test_rate_limits_off_lifts_them_all(make_server: Callable[..., LiveServer]) -> None:
    tiny = Limit("starts", 1, 600.0)
    server = make_server(rate_limits=False, limits=Limits(conversation_starts=tiny))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(5):
            expect(_start(client, {}), 201)
        for _ in range(12):
            expect(_log_in(client, "nobody@example.com", "wrong password!"), 401)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", START),
        ("post", "/api/v1/customer/conversations/{id}/messages"),
        ("post", "/api/v1/customer/conversations/{id}/quick-replies/{faq_slug}"),
        ("post", "/api/v1/customer/conversations/{id}/escalate"),
        ("post", LOGIN),
    ],
)
def test_the_api_document_names_the_429(live_server: LiveServer, method: str, path: str) -> None:
    document = httpx.get(live_server.url + "/api/v1/openapi.json", timeout=30).json()
    responses = document["paths"][path][method]["responses"]
    assert "429" in responses
    assert responses["429"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
