from typing import Any

from kiosk.app.main import KioskScreen
from kiosk.domain.billing import PaymentMethod


class StaffShiftScreen(KioskScreen):
    def refresh(self) -> None:
        app = self.app
        closed = app.session.pop("shift_closed", None)
        shift = app.services.shifts.current()
        self.ids.open.disabled = shift is not None
        self.ids.close.disabled = shift is None
        if closed is not None:
            self.ids.summary.text = self._closed_text(closed)
        elif shift is None:
            self.ids.summary.text = app.tr("No shift is open.")
        else:
            opened = app.tr(
                "Open since {when} by {who}.", when=app.when(shift.opened_at), who=shift.opened_by
            )
            self.ids.summary.text = "\n".join([opened, *self._totals(shift)])

    def _totals(self, shift: Any) -> list[str]:
        app = self.app
        return [
            app.tr("Card: {amount}", amount=app.money(shift.total_for(PaymentMethod.CARD))),
            app.tr(
                "On account: {amount}", amount=app.money(shift.total_for(PaymentMethod.ACCOUNT))
            ),
            app.tr("Total: {amount}", amount=app.money(shift.grand_total)),
        ]

    def _closed_text(self, closed: Any) -> str:
        app = self.app
        shift = closed.shift
        lines = [
            app.tr("Shift {id} closed.", id=shift.shift_id),
            app.tr("Transactions: {n}", n=len(closed.payments)),
            *self._totals(shift),
        ]
        if closed.terminal_card_total is None:
            lines.append(app.tr("The card terminal gave no end-of-day total: check it."))
        else:
            lines.append(
                app.tr(
                    "Card terminal end of day: {amount}",
                    amount=app.money(closed.terminal_card_total),
                )
            )
            if closed.card_difference.is_zero():
                lines.append(app.tr("The card totals agree."))
            else:
                lines.append(
                    app.tr(
                        "Difference: {amount}. Tell the manager.",
                        amount=app.money(closed.card_difference),
                    )
                )
        lines.append(
            app.tr("Report printed.")
            if closed.receipt.printed
            else app.tr("The report could not be printed: {why}", why=closed.receipt.reason)
        )
        return "\n".join(lines)

    def open_shift(self) -> None:
        app = self.app
        try:
            app.services.shifts.open(app.staff)
        except Exception as exc:
            self.ids.summary.text = str(exc)
            return
        self.refresh()

    def close_shift(self) -> None:
        app = self.app
        app.progress_title = app.tr("Closing the shift")
        app.terminal_text = app.tr("The card terminal is closing its day")
        app.go("progress")
        app.in_background(lambda: app.services.shifts.close(app.staff, app.lang), self._closed)

    def _closed(self, result: Any) -> None:
        app = self.app
        app.terminal_text = ""
        if isinstance(result, Exception):
            app.go("staff_shift")
            self.ids.summary.text = str(result)
            return
        app.session["shift_closed"] = result
        app.go("staff_shift")
