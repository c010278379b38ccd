"""The quick questions, in display order (position, then slug: as chatcore.bot sorts them)."""

from __future__ import annotations

from copy import copy

from adapters.memory.access import Access
from adapters.memory.tables import IntegrityError
from chatcore.bot import FaqEntry, display_order


class MemoryFaqRepository:
    def __init__(self, access: Access) -> None:
        self._access = access

    def add(self, entry: FaqEntry) -> None:
        tables, journal = self._access.change()
        if entry.slug in tables.faqs:
            raise IntegrityError(f"slug {entry.slug} is taken")
        journal.put(tables.faqs, entry.slug, copy(entry))

    def get(self, slug: str) -> FaqEntry | None:
        found = self._access.read().faqs.get(slug)
        return copy(found) if found else None

    def save(self, entry: FaqEntry) -> None:
        tables, journal = self._access.change()
        if entry.slug not in tables.faqs:
            raise LookupError(f"no faqs row {entry.slug!r} to save")
        journal.put(tables.faqs, entry.slug, copy(entry))

    def delete(self, slug: str) -> None:
        tables, journal = self._access.change()
        journal.drop(tables.faqs, slug)

    def all(self) -> list[FaqEntry]:
        return [copy(e) for e in display_order(self._access.read().faqs.values())]
