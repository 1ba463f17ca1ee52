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

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.drivers.terminal import apdu as z
from kiosk.drivers.terminal.apdu import Apdu
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
from kiosk.drivers.terminal.sim_link import EcrGone, Silent, TerminalLink

log = logging.getLogger(__name__)


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


class TerminalSimulator(TerminalLink):
    """The terminal's side of each dialogue (chapter by chapter of PA00P015), on the link
    of sim_link.py: registration, payments, reservations, reversals, refunds, end of day,
    status enquiries, repeat receipts."""

    def __init__(
        self, terminal_id: str = "52500001", profile: TerminalProfile | str = DEFAULT_PROFILE
    ) -> None:
        super().__init__()
        self.terminal_id = terminal_id
        self.profile = PROFILES[profile] if isinstance(profile, str) else profile
        self.registered_config: int | None = None  # §2.1: until registered, no 04 FF
        self.terminal_status = 0x00  # chapter 11: what a status enquiry reports
        self.printed_itself: list[list[str]] = []  # receipts the ECR did not take
        self.state = SimulatorState()
        self.auto_reversals = 0  # transactions reversed because the ECR never acknowledged

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
            raise Silent
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
        except (Silent, EcrGone):
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
