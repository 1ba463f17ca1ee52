"""The top bar's language button and the list it opens.

With two languages the button names the other one, in its own words, and a tap
switches. With three or more it shows a globe and the session's language, and a tap
opens a list of every language the shop offers, each in its own words, the session's
marked; a tap on one switches and closes the list. kiosk/locale/languages.toml names
them."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.metrics import mm
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from kiosk.app.icons import with_icon
from kiosk.i18n import LANGUAGES


def button_text(lang: str, languages: list[str]) -> str:
    others = [code for code in languages if code != lang]
    if len(languages) <= 2:
        return LANGUAGES[others[0]].name if others else ""
    return with_icon("language", LANGUAGES[lang].name)


class LanguagePicker(ModalView):
    """Every offered language, one button each (`buttons`: code → button)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(size_hint=(0.5, None), auto_dismiss=True, **kwargs)
        app = App.get_running_app()
        self.background_color = app.colors["panel"]
        box = BoxLayout(orientation="vertical", spacing=mm(2), padding=mm(3))
        self.buttons: dict[str, Any] = {}
        self.marked = app.lang
        for code in app.languages:
            text = LANGUAGES[code].name
            marked = with_icon("ready", text) if code == app.lang else text
            button = Factory.BigButton(text=marked, markup=True)
            button.bind(on_release=lambda _b, code=code: self.choose(code))
            box.add_widget(button)
            self.buttons[code] = button
        n = len(app.languages)
        self.height = n * app.u(12.5) + (n - 1) * mm(2) + 2 * mm(3)  # BigButton's height
        self.add_widget(box)

    def choose(self, code: str) -> None:
        App.get_running_app().lang = code
        self.dismiss()


def choose(app: Any) -> LanguagePicker | None:
    """The language button's tap: the other language, or the list (opened, returned)."""
    if len(app.languages) > 2:
        picker = LanguagePicker()
        picker.open()
        return picker
    i = app.languages.index(app.lang)
    app.lang = app.languages[(i + 1) % len(app.languages)]
    return None
