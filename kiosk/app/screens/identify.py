from kiosk.app.main import KioskScreen
from kiosk.services.identify import find_customers


class IdentifyScreen(KioskScreen):
    def refresh(self) -> None:
        self.ids.query.value = ""
        self.ids.query.kind = "phone"  # the usual answer; Email and Account switch
        self.ids.error.text = ""
        self.ids.keyboard.target = self.ids.query
        self.ids.new.opacity = 1 if self.app.session.get("journey") == "dropoff" else 0
        self.ids.new.disabled = self.app.session.get("journey") != "dropoff"

    def submit(self) -> None:
        app = self.app
        found = find_customers(app.services.repos, self.ids.query.value)
        if not found:
            self.ids.error.text = app.tr(
                "We could not find you. Check what you typed, or ask at the counter."
            )
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
