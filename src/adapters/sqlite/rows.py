"""Rows ↔ entities in SQLite: the shared mapping (adapters/rowmap.py) with timestamps as text.

Timestamps are fixed-width ISO text, ``2026-11-25T21:49:26.123Z``: they sort as
text in the same order as in time, so indexes and keyset cursors compare them
directly, and a person reading the file sees real dates.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.rowmap import (
    AGENT_COLUMNS,
    CONVERSATION_COLUMNS,
    MESSAGE_COLUMNS,
    Row,
    RowMap,
    faq_from_row,
    faq_row,
    prefixed,
)

__all__ = [
    "AGENT_COLUMNS",
    "CONVERSATION_COLUMNS",
    "MESSAGE_COLUMNS",
    "Row",
    "agent_from_row",
    "agent_row",
    "conversation_from_row",
    "conversation_row",
    "faq_from_row",
    "faq_row",
    "from_text",
    "message_from_row",
    "message_row",
    "prefixed",
    "to_text",
    "view_from_row",
]


def to_text(moment: datetime) -> str:
    """UTC, milliseconds, a ``Z``: the clock already truncates, anything finer is dropped."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; chatcore stores aware UTC times")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


_ROWS = RowMap(to_db=to_text, from_db=from_text)
conversation_row = _ROWS.conversation_row
conversation_from_row = _ROWS.conversation_from_row
message_row = _ROWS.message_row
message_from_row = _ROWS.message_from_row
agent_row = _ROWS.agent_row
agent_from_row = _ROWS.agent_from_row
view_from_row = _ROWS.view_from_row
