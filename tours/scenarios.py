"""Scripted customer journeys through the real screens: the UI tests and the demo tour.

`prepare()` seeds a store with known customers and orders (fixed claim codes), and each
scenario taps its way through the kiosk with the simulated devices behind it, some of
them made to fail (declined card, jammed locker, no paper, wrong digits, idle).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from kiosk.domain.billing import build_invoice
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import ContactPreference, CreditAccount, Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import CustomerItem, OrderState, ServiceLine, ServiceOrder
from kiosk.drivers.drawer.simulator import DoorBehaviour
from kiosk.drivers.terminal.simulator import Script
from kiosk.memory import rss_mb, software_gl_rss_mb
from kiosk.services.demo_data import catalogue_records, item_kinds_record
from kiosk.services.item_kinds import SETTING as ITEM_KINDS
from kiosk.services.kiosk import KioskServices
from kiosk.services.usb_devices import UsbGuard
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


def _start(ui: Any, lang: str = "fr") -> Iterator[Any]:
    yield from ui.wait_screen("attract")
    yield lambda: ui.app.ready  # the store and devices open behind the attract screen
    yield from ui.tap("attract", f"start_{lang}")
    yield from ui.wait_screen("home")


def _claim(ui: Any, code: str, digits: str = PHONE_LAST4) -> Iterator[Any]:
    yield from ui.tap("home", "pickup")
    yield from ui.type("claim", "code", code.replace("-", ""))
    yield from ui.tap("claim", "go")
    yield from ui.wait_screen("verify")
    yield from ui.type("verify", "digits", digits)
    yield from ui.tap("verify", "go")


def pickup_card(ui: Any, lang: str = "fr") -> Iterator[Any]:
    yield from _start(ui, lang)
    yield from ui.shot(f"home-{lang}")
    yield from ui.tap("home", "pickup")
    yield from ui.wait_screen("claim")
    yield from ui.type("claim", "code", CODES["done"].replace("-", ""))
    yield from ui.shot(f"claim-{lang}")
    yield from ui.tap("claim", "go")
    yield from ui.wait_screen("verify")
    yield from ui.type("verify", "digits", PHONE_LAST4)
    yield from ui.shot(f"verify-{lang}")
    yield from ui.tap("verify", "go")
    yield from ui.wait_screen("bill")
    yield from ui.shot(f"bill-{lang}")
    ui.app.services.devices.simulators["terminal"].push(Script(status_delay_s=0.4))
    yield from ui.tap("bill", "card")
    yield from ui.wait_screen("progress")
    yield 0.9
    yield from ui.shot(f"progress-{lang}")
    yield from ui.wait_screen("collected", timeout=15)
    yield from ui.shot(f"collected-{lang}")
    ui.check("2" in ui.text("collected", "where"), "the locker number is shown")
    ui.notes["money_taken"] = ui.app.services.devices.simulators["terminal"].money_taken_minor
    ui.notes["order_state"] = ui.app.services.repos.orders.require("K1-2611-00001").state.value
    yield from ui.tap("collected", "done")
    yield from ui.wait_screen("attract")


def asked_while_serving(ui: Any) -> Iterator[Any]:
    """A customer at the bill while a technician's CLI asks the running kiosk (through
    its control socket): the scenario says where it is (`at-bill`) and goes on paying
    once the test says it has asked (`asked`)."""
    yield from _start(ui, "en")
    yield from _claim(ui, CODES["done"])
    yield from ui.wait_screen("bill")
    (ui.out / "at-bill").write_text("the customer is at the bill")
    yield lambda: (ui.out / "asked").exists()
    yield from ui.shot("bill-while-asked")
    ui.app.services.devices.simulators["terminal"].push(Script(status_delay_s=0.2))
    yield from ui.tap("bill", "card")
    yield from ui.wait_screen("collected", timeout=15)
    ui.notes["order_state"] = ui.app.services.repos.orders.require("K1-2611-00001").state.value
    yield from ui.tap("collected", "done")
    yield from ui.wait_screen("attract")


def pickup_declined(ui: Any) -> Iterator[Any]:
    yield from _start(ui)
    ui.app.services.devices.simulators["terminal"].push(
        Script(outcome="decline", decline_code=0x51)
    )
    yield from _claim(ui, CODES["done"])
    yield from ui.tap("bill", "card")
    yield from ui.wait_screen("message", timeout=15)
    yield from ui.shot("declined-fr")
    ui.notes["title"] = ui.text("message", "title")
    ui.notes["money_taken"] = ui.app.services.devices.simulators["terminal"].money_taken_minor
    yield from ui.tap("message", "ok")
    yield from ui.wait_screen("bill")


def pickup_wrong_codes(ui: Any) -> Iterator[Any]:
    yield from _start(ui)
    yield from ui.tap("home", "pickup")
    yield from ui.type("claim", "code", "ZZZZ")
    yield from ui.tap("claim", "go")
    yield 0.2
    ui.notes["invalid"] = ui.text("claim", "error")
    yield from ui.shot("claim-invalid-fr")
    yield from ui.type("claim", "code", "\b" * 4 + CODES["done"].replace("-", ""))
    yield from ui.tap("claim", "go")
    yield from ui.wait_screen("verify")
    for attempt in range(5):
        yield from ui.type("verify", "digits", "0000")
        yield from ui.tap("verify", "go")
        yield 0.2
        if attempt == 0:
            yield from ui.shot("verify-wrong-fr")
            ui.notes["wrong"] = ui.text("verify", "error")
    yield from ui.wait_screen("message")
    yield from ui.shot("locked-fr")
    ui.notes["title"] = ui.text("message", "title")


def pickup_jammed(ui: Any) -> Iterator[Any]:
    yield from _start(ui, "en")
    ui.app.services.devices.simulators["lockers"].behaviour["3"] = DoorBehaviour.JAMMED
    yield from _claim(ui, CODES["jammed"])
    yield from ui.tap("bill", "card")
    yield from ui.wait_screen("message", timeout=20)
    yield from ui.shot("locker-failed-en")
    ui.notes["title"] = ui.text("message", "title")
    ui.notes["money_taken"] = ui.app.services.devices.simulators["terminal"].money_taken_minor
    ui.notes["reservations"] = len(
        ui.app.services.devices.simulators["terminal"].state.reservations
    )


def pickup_paper_out(ui: Any) -> Iterator[Any]:
    """The printer fails after the payment: paid, collected, receipt sent instead. The
    customer's name has letters the printer's code page lacks, too."""
    yield from _start(ui, "en")
    ui.app.services.devices.simulators["printer"].paper = "out"
    yield from _claim(ui, CODES["done"])
    yield from ui.tap("bill", "card")
    yield from ui.wait_screen("collected", timeout=15)
    yield from ui.shot("paper-out-en")
    ui.notes["receipt"] = ui.text("collected", "receipt")
    ui.notes["money_taken"] = ui.app.services.devices.simulators["terminal"].money_taken_minor
    outbox, now = ui.app.services.repos.outbox, ui.app.services.clock()
    sent = [e for e in outbox.next_batch(now, limit=1000) if e.kind == "receipt.send"]
    ui.notes["sent_via"] = [e.payload["channel"] for e in sent]


def nothing_due_and_status(ui: Any) -> Iterator[Any]:
    yield from _start(ui, "en")
    yield from _claim(ui, CODES["warranty"])
    yield from ui.wait_screen("bill")
    yield from ui.shot("bill-nothing-due-en")
    yield from ui.tap("bill", "free")
    yield from ui.wait_screen("collected", timeout=15)
    ui.notes["where"] = ui.text("collected", "where")
    yield from ui.tap("collected", "done")
    yield from _start(ui, "en")
    yield from _claim(ui, CODES["working"])
    yield from ui.wait_screen("status")
    yield from ui.shot("status-en")
    ui.notes["status"] = ui.text("status", "words")


def estimate(ui: Any, lang: str = "fr") -> Iterator[Any]:
    yield from _start(ui, lang)
    yield from _claim(ui, CODES["estimate"])
    yield from ui.wait_screen("estimate")
    yield from ui.shot(f"estimate-{lang}")
    yield from ui.tap("estimate", "approve")
    yield from ui.wait_screen("message")
    ui.notes["state"] = ui.app.services.repos.orders.require("K1-2611-00002").state.value


def statement(ui: Any, lang: str = "fr") -> Iterator[Any]:
    yield from _start(ui, lang)
    yield from ui.tap("home", "statement")
    yield from ui.type("identify", "query", "0612345678")
    yield from ui.shot(f"identify-{lang}")
    yield from ui.tap("identify", "go")
    yield from ui.wait_screen("verify")
    yield from ui.type("verify", "digits", PHONE_LAST4)
    yield from ui.tap("verify", "go")
    yield from ui.wait_screen("statement")
    yield from ui.shot(f"statement-{lang}")
    yield from ui.tap("statement", "pay")
    yield from ui.wait_screen("message", timeout=15)
    yield from ui.shot(f"statement-paid-{lang}")
    ui.notes["body"] = ui.text("message", "body")
    ui.notes["money_taken"] = ui.app.services.devices.simulators["terminal"].money_taken_minor


def dropoff_new(ui: Any, lang: str = "fr") -> Iterator[Any]:
    yield from _start(ui, lang)
    yield from ui.tap("home", "dropoff")
    yield from ui.wait_screen("identify")
    ui.notes["identify_layouts"] = {}
    for kind in ("email", "code", "phone"):  # the switch beside the field
        yield from ui.tap("identify", f"kind_{kind}")
        ui.notes["identify_layouts"][kind] = ui.widget("identify", "keyboard").layout
        if kind == "email":
            yield from ui.shot(f"identify-email-{lang}")
    yield from ui.tap("identify", "new")
    yield from ui.wait_screen("customer")
    ui.notes["layouts"] = {}
    for field, text in (("last_name", "Moreau"), ("first_name", "Chloé"),
                        ("phone", "+33655443322"), ("email", "chloe.moreau@example.fr")):  # fmt: skip
        yield from ui.type("customer", field, text)
        ui.notes["layouts"][field] = ui.widget("customer", "keyboard").layout
        if field == "email":
            yield from ui.shot(f"customer-email-{lang}")
    ui.notes["fields"] = {
        f: ui.text("customer", f) for f in ("last_name", "first_name", "phone", "email")
    }
    yield from ui.shot(f"customer-{lang}")
    yield from ui.tap("customer", "go")
    yield from ui.wait_screen("item")
    yield from ui.tap("item", "kind_bike")
    ui.notes["bike_conditions"] = [
        c.text for c in ui.widget("item", "check_scratches").parent.children
    ][::-1]
    yield from ui.type("item", "model", "Peugeot LC01")
    yield from ui.done_typing("item")
    yield from ui.tap("item", "check_scratches")
    yield from ui.shot(f"item-{lang}")
    yield from ui.tap("item", "go")
    yield from ui.wait_screen("work")
    services = ui.widget("work", "services").children
    yield from ui.tap_widget(next(b for b in services if b.code == "tuneup"))
    yield from ui.shot(f"work-{lang}")
    yield from ui.tap("work", "go")
    yield from ui.wait_screen("terms")
    pad = ui.widget("terms", "pad")
    yield from ui.swipe(
        pad, [(0.1, 0.5), (0.2, 0.8), (0.3, 0.3), (0.45, 0.7), (0.6, 0.4), (0.8, 0.6)]
    )
    yield from ui.shot(f"terms-{lang}")
    yield from ui.tap("terms", "accept")
    ui.app.screen("terms").accept()  # a second tap that landed before the screen changed
    yield from ui.wait_screen("dropped", timeout=15)
    yield 0.5  # both submits have answered
    yield from ui.shot(f"dropped-{lang}")
    ui.notes["ticket"] = ui.text("dropped", "ticket")
    ui.notes["code"] = ui.text("dropped", "code")
    customer = ui.app.session["dropoff"].customer
    ui.notes["customer"] = [
        customer.last_name,
        customer.first_name,
        customer.mobile,
        customer.email,
    ]
    ui.notes["where"] = ui.text("dropped", "where")
    ui.notes["orders"] = len(ui.app.services.repos.orders)
    ui.notes["outbox"] = [
        e.kind for e in ui.app.services.repos.outbox.next_batch(ui.app.services.clock())
    ]


def idle(ui: Any) -> Iterator[Any]:
    yield from _start(ui)
    yield from ui.tap("home", "pickup")
    yield from ui.type("claim", "code", "ABCD")
    yield lambda: ui.app.idle_left > 0
    yield from ui.shot("idle-warning-fr")
    ui.notes["warning_seen"] = True
    yield from ui.wait_screen("attract", timeout=10)
    yield from ui.shot("attract-after-idle")
    ui.notes["session"] = dict(ui.app.session)


def tour(ui: Any) -> Iterator[Any]:
    """Every screen, in both languages, for docs/screens and the demo."""
    yield from ui.wait_screen("attract")
    yield from ui.shot("attract")
    for lang in ("fr", "en"):
        yield from pickup_card(ui, lang)
        _put_back(ui, "K1-2611-00001", OrderState.DONE)
        yield from estimate(ui, lang)
        _put_back(ui, "K1-2611-00002", OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION)
        yield from ui.tap("message", "ok")
        yield from statement(ui, lang)
        _reopen_statement(ui)
        yield from ui.tap("message", "ok")
        yield from dropoff_new(ui, lang)
        yield from ui.tap("dropped", "done")
        yield from _start(ui, lang)
        yield from _claim(ui, CODES["working"])
        yield from ui.wait_screen("status")
        yield from ui.shot(f"status-{lang}")
        yield from ui.tap("status", "ok")


def _put_back(ui: Any, number: str, state: OrderState) -> None:
    """The tour plays each journey in both languages: the order goes back as it was."""
    from dataclasses import replace

    repos = ui.app.services.repos
    repos.orders.save(replace(repos.orders.require(number), state=state))


def _reopen_statement(ui: Any) -> None:
    """The tour pays the same statement in both languages: owe it again."""
    from dataclasses import replace

    from kiosk.domain.billing import InvoiceStatus

    repos = ui.app.services.repos
    for number in ("F-2610-0031", "F-2610-0058"):
        invoice = repos.invoices.require(number)
        repos.invoices.save(replace(invoice, amount_paid=None, status=InvoiceStatus.OPEN))
    customer = repos.customers.require("K1-000042")
    assert customer.credit is not None
    credit = replace(customer.credit, debt=Money("169.78", EUR), unapplied_deposits=Money("0", EUR))
    repos.customers.save(customer.with_credit(credit))


def transitions(ui: Any, count: int = 200) -> Iterator[Any]:
    """For bench/ui.py: tap → next screen drawn, `count` times, and the memory used."""
    import time

    from kivy.core.window import Window

    flips: list[float] = []
    Window.bind(on_flip=lambda *_: flips.append(time.perf_counter()))
    yield from _start(ui)
    timings = []
    for i in range(count):
        here, button, there = (
            ("home", "pickup", "claim") if i % 2 == 0 else ("claim", "cancel", "home")
        )
        widget = ui.app.screen(here).ids[button] if button != "cancel" else _cancel(ui, here)
        yield from ui.wait_screen(here, timeout=5)
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        tapped = time.perf_counter()
        touch.touch_up()
        yield (
            lambda there=there, tapped=tapped: (
                ui.current() == there and any(f > tapped for f in flips)
            )
        )
        drawn = next(f for f in flips if f > tapped)
        timings.append((drawn - tapped) * 1000)
        flips.clear()
    ui.notes["transitions_ms"] = timings
    ui.notes["rss_mb"] = rss_mb()
    ui.notes["software_gl_rss_mb"] = software_gl_rss_mb()


def _cancel(ui: Any, screen: str) -> Any:
    """The top bar's Cancel button of a screen."""
    for widget in ui.app.screen(screen).walk():
        if getattr(widget, "text", None) == ui.app.tr("Cancel"):
            return widget
    raise AssertionError(f"no Cancel on {screen}")


