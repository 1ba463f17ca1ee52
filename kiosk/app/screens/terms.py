import uuid

from kiosk.app.main import KioskScreen
from kiosk.services.journeys.dropoff import DropOffError, DropOffRequest, DropOffResult


class TermsScreen(KioskScreen):
    def refresh(self) -> None:
        self.ids.pad.clear()

    def accept(self) -> None:
        app = self.app
        session = app.session
        if "submitting" in session:
            return  # a second tap while the first is in flight: the form is sent once
        customer = session.get("customer")
        request = DropOffRequest(
            **(session.get("item") or {"item_kind": ""}),
            **session["work"],
            signature_png=self.ids.pad.png(),
            language=app.lang,
            customer_account=customer.account_number if customer else "",
            new_customer=session.get("new_customer"),
            previous_item=session.get("previous_item"),
            submission=session.setdefault("submission", uuid.uuid4().hex),
        )
        session["submitting"] = True
        app.progress_title = "Printing your ticket"
        app.terminal_text = ""
        app.go("progress")
        app.in_background(lambda: app.services.dropoff.submit(request), self.done)

    def done(self, result: DropOffResult | Exception) -> None:
        app = self.app
        app.session.pop("submitting", None)
        if isinstance(result, DropOffError):  # checked before: a refusal here keeps it all
            app.session["review_error"] = app.tr("Please check what you entered.")
            app.go("review", keep=False)
        elif isinstance(result, Exception):
            app.show_message(
                "Something went wrong",
                "Your item was not registered. Please ask at the counter.",
                "attract",
            )
        else:
            app.session["dropoff"] = result
            app.go("dropped")
