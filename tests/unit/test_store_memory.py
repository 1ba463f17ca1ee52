"""The compact store (issue 13 §3): documents held as JSON bytes, indexes as sorted
arrays of (key hash, document id) carried in the snapshot, format 1 snapshots still read."""

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.domain.customers import normalise_phone
from kiosk.services.demo_data import demo_records
from kiosk.storage import index as index_module
from kiosk.storage import journal
from kiosk.storage.documents import dumps
from kiosk.storage.index import Index, fingerprint
from kiosk.storage.journal import SNAPSHOT_NAME
from kiosk.storage.repositories import open_repositories
from kiosk.storage.store import Store, UniqueViolation

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _fill(store_dir: Path, customers: int) -> list:
    records = list(demo_records("BO-", "EUR", NOW, customers))
    with Store(store_dir) as store:
        repos = open_repositories(store, country_calling_code="33")
        with store.transaction():
            for record in records:
                repos.customers.add(record.customer)
                repos.orders.add(record.order)
        store.compact()
        # After the snapshot, the journal changes what its indexes hold: a new phone, a
        # removed customer, an order moved on, a new customer, a table dropped whole.
        first, second, third = (r.customer for r in records[:3])
        repos.customers.save(replace(first, mobile="06 99 88 77 66"))
        repos.customers.remove(second.account_number)
        order = records[3].order
        repos.orders.save(replace(order, location="B-07"))
        repos.customers.add(replace(third, account_number="BO-NEW", rewards_card="R-NEW"))
        store.table("scratch").insert({"x": 1})
        store.db.drop_table("scratch")
    return records


def test_saved_indexes_are_reused_and_equal_a_rebuild(store_dir, monkeypatch):
    records = _fill(store_dir, 60)

    def no_rebuild(self, docs):
        raise AssertionError(f"{self.name} was rebuilt, not taken from the snapshot")

    monkeypatch.setattr(Index, "rebuild", no_rebuild)
    with Store(store_dir) as store:
        repos = open_repositories(store, country_calling_code="33")
        monkeypatch.undo()
        assert store.storage.recovery.records_replayed == 6
        assert store.storage.stale_indexes() == []
        assert [c.account_number for c in repos.customers.find_by_phone("+33 6 99 88 77 66")] == [
            records[0].customer.account_number
        ]
        assert repos.customers.get(records[1].customer.account_number) is None
        assert [o.number for o in repos.orders.located_in("B-07")] == [records[3].order.number]
        assert repos.customers.find_by_rewards_card("R-NEW").account_number == "BO-NEW"


def test_an_index_saved_by_another_key_function_is_rebuilt(store_dir):
    with Store(store_dir) as store:
        store.add_index("t.k", "t", lambda d: [d["a"]])
        store.table("t").insert({"a": "x", "b": "y"})
        store.compact()
    with Store(store_dir) as store:
        by_b = store.add_index("t.k", "t", lambda d: [d["b"]])
        assert by_b.lookup("y") == [1]
        assert by_b.lookup("x") == []


def test_fingerprint_follows_the_code_and_values_a_key_function_uses():
    def phone_33(d):
        return [normalise_phone(d["phone"], "33")]

    def phone_44(d):
        return [normalise_phone(d["phone"], "44")]

    def upper(d):
        return [d["phone"].upper()]

    def closure(code):
        return lambda d: [normalise_phone(d["phone"], code)]

    prints = {fingerprint(f) for f in (phone_33, phone_44, upper, closure("33"), closure("44"))}
    assert len(prints) == 5
    assert fingerprint(closure("33")) == fingerprint(closure("33"))


def test_fingerprint_follows_a_change_in_a_function_or_pattern_the_key_function_calls():
    """As when normalise_phone, or the pattern it uses, changes in an upgrade."""

    def key_function(helper_source: str):
        env: dict = {}
        exec("import re\n" + helper_source + "def key(d):\n    return [helper(d['p'])]\n", env)
        return env["key"]

    strip = key_function("def helper(p):\n    return p.strip()\n")
    lower = key_function("def helper(p):\n    return p.lower()\n")
    digits = key_function("_P = re.compile('\\\\D')\ndef helper(p):\n    return _P.sub('', p)\n")
    words = key_function("_P = re.compile('\\\\W')\ndef helper(p):\n    return _P.sub('', p)\n")
    assert digits({"p": "06 12"}) == ["0612"]
    assert len({fingerprint(f) for f in (strip, lower, digits, words)}) == 4


def test_fingerprint_is_the_same_in_every_process():
    """An index saved by one run must be taken by the next: no hash seed in it."""
    code = (
        "from kiosk.storage.store import Store; from kiosk.storage.repositories import "
        "open_repositories; import tempfile; s = Store(tempfile.mkdtemp()); "
        "open_repositories(s, country_calling_code='33'); "
        "print(sorted((i.name, i.fingerprint) for t in s.storage._indexes.values() for i in t))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(runs) == 1


def test_lookups_and_uniqueness_hold_when_every_key_shares_one_hash(store, monkeypatch):
    monkeypatch.setattr(index_module, "_hash", lambda key: 7)
    by_code = store.add_index("t.code", "t", lambda d: [d["code"]], unique=True)
    by_city = store.add_index("t.city", "t", lambda d: [d["city"]])
    table = store.table("t")
    for code, city in (("A", "Lyon"), ("B", "Paris"), ("C", "Lyon")):
        table.insert({"code": code, "city": city})
    assert by_code.lookup("B") == [2]
    assert by_city.lookup("Lyon") == [1, 3]
    assert by_city.lookup("Nice") == []
    with pytest.raises(UniqueViolation):
        table.insert({"code": "A", "city": "Nice"})
    assert len(table) == 3
    table.update({"code": "D"}, doc_ids=[1])
    assert by_code.lookup("A") == [] and by_code.lookup("D") == [1]


def test_a_format_1_snapshot_still_opens_and_is_rewritten_as_format_2(store_dir):
    store_dir.mkdir()
    body = {"v": 1, "s": 4, "t": {"customers": {"1": {"name": "Zofia Łukasiewicz"}}}}
    (store_dir / SNAPSHOT_NAME).write_bytes(journal.frame(dumps(body).encode()))
    with Store(store_dir) as store:
        by_name = store.add_index("c.name", "customers", lambda d: [d["name"]])
        assert by_name.lookup("Zofia Łukasiewicz") == [1]
        assert store.storage.seq == 4
        store.compact()
    payload = journal.scan((store_dir / SNAPSHOT_NAME).read_bytes()).payloads[0][1]
    assert payload.startswith(b'{"v":2,"s":4,')
    with Store(store_dir) as store:
        assert store.table("customers").get(doc_id=1) == {"name": "Zofia Łukasiewicz"}


def test_an_updater_that_fails_leaves_the_table_and_journal_as_they_were(store):
    table = store.table("t")
    table.insert({"n": 1})
    before = store.storage.journal_bytes

    def half_done(doc):
        doc["n"] = 2
        raise RuntimeError("the updater failed")

    with pytest.raises(RuntimeError):
        table.update(half_done, doc_ids=[1])
    assert table.get(doc_id=1) == {"n": 1}
    assert store.storage.journal_bytes == before


def test_memory_holds_each_document_as_its_journaled_json(store):
    table = store.table("t")
    table.insert({"name": "王小明", "n": 1})
    docs = store.storage.read()["t"]
    assert docs.raw("1") == dumps({"name": "王小明", "n": 1}).encode()
    doc = table.get(doc_id=1)
    doc["n"] = 99
    assert table.get(doc_id=1)["n"] == 1