def soak(ui: Any, journeys: int = 200) -> Iterator[Any]:
    """For tests/reliability/test_soak.py: the same pickup, again and again, and memory."""
    yield lambda: ui.app.ready  # the store opens behind the attract screen
    repos = ui.app.services.repos
    rss = []
    for i in range(journeys):
        order = repos.orders.require("K1-2611-00001")
        from dataclasses import replace

        repos.orders.save(replace(order, state=OrderState.DONE))
        yield from _start(ui)
        yield from _claim(ui, CODES["done"])
        yield from ui.wait_screen("bill")
        yield from ui.tap("bill", "card")
        yield from ui.wait_screen("collected", timeout=15)
        yield from ui.tap("collected", "done")
        yield from ui.wait_screen("attract")
        if i in (19, journeys - 1):  # after a warm-up, and at the end
            rss.append(rss_mb())
    ui.notes["rss_mb"] = rss
    ui.notes["journeys"] = journeys
    ui.notes["money_taken"] = ui.app.services.devices.simulators["terminal"].money_taken_minor


def _corner(ui: Any) -> Iterator[Any]:
    """The hidden gesture: three taps in the attract screen's top-left corner."""
    from kivy.core.window import Window
    from kivy.metrics import mm

    yield from ui.wait_screen("attract")
    yield lambda: ui.app.ready
    for _ in range(3):
        yield from ui.tap_at(mm(5), Window.height - mm(5))
    yield from ui.wait_screen("staff_pin")


