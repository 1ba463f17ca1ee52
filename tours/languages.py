"""A shop that offers three languages (`[kiosk] languages = ["de", "en", "fr"]`): the
attract screen's three start buttons, each in its own words; the top bar's globe and
the list it opens; a switch from German to French in the middle of a journey."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kiosk.i18n import LANGUAGES


def _bar_button(ui: Any) -> Any:
    """The top bar's language button, found as a person finds it: by what it says."""
    from kiosk.app.widgets.languages import button_text

    app = ui.app
    said = button_text(app.lang, app.languages)
    for widget in app.sm.current_screen.walk(restrict=True):
        if getattr(widget, "text", None) == said and widget.opacity > 0:
            return widget
    raise AssertionError(f"no language button saying {said!r}")


def three_languages(ui: Any) -> Iterator[Any]:
    yield from ui.wait_screen("attract")
    yield lambda: ui.app.ready
    yield from ui.shot("attract-de-en-fr")
    attract = ui.app.screen("attract")
    ui.notes["starts"] = [attract.ids[f"start_{code}"].text for code in ui.app.languages]
    yield from ui.tap("attract", "start_de")
    yield from ui.wait_screen("home")
    yield from ui.shot("home-de")
    ui.notes["home_de"] = ui.text("home", "dropoff")
    yield from ui.tap("home", "dropoff")
    yield 0.3
    ui.notes["screen"] = ui.current()
    yield from ui.tap_widget(_bar_button(ui))
    yield 0.3
    picker = ui.app.language_picker
    yield from ui.shot("language-list-de")
    ui.notes["list"] = list(picker.buttons)
    ui.notes["marked"] = picker.marked
    ui.notes["names"] = [LANGUAGES[code].name in b.text for code, b in picker.buttons.items()]
    yield from ui.tap_widget(picker.buttons["fr"])
    yield 0.3
    yield from ui.shot("after-switch-fr")
    ui.notes["lang"] = ui.app.lang
    ui.notes["after"] = ui.current()
