"""A part of a screen shown at one step of it only (one question at a time).

Hidden, it takes no room, is not drawn, and takes no touch: Kivy's disabled widgets
swallow the touches that land on them, so a hidden part left in place under a visible
button would eat that button's taps. Shown, it takes the room its screen leaves."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.boxlayout import BoxLayout


class FieldRow(BoxLayout):  # type: ignore[misc]
    """Back, the step's field, Continue: one row on a landscape panel. In portrait the
    row is too narrow for an e-mail address between two buttons, so the field takes the
    whole width and the buttons share a row under it."""

    def on_kv_post(self, _base: object) -> None:
        from kivy.core.window import Window

        if Window.width >= Window.height:
            return
        parts = list(reversed(self.children))  # in the order the screen declared them
        field = next(p for p in parts if type(p).__name__ == "KeyboardField")
        self.clear_widgets()
        self.orientation = "vertical"
        self.add_widget(field)
        buttons = BoxLayout(spacing=self.spacing)
        for button in (p for p in parts if p is not field):
            button.size_hint_x = 1
            buttons.add_widget(button)
        self.add_widget(buttons)


class Part(BoxLayout):  # type: ignore[misc]
    shown = BooleanProperty(True)
    room = NumericProperty(0)  # its height when shown; 0: what the screen leaves

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        super().__init__(**kwargs)
        self.bind(shown=self._show, room=self._show)
        self._show()

    def _show(self, *_args: object) -> None:
        shown = self.shown
        self.opacity = 1 if shown else 0
        self.disabled = not shown
        self.size_hint_y = 1 if shown and not self.room else None
        if not shown:
            self.height = 0
        elif self.room:
            self.height = self.room

    def on_touch_down(self, touch: Any) -> bool:
        return bool(self.shown and super().on_touch_down(touch))

    def on_touch_move(self, touch: Any) -> bool:
        return bool(self.shown and super().on_touch_move(touch))

    def on_touch_up(self, touch: Any) -> bool:
        return bool(self.shown and super().on_touch_up(touch))