def sign_in(ui: Any, who: str, *, card: bool = False) -> Iterator[Any]:
    if card:  # a staff card read by the scanner on the attract screen
        yield from ui.wait_screen("attract")
        yield lambda: ui.app.ready
        ui.app.scanned(STAFF[who][4])
        yield from ui.wait_screen("staff_pin")
    else:
        yield from _corner(ui)
    yield from ui.type("staff_pin", "pin", STAFF[who][3])
    yield from ui.tap("staff_pin", "go")
    yield from ui.wait_screen("staff_menu")


def _greyed(ui: Any) -> list[str]:
    """The staff menu's tasks this member's role does not allow."""
    tasks = ("lockers", "shift", "search", "unlock", "sync", "devices")
    return sorted(w for w in tasks if ui.widget("staff_menu", w).disabled)


def menu(ui: Any, screen: str) -> Iterator[Any]:
    yield from ui.tap_text(screen, ui.app.tr("Menu"))
    yield from ui.wait_screen("staff_menu")


def sign_out(ui: Any, screen: str) -> Iterator[Any]:
    yield from ui.tap_text(screen, ui.app.tr("Sign out"))
    yield from ui.wait_screen("attract")


def staff_lockers(ui: Any, lang: str = "en") -> Iterator[Any]:
    """Hidden corner → a wrong PIN → the manager's PIN → load the finished order into a
    free locker (the door opens, staff shut it) → the inventory → empty it again."""
    ui.app.lang = lang
    yield from _corner(ui)
    yield from ui.type("staff_pin", "pin", "9999")
    yield from ui.tap("staff_pin", "go")
    yield lambda: bool(ui.text("staff_pin", "error"))
    yield from ui.shot(f"staff-pin-wrong-{lang}")
    ui.notes["wrong_pin"] = ui.text("staff_pin", "error")
    yield from ui.type("staff_pin", "pin", STAFF["maud"][3])
    yield from ui.tap("staff_pin", "go")
    yield from ui.wait_screen("staff_menu")
    yield from ui.shot(f"staff-menu-manager-{lang}")
    yield from ui.tap("staff_menu", "lockers")
    yield from ui.wait_screen("staff_lockers")
    yield from ui.shot(f"staff-lockers-{lang}")
    yield from ui.tap("staff_lockers", "load")
    yield from ui.wait_screen("staff_scan")
    yield from ui.type("staff_scan", "code", CODES["finished"].replace("-", ""))
    yield from ui.shot(f"staff-load-scan-{lang}")
    doors = ui.app.services.devices.simulators["lockers"]
    doors.close_after_s = 1.5  # the technician takes a moment to put the bike in
    yield from ui.tap("staff_scan", "go")
    yield from ui.wait_screen("progress")
    yield lambda: bool(ui.app.terminal_text)
    yield from ui.shot(f"staff-load-open-{lang}")
    ui.notes["open_text"] = ui.app.terminal_text
    yield from ui.wait_screen("staff_lockers", timeout=20)
    yield from ui.shot(f"staff-load-done-{lang}")
    ui.notes["loaded"] = ui.text("staff_lockers", "result")
    order = ui.app.services.repos.orders.require("K1-2611-00006")
    ui.notes["location"] = order.location
    locker = order.location.split()[-1]
    yield from ui.tap("staff_lockers", f"empty_{locker}")
    yield from ui.wait_screen("staff_lockers", timeout=20)
    yield lambda: bool(ui.text("staff_lockers", "result"))
    ui.notes["emptied"] = ui.text("staff_lockers", "result")
    ui.notes["location_after"] = ui.app.services.repos.orders.require("K1-2611-00006").location
    ui.notes["outbox"] = [
        e.kind for e in ui.app.services.repos.outbox.next_batch(ui.app.services.clock())
    ]
    yield from sign_out(ui, "staff_lockers")


