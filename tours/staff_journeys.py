"""Scripted staff journeys: the hidden corner or a staff card, a PIN, each task of the
menu; and a customer's "Call staff" answered in staff mode."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kiosk.drivers.terminal.sim_link import Script
from tours.journeys import claim, pickup_card, start
from tours.shop import CODES, STAFF


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
    yield from start(ui, lang)
    yield from claim(ui, CODES["working"], digits="0000")
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
    yield from start(ui, lang)
    yield from claim(ui, CODES["working"])
    yield from ui.wait_screen("status")  # the customer gets in again


def staff_sync_devices(ui: Any, lang: str = "en") -> Iterator[Any]:
    """The technician: two dead letters, one retried, one discarded with a reason; the
    devices and the recent log."""
    ui.app.lang = lang
    yield lambda: ui.app.ready
    outbox, now = ui.app.services.repos.outbox, ui.app.services.clock()
    for number in ("K1-2611-00077", "K1-2611-00078"):
        note = {"number": number, "text": "?", "at": now.isoformat(), "author": "kiosk"}
        op_id = outbox.enqueue("staff.note", note, key="note", now=now)
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
    ui.notes["table"] = [
        w.text
        for w in ui.widget("staff_devices", "devices").walk()
        if hasattr(w, "markup") and w.markup and "[b]" in w.text
    ]
    ui.notes["details"] = {
        key.removeprefix("detail_"): w.text
        for key, w in ui.app.screen("staff_devices").ids.items()
        if key.startswith("detail_")
    }
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


def staff_keypad_reversal(ui: Any, lang: str = "en") -> Iterator[Any]:
    """A pickup paid; someone reverses it at the terminal's own keypad; the manager's
    refund is refused with why (the terminal may have reversed it already), nothing is
    paid out, and the row offers the refund once the terminal's journal was checked."""
    ui.app.lang = lang
    yield from ui.wait_screen("attract")
    yield lambda: ui.app.ready
    services = ui.app.services
    order = services.repos.orders.require("K1-2611-00001")
    services.pickup.pay_by_card(order, services.pickup.bill(order))  # paid, as at the screen
    (paid,) = services.repos.payments.all()
    services.devices.terminal.reverse(int(paid.terminal_receipt_number))  # at the keypad
    yield from sign_in(ui, "maud")
    yield from ui.tap("staff_menu", "search")
    yield from ui.wait_screen("staff_search")
    yield from ui.tap("staff_search", "today")
    yield lambda: "refund_0" in ui.app.screen("staff_search").ids
    yield from ui.tap("staff_search", "refund_0")
    yield from ui.wait_screen("staff_search", timeout=20)
    yield lambda: bool(ui.text("staff_search", "result"))
    yield lambda: "refund_0" in ui.app.screen("staff_search").ids
    yield from ui.shot(f"staff-maybe-reversed-{lang}")
    ui.notes["result"] = ui.text("staff_search", "result")
    ui.notes["button"] = ui.app.screen("staff_search").ids["refund_0"].text
    ui.notes["money_taken"] = services.devices.simulators["terminal"].money_taken_minor
    yield from sign_out(ui, "staff_search")


def staff_payments(ui: Any, lang: str = "en") -> Iterator[Any]:
    """The terminal's cable goes out just after it received a pickup's reservation: the
    customer is told the payment is being confirmed; staff see the open payment, the
    cable is back, "resolve now" asks the terminal and the list empties."""
    ui.app.lang = lang
    yield from start(ui, lang)
    terminal = ui.app.services.devices.simulators["terminal"]
    terminal.push(Script(cut_after=1))
    yield from claim(ui, CODES["done"])
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
    yield from start(ui, lang)
    yield from claim(ui, CODES["done"])
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
