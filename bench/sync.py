"""Draining the outbox and pulling a shop's records, against a real back office process.

With the product's own settings (batch_size from `[sync]`, 200; the worker's page size,
500), in one run: drain_s, 10,000 operations pushed in batches; naive_drain_s, the same
10,000 pushed one request per operation, same server; pull_s, a fresh kiosk pulling
20,000 customers and 5,000 service orders; drain_s_postgres and pull_s_postgres, the
same against a back office on PostgreSQL (a throw-away server, tests/pg.py). Tuned sizes
are extra keys named so (drain_s_tuned_batch500, pull_s_tuned_page1000). Prints one JSON
line last.

    python bench/sync.py --json
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.config import SyncConfig
from kiosk.domain.plain import to_plain
from kiosk.storage.repositories import open_repositories
from kiosk.storage.store import Store
from kiosk.sync.client import BackOfficeClient, enroll
from kiosk.sync.worker import SyncWorker
from tests.integration.conftest import Server, free_port
from tests.integration.test_sync import customer, order
from tests.pg import PgServer

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def kiosk(folder: Path, server: Server, kiosk_id: str, shop: int, **sizes: int):
    """A kiosk enrolled with server; `sizes` (batch_size, page_size) only when tuned: the
    product's own defaults otherwise."""
    store = Store(folder / kiosk_id)
    repos = open_repositories(store)
    answer = enroll(server.url, server.code(kiosk_id, shop))
    client = BackOfficeClient(server.url, answer["credential"], timeout_s=30)
    sizes.setdefault("batch_size", SyncConfig().batch_size)
    return store, repos, SyncWorker(repos, client, lambda: NOW, **sizes), client


def fill_outbox(store: Store, repos, n: int) -> None:
    with store.transaction():
        for i in range(1, n + 1):
            c = customer(i)
            repos.outbox.enqueue(
                "customer.created", to_plain(c), key=f"customer:{c.account_number}", now=NOW
            )


def drain(worker: SyncWorker, repos) -> tuple[float, int]:
    started = time.perf_counter()
    requests = 0
    while repos.outbox.pending_count():
        requests += worker.push().requests
    return time.perf_counter() - started, requests


def timed_drain(folder: Path, server: Server, name: str, shop: int, ops: int, **sizes: int):
    store, repos, worker, client = kiosk(folder, server, name, shop, **sizes)
    fill_outbox(store, repos, ops)
    seconds, requests = drain(worker, repos)
    print(f"{name}: {ops} ops in {seconds:.2f} s, {requests} requests", file=sys.stderr)
    client.close()
    store.close()
    return seconds


def timed_pull(folder: Path, server: Server, name: str, shop: int, want: tuple[int, int],
               **sizes: int) -> float:  # fmt: skip
    store, repos, worker, client = kiosk(folder, server, name, shop, **sizes)
    started = time.perf_counter()
    report = worker.pull()
    seconds = time.perf_counter() - started
    assert (len(repos.customers), len(repos.orders)) == want
    print(f"{name}: {report.pulled} changes in {seconds:.2f} s, {report.requests} requests",
          file=sys.stderr)  # fmt: skip
    client.close()
    store.close()
    return seconds


def run(db_url: str, folder: Path, args: argparse.Namespace, *, full: bool) -> dict[str, float]:
    """Drain and pull against one back office on db_url (`full`: with the naive drain and
    the tuned sizes too)."""
    from backoffice.db import make_engine, make_sessions
    from backoffice.service import BackOffice

    folder.mkdir(parents=True, exist_ok=True)
    office = BackOffice(make_sessions(make_engine(db_url)))
    shops = {n: office.create_shop(n) for n in ("batched", "naive", "tuned", "pull")}
    office.bulk_put(shops["pull"], "customer", [(f"K1-{i:06d}", to_plain(customer(i)))
                                                for i in range(1, args.customers + 1)])  # fmt: skip
    office.bulk_put(shops["pull"], "order", [(f"K1-2611-{i:05d}", to_plain(order(i, f"K1-{i:06d}")))
                                             for i in range(1, args.orders + 1)])  # fmt: skip
    port = free_port()
    server = Server(f"http://127.0.0.1:{port}", office, shops["batched"], shops["naive"], db_url,
                    port, folder / "admin.token")  # fmt: skip
    server.start()
    want = (args.customers, args.orders)
    out: dict[str, float] = {}
    try:
        out["drain_s"] = timed_drain(folder, server, "B1", shops["batched"], args.ops)
        out["pull_s"] = timed_pull(folder, server, "P1", shops["pull"], want)
        if full:
            out["naive_drain_s"] = timed_drain(
                folder, server, "N1", shops["naive"], args.ops, batch_size=1
            )
            out["drain_s_tuned_batch500"] = timed_drain(
                folder, server, "T1", shops["tuned"], args.ops, batch_size=500
            )
            out["pull_s_tuned_page1000"] = timed_pull(
                folder, server, "P2", shops["pull"], want, page_size=1000
            )
    finally:
        server.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="(always) one JSON line last")
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=5_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    sqlite = run(f"sqlite:///{folder / 'bo.db'}", folder / "sqlite", args, full=True)
    pg = PgServer().start()
    try:
        postgres = run(pg.new_database(), folder / "postgres", args, full=False)
    finally:
        pg.stop()
    print(json.dumps({
        "drain_ops": args.ops,
        "batch_size": SyncConfig().batch_size,
        "page_size": inspect.signature(SyncWorker).parameters["page_size"].default,
        "drain_s": round(sqlite["drain_s"], 3),
        "naive_drain_s": round(sqlite["naive_drain_s"], 3),
        "naive_over_batched": round(sqlite["naive_drain_s"] / sqlite["drain_s"], 1),
        "pull_customers": args.customers,
        "pull_orders": args.orders,
        "pull_s": round(sqlite["pull_s"], 3),
        "drain_s_postgres": round(postgres["drain_s"], 3),
        "pull_s_postgres": round(postgres["pull_s"], 3),
        "drain_s_tuned_batch500": round(sqlite["drain_s_tuned_batch500"], 3),
        "pull_s_tuned_page1000": round(sqlite["pull_s_tuned_page1000"], 3),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