def staff_shift(ui: Any, lang: str = "en") -> Iterator[Any]:
    """Staff card + PIN → open the shift → a customer collects and pays → staff card
    again → close the shift: the report against the terminal's end of day."""
    ui.app.lang = lang
    yield from sign_in(ui, "sam", card=True)
    yield from ui.shot(f"staff-menu-staff-{lang}")
    ui.notes["menu_disabled"] = _greyed(ui)
    yield from ui.tap("staff_menu", "shift")
    yield from ui.wait_screen("staff_shift")
    yield from ui.tap("staff_shift", "open")
    yield 0.2
    yield from ui.shot(f"staff-shift-open-{lang}")
    yield from sign_out(ui, "staff_shift")
    yield from pickup_card(ui, lang)  # a customer pays 84,89 € by card
    yield from sign_in(ui, "sam", card=True)
    yield from ui.tap("staff_menu", "shift")
    yield from ui.tap("staff_shift", "close")
    yield from ui.wait_screen("staff_shift", timeout=20)
    yield (
        lambda: (
            "closed" in ui.text("staff_shift", "summary")
            or "clôturé" in ui.text("staff_shift", "summary")
        )
    )
    yield from ui.shot(f"staff-shift-closed-{lang}")
    ui.notes["summary"] = ui.text("staff_shift", "summary")
    printer = ui.app.services.devices.simulators["printer"]
    ui.notes["report"] = printer.render(printer.jobs[-1]).pages[0].text
    yield from sign_out(ui, "staff_shift")


