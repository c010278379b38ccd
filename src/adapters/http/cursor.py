"""The listing cursor: opaque to clients, base64url of ``updated_at|id`` to us."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from adapters.http.errors import invalid
from chatcore.ports import ListingCursor


def encode_cursor(cursor: ListingCursor) -> str:
    raw = f"{cursor.updated_at.isoformat()}|{cursor.conversation_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> ListingCursor:
    """A cursor this server made; anything else is a 400 on ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        moment, _, conversation_id = raw.partition("|")
        updated_at = datetime.fromisoformat(moment)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        updated_at, conversation_id = None, ""
    if updated_at is None or updated_at.tzinfo is None or not conversation_id:
        raise invalid("The cursor is not valid.", fields={"cursor": "is not a valid cursor"})
    return ListingCursor(updated_at, conversation_id)
