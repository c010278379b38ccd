"""CORS: the widget's endpoints answer any origin, the console's only configured ones."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from support.http_contract import error_of
from support.rest import AGENT, CUSTOMER, client_of, expect, first_admin, start_chat
from support.servers import LiveServer

WIDGET_SITE = "https://shop.example.org"
CONSOLE = "https://console.example.com"


def _preflight(
    client: httpx.Client, path: str, origin: str, method: str = "POST", headers: str = ""
) -> httpx.Response:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=asked)


def _listed(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",")}


def test_customer_preflight_from_any_origin(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        for origin in (WIDGET_SITE, "http://localhost:3000", "null"):
            response = _preflight(
                client,
                f"{CUSTOMER}/conversations/abc/messages",
                origin,
                headers="content-type,x-customer-session-id",
            )
            assert response.status_code == 204, response.text
            assert response.headers["access-control-allow-origin"] == origin
            assert {"content-type", "x-customer-session-id"} <= _listed(
                response.headers["access-control-allow-headers"]
            )
            assert {"get", "post"} <= _listed(response.headers["access-control-allow-methods"])
            assert int(response.headers["access-control-max-age"]) > 0
            assert "origin" in _listed(response.headers["vary"])


def test_customer_answers_and_errors_carry_cors_headers(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        origin = {"Origin": WIDGET_SITE}
        questions = client.get(f"{CUSTOMER}/quick-questions", headers=origin)
        expect(questions, 200)
        assert questions.headers["access-control-allow-origin"] == WIDGET_SITE
        assert "origin" in _listed(questions.headers["vary"])
        chat = start_chat(client)
        missing = client.get(f"{CUSTOMER}/conversations/nope", headers={**origin, **chat.headers})
        error_of(missing, 404, "not_found")
        assert missing.headers["access-control-allow-origin"] == WIDGET_SITE
        headers = {**origin, **chat.headers, "Content-Type": "application/json"}
        bad = client.post(f"{chat.path}/messages", content=b"{", headers=headers)
        error_of(bad, 400, "validation_error")
        assert bad.headers["access-control-allow-origin"] == WIDGET_SITE


def test_agent_paths_refuse_other_origins_by_default(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        admin = first_admin(client)
        refused = _preflight(client, f"{AGENT}/auth/login", WIDGET_SITE)
        error_of(refused, 403, "forbidden")
        assert "access-control-allow-origin" not in refused.headers
        # A request that skips the preflight is answered but without CORS headers, so a
        # browser on another site cannot read it.
        me = client.get(f"{AGENT}/me", headers={"Origin": WIDGET_SITE, **admin.headers})
        expect(me, 200)
        assert "access-control-allow-origin" not in me.headers
        refused_setup = _preflight(client, "/api/v1/setup", WIDGET_SITE, method="GET")
        error_of(refused_setup, 403, "forbidden")


def test_agent_paths_answer_configured_origins(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server(allowed_origins=(CONSOLE,))
    with client_of(server) as client:
        admin = first_admin(client)
        allowed = _preflight(
            client, f"{AGENT}/conversations", CONSOLE, "GET", headers="authorization"
        )
        assert allowed.status_code == 204, allowed.text
        assert allowed.headers["access-control-allow-origin"] == CONSOLE
        assert "authorization" in _listed(allowed.headers["access-control-allow-headers"])
        assert {"get", "post", "put", "delete"} <= _listed(
            allowed.headers["access-control-allow-methods"]
        )
        me = client.get(f"{AGENT}/me", headers={"Origin": CONSOLE, **admin.headers})
        expect(me, 200)
        assert me.headers["access-control-allow-origin"] == CONSOLE
        denied = client.get(f"{AGENT}/me", headers={"Origin": CONSOLE})
        error_of(denied, 401, "unauthorized")
        assert denied.headers["access-control-allow-origin"] == CONSOLE
        error_of(_preflight(client, f"{AGENT}/me", WIDGET_SITE, "GET"), 403, "forbidden")
        # The widget's endpoints still answer everyone.
        assert _preflight(client, f"{CUSTOMER}/quick-questions", WIDGET_SITE).status_code == 204


def test_requests_without_an_origin_are_untouched(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        response = client.get(f"{CUSTOMER}/quick-questions")
        expect(response, 200)
        assert "access-control-allow-origin" not in response.headers
        # An OPTIONS that is not a preflight is just a method the route does not have.
        error_of(client.options(f"{CUSTOMER}/quick-questions"), 405, "method_not_allowed")
