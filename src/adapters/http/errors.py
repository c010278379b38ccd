"""The one error mapper: every refusal, from any layer, leaves as the contract's envelope.

``{"error": {"code", "message", "fields"?}}``: domain errors by class, routing's
404/405, the body limit, and anything unexpected (a logged 500, never a bare body).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Literal

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send

from adapters.ratelimit import RateLimited
from adapters.threads import HashingBusy
from chatcore.errors import (
    DomainError,
    EmailTaken,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NoAgentAvailable,
    NotFound,
    SlugTaken,
    Unauthorized,
)
from chatcore.ports import StorageUnavailable

log = logging.getLogger("chatcore.http")

ErrorCode = Literal[
    "validation_error",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "invalid_state",
    "no_agent_available",
    "email_taken",
    "slug_taken",
    "payload_too_large",
    "unsupported_media_type",
    "rate_limited",
    "unavailable",
    "internal_error",
]


# forbid_unknown_fields: the document then says what the contract says, "this body and no other".
class ErrorDetail(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    code: ErrorCode
    message: str
    # Only on a 400 about fields: each invalid field and what is wrong with it.
    fields: dict[str, str] | msgspec.UnsetType = msgspec.UNSET


class ErrorBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    error: ErrorDetail


class ApiError(Exception):
    """A refusal decided by the HTTP adapter itself (bad JSON, too large, bad bearer header)."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code: ErrorCode = code
        self.message = message
        self.fields = dict(fields) if fields else None
        self.headers = dict(headers) if headers else None


def invalid(message: str, *, fields: Mapping[str, str] | None = None) -> ApiError:
    return ApiError(400, "validation_error", message, fields=fields)


def error_response(
    status: int,
    code: ErrorCode,
    message: str,
    *,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    shown: dict[str, str] | msgspec.UnsetType = (
        dict(fields) if fields and status == 400 else msgspec.UNSET
    )
    body = ErrorBody(ErrorDetail(code, message, shown))
    return Response(
        msgspec.json.encode(body), status, headers=headers, media_type="application/json"
    )


BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}

# Most specific first: the first class in an error's MRO that is listed decides.
DOMAIN_STATUS: dict[type[DomainError], tuple[int, ErrorCode]] = {
    InvalidInput: (400, "validation_error"),
    Unauthorized: (401, "unauthorized"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    InvalidTransition: (409, "invalid_state"),
    NoAgentAvailable: (409, "no_agent_available"),
    EmailTaken: (409, "email_taken"),
    SlugTaken: (409, "slug_taken"),
}

HTTP_CODES: dict[int, tuple[ErrorCode, str]] = {
    400: ("validation_error", "The request is not valid."),
    401: ("unauthorized", "Valid agent credentials are required."),
    403: ("forbidden", "You may not do that."),
    404: ("not_found", "No such resource exists."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("payload_too_large", "The request body is over 64 KiB."),
    415: ("unsupported_media_type", "The body must be sent as application/json."),
    429: ("rate_limited", "Too many requests. Try again later."),
    503: ("unavailable", "The service is not ready."),
}


def domain_status(exc: DomainError) -> tuple[int, ErrorCode] | None:
    for cls in type(exc).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return None


def domain_error_response(exc: DomainError) -> Response:
    mapped = domain_status(exc)
    if mapped is None:  # a refusal nobody mapped is our bug, not the client's
        raise exc
    status, code = mapped
    fields = exc.fields if isinstance(exc, InvalidInput) else None
    headers = BEARER_CHALLENGE if status == 401 else None
    return error_response(status, code, exc.message, fields=fields, headers=headers)


async def _on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return domain_error_response(exc)


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, fields=exc.fields, headers=exc.headers)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code, message = HTTP_CODES.get(exc.status_code, ("internal_error", "The request failed."))
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _on_rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    headers = {"Retry-After": str(exc.retry_after)}
    return error_response(429, "rate_limited", exc.message, headers=headers)


async def _on_storage_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("Storage unavailable on %s %s: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": "1"}
    return error_response(503, "unavailable", "The service is busy. Please retry.", headers=headers)


async def _on_hashing_busy(request: Request, exc: Exception) -> Response:
    headers = {"Retry-After": "1"}
    return error_response(503, "unavailable", "The service is busy. Please retry.", headers=headers)


EXCEPTION_HANDLERS: Mapping[type[Exception], ExceptionHandler] = {
    StorageUnavailable: _on_storage_unavailable,
    RateLimited: _on_rate_limited,
    HashingBusy: _on_hashing_busy,
    DomainError: _on_domain_error,
    ApiError: _on_api_error,
    HTTPException: _on_http_exception,
}


def internal_error() -> Response:
    return error_response(500, "internal_error", "Something went wrong on our side.")


class ErrorGuard:
    """Innermost safety net: an unexpected exception becomes a logged 500 envelope.

    Starlette's own ServerErrorMiddleware would answer too, but outside our CORS
    middleware and in plain text; this one sits inside it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except ClientDisconnect:
            return  # nobody is left to answer
        except Exception:
            log.exception("Unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await internal_error()(scope, receive, send)
