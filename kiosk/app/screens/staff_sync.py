from typing import Any

from kivy.factory import Factory

from kiosk.app.main import KioskScreen
from kiosk.services.staff_mode.staff import describe
from kiosk.services.sync import sync_status


class StaffSyncScreen(KioskScreen):
    """The queue to the back office, and its dead letters: retry or discard (with why)."""

    def refresh(self) -> None:
        self.ids.reason.value = ""
        self.ids.keyboard.target = None  # the keyboard folds out when the field is tapped
        self.ids.result.text = ""
        self.fill()

    def fill(self) -> None:
        app = self.app
        pending, dead = app.services.staff.sync_queue(app.staff)
        status = sync_status(app.services.repos, app.services.clock())
        lines = [
            app.tr("{n} operations waiting to reach the back office.", n=pending),
            app.tr("Last good sync: {when}", when=status.last_success or app.tr("never")),
        ]
        if status.last_error:
            lines.append(app.tr("Last error: {error}", error=status.last_error))
        lines.append(app.tr("{n} dead letters (refused by the back office):", n=len(dead)))
        self.ids.summary.text = "\n".join(lines)
        rows = self.ids.rows
        rows.clear_widgets()
        for n, entry in enumerate(dead):
            line = Factory.Row()
            line.add_widget(
                Factory.RowLabel(
                    text=f"{entry.kind} · {describe(entry.payload)}\n{entry.dead_reason}"
                )
            )
            retry = Factory.RowButton(text=app.tr("Retry"))
            retry.bind(on_release=lambda _b, e=entry: self.retry(e))
            discard = Factory.RowButton(text=app.tr("Discard"))
            discard.bind(on_release=lambda _b, e=entry: self.discard(e))
            self.ids[f"retry_{n}"], self.ids[f"discard_{n}"] = retry, discard
            line.add_widget(retry)
            line.add_widget(discard)
            rows.add_widget(line)

    def retry(self, entry: Any) -> None:
        app = self.app
        app.services.staff.retry_dead(app.staff, entry.op_id)
        self.ids.result.text = app.tr("{kind} goes back in the queue.", kind=entry.kind)
        self.fill()

    def discard(self, entry: Any) -> None:
        app = self.app
        reason = self.ids.reason.value
        if not reason.strip():
            self.ids.result.text = app.tr("Type why it is discarded first.")
            return
        app.services.staff.discard_dead(app.staff, entry.op_id, reason)
        self.ids.reason.value = ""
        self.ids.result.text = app.tr("{kind} discarded.", kind=entry.kind)
        self.fill()
