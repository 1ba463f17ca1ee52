"""The on-screen keyboard and the fields it types into.

A Kivy TextInput asks the system for a keyboard when focused, which on a kiosk either
pops up a second keyboard or none at all; these fields never take focus: the kiosk's
own keyboard writes into whichever field is active, in the layout that field's `kind`
asks for:

- text: lower case with Shift (on by itself at the start of a name's words, or of a
  note), accents, space, the letters in the session language's order (AZERTY, QWERTY,
  QWERTZ: kiosk/locale/languages.toml);
- name: the same without the digits (four rows: a short panel keeps room above them);
- email: lower case, `@ . - _`, `.com` and the language's own domain (`.fr`);
- phone: digits and `+`; digits: digits alone (PINs, last four);
- code: capitals and digits (claim codes, item tags).
"""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
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

from kiosk.i18n import LANGUAGES

SHIFT, SPACE, DELETE, DONE = "\x0e", " ", "\b", "\n"
# each language's rows and accents: kiosk/locale/languages.toml; five rows of 10 mm keys
# is all a 7" screen has, so a language's accents share the space bar's row
KINDS = ("text", "name", "email", "phone", "digits", "code")
# "Shift" is a work shift; OK folds a keyboard away where typing is optional
SPECIAL = {SHIFT: "Caps", SPACE: "Space", DELETE: "Delete", DONE: "OK"}


def layout_rows(kind: str, lang: str) -> list[list[str]]:
    """The keys of a layout, row by row; special keys are SHIFT, SPACE and DELETE."""
    language = LANGUAGES.get(lang, LANGUAGES["en"])
    top, middle, bottom = language.keyboard
    accents, domain = language.accents, language.email
    digits = list("1234567890")
    if kind == "text":
        return [digits, list(top), list(middle), [SHIFT, *bottom, "-", "'"],
                [*accents, SPACE, ".", DELETE]]  # fmt: skip
    if kind == "name":  # no digits: four rows leave a 7-inch panel room for its question
        return [list(top), list(middle), [SHIFT, *bottom, "-", "'"],
                [*accents, SPACE, DELETE]]  # fmt: skip
    if kind == "email":  # four rows too, none wider than eleven keys
        return [[*digits, "_"], [*top, domain], [*middle, ".com"],
                [*bottom, "@", ".", "-", DELETE]]  # fmt: skip
    if kind == "phone":
        return [list("123"), list("456"), list("789"), ["+", "0", DELETE]]
    if kind == "digits":
        return [list("123"), list("456"), list("789"), ["0", DELETE]]
    if kind == "code":
        return [digits, list(top.upper()), list(middle.upper()), [*bottom.upper(), "-", DELETE]]
    raise ValueError(f"no keyboard for {kind!r}")


class KeyboardField(Label):
    """A line of text the on-screen keyboard types into."""

    value = StringProperty("")
    hint = StringProperty("")  # shown while empty
    label = StringProperty("")  # what the field is, shown above a filled value
    kind = OptionProperty("text", options=list(KINDS))
    words = BooleanProperty(False)  # a name: each word starts with a capital
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
    """Follows its target field: the layout of the field's kind, Shift set by itself
    where a capital is due (start of a note; start of each word of a name)."""

    layout = OptionProperty("text", options=list(KINDS))
    target = ObjectProperty(None, allownone=True)
    shifted = BooleanProperty(False)
    key_height = NumericProperty(60)
    # where typing is optional (a note beside the choices): folded away until a field
    # is tapped, and folded again by its OK key, so a short screen shows the choices
    folds = BooleanProperty(False)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(orientation="vertical", spacing=4, **kwargs)
        self.bind(layout=self._rebuild, target=self._on_target, shifted=self._relabel)
        self.bind(folds=self._rebuild)
        app = App.get_running_app()
        self._lang = str(getattr(app, "lang", "en"))
        if app is not None and hasattr(app, "lang"):
            app.bind(lang=self._on_lang)  # letter order, and the special keys' names
        self._build()

    def _on_lang(self, _app: object, lang: str) -> None:
        self._lang = lang
        self._build()

    def _rebuild(self, *_args: object) -> None:
        self._build()
        self._auto_shift()

    def _auto_shift(self) -> None:
        field = self.target
        if self.layout not in ("text", "name") or field is None:
            self.shifted = False
            return
        value = field.value
        self.shifted = not value or (field.words and value[-1] in " -'")

    def _relabel(self, *_args: object) -> None:
        for row in self.children:
            for button in row.children:
                key = getattr(button, "key", "")
                if len(key) == 1 and key.isalpha():
                    button.text = key.upper() if self.shifted else key
                elif key == SHIFT:  # lit while the next letter is a capital
                    button.lit = self.shifted

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
        if target is not None:
            target.bind(kind=self._follow)
            self._follow(target, target.kind)
            self._show(target)

    @staticmethod
    def _show(field: KeyboardField) -> None:
        """Scroll a form so the field being typed into is in view (on a short screen
        the form above the keyboard has room for a field or two)."""
        from kivy.uix.scrollview import ScrollView

        parent = field.parent
        while parent is not None and parent.parent is not parent:
            if isinstance(parent, ScrollView):
                parent.scroll_to(field, padding=4, animate=False)
                return
            parent = parent.parent

    def _follow(self, field: KeyboardField, kind: str) -> None:
        if field is self.target:
            if self.layout == kind:
                self._auto_shift()
            self.layout = kind

    def _fields(self) -> list[KeyboardField]:
        root = self.parent
        while root is not None and root.parent is not None and not hasattr(root, "manager"):
            root = root.parent
        return [w for w in (root.walk() if root else []) if isinstance(w, KeyboardField)]

    def _build(self) -> None:
        """Lays out the keys of the layout and language. The keys already made are used
        again: every keyboard of every screen follows a change of language, and making
        forty buttons from their rule, each time, made a tap on the language button
        wait a second on a Pi."""
        spare = [key for row in self.children for key in row.children]
        for row in self.children:
            row.clear_widgets()
        self.clear_widgets()
        rows = layout_rows(self.layout, self._lang)
        if self.folds:
            rows[-1].append(DONE)
        for row_keys in rows:
            row = BoxLayout(spacing=4)
            for key in row_keys:
                row.add_widget(self._key(spare.pop() if spare else None, key))
            self.add_widget(row)
        self._relabel()

    def _key(self, button: Button | None, key: str) -> Button:
        if button is None:
            button = Factory.Key()
            button.bind(on_release=self._press)
        special = key in SPECIAL
        button.text = self._word(SPECIAL[key]) if special else key
        button.font_size = self._font(22 if special else 26)
        button.key = key
        button.lit = False
        button.size_hint_x = 2.0 if key in (SPACE, SHIFT) else 1.0
        return button

    def _press(self, button: Button) -> None:
        if self.target is None:
            fields = self._fields()
            self.target = fields[0] if fields else None
        if self.target is None:
            return
        app = App.get_running_app()
        if app is not None and hasattr(app, "announce_key"):
            app.announce_key(button.text)  # with speech on, each key says its name
        if button.key == DONE:
            self.target = None
            return
        if button.key == SHIFT:
            self.shifted = not self.shifted
            return
        if button.key == DELETE:
            self.target.backspace()
        elif self.shifted and len(button.key) == 1:
            self.target.type(button.key.upper())
        else:
            self.target.type(button.key)
        self._auto_shift()
