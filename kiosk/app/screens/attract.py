import time
from typing import Any

from kivy.metrics import mm

from kiosk.app.main import KioskScreen

CORNER_TAPS = 3  # three taps in the top-left corner within CORNER_WINDOW_S: staff mode
CORNER_WINDOW_S = 3.0


class AttractScreen(KioskScreen):
    _corner_taps: list[float]

    def start(self, lang: str) -> None:
        self.app.lang = lang
        self.app.reset_session()
        self.app.go("home")

    def on_touch_down(self, touch: Any) -> bool:
        """The hidden gesture: nothing on screen marks the corner, and a customer who taps
        it once or twice sees nothing happen."""
        if touch.x <= self.x + mm(15) and touch.y >= self.top - mm(15) and self.app.ready:
            now = time.monotonic()
            taps = [t for t in getattr(self, "_corner_taps", []) if now - t < CORNER_WINDOW_S]
            taps.append(now)
            self._corner_taps = taps
            if len(taps) >= CORNER_TAPS:
                self._corner_taps = []
                self.app.enter_staff_mode()
            return True
        return bool(super().on_touch_down(touch))
