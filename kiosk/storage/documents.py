"""Documents as the store keeps them: their JSON text (what the journal records), the
copies handed to callers, and the view through which TinyDB's updaters change a table
while the store notes what they touched."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from tinydb.table import Document

Doc = dict[str, Any]
# (table, document key, old JSON or None when absent, new JSON or None when removed)
Change = tuple[str, str, str | None, str | None]


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


class DetachedDocument(Document):
    """A document handed to callers as its own copy: changing it cannot change the
    database behind the journal's back."""

    def __init__(self, value: Mapping[str, Any], doc_id: int) -> None:
        super().__init__(copy_json(dict(value)), doc_id)


class TrackingView(MutableMapping[int, Any]):
    """What TinyDB's updaters see: the live table with int ids, noting each document
    touched and its value before the first touch."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw
        self.before: dict[str, str | None] = {}

    def _touch(self, key: str) -> None:
        if key not in self.before:
            doc = self._raw.get(key)
            self.before[key] = None if doc is None else dumps(doc)

    def __getitem__(self, doc_id: int) -> Any:
        key = str(doc_id)
        doc = self._raw[key]
        self._touch(key)
        return doc

    def __setitem__(self, doc_id: int, doc: Any) -> None:
        key = str(doc_id)
        self._touch(key)
        self._raw[key] = doc

    def __delitem__(self, doc_id: int) -> None:
        key = str(doc_id)
        if key not in self._raw:
            raise KeyError(doc_id)
        self._touch(key)
        del self._raw[key]

    def __contains__(self, doc_id: object) -> bool:
        return str(doc_id) in self._raw

    def __iter__(self) -> Iterator[int]:
        return (int(k) for k in self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def clear(self) -> None:
        for key in list(self._raw):
            self._touch(key)
        self._raw.clear()
