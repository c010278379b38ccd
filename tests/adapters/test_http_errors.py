"""The error mapper's corners: every domain error has a status, surprises are a 500 envelope."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.http import create_app
from adapters.http.client import client_address
from adapters.http.cursor import decode_cursor, encode_cursor
from adapters.http.errors import domain_status
from chatcore import errors
from chatcore.ports import ListingCursor
from support.http_contract import error_of
from support.rest import client_of
from support.servers import LiveServer, in_process


def test_every_domain_error_has_a_status_and_code() -> None:
    classes = [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.DomainError) and cls is not errors.DomainError
    ]
    assert len(classes) >= 15
    for cls in classes:
        exc = cls({}) if cls is errors.InvalidInput else cls()
        assert domain_status(exc) is not None, cls.__name__
    assert domain_status(errors.ConversationClosed()) == (409, "invalid_state")
    assert domain_status(errors.AdminOnly()) == (403, "forbidden")
    assert domain_status(errors.FaqNotFound()) == (404, "not_found")
    assert domain_status(errors.NoAgentAvailable()) == (409, "no_agent_available")


async def _boom(request: Request) -> Response:
    raise RuntimeError("a bug, not the client's fault")


def test_an_unexpected_error_is_a_logged_500_envelope_with_cors(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(
        live_server.chatcore.ctx,
        readiness=lambda: True,
        extra_routes=[Route("/api/v1/customer/boom", _boom)],
    )
    with in_process(app) as client:
        with caplog.at_level(logging.ERROR, logger="chatcore.http"):
            response = client.get("/api/v1/customer/boom", headers={"Origin": "https://a.example"})
        error_of(response, 500, "internal_error")
        assert "a bug" not in response.text
        assert response.headers["access-control-allow-origin"] == "https://a.example"
        assert any("Unhandled error" in r.getMessage() for r in caplog.records)
        # The server goes on answering.
        assert client.get("/healthz").json() == {"status": "ok"}


def _not_ready() -> bool:
    return False


def _broken_probe() -> bool:
    raise OSError("disk gone")


@pytest.mark.parametrize("probe", [_not_ready, _broken_probe])
def test_readyz_is_503_when_storage_does_not_answer(
    live_server: LiveServer, probe: Callable[[], bool]
) -> None:
    app = create_app(live_server.chatcore.ctx, readiness=probe)
    with in_process(app) as client:
        error_of(client.get("/readyz"), 503, "unavailable")
        assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_and_healthz_answer_ok(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        assert client.get("/readyz").json() == {"status": "ok"}
        assert client.get("/healthz").json() == {"status": "ok"}


def _request(headers: dict[str, str]) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("10.0.0.9", 5555),
    }
    return Request(scope)


def test_the_client_address_trusts_x_forwarded_for_only_behind_a_proxy() -> None:
    # The client forged "198.51.100.1"; our proxy appended the address it really saw.
    forwarded = _request({"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    assert client_address(forwarded, trust_proxy=True) == "203.0.113.7"
    assert client_address(forwarded, trust_proxy=False) == "10.0.0.9"
    assert client_address(_request({}), trust_proxy=True) == "10.0.0.9"


def test_cursors_round_trip() -> None:
    cursor = ListingCursor(datetime(2026, 11, 25, 21, 49, 26, 123000, tzinfo=UTC), "abc")
    assert decode_cursor(encode_cursor(cursor)) == cursor
