"""Schemathesis against a real server: every operation of /api/v1/openapi.json, fuzzed.

Schemathesis reads our own OpenAPI document and derives the requests from it:
boundary and invalid values for every parameter and body field (its coverage
phase), then random valid and invalid ones (its fuzzing phase). Every answer must
be no 5xx, a documented status with the documented content type, headers and body,
and invalid input must be refused with a 4xx. On top, every error must be exactly
the contract's envelope, with the code its status implies.

The server is real (uvicorn on loopback, rate limits off), not the ASGI app in
process: the fuzzer then goes through the same HTTP parser, the same middleware
order and the same thread pool as a client, and a 5xx from any of them counts.
``fuzz_world`` populates it and steers some of the generated ids, sessions, slugs
and tokens at objects that exist, so the fuzzer gets past 404 and 403 too.

Reproducible: with no CHATCORE_FUZZ_SEED the run is derandomized (the same cases
every run, in CI too); CHATCORE_FUZZ_SEED=<n> explores other cases, and a failure
prints the seed and the case. CHATCORE_FUZZ_EXAMPLES=<n> sets the cases per
operation for the fuzzing phase (default 100; the coverage phase adds its own).
Every run fuzzes SQLite, then PostgreSQL with a fifth of the cases: PostgreSQL's
text refuses NUL even in a comparison, so NUL (in schemathesis' alphabet, and often
in the raw bodies, with unpaired surrogates) must get a 400 or 404 there too.
CHATCORE_FUZZ_POSTGRES=1 runs the full SQLite share against PostgreSQL as well.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from adapters.http import ENDPOINTS
from adapters.http.openapi import openapi_document
from entrypoints.settings import Settings
from support.fuzz_world import ADMIN_OPERATIONS, IDENTITY, World, identity, operation_id
from support.postgres import scratch_database, url_for
from support.servers import LiveServer, running

OPENAPI = "/api/v1/openapi.json"
EXAMPLES = int(os.environ.get("CHATCORE_FUZZ_EXAMPLES", "100"))
SEED = os.environ.get("CHATCORE_FUZZ_SEED")
RAW_EXAMPLES = 40
# PostgreSQL's share of the cases: enough to meet NUL in every field, short enough for
# `make test`; CHATCORE_FUZZ_POSTGRES=1 gives it as many as SQLite.
POSTGRES_EXAMPLES = EXAMPLES if os.environ.get("CHATCORE_FUZZ_POSTGRES") == "1" else EXAMPLES // 5

# The contract's error codes for each status (docs/api.md, "When something is wrong").
ERROR_CODES = {
    400: {"validation_error"},
    401: {"unauthorized"},
    403: {"forbidden"},
    404: {"not_found"},
    405: {"method_not_allowed"},
    409: {"invalid_state", "no_agent_available", "email_taken", "slug_taken"},
    413: {"payload_too_large"},
    415: {"unsupported_media_type"},
    429: {"rate_limited"},
    503: {"unavailable"},
}


def assert_envelope(status: int, body: Any, headers: dict[str, list[str]], operation: str) -> None:
    """Every refusal is exactly ``{"error": {"code", "message", "fields"?}}``, as the contract says.

    The document can say the shape; only a check can say which code goes with which
    status, that ``fields`` is on 400s only, and that 401s carry the bearer challenge.
    """
    assert status in ERROR_CODES, f"{status} is not a status the contract has"
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict), body
    assert set(error) <= {"code", "message", "fields"}, body
    assert error.get("code") in ERROR_CODES[status], f"{status} with {error.get('code')!r}"
    assert isinstance(error.get("message"), str), body
    assert error["message"], body
    if "fields" in error:
        assert status == 400, f"fields on a {status}: {body}"
        assert isinstance(error["fields"], dict), body
        assert error["fields"], body
        assert all(isinstance(v, str) and v for v in error["fields"].values()), body
    headers = {name.lower(): values for name, values in headers.items()}
    if status == 401:
        assert headers.get("www-authenticate") == ["Bearer"], headers
    if status in (429, 503) and operation != "readyz":
        assert len(headers.get("retry-after", [])) == 1, headers
        assert headers["retry-after"][0].isdigit(), headers


@schemathesis.check
def error_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith("application/json"), (
            f"{response.status_code} {content_type}: {response.text[:200]!r}"
            f" for {response.request.method} {response.request.url}"
            f" with headers {dict(response.request.headers)!r}"
        )
        assert_envelope(response.status_code, response.json(), response.headers, operation_id(case))
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
    ignored_auth,
    error_envelope,
]


def _config(examples: int) -> schemathesis.Config:
    data: dict[str, Any] = {
        "generation": {
            "mode": "all",  # positive and negative
            "max-examples": examples,
            "allow-x00": True,  # NUL in every string: PostgreSQL refuses it
            "deterministic": SEED is None,
            "database": "none",  # nothing written to .hypothesis/, the same run every time
        },
        # examples: none in the document; stateful: its inferred links would delete the
        # world under the other cases (e.g. every FAQ). Coverage and fuzzing do the work.
        "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}},
    }
    if SEED is not None:
        data["seed"] = int(SEED)
    return schemathesis.Config.from_dict(data)


# The document the server serves is this one (the first test checks it): loaded at import,
# so schemathesis' pytest plugin makes one test per operation.
DOCUMENT = openapi_document(ENDPOINTS)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=_config(EXAMPLES))
postgres_schema = schemathesis.openapi.from_dict(DOCUMENT, config=_config(POSTGRES_EXAMPLES))


class Bearer:
    """Which identity a case runs as; schemathesis leaves it out where it tests its absence.

    Schemathesis builds its coverage cases while pytest collects, before any server
    or account exists: the header carries the identity's name, and the test swaps in
    its real token (``World.authorize``).
    """

    def get(self, case: Any, ctx: Any) -> str | None:
        return identity(case)

    def set(self, case: Any, name: str, ctx: Any) -> None:
        case.headers["Authorization"] = f"Bearer {IDENTITY}{name}"


schema.auth(refresh_interval=None)(Bearer)
postgres_schema.auth(refresh_interval=None)(Bearer)


@contextmanager
def _serving(database: str, secret: str | None) -> Iterator[LiveServer]:
    settings = replace(
        Settings(), database=database, secret_key=secret, bcrypt_rounds=4, rate_limits=False
    )
    with running(settings) as server:
        yield server


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with _serving(str(Path(tmp_path_factory.mktemp("fuzz")) / "chatcore.db"), None) as server:
        yield server


@pytest.fixture(scope="module")
def postgres_fuzz_server() -> Iterator[LiveServer]:
    # PostgreSQL keeps no key file beside it: the key is given.
    with scratch_database() as name, _serving(url_for(name), "fuzz-" * 8) as server:
        yield server


@pytest.fixture(scope="module")
def world(fuzz_server: LiveServer) -> Iterator[World]:
    with httpx.Client(base_url=fuzz_server.url, timeout=30) as client:
        yield World.create(client)


@pytest.fixture(scope="module")
def postgres_world(postgres_fuzz_server: LiveServer) -> Iterator[World]:
    with httpx.Client(base_url=postgres_fuzz_server.url, timeout=30) as client:
        yield World.create(client)


WORLDS = {
    "sqlite": ("fuzz_server", "world"),
    "postgresql": ("postgres_fuzz_server", "postgres_world"),
}


def _world_of(request: pytest.FixtureRequest, store: str) -> tuple[LiveServer, World]:
    server_name, world_name = WORLDS[store]
    return request.getfixturevalue(server_name), request.getfixturevalue(world_name)


def test_the_fuzzed_document_is_the_served_one(fuzz_server: LiveServer) -> None:
    served = httpx.get(fuzz_server.url + OPENAPI, timeout=30)
    assert served.status_code == 200
    assert served.json() == json.loads(msgspec.json.encode(DOCUMENT))


def test_the_document_declares_every_refusal_a_server_can_give() -> None:
    """What fuzzing alone cannot provoke here: a busy storage's 503, and the headers."""
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            if path not in ("/healthz", "/readyz", OPENAPI):
                assert "503" in responses, f"{where}: storage may be busy"
            for status, header in (("401", "WWW-Authenticate"), ("429", "Retry-After")):
                if status in responses:
                    assert responses[status]["headers"][header]["required"] is True, where
            if "503" in responses and path != "/readyz":
                assert responses["503"]["headers"]["Retry-After"]["required"] is True, where
    error = DOCUMENT["components"]["schemas"]["ErrorDetail"]
    assert error["additionalProperties"] is False  # "this body and no other"
    assert DOCUMENT["components"]["schemas"]["ErrorBody"]["additionalProperties"] is False


