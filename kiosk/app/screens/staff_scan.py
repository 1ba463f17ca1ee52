from typing import Any

from kivy.clock import Clock

from kiosk.app.main import KioskScreen


class StaffScanScreen(KioskScreen):
    """Scan an item tag (or type its claim code) to load it into a locker, or to lift
    the lock on a ticket after wrong tries."""

    def refresh(self) -> None:
        app = self.app
        self.ids.code.value = ""
        self.ids.result.text = ""
        self.ids.keyboard.target = self.ids.code
        if app.session.get("staff_scan") == "unlock":
            self.ids.title.text = app.tr("Unlock a ticket: scan it or type its claim code")
        else:
            self.ids.title.text = app.tr("Scan the item's tag or type its claim code")

    def scanned(self, code: str) -> None:
        self.submit(code)

    def submit(self, typed: str | None = None) -> None:
        app = self.app
        code = typed if typed is not None else self.ids.code.value
        staff = app.services.staff
        if app.session.get("staff_scan") == "unlock":
            try:
                order = staff.unlock_claim(app.staff, code)
            except Exception as exc:  # the words go on screen
                self.ids.result.text = str(exc)
                return
            self.ids.code.value = ""
            self.ids.result.text = app.tr(
                "Ticket {code} is unlocked: the customer can try again.",
                code=order.claim_code.display,
            )
            return
        app.progress_title = app.tr("Finding a free locker")
        app.terminal_text = ""
        app.go("progress")
        app.in_background(
            lambda: app.services.lockers.load_locker(app.staff, code, on_open=self._opened),
            self._loaded,
        )

    def _opened(self, locker: str) -> None:  # on the worker thread
        app = self.app
        text = app.tr("Locker {n} is open: put the item in and close the door.", n=locker)
        Clock.schedule_once(lambda _dt: setattr(app, "terminal_text", text))

    def _loaded(self, result: Any) -> None:
        app = self.app
        app.terminal_text = ""
        if isinstance(result, Exception):
            app.go("staff_scan")
            self.ids.result.text = str(result)
            return
        if result.done:
            app.session["staff_result"] = app.tr(
                "Order {order} is in locker {n}.", order=result.order.number, n=result.locker
            )
        else:
            app.session["staff_result"] = app.tr(
                "Locker {n}: {why}. The order was not moved.", n=result.locker, why=result.detail
            )
        app.go("staff_lockers")
