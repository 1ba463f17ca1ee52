"""A TinyDB database that survives power cuts and whose commits cost the same at any size.

Stock TinyDB rewrites the whole JSON file in place on every change, and its Table copies
the whole table twice per write. Here:

- `JournalStorage` (TinyDB's two-method Storage interface) keeps the database in memory
  and makes each commit durable by appending one checksummed record of the *changed
  documents* to a journal and fsyncing it. A snapshot plus the journal is the database;
  compaction writes a new snapshot by atomic replace. Opening recovers: the snapshot,
  then every complete journal record, and a torn tail cut off.
- `JournalTable` (TinyDB's `table_class` hook) changes the in-memory table in place and
  reports exactly which documents a write touched, so a commit costs O(changed bytes).
- `transaction()` groups writes across tables into one record: a business change and
  its outbox entry are durable together or not at all.
- `Index` keeps lookups (phone, email, claim code…) beside a table, up to date on every
  write and rollback, unique where the shop needs it.

See docs/storage.md for the guarantees and their limits.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from kiosk.storage.documents import dumps
from kiosk.storage.errors import StoreCorrupt, StoreError, StoreWriteError, UniqueViolation
from kiosk.storage.index import Index
from kiosk.storage.journal import JOURNAL_NAME, SNAPSHOT_NAME
from kiosk.storage.journal_storage import JournalStorage
from kiosk.storage.recovery import RecoveryReport
from kiosk.storage.tables import JournalDB, JournalTable

__all__ = [
    "JOURNAL_NAME",
    "SNAPSHOT_NAME",
    "Index",
    "JournalStorage",
    "RecoveryReport",
    "Store",
    "StoreCorrupt",
    "StoreError",
    "StoreWriteError",
    "UniqueViolation",
    "dumps",
]


class Store:
    """The kiosk's database: TinyDB tables on a journal, with transactions and indexes."""

    def __init__(self, path: str | os.PathLike[str], **options: Any) -> None:
        self.db = JournalDB(path, storage=JournalStorage, **options)
        storage = self.db.storage
        assert isinstance(storage, JournalStorage)
        self.storage: JournalStorage = storage
        self.lock = storage.lock

    def table(self, name: str) -> JournalTable:
        table = self.db.table(name)
        assert isinstance(table, JournalTable)
        return table

    def transaction(self) -> AbstractContextManager[None]:
        return self.storage.transaction()

    def add_index(
        self,
        name: str,
        table: str,
        keys: Callable[[Mapping[str, Any]], Iterable[str]],
        *,
        unique: bool = False,
    ) -> Index:
        return self.storage.add_index(Index(name, table, keys, unique=unique))

    def compact(self) -> None:
        self.storage.compact()

    @property
    def recovery(self) -> RecoveryReport:
        return self.storage.recovery

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
