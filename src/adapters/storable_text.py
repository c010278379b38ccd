"""Text a store can keep: what PostgreSQL refuses, every store refuses alike.

PostgreSQL's text holds no NUL character, and its UTF-8 (like SQLite's driver)
cannot hold an unpaired surrogate, which JSON's ``\\ud800`` escape can produce.
Client text with either is refused where it comes in (400), and a lookup by such
a key finds nothing (404), whichever store is behind.
"""

from __future__ import annotations

from typing import Any

PROBLEM = "must not contain NUL or unpaired surrogate characters"


def is_storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def all_storable(value: Any) -> bool:
    """Every string in ``value`` (a decoded JSON value: keys too) is storable."""
    if isinstance(value, str):
        return is_storable(value)
    if isinstance(value, list):
        return all(all_storable(item) for item in value)
    if isinstance(value, dict):
        return all(all_storable(k) and all_storable(v) for k, v in value.items())
    return True
