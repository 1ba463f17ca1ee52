"""A part of a screen shown at one step of it only (one question at a time).

Hidden, it takes no room, is not drawn, and takes no touch: Kivy's disabled widgets
swallow the touches that land on them, so a hidden part left in place under a visible
button would eat that button's taps. Shown, it takes the room its screen leaves."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty
from kivy.uix.boxlayout import BoxLayout


class Part(BoxLayout):  # type: ignore[misc]
    shown = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        super().__init__(**kwargs)
        self.bind(shown=self._show)
        self._show(self, self.shown)

    def _show(self, _part: object, shown: bool) -> None:
        self.opacity = 1 if shown else 0
        self.disabled = not shown
        self.size_hint_y = 1 if shown else None
        if not shown:
            self.height = 0

    def on_touch_down(self, touch: Any) -> bool:
        return bool(self.shown and super().on_touch_down(touch))

    def on_touch_move(self, touch: Any) -> bool:
        return bool(self.shown and super().on_touch_move(touch))

    def on_touch_up(self, touch: Any) -> bool:
        return bool(self.shown and super().on_touch_up(touch))
