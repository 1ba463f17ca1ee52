"""Scripted customer journeys through the real screens, in the Kivy process: the UI
tests and the demo tour. Each taps its way through the kiosk with the simulated
devices behind it, some of them made to fail (declined card, jammed locker, no paper,
wrong digits, idle), in the shop tours/shop.py seeds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kiosk.domain.money import Money
from kiosk.domain.orders import OrderState
from kiosk.drivers.drawer.simulator import DoorBehaviour
from kiosk.drivers.terminal.sim_link import Script
from kiosk.memory import rss_mb, software_gl_rss_mb
from tours.shop import CODES, EUR, PHONE_LAST4


def start(ui: Any, lang: str = "fr") -> Iterator[Any]:
    yield from ui.wait_screen("attract")
    yield lambda: ui.app.ready  # the store and devices open behind the attract screen
    yield from ui.tap("attract", f"start_{lang}")
    yield from ui.wait_screen("home")


def claim(ui: Any, code: str, digits: str = PHONE_LAST4) -> Iterator[Any]:
    yield from ui.tap("home", "pickup")
    yield from ui.type("claim", "code", code.replace("-", ""))
    yield from ui.tap("claim", "go")
    yield from ui.wait_screen("verify")
    yield from ui.type("verify", "digits", digits)
    yield from ui.tap("verify", "go")


def pickup_card(ui: Any, lang: str = "fr") -> Iterator[Any]:
    yield from start(ui, lang)
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
    yield from start(ui, "en")
    yield from claim(ui, CODES["done"])
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
    yield from start(ui)
    ui.app.services.devices.simulators["terminal"].push(
        Script(outcome="decline", decline_code=0x51)
    )
    yield from claim(ui, CODES["done"])
    yield from ui.tap("bill", "card")
    yield from ui.wait_screen("message", timeout=15)
    yield from ui.shot("declined-fr")
    ui.notes["title"] = ui.text("message", "title")
    ui.notes["money_taken"] = ui.app.services.devices.simulators["terminal"].money_taken_minor
    yield from ui.tap("message", "ok")
    yield from ui.wait_screen("bill")


def pickup_wrong_codes(ui: Any) -> Iterator[Any]:
    yield from start(ui)
    yield from ui.tap("home", "pickup")
    yield from ui.type("claim", "code", "ZZZZ")
    yield from ui.tap("claim", "go")
    yield 0.2
    ui.notes["invalid"] = ui.text("claim", "error")
    yield from ui.shot("claim-invalid-fr")
    ui.app.scanned("https://atelier.example/s/pX4mQe7LzR2tW9bKc5NvHg")  # the ticket's other code
    yield 0.2
    ui.notes["status_code"] = ui.text("claim", "error")
    yield from ui.shot("claim-status-code-fr")
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
    yield from start(ui, "en")
    ui.app.services.devices.simulators["lockers"].behaviour["3"] = DoorBehaviour.JAMMED
    yield from claim(ui, CODES["jammed"])
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
    yield from start(ui, "en")
    ui.app.services.devices.simulators["printer"].paper = "out"
    yield from claim(ui, CODES["done"])
    yield from ui.tap("bill", "card")
    yield from ui.wait_screen("collected", timeout=15)
    yield from ui.shot("paper-out-en")
    ui.notes["receipt"] = ui.text("collected", "receipt")
    ui.notes["money_taken"] = ui.app.services.devices.simulators["terminal"].money_taken_minor
    outbox, now = ui.app.services.repos.outbox, ui.app.services.clock()
    sent = [e for e in outbox.next_batch(now, limit=1000) if e.kind == "receipt.send"]
    ui.notes["sent_via"] = [e.payload["channel"] for e in sent]


def nothing_due_and_status(ui: Any) -> Iterator[Any]:
    yield from start(ui, "en")
    yield from claim(ui, CODES["warranty"])
    yield from ui.wait_screen("bill")
    yield from ui.shot("bill-nothing-due-en")
    yield from ui.tap("bill", "free")
    yield from ui.wait_screen("collected", timeout=15)
    ui.notes["where"] = ui.text("collected", "where")
    yield from ui.tap("collected", "done")
    yield from start(ui, "en")
    yield from claim(ui, CODES["working"])
    yield from ui.wait_screen("status")
    yield from ui.shot("status-en")
    ui.notes["status"] = ui.text("status", "words")


def estimate(ui: Any, lang: str = "fr") -> Iterator[Any]:
    yield from start(ui, lang)
    yield from claim(ui, CODES["estimate"])
    yield from ui.wait_screen("estimate")
    yield from ui.shot(f"estimate-{lang}")
    yield from ui.tap("estimate", "approve")
    yield from ui.wait_screen("message")
    ui.notes["state"] = ui.app.services.repos.orders.require("K1-2611-00002").state.value


def statement(ui: Any, lang: str = "fr") -> Iterator[Any]:
    yield from start(ui, lang)
    yield from ui.tap("home", "statement")
    yield from ui.tap("identify", "kind_phone")
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
    yield from start(ui, lang)
    yield from ui.tap("home", "dropoff")
    yield from ui.wait_screen("identify")
    yield from ui.shot(f"identify-{lang}")
    ui.notes["identify_layouts"] = {}
    for kind in ("email", "code", "phone"):  # how the customer will say who they are
        yield from ui.tap("identify", f"kind_{kind}")
        ui.notes["identify_layouts"][kind] = ui.widget("identify", "keyboard").layout
        if kind == "email":
            yield from ui.shot(f"identify-email-{lang}")
        yield from ui.tap("identify", "back")
    yield from ui.tap("identify", "new")
    yield from ui.wait_screen("customer")
    ui.notes["layouts"], ui.notes["fields"] = {}, {}
    answers = (("last_name", "Moreau"), ("first_name", "Chloé"),
               ("phone", "+33655443322"), ("email", "chloe.moreau@example.fr"))  # fmt: skip
    for field, text in answers:
        yield lambda f=field: ui.app.screen("customer").field_name() == f  # one at a time
        yield from ui.type("customer", "field", text)
        ui.notes["layouts"][field] = ui.widget("customer", "keyboard").layout
        ui.notes["fields"][field] = ui.text("customer", "field")
        yield from ui.shot(f"customer-{field.replace('_', '-')}-{lang}")
        yield from ui.tap("customer", "go")
    yield lambda: ui.app.screen("customer").field_name() == "contact_preference"
    yield from ui.shot(f"customer-{lang}")
    yield from ui.tap("customer", "go_last")
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
    yield from ui.wait_screen("review")
    yield from ui.shot(f"review-{lang}")
    yield from ui.tap("review", "go")
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
    yield from start(ui)
    yield from ui.tap("home", "pickup")
    yield from ui.type("claim", "code", "ABCD")
    yield lambda: ui.app.idle_left > 0
    yield from ui.shot("idle-warning-fr")
    ui.notes["warning_seen"] = True
    yield from ui.wait_screen("attract", timeout=10)
    yield from ui.shot("attract-after-idle")
    ui.notes["session"] = dict(ui.app.session)


def tour(ui: Any, langs: tuple[str, ...] = ("fr", "en")) -> Iterator[Any]:
    """Every screen, in each language, for docs/screens and the demo."""
    yield from ui.wait_screen("attract")
    yield from ui.shot("attract")
    for lang in langs:
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
        yield from start(ui, lang)
        yield from claim(ui, CODES["working"])
        yield from ui.wait_screen("status")
        yield from ui.shot(f"status-{lang}")
        yield from ui.tap("status", "ok")


def _put_back(ui: Any, number: str, state: OrderState) -> None:
    """The tour plays each journey in both languages: the order goes back as it was,
    with no bill yet (a paid bill would leave nothing to pay the second time)."""
    from dataclasses import replace

    repos = ui.app.services.repos
    repos.orders.save(replace(repos.orders.require(number), state=state))
    for invoice in repos.invoices.for_order(number):
        repos.invoices.remove(invoice.number)


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
    owed, none = Money("169.78", EUR), Money("0", EUR)
    credit = replace(customer.credit, debt=owed, unapplied_deposits=none)
    repos.customers.save(customer.with_credit(credit))


def transitions(ui: Any, count: int = 200) -> Iterator[Any]:
    """For bench/ui.py: tap → next screen drawn, `count` times, and the memory used."""
    import time

    from kivy.core.window import Window

    flips: list[float] = []
    Window.bind(on_flip=lambda *_: flips.append(time.perf_counter()))
    yield from start(ui)
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
        yield from start(ui)
        yield from claim(ui, CODES["done"])
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
