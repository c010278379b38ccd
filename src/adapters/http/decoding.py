"""Request bodies and query strings into request Structs, naming every invalid field.

msgspec stops at the first error; the contract wants all of them. So each field
is converted on its own first (with the Struct's own annotated type, so Meta
constraints apply), every problem is collected, and only a clean mapping is
turned into the Struct. Text no store can keep (a NUL) is refused here, for
both stores alike, before it can reach one.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Mapping
from typing import Any, TypeVar, Union, get_args, get_origin

import msgspec
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request

from adapters import storable_text
from adapters.http.errors import ApiError, invalid
from adapters.http.problems import describe
from adapters.storable_text import all_storable

MAX_BODY_BYTES = 64 * 1024
S = TypeVar("S", bound=msgspec.Struct)


def too_large() -> ApiError:
    return ApiError(413, "payload_too_large", "The request body is over 64 KiB.")


async def read_body(request: Request) -> bytes:
    """The raw body, refused with 413 as soon as it is known to pass 64 KiB."""
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large()  # without reading a byte of it
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large()  # chunked, or a Content-Length that lied
        chunks.append(chunk)
    return b"".join(chunks)


def unsupported_type() -> ApiError:
    return ApiError(415, "unsupported_media_type", "The body must be sent as application/json.")


def require_json(request: Request, raw: bytes) -> None:
    """A body is JSON only when it says so: 415 for any other declared type.

    A browser posts text/plain, form and multipart bodies cross-site without asking
    (no CORS preflight); only ``application/json`` needs the preflight that other
    origins fail. So refusing the rest keeps another site's forms out of login,
    registration and the customer endpoints. A bodiless call needs no type.
    """
    declared = request.headers.get("content-type")
    if declared is None:
        if raw.strip():
            raise unsupported_type()
        return
    if declared.split(";", 1)[0].strip().lower() != "application/json":
        raise unsupported_type()


def decode_body(raw: bytes, kind: type[S], *, optional: bool = False) -> S:
    if not raw.strip():
        if optional:
            return convert_fields({}, kind)
        raise invalid("A JSON body is required.")
    try:
        data = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        # UnicodeDecodeError: bytes that are not UTF-8 inside a JSON string (found by fuzzing).
        raise invalid("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid("The body must be a JSON object.")
    return convert_fields(data, kind)


@functools.cache
def _fields(kind: type[msgspec.Struct]) -> dict[str, msgspec.structs.FieldInfo]:
    # msgspec resolves the annotations again on every call: a twentieth of a request's CPU.
    return {info.encode_name: info for info in msgspec.structs.fields(kind)}


def decode_query(params: Mapping[str, str], kind: type[S]) -> S:
    """Query values are strings: converted leniently ("5" is 5); unknown names are ignored.

    A query value is never JSON null, so ``status=null`` is the string "null" (and
    refused where it is not allowed), and a name given twice is refused: which of
    the two was meant is not ours to guess.
    """
    names = _fields(kind)
    data = {k: v for k, v in params.items() if k in names}
    problems = field_problems(data, kind, lax=True)
    if isinstance(params, ImmutableMultiDict):
        for name in data:
            if len(params.getlist(name)) > 1:
                problems[name] = "must be given once"
    if problems:
        raise invalid("Some fields are not valid.", fields=problems)
    return msgspec.convert(data, kind, strict=False)


def _not_null(annotation: Any) -> Any:
    """``T | None`` as plain ``T``: for query values, which are strings, never null."""
    if get_origin(annotation) not in (Union, types.UnionType):
        return annotation
    rest = tuple(arg for arg in get_args(annotation) if arg is not type(None))
    return rest[0] if len(rest) == 1 else Union[rest]  # noqa: UP007


def field_problems(
    data: Mapping[str, Any], kind: type[msgspec.Struct], *, lax: bool
) -> dict[str, str]:
    fields = _fields(kind)
    problems = {name: "unknown field" for name in data if name not in fields}
    for name, info in fields.items():
        if name not in data:
            if info.required:
                problems[name] = "is required"
            continue
        if not all_storable(data[name]):
            problems[name] = storable_text.PROBLEM
            continue
        try:
            msgspec.convert(data[name], _not_null(info.type) if lax else info.type, strict=not lax)
        except msgspec.ValidationError as exc:
            problems[name] = describe(str(exc), info.type)
    return problems


def convert_fields(data: Mapping[str, Any], kind: type[S], *, lax: bool = False) -> S:
    problems = field_problems(data, kind, lax=lax)
    if problems:
        raise invalid("Some fields are not valid.", fields=problems)
    return msgspec.convert(data, kind, strict=not lax)
