"""Durable commit cost of the kiosk store against stock TinyDB and sqlite3, same run; and
the store at 70,000 documents against sqlite3 (bench/store_scale.py).

A durable commit = one changed customer document of ~500 bytes plus its outbox entry,
made durable (fsync). Prints progress on stderr and one JSON object on the last line.

    python bench/storage.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store_scale import scale  # bench/ is on the path of a script run from it
from tinydb import TinyDB
from tinydb.storages import JSONStorage

from kiosk.domain.customers import Customer
from kiosk.domain.plain import to_plain
from kiosk.storage.outbox import Outbox
from kiosk.storage.repositories import CustomerRepository
from kiosk.storage.store import Store, dumps

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def customer_doc(i: int, rng: random.Random) -> dict[str, Any]:
    c = Customer(
        account_number=f"K1-{i:06d}",
        first_name=rng.choice(["Élodie", "Jean", "Oliver", "Chloé", "Harry"]),
        last_name=rng.choice(["Lefèvre", "Dupont", "Smith", "Bérenger", "Wilson"]) + str(i),
        phone=f"06 {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d} {rng.randint(10, 99)}",
        email=f"client{i}@example.com",
        address_lines=(f"{rng.randint(1, 200)} rue des Artisans",),
        postcode="75011",
        city="Paris",
        country="FR",
        notes="Préfère être contacté le matin.",
    )
    return to_plain(c)  # type: ignore[no-any-return]


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def bench_store(n: int, commits: int, rng: random.Random) -> tuple[list[float], float, float]:
    """(commit times ms, journal bytes per commit, changed bytes per commit)"""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        table = store.table("customers")
        outbox = Outbox(store)
        with store.transaction():
            table.insert_multiple(customer_doc(i, rng) for i in range(n))
        store.compact()
        times: list[float] = []
        changed = 0
        start_bytes = store.storage.journal_bytes
        for k in range(commits):
            doc_id = rng.randint(1, n)
            t0 = time.perf_counter()
            with store.transaction():
                table.update({"notes": f"appel {k}"}, doc_ids=[doc_id])
                op = outbox.enqueue(
                    "customer.updated",
                    {"account_number": f"K1-{doc_id - 1:06d}", "notes": f"appel {k}"},
                    key=f"customer:{doc_id}",
                    now=NOW,
                )
            times.append((time.perf_counter() - t0) * 1000)
            changed += len(dumps(dict(table.get(doc_id=doc_id) or {})))
            changed += len(dumps(to_plain(outbox.get(op))))
        written = store.storage.journal_bytes - start_bytes
        store.close()
        return times, written / commits, changed / commits


def bench_tinydb(n: int, commits: int, rng: random.Random) -> list[float]:
    """Stock TinyDB on JSONStorage: no transactions, so a commit is two writes."""
    with tempfile.TemporaryDirectory() as tmp:
        db = TinyDB(os.path.join(tmp, "db.json"), storage=JSONStorage)
        table, outbox = db.table("customers"), db.table("outbox")
        table.insert_multiple(customer_doc(i, rng) for i in range(n))
        times = []
        for k in range(commits):
            doc_id = rng.randint(1, n)
            t0 = time.perf_counter()
            table.update({"notes": f"appel {k}"}, doc_ids=[doc_id])
            outbox.insert({"kind": "customer.updated", "notes": f"appel {k}", "key": doc_id})
            times.append((time.perf_counter() - t0) * 1000)
        db.close()
        return times


def bench_sqlite(n: int, commits: int, rng: random.Random) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        con = sqlite3.connect(os.path.join(tmp, "db.sqlite"), isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        con.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO customers VALUES (?, ?)",
            ((i + 1, json.dumps(customer_doc(i, rng))) for i in range(n)),
        )
        con.execute("COMMIT")
        times = []
        for k in range(commits):
            doc_id = rng.randint(1, n)
            t0 = time.perf_counter()
            con.execute("BEGIN")
            (body,) = con.execute("SELECT body FROM customers WHERE id=?", (doc_id,)).fetchone()
            doc = json.loads(body)
            doc["notes"] = f"appel {k}"
            con.execute("UPDATE customers SET body=? WHERE id=?", (json.dumps(doc), doc_id))
            con.execute(
                "INSERT INTO outbox (body) VALUES (?)",
                (json.dumps({"kind": "customer.updated", "notes": f"appel {k}", "key": doc_id}),),
            )
            con.execute("COMMIT")
            times.append((time.perf_counter() - t0) * 1000)
        con.close()
        return times


def bench_lookup(n: int, lookups: int, rng: random.Random) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        table = store.table("customers")
        with store.transaction():
            table.insert_multiple(customer_doc(i, rng) for i in range(n))
        repo = CustomerRepository(store, country_calling_code="33")
        times = []
        for _ in range(lookups):
            i = rng.randrange(n)
            phone = table.get(doc_id=i + 1)["phone"]  # type: ignore[index]
            typed = "+33 " + phone[1:] if rng.random() < 0.5 else phone.replace(" ", ".")
            t0 = time.perf_counter()
            found = repo.find_by_phone(typed)
            times.append((time.perf_counter() - t0) * 1000)
            assert any(c.phone == phone for c in found), (typed, found)
        store.close()
        return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="(always) one JSON line last")
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--tinydb-commits", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(7)
    t_start = time.perf_counter()

    def note(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    small, _, _ = bench_store(100, args.commits, rng)
    note(f"store @100: p99 {p(small, 99):.3f} ms")
    large, bytes_per_commit, changed = bench_store(10_000, args.commits, rng)
    note(f"store @10000: p99 {p(large, 99):.3f} ms, {bytes_per_commit:.0f} B/commit")
    sqlite_times = bench_sqlite(10_000, args.commits, rng)
    note(f"sqlite @10000: p99 {p(sqlite_times, 99):.3f} ms")
    tiny = bench_tinydb(10_000, args.tinydb_commits, rng)
    note(f"tinydb @10000: p99 {p(tiny, 99):.1f} ms")
    lookups = bench_lookup(20_000, 1000, rng)
    note(f"lookup @20000: p95 {p(lookups, 95):.3f} ms")
    at_scale = scale()  # 50,000 customers + 20,000 orders, store against sqlite3
    note(f"at 70000 documents: {at_scale}")

    result = {
        "store_p99_ms_100": round(p(small, 99), 3),
        "store_p99_ms_10000": round(p(large, 99), 3),
        "tinydb_p99_ms_10000": round(p(tiny, 99), 3),
        "sqlite_p99_ms_10000": round(p(sqlite_times, 99), 3),
        "store_bytes_per_commit_10000": round(bytes_per_commit, 1),
        "changed_bytes_per_commit": round(changed, 1),
        "lookup_p95_ms_20000": round(p(lookups, 95), 4),
        "store_p50_ms_10000": round(statistics.median(large), 3),
        "sqlite_p50_ms_10000": round(statistics.median(sqlite_times), 3),
        "tinydb_p50_ms_10000": round(statistics.median(tiny), 3),
        "commits": args.commits,
        "tinydb_commits": args.tinydb_commits,
        **at_scale,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
