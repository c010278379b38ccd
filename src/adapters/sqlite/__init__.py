"""SQLite storage for chatcore, on sqlite-utils.

``SqliteDatabase(path)`` opens the file (WAL, foreign keys, busy timeout),
migrates it forward and hands out units of work: ``database.uow`` is a
``chatcore.ports.UnitOfWorkFactory``.
"""

from adapters.sqlite.database import SqliteDatabase
from adapters.sqlite.migrations import SCHEMA_VERSION, SchemaTooNew
from adapters.sqlite.unit_of_work import SqliteUnitOfWork

__all__ = ["SCHEMA_VERSION", "SchemaTooNew", "SqliteDatabase", "SqliteUnitOfWork"]
