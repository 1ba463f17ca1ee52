"""A chain's back office on PostgreSQL under many kiosks at once (issue 15): 20 kiosks of
two shops push and pull together against one back office running three server
processes; a batch pushed twice at the same moment; one enrolment code typed on two
kiosks at once; a transaction PostgreSQL refuses to serialise. Checked against the back
office's own rows, not the kiosks' opinion."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from backoffice.batch import Batch
from backoffice.db import make_engine, make_sessions
from backoffice.service import BackOffice
from kiosk.domain.plain import to_plain
from kiosk.storage.repositories import open_repositories
from kiosk.storage.store import Store
from kiosk.sync import credentials
from kiosk.sync.client import BackOfficeClient, Refused, enroll
from kiosk.sync.worker import SyncWorker
from tests.integration.conftest import ROOT, free_port
from tests.integration.test_sync import customer, order

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
KIOSKS_PER_SHOP = 10
CUSTOMERS_PER_KIOSK = 12


class FleetKiosk:
    def __init__(self, tmp_path, url, code, name):
        self.name = name
        self.store = Store(tmp_path / name)
        self.repos = open_repositories(self.store)
        answer = enroll(url, code)
        self.shop = answer["shop_id"]
        credentials.save(
            self.store.storage.directory,
            credentials.Credential(
                url, answer["kiosk_id"], answer["shop_id"], answer["credential"]
            ),
        )
        self.token = answer["credential"]
        self.client = BackOfficeClient(url, self.token, timeout_s=20)
        self.now = T0
        self.worker = SyncWorker(self.repos, self.client, lambda: self.now, batch_size=5)
        self.accounts: list[str] = []
        self.pushed_ids: list[str] = []

    def take_dropoffs(self):
        for n in range(CUSTOMERS_PER_KIOSK):
            c = replace(customer(n), account_number=f"{self.name}-{n:03d}")
            o = order(1000 * int(self.name[1:]) + n, c.account_number)
            o = replace(o, number=f"{self.name}-O{n:03d}")
            with self.store.transaction():
                key = f"customer:{c.account_number}"
                for kind, record in (("customer.created", c), ("dropoff.created", o)):
                    self.pushed_ids.append(
                        self.repos.outbox.enqueue(kind, to_plain(record), key=key, now=T0)
                    )
            self.accounts.append(c.account_number)

    def sync_until_done(self, errors):
        try:
            for _ in range(400):
                report = self.worker.run_once()
                if not report.error and self.repos.outbox.pending_count() == 0:
                    return
                self.now += timedelta(minutes=30)
            errors.append(f"{self.name}: still pending: {report.error}")
        except Exception as exc:
            errors.append(f"{self.name}: {exc!r}")

    def close(self):
        self.client.close()
        self.store.close()


@pytest.fixture
def fleet_server(tmp_path, pg_server):
    url = pg_server.new_database()
    office = BackOffice(make_sessions(make_engine(url)))
    shops = [office.create_shop("Vélos Martin"), office.create_shop("Cycles Dubois")]
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "backoffice", "--db", url, "serve", "--port", str(port),
         "--workers", "3", "--admin-token-file", str(tmp_path / "admin.token")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(base + "/v1/health", timeout=0.5).status_code == 200:
                break
        except httpx.HTTPError:
            threading.Event().wait(0.05)
    yield base, office, shops, tmp_path / "server.log"
    process.terminate()
    process.wait(timeout=15)
    log.close()


def test_twenty_kiosks_of_two_shops_at_once(tmp_path, fleet_server):
    base, office, shops, server_log = fleet_server
    kiosks = [
        FleetKiosk(tmp_path, base, office.enrolment_code(shop, f"K{i}"), f"K{i}")
        for i, shop in enumerate(shops[j // KIOSKS_PER_SHOP] for j in range(2 * KIOSKS_PER_SHOP))
    ]
    try:
        for k in kiosks:
            k.take_dropoffs()
        # The same batch, pushed twice at the same moment (a retry racing its original).
        racer = kiosks[0]
        batch = racer.repos.outbox.next_batch(T0, 10)
        body = {
            "client": {"device_time": T0.isoformat(), "boot_id": "race", "seq": 1},
            "operations": [
                {"op_id": e.op_id, "kind": e.kind, "key": e.key, "payload": e.payload}
                for e in batch
            ],
        }
        answers: list[dict] = []

        def push():
            reply = httpx.post(base + "/v1/sync/push", json=body, timeout=20,
                               headers={"Authorization": f"Bearer {racer.token}"})  # fmt: skip
            answers.append(reply.json())

        errors: list[str] = []
        threads = [threading.Thread(target=push) for _ in range(2)]
        threads += [threading.Thread(target=k.sync_until_done, args=(errors,)) for k in kiosks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=240)
        assert errors == []
        for k in kiosks:  # a last pull: what the others pushed after this one finished
            assert not k.worker.run_once().error
        # Both racing pushes were answered for every operation, none refused; which of
        # them (or the kiosk's own sync) applied an operation is the lock's choice, and
        # the ledger below shows each was applied once.
        assert len(answers) == 2
        for answer in answers:
            assert [r["op_id"] for r in answer["results"]] == [e.op_id for e in batch]
            assert {r["status"] for r in answer["results"]} <= {"applied", "duplicate"}
        for shop in shops:
            mine = [k for k in kiosks if k.shop == shop]
            pushed = {op for k in mine for op in k.pushed_ids}
            applied = office.operations(shop)
            assert sorted(op for op, status, _ in applied) == sorted(pushed)  # each once
            assert {status for _, status, _ in applied} == {"applied"}
            accounts = {a for k in mine for a in k.accounts}
            for k in mine:  # every kiosk of the shop has the shop's customers, no others
                assert {c.account_number for c in k.repos.customers.all()} == accounts
            for account in accounts:
                assert office.get(shop, "customer", account) is not None
            other = shops[1 - shops.index(shop)]
            assert all(office.get(other, "customer", a) is None for a in accounts)
        assert "Traceback" not in server_log.read_text()
    finally:
        for k in kiosks:
            k.close()


def test_one_enrolment_code_typed_on_two_kiosks_at_once(fleet_server):
    base, office, shops, _log = fleet_server
    code = office.enrolment_code(shops[0], "K7")
    outcomes: list[str] = []

    def try_enrol():
        try:
            enroll(base, code)
            outcomes.append("enrolled")
        except Refused:
            outcomes.append("refused")

    threads = [threading.Thread(target=try_enrol) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["enrolled", "refused", "refused", "refused"]


def test_a_transaction_postgresql_cannot_serialise_is_run_again(pg_server, monkeypatch):
    office = BackOffice(make_sessions(make_engine(pg_server.new_database())))
    shop = office.create_shop("Vélos Martin")
    refusals = iter(range(2))
    flush = Batch.flush

    def refused_twice(self):
        if next(refusals, None) is not None:  # what PostgreSQL says under contention
            self.c.execute(text("DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' "
                                "USING ERRCODE = 'serialization_failure'; END $$"))  # fmt: skip
        flush(self)

    monkeypatch.setattr(Batch, "flush", refused_twice)
    c = customer(1)
    op = {"op_id": "op-1", "kind": "customer.created", "key": "customer:1",
          "payload": to_plain(c)}  # fmt: skip
    results = office.apply_batch(shop, "K1", [op])
    assert [r.status for r in results] == ["applied"]
    assert office.operations(shop) == [("op-1", "applied", "")]
    assert office.get(shop, "customer", c.account_number) is not None
