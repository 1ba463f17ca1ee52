import time
from typing import Any

from kivy.factory import Factory
from kivy.metrics import mm

from kiosk.app.main import KioskScreen
from kiosk.i18n import LANGUAGES

CORNER_TAPS = 3  # three taps in the top-left corner within CORNER_WINDOW_S: staff mode
CORNER_WINDOW_S = 3.0


class AttractScreen(KioskScreen):
    _corner_taps: list[float]

    def on_kv_post(self, base_widget: Any) -> None:
        super().on_kv_post(base_widget)
        self.app.bind(languages=lambda *_: self._starts(), ready=lambda *_: self._ready())
        self._starts()

    def _ready(self) -> None:
        for child in self.ids.starts.children:
            child.disabled = not self.app.ready

    def _starts(self) -> None:
        """A start button for each of the shop's languages, each in its own words, in the
        configured order (kiosk/locale/languages.toml); id start_<code>."""
        box = self.ids.starts
        box.clear_widgets()
        for code in self.app.languages:
            button = Factory.BigButton(text=LANGUAGES[code].start, disabled=not self.app.ready)
            button.bind(on_release=lambda _b, code=code: self.start(code))
            box.add_widget(button)
            self.ids[f"start_{code}"] = button

    @staticmethod
    def welcome(languages: list[str]) -> str:
        return "\n".join(LANGUAGES[code].welcome for code in languages)

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