def staff_search(ui: Any, lang: str = "en") -> Iterator[Any]:
    """A customer pays; the manager finds the payment, reprints it and refunds it; a
    ticket locked by five wrong tries is unlocked."""
    ui.app.lang = lang
    yield from pickup_card(ui, lang)
    yield from _start(ui, lang)
    yield from _claim(ui, CODES["working"], digits="0000")
    for _ in range(4):
        yield from ui.type("verify", "digits", "0000")
        yield from ui.tap("verify", "go")
        yield 0.2
    yield from ui.wait_screen("message")
    yield from ui.tap("message", "ok")
    yield from ui.tap_text("home", ui.app.tr("Cancel"))  # on home, Cancel ends the session
    yield from sign_in(ui, "maud")
    yield from ui.tap("staff_menu", "search")
    yield from ui.wait_screen("staff_search")
    yield from ui.tap("staff_search", "today")
    yield lambda: "reprint_0" in ui.app.screen("staff_search").ids
    yield from ui.shot(f"staff-search-{lang}")
    ui.notes["found"] = ui.text("staff_search", "result")
    yield from ui.tap("staff_search", "reprint_0")
    yield 0.3
    ui.notes["reprint"] = ui.text("staff_search", "result")
    printer = ui.app.services.devices.simulators["printer"]
    ui.notes["reprint_text"] = printer.render(printer.jobs[-1]).pages[0].text
    yield from ui.tap("staff_search", "refund_0")
    yield from ui.wait_screen("staff_search", timeout=20)
    yield lambda: "(" in ui.text("staff_search", "result")
    yield from ui.shot(f"staff-refunded-{lang}")
    ui.notes["refund"] = ui.text("staff_search", "result")
    ui.notes["money_taken"] = ui.app.services.devices.simulators["terminal"].money_taken_minor
    yield from menu(ui, "staff_search")
    yield from ui.tap("staff_menu", "unlock")
    yield from ui.wait_screen("staff_scan")
    yield from ui.type("staff_scan", "code", CODES["working"].replace("-", ""))
    yield from ui.tap("staff_scan", "go")
    yield lambda: bool(ui.text("staff_scan", "result"))
    yield from ui.shot(f"staff-unlocked-{lang}")
    ui.notes["unlocked"] = ui.text("staff_scan", "result")
    yield from sign_out(ui, "staff_scan")
    yield from _start(ui, lang)
    yield from _claim(ui, CODES["working"])
    yield from ui.wait_screen("status")  # the customer gets in again


