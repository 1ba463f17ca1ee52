"""The kiosk's use cases, wired once from configuration, store and devices: the one
object the UI (and the tests of the journeys) talk to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kiosk.config import Config
from kiosk.services.devices import Devices
from kiosk.services.dropoff import DropOffService
from kiosk.services.identify import Verifier
from kiosk.services.payments import CardPayments
from kiosk.services.pickup import PickupService
from kiosk.services.receipt_delivery import ReceiptDelivery
from kiosk.services.staff import StaffService
from kiosk.services.statements import StatementService
from kiosk.storage.repositories import Repositories


@dataclass
class KioskServices:
    config: Config
    repos: Repositories
    devices: Devices
    clock: Callable[[], datetime]
    payments: CardPayments
    delivery: ReceiptDelivery
    dropoff: DropOffService
    pickup: PickupService
    statements: StatementService
    staff: StaffService

    def startup(self) -> list[str]:
        """Before the first customer: resolve any payment a crash left open, then any
        pickup left between reservation and booking."""
        resolved = [f"resolved {i.intent_id}: {i.state}" for i in self.payments.resolve_open()]
        return resolved + self.pickup.resolve_unfinished()


def build_services(
    config: Config, repos: Repositories, devices: Devices, clock: Callable[[], datetime]
) -> KioskServices:
    if devices.terminal is None:
        raise ValueError("the kiosk needs a card terminal ([terminal] backend)")
    payments = CardPayments(repos, devices.terminal, clock)
    delivery = ReceiptDelivery(devices.printer, repos, clock, codepage=config.printer.codepage)
    return KioskServices(
        config=config,
        repos=repos,
        devices=devices,
        clock=clock,
        payments=payments,
        delivery=delivery,
        dropoff=DropOffService(repos, config, delivery, clock, lockers=devices.lockers),
        pickup=PickupService(repos, config, payments, delivery, clock, lockers=devices.lockers),
        statements=StatementService(repos, config, payments, delivery, clock),
        staff=StaffService(repos, config, devices, delivery, Verifier(repos, clock), clock),
    )
