"""Issue 16 §1: no way out of the customer screens with a keyboard.

On every customer screen of a pickup, a statement and a drop-off, the keys a USB
keyboard (or a scanner programmed with function-key barcodes) could send are sent to
the window, as SDL sends them, and a window close request (Alt+F4 under a window
manager): the screen must stay, no settings panel may open, the app must keep running.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tours import scenarios

# (name, Kivy keycode, modifiers)
KEYS = [("Escape", 27, []), ("Menu", 319, []), ("Alt+F4", 285, ["alt"]),
        ("Ctrl+Q", 113, ["ctrl"]), ("Ctrl+W", 119, ["ctrl"]), ("Ctrl+C", 99, ["ctrl"]),
        ("Alt+Tab", 9, ["alt"]), ("Backspace", 8, []), ("Home", 278, []),
        ("Super", 309, ["meta"])] + [(f"F{n}", 281 + n, []) for n in range(1, 13)]  # fmt: skip


def keys(ui: Any) -> Iterator[Any]:
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.uix.settings import Settings

    tried: dict[str, list[str]] = {}
    broken: list[str] = []

    def press_all(name: str) -> None:
        if ui.app.sm.current != name or name in tried:
            return
        tried[name] = []
        for label, key, modifiers in KEYS:
            Window.dispatch("on_key_down", key, 0, None, modifiers)
            Window.dispatch("on_keyboard", key, 0, None, modifiers)
            Window.dispatch("on_key_up", key, 0)
            tried[name].append(label)
            if ui.app.sm.current != name:
                broken.append(f"{label} left {name} for {ui.app.sm.current}")
            if any(isinstance(w, Settings) for w in Window.children):
                broken.append(f"{label} opened the settings panel on {name}")
        if not Window.dispatch("on_request_close"):
            broken.append(f"a close request on {name} was obeyed")
        if ui.app.root not in Window.children:
            broken.append(f"the kiosk's screens are gone after the keys on {name}")

    def entered(name: str) -> None:
        Clock.schedule_once(lambda _dt: press_all(name), 0.3)

    ui.app.on_screen_change.append(entered)
    yield from scenarios.pickup_card(ui, "en")
    yield from scenarios.statement(ui, "en")
    yield from ui.tap("message", "ok")
    yield from scenarios.dropoff_new(ui, "en")
    yield 0.5
    ui.notes.update(tried=tried, broken=broken)