def staff_sync_devices(ui: Any, lang: str = "en") -> Iterator[Any]:
    """The technician: two dead letters, one retried, one discarded with a reason; the
    devices and the recent log."""
    ui.app.lang = lang
    yield lambda: ui.app.ready
    outbox, now = ui.app.services.repos.outbox, ui.app.services.clock()
    for number in ("K1-2611-00077", "K1-2611-00078"):
        op_id = outbox.enqueue("staff.note", {"number": number, "text": "?", "at":
                               now.isoformat(), "author": "kiosk"}, key="note", now=now)  # fmt: skip
        outbox.dead_letter(op_id, f"unknown order {number}", now)
    yield from sign_in(ui, "tess")
    ui.notes["menu_disabled"] = _greyed(ui)
    yield from ui.tap("staff_menu", "sync")
    yield from ui.wait_screen("staff_sync")
    yield from ui.shot(f"staff-sync-{lang}")
    yield from ui.tap("staff_sync", "retry_0")
    yield 0.2
    yield from ui.tap("staff_sync", "discard_0")  # no reason yet: refused
    yield 0.2
    ui.notes["no_reason"] = ui.text("staff_sync", "result")
    yield from ui.type("staff_sync", "reason", "ORDER DELETED")
    yield from ui.tap("staff_sync", "discard_0")
    yield 0.2
    yield from ui.shot(f"staff-sync-after-{lang}")
    ui.notes["summary"] = ui.text("staff_sync", "summary")
    ui.notes["discarded"] = [
        d["discard_reason"] for d in ui.app.services.repos.store.table("outbox_discarded").all()
    ]
    yield from menu(ui, "staff_sync")
    yield from ui.tap("staff_menu", "devices")
    yield from ui.wait_screen("staff_devices")
    yield from ui.shot(f"staff-devices-{lang}")
    ui.notes["table"] = ui.text("staff_devices", "table")
    if "allow_usb_0" in ui.app.screen("staff_devices").ids:  # once: the scanner let in
        yield from ui.tap("staff_devices", "allow_usb_0")
        yield 0.2
        yield from ui.shot(f"staff-devices-usb-allowed-{lang}")
    ui.notes["usb"] = ui.text("staff_devices", "usb_note")
    ui.notes["log"] = ui.text("staff_devices", "log")
    yield from sign_out(ui, "staff_devices")


