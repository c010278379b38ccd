"""Customer sessions and live agent tokens: rows whose existence is the whole point."""

from __future__ import annotations

from datetime import datetime

from adapters.postgres.rows import to_db
from adapters.postgres.sql import Txn
from adapters.storable_text import is_storable


class PostgresCustomerSessionRepository:
    def __init__(self, txn: Txn) -> None:
        self._txn = txn

    def add(self, session_id: str, *, created_at: datetime) -> None:
        self._txn.insert("customer_sessions", {"id": session_id, "created_at": to_db(created_at)})

    def exists(self, session_id: str) -> bool:
        if not is_storable(session_id):
            return False  # no row can have it; PostgreSQL would refuse even to compare
        return (
            self._txn.one("SELECT 1 FROM customer_sessions WHERE id = %s", [session_id]) is not None
        )


class PostgresAccessTokenRepository:
    """A token is valid only while its row is here and unexpired; revoking deletes the row."""

    def __init__(self, txn: Txn) -> None:
        self._txn = txn

    def add(self, token_id: str, *, agent_id: str, expires_at: datetime) -> None:
        self._txn.insert(
            "access_tokens", {"id": token_id, "agent_id": agent_id, "expires_at": to_db(expires_at)}
        )

    def is_live(self, token_id: str, *, agent_id: str, now: datetime) -> bool:
        row = self._txn.one(
            "SELECT 1 FROM access_tokens WHERE id = %s AND agent_id = %s AND expires_at > %s",
            [token_id, agent_id, to_db(now)],
        )
        return row is not None

    def revoke(self, token_id: str) -> None:
        self._txn.run("DELETE FROM access_tokens WHERE id = %s", [token_id])

    def revoke_all(self, agent_id: str, *, keep: str | None = None) -> None:
        self._txn.run(
            "DELETE FROM access_tokens WHERE agent_id = %s AND id IS DISTINCT FROM %s",
            [agent_id, keep],
        )

    def purge_expired(self, *, now: datetime) -> None:
        # Housekeeping that any login runs: rows another unit is deleting right now
        # (a revocation) are skipped rather than waited for, so a purge never joins a
        # lock cycle; the next login's purge takes them if they are still there.
        self._txn.run(
            "DELETE FROM access_tokens WHERE id IN (SELECT id FROM access_tokens "
            "WHERE expires_at <= %s FOR UPDATE SKIP LOCKED)",
            [to_db(now)],
        )
