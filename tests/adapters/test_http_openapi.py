"""The OpenAPI document: valid 3.1, complete, self-contained, and true to real answers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from adapters.http import ENDPOINTS
from support.rest import (
    ADMIN,
    AGENT,
    CUSTOMER,
    client_of,
    expect,
    first_admin,
    go_online,
    hire,
    say,
    start_chat,
)
from support.servers import LiveServer

OPENAPI = "/api/v1/openapi.json"
METHODS = {"get", "post", "put", "delete", "patch"}


@pytest.fixture
def document(live_server: LiveServer) -> dict[str, Any]:
    with client_of(live_server) as client:
        doc: dict[str, Any] = expect(client.get(OPENAPI), 200)
    return doc


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on anything that is not a valid OpenAPI 3.1 document


def test_every_api_route_is_documented_with_every_method(
    live_server: LiveServer, document: dict[str, Any]
) -> None:
    served: dict[str, set[str]] = {}
    for route in live_server.chatcore.app.routes:
        if isinstance(route, Route) and (
            route.path.startswith("/api/") or route.path in ("/healthz", "/readyz")
        ):
            served[route.path] = {m.lower() for m in route.methods or ()} - {"head"}
    documented = {path: set(item) & METHODS for path, item in document["paths"].items()}
    assert documented == served
    contract = {
        "/api/v1/customer/conversations/{id}/quick-replies/{faq_slug}",
        "/api/v1/agent/conversations/{id}/close",
        "/api/v1/admin/faqs/{slug}",
        "/api/v1/admin/agents/{id}/deactivate",
        "/healthz",
        "/readyz",
        OPENAPI,
    }
    assert contract <= set(documented)
    assert sum(len(methods) for methods in documented.values()) == len(ENDPOINTS) == 27


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    refs = set(_refs(document))
    assert refs, "the document uses components"
    for ref in refs:
        prefix, _, name = ref.rpartition("/")
        assert prefix == "#/components/schemas", ref
        assert name in schemas, ref


def test_operations_declare_parameters_bodies_security_and_error_envelopes(
    document: dict[str, Any],
) -> None:
    ids = set()
    operations = 0
    for path, method, operation in _operations(document):
        ids.add(operation["operationId"])
        operations += 1
        params = {(p["in"], p["name"]): p for p in operation["parameters"]}
        for name in re.findall(r"\{(\w+)\}", path):
            assert params[("path", name)]["required"] is True
        if path.startswith(f"{CUSTOMER}/conversations/{{id}}"):
            assert params[("header", "X-Customer-Session-Id")]["required"] is True
            assert "403" in operation["responses"]
            assert "404" in operation["responses"]
        if path.startswith((f"{AGENT}/conversations", f"{AGENT}/me", ADMIN)):
            assert operation["security"] == [{"bearerAuth": []}]
            assert "401" in operation["responses"]
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)
        if method in ("post", "put") and "requestBody" in operation:
            assert "400" in operation["responses"]
            assert "413" in operation["responses"]
    assert len(ids) == operations, "operation ids are unique"
    register = document["paths"][f"{AGENT}/register"]["post"]
    assert register["security"] == [{"bearerAuth": []}, {}]
    start = document["paths"][f"{CUSTOMER}/conversations/start"]["post"]
    assert start["requestBody"]["required"] is False
    posted = document["paths"][f"{CUSTOMER}/conversations/{{id}}/messages"]["post"]["responses"]
    assert {"200", "201", "400", "403", "404", "409", "413"} <= set(posted)
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def test_schemas_carry_the_contract_limits(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    body = schemas["PostMessage"]["properties"]["body"]
    assert (body["minLength"], body["maxLength"]) == (1, 4000)
    assert schemas["PostMessage"]["additionalProperties"] is False
    password = schemas["Register"]["properties"]["password"]
    assert (password["minLength"], password["maxLength"]) == (10, 128)
    slug = schemas["CreateFaq"]["properties"]["slug"]
    assert slug["maxLength"] == 64
    assert slug["pattern"] == "^[a-z0-9]+(-[a-z0-9]+)*$"
    messages = document["paths"][f"{CUSTOMER}/conversations/{{id}}/messages"]["get"]
    limit = next(p for p in messages["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}
    listing = document["paths"][f"{AGENT}/conversations"]["get"]
    status = next(p for p in listing["parameters"] if p["name"] == "status")
    assert schemas[status["schema"]["$ref"].rpartition("/")[2]]["enum"] == [
        "agent",
        "automated",
        "closed",
    ]
    assert "password_hash" not in str(document)


@dataclass
class Answer:
    method: str
    path: str
    status: int
    body: Any
    text: str


def _recorded_day(server: LiveServer) -> list[Answer]:
    """Most of what a day brings, every answer kept: for schema and privacy checks."""
    answers: list[Answer] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        body = response.json() if response.content else None
        request = response.request
        answers.append(
            Answer(request.method, request.url.path, response.status_code, body, response.text)
        )

    with httpx.Client(base_url=server.url, event_hooks={"response": [keep]}) as client:
        expect(client.get("/api/v1/setup"), 200)
        admin = first_admin(client)
        agent = hire(client, admin, email="alice@example.com")
        go_online(client, agent)
        expect(client.get(f"{CUSTOMER}/quick-questions"), 200)
        chat = start_chat(client, email="customer@example.com")
        say(client, chat, "Where is my order?", client_message_id="m1")
        client.post(
            f"{chat.path}/messages",
            json={"body": "x", "client_message_id": "m1"},
            headers=chat.headers,
        )
        client.post(f"{chat.path}/quick-replies/track-order", headers=chat.headers)
        client.post(f"{chat.path}/escalate", headers=chat.headers)
        client.get(chat.path, headers=chat.headers)
        client.get(f"{chat.path}/messages", headers=chat.headers)
        client.post(f"{chat.agent_path}/messages", json={"body": "Hi"}, headers=agent.headers)
        say(client, chat, "thanks")
        client.get(f"{AGENT}/conversations", headers=agent.headers)
        client.get(f"{chat.agent_path}/messages", headers=agent.headers)
        client.get(f"{AGENT}/me", headers=agent.headers)
        client.post(f"{chat.agent_path}/close", headers=agent.headers)
        client.post(f"{chat.path}/messages", json={"body": "hello?"}, headers=chat.headers)
        client.get(chat.path, headers=chat.headers)
        client.get(f"{ADMIN}/faqs", headers=admin.headers)
        client.post(
            f"{ADMIN}/faqs",
            json={"slug": "s", "question": "q", "answer": "a"},
            headers=admin.headers,
        )
        client.put(f"{ADMIN}/faqs/s", json={"position": 3}, headers=admin.headers)
        client.delete(f"{ADMIN}/faqs/s", headers=admin.headers)
        client.get(f"{ADMIN}/agents", headers=admin.headers)
        client.post(f"{ADMIN}/agents/{agent.id}/deactivate", headers=admin.headers)
        client.post(
            f"{AGENT}/password",
            headers=admin.headers,
            json={"current_password": admin.password, "new_password": "9 new words, 0 reuse"},
        )
        client.post(f"{AGENT}/auth/logout", headers=admin.headers)
        client.get("/healthz")
        client.get("/readyz")
    return answers


def _documented_schema(
    document: dict[str, Any], method: str, path: str, status: int
) -> dict[str, Any] | None:
    candidates = []
    for template, item in document["paths"].items():
        pattern = re.sub(r"\{\w+\}", "[^/]+", template)
        if re.fullmatch(pattern, path) and method.lower() in item:
            candidates.append((template.count("{"), item[method.lower()]))
    assert candidates, f"{method} {path} is not documented"
    operation = min(candidates, key=lambda c: c[0])[1]
    response = operation["responses"].get(str(status))
    assert response is not None, f"{method} {path} answered an undocumented {status}"
    content = response.get("content")
    return None if content is None else dict(content["application/json"]["schema"])


def test_real_answers_match_the_documented_schemas(live_server: LiveServer) -> None:
    with client_of(live_server) as client:
        document = expect(client.get(OPENAPI), 200)
    answers = _recorded_day(live_server)
    statuses = {answer.status for answer in answers}
    assert {200, 201, 204, 409} <= statuses
    for answer in answers:
        schema = _documented_schema(document, answer.method, answer.path, answer.status)
        if schema is None:
            assert answer.body is None, answer
            continue
        # The document's own components make the refs resolve.
        rooted = {**schema, "components": document["components"]}
        jsonschema.Draft202012Validator(rooted).validate(answer.body)


def test_no_answer_carries_a_password_hash_or_shows_customers_an_agent_email(
    live_server: LiveServer,
) -> None:
    answers = _recorded_day(live_server)
    assert len(answers) > 25
    for answer in answers:
        assert "password_hash" not in answer.text, answer
        assert "$2b$" not in answer.text, answer
        if answer.path.startswith(CUSTOMER):
            assert "alice@example.com" not in answer.text, answer
            assert "admin@example.com" not in answer.text, answer