def staff_tour(ui: Any) -> Iterator[Any]:
    """The staff screens in French, for docs/screens (the tests keep the English ones)."""
    yield from staff_lockers(ui, "fr")
    yield from staff_sync_devices(ui, "fr")
    yield from staff_shift(ui, "fr")
    yield from sign_in(ui, "maud")
    yield from ui.tap("staff_menu", "search")
    yield from ui.tap("staff_search", "today")
    yield lambda: "reprint_0" in ui.app.screen("staff_search").ids
    yield from ui.shot("staff-search-fr")
    yield from sign_out(ui, "staff_search")


def staff_payments(ui: Any, lang: str = "en") -> Iterator[Any]:
    """The terminal's cable goes out just after it received a pickup's reservation: the
    customer is told the payment is being confirmed; staff see the open payment, the
    cable is back, "resolve now" asks the terminal and the list empties."""
    ui.app.lang = lang
    yield from _start(ui, lang)
    terminal = ui.app.services.devices.simulators["terminal"]
    terminal.push(Script(cut_after=1))
    yield from _claim(ui, CODES["done"])
    yield from ui.tap("bill", "card")
    yield from ui.wait_screen("message", timeout=30)
    yield from ui.shot(f"payment-unknown-{lang}")
    ui.notes["customer_title"] = ui.text("message", "title")
    ui.notes["customer_body"] = ui.text("message", "body")
    yield from ui.tap("message", "ok")
    yield from sign_in(ui, "maud")
    yield from ui.tap("staff_menu", "payments")
    yield from ui.wait_screen("staff_payments")
    yield from ui.shot(f"staff-payments-open-{lang}")
    ui.notes["open_summary"] = ui.text("staff_payments", "summary")
    ui.notes["open_row"] = ui.text("staff_payments", "intent_0")
    terminal.reconnect()  # the cable is back
    yield from ui.tap("staff_payments", "resolve")
    yield from ui.wait_screen("staff_payments", timeout=30)
    yield lambda: bool(ui.text("staff_payments", "result"))
    yield from ui.shot(f"staff-payments-resolved-{lang}")
    ui.notes["result"] = ui.text("staff_payments", "result")
    ui.notes["summary"] = ui.text("staff_payments", "summary")
    ui.notes["money_taken"] = terminal.money_taken_minor
    order = ui.app.services.repos.orders.require("K1-2611-00001")
    ui.notes["order_state"] = order.state.value
    yield from sign_out(ui, "staff_payments")


