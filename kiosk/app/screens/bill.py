from typing import Any

from kivy.uix.label import Label

from kiosk.app.main import KioskScreen
from kiosk.services.journeys.pickup import Outcome, PickupResult
from kiosk.services.money.line_labels import bill_labels


def fill_table(app: Any, table: Any, rows: list[tuple[str, str]]) -> None:
    """Lines and their amounts, in two columns: the bill's and the estimate's."""
    table.clear_widgets()
    for left, right in rows:
        for text, align in ((left, "left"), (right, "right")):
            cell = Label(
                text=text,
                font_size=app.fs(22),
                halign=align,
                valign="middle",
                size_hint_y=None,
                height=app.fs(22) * 1.8,
            )
            cell.bind(size=lambda c, size: setattr(c, "text_size", size))
            table.add_widget(cell)


class BillScreen(KioskScreen):
    def refresh(self) -> None:
        app = self.app
        order = app.session["order"]
        bill = app.services.pickup.bill(order)
        app.session["bill"] = bill
        rows = []
        for label, line in zip(
            bill_labels(app.services.repos, order, bill, app.lang), bill.lines, strict=True
        ):
            rows.append((label, app.money(line.list_amount)))
            if not line.discount.is_zero():
                why = app.tr("Under warranty") if order.under_warranty else app.tr("Discount")
                rows.append(("  " + why, app.money(-line.discount)))
        if bill.tax_exempt:
            rows.append((app.tr("Tax exempt"), ""))
        else:
            rows.append((app.tr("of which VAT"), app.money(bill.tax_total)))
        if not bill.deposits_applied.is_zero():
            rows.append((app.tr("Deposit already paid"), app.money(-bill.deposits_applied)))
        fill_table(app, self.ids.rows, rows)
        self.ids.due.text = app.tr("To pay: {amount}", amount=app.money(bill.amount_due))
        customer = app.services.pickup.customer(order)
        nothing_due = bill.amount_due.is_zero()
        self.ids.card.disabled = nothing_due
        self.ids.card.opacity = 0 if nothing_due else 1
        can_account = customer.credit is not None and not nothing_due
        self.ids.account.disabled = not can_account
        self.ids.account.opacity = 1 if can_account else 0
        self.ids.free.disabled = not nothing_due
        self.ids.free.opacity = 1 if nothing_due else 0

    def pay(self, how: str) -> None:
        app = self.app
        order, bill = app.session["order"], app.session["bill"]
        pickup = app.services.pickup
        app.terminal_text = (
            app.tr("Follow the instructions on the card terminal") if how == "card" else ""
        )
        app.progress_title = "Payment" if how == "card" else "Opening your locker"
        app.go("progress")
        work: dict[str, Any] = {
            "card": lambda: pickup.pay_by_card(order, bill, app.terminal_says, lang=app.lang),
            "account": lambda: pickup.pay_on_account(order, bill, lang=app.lang),
            "free": lambda: pickup.collect_free(order, bill, lang=app.lang),
        }
        app.in_background(work[how], self.paid)

    def paid(self, result: PickupResult | Exception) -> None:
        """Each message says what the ledger knows; "not charged" only when it says so."""
        app = self.app
        if isinstance(result, Exception):  # a fault we did not foresee: the ledger decides
            app.show_message(
                "Please wait for staff",
                "Something went wrong. We are checking with the card terminal whether anything "
                "was charged: you will not be charged twice. Please ask at the counter.",
                "attract",
            )
            return
        app.session["result"] = result
        if result.outcome is Outcome.COLLECTED:
            app.go("collected")
        elif result.outcome is Outcome.COLLECTED_PAYMENT_PENDING:
            app.show_message(
                "Please take your item",
                "Locker {locker} is open. Your payment is held on your card and is being "
                "completed: you will not be charged twice. Your receipt will be sent to you.",
                "attract",
                locker=result.locker,
            )
        elif result.outcome is Outcome.DECLINED:
            app.show_message(
                "Payment not accepted",
                "Your card was not charged. You can try again or use another card.",
                "bill",
            )
        elif result.outcome is Outcome.ACCOUNT_REFUSED:
            app.show_message(
                "Your account cannot take this", "Please pay by card or ask at the counter.", "bill"
            )
        elif result.outcome is Outcome.LOCKER_FAILED:
            app.show_message(
                "The locker did not open",
                "You have not been charged. A member of staff has been told and will help you.",
                "attract",
            )
        elif result.outcome is Outcome.NOT_COLLECTABLE:
            app.show_message(
                "This item cannot be collected here",
                "Nothing was charged. Please ask at the counter.",
                "attract",
            )
        elif result.outcome is Outcome.CARD_UNAVAILABLE:
            app.show_message(
                "Card payment is unavailable",
                "The card terminal cannot take payments right now. Please ask at the counter.",
                "bill",
            )
        else:
            app.show_message(
                "Please wait for staff",
                "The card terminal stopped answering. We will check whether the payment went through "
                "before anything else: you will not be charged twice.",
                "attract",
            )
