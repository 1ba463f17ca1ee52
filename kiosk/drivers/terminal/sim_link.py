"""The link side of the simulated ZVT terminal (simulator.py holds its dialogues): the
pseudo-terminal or TCP socket, frames with their CRC, ACK and NAK, the 80 00
acknowledgements with PA00P016's T2 and T3 time-outs, and the scripts that make a
dialogue decline, hang or lose its cable at a chosen step."""

from __future__ import annotations

import contextlib
import logging
import os
import pty
import select
import socket
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass

from kiosk.drivers.terminal import apdu as z
from kiosk.drivers.terminal.apdu import Apdu, ZvtError
from kiosk.drivers.terminal.frames import (
    ACK,
    NAK,
    Ack,
    BadFrame,
    Frame,
    FrameDecoder,
    Nak,
    encode_frame,
)

log = logging.getLogger(__name__)

# Steps at which a script can cut the link (the terminal goes silent).
DROP_STEPS = (
    "on_command",  # the command is never acknowledged: nothing happened
    "after_accept",  # 80 00 sent, then silence: nothing happened yet
    "after_intermediate",  # the customer was asked for the card, then silence
    "before_status",  # money moved at the terminal, the kiosk heard nothing
    "after_status",  # status information sent, completion never comes
)


@dataclass
class Script:
    outcome: str = "approve"  # approve | decline | cancel | hang
    decline_code: int = 0x05
    statuses: tuple[int, ...] = (0x0A, 0x41, 0x04)
    status_delay_s: float = 0.0
    drop_at: str | None = None
    cut_after: int | None = None  # the cable goes out after this many APDUs of the dialogue
    nak_frames: int = 0  # NAK this many incoming frames first
    corrupt_frames: int = 0  # send this many frames with a broken CRC first
    card_brand: str = "VISA"
    card_last4: str = "4242"

    def __post_init__(self) -> None:
        if self.drop_at is not None and self.drop_at not in DROP_STEPS:
            raise ValueError(f"drop_at must be one of {DROP_STEPS}")
        if self.outcome not in ("approve", "decline", "cancel", "hang"):
            raise ValueError(f"unknown outcome {self.outcome!r}")


class Silent(Exception):
    """The script cut the link: the terminal hears and says nothing until reconnect()."""


class EcrGone(Exception):
    """The ECR stopped answering mid-dialogue (T2/T3 ran out): the terminal reverses
    whatever it had not stored (PA00P015 §2.2.8) and waits for the next command."""


