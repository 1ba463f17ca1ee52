"""Issue 16 §1: no way out of the kiosk's screens with a keyboard.

The keys a USB keyboard (or a scanner programmed with function-key barcodes) could send
are sent to the window as SDL sends them, and a window close request (Alt+F4 under a
window manager): the screen must stay, no settings panel may open, the app must keep
running. The walk (tours/walk.py) does this on every screen it visits.
"""

from __future__ import annotations

from typing import Any

# (name, Kivy keycode, modifiers)
KEYS = [("Escape", 27, []), ("Menu", 319, []), ("Alt+F4", 285, ["alt"]),
        ("Ctrl+Q", 113, ["ctrl"]), ("Ctrl+W", 119, ["ctrl"]), ("Ctrl+C", 99, ["ctrl"]),
        ("Alt+Tab", 9, ["alt"]), ("Backspace", 8, []), ("Home", 278, []),
        ("Super", 309, ["meta"])] + [(f"F{n}", 281 + n, []) for n in range(1, 13)]  # fmt: skip


def press_all(app: Any) -> tuple[list[str], list[str]]:
    """Every key of KEYS, then a close request, on the screen the app shows: the keys
    sent, and what went wrong."""
    from kivy.core.window import Window
    from kivy.uix.settings import Settings

    name, sent, broken = app.sm.current, [], []
    for label, key, modifiers in KEYS:
        Window.dispatch("on_key_down", key, 0, None, modifiers)
        Window.dispatch("on_keyboard", key, 0, None, modifiers)
        Window.dispatch("on_key_up", key, 0)
        sent.append(label)
        if app.sm.current != name:
            broken.append(f"{label} left {name} for {app.sm.current}")
        if any(isinstance(w, Settings) for w in Window.children):
            broken.append(f"{label} opened the settings panel on {name}")
    if not Window.dispatch("on_request_close"):
        broken.append(f"a close request on {name} was obeyed")
    if app.root not in Window.children:
        broken.append(f"the kiosk's screens are gone after the keys on {name}")
    return sent, broken
