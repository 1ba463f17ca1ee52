"""The store at a big shop's size (issue 13 §3): 50,000 customers and 20,000 service
orders, all held by the kiosk, through the project's own repositories (with their
indexes), against sqlite3 holding the same documents.

Each figure is taken in a fresh child process, so resident memory is the store's alone:
`store_rss_mb_70000` is what opening adds to a process that has already imported
everything, `index_mb_70000` the part of it the indexes' entries take; `open_s_70000`
the time to open (snapshot, journal, indexes taken from the snapshot);
`lookup_p95_ms_70000` a customer found by a phone number typed as people type it;
`commit_p99_ms_70000` a customer changed with its outbox entry, fsync included. The
`_indexes_rebuilt` keys open the same data from a snapshot without indexes (the first
open after an upgrade from format 1, or one that changed a key function). sqlite3's
peers run in the same way on the same documents.

    python bench/store_scale.py        # one JSON line; bench/storage.py includes it
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CUSTOMERS, ORDERS = 50_000, 20_000
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def records() -> tuple[list, list]:
    from kiosk.services.demo_data import demo_records

    customers, orders = [], []
    for record in demo_records("BO-", "EUR", NOW, CUSTOMERS):
        customers.append(record.customer)
        if len(orders) < ORDERS:
            orders.append(record.order)
    return customers, orders


def build(folder: Path) -> dict[str, float]:
    from kiosk.domain.plain import to_plain
    from kiosk.storage.repositories import open_repositories
    from kiosk.storage.store import SNAPSHOT_NAME, Store

    customers, orders = records()
    store = Store(folder / "store")
    repos = open_repositories(store, country_calling_code="33")
    for start in range(0, len(customers), 2000):
        with store.transaction():
            for customer in customers[start : start + 2000]:
                repos.customers.add(customer)
    for start in range(0, len(orders), 2000):
        with store.transaction():
            for order in orders[start : start + 2000]:
                repos.orders.add(order)
    store.compact()
    store.close()
    # The same data in a snapshot written without indexes (as after an upgrade from
    # format 1, or one that changed a key function): opening builds every index.
    shutil.copytree(folder / "store", folder / "plain")
    with Store(folder / "plain") as plain:
        plain.compact()
    con = sqlite3.connect(folder / "peer.sqlite")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, phone TEXT, body TEXT)")
    con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, number TEXT UNIQUE, body TEXT)")
    con.execute("CREATE INDEX customers_phone ON customers(phone)")
    with con:
        con.executemany(
            "INSERT INTO customers (phone, body) VALUES (?, ?)",
            ((_digits(c.mobile or c.phone), json.dumps(to_plain(c))) for c in customers),
        )
        con.executemany(
            "INSERT INTO orders (number, body) VALUES (?, ?)",
            ((o.number, json.dumps(to_plain(o))) for o in orders),
        )
    con.close()
    phones = [c.mobile or c.phone for c in customers]
    (folder / "phones.json").write_text(json.dumps(phones))
    return {"snapshot_mb": (folder / "store" / SNAPSHOT_NAME).stat().st_size / 2**20}


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())[-9:]


def measure_store(folder: Path, name: str = "store") -> dict[str, float]:
    from kiosk.storage.repositories import open_repositories
    from kiosk.storage.store import Store

    phones = json.loads((folder / "phones.json").read_text())
    before = rss_mb()
    t0 = time.perf_counter()
    store = Store(folder / name)
    repos = open_repositories(store, country_calling_code="33")
    opened = time.perf_counter() - t0
    rss = rss_mb() - before
    index_mb = store.storage.index_bytes / 2**20
    rng, times = random.Random(3), []
    for _ in range(1000):
        phone = rng.choice(phones)
        typed = "+33 " + phone[1:] if rng.random() < 0.5 else phone.replace(" ", ".")
        t = time.perf_counter()
        found = repos.customers.find_by_phone(typed)
        times.append((time.perf_counter() - t) * 1000)
        assert found, typed
    commits = []
    for k, customer in enumerate(rng.sample(repos.customers.all(), 300)):
        t = time.perf_counter()
        with store.transaction():
            repos.customers.save(replace(customer, notes=f"appel {k}"))
            repos.outbox.enqueue(
                "customer.updated", {"notes": f"appel {k}"}, key=customer.account_number, now=NOW
            )
        commits.append((time.perf_counter() - t) * 1000)
    store.close()
    return {
        "open_s": opened,
        "rss_mb": rss,
        "index_mb": index_mb,
        "lookup_p95_ms": _p95(times),
        "commit_p99_ms": _p99(commits),
    }


def measure_plain(folder: Path) -> dict[str, float]:
    return measure_store(folder, "plain")


def measure_sqlite(folder: Path) -> dict[str, float]:
    phones = json.loads((folder / "phones.json").read_text())
    before = rss_mb()
    t0 = time.perf_counter()
    con = sqlite3.connect(folder / "peer.sqlite")
    con.execute("SELECT count(*) FROM customers").fetchone()  # opened, schema read
    opened = time.perf_counter() - t0
    rng, times = random.Random(3), []
    for _ in range(1000):
        phone = _digits(rng.choice(phones))
        t = time.perf_counter()
        rows = con.execute("SELECT body FROM customers WHERE phone = ?", (phone,)).fetchall()
        [json.loads(body) for (body,) in rows]
        times.append((time.perf_counter() - t) * 1000)
        assert rows
    rss = rss_mb() - before
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, body TEXT)")
    commits = []
    for k in range(300):
        doc_id = rng.randint(1, CUSTOMERS)
        t = time.perf_counter()
        with con:
            (body,) = con.execute("SELECT body FROM customers WHERE id=?", (doc_id,)).fetchone()
            doc = json.loads(body)
            doc["notes"] = f"appel {k}"
            con.execute("UPDATE customers SET body=? WHERE id=?", (json.dumps(doc), doc_id))
            con.execute("INSERT INTO outbox (body) VALUES (?)", (json.dumps({"notes": k}),))
        commits.append((time.perf_counter() - t) * 1000)
    con.close()
    return {
        "open_s": opened,
        "rss_mb": rss,
        "lookup_p95_ms": _p95(times),
        "commit_p99_ms": _p99(commits),
    }


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def child(step: str, folder: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", step, str(folder)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(out.stdout.splitlines()[-1])


def scale() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        built = child("build", folder)
        store, peer = child("store", folder), child("sqlite", folder)
        plain = child("plain", folder)
    n = CUSTOMERS + ORDERS
    return {
        f"store_rss_mb_{n}": round(store["rss_mb"], 1),
        f"snapshot_mb_{n}": round(built["snapshot_mb"], 1),
        f"index_mb_{n}": round(store["index_mb"], 1),
        f"open_s_{n}": round(store["open_s"], 3),
        f"lookup_p95_ms_{n}": round(store["lookup_p95_ms"], 4),
        f"commit_p99_ms_{n}": round(store["commit_p99_ms"], 3),
        f"open_s_{n}_indexes_rebuilt": round(plain["open_s"], 3),
        f"store_rss_mb_{n}_indexes_rebuilt": round(plain["rss_mb"], 1),
        f"sqlite_open_s_{n}": round(peer["open_s"], 4),
        f"sqlite_rss_mb_{n}": round(peer["rss_mb"], 1),
        f"sqlite_lookup_p95_ms_{n}": round(peer["lookup_p95_ms"], 4),
        f"sqlite_commit_p99_ms_{n}": round(peer["commit_p99_ms"], 3),
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        steps = {
            "build": build,
            "store": measure_store,
            "plain": measure_plain,
            "sqlite": measure_sqlite,
        }
        print(json.dumps(steps[sys.argv[2]](Path(sys.argv[3]))))
    else:
        print(json.dumps(scale()))
