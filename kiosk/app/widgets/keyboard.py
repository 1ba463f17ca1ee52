"""The on-screen keyboard and the fields it types into.

A Kivy TextInput asks the system for a keyboard when focused, which on a kiosk either
pops up a second keyboard or none at all; these fields never take focus: the kiosk's
own keyboard (text, email or digit layout) writes into whichever field is active.
"""

from __future__ import annotations

from kivy.app import App
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label

LAYOUTS = {
    "text": ["1234567890", "AZERTYUIOP", "QSDFGHJKLM", "WXCVBN-'", "ÉÈÀÇ ."],
    "email": ["1234567890", "azertyuiop", "qsdfghjklm", "wxcvbn@._-", "ç"],
    "digits": ["123", "456", "789", "0"],
}


class KeyboardField(Label):
    """A line of text the on-screen keyboard types into."""

    value = StringProperty("")
    hint = StringProperty("")
    active = BooleanProperty(False)
    max_length = NumericProperty(80)
    secret = BooleanProperty(False)

    def on_touch_down(self, touch: object) -> bool:
        if self.collide_point(*touch.pos):  # type: ignore[attr-defined]
            keyboard = self._keyboard()
            if keyboard is not None:
                keyboard.target = self
            return True
        return bool(super().on_touch_down(touch))

    def _keyboard(self) -> OnScreenKeyboard | None:
        widget = self.parent
        while widget is not None:
            for child in widget.walk(restrict=True):
                if isinstance(child, OnScreenKeyboard):
                    return child
            widget = widget.parent
        return None

    def type(self, text: str) -> None:
        if len(self.value) + len(text) <= self.max_length:
            self.value += text

    def backspace(self) -> None:
        self.value = self.value[:-1]


class OnScreenKeyboard(BoxLayout):
    layout = OptionProperty("text", options=list(LAYOUTS))
    target = ObjectProperty(None, allownone=True)
    key_height = NumericProperty(60)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(orientation="vertical", spacing=4, **kwargs)
        self.bind(layout=self._rebuild, target=self._on_target)
        app = App.get_running_app()
        if app is not None and hasattr(app, "lang"):
            app.bind(lang=self._rebuild)  # the Space and Delete keys say their name
        self._build()

    def _rebuild(self, *_args: object) -> None:
        self._build()

    @staticmethod
    def _font(base: float) -> float | str:
        app = App.get_running_app()
        return float(app.fs(base)) if app is not None and hasattr(app, "fs") else f"{base}sp"

    @staticmethod
    def _word(message: str) -> str:
        app = App.get_running_app()
        return str(app.tr(message)) if app is not None and hasattr(app, "tr") else message

    def _on_target(self, _instance: object, target: KeyboardField | None) -> None:
        for field in self._fields():
            field.active = field is target

    def _fields(self) -> list[KeyboardField]:
        root = self.parent
        while root is not None and root.parent is not None and not hasattr(root, "manager"):
            root = root.parent
        return [w for w in (root.walk() if root else []) if isinstance(w, KeyboardField)]

    def _build(self) -> None:
        self.clear_widgets()
        for row_keys in LAYOUTS[self.layout]:
            row = BoxLayout(spacing=4)
            for key in row_keys:
                label = self._word("Space") if key == " " else key
                button = Button(text=label, font_size=self._font(26))
                button.key = key
                button.bind(on_release=self._press)
                row.add_widget(button)
            if row_keys is LAYOUTS[self.layout][-1]:
                back = Button(text=self._word("Delete"), font_size=self._font(22))
                back.key = "\b"
                back.bind(on_release=self._press)
                row.add_widget(back)
            self.add_widget(row)

    def _press(self, button: Button) -> None:
        if self.target is None:
            fields = self._fields()
            self.target = fields[0] if fields else None
        if self.target is None:
            return
        if button.key == "\b":
            self.target.backspace()
        else:
            self.target.type(button.key)
