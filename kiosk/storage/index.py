"""Lookups beside a table (phone, email, claim code…), kept in step with every write and
rollback, unique where the shop needs it.

An index is one sorted array of 64-bit entries, `CRC-32 of the key << 32 | document id`:
eight bytes per key of a document, no Python object per entry, and the bytes themselves
are what the snapshot carries (so opening does not run every key function over every
document). A lookup finds the entries of the key's hash by bisection and keeps the
documents whose keys, computed from the document as stored now, include the key: a hash
shared by two keys, or an entry left stale, can cost a decode, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import types
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kiosk.storage.documents import DocTable
from kiosk.storage.errors import StoreCorrupt, StoreError, UniqueViolation

KeyFunction = Callable[[Mapping[str, Any]], Iterable[str]]
MAX_DOC_ID = 2**32 - 1


def _hash(key: str) -> int:
    return zlib.crc32(key.encode())


def fingerprint(fn: Any) -> str:
    """What a key function computes, as far as its code shows: its bytecode, constants and
    names, its closure's values, and the same of every function, pattern or constant it
    names at module level (normalise_phone, and the patterns and functions that uses).
    An index saved under another fingerprint is rebuilt, so a changed key function never
    meets an index the old one built."""
    digest = hashlib.blake2b(digest_size=12)
    _feed(digest, fn, set())
    return digest.hexdigest()


def _feed(digest: Any, value: Any, seen: set[int]) -> None:
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, types.MethodType):
        value = value.__func__
    if isinstance(value, types.FunctionType):
        _feed_code(digest, value.__code__, value.__globals__, seen)
        for cell in value.__closure__ or ():
            _feed(digest, cell.cell_contents, seen)
        for default in value.__defaults__ or ():
            _feed(digest, default, seen)
    elif isinstance(value, str | int | float | bool | bytes | type(None)):
        digest.update(repr(value).encode())
    elif isinstance(value, re.Pattern):
        digest.update(repr((value.pattern, value.flags)).encode())
    elif isinstance(value, list | tuple):
        for item in value:
            _feed(digest, item, seen)
    elif isinstance(value, set | frozenset | dict):
        digest.update(
            repr(sorted(map(repr, value.items() if isinstance(value, dict) else value))).encode()
        )
    elif isinstance(value, type):
        digest.update(f"{value.__module__}.{value.__qualname__}".encode())
    else:
        digest.update(type(value).__qualname__.encode())


def _feed_code(digest: Any, code: types.CodeType, env: dict[str, Any], seen: set[int]) -> None:
    digest.update(code.co_code)
    digest.update(repr(code.co_names).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _feed_code(digest, const, env, seen)
        else:
            digest.update(repr(const).encode())
    for name in code.co_names:
        if name in env and not isinstance(env[name], types.ModuleType):
            _feed(digest, env[name], seen)


class Index:
    """Keys of each document → document ids, kept in step with one table."""

    def __init__(self, name: str, table: str, keys: KeyFunction, *, unique: bool = False) -> None:
        self.name = name
        self.table = table
        self.keys = keys
        self.unique = unique
        self.fingerprint = fingerprint(keys)
        self._entries = array("Q")
        self._docs = DocTable()

    def bind(self, docs: DocTable) -> None:
        """The table whose documents the index points into."""
        self._docs = docs

    # -- reading --
    def lookup(self, key: str) -> list[int]:
        found = []
        for doc_id in self._candidates(_hash(key)):
            raw = self._docs.raw(str(doc_id))
            if raw is not None and key in self.keys_of(json.loads(raw)):
                found.append(doc_id)
        return found

    def _candidates(self, h: int) -> list[int]:
        entries = self._entries
        lo = bisect_left(entries, h << 32)
        hi = bisect_left(entries, (h + 1) << 32, lo)
        return [entries[i] & MAX_DOC_ID for i in range(lo, hi)]

    def keys_of(self, doc: Mapping[str, Any] | None) -> frozenset[str]:
        if doc is None:
            return frozenset()
        return frozenset(k for k in self.keys(doc) if k)

    def __len__(self) -> int:
        """Entries (a key of a document) held."""
        return len(self._entries)

    # -- writing --
    def _entries_of(self, doc_id: int, doc: Mapping[str, Any] | None) -> set[int]:
        if doc_id > MAX_DOC_ID:
            raise StoreError(f"{self.table}: document id {doc_id} is beyond the index's range")
        return {_hash(key) << 32 | doc_id for key in self.keys_of(doc)}

    def _move(self, gone: Iterable[int], new: Iterable[int]) -> None:
        entries = self._entries
        for entry in gone:
            pos = bisect_left(entries, entry)
            if pos < len(entries) and entries[pos] == entry:
                del entries[pos]
        for entry in new:
            pos = bisect_left(entries, entry)
            if pos == len(entries) or entries[pos] != entry:
                entries.insert(pos, entry)

    def apply(
        self, changes: list[tuple[int, Mapping[str, Any] | None, Mapping[str, Any] | None]]
    ) -> None:
        """Index the new versions of changed documents (id, old version, new version), all
        or nothing: a unique key held twice puts every entry back and raises."""
        removed: set[int] = set()
        added: set[int] = set()
        new_keys: set[str] = set()
        for doc_id, old, new in changes:
            before, after = self._entries_of(doc_id, old), self._entries_of(doc_id, new)
            removed |= before - after
            added |= after - before
            if self.unique:
                new_keys |= self.keys_of(new) - self.keys_of(old)
        removed -= added
        self._move(removed, added)
        for key in sorted(new_keys):
            holders = self.lookup(key)
            if len(holders) > 1:
                self._move(added, removed)
                raise UniqueViolation(self.name, key, holders)

    def rebuild(self, docs: DocTable) -> None:
        self.bind(docs)
        entries: set[int] = set()
        for key in docs:
            entries |= self._entries_of(int(key), docs[key])
        self._entries = array("Q", sorted(entries))

    def matches_rebuild(self) -> bool:
        """Whether the entries are those a rebuild from the table gives (`kiosk store check`)."""
        fresh = Index(self.name, self.table, self.keys, unique=self.unique)
        fresh.rebuild(self._docs)
        return fresh._entries == self._entries

    # -- the snapshot's copy --
    def dump(self) -> bytes:
        """The entries, little-endian."""
        entries = self._entries
        if sys.byteorder == "big":
            entries = array("Q", entries)
            entries.byteswap()
        return entries.tobytes()

    def load(self, docs: DocTable, data: bytes) -> None:
        """Entries as `dump` gave them."""
        if len(data) % 8:
            raise StoreCorrupt(
                f"index {self.name}: {len(data)} bytes is not a whole number of entries"
            )
        entries = array("Q")
        entries.frombytes(data)
        if sys.byteorder == "big":
            entries.byteswap()
        self.bind(docs)
        self._entries = entries
