"""The agents' conversation list as one query: index-ordered slices, merged, then joined.

Each slice of a listing (the bot's chats; the viewer's own AGENT chats; the
CLOSED chats the viewer held; those it closed without holding them) has an index
ending in (updated_at, id). Every slice is read newest first straight from its
index, stops after ``limit`` rows past the cursor, and the union of the slices
is cut to ``limit`` again. A page therefore costs a few index seeks however
many conversations the bot has collected over the years: no scan, no sort of
old chats. The holder and the last message come in the same query by join.

One plan for SQLite and PostgreSQL; a ``Dialect`` holds the few words they spell
differently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.rowmap import AGENT_COLUMNS, AGENT_PREFIX, MESSAGE_COLUMNS, MESSAGE_PREFIX, prefixed
from chatcore.conversation import Status
from chatcore.ports import ConversationListing

NEWEST_FIRST = "updated_at DESC, id DESC"

Slice = tuple[str, list[Any]]


@dataclass(frozen=True, slots=True)
class Dialect:
    placeholder: str  # "?" or "%s"
    is_not: str  # NULL-safe "differs": SQLite's IS NOT, PostgreSQL's IS DISTINCT FROM
    # An ordered, limited slice as a member of a UNION ALL: SQLite takes no
    # parenthesized SELECT there, PostgreSQL wants one (or an alias).
    slice_select: str  # with {} for the slice's SELECT
    union: str  # with {} for the slices joined by UNION ALL
    to_db: Callable[[datetime], Any]


def slices(query: ConversationListing, dialect: Dialect) -> list[Slice]:
    """A WHERE clause and its parameters for each index-friendly part of the listing."""
    p = dialect.placeholder
    viewer = query.viewer_id
    parts: list[Slice] = []
    for status in sorted(query.statuses):
        if status is Status.AUTOMATED or viewer is None:
            parts.append((f"status = {p}", [status.value]))
        elif status is Status.AGENT:
            parts.append((f"assigned_agent_id = {p} AND status = {p}", [viewer, status.value]))
        else:
            parts.append((f"assigned_agent_id = {p} AND status = {p}", [viewer, status.value]))
            # Closed by the viewer without holding it (an admin closing someone's chat);
            # the NULL-safe "differs" keeps a chat the viewer both held and closed out of
            # both slices.
            parts.append(
                (
                    f"closed_by_id = {p} AND status = {p} "
                    f"AND assigned_agent_id {dialect.is_not} {p}",
                    [viewer, status.value, viewer],
                )
            )
    return parts


def listing_sql(query: ConversationListing, dialect: Dialect) -> tuple[str, list[Any]]:
    p = dialect.placeholder
    params: list[Any] = []
    selects = []
    for where, where_params in slices(query, dialect):
        cursor = ""
        params.extend(where_params)
        if query.after is not None:
            # Strictly after the cursor in newest-first order: a row-value comparison
            # that both read as a range on the index.
            cursor = f" AND (updated_at, id) < ({p}, {p})"
            params.extend([dialect.to_db(query.after.updated_at), query.after.conversation_id])
        params.append(query.limit)
        selects.append(
            dialect.slice_select.format(
                f"SELECT * FROM conversations WHERE {where}{cursor} "
                f"ORDER BY {NEWEST_FIRST} LIMIT {p}"
            )
        )
    params.append(query.limit)
    union = dialect.union.format(" UNION ALL ".join(selects))
    sql = (
        f"WITH page AS ({union} ORDER BY {NEWEST_FIRST} LIMIT {p}) "
        f"SELECT page.*, {prefixed('agents', AGENT_COLUMNS, AGENT_PREFIX)}, "
        f"{prefixed('messages', MESSAGE_COLUMNS, MESSAGE_PREFIX)} "
        "FROM page "
        "LEFT JOIN agents ON agents.id = page.assigned_agent_id "
        "LEFT JOIN messages ON messages.conversation_id = page.id "
        "AND messages.seq = page.last_seq "
        f"ORDER BY page.{NEWEST_FIRST.replace(', ', ', page.')}"
    )
    return sql, params
