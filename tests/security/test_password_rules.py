"""Guessable agent passwords: a real ``chatcore serve`` refuses them wherever one is set.

An agent's account reads every chat, so a password a guesser tries first (a common
one, blanks, control characters that only a script can type) is refused with 400 and
``fields`` naming the password, at the first registration, when an admin hires, and
at a password change.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.http_contract import error_of
from support.rest import AGENT, PASSWORD, expect, first_admin, hire
from support.serve_process import chatcore_serve

GUESSABLE = {
    "common": "1234567890",
    "common, in capitals": "PASSWORD123",
    "blank": " " * 10,
    "NUL bytes": "\x00" * 10,
    "a control character": "a fine secret\x07",
}
GOOD = "tangerine umbrella 1984 sideways"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    env = {
        "CHATCORE_DATABASE": str(tmp_path / "chat.db"),
        "CHATCORE_BCRYPT_ROUNDS": "4",
        "CHATCORE_RATE_LIMITS": "off",
    }
    with (
        chatcore_serve(env, log=tmp_path / "serve.log") as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def _refused(response: httpx.Response, field: str, what: str) -> None:
    error = error_of(response, 400, "validation_error")
    assert set(error["fields"]) == {field}, f"{what}: {error}"


def test_the_first_registration_refuses_guessable_passwords(client: httpx.Client) -> None:
    for what, password in GUESSABLE.items():
        body = {"email": "ada@example.com", "password": password, "display_name": "Ada"}
        _refused(client.post(f"{AGENT}/register", json=body), "password", what)
    admin = first_admin(client, email="ada@example.com", password=GOOD)
    assert admin.agent["role"] == "admin"


def test_an_admin_cannot_hire_with_a_guessable_password(client: httpx.Client) -> None:
    admin = first_admin(client)
    for what, password in GUESSABLE.items():
        body = {"email": "bo@example.com", "password": password, "display_name": "Bo"}
        _refused(
            client.post(f"{AGENT}/register", json=body, headers=admin.headers), "password", what
        )
    hired = hire(client, admin, email="bo@example.com", password=GOOD)
    assert hired.agent["role"] == "agent"


def test_a_password_change_refuses_guessable_passwords(client: httpx.Client) -> None:
    admin = first_admin(client)
    for what, password in GUESSABLE.items():
        change = {"current_password": PASSWORD, "new_password": password}
        response = client.post(f"{AGENT}/password", json=change, headers=admin.headers)
        _refused(response, "new_password", what)
    # Nothing changed: the old password still logs in, then the good one replaces it.
    expect(
        client.post(f"{AGENT}/auth/login", json={"email": admin.email, "password": PASSWORD}), 200
    )
    change = {"current_password": PASSWORD, "new_password": GOOD}
    expect(client.post(f"{AGENT}/password", json=change, headers=admin.headers), 204)
    expect(client.post(f"{AGENT}/auth/login", json={"email": admin.email, "password": GOOD}), 200)
