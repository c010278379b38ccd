"""Which ``Host`` values the allowed-hosts list admits (the refusals themselves are
proved against a real server in tests/security/test_host_header.py)."""

from __future__ import annotations

import pytest

from adapters.http.hosts import AllowedHosts


async def _app(scope: object, receive: object, send: object) -> None:
    raise AssertionError("not called here")


@pytest.mark.parametrize(
    ("host", "admitted"),
    [
        ("chat.example.com", True),
        ("CHAT.example.com:8443", True),
        ("help.example.org", True),
        ("a.b.example.org:80", True),
        ("example.org", False),  # the wildcard is for names under it
        ("evilexample.org", False),
        ("[::1]:8000", True),
        ("127.0.0.1:9", True),
        ("chat.example.com.evil.example", False),
        ("evil.example", False),
        ("", False),
    ],
)
def test_names_ports_and_wildcards(host: str, admitted: bool) -> None:
    hosts = AllowedHosts(
        _app, allowed_hosts=["chat.example.com", "*.example.org", "::1", "127.0.0.1"]
    )
    assert hosts.admits(host) is admitted


def test_a_star_admits_any_name() -> None:
    assert AllowedHosts(_app, allowed_hosts=["*"]).admits("anything.example")