def _answers_as_documented(case: Any, world: World, server: LiveServer) -> None:
    world.authorize(case)
    world.steer(case)
    response = case.call(base_url=server.url, timeout=30)
    case.validate_response(response, checks=CHECKS)
    world.after(case, response)


@schema.parametrize()
def test_every_operation_answers_as_documented(
    case: Any, world: World, fuzz_server: LiveServer
) -> None:
    _answers_as_documented(case, world, fuzz_server)


@postgres_schema.parametrize()
def test_every_operation_answers_as_documented_on_postgresql(
    case: Any, postgres_world: World, postgres_fuzz_server: LiveServer
) -> None:
    _answers_as_documented(case, postgres_world, postgres_fuzz_server)


# -- raw bodies: what schemathesis never sends -----------------------------------------
#
# Schemathesis serializes every body it makes as JSON, so it is always UTF-8 and always
# well formed. These bodies are bytes: not UTF-8, broken JSON, bytes inside strings.

BODY_OPERATIONS = sorted(
    (operation["operationId"], method, path)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if "requestBody" in operation
)
# Any code point, unpaired surrogates too (st.text() leaves them out), and NUL often;
# json.dumps escapes them, so the body is still UTF-8.
_hostile_text = st.text(
    st.characters(blacklist_categories=()) | st.sampled_from(["\x00", "\ud800", "\udfff"])
)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda text, at, junk: text[:at] + junk + text[at:],
        st.builds(lambda v: json.dumps(v).encode(), _json_values),
        st.integers(0, 60),
        st.binary(min_size=1, max_size=4),
    ),
    # Fields the operations know, their strings broken: bytes that are not UTF-8 inside
    st.builds(
        lambda name, junk: b'{"' + name.encode() + b'": "a' + junk + b'b"}',
        st.sampled_from(["body", "email", "password", "display_name", "slug", "question"]),
        st.binary(min_size=1, max_size=4),
    ),
)


