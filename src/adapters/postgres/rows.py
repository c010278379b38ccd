"""Rows ↔ entities in PostgreSQL: the shared mapping (adapters/rowmap.py), as timestamptz.

What is stored is what the wire shows: aware UTC, truncated to milliseconds (the
clock already truncates; anything finer a caller passes is dropped, exactly as
the SQLite adapter's fixed-width text drops it). Values read back are aware UTC.
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
    "from_db",
    "message_from_row",
    "message_row",
    "prefixed",
    "to_db",
    "view_from_row",
]


def to_db(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; chatcore stores aware UTC times")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def from_db(value: datetime) -> datetime:
    return value.astimezone(UTC)


_ROWS = RowMap(to_db=to_db, from_db=from_db)
conversation_row = _ROWS.conversation_row
conversation_from_row = _ROWS.conversation_from_row
message_row = _ROWS.message_row
message_from_row = _ROWS.message_from_row
agent_row = _ROWS.agent_row
agent_from_row = _ROWS.agent_from_row
view_from_row = _ROWS.view_from_row
