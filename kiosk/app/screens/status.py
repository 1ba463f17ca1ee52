from kiosk.app.main import KioskScreen
from kiosk.domain.orders import STATE_WORDS


class StatusScreen(KioskScreen):
    def refresh(self) -> None:
        order = self.app.session["order"]
        self.ids.words.text = self.app.tr(STATE_WORDS[order.state])
        self.ids.number.text = self.app.tr("Order {number}", number=order.number)
