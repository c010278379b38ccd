"""Server instances and the agents' connections each holds: presence across processes.

With SQLite one server owns the file, but the same rows serve it too: a restart
finds its predecessor's counts under another instance id and lets them go.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from adapters.sqlite.rows import to_text
from adapters.sqlite.tables import select


class SqliteInstanceRepository:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db

    def beat(self, instance_id: str, *, now: datetime) -> bool:
        known = self.is_known(instance_id)
        self._db.execute(
            "INSERT INTO server_instances (id, seen_at) VALUES (?, ?)"
            " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            [instance_id, to_text(now)],
        )
        return known

    def is_known(self, instance_id: str) -> bool:
        # The write lock is held for the whole unit: nobody forgets it meanwhile.
        found = select(self._db, "SELECT 1 FROM server_instances WHERE id = ?", [instance_id])
        return bool(found)

    def count_connection(self, instance_id: str, agent_id: str) -> None:
        self._db.execute(
            "INSERT INTO agent_connections (instance_id, agent_id, connections) VALUES (?, ?, 1)"
            " ON CONFLICT (instance_id, agent_id)"
            " DO UPDATE SET connections = connections + 1",
            [instance_id, agent_id],
        )

    def uncount_connection(self, instance_id: str, agent_id: str) -> bool:
        where = "instance_id = ? AND agent_id = ?"
        dropped = self._db.execute(
            f"UPDATE agent_connections SET connections = connections - 1"
            f" WHERE {where} AND connections > 0",
            [instance_id, agent_id],
        ).rowcount
        self._db.execute(
            f"DELETE FROM agent_connections WHERE {where} AND connections = 0",
            [instance_id, agent_id],
        )
        return dropped == 1

    def silent_since(self, moment: datetime) -> list[str]:
        rows = select(
            self._db,
            "SELECT id FROM server_instances WHERE seen_at <= ? ORDER BY id",
            [to_text(moment)],
        )
        return [row["id"] for row in rows]

    def forget(self, instance_id: str) -> dict[str, int]:
        held = select(
            self._db,
            "SELECT agent_id, connections FROM agent_connections WHERE instance_id = ?",
            [instance_id],
        )
        self._db.execute("DELETE FROM agent_connections WHERE instance_id = ?", [instance_id])
        self._db.execute("DELETE FROM server_instances WHERE id = ?", [instance_id])
        return {row["agent_id"]: row["connections"] for row in held}
