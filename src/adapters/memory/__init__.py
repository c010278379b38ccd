"""chatcore's storage in memory: the standard library only, no file, nothing kept.

``MemoryDatabase()`` hands out units of work (``database.uow`` is a
``chatcore.ports.UnitOfWorkFactory``) with the semantics of the SQLite and
PostgreSQL adapters, checked by the same storage contract. For using chatcore as
a library, for tests, and for a throwaway server.
"""

from adapters.memory.database import MemoryDatabase
from adapters.memory.tables import IntegrityError
from adapters.memory.unit_of_work import MemoryUnitOfWork

__all__ = ["IntegrityError", "MemoryDatabase", "MemoryUnitOfWork"]
