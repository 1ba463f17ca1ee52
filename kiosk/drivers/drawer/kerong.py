"""What the Kerong lock-control boards (KR-CU16 in `cu16.py`, KR-CU48 in `cu48.py`) share:
the frame's envelope, the bus discipline, and how an open is confirmed (docs/hardware.md,
"Kerong boards", with the public sources the frames were taken from).

Every frame is `STX 0x02 | … | ETX 0x03 | SUM`, SUM the low byte of the sum of every byte
before it. The bus is half duplex and the Pi its only master. A board answers a status
request within `reply_timeout_s` (0.3 s: the public drivers wait up to 1 s, the
emulators answer in a few milliseconds, no real board was timed); an answer that does
not come, is cut short, has a bad sum or is for another board or request is asked for
again once, then is a `LockerFault`.

An unlock frame has no answer, so it is never repeated blind: before it the kiosk reads
the board (a board that does not answer is not sent an unlock), then sends **one**
unlock frame and reads the board until the lock's hook shows unlatched. Only when a read
shows it still latched after `confirm_s` is the unlock sent again, once.

Which way a hook bit reads is not agreed between the public sources (three read a set
bit as latched, one as unlatched), so it is a setting, `hook_closed_bit`; `kiosk doctor
--open-locker N` shows the bit before and after an open (`hook_report`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.drivers.drawer.bank import LockerFault
from kiosk.drivers.drawer.line import SerialLine, check_places

log = logging.getLogger(__name__)

STX, ETX = 0x02, 0x03


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def framed(*body: int) -> bytes:
    """STX, the body, ETX and the sum."""
    data = bytes((STX, *body, ETX))
    return data + bytes((checksum(data),))


def envelope_problem(reply: bytes, want: int) -> str:
    """What is wrong with a reply's length, ends and sum ("" when nothing is)."""
    if not reply:
        return "no answer"
    if len(reply) < want:
        return f"answer cut short ({reply.hex(' ')})"
    if reply[0] != STX or reply[-2] != ETX or checksum(reply[:-1]) != reply[-1]:
        return f"garbled answer ({reply.hex(' ')})"
    return ""


@dataclass(frozen=True)
class KerongLocker:
    locker: str
    board: int  # the board's address, set by its DIP switches (0-15)
    lock: int  # as printed on the board, from 1


@dataclass(frozen=True)
class Reading:
    """One board's status as it came: bit n-1 is lock n."""

    hooks: int
    sensors: int | None = None  # infrared occupancy sensors, on boards that have them