def _raw(test: Callable[..., None]) -> Callable[..., None]:
    configured = settings(
        max_examples=RAW_EXAMPLES,
        deadline=None,
        derandomize=SEED is None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )(test)
    return seed(int(SEED))(configured) if SEED is not None else configured


@pytest.mark.parametrize("store", list(WORLDS))
@pytest.mark.parametrize(("op", "method", "path"), BODY_OPERATIONS, ids=lambda v: str(v))
def test_raw_bodies_are_refused_cleanly(
    request: pytest.FixtureRequest, store: str, op: str, method: str, path: str
) -> None:
    fuzz_server, world = _world_of(request, store)
    documented = {int(status) for status in DOCUMENT["paths"][path][method]["responses"]}
    url = fuzz_server.url + path.format(id=world.held, slug=world.slugs[0])
    token = world.admin.token if op in ADMIN_OPERATIONS else world.agent.token
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Customer-Session-Id": world.owner,
        "Content-Type": "application/json",
    }

    @_raw
    @given(body=raw_bodies)
    def send(body: bytes) -> None:
        response = world.client.request(method.upper(), url, content=body, headers=headers)
        assert response.status_code < 500, response.text
        assert response.status_code in documented, (response.status_code, response.text)
        if response.status_code >= 400:
            assert_envelope(
                response.status_code,
                response.json(),
                {k: response.headers.get_list(k) for k in response.headers},
                op,
            )

    send()


# -- after all of it ------------------------------------------------------------------


@pytest.mark.parametrize("store", list(WORLDS))
def test_the_fuzzing_got_past_the_refusals_of_every_operation(
    request: pytest.FixtureRequest, store: str
) -> None:
    """Each fuzzed operation succeeded at least once: the steering reaches real objects."""
    _, world = _world_of(request, store)
    if not world.seen:
        pytest.skip("no operation was fuzzed in this session")
    print({op: dict(sorted(statuses.items())) for op, statuses in sorted(world.seen.items())})
    never = sorted(op for op, statuses in world.seen.items() if not any(s < 300 for s in statuses))
    assert not never, f"never a 2xx: {never}"


@pytest.mark.parametrize("store", list(WORLDS))
def test_the_server_is_healthy_after_the_fuzzing(
    request: pytest.FixtureRequest, store: str
) -> None:
    _, world = _world_of(request, store)
    world.healthy()
