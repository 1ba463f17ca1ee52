"""The world a payment-fault test runs in, and a kiosk that can be killed at a chosen step.

The world outlives the kiosk: the ZVT terminal simulator on a pty (its own ledger of
money taken is the reference), a locker bank that remembers every door it opened, and a
reference back office (in-process, SQLite) that receives the kiosk's outbox. The kiosk
is the production wiring (`build_services`) on a store in a folder; "killing" it raises
`Killed` at the N-th durable step (store commit) or N-th ZVT message it sends or
receives, after which it is rebuilt from its folder as a restarted process would be.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from backoffice.db import Entity, make_engine, make_sessions
from backoffice.service import BackOffice
from kiosk import config as config_module
from kiosk.config import Config
from kiosk.domain.billing import PaymentMethod, build_invoice
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import ContactPreference, CreditAccount, Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import CustomerItem, OrderState, ServiceLine, ServiceOrder
from kiosk.domain.staff import Role, StaffMember
from kiosk.drivers.drawer.bank import OpenResult
from kiosk.drivers.terminal.apdu import Apdu
from kiosk.drivers.terminal.link import SerialLink
from kiosk.drivers.terminal.profiles import DEFAULT_PROFILE
from kiosk.drivers.terminal.simulator import TerminalSimulator
from kiosk.drivers.terminal.zvt import ZvtTerminal, ZvtTimeouts
from kiosk.services.context import open_kiosk_store
from kiosk.services.kiosk import KioskServices, build_services
from kiosk.services.machine.devices import Devices

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
EUR = "EUR"
FAST = ZvtTimeouts(command_ack_s=0.3, idle_s=0.4)
MANAGER = StaffMember.create("m1", "Maud", Role.MANAGER, "424242")


class Killed(BaseException):
    """The kiosk process dies here (BaseException: nothing in the kiosk catches it)."""


@dataclass
class Killer:
    """Counts durable steps and ZVT messages; raises Killed at the armed one."""

    at: tuple[str, int] | None = None  # ("commit" | "zvt", n)
    counts: dict[str, int] = field(default_factory=lambda: {"commit": 0, "zvt": 0})

    def step(self, what: str) -> None:
        self.counts[what] += 1
        if self.at == (what, self.counts[what]):
            raise Killed(f"killed after {what} {self.counts[what]}")


class KillableLink:
    def __init__(self, link: SerialLink, killer: Killer) -> None:
        self._link, self._killer = link, killer

    def send(self, apdu: Apdu) -> None:
        self._link.send(apdu)
        self._killer.step("zvt")

    def send_nowait(self, apdu: Apdu) -> None:
        self._link.send_nowait(apdu)

    def receive(self, timeout: float) -> Apdu:
        apdu = self._link.receive(timeout)
        self._killer.step("zvt")
        return apdu

    def close(self) -> None:
        self._link.close()


class LockerBank:
    """Lockers as the world sees them: every door opened, in order."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    def open(self, locker: str) -> OpenResult:
        self.opened.append(locker)
        return OpenResult(locker, True, "door seen open")

    def close(self) -> None:
        pass


def kiosk_config(folder: Path) -> Config:
    return config_module.from_mapping(
        {
            "shop": {"name": "Atelier", "address_lines": ["12 rue des Artisans"]},
            "kiosk": {"id": "K1", "data_dir": str(folder / "store")},
            "printer": {"backend": "none"},
            "terminal": {"backend": "none"},
            "lockers": {"locker": []},
        },
        "<payment world>",
    )


def start_kiosk(config: Config, port: str, killer: Killer, lockers: LockerBank) -> KioskServices:
    """The production wiring on the store in config's folder, its terminal on port."""
    repos = open_kiosk_store(config)
    terminal = ZvtTerminal(
        lambda: KillableLink(SerialLink.open(port, ack_timeout=0.1), killer),  # type: ignore[arg-type,return-value]
        timeouts=FAST,
    )
    devices = Devices(terminal=terminal, lockers=lockers)  # type: ignore[arg-type]
    terminal.register()  # as a kiosk does at start: no journey's dialogue includes it
    return build_services(config, repos, devices, lambda: NOW)


