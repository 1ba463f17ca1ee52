from typing import Any

from kivy.factory import Factory

from kiosk.app.main import KioskScreen


class StaffLockersScreen(KioskScreen):
    """What is in each locker, its door, and a button to empty it."""

    def refresh(self) -> None:
        app = self.app
        self.ids.result.text = app.session.pop("staff_result", "")
        rows = self.ids.rows
        rows.clear_widgets()
        for row in app.services.lockers.inventory(app.staff):
            line = Factory.Row()
            door = app.tr("open") if row.door == "open" else app.tr("closed")
            if row.order is not None:
                what = f"{row.order.number} · {row.order.claim_code.display} · {row.customer}"
            else:
                what = app.tr("empty")
            label = Factory.RowLabel(text=app.tr("Locker {n}", n=row.locker) + f" ({door}): {what}")
            line.add_widget(label)
            button = Factory.RowButton(text=app.tr("Empty it") if row.order else app.tr("Open"))
            button.locker = row.locker
            button.bind(on_release=self._empty)
            self.ids[f"empty_{row.locker}"] = button
            line.add_widget(button)
            rows.add_widget(line)

    def _empty(self, button: Any) -> None:
        app = self.app
        locker = button.locker
        app.progress_title = app.tr("Opening locker {n}", n=locker)
        app.go("progress")
        app.in_background(
            lambda: app.services.lockers.empty_locker(app.staff, locker), self._emptied
        )

    def _emptied(self, result: Any) -> None:
        app = self.app
        if isinstance(result, Exception):
            text = str(result)
        elif result.done:
            text = app.tr("Locker {n} is open: take the item to the counter.", n=result.locker)
        else:
            text = app.tr("Locker {n} did not open: {why}", n=result.locker, why=result.detail)
        app.session["staff_result"] = text
        app.go("staff_lockers")
