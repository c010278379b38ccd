"""The quick questions, in display order (position, then slug: as chatcore.bot sorts them)."""

from __future__ import annotations

from adapters.postgres.rows import faq_from_row, faq_row
from adapters.postgres.sql import Txn
from adapters.storable_text import is_storable
from chatcore.bot import FaqEntry

# Any fixed 64-bit number; it only has to differ from the other advisory locks.
CATALOGUE_LOCK = 0x636861746661  # "chatfa"


class PostgresFaqRepository:
    """A write unit that looks up or changes a quick question takes an advisory lock:
    "slug taken?" then INSERT must not race (two admins creating one slug would break
    the unique key, a 500, where SQLite's single writer answers 409). Admins edit the
    FAQ rarely; a customer's quick reply looks its entry up and takes the lock too,
    for the few milliseconds to its commit. The bot's ``all()`` takes none."""

    def __init__(self, txn: Txn) -> None:
        self._txn = txn
        self._locked = False

    def _lock(self) -> None:
        if self._txn.write and not self._locked:
            self._txn.run("SELECT pg_advisory_xact_lock(%s)", [CATALOGUE_LOCK])
            self._locked = True

    def add(self, entry: FaqEntry) -> None:
        self._lock()
        self._txn.insert("faqs", faq_row(entry))

    def get(self, slug: str) -> FaqEntry | None:
        if not is_storable(slug):
            return None  # no row can have it; PostgreSQL would refuse even to compare
        self._lock()
        row = self._txn.one("SELECT * FROM faqs WHERE slug = %s", [slug])
        return faq_from_row(row) if row else None

    def save(self, entry: FaqEntry) -> None:
        self._lock()
        self._txn.update("faqs", faq_row(entry), key="slug")

    def delete(self, slug: str) -> None:
        self._lock()
        self._txn.run("DELETE FROM faqs WHERE slug = %s", [slug])

    def all(self) -> list[FaqEntry]:
        # No lock: the bot reads the whole catalogue inside customers' write units.
        return [
            faq_from_row(row)
            for row in self._txn.rows("SELECT * FROM faqs ORDER BY position, slug")
        ]
