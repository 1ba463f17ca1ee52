from kivy.metrics import mm
from kivy.uix.togglebutton import ToggleButton

from kiosk.app.icons import with_icon
from kiosk.app.main import KioskScreen
from kiosk.domain.billing import Statement
from kiosk.services.journeys.statements import StatementOutcome, StatementResult


class StatementScreen(KioskScreen):
    def refresh(self) -> None:
        app = self.app
        customer = app.session["customer"]
        statement = app.services.statements.statement(customer)
        app.session["statement"] = statement
        box = self.ids.invoices
        box.clear_widgets()
        for line in statement.lines:
            button = ToggleButton(
                state="down",
                markup=True,
                font_size=app.fs(20),
                size_hint_y=None,
                height=max(mm(12), app.fs(20) * 2.6),
            )
            button.invoice = line.invoice_number
            button.words = (
                f"{line.invoice_number}   {app.date(line.issued_on)}   {app.money(line.amount_due)}"
            )
            button.bind(state=self._ticked)
            self._ticked(button, button.state)
            box.add_widget(button)
        self.ids.summary.text = app.tr(
            "Owed {debt} · credit limit {limit}",
            debt=app.money(statement.balance),
            limit=app.money(statement.credit_limit),
        )
        self.ids.explain.text = self._difference(statement)
        self.ids.beyond_box.state = "normal"
        self._total()

    def _difference(self, statement: Statement) -> str:
        """Why what is owed is not the open invoices' sum, in words."""
        app, invoices, owed = self.app, statement.outstanding, statement.balance
        if invoices == owed:
            return ""
        if not statement.deposits.is_zero():
            return app.tr(
                "Your open invoices come to {invoices}; the {deposits} you paid in advance "
                "is counted, so you owe {owed}.",
                invoices=app.money(invoices),
                deposits=app.money(statement.deposits),
                owed=app.money(owed),
            )
        return app.tr(
            "Your open invoices come to {invoices}; your account shows {owed} owed.",
            invoices=app.money(invoices),
            owed=app.money(owed),
        )

    def _ticked(self, button: ToggleButton, state: str) -> None:
        """A chosen line says so with a ticked box, not with its colour alone."""
        button.text = with_icon("checked" if state == "down" else "unchecked", button.words)
        if self.app.session.get("statement") is not None and button.parent is not None:
            self._total()

    def chosen(self) -> list[str]:
        return [b.invoice for b in reversed(self.ids.invoices.children) if b.state == "down"]

    def _total(self) -> None:
        """What the button charges, and, where that is more than is owed, a box the
        customer must tick to say so (the service refuses the excess otherwise)."""
        app, ids = self.app, self.ids
        statement = app.session["statement"]
        amount = statement.amount_for(self.chosen())
        extra = statement.beyond_owed(self.chosen())
        ids.pay.text = app.tr("Pay {amount} by card", amount=app.money(amount))
        ids.beyond.shown = not extra.is_zero()
        ticked = ids.beyond_box.state == "down"
        ids.beyond_box.text = with_icon(
            "checked" if ticked else "unchecked",
            app.tr(
                "I want to pay {extra} more than I owe (it stays as credit on my account)",
                extra=app.money(extra),
            ),
        )
        confirmed = extra.is_zero() or ticked
        ids.pay.disabled = amount.is_zero() or not confirmed

    def pay(self) -> None:
        app = self.app
        chosen, customer = self.chosen(), app.session["customer"]
        extra = app.session["statement"].beyond_owed(chosen)
        beyond = extra if self.ids.beyond_box.state == "down" else None
        app.progress_title = "Payment"
        app.terminal_text = app.tr("Follow the instructions on the card terminal")
        app.go("progress")
        app.in_background(
            lambda: app.services.statements.pay(
                customer, chosen, app.terminal_says, lang=app.lang, beyond_owed=beyond
            ),
            self.paid,
        )

    def paid(self, result: StatementResult | Exception) -> None:
        app = self.app
        if (
            not isinstance(result, Exception)
            and result.outcome is StatementOutcome.CARD_UNAVAILABLE
        ):
            app.show_message(
                "Card payment is unavailable",
                "The card terminal cannot take payments right now. Please ask at the counter.",
                "statement",
            )
        elif isinstance(result, Exception) or result.outcome is StatementOutcome.PAYMENT_UNKNOWN:
            app.show_message(
                "Please wait for staff",
                "The card terminal stopped answering. We will check whether the payment went through "
                "before anything else: you will not be charged twice.",
                "attract",
            )
        elif result.outcome is StatementOutcome.PAID:
            assert result.customer is not None and result.customer.credit is not None
            owed = result.customer.credit.balance_owed
            if owed.is_negative():
                app.show_message(
                    "Thank you!",
                    "Paid. Your account is in credit by {amount}.",
                    "attract",
                    amount=app.money(-owed),
                )
            elif owed.is_zero():
                app.show_message("Thank you!", "Paid. Your account is settled.", "attract")
            else:
                app.show_message(
                    "Thank you!",
                    "Paid. Your account now shows {balance} owed.",
                    "attract",
                    balance=app.money(owed),
                )
        elif result.outcome is StatementOutcome.NOT_PAYABLE:
            app.show_message(
                "Your statement has changed",
                "Nothing was charged. Please check what is owed now.",
                "statement",
            )
        elif result.outcome is StatementOutcome.BEYOND_OWED:
            app.show_message(
                "Nothing was charged",
                "That is more than your account owes. Tick the box if you want to pay more.",
                "statement",
            )
        else:
            app.show_message(
                "Payment not accepted",
                "Your card was not charged. You can try again or use another card.",
                "statement",
            )
