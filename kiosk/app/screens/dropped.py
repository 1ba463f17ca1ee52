from kiosk.app.main import KioskScreen


class DroppedScreen(KioskScreen):
    def refresh(self) -> None:
        app = self.app
        result = app.session["dropoff"]
        self.ids.code.text = result.order.claim_code.display
        if result.locker:
            self.ids.where.text = app.tr(
                "Locker {locker} is open: put your item inside and close the door.",
                locker=result.locker,
            )
        else:
            self.ids.where.text = app.tr("Please hand your item in at the counter.")
        if result.repeated:
            self.ids.ticket.text = app.tr(
                "This drop-off was registered already: keep the ticket you were given."
            )
        elif result.ticket.printed:
            self.ids.ticket.text = app.tr("Take your ticket: you need it to collect your item.")
        elif result.ticket.sent_via:
            self.ids.ticket.text = app.tr(
                "The printer is unavailable: we are sending your ticket by {channel}.",
                channel=result.ticket.sent_via.upper(),
            )
        else:
            self.ids.ticket.text = app.tr(
                "Write down your claim code: you need it to collect your item."
            )