class LockerFile(LockerBank):
    """A locker bank in another process: each door it opens is a line in a file, on
    disk before the kiosk hears that the door opened."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def open(self, locker: str) -> OpenResult:
        with self.path.open("a") as fh:
            fh.write(locker + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return super().open(locker)


class World:
    def __init__(self, folder: Path, profile: str = DEFAULT_PROFILE) -> None:
        self.folder = folder
        self.sim = TerminalSimulator(profile=profile)
        self.sim.t2_s, self.sim.t3_s = 0.15, 0.3
        self.port = self.sim.start_pty()
        self.lockers = LockerBank()
        self.office = BackOffice(make_sessions(make_engine("sqlite://")))
        self.shop = self.office.create_shop("Atelier")
        self.killer = Killer()
        self.config = kiosk_config(folder)
        self.kiosk = self.start()

    # -- the kiosk process --
    def start(self) -> KioskServices:
        return start_kiosk(self.config, self.port, self.killer, self.lockers)

    def stop_kiosk(self) -> None:
        """The kiosk process is gone: its port closes, its store stays on disk."""
        self.kiosk.devices.terminal.close()  # type: ignore[union-attr]
        self.kiosk.repos.store.close()

    def start_again(self) -> KioskServices:
        """A new kiosk process on the same store, once the terminal is idle again."""
        self.killer.at = None
        time.sleep(0.05)  # the terminal reads what was already on the wire
        assert self.sim.wait_idle(5)
        self.sim.reconnect()
        self.kiosk = self.start()
        return self.kiosk

    def restart(self) -> KioskServices:
        """The process died: its port closes, its store is read again from disk."""
        self.stop_kiosk()
        return self.start_again()

    def close(self) -> None:
        self.kiosk.devices.terminal.close()  # type: ignore[union-attr]
        self.kiosk.repos.store.close()
        self.sim.stop()

    # -- the shop's records, in the kiosk and in the back office alike --
    def seed(self, credit: bool = False, invoices: int = 0) -> tuple[Customer, ServiceOrder]:
        repos = self.kiosk.repos
        account = CreditAccount(
            Money("500", EUR), Money("0", EUR), Money("0", EUR), date(2025, 1, 1)
        )
        customer = Customer(
            account_number="C-1",
            last_name="Łukasiewicz",
            first_name="Żaneta",
            mobile="06 12 34 56 78",
            credit=account if credit else None,
            contact_preference=ContactPreference.SMS,
        )
        order = ServiceOrder(
            number="BO-2611-00001",
            claim_code=ClaimCode.from_random(bytes([1, 2, 3, 4, 5])),
            customer_account="C-1",
            currency=EUR,
            created_at=NOW - timedelta(days=3),
            items=(CustomerItem("Vélo", "WTU-1"),),
            lines=(
                ServiceLine(
                    "tuneup", "Révision", Money("49.90", EUR), tax_rate_percent=Decimal(20)
                ),
            ),
        )
        order = order.move_to(OrderState.IN_PROGRESS, NOW, "t").move_to(OrderState.DONE, NOW, "t")
        order = order.move_item("locker 2", NOW, "staff")
        bills = [
            build_invoice(f"F-{n}", order, customer, NOW, prices_include_tax=True)
            for n in range(1, invoices + 1)
        ]
        if credit:
            debt = sum((b.amount_due for b in bills), Money("0", EUR))
            customer = customer.with_credit(account.charge(debt) if bills else account)
        repos.customers.add(customer)
        repos.orders.add(order)
        for bill in bills:
            repos.invoices.add(bill)
            self.office.put_invoice(self.shop, bill)
        self.office.put_customer(self.shop, customer)
        self.office.put_order(self.shop, order)
        return customer, order

    def sync(self) -> None:
        """One round: the outbox to the back office, acknowledged."""
        repos = self.kiosk.repos
        while batch := repos.outbox.next_batch(NOW + timedelta(days=1)):
            ops = [
                {"op_id": e.op_id, "kind": e.kind, "key": e.key, "payload": e.payload}
                for e in batch
            ]
            results = self.office.apply_batch(self.shop, "K1", ops)
            rejected = [r for r in results if r.status == "rejected"]
            assert not rejected, rejected
            repos.outbox.ack([r.op_id for r in results])

    def office_records(self, kind: str) -> list[dict[str, Any]]:
        with self.office.sessions() as s:
            rows = s.scalars(select(Entity).where(Entity.shop_id == self.shop, Entity.kind == kind))
            return [r.data for r in rows if r.data is not None]

    # -- the ledgers --
    def kiosk_net_minor(self) -> int:
        """Card money the kiosk recorded: payments taken minus refunds given."""
        net = 0
        for p in self.kiosk.repos.payments.all():
            if p.method is PaymentMethod.CARD:
                sign = -1 if p.payment_id.startswith("refund-") else 1
                net += sign * p.amount.to_minor()
        return net

    def office_net_minor(self) -> int:
        taken = sum(
            Money.from_plain(p["amount"]).to_minor()
            for p in self.office_records("payment")
            if p["method"] == PaymentMethod.CARD.value
        )
        refunded = sum(
            Money.from_plain(r["amount"]).to_minor() for r in self.office_records("refund")
        )
        return taken - refunded
