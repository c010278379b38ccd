"""Liveness, readiness, and the OpenAPI document."""

from __future__ import annotations

import logging
from typing import Any

from starlette.responses import Response

from adapters.http.endpoint import Audience, Call, Endpoint
from adapters.http.errors import error_response
from adapters.http.responses import StatusOk, json
from adapters.threads import run

log = logging.getLogger("chatcore.http")
OPENAPI_PATH = "/api/v1/openapi.json"


async def healthz(call: Call) -> Response:
    return json(StatusOk())


async def readyz(call: Call) -> Response:
    try:
        ready = await run(call.runtime.readiness)
    except Exception:  # a probe that fails is an answer: not ready
        log.exception("The readiness probe failed")
        ready = False
    if not ready:
        return error_response(503, "unavailable", "The storage or the event bus does not answer.")
    return json(StatusOk())


async def openapi(call: Call) -> Response:
    return Response(call.runtime.openapi, media_type="application/json")


ENDPOINTS = (
    Endpoint(
        method="GET",
        path="/healthz",
        handler=healthz,
        summary="The process runs",
        audience=Audience.SYSTEM,
        response=StatusOk,
    ),
    Endpoint(
        method="GET",
        path="/readyz",
        handler=readyz,
        summary="Storage (and the event bus, where there is one) answer",
        audience=Audience.SYSTEM,
        response=StatusOk,
        errors=(503,),
    ),
    Endpoint(
        method="GET",
        path=OPENAPI_PATH,
        handler=openapi,
        summary="This document",
        audience=Audience.SYSTEM,
        response=dict[str, Any],
    ),
)
