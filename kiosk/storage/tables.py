"""TinyDB's Table and TinyDB, changing the live tables in place through JournalStorage."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from kiosk.storage.journal_storage import JournalStorage


class JournalTable(Table):
    """A TinyDB Table that changes the live table in place through JournalStorage. The
    table holds each document as JSON bytes (`documents.DocTable`): every document read
    is decoded afresh, so a caller's copy is its own."""

    def __init__(self, storage: Storage, name: str, **kwargs: Any) -> None:
        if not isinstance(storage, JournalStorage):
            raise TypeError("JournalTable needs a JournalStorage")
        super().__init__(storage, name, **kwargs)
        storage.register_table(self)

    def _update_table(self, updater: Callable[[dict[int, Mapping[str, Any]]], None]) -> None:
        storage = self._storage
        assert isinstance(storage, JournalStorage)
        storage.apply(self.name, updater)  # type: ignore[arg-type]
        self.clear_cache()

    def replace(self, doc_id: int, doc: Mapping[str, Any]) -> None:
        """Put a whole new version of an existing document (fields it lacks are gone)."""

        def updater(table: dict[int, Mapping[str, Any]]) -> None:
            if doc_id not in table:
                raise KeyError(f"{self.name}: no document {doc_id}")
            table[doc_id] = dict(doc)

        self._update_table(updater)

    def scan(self) -> Iterator[tuple[int, Mapping[str, Any]]]:
        """Documents in insertion order. Hold the store's lock while iterating."""
        for key, doc in self._read_table().items():
            yield int(key), doc

    def get_many(self, doc_ids: Iterable[int]) -> list[Document]:
        """Documents by id (through an index), as copies; ids not present are skipped."""
        raw = self._read_table()
        return [self.document_class(raw[str(i)], i) for i in doc_ids if str(i) in raw]

    def _ids_matching(self, cond: Any) -> list[int]:
        return [int(k) for k, doc in self._read_table().items() if cond(doc)]

    def update(self, fields: Any, cond: Any = None, doc_ids: Any = None) -> list[int]:
        # Resolve a condition to ids first, so only the matching documents are touched.
        if doc_ids is None and cond is not None:
            doc_ids = self._ids_matching(cond)
        return super().update(fields, doc_ids=doc_ids)

    def remove(self, cond: Any = None, doc_ids: Any = None) -> list[int]:
        if doc_ids is None and cond is not None:
            doc_ids = self._ids_matching(cond)
        return super().remove(doc_ids=doc_ids)


class JournalDB(TinyDB):
    table_class = JournalTable  # type: ignore[assignment]  # TinyDB types it as type[Table]
