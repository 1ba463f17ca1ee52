from kiosk.app.main import KioskScreen


class StaffPinScreen(KioskScreen):
    def refresh(self) -> None:
        app = self.app
        self.ids.pin.value = ""
        self.ids.error.text = ""
        self.ids.keyboard.target = self.ids.pin
        card = app.session.get("staff_card", "")
        self.ids.card.text = app.tr("Staff card read") if card else ""

    def submit(self) -> None:
        app = self.app
        pin = self.ids.pin.value
        card = app.session.get("staff_card", "")
        # scrypt takes a moment per member: off the Kivy thread
        app.in_background(lambda: app.services.staff.sign_in(pin, card), self._answered)

    def _answered(self, result: object) -> None:
        app = self.app
        self.ids.pin.value = ""
        if isinstance(result, Exception):
            self.ids.error.text = app.tr("Something went wrong: {error}", error=str(result))
            return
        if result.member is not None:  # type: ignore[attr-defined]
            app.signed_in(result.member)  # type: ignore[attr-defined]
        elif result.locked_until is not None:  # type: ignore[attr-defined]
            when = app.when(result.locked_until)  # type: ignore[attr-defined]
            self.ids.error.text = app.tr(
                "Too many wrong PINs: staff mode is locked until {time}.", time=when
            )
        else:
            self.ids.error.text = app.tr(
                "Wrong PIN. {n} tries left.",
                n=result.tries_left,  # type: ignore[attr-defined]
            )
