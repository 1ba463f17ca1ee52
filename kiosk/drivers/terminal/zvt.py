"""The card terminal, driven over ZVT (the ECR interface of German/European terminals).

One transaction is one exchange: the kiosk sends a command, the terminal acknowledges
it (80 00), then talks — intermediate status for the screen ("Insert or tap your card",
"Enter your PIN"), status information with the result, print lines — until completion
(06 0F) or abort (06 1E). Every message is acknowledged, and each one re-arms the
time-out, so a customer slowly typing a PIN is not cut off.

If the link fails in the middle, the driver raises `TerminalLinkLost`: the money may or
may not have moved. Nothing may be decided until `last_transaction()` (repeat receipt)
has told what the terminal did; `kiosk/services/money/payments.py` does exactly that.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.drivers.base import (
    DeviceState,
    DeviceStatus,
    Outcome,
    StatusCallback,
    StatusStream,
    TerminalError,
    TerminalLinkLost,
    TransactionResult,
)
from kiosk.drivers.terminal import apdu as z
from kiosk.drivers.terminal.apdu import Apdu, StatusInformation, ZvtError
from kiosk.drivers.terminal.link import LinkError, LinkLost, ReceiveTimeout, ZvtLink

log = logging.getLogger(__name__)

__all__ = ["Outcome", "TerminalError", "TerminalLinkLost", "TransactionResult", "ZvtTerminal"]


REPEAT_STATUS_NO_PRINT = 0x03  # §2.20.1 Table 5: bit 0 status information, bit 1 no print
# Registration (PA00P015 §2.1 Table 1): the kiosk prints every receipt from the terminal's
# print lines or text blocks (an unattended terminal often has no printer), wants
# intermediate status for its screen (and to restart its time-outs), and nobody may type
# an amount or start an administration function at the terminal: 1011 1110.
REGISTRATION_CONFIG = (
    z.CONFIG_PRINT_LINES
    | z.CONFIG_NO_ADMIN_AT_PT
    | z.CONFIG_NO_AMOUNT_AT_PT
    | z.CONFIG_INTERMEDIATE_STATUS
    | z.CONFIG_ECR_PRINTS_ADMIN
    | z.CONFIG_ECR_PRINTS_PAYMENT
)


@dataclass(frozen=True)
class ZvtTimeouts:
    command_ack_s: float = 5.0  # command → 80 00 from the terminal
    idle_s: float = 180.0  # between two messages of a running transaction


@dataclass
class _Exchange:
    status: StatusInformation | None = None
    print_lines: list[str] = field(default_factory=list)
    completion: bytes = b""  # the data of 06 0F (the status enquiry's answer lives there)


class ZvtTerminal:
    def __init__(
        self,
        link_factory: Callable[[], ZvtLink],
        *,
        password: int = 0,
        currency: int = z.CURRENCY_EUR,
        timeouts: ZvtTimeouts | None = None,
        name: str = "terminal",
        charset: str = "cp437",
    ) -> None:
        self._link_factory = link_factory
        self._link: ZvtLink | None = None
        self._completion = b""
        self._registered = TransactionResult(Outcome.REFUSED, 0, "not registered yet")
        self.charset = charset  # of print lines: CP437 unless registered otherwise (tag 27)
        self.password = password
        self.currency = currency
        self.timeouts = timeouts or ZvtTimeouts()
        self.status_stream = StatusStream(name)

    # -- link --
    def _ensure_link(self) -> ZvtLink:
        """The link, opened and registered (§2.1) if it was not: without a registration
        a terminal sends no intermediate status and prints its receipts itself. A link
        opened again (cable, restart of either side) is registered again."""
        if self._link is None:
            try:
                link = self._link_factory()
            except LinkError as exc:
                self.status_stream.publish(DeviceState.FAULT, str(exc))
                raise TerminalError(str(exc)) from exc
            try:
                result = self._exchange(link, self._registration(), "registration", None)
            except (LinkLost, ReceiveTimeout) as exc:
                link.close()
                self.status_stream.publish(DeviceState.FAULT, "no answer to registration")
                raise TerminalError(f"the terminal did not answer the registration: {exc}") from exc
            if result.outcome is Outcome.REFUSED:
                link.close()
                raise TerminalError(result.message)
            self._link, self._registered = link, result
        return self._link

    def _drop_link(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def close(self) -> None:
        self._drop_link()

    # -- commands --
    def _password(self) -> bytes:
        return z.bcd(self.password, 3)

    def _registration(self) -> Apdu:
        data = self._password() + bytes([REGISTRATION_CONFIG]) + z.bcd(self.currency, 2)
        return Apdu(*z.REGISTRATION, data)

    def register(self) -> TransactionResult:
        """Registration (06 00, §2.1) now: the link is opened afresh, which registers."""
        self._drop_link()
        self._ensure_link()
        return self._registered

    def authorise(
        self, amount_minor: int, on_status: StatusCallback | None = None
    ) -> TransactionResult:
        return self._run(Apdu(*z.AUTHORISATION, self._amount(amount_minor)), "payment", on_status)

    def reserve(
        self, amount_minor: int, on_status: StatusCallback | None = None
    ) -> TransactionResult:
        return self._run(Apdu(*z.RESERVATION, self._amount(amount_minor)), "reservation", on_status)

    def book(self, receipt_number: int, amount_minor: int) -> TransactionResult:
        data = b"\x87" + z.bcd(receipt_number, 2) + self._amount(amount_minor)
        return self._run(Apdu(*z.BOOK_TOTAL, data), "booking")

    def partial_release(self, receipt_number: int, amount_minor: int) -> TransactionResult:
        data = b"\x87" + z.bcd(receipt_number, 2) + self._amount(amount_minor)
        return self._run(Apdu(*z.PARTIAL_REVERSAL, data), "partial release")

    def release(self, receipt_number: int) -> TransactionResult:
        data = b"\x87" + z.bcd(receipt_number, 2)
        return self._run(Apdu(*z.RESERVATION_REVERSAL, data), "release")

    def reverse(self, receipt_number: int) -> TransactionResult:
        data = self._password() + b"\x87" + z.bcd(receipt_number, 2)
        return self._run(Apdu(*z.REVERSAL, data), "reversal")

    def refund(self, amount_minor: int) -> TransactionResult:
        data = self._password() + self._amount(amount_minor)
        return self._run(Apdu(*z.REFUND, data), "refund")

    def end_of_day(self) -> TransactionResult:
        return self._run(Apdu(*z.END_OF_DAY, self._password()), "end of day")

    def last_transaction(self) -> TransactionResult:
        """Repeat receipt (06 20): what the terminal did last. The way to learn the
        outcome of a payment whose exchange was cut. Service byte 0x03 (PA00P015 §2.20.1,
        Table 5): send the status information, print nothing — without bit 0 a terminal
        sends no status information at all, and the kiosk would learn nothing."""
        data = self._password() + b"\x03" + bytes([REPEAT_STATUS_NO_PRINT])
        return self._run(Apdu(*z.REPEAT_RECEIPT, data), "repeat receipt")

    def status(self) -> DeviceStatus:
        """Status enquiry (05 01, §2.56): the terminal's status code and software version
        from its completion (sent by default, no service byte). A card left in the slot
        or an update running is busy; every other code but 00 is a fault."""
        try:
            result = self._run(Apdu(*z.STATUS_ENQUIRY, self._password()), "status enquiry")
        except TerminalError as exc:
            return self.status_stream.publish(DeviceState.FAULT, str(exc))
        if result.outcome is Outcome.REFUSED:
            return self.status_stream.publish(DeviceState.FAULT, result.message)
        try:
            state = z.TerminalState.parse(self._completion)
        except ZvtError as exc:
            return self.status_stream.publish(DeviceState.FAULT, f"unreadable status: {exc}")
        detail = state.text + (
            f" (software {state.software_version})" if state.software_version else ""
        )
        if state.status_code == 0x00:
            return self.status_stream.publish(DeviceState.READY, detail)
        if state.status_code in z.TERMINAL_BUSY:
            return self.status_stream.publish(DeviceState.BUSY, detail)
        return self.status_stream.publish(DeviceState.FAULT, detail)

    def log_off(self) -> None:
        """Log-Off (06 02, §2.24): the terminal forgets the registration (its config byte
        goes back to 86) and answers 80 00 alone, no completion. The next command opens
        and registers the link again."""
        link = self._ensure_link()
        try:
            link.send(Apdu(*z.LOG_OFF))
            answer = link.receive(self.timeouts.command_ack_s)
        except (LinkLost, ReceiveTimeout) as exc:
            raise TerminalLinkLost(str(exc), "log-off") from exc
        finally:
            self._drop_link()
        if answer.command != z.ACK_POSITIVE:
            raise TerminalError(f"log-off answered with {answer}")

    def abort(self) -> bool:
        """Ask the terminal to abort (06 B0). It may refuse or be too late: the running
        exchange still ends the way the terminal decides, and is read as usual."""
        link = self._link
        if link is None:
            return False
        try:
            link.send_nowait(Apdu(*z.ABORT))
            return True
        except LinkError as exc:
            log.warning("abort not delivered: %s", exc)
            return False

    def _amount(self, amount_minor: int) -> bytes:
        if amount_minor <= 0:
            raise TerminalError(f"amount must be positive, got {amount_minor}")
        return b"\x04" + z.bcd(amount_minor, 6) + b"\x49" + z.bcd(self.currency, 2)

    # -- one exchange --
    def _run(
        self, command: Apdu, phase: str, on_status: StatusCallback | None = None
    ) -> TransactionResult:
        link = self._ensure_link()
        self.status_stream.publish(DeviceState.BUSY, phase)
        try:
            result = self._exchange(link, command, phase, on_status)
        except (LinkLost, ReceiveTimeout) as exc:
            self._drop_link()
            self.status_stream.publish(DeviceState.FAULT, f"link lost during {phase}")
            raise TerminalLinkLost(str(exc), phase) from exc
        self.status_stream.publish(DeviceState.READY, "ready")
        return result

    def _ack(self, link: ZvtLink) -> None:
        link.send(Apdu(*z.ACK_POSITIVE))

    def _exchange(
        self, link: ZvtLink, command: Apdu, phase: str, on_status: StatusCallback | None
    ) -> TransactionResult:
        link.send(command)
        first = link.receive(self.timeouts.command_ack_s)
        if first.cls == 0x84:  # PA00P016 §5.2.3: 84 xx, or 84 1E with the code as data
            code = first.data[0] if first.instr == 0x1E and first.data else first.instr
            return TransactionResult(
                Outcome.REFUSED, code, f"terminal refused {phase}: {z.result_text(code)}"
            )
        if first.command != z.ACK_POSITIVE:
            raise LinkLost(f"expected 80 00 after the command, got {first}")
        exchange = _Exchange()
        wait = self.timeouts.idle_s  # T4, re-armed by every message
        while True:
            msg = link.receive(wait)
            wait = self.timeouts.idle_s
            if msg.command == z.INTERMEDIATE_STATUS:
                self._ack(link)
                # §3.7: <status> [<timeout>]: minutes (BCD) the terminal may now need
                wait = max(wait, z.t4_minutes(msg.data) * 60.0)
                text = z.intermediate_text(msg.data)
                if on_status is not None:
                    on_status(text)
            elif msg.command == z.STATUS_INFORMATION:
                self._ack(link)
                try:
                    exchange.status = StatusInformation.parse(msg.data)
                except ZvtError as exc:
                    log.error("unreadable status information from the terminal: %s", exc)
            elif msg.command == z.PRINT_LINE:  # §3.5: <attribute><text>
                self._ack(link)
                exchange.print_lines += z.print_line_texts(msg.data, self.charset)
            elif msg.command == z.PRINT_TEXT_BLOCK:  # §3.6: the lines in a TLV container
                self._ack(link)
                try:
                    exchange.print_lines += z.text_block_lines(msg.data, self.charset)
                except ZvtError as exc:
                    log.error("unreadable print text block from the terminal: %s", exc)
            elif msg.command == z.COMPLETION:
                self._ack(link)
                self._completion = msg.data
                return self._result(exchange)
            elif msg.command == z.ABORT_FROM_TERMINAL:
                self._ack(link)
                code = msg.data[0] if msg.data else z.RESULT_ABORTED
                outcome = Outcome.CANCELLED if code == z.RESULT_ABORTED else Outcome.DECLINED
                return _from_status(
                    outcome, code, z.result_text(code), exchange.status, exchange.print_lines
                )
            else:
                log.warning("unexpected %s during %s: acknowledged and ignored", msg, phase)
                self._ack(link)

    @staticmethod
    def _result(exchange: _Exchange) -> TransactionResult:
        status = exchange.status
        if status is None:
            return TransactionResult(
                Outcome.APPROVED, z.RESULT_APPROVED, "done", print_lines=tuple(exchange.print_lines)
            )
        if status.approved:
            outcome, message = Outcome.APPROVED, "approved"
        elif status.result_code == z.RESULT_ABORTED:
            outcome, message = Outcome.CANCELLED, z.result_text(status.result_code)
        else:
            outcome, message = Outcome.DECLINED, z.result_text(status.result_code)
        return _from_status(outcome, status.result_code, message, status, exchange.print_lines)


def _from_status(
    outcome: Outcome,
    code: int,
    message: str,
    status: StatusInformation | None,
    print_lines: list[str],
) -> TransactionResult:
    if status is None:
        return TransactionResult(outcome, code, message, print_lines=tuple(print_lines))
    return TransactionResult(
        outcome,
        code,
        message,
        amount_minor=status.amount_minor,
        receipt_number=status.receipt_number,
        trace_number=status.trace_number,
        card_brand=status.card_brand,
        card_last4=status.card_last4,
        terminal_id=status.terminal_id,
        print_lines=tuple(print_lines),
    )
