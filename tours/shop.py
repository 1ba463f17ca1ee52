"""The shop every scripted journey meets: a customer with a credit account, repairs
in each state (fixed claim codes), last month's invoices, the staff and their PINs.
The in-process scenarios, the walk, the person test and the demo tour all seed and
name it from here: one vocabulary of the shop's data."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from kiosk.domain.billing import build_invoice
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import ContactPreference, CreditAccount, Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import CustomerItem, OrderState, ServiceLine, ServiceOrder
from kiosk.services.demo_data import catalogue_records, item_kinds_record
from kiosk.services.journeys.item_kinds import SETTING as ITEM_KINDS
from kiosk.services.kiosk import KioskServices
from kiosk.services.staff_mode.usb_devices import UsbGuard
from tours.usbguard import FakeUsbGuard

EUR = "EUR"
PHONE_LAST4 = "5678"
CODES = {
    name: ClaimCode.from_random(bytes([n, 0x5A, 0x3C, 0x91, 0x7E])).display
    for n, name in enumerate(
        ["done", "estimate", "working", "jammed", "warranty", "finished"], start=1
    )
}
STAFF = {"sam": ("s1", "Sam", "staff", "1111", "STAFF-0001"),
         "tess": ("t1", "Tess", "technician", "2222", ""),
         "maud": ("m1", "Maud", "manager", "3333", "")}  # fmt: skip


def prepare(services: KioskServices) -> None:
    repos = services.repos
    now = services.clock()
    for code, item in catalogue_records().items():
        repos.settings.set(f"catalogue:{code}", item)
    repos.settings.set(ITEM_KINDS, item_kinds_record())
    customer = Customer(
        account_number="K1-000042",
        first_name="Élodie",
        last_name="Lefèvre",
        mobile="06 12 34 56 78",
        email="elodie@example.com",
        contact_preference=ContactPreference.SMS,
        credit=CreditAccount(
            Money("500", EUR), Money("169.78", EUR), Money("0", EUR), date(2025, 1, 1)
        ),
    )
    repos.customers.add(customer)
    states = {
        "done": [OrderState.IN_PROGRESS, OrderState.DONE],
        "estimate": [OrderState.IN_PROGRESS, OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION],
        "working": [OrderState.IN_PROGRESS],
        "jammed": [OrderState.IN_PROGRESS, OrderState.DONE],
        "warranty": [OrderState.IN_PROGRESS, OrderState.DONE],
        "finished": [OrderState.IN_PROGRESS, OrderState.DONE],  # staff put it in a locker
    }
    where = {"done": "locker 2", "jammed": "locker 3", "warranty": "counter", "finished": "counter"}
    for n, (name, steps) in enumerate(states.items(), start=1):
        order = ServiceOrder(
            number=f"K1-2611-{n:05d}",
            claim_code=ClaimCode.parse(CODES[name]),
            customer_account=customer.account_number,
            currency=EUR,
            created_at=now - timedelta(days=4),
            items=(CustomerItem("Vélo Peugeot LC01", "WTU-884213"),),
            under_warranty=name == "warranty",
            lines=(
                ServiceLine(
                    "tuneup", "Révision complète", Money("49.90", EUR), tax_rate_percent=Decimal(20)
                ),
                ServiceLine("brakes", "Freins", Money("34.99", EUR), tax_rate_percent=Decimal(20)),
            ),
        )
        for step in steps:
            order = order.move_to(step, now - timedelta(days=1), "tech")
        if name in where:
            order = order.move_item(where[name], now, "staff")
        repos.orders.add(order)
    # two repairs collected last month on account: the statement's invoices
    for n, (number, days) in enumerate((("F-2610-0031", 40), ("F-2610-0058", 25)), start=90):
        old = ServiceOrder(
            number=f"K1-2610-{n:05d}",
            claim_code=ClaimCode.from_random(bytes([n, 1, 2, 3, 4])),
            customer_account=customer.account_number,
            currency=EUR,
            created_at=now - timedelta(days=days + 5),
            items=(CustomerItem("Téléphone Fairphone 5"),),
            lines=(
                ServiceLine(
                    "tuneup", "Révision complète", Money("49.90", EUR), tax_rate_percent=Decimal(20)
                ),
                ServiceLine("brakes", "Freins", Money("34.99", EUR), tax_rate_percent=Decimal(20)),
            ),
        )
        for step in (OrderState.IN_PROGRESS, OrderState.DONE, OrderState.COLLECTED):
            old = old.move_to(step, now - timedelta(days=days), "tech")
        repos.orders.add(old)
        when = now - timedelta(days=days)
        repos.invoices.add(build_invoice(number, old, customer, when, prices_include_tax=True))
    for staff_id, name, role, pin, card in STAFF.values():
        services.staff.add_member(staff_id, name, role, pin, card)
    services.staff.usb = UsbGuard(FakeUsbGuard())  # a replaced scanner, kept out
    services.lockers.door_timeout_s = 20.0
