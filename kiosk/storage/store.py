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

import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from kiosk.storage import journal
from kiosk.storage.files import Files, replace_atomically, write_durably

log = logging.getLogger(__name__)

JOURNAL_NAME = "kiosk.journal"
SNAPSHOT_NAME = "kiosk.snapshot"
FORMAT_VERSION = 1

Doc = dict[str, Any]
# (table, document key, old JSON or None when absent, new JSON or None when removed)
Change = tuple[str, str, str | None, str | None]


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


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


class DetachedDocument(Document):
    """A document handed to callers as its own copy: changing it cannot change the
    database behind the journal's back."""

    def __init__(self, value: Mapping[str, Any], doc_id: int) -> None:
        super().__init__(_copy_json(dict(value)), doc_id)


@dataclass
class RecoveryReport:
    snapshot_seq: int = 0
    records_replayed: int = 0
    records_skipped: int = 0  # already in the snapshot
    torn_bytes: int = 0  # an unacknowledged record cut off the tail
    salvaged_to: str = ""  # damaged middle of the journal, kept aside
    seconds: float = 0.0


def _lock_directory(directory: Path) -> int:
    """TinyDB is single-process: a second process writing the same files would lose
    commits. An exclusive flock on LOCK makes a second opener fail at once, by name."""
    fd = os.open(directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise StoreError(
            f"{directory} is in use by process {holder} (is `kiosk run` running?); "
            "only one process may open the store"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


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


class _TrackingView(MutableMapping[int, Any]):
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


@dataclass
class _Transaction:
    undo: list[Change] = field(default_factory=list)
    ops: dict[tuple[str, str], str | None] = field(default_factory=dict)
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
        self._lock_fd = _lock_directory(self.directory)
        self.journal_path = self.directory / JOURNAL_NAME
        self.snapshot_path = self.directory / SNAPSHOT_NAME
        self.compact_min_bytes = compact_min_bytes
        self.compact_ratio = compact_ratio
        self.lock = threading.RLock()
        self._data: dict[str, dict[str, Any]] = {}
        self._seq = 0
        self._txn: _Transaction | None = None
        self._indexes: dict[str, list[Index]] = {}
        self._tables: list[Table] = []
        self._snapshot_bytes = 0
        try:
            self.recovery = self._recover(salvage)
        except BaseException:
            os.close(self._lock_fd)
            raise
        # The table dicts by name. A stock Table or TinyDB.drop_table replaces or deletes
        # entries of the live dict before calling write(), leaving the dicts themselves
        # as they were: these references are the "before" that write() diffs against.
        self._refs: dict[str, dict[str, Any]] = dict(self._data)
        new_journal = not self.files.exists(self.journal_path)
        self._fd = self.files.open_append(self.journal_path)
        if new_journal:
            self.files.fsync_dir(self.directory)
        self._journal_bytes = self.files.size(self._fd)
        self.commits = 0

    # -- TinyDB's Storage interface --
    def read(self) -> dict[str, dict[str, Any]]:
        """The live state, not a copy: only JournalTable (through `apply`) changes it."""
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Whole-database writes (TinyDB.drop_table(s), a stock Table): diffed per document,
        so they are journaled like any other change. O(database), used rarely."""
        with self.lock:
            old_tables = dict(self._refs)
            changes: list[Change] = []
            for name in set(old_tables) | set(data):
                old = old_tables.get(name, {})
                new = data.get(name, {})
                for key in set(old) | set(new):
                    before = dumps(old[key]) if key in old else None
                    after = dumps(new[key]) if key in new else None
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
            raw = self._raw_table(table)
            view = _TrackingView(raw)
            try:
                updater(view)
                changes: list[Change] = []
                for key, before in view.before.items():
                    doc = raw.get(key)
                    after = None if doc is None else dumps(doc)
                    if after != before:
                        changes.append((table, key, before, after))
            except BaseException:
                self._restore([(table, key, before, None) for key, before in view.before.items()])
                raise
            self._stage(changes, [])

    def _raw_table(self, name: str) -> dict[str, Any]:
        raw = self._refs.get(name)
        if raw is None:
            raw = self._refs[name] = {}
        self._data[name] = raw
        return raw

    # -- staging, commit and rollback --
    def _stage(self, changes: list[Change], dropped: list[str]) -> None:
        """Apply changes to memory and indexes; commit now unless a transaction is open."""
        if not changes and not dropped:
            return
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
        """Make memory hold the `after` side of changes, parsed from the JSON that is
        journaled, so memory and disk agree and no caller's object is aliased."""
        for name, key, _before, after in changes:
            raw = self._raw_table(name)
            if after is None:
                raw.pop(key, None)
            else:
                raw[key] = json.loads(after)
        self._clear_caches()

    def _restore(self, changes: list[Change]) -> None:
        """Put memory back to the `before` side of changes (newest first)."""
        for name, key, before, _after in reversed(changes):
            raw = self._raw_table(name)
            if before is None:
                raw.pop(key, None)
            else:
                raw[key] = json.loads(before)
        self._clear_caches()

    def _index(self, changes: list[Change]) -> None:
        by_table: dict[str, list[tuple[int, Mapping[str, Any] | None]]] = {}
        for name, key, _before, _after in changes:
            if name in self._indexes:
                by_table.setdefault(name, []).append((int(key), self._data[name].get(key)))
        done: list[tuple[Index, list[tuple[int, Mapping[str, Any] | None]]]] = []
        try:
            for name, docs in by_table.items():
                for index in self._indexes[name]:
                    index.apply(docs)
                    done.append((index, docs))
        except BaseException:
            self._reindex_docs(done, changes)
            raise

    def _reindex_docs(
        self,
        done: list[tuple[Index, list[tuple[int, Mapping[str, Any] | None]]]],
        changes: list[Change],
    ) -> None:
        before = {(t, int(k)): (json.loads(b) if b is not None else None) for t, k, b, _ in changes}
        for index, docs in reversed(done):
            index.apply([(doc_id, before[(index.table, doc_id)]) for doc_id, _ in docs])

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
            f"[{dumps(name)},{dumps(key)},{after if after is not None else 'null'}]"
            for (name, key), after in txn.ops.items()
        ]
        ops.extend(f"[{dumps(name)},null,null]" for name in txn.dropped)
        payload = ('{"s":' + str(seq) + ',"o":[' + ",".join(ops) + "]}").encode()
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
        with self.lock:
            index.rebuild(self._data.get(index.table, {}))
            self._indexes.setdefault(index.table, []).append(index)
            return index

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
            body = dumps({"v": FORMAT_VERSION, "s": self._seq, "t": self._data}).encode()
            record = journal.frame(body)
            replace_atomically(self.files, self.snapshot_path, record)
            # Records up to _seq are now in the snapshot; if we crash before the journal is
            # emptied, recovery skips them by their sequence number.
            self.files.truncate(self._fd, 0)
            self.files.fsync(self._fd)
            self._journal_bytes = 0
            self._snapshot_bytes = len(record)

    def _recover(self, salvage: bool) -> RecoveryReport:
        started = time.perf_counter()
        report = RecoveryReport()
        files = self.files
        files.unlink(self.snapshot_path.with_name(self.snapshot_path.name + ".tmp"))
        data = files.read(self.snapshot_path)
        if data is not None:
            found = journal.scan(data)
            if len(found.payloads) != 1 or not found.clean:
                raise StoreCorrupt(
                    f"{self.snapshot_path}: snapshot is damaged (checksum or length wrong); "
                    "it is written by atomic replace, so this is media damage: restore it "
                    "from a backup or the back office"
                )
            body = json.loads(found.payloads[0][1])
            if body.get("v") != FORMAT_VERSION:
                raise StoreCorrupt(f"{self.snapshot_path}: unknown format version {body.get('v')}")
            self._data = body["t"]
            self._seq = report.snapshot_seq = body["s"]
            self._snapshot_bytes = len(data)
        data = files.read(self.journal_path)
        if data is None:
            report.seconds = time.perf_counter() - started
            return report
        found = journal.scan(data)
        for offset, payload in found.payloads:
            try:
                body = json.loads(payload)
                seq = body["s"]
            except (ValueError, KeyError, TypeError) as exc:
                raise StoreCorrupt(
                    f"{self.journal_path}: record at byte {offset} has a valid checksum but "
                    f"cannot be read ({exc}); was it written by a newer version?"
                ) from exc
            if seq <= self._seq:
                report.records_skipped += 1
                continue
            if seq != self._seq + 1:
                raise StoreCorrupt(
                    f"{self.journal_path}: record at byte {offset} has sequence {seq}, "
                    f"expected {self._seq + 1}: a commit is missing"
                )
            self._replay(body["o"])
            self._seq = seq
            report.records_replayed += 1
        if not found.clean:
            later = journal.later_record_after(data, found.good_end)
            if later is not None:
                if not salvage:
                    raise StoreCorrupt(
                        f"{self.journal_path}: the record at byte {found.good_end} is damaged "
                        f"and intact records follow at byte {later}; this is not a torn "
                        "write. Run `kiosk store check --salvage` to keep the damaged part "
                        "aside and open with the commits before it"
                    )
                aside = self.directory / f"{JOURNAL_NAME}.damaged-{int(time.time())}"
                write_durably(files, aside, data[found.good_end :])
                report.salvaged_to = str(aside)
                log.error("journal damaged at byte %d; kept aside in %s", found.good_end, aside)
            else:
                report.torn_bytes = found.size - found.good_end
                log.warning("cut %d bytes of an unfinished commit", report.torn_bytes)
            # No fsync: the next commit's makes the cut durable; lost before then, the
            # torn tail comes back and is cut again (the power-loss test's double cut).
            fd = files.open_append(self.journal_path)
            try:
                files.truncate(fd, found.good_end)
            finally:
                files.close(fd)
        report.seconds = time.perf_counter() - started
        return report

    def _replay(self, ops: list[list[Any]]) -> None:
        for name, key, doc in ops:
            if key is None:
                self._data.pop(name, None)
                continue
            raw = self._data.setdefault(name, {})
            if doc is None:
                raw.pop(key, None)
            else:
                raw[key] = doc

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


class JournalTable(Table):
    """A TinyDB Table that changes the live table in place through JournalStorage."""

    document_class = DetachedDocument

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
        """Documents in insertion order, *not* copied: read them, never change them.
        Hold the store's lock while iterating."""
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
