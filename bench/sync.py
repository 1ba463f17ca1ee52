"""Draining the outbox and pulling a shop's records, against a real back office process.

drain_s: 10,000 operations pushed in batches; naive_drain_s: the same 10,000 pushed one
request per operation, same run, same server. pull_s: a fresh kiosk pulling 20,000
customers and 5,000 service orders. Prints one JSON line last.

    python bench/sync.py --json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.domain.plain import to_plain
from kiosk.storage.repositories import open_repositories
from kiosk.storage.store import Store
from kiosk.sync.client import BackOfficeClient, enroll
from kiosk.sync.worker import SyncWorker
from tests.integration.conftest import Server, free_port
from tests.integration.test_sync import customer, order

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def kiosk(folder: Path, server: Server, kiosk_id: str, shop: int, batch: int, page: int = 1000):
    store = Store(folder / kiosk_id)
    repos = open_repositories(store)
    answer = enroll(server.url, server.code(kiosk_id, shop))
    client = BackOfficeClient(server.url, answer["credential"], timeout_s=30)
    return (
        store,
        repos,
        SyncWorker(repos, client, lambda: NOW, batch_size=batch, page_size=page),
        client,
    )


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="(always) one JSON line last")
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=5_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    from backoffice.db import make_engine, make_sessions
    from backoffice.service import BackOffice

    db_url = f"sqlite:///{folder / 'bo.db'}"
    office = BackOffice(make_sessions(make_engine(db_url)))
    batched_shop, naive_shop, pull_shop = (
        office.create_shop(n) for n in ("batched", "naive", "pull")
    )
    office.bulk_put(pull_shop, "customer", [(f"K1-{i:06d}", to_plain(customer(i)))
                                             for i in range(1, args.customers + 1)])  # fmt: skip
    office.bulk_put(pull_shop, "order", [(f"K1-2611-{i:05d}", to_plain(order(i, f"K1-{i:06d}")))
                                          for i in range(1, args.orders + 1)])  # fmt: skip
    port = free_port()
    server = Server(f"http://127.0.0.1:{port}", office, batched_shop, naive_shop, db_url, port,
                    folder / "admin.token")  # fmt: skip
    server.start()
    try:
        store, repos, worker, client = kiosk(folder, server, "B1", batched_shop, batch=500)
        fill_outbox(store, repos, args.ops)
        drain_s, drain_requests = drain(worker, repos)
        print(
            f"batched: {args.ops} ops in {drain_s:.2f} s, {drain_requests} requests",
            file=sys.stderr,
        )
        client.close()
        store.close()

        store, repos, worker, client = kiosk(folder, server, "N1", naive_shop, batch=1)
        fill_outbox(store, repos, args.ops)
        naive_s, naive_requests = drain(worker, repos)
        print(
            f"naive: {args.ops} ops in {naive_s:.2f} s, {naive_requests} requests", file=sys.stderr
        )
        client.close()
        store.close()

        store, repos, worker, client = kiosk(folder, server, "P1", pull_shop, batch=500, page=1000)
        started = time.perf_counter()
        report = worker.pull()
        pull_s = time.perf_counter() - started
        got_customers, got_orders = len(repos.customers), len(repos.orders)
        assert (got_customers, got_orders) == (args.customers, args.orders), (
            got_customers,
            got_orders,
        )
        print(
            f"pull: {report.pulled} changes in {pull_s:.2f} s, {report.requests} requests",
            file=sys.stderr,
        )
        client.close()
        store.close()
    finally:
        server.stop()
    print(json.dumps({
        "drain_ops": args.ops,
        "drain_s": round(drain_s, 3),
        "naive_drain_s": round(naive_s, 3),
        "naive_over_batched": round(naive_s / drain_s, 1),
        "pull_customers": args.customers,
        "pull_orders": args.orders,
        "pull_s": round(pull_s, 3),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
