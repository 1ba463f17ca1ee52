"""The kiosk against a real back office process over loopback, with faults."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from kiosk.domain.billing import Payment, PaymentMethod, build_invoice
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import CreditAccount, Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import CustomerItem, OrderState, ServiceLine, ServiceOrder
from kiosk.domain.plain import to_plain
from kiosk.storage.repositories import open_repositories
from kiosk.storage.store import Store
from kiosk.sync import credentials
from kiosk.sync.client import BackOfficeClient, Transient, enroll
from kiosk.sync.worker import SyncWorker
from tests.integration.faults import FaultyTransport

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Kiosk:
    def __init__(self, tmp_path, server, kiosk_id="K1", shop=None, transport=None, batch_size=50):
        self.store = Store(tmp_path / f"kiosk-{kiosk_id}-{shop}")
        self.repos = open_repositories(self.store)
        self.clock = Clock()
        answer = enroll(server.url, server.code(kiosk_id, shop))
        credentials.save(
            self.store.storage.directory,
            credentials.Credential(
                server.url, answer["kiosk_id"], answer["shop_id"], answer["credential"]
            ),
        )
        self.cred = credentials.load(self.store.storage.directory)
        self.client = BackOfficeClient(
            server.url, self.cred.token, timeout_s=5, transport=transport
        )
        self.worker = SyncWorker(
            self.repos, self.client, self.clock, batch_size=batch_size, page_size=200
        )

    def close(self):
        self.client.close()
        self.store.close()

    def drain(self, max_rounds=5000):
        """Sync rounds until nothing is pending, time moving on so retries come due."""
        rounds = 0
        while True:
            report = self.worker.run_once()
            rounds += 1
            if not report.error and self.repos.outbox.pending_count() == 0:
                return rounds
            assert rounds < max_rounds, report.error
            self.clock.now += timedelta(minutes=30)


def customer(n: int) -> Customer:
    return Customer(
        account_number=f"K1-{n:06d}",
        last_name=f"Lefèvre{n}",
        first_name="Élodie",
        phone=f"06 12 34 {n // 100 % 100:02d} {n % 100:02d}",
    )


def order(n: int, account: str, state: OrderState = OrderState.NEW) -> ServiceOrder:
    o = ServiceOrder(
        number=f"K1-2611-{n:05d}",
        claim_code=ClaimCode.from_random(n.to_bytes(5, "big")),
        customer_account=account,
        currency="EUR",
        created_at=T0,
        items=(CustomerItem("Vélo", serial_number=f"SN{n}"),),
        lines=(
            ServiceLine("tuneup", "Révision", Money("49.90", "EUR"), tax_rate_percent=Decimal(20)),
        ),
    )
    for step in {OrderState.DONE: [OrderState.IN_PROGRESS, OrderState.DONE]}.get(state, []):
        o = o.move_to(step, T0, "tech")
    return o


def enqueue_customers(kiosk: Kiosk, count: int, start: int = 1) -> list[str]:
    ops = []
    for n in range(start, start + count):
        c = customer(n)
        with kiosk.store.transaction():
            key = f"customer:{c.account_number}"
            ops.append(kiosk.repos.outbox.enqueue("customer.created", to_plain(c), key=key, now=T0))
            o = order(n, c.account_number)
            ops.append(kiosk.repos.outbox.enqueue("dropoff.created", to_plain(o), key=key, now=T0))
    return ops


def test_enrol_push_pull_round_trip(tmp_path, server):
    seeded = Customer(account_number="BO-1", last_name="Martin", email="m@example.com")
    server.office.put_customer(server.shop_id, seeded)
    k = Kiosk(tmp_path, server)
    try:
        assert (k.store.storage.directory / "credential.json").stat().st_mode & 0o777 == 0o600
        ops = enqueue_customers(k, 3)
        report = k.worker.run_once()
        assert report.error == "" and report.acked == 6
        assert k.repos.customers.get("BO-1") == seeded  # pulled
        assert k.repos.outbox.pending_count() == 0
        applied = {
            op for op, status, _ in server.office.operations(server.shop_id) if status == "applied"
        }
        assert applied == set(ops)
        # a change made in the back office reaches the kiosk
        server.office.set_state(server.shop_id, "K1-2611-00001", OrderState.IN_PROGRESS, "tech")
        assert k.worker.run_once().pulled == 1
        assert k.repos.orders.get("K1-2611-00001").state is OrderState.IN_PROGRESS
    finally:
        k.close()


def test_rejections_go_to_dead_letters_with_the_reason(tmp_path, server):
    k = Kiosk(tmp_path, server)
    try:
        o = order(9, "NOBODY")
        op = k.repos.outbox.enqueue("dropoff.created", to_plain(o), key="customer:NOBODY", now=T0)
        bad = k.repos.outbox.enqueue(
            "customer.created", {"last_name": ""}, key="customer:X", now=T0
        )
        odd = k.repos.outbox.enqueue("teleport.item", {}, key="customer:Y", now=T0)
        report = k.worker.run_once()
        assert report.dead_lettered == 3 and k.repos.outbox.pending_count() == 0
        reasons = {e.op_id: e.dead_reason for e in k.repos.outbox.stats(T0).dead_letters}
        assert "unknown customer NOBODY" in reasons[op]
        assert "account_number" in reasons[bad]
        assert "unknown operation kind 'teleport.item'" in reasons[odd]
    finally:
        k.close()


def test_replay_and_reused_ids(tmp_path, server):
    k = Kiosk(tmp_path, server)
    try:
        body = {
            "client": {"device_time": T0.isoformat(), "boot_id": "b", "seq": 1},
            "operations": [
                {
                    "op_id": "op-1",
                    "kind": "customer.created",
                    "key": "customer:K1-000001",
                    "payload": to_plain(customer(1)),
                }
            ],
        }
        headers = {"Authorization": f"Bearer {k.cred.token}"}
        first = httpx.post(server.url + "/v1/sync/push", json=body, headers=headers).json()
        again = httpx.post(server.url + "/v1/sync/push", json=body, headers=headers).json()
        assert first["results"][0]["status"] == "applied"
        assert again["results"][0]["status"] == "duplicate"
        body["operations"][0]["payload"] = to_plain(customer(2))
        reused = httpx.post(server.url + "/v1/sync/push", json=body, headers=headers).json()
        assert reused["results"][0] == {
            "op_id": "op-1",
            "status": "rejected",
            "code": 422,
            "reason": "operation id reused with a different payload",
        }
    finally:
        k.close()


def test_no_credential_or_another_shops_kiosk_sees_nothing(tmp_path, server):
    server.office.put_customer(
        server.shop_id, Customer(account_number="SECRET", last_name="Dupont", email="d@example.com")
    )
    assert httpx.get(server.url + "/v1/sync/changes").status_code == 401
    bad = {"Authorization": "Bearer not-a-credential"}
    assert httpx.get(server.url + "/v1/sync/changes", headers=bad).status_code == 401
    other = Kiosk(tmp_path, server, kiosk_id="K9", shop=server.other_shop_id)
    try:
        other.worker.run_once()
        assert other.repos.customers.get("SECRET") is None
        # and what it pushes lands in its own shop only
        enqueue_customers(other, 1)
        other.worker.run_once()
        assert server.office.get(server.shop_id, "customer", "K1-000001") is None
        assert server.office.get(server.other_shop_id, "customer", "K1-000001") is not None
    finally:
        other.close()


def test_offline_drill(tmp_path, server):
    """Back office down: drop-off, pickup of an order known to be Done, statement payment.
    All of it arrives, once, when the back office is back."""
    eur = Money
    debtor = Customer(
        account_number="C-1",
        last_name="Bérenger",
        mobile="06 11 22 33 44",
        credit=CreditAccount(eur("500", "EUR"), eur("49.90", "EUR"), eur("0", "EUR"), T0.date()),
    )
    done = order(1, "C-1", OrderState.DONE)
    old = order(2, "C-1", OrderState.DONE)
    bill = build_invoice("F-1", done, debtor, T0, prices_include_tax=True)
    statement_invoice = build_invoice(
        "F-0", old, debtor, T0 - timedelta(days=30), prices_include_tax=True
    )
    for c in (debtor,):
        server.office.put_customer(server.shop_id, c)
    server.office.put_order(server.shop_id, done)
    server.office.put_invoice(server.shop_id, bill)
    server.office.put_invoice(server.shop_id, statement_invoice)
    k = Kiosk(tmp_path, server)
    try:
        assert k.worker.run_once().error == ""  # online: the kiosk learns what it needs
        assert k.repos.orders.get(done.number).state is OrderState.DONE
        server.stop()

        key = "customer:C-1"
        ops = enqueue_customers(k, 1, start=50)  # a drop-off by a new customer
        with k.store.transaction():  # pickup: paid by card, collected
            pay = Payment(
                "P-1",
                PaymentMethod.CARD,
                bill.amount_due,
                T0,
                ("F-1",),
                customer_account="C-1",
                terminal_receipt_number="17",
                card_last4="4242",
            )
            ops.append(k.repos.outbox.enqueue("payment.taken", to_plain(pay), key=key, now=T0))
            ops.append(
                k.repos.outbox.enqueue(
                    "order.state",
                    {
                        "number": done.number,
                        "state": "collected",
                        "at": T0.isoformat(),
                        "author": "kiosk",
                    },
                    key=key,
                    now=T0,
                )
            )
        with k.store.transaction():  # statement payment
            spay = Payment(
                "P-2",
                PaymentMethod.CARD,
                statement_invoice.amount_due,
                T0,
                ("F-0",),
                customer_account="C-1",
                terminal_receipt_number="18",
                card_last4="4242",
            )
            ops.append(
                k.repos.outbox.enqueue(
                    "statement.paid", {"payment": to_plain(spay)}, key=key, now=T0
                )
            )

        report = k.worker.run_once()
        assert report.error and report.acked == 0
        assert k.repos.outbox.pending_count() == 5 and k.repos.outbox.stats(T0).dead_letters == []

        server.start()
        k.drain()
        results = server.office.operations(server.shop_id)
        assert sorted(op for op, status, _ in results if status == "applied") == sorted(ops)
        assert server.office.get(server.shop_id, "order", done.number)["state"] == "collected"
        assert server.office.get(server.shop_id, "invoice", "F-1")["status"] == "paid"
        assert server.office.get(server.shop_id, "invoice", "F-0")["status"] == "paid"
        credit = server.office.get(server.shop_id, "customer", "C-1")["credit"]
        assert credit["debt"]["amount"] == "0.00"  # 49.90 owed, 49.90 paid by statement
    finally:
        k.close()


def _randomized(tmp_path, server, customers, min_faults, seed, batch_size=4):
    transport = FaultyTransport(rate=0.5, seed=seed)
    k = Kiosk(tmp_path, server, transport=transport, batch_size=batch_size)
    try:
        ops = enqueue_customers(k, customers)
        k.drain()
        assert transport.total >= min_faults, transport.injected
        assert set(transport.injected) == set(transport.kinds), transport.injected
        results = server.office.operations(server.shop_id)
        applied = [op for op, status, _ in results if status == "applied"]
        assert sorted(applied) == sorted(ops)  # every operation, exactly once
        assert len(results) == len(ops)
        assert k.repos.outbox.pending_count() == 0
        assert k.repos.outbox.stats(T0).dead_letters == []
        from backoffice.db import Entity

        assert server.office.count(Entity, server.shop_id) == len(ops)  # customers + orders
    finally:
        k.close()


def test_randomized_faults_fast(tmp_path, server):
    _randomized(tmp_path, server, customers=150, min_faults=60, seed=11)  # 300 operations


@pytest.mark.slow
def test_randomized_faults_full(tmp_path, server):
    _randomized(tmp_path, server, customers=500, min_faults=200, seed=12, batch_size=3)  # 1,000 ops


def test_an_answer_slower_than_the_timeout_is_a_transient_error():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    client = BackOfficeClient(f"http://127.0.0.1:{port}", "x", timeout_s=0.2)
    with pytest.raises(Transient, match=r"no (whole )?answer in time"):
        client.changes(0, 10)
    client.close()
    listener.close()


def test_item_kinds_come_from_the_back_office_in_each_language(tmp_path, server):
    """Issue 12 §2: the back office's `item_kinds` setting reaches the kiosk by the pull,
    and the kiosk offers its kinds in the session's language."""
    from kiosk.services.journeys.item_kinds import SETTING, item_kinds

    record = {
        "kinds": [{"code": "bike", "labels": {"fr": "Vélo", "en": "Bike"}, "label": "Vélo",
                   "icon": "bicycle", "conditions": ["frame"]}],
        "conditions": {"frame": {"labels": {"fr": "rayure cadre", "en": "scratched frame"},
                                 "label": "rayure cadre"}},
    }  # fmt: skip
    server.office.put_record(server.shop_id, "setting", "item_kinds", record)
    k = Kiosk(tmp_path, server)
    try:
        assert k.worker.run_once().error == ""
        (en,) = item_kinds(k.repos.settings.get(SETTING), "en")
        assert (en.label, en.conditions[0].label) == ("Bike", "scratched frame")
        (fr,) = item_kinds(k.repos.settings.get(SETTING), "fr")
        assert (fr.label, fr.conditions[0].label) == ("Vélo", "rayure cadre")
    finally:
        k.close()
