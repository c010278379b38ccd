"""The agents' conversation list as one query: index-ordered slices, merged, then joined.

The SQLite adapter's plan (see adapters/sqlite/listing.py): each slice of a listing
is read newest first straight from its (…, updated_at, id) index and stops after
``limit`` rows past the cursor; the union is cut to ``limit`` again, and the
holder and the last message come in the same query by join.
"""

from __future__ import annotations

from typing import Any

from adapters.postgres.rows import (
    AGENT_COLUMNS,
    MESSAGE_COLUMNS,
    Row,
    agent_from_row,
    conversation_from_row,
    message_from_row,
    prefixed,
    to_db,
)
from chatcore.conversation import ConversationView, Status
from chatcore.ports import ConversationListing

AGENT_PREFIX = "a__"
MESSAGE_PREFIX = "m__"
NEWEST_FIRST = "updated_at DESC, id DESC"

Slice = tuple[str, list[Any]]


def slices(query: ConversationListing) -> list[Slice]:
    """A WHERE clause and its parameters for each index-friendly part of the listing."""
    viewer = query.viewer_id
    parts: list[Slice] = []
    for status in sorted(query.statuses):
        if status is Status.AUTOMATED or viewer is None:
            parts.append(("status = %s", [status.value]))
        elif status is Status.AGENT:
            parts.append(("assigned_agent_id = %s AND status = %s", [viewer, status.value]))
        else:
            parts.append(("assigned_agent_id = %s AND status = %s", [viewer, status.value]))
            # Closed by the viewer without holding it (an admin closing someone's chat);
            # the DISTINCT keeps a chat the viewer both held and closed out of both slices.
            parts.append(
                (
                    "closed_by_id = %s AND status = %s AND assigned_agent_id IS DISTINCT FROM %s",
                    [viewer, status.value, viewer],
                )
            )
    return parts


def listing_sql(query: ConversationListing) -> tuple[str, list[Any]]:
    params: list[Any] = []
    selects = []
    for where, where_params in slices(query):
        cursor = ""
        params.extend(where_params)
        if query.after is not None:
            # Strictly after the cursor in newest-first order: a row comparison that
            # PostgreSQL reads as a range on the index.
            cursor = " AND (updated_at, id) < (%s, %s)"
            params.extend([to_db(query.after.updated_at), query.after.conversation_id])
        params.append(query.limit)
        selects.append(
            f"(SELECT * FROM conversations WHERE {where}{cursor} ORDER BY {NEWEST_FIRST} LIMIT %s)"
        )
    params.append(query.limit)
    sql = (
        f"WITH page AS (SELECT * FROM ({' UNION ALL '.join(selects)}) AS slices "
        f"ORDER BY {NEWEST_FIRST} LIMIT %s) "
        f"SELECT page.*, {prefixed('agents', AGENT_COLUMNS, AGENT_PREFIX)}, "
        f"{prefixed('messages', MESSAGE_COLUMNS, MESSAGE_PREFIX)} "
        "FROM page "
        "LEFT JOIN agents ON agents.id = page.assigned_agent_id "
        "LEFT JOIN messages ON messages.conversation_id = page.id "
        "AND messages.seq = page.last_seq "
        f"ORDER BY page.{NEWEST_FIRST.replace(', ', ', page.')}"
    )
    return sql, params


def view_from_row(row: Row) -> ConversationView:
    holder = agent_from_row(row, prefix=AGENT_PREFIX) if row[AGENT_PREFIX + "id"] else None
    last = message_from_row(row, prefix=MESSAGE_PREFIX) if row[MESSAGE_PREFIX + "id"] else None
    return ConversationView(
        conversation_from_row(row),
        holder.summary if holder is not None else None,
        last,
    )
