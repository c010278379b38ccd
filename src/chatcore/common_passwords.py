"""The passwords people choose most: refused for agents, whose accounts see every chat.

The list is package data, ``common-passwords.txt.gz``: Royce Williams' 20,000 most
common passwords as Django ships them (lowercased, one a line; BSD licence,
``common-passwords.LICENSE`` beside it). It is read on the first check, not at
import, so what never sets a password never pays for it.
"""

from __future__ import annotations

import functools
import gzip
from importlib import resources

LIST_FILE = "common-passwords.txt.gz"


@functools.cache
def _common() -> frozenset[str]:
    packed = resources.files("chatcore").joinpath(LIST_FILE).read_bytes()
    return frozenset(gzip.decompress(packed).decode("utf-8").splitlines())


def is_common(password: str) -> bool:
    """On the list, ignoring case and the spaces around it (as the list was made)."""
    return password.strip().lower() in _common()
