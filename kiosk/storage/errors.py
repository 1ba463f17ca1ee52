"""What the store raises."""

from __future__ import annotations

from collections.abc import Iterable


class StoreError(Exception):
    """The store could not do what was asked; nothing was changed."""


class StoreCorrupt(StoreError):
    """The files on disk are damaged in a way recovery must not paper over."""


class StoreWriteError(StoreError):
    """A commit could not be made durable (disk full, I/O error); it was rolled back."""


class UniqueViolation(StoreError):
    def __init__(self, index: str, key: str, doc_ids: Iterable[int]) -> None:
        super().__init__(f"{index}: {key!r} is already used (documents {sorted(doc_ids)})")
        self.index = index
        self.key = key
