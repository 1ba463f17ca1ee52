"""Icons beside the words of the home choices, the item kinds, the top bar and the
statement's lines, drawn from Font Awesome Free (the `fontawesomefree` package; its
fonts are under the SIL Open Font License 1.1).

A glyph of an icon font scales with the text, takes the text's colour and needs no image
files; Kivy draws it through markup (`[font=Icons]…[/font]`), so a label keeps one text
for the screen and for speech (which reads `app.spoken()` without the icons).

Each icon is named as Font Awesome names it; `tests/unit/test_icons.py` checks every
codepoint against the package's own metadata, so a renamed or moved icon fails there,
not as an empty box on a customer's screen.
"""

from __future__ import annotations

import logging
import re
from importlib import resources
from pathlib import Path

from kivy.utils import escape_markup

log = logging.getLogger(__name__)

SOLID, REGULAR = "Icons", "IconsRegular"  # the font names the markup uses
# what the kiosk shows → (Font Awesome's name, its codepoint, the font it is in)
ICONS: dict[str, tuple[str, int, str]] = {
    "dropoff": ("screwdriver-wrench", 0xF7D9, SOLID),
    "pickup": ("box-open", 0xF49E, SOLID),
    "statement": ("file-invoice", 0xF570, SOLID),
    "checked": ("square-check", 0xF14A, SOLID),
    "unchecked": ("square", 0xF0C8, REGULAR),
    # a device's state on the technician's screen (kiosk/drivers/base.py DeviceState)
    "ready": ("circle-check", 0xF058, SOLID),
    "busy": ("hourglass-half", 0xF252, SOLID),
    "warning": ("triangle-exclamation", 0xF071, SOLID),
    "fault": ("circle-xmark", 0xF057, SOLID),
    "unknown": ("circle-question", 0xF059, SOLID),
    # the top bar's language list, when a shop offers three languages or more
    "language": ("globe", 0xF0AC, SOLID),
}
# the icons a back office may give an item kind (`icon` in its item_kinds record), by
# Font Awesome's own names; another name shows the kind's words alone
ICONS.update(
    (name, (name, codepoint, SOLID))
    for name, codepoint in (
        ("bicycle", 0xF206), ("mobile-screen", 0xF3CF), ("laptop", 0xF109),
        ("blender", 0xF517), ("box", 0xF466), ("tv", 0xF26C), ("camera", 0xF030),
        ("headphones", 0xF025), ("gamepad", 0xF11B), ("motorcycle", 0xF21C),
        ("tablet-screen-button", 0xF3FA), ("desktop", 0xF390), ("plug", 0xF1E6),
    )
)  # fmt: skip
FILES = {SOLID: "fa-solid-900.ttf", REGULAR: "fa-regular-400.ttf"}
loaded: set[str] = set()


def font_dir() -> Path | None:
    try:
        root = resources.files("fontawesomefree") / "static" / "fontawesomefree" / "webfonts"
    except ModuleNotFoundError:
        return None
    return Path(str(root))


def register() -> bool:
    """Make the icon fonts known to Kivy's markup; without them (a broken install) the
    screens show their words alone, and the log says why."""
    from kivy.core.text import LabelBase

    folder = font_dir()
    for name, filename in FILES.items():
        path = folder / filename if folder else None
        if path is None or not path.is_file():
            log.error("icon font %s missing (pip package fontawesomefree): no icons", filename)
            continue
        LabelBase.register(name=name, fn_regular=str(path))
        loaded.add(name)
    return bool(loaded)


def icon(name: str) -> str:
    """The markup of one icon; empty where its font is not there, or for a name the
    kiosk does not know."""
    if name not in ICONS:
        return ""
    _fa_name, codepoint, font = ICONS[name]
    return f"[font={font}]{chr(codepoint)}[/font]" if font in loaded else ""


def with_icon(name: str, text: str, *, above: bool = False, size: float = 0) -> str:
    """An icon and a text, as markup (the text escaped): beside it, or above it; the
    icon `size` pixels high, or the text's size."""
    mark = icon(name)
    if not mark:
        return escape_markup(text)
    if size:
        mark = f"[size={int(size)}]{mark}[/size]"
    return f"{mark}{chr(10) if above else '  '}{escape_markup(text)}"


_ICON = re.compile(r"\[font=Icons\w*\].*?\[/font\]")


def plain(markup: str) -> str:
    """The words of a label without its icons (for speech and for tests)."""
    words = _ICON.sub("", markup).strip()
    return words.replace("&bl;", "[").replace("&br;", "]").replace("&amp;", "&")
