"""Lookups beside a table (phone, email, claim code…), kept in step with every write and
rollback, unique where the shop needs it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kiosk.storage.errors import UniqueViolation


class Index:
    """Keys of each document → document ids, kept in step with one table."""

    def __init__(
        self,
        name: str,
        table: str,
        keys: Callable[[Mapping[str, Any]], Iterable[str]],
        *,
        unique: bool = False,
    ) -> None:
        self.name = name
        self.table = table
        self.keys = keys
        self.unique = unique
        self._by_key: dict[str, set[int]] = {}
        self._by_doc: dict[int, frozenset[str]] = {}

    def lookup(self, key: str) -> list[int]:
        return sorted(self._by_key.get(key, ()))

    def __len__(self) -> int:
        return len(self._by_key)

    def _set(self, doc_id: int, keys: frozenset[str]) -> set[str]:
        """Point doc_id at keys; return the keys whose holders changed."""
        old = self._by_doc.get(doc_id, frozenset())
        for key in old - keys:
            holders = self._by_key[key]
            holders.discard(doc_id)
            if not holders:
                del self._by_key[key]
        for key in keys - old:
            self._by_key.setdefault(key, set()).add(doc_id)
        if keys:
            self._by_doc[doc_id] = keys
        else:
            self._by_doc.pop(doc_id, None)
        return set(keys - old)

    def _keys_of(self, doc: Mapping[str, Any] | None) -> frozenset[str]:
        if doc is None:
            return frozenset()
        return frozenset(k for k in self.keys(doc) if k)

    def apply(self, changes: list[tuple[int, Mapping[str, Any] | None]]) -> None:
        """Index the new versions of changed documents, all or nothing."""
        previous = [(doc_id, self._by_doc.get(doc_id, frozenset())) for doc_id, _ in changes]
        added: set[str] = set()
        for doc_id, doc in changes:
            added |= self._set(doc_id, self._keys_of(doc))
        if self.unique:
            for key in added:
                holders = sorted(self._by_key.get(key, ()))
                if len(holders) > 1:
                    for doc_id, keys in reversed(previous):
                        self._set(doc_id, keys)
                    raise UniqueViolation(self.name, key, holders)

    def rebuild(self, raw_table: Mapping[str, Mapping[str, Any]]) -> None:
        self._by_key.clear()
        self._by_doc.clear()
        self.apply([(int(k), doc) for k, doc in raw_table.items()])
