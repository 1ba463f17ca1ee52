"""Every string printed legibly, whatever script it is in.

Names and catalogue lines come from the back office: Łukasiewicz, Żaneta, 王芳, "Écran
📱", "Garmin™". A receipt is printed after the money moved, so a character the
configured code page lacks must not fail the job, and must not become a silent "?".
Per line, in this order:

1. the configured code page, when it has every character (the usual case: no change);
2. runs of the line in other single-byte code pages the printer's profile lists,
   switched within the line with ESC t (ESC/POS "Select character code table"), as
   python-escpos's own encoder does — CP852 has Ł and Ż, CP1252 has ™;
3. a line with characters no code page has is printed as a raster image of the text,
   drawn with a font that has the glyphs (DejaVu, then Droid Sans Fallback for CJK);
   a character no font has is spelled out by its Unicode name, "(MOBILE PHONE)", so the
   paper says what it was rather than a blank box.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from kiosk.drivers.printer.codepages import encoding_for, profile_codepages

FONT_PATHS = (
    "DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
# Double-byte tables need the printer's Kanji mode, not ESC t: not used for runs.
_MULTIBYTE = {"CP932"}
DOTS = 576  # an 80 mm head's printable width


@dataclass(frozen=True)
class Run:
    codepage: str  # "" for a run printed as an image
    text: str


@cache
def _tables(profile: str) -> tuple[tuple[str, str], ...]:
    names = sorted(set(profile_codepages(profile).values()) - {"Unknown"} - _MULTIBYTE)
    return tuple((name, encoding_for(name)) for name in names)


def _fits(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def runs(line: str, codepage: str, profile: str) -> list[Run]:
    """The line cut into runs, each with the code page that prints it (the configured
    one preferred, then the one already in use); "" when the whole line goes as an
    image because some character is in no code page of the profile."""
    if _fits(line, encoding_for(codepage)):
        return [Run(codepage, line)]
    tables = ((codepage, encoding_for(codepage)), *_tables(profile))
    out: list[Run] = []
    for ch in line:
        current = out[-1].codepage if out else codepage
        if _fits(ch, encoding_for(current)):
            name = current
        else:
            found = next((n for n, enc in tables if _fits(ch, enc)), None)
            if found is None:
                return [Run("", line)]
            name = found
        if out and out[-1].codepage == name:
            out[-1] = Run(name, out[-1].text + ch)
        else:
            out.append(Run(name, ch))
    return out


@cache
def _fonts(size: int) -> tuple[ImageFont.FreeTypeFont, ...]:
    found = []
    for path in FONT_PATHS:
        try:
            found.append(ImageFont.truetype(path, size))
        except OSError:
            continue
    return tuple(found)


@cache
def _missing(font: ImageFont.FreeTypeFont) -> bytes:
    """What the font draws for a character it lacks (its .notdef box)."""
    return bytes(font.getmask("\U0010fffd"))


def _has_glyph(font: ImageFont.FreeTypeFont, ch: str) -> bool:
    return ch.isspace() or bytes(font.getmask(ch)) != _missing(font)


def spelled(ch: str) -> str:
    return f"({unicodedata.name(ch, f'U+{ord(ch):04X}')})"


def line_image(text: str, size: int = 22) -> Image.Image:
    """The line drawn glyph by glyph in the first font that has each character."""
    fonts = _fonts(size)
    image = Image.new("1", (DOTS, size + 8), 1)
    draw = ImageDraw.Draw(image)
    x = 0
    for ch in text:
        found = next((f for f in fonts if _has_glyph(f, ch)), None)
        piece = ch if found is not None else spelled(ch)
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = found or (
            fonts[0] if fonts else ImageFont.load_default(size)
        )
        draw.text((x, 2), piece, font=font, fill=0)
        x += int(draw.textlength(piece, font=font))
        if x >= DOTS:
            break
    return image
