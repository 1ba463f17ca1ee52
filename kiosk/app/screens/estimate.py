from kiosk.app.main import KioskScreen
from kiosk.app.screens.bill import fill_table
from kiosk.services.money.line_labels import bill_labels


class EstimateScreen(KioskScreen):
    def refresh(self) -> None:
        app = self.app
        order = app.session["order"]
        quote = app.services.pickup.bill(order)
        labels = bill_labels(app.services.repos, order, quote, app.lang)
        rows = [
            (label, app.money(line.gross)) for label, line in zip(labels, quote.lines, strict=True)
        ]
        fill_table(app, self.ids.rows, rows)
        self.ids.total.text = app.tr("Estimate: {amount}", amount=app.money(quote.total))

    def answer(self, approved: bool) -> None:
        app = self.app
        app.services.pickup.approve_estimate(app.session["order"], approved)
        if approved:
            app.show_message(
                "Thank you",
                "We will start the work and tell you when your item is ready.",
                "attract",
            )
        else:
            app.show_message(
                "Understood",
                "No work will be done. We will tell you when you can collect your item.",
                "attract",
            )
