from kiosk.app.main import KioskScreen
from kiosk.services.money.receipt_delivery import Delivery


class CollectedScreen(KioskScreen):
    def refresh(self) -> None:
        app = self.app
        result = app.session["result"]
        item = result.order.items[0].name
        if result.locker:
            self.ids.where.text = app.tr(
                "Locker {locker} is open: take your {item} and close the door.",
                locker=result.locker,
                item=item,
            )
        else:
            self.ids.where.text = app.tr("Please collect your {item} at the counter.", item=item)
        receipt = result.receipt
        paid = ""
        if result.payment is not None and not result.payment.amount.is_zero():
            paid = app.tr("Paid {amount}.", amount=app.money(result.payment.amount)) + " "
        self._receipt(receipt)
        self.ids.receipt.text = paid + self.ids.receipt.text

    def _receipt(self, receipt: Delivery | None) -> None:
        app = self.app
        if receipt is None or receipt.printed:
            self.ids.receipt.text = app.tr("Your receipt is printing.")
        elif receipt.sent_via == "sms":
            self.ids.receipt.text = app.tr(
                "The printer is unavailable: we will send your receipt by SMS."
            )
        elif receipt.sent_via == "email":
            self.ids.receipt.text = app.tr(
                "The printer is unavailable: we will send your receipt by email."
            )
        else:
            self.ids.receipt.text = app.tr(
                "The printer is unavailable: ask at the counter for your receipt."
            )
