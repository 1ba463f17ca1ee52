"""An ESC/POS interpreter: the bytes a receipt printer receives, drawn as it would print.

It understands the commands python-escpos sends for the kiosk's documents (text modes,
code pages, alignment, sizes, native QR, CODE128, raster images, feeds, cuts, the cash
drawer pulse) and records anything else as an unknown command instead of guessing, so a
test can insist that a job holds nothing the printer would misprint. The pixel grid is
the printer's: 576 dots across (80 mm paper at 203 dpi), Font A is 12 × 24 dots.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

import barcode as pybarcode
import qrcode
from PIL import Image, ImageDraw, ImageFont

from kiosk.drivers.printer.codepages import encoding_for

ESC, GS, DLE, LF, CR, HT, FS = 0x1B, 0x1D, 0x10, 0x0A, 0x0D, 0x09, 0x1C
WIDTH = 576
CHAR_W, CHAR_H = 12, 24
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


def _font(bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), 20)
    return ImageFont.load_default(20)


@dataclass
class _Mode:
    bold: bool = False
    underline: bool = False
    width: int = 1
    height: int = 1
    align: int = 0  # 0 left, 1 centre, 2 right
    reverse: bool = False


@dataclass
class Page:
    """One cut-off piece of paper."""

    image: Image.Image
    text: str


@dataclass
class Interpretation:
    pages: list[Page]
    unknown: list[str] = field(default_factory=list)
    drawer_pulses: int = 0
    status_queries: list[int] = field(default_factory=list)
    codepages: list[str] = field(default_factory=list)


class EscPosInterpreter:
    def __init__(self, profile_codepages: dict[int, str]) -> None:
        self._codepages = profile_codepages
        self._fonts = {False: _font(False), True: _font(True)}

    def run(self, data: bytes) -> Interpretation:
        self._data = data
        self._pos = 0
        self._mode = _Mode()
        self._encoding = "cp437"
        self._result = Interpretation(pages=[])
        self._canvas: list[Image.Image] = []  # rows of the current page
        self._text_lines: list[str] = []
        self._line: list[tuple[str, _Mode]] = []
        self._qr: dict[str, int | bytes] = {"size": 3, "ec": 48}
        self._bc = {"height": 162, "width": 3, "hri": 0}
        while self._pos < len(data):
            self._step()
        if self._line or self._canvas:
            self._end_page(cut=False)
        return self._result

    # -- reading bytes --
    def _take(self, n: int) -> bytes:
        chunk = self._data[self._pos : self._pos + n]
        if len(chunk) < n:
            self._result.unknown.append(f"command cut short at byte {self._pos}")
        self._pos += n
        return chunk

    def _byte(self) -> int:
        b = self._take(1)
        return b[0] if b else 0

    # -- dispatch --
    def _step(self) -> None:
        start = self._pos
        b = self._byte()
        if b == LF:
            self._newline()
        elif b == CR:
            pass
        elif b == HT:
            self._text(" " * 8)
        elif b == ESC:
            self._esc(self._byte(), start)
        elif b == GS:
            self._gs(self._byte(), start)
        elif b == DLE:
            if self._byte() == 0x04:
                self._result.status_queries.append(self._byte())
            else:
                self._unknown(start)
        elif b == FS or b < 0x20:
            self._unknown(start)
        else:
            end = self._pos
            while end < len(self._data) and self._data[end] >= 0x20:
                end += 1
            raw = self._data[start:end]
            self._pos = end
            self._text(codecs.decode(raw, self._encoding, errors="replace"))

    def _unknown(self, start: int) -> None:
        self._result.unknown.append(self._data[start : self._pos + 1].hex(" "))

    def _esc(self, cmd: int, start: int) -> None:
        m = self._mode
        if cmd == 0x40:  # ESC @ initialise
            self._mode = _Mode()
        elif cmd == 0x74:  # ESC t n: code page
            n = self._byte()
            name = self._codepages.get(n, "")
            self._encoding = encoding_for(name)
            self._result.codepages.append(name)
        elif cmd == 0x21:  # ESC ! n: print mode
            n = self._byte()
            m.bold, m.underline = bool(n & 0x08), bool(n & 0x80)
            m.height, m.width = (2 if n & 0x10 else 1), (2 if n & 0x20 else 1)
        elif cmd == 0x45:  # ESC E n: bold
            m.bold = bool(self._byte() & 1)
        elif cmd == 0x2D:  # ESC - n: underline
            m.underline = bool(self._byte() & 3)
        elif cmd == 0x61:  # ESC a n: alignment
            m.align = self._byte() % 48 % 3
        elif cmd in (0x4D, 0x7B, 0x32, 0x20, 0x47, 0x52):  # font, upside-down, spacing…
            if cmd != 0x32:
                self._byte()
        elif cmd == 0x33:  # ESC 3 n: line spacing
            self._byte()
        elif cmd == 0x64:  # ESC d n: feed n lines
            self._newline()
            for _ in range(max(0, self._byte() - 1)):
                self._newline()
        elif cmd == 0x4A:  # ESC J n: feed n dots
            self._flush_line()
            self._canvas.append(Image.new("L", (WIDTH, self._byte()), 255))
        elif cmd == 0x70:  # ESC p m t1 t2: drawer kick
            self._take(3)
            self._result.drawer_pulses += 1
        else:
            self._unknown(start)

    def _gs(self, cmd: int, start: int) -> None:
        m = self._mode
        if cmd == 0x21:  # GS ! n: character size
            n = self._byte()
            m.width, m.height = (n >> 4 & 7) + 1, (n & 7) + 1
        elif cmd == 0x42:  # GS B n: reverse
            m.reverse = bool(self._byte() & 1)
        elif cmd in (0x62, 0x66, 0x4C, 0x57):  # smoothing, HRI font, margins
            self._take(1 if cmd in (0x62, 0x66) else 2)
        elif cmd == 0x68:
            self._bc["height"] = self._byte()
        elif cmd == 0x77:
            self._bc["width"] = self._byte()
        elif cmd == 0x48:
            self._bc["hri"] = self._byte()
        elif cmd == 0x6B:  # GS k: barcode
            self._barcode(start)
        elif cmd == 0x28:  # GS ( k: 2D codes
            if self._byte() != 0x6B:
                self._unknown(start)
                return
            self._qr_command(start)
        elif cmd == 0x76:  # GS v 0: raster image
            self._raster(start)
        elif cmd == 0x56:  # GS V: cut
            mode = self._byte()
            if mode in (65, 66):
                self._byte()
            self._end_page(cut=True)
        else:
            self._unknown(start)

    # -- text --
    def _columns_left(self) -> int:
        used = sum(len(t) * md.width for t, md in self._line)
        return WIDTH // CHAR_W - used

    def _text(self, text: str) -> None:
        while text:
            room = self._columns_left() // self._mode.width
            if room <= 0:
                self._newline()
                continue
            self._line.append((text[:room], _copy(self._mode)))
            text = text[room:]
            if text:
                self._newline()

    def _newline(self) -> None:
        if not self._line:
            self._line.append(("", _copy(self._mode)))
        self._flush_line()

    def _flush_line(self) -> None:
        if not self._line:
            return
        height = max(md.height for _, md in self._line) * CHAR_H
        row = Image.new("L", (WIDTH, height), 255)
        width = sum(len(t) * md.width * CHAR_W for t, md in self._line)
        align = self._line[0][1].align
        x = {0: 0, 1: (WIDTH - width) // 2, 2: WIDTH - width}[align]
        for text, md in self._line:
            if text:
                piece = self._draw_run(text, md)
                row.paste(piece, (x, height - piece.height))
                x += piece.width
        self._canvas.append(row)
        self._text_lines.append("".join(t for t, _ in self._line))
        self._line = []

    def _draw_run(self, text: str, md: _Mode) -> Image.Image:
        base = Image.new("L", (len(text) * CHAR_W, CHAR_H), 0 if md.reverse else 255)
        draw = ImageDraw.Draw(base)
        ink = 255 if md.reverse else 0
        for i, ch in enumerate(text):
            draw.text((i * CHAR_W, 1), ch, font=self._fonts[md.bold], fill=ink)
        if md.underline:
            draw.line((0, CHAR_H - 2, base.width, CHAR_H - 2), fill=ink, width=2)
        if md.width == 1 and md.height == 1:
            return base
        return base.resize((base.width * md.width, CHAR_H * md.height), Image.Resampling.NEAREST)

    # -- graphics --
    def _place(self, image: Image.Image) -> None:
        self._flush_line()
        row = Image.new("L", (WIDTH, image.height), 255)
        x = {0: 0, 1: (WIDTH - image.width) // 2, 2: WIDTH - image.width}[self._mode.align]
        row.paste(image, (max(0, x), 0))
        self._canvas.append(row)

    def _qr_command(self, start: int) -> None:
        lo, hi = self._byte(), self._byte()
        body = self._take(lo | hi << 8)
        if len(body) < 2 or body[0] != 0x31:
            self._unknown(start)
            return
        fn, args = body[1], body[2:]
        if fn == 0x41:  # model
            return
        if fn == 0x43:
            self._qr["size"] = args[0] if args else 3
        elif fn == 0x45:
            self._qr["ec"] = args[0] if args else 48
        elif fn == 0x50:
            self._qr["data"] = bytes(args[1:])
        elif fn == 0x51:
            data = self._qr.get("data", b"")
            assert isinstance(data, bytes)
            levels = {48: qrcode.ERROR_CORRECT_L, 49: qrcode.ERROR_CORRECT_M,
                      50: qrcode.ERROR_CORRECT_Q, 51: qrcode.ERROR_CORRECT_H}  # fmt: skip
            code = qrcode.QRCode(
                error_correction=levels.get(int(self._qr["ec"]), qrcode.ERROR_CORRECT_L),
                box_size=int(self._qr["size"]),
                border=1,
            )
            code.add_data(data)
            self._place(code.make_image().get_image().convert("L"))
            self._text_lines.append(f"[QR {data.decode('latin-1')}]")
        else:
            self._unknown(start)

    def _barcode(self, start: int) -> None:
        system = self._byte()
        if system >= 65:
            data = self._take(self._byte())
        else:
            end = (
                self._data.index(0, self._pos) if 0 in self._data[self._pos :] else len(self._data)
            )
            data, self._pos = self._data[self._pos : end], end + 1
        if system != 73:  # only CODE128 is used by the kiosk
            self._unknown(start)
            return
        text = data.decode("latin-1")
        if text.startswith("{"):
            text = text[2:]
        modules = pybarcode.get("code128", text).build()[0]
        unit = max(1, int(self._bc["width"]))
        height = max(1, int(self._bc["height"]))
        image = Image.new("L", (len(modules) * unit, height), 255)
        draw = ImageDraw.Draw(image)
        for i, bit in enumerate(modules):
            if bit == "1":
                draw.rectangle((i * unit, 0, (i + 1) * unit - 1, height), fill=0)
        self._place(image)
        if self._bc["hri"] in (2, 3):
            saved = self._mode.align
            self._text(text)
            self._newline()
            self._mode.align = saved
        self._text_lines.append(f"[CODE128 {text}]")

    def _raster(self, start: int) -> None:
        if self._byte() != 0x30:
            self._unknown(start)
            return
        self._byte()  # m: density
        x_bytes = self._byte() | self._byte() << 8
        rows = self._byte() | self._byte() << 8
        bits = self._take(x_bytes * rows)
        image = Image.frombytes("1", (x_bytes * 8, rows), bytes(b ^ 0xFF for b in bits))
        self._place(image.convert("L"))
        self._text_lines.append(f"[image {x_bytes * 8}x{rows}]")

    def _end_page(self, cut: bool) -> None:
        self._flush_line()
        rows = self._canvas or [Image.new("L", (WIDTH, CHAR_H), 255)]
        height = sum(r.height for r in rows) + 16
        page = Image.new("L", (WIDTH + 32, height + 16), 255)
        y = 16
        for r in rows:
            page.paste(r, (16, y))
            y += r.height
        if cut:
            ImageDraw.Draw(page).line((0, height + 8, page.width, height + 8), fill=160, width=1)
        self._result.pages.append(Page(page, "\n".join(self._text_lines)))
        self._canvas, self._text_lines = [], []


def _copy(mode: _Mode) -> _Mode:
    return _Mode(mode.bold, mode.underline, mode.width, mode.height, mode.align, mode.reverse)
