"""The kiosk's use cases, wired once from configuration, store and devices: the one
object the UI (and the tests of the journeys) talk to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kiosk.config import Config
from kiosk.services.journeys.dropoff import DropOffService
from kiosk.services.journeys.help_calls import HelpCalls
from kiosk.services.journeys.identify import Verifier
from kiosk.services.journeys.pickup import PickupService
from kiosk.services.journeys.statements import StatementService
from kiosk.services.machine.devices import Devices
from kiosk.services.money.payments import CardPayments
from kiosk.services.money.receipt_delivery import ReceiptDelivery
from kiosk.services.money.recovery import Recovery, RecoveryReport
from kiosk.services.money.refunds import Refunds
from kiosk.services.money.settlement import Settlement
from kiosk.services.staff_mode.shifts import Shifts
from kiosk.services.staff_mode.staff import StaffService
from kiosk.services.staff_mode.staff_lockers import LockerTasks
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
    lockers: LockerTasks
    shifts: Shifts
    refunds: Refunds
    recovery: Recovery
    help_calls: HelpCalls

    def startup(self) -> RecoveryReport:
        """Before the first customer: every intent a crash left reaches its business
        outcome, as far as the terminal can be asked. It never raises: without a
        terminal the kiosk still takes drop-offs and account charges, and an intent that
        cannot finish is quarantined for staff (kiosk/services/money/recovery.py). Then the
        receipts a power cut left owed are sent, or listed for staff."""
        report = self.recovery.run()
        report.done += self.delivery.send_owed()
        return report


def build_services(
    config: Config, repos: Repositories, devices: Devices, clock: Callable[[], datetime]
) -> KioskServices:
    payments = CardPayments(repos, devices.terminal, clock)
    delivery = ReceiptDelivery(devices.printer, repos, clock, codepage=config.printer.codepage)
    settlement = Settlement(repos, config, clock)
    recovery = Recovery(repos, payments, settlement, delivery, clock, devices.lockers)
    lockers = LockerTasks(repos, config, devices, clock)
    return KioskServices(
        config=config,
        repos=repos,
        devices=devices,
        clock=clock,
        payments=payments,
        delivery=delivery,
        dropoff=DropOffService(repos, config, delivery, clock, lockers=devices.lockers),
        pickup=PickupService(
            repos, config, payments, delivery, clock, lockers=devices.lockers, recover=recovery.run
        ),
        statements=StatementService(repos, config, payments, delivery, clock, recover=recovery.run),
        staff=StaffService(repos, config, devices, delivery, Verifier(repos, clock), clock),
        lockers=lockers,
        shifts=Shifts(repos, config, devices, delivery, lockers, clock),
        refunds=Refunds(repos, payments, settlement, clock),
        recovery=recovery,
        help_calls=HelpCalls(repos, clock),
    )
