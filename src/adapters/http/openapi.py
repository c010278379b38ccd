"""The OpenAPI 3.1 document, generated from the endpoint table and its msgspec types."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import msgspec

from adapters.http.auth import SESSION_HEADER, Auth
from adapters.http.endpoint import Audience, Endpoint
from adapters.http.errors import ErrorBody

REF = "#/components/schemas/{name}"
_PATH_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
ERROR_MEANINGS = {
    400: "The body or query is not valid (`fields` names each bad field)",
    401: "The agent token is missing, malformed, forged, expired or revoked; or a bad login",
    403: "Not the caller's to see or do",
    404: "No such conversation, quick question or agent",
    409: "The current state does not allow it",
    413: "The request body is over 64 KiB",
    415: "A body not sent as `application/json` (a cross-site form post, say)",
    429: "Over a rate limit: `Retry-After` says how many seconds to wait",
    503: "Storage is busy past its timeout: retry after `Retry-After` seconds",
}
NOT_READY = "Not ready: storage (or the event bus) does not answer"
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
# The headers that come with a refusal, whichever endpoint gives it.
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The bearer challenge, on every 401",
            "required": True,
            "schema": {"type": "string", "const": "Bearer"},
        }
    },
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}
TAGS = {
    Audience.CUSTOMER: "The chat widget: no login, any origin",
    Audience.AGENT: "The agent console: bearer token",
    Audience.ADMIN: "Admins only",
    Audience.SYSTEM: "Health and this document",
}


def _version() -> str:
    try:
        return metadata.version("chatcore")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query value is never JSON null: an optional ``T | None`` shows as plain ``T``."""
    options = [o for o in schema.get("anyOf", ()) if o != {"type": "null"}]
    if len(options) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**options[0], **rest}


def _parameters(endpoint: Endpoint, queries: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(endpoint.path)
    ]
    if endpoint.query is not None:
        query = queries[endpoint.query.__name__]
        for name, schema in query["properties"].items():
            required = name in query.get("required", ())
            params.append(
                {"name": name, "in": "query", "required": required, "schema": _without_null(schema)}
            )
    if endpoint.auth in (Auth.SESSION, Auth.OPTIONAL_SESSION):
        params.append(
            {
                "name": SESSION_HEADER,
                "in": "header",
                "required": endpoint.auth is Auth.SESSION,
                "description": "The customer_session_id the start answer gave",
                "schema": {"type": "string"},
            }
        )
    return params


def _responses(endpoint: Endpoint, schemas: dict[Any, Any]) -> dict[str, Any]:
    success: dict[str, Any] = {"description": endpoint.summary}
    if endpoint.response is not None:
        success["content"] = _json(schemas[endpoint.response])
    responses = {str(endpoint.status): success}
    for status, meaning in endpoint.also.items():
        responses[str(status)] = {**success, "description": meaning}
    error = _json({"$ref": REF.format(name=ErrorBody.__name__)})
    for status in _error_statuses(endpoint):
        refusal: dict[str, Any] = {"description": ERROR_MEANINGS[status], "content": error}
        if status in ERROR_HEADERS:
            refusal["headers"] = ERROR_HEADERS[status]
        responses[str(status)] = refusal
    if endpoint.audience is Audience.SYSTEM and "503" in responses:
        responses["503"] = {"description": NOT_READY, "content": error}  # /readyz: no Retry-After
    return responses


def _error_statuses(endpoint: Endpoint) -> list[int]:
    """The endpoint's refusals, and 503 wherever storage is asked: it may be busy past its
    timeout (adapters/http/errors.py). Only the system endpoints never ask it."""
    statuses = set(endpoint.error_statuses())
    if endpoint.audience is not Audience.SYSTEM:
        statuses.add(503)
    return sorted(statuses)


def _operation(
    endpoint: Endpoint, schemas: dict[Any, Any], queries: dict[str, Any]
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.audience.value],
        "parameters": _parameters(endpoint, queries),
        "responses": _responses(endpoint, schemas),
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": not endpoint.body_optional,
            "content": _json(schemas[endpoint.body]),
        }
    if endpoint.auth is Auth.BEARER:
        operation["security"] = [{"bearerAuth": []}]
    elif endpoint.auth is Auth.BEARER_UNLESS_SETUP:
        operation["security"] = [{"bearerAuth": []}, {}]
    return operation


def openapi_document(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    types: list[Any] = [ErrorBody]
    for endpoint in endpoints:
        types.extend(t for t in (endpoint.body, endpoint.response, endpoint.query) if t)
    generated, components = msgspec.json.schema_components(types, ref_template=REF)
    schemas = dict(zip(types, generated, strict=True))
    # Query Structs become parameters, not schemas of their own.
    query_names = {e.query.__name__ for e in endpoints if e.query is not None}
    queries = {name: components.pop(name) for name in sorted(query_names)}
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(
            endpoint, schemas, queries
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "chatcore",
            "version": _version(),
            "summary": "Self-hosted customer-support live chat",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "tags": [{"name": a.value, "description": d} for a, d in TAGS.items()],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
