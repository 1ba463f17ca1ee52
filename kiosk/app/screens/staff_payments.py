from typing import Any

from kivy.factory import Factory

from kiosk.app.main import KioskScreen
from kiosk.domain.intents import OPEN_STATES, IntentKind, IntentState

KIND_WORDS = {
    IntentKind.CHARGE: "card payment",
    IntentKind.RESERVATION: "reservation",
    IntentKind.REVERSAL: "reversal",
    IntentKind.REFUND: "refund",
    IntentKind.ACCOUNT_CHARGE: "charge on account",
}


class StaffPaymentsScreen(KioskScreen):
    """Payments the ledger has not finished: the terminal's answer not known yet, an
    amount still held on a card, or money taken whose order or invoices are not updated
    yet. "Resolve now" asks the terminal and finishes them, without a restart."""

    def refresh(self) -> None:
        self.ids.result.text = ""
        self.fill()

    def fill(self) -> None:
        app = self.app
        unresolved = app.services.recovery.for_staff(app.staff)
        self.ids.summary.text = (
            app.tr("Payments to confirm with the card terminal: {n}.", n=len(unresolved))
            if unresolved
            else app.tr("Every payment is confirmed.")
        )
        rows = self.ids.rows
        rows.clear_widgets()
        for n, intent in enumerate(unresolved):
            label = Factory.RowLabel(text=self.describe(intent))
            self.ids[f"intent_{n}"] = label
            line = Factory.Row()
            line.add_widget(label)
            if intent.state is IntentState.RESERVED and intent.pulse_sent:
                # the lock was pulsed, no record of the door: staff look in the locker
                for key, words, taken in (("taken", "Item gone: take the payment", True),
                                          ("there", "Item still there: release", False)):  # fmt: skip
                    button = Factory.RowButton(text=app.tr(words))
                    button.bind(on_release=lambda _b, i=intent, t=taken: self.confirm(i, t))
                    self.ids[f"{key}_{n}"] = button
                    line.add_widget(button)
            rows.add_widget(line)
        for n, owed in enumerate(app.services.delivery.owed()):
            # a receipt a power cut (or a printer and no contact) left unprinted
            label = Factory.RowLabel(
                text=app.tr(
                    "{when} · receipt not given yet · payment {payment} · account {account}",
                    when=app.when(owed.at),
                    payment=owed.payment_id,
                    account=owed.customer_account,
                )
            )
            button = Factory.RowButton(text=app.tr("Print it"))
            button.bind(on_release=lambda _b, o=owed: self.reprint(o.payment_id))
            self.ids[f"owed_{n}"], self.ids[f"print_{n}"] = label, button
            line = Factory.Row()
            line.add_widget(label)
            line.add_widget(button)
            rows.add_widget(line)
        self.ids.resolve.disabled = not unresolved

    def describe(self, intent: Any) -> str:
        app = self.app
        why = app.services.recovery.quarantined.get(intent.intent_id)
        if why:  # the kiosk could not finish it by itself: staff confirm it
            status = app.tr("the kiosk could not finish it: {why}", why=why)
        elif intent.state in OPEN_STATES:
            status = app.tr("the terminal's answer is not known yet")
        elif intent.state is IntentState.RESERVED:
            status = app.tr("the amount is held on the card")
        else:
            status = app.tr("the terminal answered; the kiosk's records are being finished")
        what = intent.order_number or ", ".join(intent.invoice_numbers) or intent.refund_of
        return (
            f"{app.when(intent.created_at)} · {app.tr(KIND_WORDS[intent.kind])} "
            f"{app.money(intent.amount)} · {what}\n{status}"
        )

    def confirm(self, intent: Any, taken: bool) -> None:
        app = self.app
        app.progress_title = app.tr("Asking the card terminal")
        app.terminal_text = ""
        app.go("progress")
        app.in_background(
            lambda: app.services.recovery.confirm_pickup(app.staff, intent.intent_id, taken),
            self._resolved,
        )

    def reprint(self, payment_id: str) -> None:
        app = self.app
        try:
            delivery = app.services.staff.reprint(app.staff, payment_id, app.lang)
        except Exception as exc:  # the payment's invoice gone: said, not raised
            self.ids.result.text = str(exc)
            return
        self.fill()
        self.ids.result.text = (
            app.tr("Printed.")
            if delivery.printed
            else app.tr("Not printed ({why}).", why=delivery.reason)
        )

    def resolve(self) -> None:
        app = self.app
        app.progress_title = app.tr("Asking the card terminal")
        app.terminal_text = ""
        app.go("progress")
        app.in_background(lambda: app.services.recovery.resolve_now(app.staff), self._resolved)

    def _resolved(self, report: Any) -> None:
        app = self.app
        app.go("staff_payments")
        if isinstance(report, Exception):
            self.ids.result.text = str(report)
        elif report.complete:
            self.ids.result.text = app.tr("Resolved: {n}.", n=len(report.done))
        else:
            self.ids.result.text = app.tr(
                "Resolved: {n}. Still open: {why}",
                n=len(report.done),
                why="; ".join(report.left_open + report.quarantined),
            )