class KerongBoards:
    """`LockHardware` on a bus of Kerong boards; a subclass says the model's frames."""

    model = "Kerong"
    locks_per_board = 16
    status_length = 0  # bytes in a status reply

    # The board reports each hook as it stands, bounces included: the bank debounces.
    debounced = False

    def __init__(
        self,
        line: SerialLine,
        lockers: list[KerongLocker],
        *,
        hook_closed_bit: int = 1,
        reply_timeout_s: float = 0.3,
        attempts: int = 2,
        confirm_s: float = 1.0,
        poll_s: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if hook_closed_bit not in (0, 1):
            raise ValueError(f"hook_closed_bit: {hook_closed_bit!r} is neither 0 nor 1")
        self.line = line
        self.hook_closed_bit = hook_closed_bit
        self.reply_timeout_s = reply_timeout_s
        self.attempts = attempts
        self.confirm_s = confirm_s
        self.poll_s = poll_s
        self._clock = clock
        self._sleep = sleep
        self._lockers = {entry.locker: entry for entry in lockers}
        check_places(lockers, range(16), range(1, self.locks_per_board + 1), "board")
        self.boards = sorted({entry.board for entry in lockers})
        self._bus = threading.Lock()
        self.bytes_sent = 0
        self.bytes_received = 0
        self.unlocks_sent = 0
        self._last_open: dict[str, tuple[int, int | None, int]] = {}

    # -- what a model says --
    def status_request(self, board: int) -> bytes:
        raise NotImplementedError

    def status_problem(self, board: int, reply: bytes) -> str:
        """What is wrong with a status reply beyond its envelope ("" when nothing is)."""
        raise NotImplementedError

    def reading_of(self, reply: bytes) -> Reading:
        raise NotImplementedError

    def unlock_request(self, board: int, lock: int) -> bytes:
        raise NotImplementedError

    def board_notes(self, board: int) -> str:
        """More for `kiosk doctor` about one board (the unlock time where it has one)."""
        return ""

    # -- the bus --
    def ask(self, board: int, request: bytes, want: int, problem: Callable[[bytes], str]) -> bytes:
        """One request and its reply, asked again once; a LockerFault when none is good."""
        trouble = ""
        with self._bus:
            for _attempt in range(self.attempts):
                reply = self._once(request, want)
                trouble = envelope_problem(reply, want) or problem(reply)
                if not trouble:
                    return reply
                log.warning("%s board %d: %s", self.model, board, trouble)
        raise LockerFault(f"{self.model} board {board}: {trouble}")

    def send(self, request: bytes) -> None:
        """A frame the board does not answer."""
        with self._bus:
            self.line.write(request)
            self.bytes_sent += len(request)

    def tell(self, request: bytes, want: int) -> bytes:
        """A frame some boards answer and some may not: an answer that comes within
        `reply_timeout_s` is read (and returned) so that it cannot be taken for the
        answer to the next request."""
        with self._bus:
            return self._once(request, want)

    def _once(self, request: bytes, want: int) -> bytes:
        """One request on an emptied line and what came back within the reply time (the
        caller holds the bus)."""
        self.line.discard_input()
        self.line.write(request)
        self.bytes_sent += len(request)
        reply = self._read(want)
        self.bytes_received += len(reply)
        return reply

    def _read(self, want: int) -> bytes:
        deadline = time.monotonic() + self.reply_timeout_s
        got = b""
        while len(got) < want and time.monotonic() < deadline:
            chunk = self.line.read(want - len(got))
            if chunk:
                got += chunk
            else:
                time.sleep(0.0005)
        return got

    def reading(self, board: int) -> Reading:
        reply = self.ask(
            board,
            self.status_request(board),
            self.status_length,
            lambda r: self.status_problem(board, r),
        )
        return self.reading_of(reply)

    def _bit(self, reading: Reading, lock: int) -> int:
        return reading.hooks >> (lock - 1) & 1

    # -- LockHardware --
    def locker_ids(self) -> list[str]:
        return list(self._lockers)

    def read_open(self) -> dict[str, bool]:
        hooks = {board: self.reading(board) for board in self.boards}
        return {
            name: self._bit(hooks[entry.board], entry.lock) != self.hook_closed_bit
            for name, entry in self._lockers.items()
        }

    def energise(self, locker: str, pulse_ms: int) -> None:
        entry = self._lockers[locker]
        before = self._bit(self.reading(entry.board), entry.lock)  # no answer: no unlock
        unlock = self.unlock_request(entry.board, entry.lock)
        sent, after = 0, None
        for _attempt in range(2):
            self.send(unlock)
            sent += 1
            self.unlocks_sent += 1
            if before != self.hook_closed_bit:
                break  # not latched before: nothing to confirm
            after = self._confirm(entry)
            if after != self.hook_closed_bit:
                break
            log.warning(
                "%s board %d lock %d: hook still latched %.1f s after the unlock",
                self.model,
                entry.board,
                entry.lock,
                self.confirm_s,
            )
        self._last_open[locker] = (before, after, sent)

    def _confirm(self, entry: KerongLocker) -> int | None:
        """The hook's bit once it shows unlatched, or at `confirm_s`; None when the board
        stops answering (the bank's own reads then decide)."""
        deadline = self._clock() + self.confirm_s
        bit = self.hook_closed_bit
        while bit == self.hook_closed_bit and self._clock() < deadline:
            self._sleep(self.poll_s)
            try:
                bit = self._bit(self.reading(entry.board), entry.lock)
            except LockerFault as exc:
                log.warning("after the unlock: %s", exc)
                return None
        return bit

    def hook_report(self, locker: str) -> str:
        """The lock's hook bit around its last open (or now), read against the setting."""
        entry = self._lockers[locker]
        where = f"{self.model} board {entry.board} lock {entry.lock}"
        setting = f"hook_closed_bit = {self.hook_closed_bit}"
        if locker not in self._last_open:
            bit = self._bit(self.reading(entry.board), entry.lock)
            state = "latched" if bit == self.hook_closed_bit else "unlatched"
            return (
                f"{where}: hook bit {bit}, read as {state} ({setting}); if the door is "
                f"{'open' if state == 'latched' else 'shut'}, set hook_closed_bit = "
                f"{1 - self.hook_closed_bit}"
            )
        before, after, sent = self._last_open[locker]
        frames = "1 unlock frame" if sent == 1 else f"{sent} unlock frames"
        if after is None:
            return f"{where}: hook bit {before} before {frames}; no reading after"
        if after != before:
            return (
                f"{where}: hook bit {before} before {frames}, {after} after: "
                f"{setting} holds (a shut lock read {before})"
            )
        return (
            f"{where}: hook bit {before} before and after {frames}: the lock stayed "
            f"latched, or the board reads its hooks the other way ({setting})"
        )

    def describe(self) -> list[tuple[bool, str]]:
        lines = []
        for board in self.boards:
            try:
                reading = self.reading(board)
            except LockerFault as exc:
                lines.append((False, str(exc)))
                continue
            count = sum(1 for e in self._lockers.values() if e.board == board)
            width = self.locks_per_board
            text = (
                f"{self.model} board {board}: answers; {count} lockers, "
                f"hooks {reading.hooks:0{width}b} (bit = lock, from the right; "
                f"{self.hook_closed_bit} = latched)"
            )
            if reading.sensors is not None:
                text += f", sensors {reading.sensors:0{width}b}"
            notes = self.board_notes(board)
            lines.append((True, text + (f"; {notes}" if notes else "")))
        return lines

    def close(self) -> None:
        self.line.close()
