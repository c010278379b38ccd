"""The quick questions, in display order (position, then slug: as chatcore.bot sorts them)."""

from __future__ import annotations

import sqlite_utils

from adapters.sqlite.rows import faq_from_row, faq_row
from adapters.sqlite.tables import Rows, insert_row, update_row
from chatcore.bot import FaqEntry


class SqliteFaqRepository:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._table = Rows(db, "faqs")

    def add(self, entry: FaqEntry) -> None:
        insert_row(self._db, "faqs", faq_row(entry))

    def get(self, slug: str) -> FaqEntry | None:
        rows = list(self._table.where("slug = ?", [slug]))
        return faq_from_row(rows[0]) if rows else None

    def save(self, entry: FaqEntry) -> None:
        update_row(self._db, "faqs", faq_row(entry), key="slug")

    def delete(self, slug: str) -> None:
        self._table.delete_where("slug = ?", [slug])

    def all(self) -> list[FaqEntry]:
        return [faq_from_row(row) for row in self._table.where(order_by="position, slug")]
