"""Documents as the store keeps them: each one its JSON bytes (what the journal records
and the snapshot holds), decoded into a fresh dict on every read; and the view through
which TinyDB's updaters change a table while the store notes what they touched.

Held as bytes, a document costs its JSON length plus about 100 bytes of dictionary entry
and key; decoded into Python dicts and strings it cost about eight times its JSON length
(docs/storage.md, "Memory"). A read decodes (a few microseconds for a customer), which
also means no caller can change the database through an object it was handed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

Doc = dict[str, Any]
# (table, document key, old JSON or None when absent, new JSON or None when removed)
Change = tuple[str, str, bytes | None, bytes | None]


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode(doc: Any) -> bytes:
    return dumps(doc).encode()


class DocTable(MutableMapping[str, Doc]):
    """One table: document key (TinyDB's id as text) → the document's JSON bytes.

    Reading an item decodes it; setting one encodes it. `raw`/`set_raw` move the bytes
    themselves, for the journal, the snapshot and the index."""

    __slots__ = ("_json",)

    def __init__(self, raw: dict[str, bytes] | None = None) -> None:
        self._json: dict[str, bytes] = raw if raw is not None else {}

    @classmethod
    def of(cls, docs: Mapping[str, Any]) -> DocTable:
        return cls({key: encode(doc) for key, doc in docs.items()})

    def __getitem__(self, key: str) -> Doc:
        value: Doc = json.loads(self._json[key])
        return value

    def __setitem__(self, key: str, doc: Mapping[str, Any]) -> None:
        self._json[key] = encode(doc)

    def __delitem__(self, key: str) -> None:
        del self._json[key]

    def __contains__(self, key: object) -> bool:
        return key in self._json

    def __iter__(self) -> Iterator[str]:
        return iter(self._json)

    def __len__(self) -> int:
        return len(self._json)

    def raw(self, key: str) -> bytes | None:
        return self._json.get(key)

    def set_raw(self, key: str, value: bytes | None) -> None:
        if value is None:
            self._json.pop(key, None)
        else:
            self._json[key] = value

    def raw_items(self) -> Iterator[tuple[str, bytes]]:
        return iter(self._json.items())


_GONE = object()


class TrackingView(MutableMapping[int, Any]):
    """What TinyDB's updaters see: one table with int ids. Documents it hands out are
    decoded once and kept here, so an updater that changes one in place (as TinyDB's
    `update` does) changes the view's copy; `changes()` then says which documents differ
    from the table, as (key, old JSON, new JSON). The table is not touched."""

    def __init__(self, table: DocTable) -> None:
        self._table = table
        self._live: dict[str, Any] = {}

    def __getitem__(self, doc_id: int) -> Any:
        key = str(doc_id)
        doc = self._live.get(key)
        if doc is None:
            doc = self._live[key] = self._table[key]
        elif doc is _GONE:
            raise KeyError(doc_id)
        return doc

    def __setitem__(self, doc_id: int, doc: Any) -> None:
        self._live[str(doc_id)] = doc

    def __delitem__(self, doc_id: int) -> None:
        if doc_id not in self:
            raise KeyError(doc_id)
        self._live[str(doc_id)] = _GONE

    def __contains__(self, doc_id: object) -> bool:
        key = str(doc_id)
        if key in self._live:
            return self._live[key] is not _GONE
        return key in self._table

    def __iter__(self) -> Iterator[int]:
        for key in self._table:
            if self._live.get(key) is not _GONE:
                yield int(key)
        for key, doc in list(self._live.items()):
            if key not in self._table and doc is not _GONE:
                yield int(key)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def clear(self) -> None:
        for doc_id in list(self):
            del self[doc_id]

    def changes(self) -> list[tuple[str, bytes | None, bytes | None]]:
        found = []
        for key, doc in self._live.items():
            before = self._table.raw(key)
            after = None if doc is _GONE else encode(doc)
            if after != before:
                found.append((key, before, after))
        return found
