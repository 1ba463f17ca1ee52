"""A card terminal that speaks ZVT on a pseudo-terminal (or TCP), for tests and the demo.

It plays the terminal's side of the real byte protocol: frames, CRC, ACK/NAK, the
80 00 acknowledgements, intermediate statuses, status information, completion or abort.
What happens next is scripted: approve, decline with a result code, the customer
cancels, the terminal hangs (time-out), the link drops at a chosen step, NAKs, bad CRCs.
Like a real terminal it remembers its last transaction (repeat receipt), its open
reservations, and its day's totals; `charges` counts money actually taken, so a test
can prove nothing was charged twice.
"""

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
from collections.abc import Callable
from dataclasses import dataclass, field

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
from kiosk.drivers.terminal.profiles import (
    DEFAULT_PROFILE,
    PROFILES,
    Movement,
    TerminalProfile,
    receipt_messages,
    registration_completion,
    status_enquiry_completion,
    status_information,
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


class _Silent(Exception):
    """The script cut the link: the terminal hears and says nothing until reconnect()."""


class _EcrGone(Exception):
    """The ECR stopped answering mid-dialogue (T2/T3 ran out): the terminal reverses
    whatever it had not stored (PA00P015 §2.2.8) and waits for the next command."""


@dataclass
class Charge:
    kind: str  # payment | booking | refund | reversal
    amount_minor: int
    receipt_number: int
    reverses: int | None = None  # a reversal: the receipt number it reversed


@dataclass
class SimulatorState:
    receipt_number: int = 0
    trace_number: int = 0
    last_status: bytes | None = None
    reservations: dict[int, int] = field(default_factory=dict)
    charges: list[Charge] = field(default_factory=list)
    day_total_minor: int = 0
    day_closed_receipt: int = 0  # receipts up to here are in an end-of-day: not reversible


class TerminalSimulator:
    def __init__(
        self, terminal_id: str = "52500001", profile: TerminalProfile | str = DEFAULT_PROFILE
    ) -> None:
        self.terminal_id = terminal_id
        self.profile = PROFILES[profile] if isinstance(profile, str) else profile
        self.registered_config: int | None = None  # §2.1: until registered, no 04 FF
        self.terminal_status = 0x00  # chapter 11: what a status enquiry reports
        self.printed_itself: list[list[str]] = []  # receipts the ECR did not take
        self.state = SimulatorState()
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
        self.auto_reversals = 0  # transactions reversed because the ECR never acknowledged
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
            raise _Silent

    def _send(self, msg: Apdu, expect_reply: bool = True) -> None:
        """Send one message; on serial wait for its ACK (repeat on NAK), then for the
        ECR's 80 00 reply."""
        if self.silent:
            raise _Silent
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
                raise _EcrGone
        self._count()
        if expect_reply:
            reply = self._next(self.t3_s)
            if reply is None or reply.command != z.ACK_POSITIVE:
                raise _EcrGone
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
            except _Silent:
                self.silent = True
            except _EcrGone:
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
            raise _Silent

    def _accept(self) -> None:
        self._drop("on_command")
        self._send(Apdu(*z.ACK_POSITIVE), expect_reply=False)
        self._drop("after_accept")

    def _refuse(self, code: int) -> None:
        """Negative acknowledgement 84 xx (PA00P016 §5.2.3): xx the error code."""
        self._send(Apdu(0x84, code), expect_reply=False)

    def _complete(self, data: bytes = b"") -> None:
        """Completion 06 0F: without data for payment-type commands (PA00P015 §2.2.9,
        §2.16.6); registration and status enquiry carry theirs."""
        self._send(Apdu(*z.COMPLETION, data))

    def _config(self, bit: int) -> bool:
        return self.registered_config is not None and bool(self.registered_config & bit)

    def _status_info(self, result: int, amount: int | None, kind: str, receipt: int) -> bytes:
        movement = Movement(
            result,
            amount,
            self.state.trace_number,
            receipt,
            self._script.card_brand,
            self._script.card_last4,
            totals=kind == "totals",
        )
        return status_information(self.profile, self.terminal_id, movement)

    def _print(self, admin: bool, lines: list[str]) -> None:
        """The receipt goes to the ECR if it registered to print it with print lines
        (Table 1: bit 1 payment, bit 2 administration, bit 7 print lines); an ECR that
        builds receipts from the status information gets none; else the PT prints."""
        if self._config(z.CONFIG_ECR_PRINTS_ADMIN if admin else z.CONFIG_ECR_PRINTS_PAYMENT):
            if self._config(z.CONFIG_PRINT_LINES):
                for message in receipt_messages(self.profile, lines):
                    self._send(message)
            return
        self.printed_itself.append(lines)

    def _receipt(self, kind: str, amount: int, receipt: int) -> list[str]:
        return [
            "KUNDENBELEG",
            f"Terminal-ID {self.terminal_id}",
            f"{kind.upper()}  Beleg {receipt:04d}  Trace {self.state.trace_number:06d}",
            f"{self._script.card_brand}  **** {self._script.card_last4}",
            f"BETRAG EUR {amount // 100},{amount % 100:02d}",
            "",
        ]

    def _customer_interaction(self) -> str:
        """Intermediate statuses (only to an ECR registered for them, §3.7), then how
        the customer's part ended."""
        for code in self._script.statuses:
            time.sleep(self._script.status_delay_s)
            if self._config(z.CONFIG_INTERMEDIATE_STATUS):
                self._send(Apdu(*z.INTERMEDIATE_STATUS, bytes([code])))
            self._drop("after_intermediate")
        if self._script.outcome == "hang":
            # The terminal waits for a card that never comes; only an abort ends it.
            while not self._stop.is_set():
                msg = self._next(0.1)
                if msg is not None and msg.command == z.ABORT:
                    return "cancel"
            raise _Silent
        return self._script.outcome

    def _store(self, kind: str, amount: int, receipt: int, apply: Callable[[], None]) -> None:
        """Status information, then — only once the ECR acknowledged it — the
        transaction is stored (PA00P015 §2.2.8): an ECR that never answers gets an
        auto-reversal, and nothing is kept. Then Completion."""
        s = self.state
        status = self._status_info(z.RESULT_APPROVED, amount, kind, receipt)
        try:
            self._drop("before_status")
            self._send(Apdu(*z.STATUS_INFORMATION, status))
        except (_Silent, _EcrGone):
            self.auto_reversals += 1
            raise
        apply()
        s.last_status = status
        self._drop("after_status")
        self._print(False, self._receipt(kind, amount, receipt))
        self._complete()

    def _new_receipt(self) -> int:
        self.state.trace_number += 1
        self.state.receipt_number += 1
        return self.state.receipt_number

    def _money_transaction(self, command: Apdu, kind: str) -> None:
        fields = z.parse_bmps(command.data)
        amount = z.from_bcd(fields[0x04])
        self._accept()
        ending = self._customer_interaction()
        s = self.state
        if ending == "cancel":
            self._send(Apdu(*z.ABORT_FROM_TERMINAL, bytes([z.RESULT_ABORTED])))
            return
        if ending == "decline":
            s.trace_number += 1
            status = self._status_info(self._script.decline_code, amount, kind, s.receipt_number)
            self._send(Apdu(*z.STATUS_INFORMATION, status))
            self._send(Apdu(*z.ABORT_FROM_TERMINAL, bytes([self._script.decline_code])))
            return
        receipt = self._new_receipt()

        def apply() -> None:
            if kind == "reservation":
                s.reservations[receipt] = amount
            else:
                s.charges.append(Charge("payment", amount, receipt))
                s.day_total_minor += amount

        self._store(kind, amount, receipt, apply)

    def _handle(self, command: Apdu) -> None:
        s = self.state
        cmd = command.command
        if cmd in (z.AUTHORISATION, z.RESERVATION):
            self._money_transaction(command, "payment" if cmd == z.AUTHORISATION else "reservation")
        elif cmd in (z.BOOK_TOTAL, z.PARTIAL_REVERSAL):
            fields = z.parse_bmps(command.data)
            held, amount = z.from_bcd(fields[0x87]), z.from_bcd(fields[0x04])
            reserved = s.reservations.get(held)
            if reserved is None or amount > reserved:
                self._refuse(0x83)
                return
            self._accept()
            receipt = self._new_receipt()

            def book() -> None:
                if cmd == z.BOOK_TOTAL:
                    del s.reservations[held]
                    s.charges.append(Charge("booking", amount, receipt))
                    s.day_total_minor += amount
                else:
                    s.reservations[held] = reserved - amount

            self._store("booking", amount, receipt, book)
        elif cmd == z.RESERVATION_REVERSAL:
            held = z.from_bcd(z.parse_bmps(command.data)[0x87])
            if held not in s.reservations:
                self._refuse(0x83)
                return
            self._accept()
            amount = s.reservations[held]

            def release() -> None:
                del s.reservations[held]

            self._store("release", amount, self._new_receipt(), release)
        elif cmd == z.REGISTRATION:  # <password><config-byte>[<CC>…] (§2.1)
            currency = command.data[4:6]
            if currency and z.from_bcd(currency) != z.CURRENCY_EUR:
                self._send(Apdu(0x84, 0x1E, b"\x6f" + currency), expect_reply=False)
                return
            self._accept()
            self.registered_config = command.data[3]
            self._complete(registration_completion(self.profile, self.terminal_id))
        elif cmd == z.LOG_OFF:  # §2.24: 80 00 alone; the config byte goes back to 86
            self._accept()
            self.registered_config = 0x86
        elif cmd == z.STATUS_ENQUIRY:  # [<password>[03<service-byte>]] (§2.56)
            service = z.parse_bmps(command.data[3:]).get(0x03, b"\x00")[0]
            self._accept()
            self._complete(status_enquiry_completion(self.profile, self.terminal_status, service))
        elif cmd == z.REPEAT_RECEIPT:
            if s.last_status is None:
                self._refuse(0x83)
                return
            self._accept()
            fields = z.parse_bmps(command.data[3:])
            service = fields.get(0x03, b"\x00")[0]
            if service & 0x01:  # §2.20.1 Table 5: status information only when asked
                self._send(Apdu(*z.STATUS_INFORMATION, s.last_status))
            self._complete()
        elif cmd == z.END_OF_DAY:
            self._accept()
            s.trace_number += 1
            totals = self._status_info(0, s.day_total_minor, "totals", s.receipt_number)
            self._send(Apdu(*z.STATUS_INFORMATION, totals))
            self._print(True, ["KASSENSCHNITT", f"Summe EUR {s.day_total_minor / 100:.2f}"])
            s.day_total_minor = 0
            s.day_closed_receipt = s.receipt_number
            self._complete()
        elif cmd == z.REVERSAL:
            original = z.from_bcd(z.parse_bmps(command.data[3:])[0x87])
            charge = next((c for c in s.charges if c.receipt_number == original), None)
            reversed_already = any(c.reverses == original for c in s.charges)
            # only today's payments (not yet in an end-of-day) can be reversed (§2.9)
            if charge is None or reversed_already or original <= s.day_closed_receipt:
                self._refuse(0x83)
                return
            self._accept()
            receipt = self._new_receipt()

            def reverse() -> None:
                s.charges.append(Charge("reversal", -charge.amount_minor, receipt, original))
                s.day_total_minor -= charge.amount_minor

            self._store("reversal", charge.amount_minor, receipt, reverse)
        elif cmd == z.REFUND:
            amount = z.from_bcd(z.parse_bmps(command.data[3:])[0x04])
            self._accept()
            receipt = self._new_receipt()

            def refund() -> None:
                s.charges.append(Charge("refund", -amount, receipt))
                s.day_total_minor -= amount

            self._store("refund", amount, receipt, refund)
        elif cmd == z.ABORT:
            self._refuse(0x83)  # nothing running to abort
        else:
            self._refuse(0x83)

    # -- what tests check --
    @property
    def money_taken_minor(self) -> int:
        return sum(c.amount_minor for c in self.state.charges)
