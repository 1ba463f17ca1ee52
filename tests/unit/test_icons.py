"""The icons the kiosk names are the ones Font Awesome Free ships (its own metadata,
`metadata/icons.json` in the fontawesomefree package), in the font the kiosk loads them
from: a renamed or dropped icon fails here, not as an empty box on a customer's screen."""

from __future__ import annotations

import json

from kiosk.app import icons


def test_every_icon_is_in_font_awesome_free_with_its_codepoint():
    folder = icons.font_dir()
    assert folder is not None and folder.is_dir()
    metadata = json.loads((folder.parent / "metadata" / "icons.json").read_text())
    style = {icons.SOLID: "solid", icons.REGULAR: "regular"}
    for shown, (name, codepoint, font) in icons.ICONS.items():
        assert name in metadata, f"{shown}: Font Awesome has no icon {name!r}"
        assert int(metadata[name]["unicode"], 16) == codepoint, shown
        assert style[font] in metadata[name]["free"], f"{shown}: {name} not free in {font}"
        assert (folder / icons.FILES[font]).is_file()


def test_speech_reads_the_words_without_the_icons():
    icons.loaded.update({icons.SOLID, icons.REGULAR})  # as register() leaves it
    try:
        markup = icons.with_icon("dropoff", "Drop off [an item] & more")
    finally:
        icons.loaded.clear()
    assert markup.startswith("[font=Icons]\uf7d9[/font]")
    assert icons.plain(markup) == "Drop off [an item] & more"
