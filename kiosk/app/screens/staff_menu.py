from kivy.properties import StringProperty

from kiosk.app.main import KioskScreen
from kiosk.app.steps import PLACES


class StaffMenuScreen(KioskScreen):
    """The tasks; those the member's role does not allow are greyed out. Above them,
    customers who pressed "Call staff" and are still waiting."""

    calls = StringProperty("")

    def refresh(self) -> None:
        app = self.app
        waiting = app.services.help_calls.open()
        self.calls = "; ".join(
            app.tr("A customer asked for help at {time} ({screen})",
                   time=app.when(c.at), screen=app.tr(PLACES.get(c.screen, c.screen)))
            for c in waiting
        )  # fmt: skip

    def answer(self) -> None:
        self.app.services.help_calls.answer(self.app.staff)
        self.refresh()
