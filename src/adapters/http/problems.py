"""msgspec's validation messages, said the way the contract's ``fields`` say things.

``Expected `str` of length <= 4000`` becomes ``must be at most 4000 characters``.
A field's ``Meta(extra={"pattern_problem": ...})`` names what its pattern means.
"""

from __future__ import annotations

import enum
import re
import types
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from msgspec import Meta

_KINDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
    "object": "an object",
    "array": "an array",
}
_LENGTH = re.compile(r"Expected `\w+` of length ([<>])= (\d+)")
_BOUND = re.compile(r"Expected `\w+` ([<>])= (-?\d+)")
_KIND = re.compile(r"Expected `([^`]+)`, got `\w+`")


def _parts(annotation: Any) -> Iterator[Any]:
    """Every leaf type and every Meta inside Annotated and unions."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from annotation.__metadata__
        yield from _parts(get_args(annotation)[0])
    elif origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            yield from _parts(arg)
    else:
        yield annotation


def _pattern_problem(annotation: Any) -> str:
    for part in _parts(annotation):
        if isinstance(part, Meta) and part.extra and "pattern_problem" in part.extra:
            return str(part.extra["pattern_problem"])
    return "has an invalid format"


def allowed_values(annotation: Any) -> list[str]:
    values: list[str] = []
    for part in _parts(annotation):
        if isinstance(part, type) and issubclass(part, enum.Enum):
            values.extend(str(member.value) for member in part)
        elif get_origin(part) is Literal:
            values.extend(str(arg) for arg in get_args(part))
    return values


def describe(message: str, annotation: Any) -> str:
    """What is wrong with one field's value, from msgspec's message and the field's type."""
    message = message.split(" - at `", 1)[0]
    if match := _LENGTH.fullmatch(message):
        most, count = match[1] == "<", int(match[2])
        if most:
            return f"must be at most {count} characters"
        return "must not be empty" if count == 1 else f"must be at least {count} characters"
    if match := _BOUND.fullmatch(message):
        word = "most" if match[1] == "<" else "least"
        return f"must be at {word} {match[2]}"
    if message.startswith("Expected `str` matching regex"):
        return _pattern_problem(annotation)
    if message.startswith("Invalid enum value") or (
        message.startswith("Expected `str`") and allowed_values(annotation)
    ):
        return "must be one of: " + ", ".join(allowed_values(annotation))
    if match := _KIND.fullmatch(message):
        kinds = [_KINDS.get(kind, kind) for kind in match[1].split(" | ")]
        return "must be " + " or ".join(kinds)
    if message == "Number out of range" or message == "Integer value out of range":
        return "is out of range"
    return message[:1].lower() + message[1:]
