"""Customer sessions and live agent tokens: rows whose existence is the whole point."""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from adapters.sqlite.rows import to_text
from adapters.sqlite.tables import Rows


class SqliteCustomerSessionRepository:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._table = Rows(db, "customer_sessions")

    def add(self, session_id: str, *, created_at: datetime) -> None:
        self._table.insert({"id": session_id, "created_at": to_text(created_at)})

    def exists(self, session_id: str) -> bool:
        return any(self._table.where("id = ?", [session_id], select_sql="1", limit=1))


class SqliteAccessTokenRepository:
    """A token is valid only while its row is here and unexpired; revoking deletes the row."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self._table = Rows(db, "access_tokens")

    def add(self, token_id: str, *, agent_id: str, expires_at: datetime) -> None:
        self._table.insert(
            {"id": token_id, "agent_id": agent_id, "expires_at": to_text(expires_at)}
        )

    def is_live(self, token_id: str, *, agent_id: str, now: datetime) -> bool:
        rows = self._table.where(
            "id = ? AND agent_id = ? AND expires_at > ?",
            [token_id, agent_id, to_text(now)],
            select_sql="1",
            limit=1,
        )
        return any(rows)

    def revoke(self, token_id: str) -> None:
        self._table.delete_where("id = ?", [token_id])

    def revoke_all(self, agent_id: str, *, keep: str | None = None) -> None:
        if keep is None:
            self._table.delete_where("agent_id = ?", [agent_id])
        else:
            self._table.delete_where("agent_id = ? AND id != ?", [agent_id, keep])

    def purge_expired(self, *, now: datetime) -> None:
        self._table.delete_where("expires_at <= ?", [to_text(now)])