class TerminalLink:
    """The link side of a simulated terminal: a pseudo-terminal (or TCP) served on a
    thread, frames ACKed or NAKed, each command taken with its script and handed to
    `_handle` (the dialogue, simulator.py), the T2/T3 time-outs of PA00P016 kept."""

    def __init__(self) -> None:
        self.scripts: deque[Script] = deque()
        self.silent = False
        self._decoder = FrameDecoder()
        self._inbox: deque[Apdu] = deque()
        self._fd: int | None = None
        self._sock: socket.socket | None = None
        self._server: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._script = Script()
        self.received: deque[Apdu] = deque(maxlen=200)  # the latest commands, for tests
        self.bad_frames = 0
        # PA00P016 §3.4.2 T2 (block → ACK/NAK, under 5 s) and §5.2.5 T3 (message → 80 00,
        # default 5 s): how long this terminal waits for the ECR before giving up.
        self.t2_s = 2.0
        self.t3_s = 5.0
        self._messages = 0  # APDUs of the current dialogue, both ways
        # APDUs of each past dialogue but registrations (sent whenever a link opens;
        # they take no script either)
        self.dialogue_lengths: deque[int] = deque(maxlen=200)
        self.idle = threading.Event()

    # -- lifecycle --
    def start_pty(self) -> str:
        """Serve on a new pseudo-terminal; returns the device path the kiosk opens."""
        master, slave = pty.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self._fd = master
        self._slave = slave  # kept open so the master never sees a hang-up
        self._start()
        return os.ttyname(slave)

    def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        self._server = socket.create_server((host, port))
        self._server.settimeout(0.1)
        self._start()
        addr = self._server.getsockname()
        return addr[0], addr[1]

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="zvt-sim", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        for fd in (self._fd, getattr(self, "_slave", None)):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        for s in (self._sock, self._server):
            if s is not None:
                s.close()

    def push(self, *scripts: Script) -> None:
        """Scripts for the next commands, one each; afterwards: approve."""
        self.scripts.extend(scripts)

    def reconnect(self) -> None:
        """The cable is back: answer again."""
        self._inbox.clear()
        self._decoder.reset()
        self.silent = False

    @property
    def tcp(self) -> bool:
        return self._server is not None

    # -- bytes --
    def _read(self, timeout: float) -> bytes:
        if self.tcp:
            if self._sock is None:
                try:
                    assert self._server is not None
                    self._sock, _ = self._server.accept()
                except TimeoutError:
                    return b""
            ready, _, _ = select.select([self._sock], [], [], timeout)
            if not ready:
                return b""
            data = self._sock.recv(4096)
            if not data:
                self._sock.close()
                self._sock = None
            return data
        assert self._fd is not None
        ready, _, _ = select.select([self._fd], [], [], timeout)  # type: ignore[list-item]
        if not ready:
            return b""
        try:
            return os.read(self._fd, 4096)
        except OSError:
            return b""

    def _write(self, data: bytes) -> None:
        if self.silent:
            return
        if self.tcp:
            if self._sock is not None:
                self._sock.sendall(data)
        else:
            assert self._fd is not None
            os.write(self._fd, data)

    def _pump(self, timeout: float) -> list[object]:
        """Read what came in; frames are ACKed (or NAKed as scripted) and queued."""
        data = self._read(timeout)
        if not data or self.silent:
            return []
        if self.tcp:
            self._tcp_buffer = getattr(self, "_tcp_buffer", b"") + data
            while len(self._tcp_buffer) >= 3:
                n = self._tcp_buffer[2]
                if len(self._tcp_buffer) < 3 + n:
                    break
                raw, self._tcp_buffer = self._tcp_buffer[: 3 + n], self._tcp_buffer[3 + n :]
                self._inbox.append(Apdu.decode(raw))
            return []
        others: list[object] = []
        for event in self._decoder.feed(data):
            if isinstance(event, Frame):
                if self._script.nak_frames > 0:
                    self._script.nak_frames -= 1
                    self._write(bytes([NAK]))
                    continue
                self._write(bytes([ACK]))
                try:
                    self._inbox.append(Apdu.decode(event.apdu))
                except ZvtError:
                    self.bad_frames += 1
            elif isinstance(event, BadFrame):
                self.bad_frames += 1
                self._write(bytes([NAK]))
            else:
                others.append(event)
        return others

    def _count(self) -> None:
        """One more APDU of the dialogue; the script may cut the cable right after it."""
        self._messages += 1
        if self._script.cut_after is not None and self._messages >= self._script.cut_after:
            self.silent = True
            raise Silent

    def _send(self, msg: Apdu, expect_reply: bool = True) -> None:
        """Send one message; on serial wait for its ACK (repeat on NAK), then for the
        ECR's 80 00 reply."""
        if self.silent:
            raise Silent
        if self.tcp:
            self._write(msg.encode())
        else:
            frame = encode_frame(msg.encode())
            for _ in range(3):
                if self._script.corrupt_frames > 0:
                    self._script.corrupt_frames -= 1
                    self._write(frame[:-1] + bytes([frame[-1] ^ 0xFF]))
                else:
                    self._write(frame)
                if self._await_ack():
                    break
            else:
                raise EcrGone
        self._count()
        if expect_reply:
            reply = self._next(self.t3_s)
            if reply is None or reply.command != z.ACK_POSITIVE:
                raise EcrGone
            self._count()

    def _await_ack(self) -> bool:
        deadline = time.monotonic() + self.t2_s
        while time.monotonic() < deadline and not self._stop.is_set():
            for event in self._pump(0.05):
                if isinstance(event, Ack):
                    return True
                if isinstance(event, Nak):
                    return False
        return False

    def _next(self, timeout: float) -> Apdu | None:
        deadline = time.monotonic() + timeout
        while not self._inbox:
            if time.monotonic() > deadline or self._stop.is_set():
                return None
            self._pump(0.05)
        return self._inbox.popleft()

    # -- the terminal --
    def _serve(self) -> None:
        while not self._stop.is_set():
            if self.silent:
                self._read(0.05)  # the cable is out: bytes go nowhere
                continue
            self.idle.set()
            command = self._next(0.1)
            if command is None:
                continue
            self.idle.clear()
            self.received.append(command)
            registration = command.command == z.REGISTRATION
            self._script = self.scripts.popleft() if self.scripts and not registration else Script()
            self._messages = 0
            try:
                self._count()
                self._handle(command)
            except Silent:
                self.silent = True
            except EcrGone:
                log.info("the ECR stopped answering during %s: back to idle", command)
                self._inbox.clear()
            except Exception:  # a simulator bug must not hang the test silently
                log.exception("simulator failed on %s", command)
                self.silent = True
            if not registration:
                self.dialogue_lengths.append(self._messages)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once the terminal waits for a command again (or the cable is out)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.silent or self.idle.wait(0.02):
                return True
        return False

    def _drop(self, step: str) -> None:
        if self._script.drop_at == step:
            self.silent = True
            raise Silent

    def _handle(self, command: Apdu) -> None:
        raise NotImplementedError  # the dialogue: TerminalSimulator
