"""Cross-site form posts: another site's page makes the agent's browser post to chatcore.

A browser sends ``text/plain``, form and multipart bodies to any origin without a
CORS preflight, so a page the agent visits could post a JSON-looking text body to
the login (ten wrong passwords lock the agent out), to the first registration (on
a fresh install, the attacker's admin) or to the customer endpoints. Each such
body is a 415 now, and does nothing. A JSON body from a browser needs the
preflight, which foreign origins fail; login and registration also refuse a
foreign ``Origin`` themselves (403), so that no such request does anything either.

Against a real ``chatcore serve`` with its default rate limits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.rest import AGENT, CUSTOMER, PASSWORD, customer_headers, expect, first_admin
from support.serve_process import chatcore_serve

EVIL = "https://evil.example.net"
CONSOLE = "https://console.example.com"
FAILED_LOGINS_ALLOWED = 10  # per email per 15 minutes (docs/SECURITY.md)
ADMIN = {"email": "admin@example.com", "password": PASSWORD, "display_name": "Ada Admin"}
# What a <form enctype=...> can send: the text one carries a JSON-looking body.
FORM_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[httpx.Client]:
    env = {
        "CHATCORE_DATABASE": str(tmp_path / "chat.db"),
        "CHATCORE_BCRYPT_ROUNDS": "4",
        "CHATCORE_ALLOWED_ORIGINS": CONSOLE,
    }
    with (
        chatcore_serve(env, log=tmp_path / "serve.log") as instance,
        httpx.Client(base_url=instance.url, timeout=30) as client,
    ):
        yield client


def form_post(client: httpx.Client, path: str, body: dict[str, Any], content_type: str) -> Any:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": content_type, "Origin": EVIL}
    return expect(client.post(path, content=raw, headers=headers), 415)


def setup_needed(client: httpx.Client) -> bool:
    return bool(expect(client.get("/api/v1/setup"), 200)["setup_needed"])


def test_a_form_post_cannot_create_the_first_admin(server: httpx.Client) -> None:
    for content_type in FORM_TYPES:
        refused = form_post(server, f"{AGENT}/register", ADMIN, content_type)
        assert refused["error"]["code"] == "unsupported_media_type"
    # No type at all is no better: a body is JSON only when it says so.
    expect(server.post(f"{AGENT}/register", content=json.dumps(ADMIN).encode()), 415)
    assert setup_needed(server)
    # A JSON post from a page of another origin is refused by the server too.
    foreign = server.post(f"{AGENT}/register", json=ADMIN, headers={"Origin": EVIL})
    assert expect(foreign, 403)["error"]["code"] == "forbidden"
    assert setup_needed(server)
    # The real console, same origin, with a charset: it still works.
    own = {
        "Origin": str(server.base_url).rstrip("/"),
        "Content-Type": "application/json; charset=utf-8",
    }
    created = server.post(f"{AGENT}/register", content=json.dumps(ADMIN).encode(), headers=own)
    assert expect(created, 201)["role"] == "admin"
    assert not setup_needed(server)


def test_form_posts_cannot_lock_an_agent_out(server: httpx.Client) -> None:
    admin = first_admin(server)
    wrong = {"email": admin.email, "password": "not the password at all"}
    for attempt in range(FAILED_LOGINS_ALLOWED + 2):
        form_post(server, f"{AGENT}/auth/login", wrong, FORM_TYPES[attempt % len(FORM_TYPES)])
    for _ in range(FAILED_LOGINS_ALLOWED + 2):
        foreign = server.post(f"{AGENT}/auth/login", json=wrong, headers={"Origin": EVIL})
        expect(foreign, 403)
    # None of them counted as a failed login: the agent logs in, from the console too.
    right = {"email": admin.email, "password": admin.password}
    expect(server.post(f"{AGENT}/auth/login", json=right), 200)
    expect(server.post(f"{AGENT}/auth/login", json=right, headers={"Origin": CONSOLE}), 200)


def test_form_posts_do_nothing_on_the_customer_side(server: httpx.Client) -> None:
    admin = first_admin(server)
    started = server.post(f"{CUSTOMER}/conversations/start", json={})
    chat = expect(started, 201)
    session, conversation = chat["customer_session_id"], chat["conversation"]["id"]
    path = f"{CUSTOMER}/conversations/{conversation}/messages"
    for content_type in FORM_TYPES:
        form_post(server, f"{CUSTOMER}/conversations/start", {"display_name": "Eve"}, content_type)
        raw = json.dumps({"body": "sent by another site"}).encode()
        headers = {**customer_headers(session), "Content-Type": content_type, "Origin": EVIL}
        expect(server.post(path, content=raw, headers=headers), 415)
    listed = expect(server.get(f"{AGENT}/conversations", headers=admin.headers), 200)
    assert [item["id"] for item in listed["items"]] == [conversation]
    read = expect(server.get(path, headers=customer_headers(session)), 200)
    assert all("another site" not in m["body"] for m in read["items"])