def help_call(ui: Any, lang: str = "en") -> Iterator[Any]:
    """A customer on the bill screen presses "Call staff"; staff mode shows the call
    until someone answers it; the back office gets a staff alert."""
    ui.app.lang = lang
    yield from _start(ui, lang)
    yield from _claim(ui, CODES["done"])
    yield from ui.wait_screen("bill")
    yield from ui.tap_text("bill", ui.app.tr("Call staff"))
    yield 0.2
    yield from ui.shot(f"help-called-{lang}")
    coming = ui.app.tr("Staff is coming")
    ui.notes["bar"] = [
        w.text for w in ui.app.screen("bill").walk() if getattr(w, "text", "") == coming
    ]
    outbox = ui.app.services.repos.outbox.next_batch(ui.app.services.clock())
    ui.notes["alerts"] = [e.payload["text"] for e in outbox if e.kind == "staff.alert"]
    yield from ui.tap_text("bill", ui.app.tr("Cancel"))
    yield from ui.tap_text("home", ui.app.tr("Cancel"))
    yield from sign_in(ui, "sam")
    yield from ui.wait_screen("staff_menu")
    yield from ui.shot(f"staff-menu-help-{lang}")
    ui.notes["calls"] = ui.app.screen("staff_menu").calls
    yield from ui.tap("staff_menu", "answer")
    ui.notes["after"] = ui.app.screen("staff_menu").calls
    yield from sign_out(ui, "staff_menu")


from tours.walk import walk  # noqa: E402  (the walk builds on the journeys above)

SCENARIOS = {
    "walk": walk,
    "help_call": help_call,
    "staff_payments": staff_payments,
    "staff_tour": staff_tour,
    "staff_lockers": staff_lockers,
    "staff_shift": staff_shift,
    "staff_search": staff_search,
    "staff_sync_devices": staff_sync_devices,
    "pickup_card": pickup_card,
    "asked_while_serving": asked_while_serving,
    "pickup_declined": pickup_declined,
    "pickup_wrong_codes": pickup_wrong_codes,
    "pickup_jammed": pickup_jammed,
    "pickup_paper_out": pickup_paper_out,
    "nothing_due_and_status": nothing_due_and_status,
    "estimate": estimate,
    "statement": statement,
    "dropoff_new": dropoff_new,
    "idle": idle,
    "tour": tour,
    "transitions": transitions,
    "soak": soak,
}
# Settings a scenario needs (short idle time-outs for the idle scenario).
CONFIG = {
    "idle": {"kiosk": {"idle_timeout_s": 2, "idle_warning_s": 3}},
    # the layout check in real millimetres: the 7-inch Raspberry Pi panel (800×480)
    "walk": {"kiosk": {"screen_dpi": 133}},
}
