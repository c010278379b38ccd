"""Customer sessions and live agent tokens: rows whose existence is the whole point."""

from __future__ import annotations

from datetime import datetime

from adapters.memory.access import Access
from adapters.memory.tables import IntegrityError, TokenRow


class MemoryCustomerSessionRepository:
    def __init__(self, access: Access) -> None:
        self._access = access

    def add(self, session_id: str, *, created_at: datetime) -> None:
        tables, journal = self._access.change()
        # Keyed lookups, as a database's primary key: no session is ever compared with ==.
        if tables.sessions.get(session_id) is not None:
            raise IntegrityError("customer session exists")
        journal.put(tables.sessions, session_id, created_at)

    def exists(self, session_id: str) -> bool:
        return self._access.read().sessions.get(session_id) is not None


class MemoryAccessTokenRepository:
    """A token is valid only while its row is here and unexpired; revoking deletes the row."""

    def __init__(self, access: Access) -> None:
        self._access = access

    def add(self, token_id: str, *, agent_id: str, expires_at: datetime) -> None:
        tables, journal = self._access.change()
        if token_id in tables.tokens:
            raise IntegrityError(f"token {token_id} exists")
        if agent_id not in tables.agents:
            raise IntegrityError(f"no agent {agent_id}")
        journal.put(tables.tokens, token_id, TokenRow(agent_id, expires_at))

    def is_live(self, token_id: str, *, agent_id: str, now: datetime) -> bool:
        row = self._access.read().tokens.get(token_id)
        return row is not None and row.agent_id == agent_id and now < row.expires_at

    def revoke(self, token_id: str) -> None:
        tables, journal = self._access.change()
        journal.drop(tables.tokens, token_id)

    def revoke_all(self, agent_id: str, *, keep: str | None = None) -> None:
        tables, journal = self._access.change()
        doomed = [t for t, row in tables.tokens.items() if row.agent_id == agent_id and t != keep]
        for token_id in doomed:
            journal.drop(tables.tokens, token_id)

    def purge_expired(self, *, now: datetime) -> None:
        tables, journal = self._access.change()
        for token_id in [t for t, row in tables.tokens.items() if row.expires_at <= now]:
            journal.drop(tables.tokens, token_id)
