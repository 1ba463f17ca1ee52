from typing import Any

from kivy.factory import Factory
from kivy.properties import BooleanProperty

from kiosk.app.main import KioskScreen
from kiosk.domain.billing import PaymentMethod
from kiosk.services.money.refunds import MaybeReversed


def method_words(app: Any, method: PaymentMethod) -> str:
    """How a payment was made, in the staff member's language."""
    return {
        PaymentMethod.CARD: app.tr("card"),
        PaymentMethod.ACCOUNT: app.tr("on account"),
        PaymentMethod.NOTHING_DUE: app.tr("nothing due"),
        PaymentMethod.CASH: app.tr("cash"),
    }[method]


class StaffSearchScreen(KioskScreen):
    """Find payments by day, claim code, customer (account or last name) or the card's
    last four digits; reprint a receipt; a manager may refund a card payment."""

    _last = ""
    _check_asked = ""  # the payment whose reversal the terminal may have made already
    failed = BooleanProperty(False)  # the result line is an error (warning colour)

    def refresh(self) -> None:
        if self.app.session.pop("staff_search_again", False) and self._last:
            self.search(self._last)  # back from a refund: the list shows it
            return
        self._last = self._check_asked = ""
        self.ids.query.value = ""
        self.ids.result.text = ""
        self.ids.keyboard.target = None  # the keyboard folds out when the field is tapped
        self.ids.rows.clear_widgets()

    def scanned(self, code: str) -> None:
        self.ids.query.value = code
        self.search("claim")

    def search(self, how: str) -> None:
        app = self.app
        self._last = how
        staff = app.services.staff
        text = self.ids.query.value.strip()
        try:
            if how == "today":
                found = staff.search(app.staff, on=app.services.clock().date())
            elif how == "claim":
                found = staff.search(app.staff, claim_code=text)
            elif how == "customer":
                found = staff.search(app.staff, customer=text)
            else:
                found = staff.search(app.staff, card_last4=text)
        except Exception as exc:  # bad claim code, not four digits…
            self.failed, self.ids.result.text = True, str(exc)
            self.ids.rows.clear_widgets()
            return
        self.show(found)

    def show(self, payments: list[Any]) -> None:
        app = self.app
        self.failed = False
        self.ids.result.text = app.trn("{n} payment found", "{n} payments found", len(payments))
        rows = self.ids.rows
        rows.clear_widgets()
        given_back = {
            p.payment_id.removeprefix("refund-")
            for p in payments
            if p.payment_id.startswith("refund-")
        }
        for n, payment in enumerate(payments[:50]):
            line = Factory.Row()
            card = f" {payment.card_brand} …{payment.card_last4}" if payment.card_last4 else ""
            refunded = payment.payment_id.startswith("refund-")
            what = app.tr("refund") if refunded else method_words(app, payment.method)
            line.add_widget(
                Factory.RowLabel(
                    text=f"{app.when(payment.at)} · {app.money(payment.amount)} · {what}{card}"
                    f" · {payment.customer_account}"
                )
            )
            if not refunded:  # a refund has no kiosk receipt to reprint
                reprint = Factory.RowButton(text=app.tr("Reprint"))
                reprint.bind(on_release=lambda _b, p=payment: self.reprint(p))
                self.ids[f"reprint_{n}"] = reprint
                line.add_widget(reprint)
            if (
                app.staff_may("refund")
                and payment.method is PaymentMethod.CARD
                and not refunded
                and payment.payment_id not in given_back
            ):
                # after "it may have been reversed at the terminal": the manager checked
                checked = payment.payment_id == self._check_asked
                words = "Not reversed there: refund" if checked else "Refund"
                refund = Factory.RowButton(text=app.tr(words))
                refund.bind(on_release=lambda _b, p=payment, c=checked: self.refund(p, c))
                self.ids[f"refund_{n}"] = refund
                line.add_widget(refund)
            rows.add_widget(line)

    def reprint(self, payment: Any) -> None:
        app = self.app
        try:
            delivery = app.services.staff.reprint(app.staff, payment.payment_id, app.lang)
        except Exception as exc:
            self.failed, self.ids.result.text = True, str(exc)
            return
        self.failed = not delivery.printed
        self.ids.result.text = (
            app.tr("Receipt reprinted (marked COPY).")
            if delivery.printed
            else app.tr("The receipt could not be printed: {why}", why=delivery.reason)
        )

    def refund(self, payment: Any, checked: bool = False) -> None:
        app = self.app
        app.progress_title = app.tr("Refund {amount}", amount=app.money(payment.amount))
        app.terminal_text = ""
        app.go("progress")
        refunds, payment_id = app.services.refunds, payment.payment_id
        app.in_background(
            lambda: refunds.refund(app.staff, payment_id, checked=checked),
            lambda result: self._refunded(result, payment_id),
        )

    def _refunded(self, result: Any, payment_id: str) -> None:
        app = self.app
        app.terminal_text = ""
        self._check_asked = payment_id if isinstance(result, MaybeReversed) else ""
        app.session["staff_search_again"] = True
        app.go("staff_search")
        if isinstance(result, Exception):
            self.failed, self.ids.result.text = True, str(result)
            return
        self.failed = False
        self.ids.result.text = app.tr(
            "Refunded {amount} ({how}).",
            amount=app.money(result.refund.amount),
            how=app.tr(result.how),
        )
