import os
from pathlib import Path

import pytest
from tinydb import Query

from kiosk.storage import journal
from kiosk.storage.store import (
    JOURNAL_NAME,
    Store,
    StoreCorrupt,
    StoreError,
    StoreWriteError,
    UniqueViolation,
)


def reopen(store: Store) -> Store:
    path = store.storage.directory
    store.close()
    return Store(path)


def test_transaction_commits_both_tables_as_one_record(store):
    with store.transaction():
        store.table("orders").insert({"n": 1})
        store.table("outbox").insert({"op": "a"})
    assert store.storage.seq == 1
    store = reopen(store)
    assert store.table("orders").all() == [{"n": 1}]
    assert store.table("outbox").all() == [{"op": "a"}]
    store.close()


def test_exception_rolls_back_everything(store):
    store.table("orders").insert({"n": 0})
    with pytest.raises(RuntimeError), store.transaction():
        store.table("orders").update({"n": 99}, doc_ids=[1])
        store.table("orders").insert({"n": 1})
        store.table("outbox").insert({"op": "a"})
        raise RuntimeError("customer walked away")
    assert store.table("orders").all() == [{"n": 0}]
    assert store.table("outbox").all() == []
    store = reopen(store)
    assert store.table("orders").all() == [{"n": 0}] and store.storage.seq == 1
    store.close()


def test_nested_transaction_is_a_savepoint(store):
    t = store.table("t")
    with store.transaction():
        t.insert({"a": 1})
        with pytest.raises(ValueError), store.transaction():
            t.update({"a": 2}, doc_ids=[1])
            t.insert({"b": 1})
            raise ValueError
        t.insert({"c": 1})
    assert [dict(d) for d in t.all()] == [{"a": 1}, {"c": 1}]
    store = reopen(store)
    assert [dict(d) for d in store.table("t").all()] == [{"a": 1}, {"c": 1}]
    store.close()


def test_unique_index_refuses_and_leaves_no_trace(store):
    t = store.table("customers")
    idx = store.add_index("phone", "customers", lambda d: [d["phone"]], unique=True)
    t.insert({"phone": "1"})
    with pytest.raises(UniqueViolation, match=r"'1' is already used \(documents \[1, 2\]\)"):
        t.insert({"phone": "1"})
    assert len(t) == 1 and idx.lookup("1") == [1]
    t.insert({"phone": "2"})
    with pytest.raises(UniqueViolation):
        t.update({"phone": "1"}, doc_ids=[3])
    assert t.get(doc_id=3) == {"phone": "2"} and idx.lookup("2") == [3]


def test_index_follows_updates_removes_and_rollbacks(store):
    t = store.table("c")
    idx = store.add_index("city", "c", lambda d: [d["city"]])
    t.insert_multiple([{"city": "Lyon"}, {"city": "Lyon"}, {"city": "Nice"}])
    assert idx.lookup("Lyon") == [1, 2]
    t.update({"city": "Nice"}, Query().city == "Lyon")
    assert idx.lookup("Lyon") == [] and idx.lookup("Nice") == [1, 2, 3]
    with pytest.raises(KeyError), store.transaction():
        t.remove(doc_ids=[3])
        raise KeyError
    assert idx.lookup("Nice") == [1, 2, 3]
    t.remove(Query().city == "Nice")
    assert len(idx) == 0


def test_documents_handed_out_are_copies(store):
    t = store.table("t")
    doc = {"lines": [1, 2]}
    t.insert(doc)
    doc["lines"].append(3)  # the caller's dict is not the stored one
    got = t.get(doc_id=1)
    got["lines"].append(4)
    assert t.get(doc_id=1) == {"lines": [1, 2]}


def test_conditional_update_journals_only_matching_documents(store):
    t = store.table("t")
    t.insert_multiple({"i": i} for i in range(100))
    before = store.storage.journal_bytes
    t.update({"x": 1}, Query().i == 7)
    assert store.storage.journal_bytes - before < 80


def test_unserialisable_document_is_refused_whole(store):
    t = store.table("t")
    with pytest.raises(TypeError):
        t.insert_multiple([{"ok": 1}, {"bad": object()}])
    assert len(t) == 0
    with pytest.raises(ValueError):
        t.insert({"f": float("nan")})


def test_stock_tinydb_whole_database_writes_are_journaled(store):
    store.table("a").insert({"x": 1})
    store.table("b").insert({"y": 1})
    store.db.drop_table("a")
    store = reopen(store)
    assert store.db.tables() == {"b"}
    store.db.drop_tables()
    store = reopen(store)
    assert store.db.tables() == set()
    store.close()


def test_compaction_keeps_everything_and_empties_the_journal(store_dir):
    s = Store(store_dir, compact_min_bytes=2000, compact_ratio=1.0)
    t = s.table("t")
    for i in range(200):
        t.insert({"i": i, "pad": "x" * 50})
    assert s.storage.snapshot_bytes > 0
    assert s.storage.journal_bytes < 2000 + 200
    s.close()
    s = Store(store_dir)
    assert [d["i"] for d in s.table("t").all()] == list(range(200))
    assert s.recovery.snapshot_seq > 0
    s.close()


def test_crash_between_snapshot_and_journal_reset_replays_nothing_twice(store_dir):
    s = Store(store_dir)
    for i in range(5):
        s.table("t").insert({"i": i})
    saved = (store_dir / JOURNAL_NAME).read_bytes()
    s.compact()
    s.close()
    (store_dir / JOURNAL_NAME).write_bytes(saved)  # as if the truncate never happened
    s = Store(store_dir)
    assert len(s.table("t")) == 5 and s.recovery.records_skipped == 5
    s.close()


def test_failed_append_is_cut_back_and_rolled_back(store, monkeypatch):
    t = store.table("t")
    t.insert({"a": 1})
    size = store.storage.journal_bytes
    real_write = os.write

    def half_then_fail(fd, data):
        real_write(fd, bytes(data)[:5])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_fail)
    with pytest.raises(StoreWriteError, match="No space left"), store.transaction():
        t.insert({"a": 2})
        store.table("outbox").insert({"op": 2})
    monkeypatch.undo()
    assert len(t) == 1 and len(store.table("outbox")) == 0
    assert (store.storage.directory / JOURNAL_NAME).stat().st_size == size
    t.insert({"a": 3})
    store = reopen(store)
    assert [d["a"] for d in store.table("t").all()] == [1, 3]
    store.close()


def test_only_one_process_may_open_the_store(store, store_dir):
    with pytest.raises(StoreError, match="in use by process"):
        Store(store_dir)


def test_mid_file_damage_is_not_silently_cut(store_dir):
    s = Store(store_dir)
    for i in range(4):
        s.table("t").insert({"i": i})
    s.close()
    path = store_dir / JOURNAL_NAME
    data = bytearray(path.read_bytes())
    second = journal.scan(bytes(data)).payloads[1][0]
    data[second + journal.HEADER.size + 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupt, match="intact records follow"):
        Store(store_dir)
    s = Store(store_dir, salvage=True)
    assert [d["i"] for d in s.table("t").all()] == [0]
    aside = Path(s.recovery.salvaged_to)
    assert aside.exists() and aside.stat().st_size > 0
    s.close()


def test_damaged_snapshot_is_reported_not_replaced_by_nothing(store_dir):
    s = Store(store_dir)
    s.table("t").insert({"i": 1})
    s.compact()
    s.close()
    snap = store_dir / "kiosk.snapshot"
    snap.write_bytes(snap.read_bytes()[:-3])
    with pytest.raises(StoreCorrupt, match="snapshot is damaged"):
        Store(store_dir)
