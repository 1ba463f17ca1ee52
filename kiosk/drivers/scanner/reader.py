"""Ticket scanners: a serial scanner sends lines; a USB keyboard-wedge scanner "types".

Either way what arrives is text a customer's ticket produced, or noise: a smudged
barcode, a scan of the wrong thing, line noise. Only claim codes whose check symbol is
right are handed on; everything else is logged and dropped, and the reader carries on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import serial

from kiosk.domain.claim_codes import ClaimCode, InvalidClaimCode
from kiosk.drivers.base import DeviceState, StatusStream

log = logging.getLogger(__name__)

MAX_LINE = 128


class LineAssembler:
    """Bytes → complete lines (CR, LF or CRLF ends a line). An over-long run without an
    end of line is noise and is dropped whole."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._overflow = False
        self.dropped = 0

    def feed(self, data: bytes) -> list[str]:
        lines = []
        for byte in data:
            if byte in (0x0A, 0x0D):
                if self._buf and not self._overflow:
                    lines.append(self._buf.decode("ascii", errors="replace"))
                elif self._overflow:
                    self.dropped += 1
                self._buf.clear()
                self._overflow = False
            elif len(self._buf) >= MAX_LINE:
                self._overflow = True
            else:
                self._buf.append(byte)
        return lines


def claim_code_in(line: str) -> ClaimCode | None:
    """The claim code a scanned line carries, if it is one (check symbol verified)."""
    text = line.strip()
    if not text or any(not ch.isprintable() for ch in text):
        return None
    try:
        return ClaimCode.parse(text)
    except InvalidClaimCode:
        return None


class _Reader:
    def __init__(self, name: str) -> None:
        self.status_stream = StatusStream(name)
        self.ignored = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _line(self, line: str, on_code: Callable[[str], None]) -> None:
        code = claim_code_in(line)
        if code is None:
            self.ignored += 1
            log.info("scan ignored (not a claim code): %r", line[:40])
            return
        on_code(code.value)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


class SerialScanner(_Reader):
    def __init__(self, url: str, baudrate: int = 9600, name: str = "scanner") -> None:
        super().__init__(name)
        self.url = url
        self.baudrate = baudrate

    def start(self, on_code: Callable[[str], None]) -> None:
        try:
            port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.1)
        except (serial.SerialException, OSError) as exc:
            self.status_stream.publish(DeviceState.FAULT, f"cannot open {self.url}: {exc}")
            raise
        self.status_stream.publish(DeviceState.READY, f"listening on {self.url}")
        assembler = LineAssembler()

        def run() -> None:
            try:
                while not self._stop.is_set():
                    for line in assembler.feed(port.read(port.in_waiting or 1)):
                        self._line(line, on_code)
            except (serial.SerialException, OSError) as exc:
                self.status_stream.publish(DeviceState.FAULT, f"scanner link lost: {exc}")
            finally:
                port.close()

        self._thread = threading.Thread(target=run, name="scanner", daemon=True)
        self._thread.start()


# US keyboard layout, as wedge scanners emulate it: key → (plain, shifted).
_KEYS: dict[str, tuple[str, str]] = {
    **{f"KEY_{c}": (c.lower(), c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **{f"KEY_{d}": (d, s) for d, s in zip("1234567890", "!@#$%^&*()", strict=True)},
    "KEY_MINUS": ("-", "_"),
    "KEY_SPACE": (" ", " "),
    "KEY_DOT": (".", ">"),
    "KEY_SLASH": ("/", "?"),
}
_SHIFTS = {"KEY_LEFTSHIFT", "KEY_RIGHTSHIFT"}
_ENTERS = {"KEY_ENTER", "KEY_KPENTER"}


class KeyAssembler:
    """Key events (name, value: 1 down, 0 up, 2 repeat) → typed lines."""

    def __init__(self) -> None:
        self._shift = False
        self._buf: list[str] = []

    def feed(self, key: str, value: int) -> str | None:
        if key in _SHIFTS:
            self._shift = value != 0
            return None
        if value != 1:
            return None
        if key in _ENTERS:
            line, self._buf = "".join(self._buf), []
            return line
        if key in _KEYS and len(self._buf) < MAX_LINE:
            self._buf.append(_KEYS[key][1 if self._shift else 0])
        return None


class WedgeScanner(_Reader):
    """A USB scanner that types, read with evdev and *grabbed*, so its keystrokes never
    reach the Kivy window (where they would land in whatever field has focus)."""

    def __init__(self, device_path: str, name: str = "scanner") -> None:
        super().__init__(name)
        self.device_path = device_path

    def start(self, on_code: Callable[[str], None]) -> None:
        try:
            import evdev  # Linux only: the pi extra
        except ImportError as exc:
            self.status_stream.publish(
                DeviceState.FAULT, "evdev is not installed (pip install '.[pi]')"
            )
            raise RuntimeError("the keyboard-wedge scanner needs evdev") from exc
        device = evdev.InputDevice(self.device_path)
        device.grab()
        self.status_stream.publish(DeviceState.READY, f"listening on {device.name}")
        keys = KeyAssembler()

        def run() -> None:
            try:
                for event in device.read_loop():
                    if self._stop.is_set():
                        break
                    if event.type == evdev.ecodes.EV_KEY:
                        name = evdev.ecodes.KEY.get(event.code, "")
                        line = keys.feed(name if isinstance(name, str) else name[0], event.value)
                        if line is not None:
                            self._line(line, on_code)
            except OSError as exc:
                self.status_stream.publish(DeviceState.FAULT, f"scanner unplugged: {exc}")
            finally:
                device.ungrab()

        self._thread = threading.Thread(target=run, name="scanner", daemon=True)
        self._thread.start()
