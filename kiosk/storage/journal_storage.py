"""TinyDB storage on a journal: the database in memory; each commit one checksummed
record of the changed documents, appended and fdatasynced; compaction folds the journal
into a new snapshot by atomic replace."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb.storages import Storage
from tinydb.table import Table

from kiosk.storage import journal, snapshot
from kiosk.storage.documents import Change, DocTable, TrackingView, encode
from kiosk.storage.errors import StoreError, StoreWriteError
from kiosk.storage.files import Files, replace_atomically
from kiosk.storage.index import Index
from kiosk.storage.journal import JOURNAL_NAME, SNAPSHOT_NAME
from kiosk.storage.lock import lock_directory
from kiosk.storage.recovery import RecoveryReport, recover

log = logging.getLogger(__name__)


# A changed document for the indexes: (id, old version, new version), None when absent.
_Versions = tuple[int, Mapping[str, Any] | None, Mapping[str, Any] | None]


@dataclass
class _Transaction:
    undo: list[Change] = field(default_factory=list)
    ops: dict[tuple[str, str], bytes | None] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)


class JournalStorage(Storage):
    """TinyDB storage: in-memory state, snapshot + append-only journal on disk."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        compact_min_bytes: int = 8 * 1024 * 1024,
        compact_ratio: float = 2.0,
        salvage: bool = False,
        files: Files | None = None,
    ) -> None:
        self.files = files or Files()
        self.directory = Path(path)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = lock_directory(self.directory)
        self.journal_path = self.directory / JOURNAL_NAME
        self.snapshot_path = self.directory / SNAPSHOT_NAME
        self.compact_min_bytes = compact_min_bytes
        self.compact_ratio = compact_ratio
        self.lock = threading.RLock()
        self._txn: _Transaction | None = None
        self._indexes: dict[str, list[Index]] = {}
        self._tables: list[Table] = []
        try:
            recovered = recover(self.files, self.directory, salvage)
        except BaseException:
            os.close(self._lock_fd)
            raise
        self.recovery: RecoveryReport = recovered.report
        self._data: dict[str, DocTable] = recovered.data
        # Until the first change: the snapshot's indexes, for add_index to take as they
        # are (caught up with what the journal changed since) instead of rebuilding.
        self._saved_indexes = recovered.indexes
        self._touched = recovered.touched
        self._seq = recovered.seq
        self._snapshot_bytes = recovered.snapshot_bytes
        # The table dicts by name. A stock Table or TinyDB.drop_table replaces or deletes
        # entries of the live dict before calling write(), leaving the dicts themselves
        # as they were: these references are the "before" that write() diffs against.
        self._refs: dict[str, DocTable] = dict(self._data)
        new_journal = not self.files.exists(self.journal_path)
        self._fd = self.files.open_append(self.journal_path)
        if new_journal:
            self.files.fsync_dir(self.directory)
        self._journal_bytes = self.files.size(self._fd)
        self.commits = 0

    # -- TinyDB's Storage interface --
    def read(self) -> dict[str, DocTable]:  # type: ignore[override]  # a Mapping will do
        """The live state, not a copy: only JournalTable (through `apply`) changes it."""
        return self._data

    def write(self, data: Mapping[str, Mapping[str, Any]]) -> None:
        """Whole-database writes (TinyDB.drop_table(s), a stock Table): diffed per document,
        so they are journaled like any other change. O(database), used rarely."""
        with self.lock:
            old_tables = dict(self._refs)
            changes: list[Change] = []
            for name in set(old_tables) | set(data):
                old = old_tables.get(name, DocTable())
                given = data.get(name, {})
                if given is old:
                    continue
                new = given if isinstance(given, DocTable) else DocTable.of(given)
                for key in set(old) | set(new):
                    before, after = old.raw(key), new.raw(key)
                    if before != after:
                        changes.append((name, key, before, after))
            dropped = [name for name in old_tables if name not in data]
            self._data.clear()
            self._data.update(old_tables)
            self._stage(changes, dropped)

    def close(self) -> None:
        with self.lock:
            if self._fd >= 0:
                self.files.close(self._fd)
                self._fd = -1
            if self._lock_fd >= 0:
                os.close(self._lock_fd)  # releases the flock
                self._lock_fd = -1

    # -- the fast path: one table, the documents an updater touched --
    def apply(self, table: str, updater: Callable[[MutableMapping[int, Any]], None]) -> None:
        with self.lock:
            view = TrackingView(self._raw_table(table))
            updater(view)  # changes the view only: an exception leaves the table as it was
            self._stage([(table, key, before, after) for key, before, after in view.changes()], [])

    def _raw_table(self, name: str) -> DocTable:
        raw = self._refs.get(name)
        if raw is None:
            raw = self._refs[name] = DocTable()
        self._data[name] = raw
        return raw

    # -- staging, commit and rollback --
    def _stage(self, changes: list[Change], dropped: list[str]) -> None:
        """Apply changes to memory and indexes; commit now unless a transaction is open."""
        if not changes and not dropped:
            return
        self._saved_indexes.clear()  # indexes added from now on are built from the tables
        self._touched.clear()
        self._install(changes)
        try:
            self._index(changes)
        except BaseException:
            self._install([(t, k, after, before) for t, k, before, after in reversed(changes)])
            raise
        for name in dropped:
            self._data.pop(name, None)
            self._refs.pop(name, None)
        if self._txn is not None:
            self._txn.undo.extend(changes)
            for name, key, _before, after in changes:
                self._txn.ops[(name, key)] = after
            self._txn.dropped.extend(dropped)
            return
        txn = _Transaction(list(changes), {(t, k): a for t, k, _b, a in changes}, dropped)
        self._commit(txn)

    def _install(self, changes: list[Change]) -> None:
        """Make memory hold the `after` side of changes: the very JSON that is journaled."""
        for name, key, _before, after in changes:
            self._raw_table(name).set_raw(key, after)
        self._clear_caches()

    def _index(self, changes: list[Change]) -> None:
        by_table: dict[str, list[_Versions]] = {}
        for name, key, before, after in changes:
            if name in self._indexes:
                by_table.setdefault(name, []).append((int(key), _decode(before), _decode(after)))
        done: list[tuple[Index, list[_Versions]]] = []
        try:
            for name, docs in by_table.items():
                for index in self._indexes[name]:
                    index.apply(docs)
                    done.append((index, docs))
        except BaseException:
            for index, docs in reversed(done):
                index.apply([(doc_id, new, old) for doc_id, old, new in docs])
            raise

    def _rollback(self, txn: _Transaction, mark: int = 0) -> None:
        undone = txn.undo[mark:]
        del txn.undo[mark:]
        reverse = [(t, k, a, b) for t, k, b, a in reversed(undone)]
        self._install(reverse)
        self._index(reverse)
        for name, key, before, _after in reversed(undone):
            txn.ops[(name, key)] = before  # the earliest "before" is the one that stays
        if mark == 0:
            txn.ops.clear()

    def _commit(self, txn: _Transaction) -> None:
        if not txn.ops and not txn.dropped:
            return
        seq = self._seq + 1
        ops = [
            b"[%s,%s,%s]" % (encode(name), encode(key), b"null" if after is None else after)
            for (name, key), after in txn.ops.items()
        ]
        ops.extend(b"[%s,null,null]" % encode(name) for name in txn.dropped)
        payload = b'{"s":%d,"o":[%s]}' % (seq, b",".join(ops))
        record = journal.frame(payload)
        start = self._journal_bytes
        try:
            self.files.write(self._fd, record)
            self.files.datasync(self._fd)
        except OSError as exc:
            self._cut_back(start)
            self._rollback(txn)
            raise StoreWriteError(f"commit {seq} not saved to {self.journal_path}: {exc}") from exc
        self._seq = seq
        self._journal_bytes = start + len(record)
        self.commits += 1
        if self._journal_bytes > max(
            self.compact_min_bytes, self.compact_ratio * self._snapshot_bytes
        ):
            try:
                self.compact()
            except OSError:
                # The commit is durable in the journal; compaction is tried again later.
                log.exception("compaction failed; the journal keeps growing until it succeeds")

    def _cut_back(self, size: int) -> None:
        """A failed append may leave part of a record: cut it, so the next commit does not
        land behind garbage. No fsync: the next commit's makes the cut durable with it,
        and a cut lost to a power cut before then leaves a torn tail, which opening cuts
        (tests/reliability/test_power_loss.py)."""
        try:
            self.files.truncate(self._fd, size)
        except OSError:
            log.exception("could not cut the journal back to %d bytes", size)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Writes inside are committed as one durable record on exit, or not at all.
        Nested transactions are savepoints of the outer one."""
        with self.lock:
            if self._fd < 0:
                raise StoreError("the store is closed")
            outer = self._txn
            if outer is not None:
                mark = len(outer.undo)
                try:
                    yield
                except BaseException:
                    self._rollback(outer, mark)
                    raise
                return
            txn = self._txn = _Transaction()
            try:
                yield
            except BaseException:
                self._txn = None
                self._rollback(txn)
                raise
            self._txn = None
            self._commit(txn)

    # -- indexes and table caches --
    def add_index(self, index: Index) -> Index:
        """Register an index: the snapshot's copy when it was built by the same key
        function (caught up with the journal's changes since), else built afresh."""
        with self.lock:
            docs = self._raw_table(index.table)
            saved = self._saved_indexes.pop(index.name, None)
            if saved and (saved.table, saved.fingerprint) == (index.table, index.fingerprint):
                index.load(docs, saved.entries)
                since = self._touched.get(index.table, {})
                index.apply([(int(k), _decode(old), docs.get(k)) for k, old in since.items()])
            else:
                index.rebuild(docs)
            self._indexes.setdefault(index.table, []).append(index)
            return index

    def stale_indexes(self) -> list[str]:
        """Indexes whose entries differ from a rebuild from their table (none, unless a
        bug or a key function whose fingerprint missed a change)."""
        with self.lock:
            return [
                index.name
                for table in self._indexes.values()
                for index in table
                if not index.matches_rebuild()
            ]

    def register_table(self, table: Table) -> None:
        self._tables.append(table)

    def _clear_caches(self) -> None:
        for table in self._tables:
            table.clear_cache()

    # -- compaction and recovery --
    def compact(self) -> None:
        """Fold the journal into a new snapshot (atomic replace), then empty the journal."""
        with self.lock:
            if self._txn is not None:
                raise StoreError("cannot compact inside a transaction")
            indexes = [
                (index.name, index.table, index.fingerprint, index.dump())
                for table in self._indexes.values()
                for index in table
            ]
            record = journal.frame(snapshot.encode(self._seq, self._data, indexes))
            replace_atomically(self.files, self.snapshot_path, record)
            # Records up to _seq are now in the snapshot; if we crash before the journal is
            # emptied, recovery skips them by their sequence number.
            self.files.truncate(self._fd, 0)
            self.files.fsync(self._fd)
            self._journal_bytes = 0
            self._snapshot_bytes = len(record)
            self._saved_indexes.clear()
            self._touched.clear()

    # -- figures for `kiosk store check` and the benchmark --
    @property
    def seq(self) -> int:
        return self._seq

    @property
    def journal_bytes(self) -> int:
        return self._journal_bytes

    @property
    def snapshot_bytes(self) -> int:
        return self._snapshot_bytes

    @property
    def index_bytes(self) -> int:
        """What the indexes' entries take in memory (and in the snapshot)."""
        return sum(8 * len(index) for table in self._indexes.values() for index in table)


def _decode(raw: bytes | None) -> Any:
    return None if raw is None else json.loads(raw)
