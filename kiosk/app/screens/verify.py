from kiosk.app.main import KioskScreen
from kiosk.domain.orders import OrderState


class VerifyScreen(KioskScreen):
    def refresh(self) -> None:
        app = self.app
        self.ids.digits.value = ""
        self.ids.error.text = ""
        self.ids.keyboard.target = self.ids.digits
        customer = app.session.get("customer")
        order = app.session.get("order")
        if order is not None and app.session.get("journey") == "pickup":
            customer = app.services.pickup.customer(order)
        who = (
            app.tr("Is this you, {name}?", name=customer.masked_name)
            if customer
            else app.tr("Is this you?")
        )
        self.ids.who.text = app.shown(who)
        self.ids.who.font_name = app.font_for(who)

    def submit(self) -> None:
        app = self.app
        digits = self.ids.digits.value
        if app.session.get("journey") == "pickup":
            order = app.session["order"]
            result = app.services.pickup.verify(order, digits)
        else:
            customer = app.session["customer"]
            result = app.services.pickup.verifier.check(customer.account_number, customer, digits)
        if result.locked_until is not None:
            app.show_message(
                "Too many wrong tries",
                "For your safety this is locked for 15 minutes. Please ask at the counter.",
            )
        elif not result.ok:
            self.ids.digits.value = ""
            self.ids.error.text = app.tr(
                "Those digits do not match. {n} tries left.", n=result.tries_left
            )
            app.speak_screen()
        elif app.session.get("journey") == "statement":
            app.go("statement")
        else:
            order = app.session["order"]
            if order.state is OrderState.DONE:
                app.go("bill")
            elif order.state is OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION:
                app.go("estimate")
            else:
                app.go("status")
