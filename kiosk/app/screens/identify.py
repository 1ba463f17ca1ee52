"""Who the customer is: first how they will say it (phone, email, account number, or
"I am new" on a drop-off), then that one thing, typed with the keyboard it needs. Two
questions rather than a switch beside the field: on a 7-inch panel the keyboard leaves
room for one row above it, and a refusal ("We could not find you") must show under
the field, not below the fold."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.app.main import KioskScreen
from kiosk.app.questions import IDENTIFY as HINTS
from kiosk.services.journeys.identify import find_customers


class IdentifyScreen(KioskScreen):
    kind = StringProperty("")  # "" while the customer chooses how to be found

    def refresh(self) -> None:
        self.ids.query.value = ""
        self.ids.error.text = ""
        self.kind = ""
        self.ids.keyboard.target = None
        dropoff = self.app.session.get("journey") == "dropoff"
        self.ids.new.opacity = 1 if dropoff else 0
        self.ids.new.disabled = not dropoff

    def came_back(self) -> None:
        """Back from the new customer's form: the choice again."""
        self.refresh()

    def question(self, *_bind: object) -> str:
        if not self.kind:
            return self.app.tr("How shall we find you?")
        return self.app.tr(HINTS[self.kind][0])

    def hint(self, *_bind: object) -> str:
        return self.app.tr(HINTS[self.kind][1]) if self.kind else ""

    def choose(self, kind: str) -> None:
        self.kind = kind
        query = self.ids.query
        query.kind = kind
        query.value = ""
        self.ids.error.text = ""
        self.ids.keyboard.target = query
        self.app.speak_screen()

    def back(self) -> None:
        self.refresh()

    def submit(self) -> None:
        app = self.app
        found = find_customers(app.services.repos, self.ids.query.value)
        if not found:
            self.ids.error.text = app.tr(
                "We could not find you. Check what you typed, or ask at the counter."
            )
            app.speak_screen()
            return
        customer = found[0]
        if app.session.get("journey") == "statement" and customer.credit is None:
            app.show_message(
                "No account statement", "This customer has no credit account with the shop.", "home"
            )
            return
        app.session["customer"] = customer
        app.go("verify" if app.session.get("journey") == "statement" else "item")

    def new_customer(self) -> None:
        self.app.session["customer"] = None
        self.app.go("customer")
