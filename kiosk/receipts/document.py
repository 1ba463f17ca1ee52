"""A receipt as a list of blocks, and the one place that turns it into printer bytes.

Builders (ticket, tag, receipts, reports) say *what* is printed; `to_escpos` says how,
with python-escpos on a Dummy printer, so a job is built whole before anything is sent
and the simulator renders exactly the bytes the printer gets. A character the printer's
code page cannot print is never a "?" on a customer's receipt: `receipts/legible.py`
switches code pages within the line, or prints the line as an image.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
from dataclasses import dataclass

import qrcode
from escpos.constants import ESC, TXT_NORMAL
from escpos.printer import Dummy
from PIL import Image, ImageDraw, ImageFont

from kiosk.domain.text import cut, nfc, visual, width
from kiosk.drivers.printer.codepages import DEFAULT_CODEPAGE, DEFAULT_PROFILE
from kiosk.receipts.legible import line_image, runs

COLUMNS = 48
TXT_DOUBLE = ESC + b"!\x30"  # ESC ! n with double height and width

# Typography the code pages lack, and Babel's thin spaces, in plain forms.
_PLAIN = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2014": "-", "\u2013": "-",
                        "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                        "\u2026": "...", "\u2022": "*", "\u2192": "->"})  # fmt: skip


def plain(text: str) -> str:
    return text.translate(_PLAIN)


@dataclass(frozen=True)
class Text:
    text: str
    align: str = "left"
    bold: bool = False
    size: int = 1  # 1 normal, 2 double width and height
    underline: bool = False


@dataclass(frozen=True)
class Pair:
    """A label on the left, an amount on the right, on one line."""

    left: str
    right: str
    bold: bool = False
    size: int = 1


@dataclass(frozen=True)
class Wrap:
    text: str


@dataclass(frozen=True)
class Rule:
    char: str = "-"


@dataclass(frozen=True)
class Qr:
    data: str
    size: int = 6


@dataclass(frozen=True)
class Barcode:
    data: str


@dataclass(frozen=True)
class Logo:
    """The shop's name as a logo: big bold text natively, or a bitmap in raster mode."""

    text: str


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    pass


Block = Text | Pair | Wrap | Rule | Qr | Barcode | Logo | Feed | Cut
Document = list[Block]


def as_text(doc: Document) -> str:
    """The receipt's words, for an e-mail or SMS body."""
    lines = []
    for block in doc:
        if isinstance(block, Text | Wrap):
            lines.append(plain(block.text))
        elif isinstance(block, Pair):
            lines.append(f"{plain(block.left)}: {plain(block.right)}")
    return "\n".join(lines)


def pair_line(left: str, right: str, columns: int) -> str:
    """Left and right on one line; a left too long is shortened between characters as
    a person counts them (a letter keeps its accents: kiosk/domain/text.py)."""
    left, right = nfc(left), nfc(right)
    room = columns - width(right) - 1
    if width(left) > room:
        left = cut(left, max(room - 1, 0)) + "."
    return left + " " * (columns - width(left) - width(right)) + right


def _logo_image(text: str) -> Image.Image:
    """The logo as a bitmap the size the printer draws the native one: double-size Font A,
    24 × 48 dots a character, wrapped at 24 characters."""
    rows = textwrap.wrap(text, COLUMNS // 2) or [""]
    font = _logo_font()
    width = max(len(r) for r in rows) * 24
    image = Image.new("1", (width, 48 * len(rows)), 1)
    draw = ImageDraw.Draw(image)
    for i, row in enumerate(rows):
        left = (width - len(row) * 24) // 2
        for j, ch in enumerate(row):
            draw.text((left + j * 24, i * 48), ch, font=font, fill=0)
    return image


def _logo_font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSansMono-Bold.ttf", 40)
    except OSError:
        return ImageFont.load_default(40)


class _Printer:
    """python-escpos's Dummy with the printer's current style remembered, so each block
    sends only what changes (every byte costs ~1 ms on a 9600-baud line)."""

    def __init__(self, profile: str, codepage: str) -> None:
        self.p = Dummy(profile=profile)
        self.p.hw("INIT")
        self.p.charcode(codepage)
        self._style: tuple[str, bool, bool, int] = ("left", False, False, 1)

    def style(
        self, align: str = "left", bold: bool = False, underline: bool = False, size: int = 1
    ) -> None:
        old_align, old_bold, old_underline, old_size = self._style
        if align != old_align:
            self.p.set(align=align)
        if bold != old_bold:
            self.p.set(bold=bold)
        if underline != old_underline:
            self.p.set(underline=1 if underline else 0)
        if size != old_size:
            self.p._raw(TXT_DOUBLE if size == 2 else TXT_NORMAL)
        self._style = (align, bold, underline, size)


def to_escpos(
    doc: Document,
    *,
    profile: str = DEFAULT_PROFILE,
    codepage: str = DEFAULT_CODEPAGE,
    raster: bool = False,
) -> bytes:
    """Printer bytes for a document. `raster=True` sends the QR codes and the logo as
    bitmaps, as a printer without native QR needs them (and as the benchmark compares)."""
    out = _Printer(profile, codepage)
    p = out.p

    def emit(line: str) -> None:
        """One line in the configured code page, else in runs of other code pages, else
        as an image (receipts/legible.py); the configured code page is restored after.
        Right-to-left words are put in the order the paper shows them first."""
        line = visual(nfc(line))
        parts = runs(line, codepage, profile)
        if parts[0].codepage == "":
            p.image(line_image(line), center=False)
            return
        for part in parts:
            p.charcode(part.codepage)
            p.text(part.text)
        p.charcode(codepage)
        p.text("\n")

    def lines(text: str, columns: int) -> list[str]:
        """Words kept whole: the printer itself would cut a word at the margin."""
        return textwrap.wrap(plain(text), columns) or [""]

    for block in doc:
        if isinstance(block, Text):
            out.style(block.align, block.bold, block.underline, block.size)
            for line in lines(block.text, COLUMNS // block.size):
                emit(line)
        elif isinstance(block, Pair):
            out.style("left", block.bold, False, block.size)
            emit(pair_line(plain(block.left), plain(block.right), COLUMNS // block.size))
        elif isinstance(block, Wrap):
            out.style()
            for line in lines(block.text, COLUMNS):
                emit(line)
        elif isinstance(block, Rule):
            out.style()
            p.text(block.char * COLUMNS + "\n")
        elif isinstance(block, Qr):
            out.style("center")
            if raster:
                qr = qrcode.QRCode(box_size=block.size, border=1)
                qr.add_data(block.data)
                p.image(qr.make_image().get_image(), center=True)  # python-escpos pads to the paper
            else:
                p.qr(block.data, native=True, size=block.size)
        elif isinstance(block, Barcode):
            out.style("center")
            # python-escpos 3.1 print()s "Using hardware barcode renderer" on every call
            with contextlib.redirect_stdout(io.StringIO()):
                p.barcode("{B" + block.data, "CODE128", function_type="B", width=2, height=80)
        elif isinstance(block, Logo):
            if raster:
                out.style("center")
                p.image(_logo_image(plain(block.text)), center=True)
            else:
                out.style("center", bold=True, size=2)
                for line in lines(block.text, COLUMNS // 2):
                    emit(line)
        elif isinstance(block, Feed):
            p.ln(block.lines)
        elif isinstance(block, Cut):
            p.cut()
    data: bytes = p.output
    return data
