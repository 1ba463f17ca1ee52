from kiosk.app.main import KioskScreen
from kiosk.services.journeys.pickup import Found


class ClaimScreen(KioskScreen):
    def refresh(self) -> None:
        self.ids.code.value = ""
        self.ids.error.text = ""
        self.ids.keyboard.target = self.ids.code

    def submit(self, typed: str | None = None) -> None:
        app = self.app
        text = typed if typed is not None else self.ids.code.value
        found = app.services.pickup.lookup(text)
        if found.found is Found.INVALID:
            self.ids.error.text = app.tr(
                "That is not a claim code. Check your ticket and try again."
            )
            app.speak_screen()
        elif found.found is Found.STATUS_PAGE:
            self.ids.error.text = app.tr(
                "That code is for your phone. Here, scan the claim code above it."
            )
            app.speak_screen()
        elif found.found is Found.UNKNOWN:
            self.ids.error.text = app.tr(
                "We do not know this claim code. Please ask at the counter."
            )
            app.speak_screen()
        elif found.found is Found.LOCKED:
            app.show_message(
                "Too many wrong tries",
                "For your safety this ticket is locked for 15 minutes. Please ask at the counter.",
            )
        else:
            app.session["order"] = found.order
            app.go("verify")
