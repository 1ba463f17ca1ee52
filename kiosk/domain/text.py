"""Names as people write them: one spelling per name, cut only between characters.

A name typed on a keyboard with a combining accent (`Zoe` + U+0301) and the same name
typed with `é` are one name: everything a person gives (the screen, the back office's
records, the staff API) is stored in Unicode's composed form (NFC). What a person sees
as one character (a letter and its accents, an emoji with its modifiers) is a grapheme
cluster: a name is shortened by clusters, never inside one, so no accent is cut off.

Text is stored in logical order (the order it is typed and read). A receipt printer
and Kivy's labels draw characters left to right as given, so an Arabic or Hebrew name
came out backwards. `visual()` gives a line in the order it must be drawn: Arabic
letters joined in their contextual forms (arabic-reshaper), runs ordered by the
Unicode bidirectional algorithm (python-bidi), one line at a time.

The three libraries are imported at first use, not with this module: the app imports
it before its first frame, and together they cost about 40 ms to import here.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@cache
def _cluster() -> Any:
    import regex

    return regex.compile(r"\X")


def graphemes(text: str) -> list[str]:
    """The characters a person sees, each with its combining marks."""
    return [str(cluster) for cluster in _cluster().findall(text)]


def cut(text: str, length: int) -> str:
    """The first `length` characters as a person counts them."""
    return "".join(graphemes(text)[:length])


def width(text: str) -> int:
    """How many characters a person counts."""
    return len(graphemes(text))


_RTL = ("R", "AL")


def right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in _RTL for ch in text)


def visual(line: str) -> str:
    """One line in drawing order; unchanged when it holds no right-to-left letter."""
    if not right_to_left(line):
        return line
    import arabic_reshaper
    from bidi import get_display

    return str(get_display(arabic_reshaper.reshape(line)))
