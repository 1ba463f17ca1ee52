"""The terminal side of the payment ledger (kiosk/domain/intents.py), with the money
rules of DESIGN.md:

1. Every movement — charge, reservation, booking, release, reversal, refund — is an
   intent committed to the store *before* the terminal is asked.
2. The terminal's answer is committed with the intent's new state in one transaction.
3. If the link fails mid-exchange the intent stays open (PENDING, BOOKING, RELEASING)
   and `resolve()` asks the terminal before anything is decided: its last transaction
   (repeat receipt, PA00P015 §2.20, asked *with* status information) is this intent's
   if it is approved, for this amount, and newer than the receipt noted before asking.
   A booking or release is then repeated only when the terminal shows it did not do it.
4. Only one movement is open at a time: while one is unresolved no other is started,
   so the terminal's "last transaction" can only be that one. This is also what keeps a
   refund's receipt from being taken for a charge's.

These methods never raise for the terminal's sake once the intent is stored: they
return the intent in the state the ledger knows, open when the answer is unknown.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from kiosk.domain.billing import Payment, PaymentMethod
from kiosk.domain.intents import (
    UNKNOWN_OUTCOME,
    Charged,
    IntentKind,
    IntentState,
    PaymentIntent,
)
from kiosk.domain.money import Money
from kiosk.domain.plain import to_plain
from kiosk.drivers.base import (
    Outcome,
    PaymentTerminal,
    StatusCallback,
    TerminalError,
    TerminalLinkLost,
    TransactionResult,
)
from kiosk.storage.repositories import Repositories

log = logging.getLogger(__name__)

LAST_RECEIPT = "terminal.last_receipt"
Clock = Callable[[], datetime]


class PaymentsBlocked(Exception):
    """No card payment now: no terminal, or an earlier movement is still unresolved."""


class TerminalUnavailable(TerminalError):
    """The terminal could not be asked: an open intent stays open."""


def unblocked(
    ask: Callable[[], PaymentAttempt], recover: Callable[[], object] | None
) -> PaymentAttempt:
    """Ask for money; if an earlier movement is still open, run recovery once (the
    terminal may answer again by now) and ask again. PaymentsBlocked if it still is."""
    try:
        return ask()
    except PaymentsBlocked:
        if recover is None:
            raise
        recover()
        return ask()


@dataclass(frozen=True)
class Purpose:
    """What a movement of money is for: enough for recovery to finish the job."""

    key: str  # "pickup:<order>", "statement:<account>", "refund:<payment id>"
    customer_account: str
    order_number: str = ""
    invoice_numbers: tuple[str, ...] = ()
    refund_of: str = ""
    lang: str = ""
    charged: tuple[Charged, ...] = ()  # what is charged for each invoice


@dataclass(frozen=True)
class PaymentAttempt:
    intent: PaymentIntent
    result: TransactionResult | None  # None when the link was lost
    link_lost: bool = False

    @property
    def succeeded(self) -> bool:
        return self.intent.state in (IntentState.APPROVED, IntentState.RESERVED)


def card_payment(intent: PaymentIntent, at: datetime, payment_id: str = "") -> Payment:
    """The payment record of a money-moved card intent: only what the terminal told
    about the card (brand, last four), never more."""
    receipt = intent.booking_receipt or intent.receipt_number
    return Payment(
        payment_id=payment_id or intent.intent_id,
        method=PaymentMethod.CARD,
        amount=intent.taken,
        at=at,
        invoice_numbers=intent.invoice_numbers,
        customer_account=intent.customer_account,
        terminal_receipt_number=str(receipt or ""),
        card_brand=intent.card_brand,
        card_last4=intent.card_last4,
    )


def new_intent(
    kind: IntentKind, amount: Money, purpose: Purpose, now: datetime, **extra: object
) -> PaymentIntent:
    return PaymentIntent(
        intent_id=uuid.uuid4().hex,
        kind=kind,
        amount=amount,
        purpose=purpose.key,
        created_at=now,
        customer_account=purpose.customer_account,
        order_number=purpose.order_number,
        invoice_numbers=purpose.invoice_numbers,
        charged=purpose.charged,
        refund_of=purpose.refund_of,
        lang=purpose.lang,
        **extra,  # type: ignore[arg-type]
    )


class CardPayments:
    def __init__(self, repos: Repositories, terminal: PaymentTerminal | None, clock: Clock) -> None:
        self._repos = repos
        self._terminal = terminal
        self._clock = clock
        self._lock = threading.RLock()  # one movement at a time, recovery included

    @property
    def available(self) -> bool:
        return self._terminal is not None

    def _need_terminal(self) -> PaymentTerminal:
        if self._terminal is None:
            raise PaymentsBlocked("this kiosk has no card terminal")
        return self._terminal

    def open(self) -> list[PaymentIntent]:
        """Intents whose outcome at the terminal is not known yet."""
        return self._repos.intents.in_states(*UNKNOWN_OUTCOME)

    # -- asking for money --
    def charge(
        self,
        amount: Money,
        purpose: Purpose,
        on_status: StatusCallback | None = None,
        **extra: object,
    ) -> PaymentAttempt:
        return self._ask(IntentKind.CHARGE, amount, purpose, on_status, extra)

    def reserve(
        self,
        amount: Money,
        purpose: Purpose,
        on_status: StatusCallback | None = None,
        **extra: object,
    ) -> PaymentAttempt:
        return self._ask(IntentKind.RESERVATION, amount, purpose, on_status, extra)

    def reverse(self, payment: Payment, purpose: Purpose) -> PaymentAttempt:
        receipt = int(payment.terminal_receipt_number)
        return self._ask(IntentKind.REVERSAL, payment.amount, purpose, None, {}, receipt)

    def refund(self, amount: Money, purpose: Purpose) -> PaymentAttempt:
        return self._ask(IntentKind.REFUND, amount, purpose, None, {})

    def stranger_last(self, amount: Money, after_receipt: int) -> TransactionResult | None:
        """The terminal's last transaction when it moved `amount` after receipt
        `after_receipt` and no intent of the ledger made it: money the kiosk did not move
        (a reversal keyed in at the terminal). Raises TerminalUnavailable when the
        terminal cannot be asked."""
        with self._lock:
            try:
                last = self._need_terminal().last_transaction()
            except PaymentsBlocked as exc:
                raise TerminalUnavailable(str(exc)) from exc
            except TerminalError as exc:
                raise TerminalUnavailable(f"cannot ask the terminal: {exc}") from exc
        if not last.approved or last.receipt_number is None:
            return None
        if last.amount_minor != amount.to_minor() or last.receipt_number <= after_receipt:
            return None
        return None if self._repos.intents.with_receipt(last.receipt_number) else last

    def _call(
        self, intent: PaymentIntent, on_status: StatusCallback | None, receipt: int
    ) -> TransactionResult:
        terminal = self._need_terminal()
        minor = intent.amount.to_minor()
        if intent.kind is IntentKind.CHARGE:
            return terminal.authorise(minor, on_status)
        if intent.kind is IntentKind.RESERVATION:
            return terminal.reserve(minor, on_status)
        if intent.kind is IntentKind.REVERSAL:
            return terminal.reverse(receipt)
        return terminal.refund(minor)

    def _ask(
        self,
        kind: IntentKind,
        amount: Money,
        purpose: Purpose,
        on_status: StatusCallback | None,
        extra: dict[str, object],
        receipt: int = 0,
    ) -> PaymentAttempt:
        with self._lock:
            self._need_terminal()
            if self.open():
                raise PaymentsBlocked("an earlier card payment is not resolved yet")
            intent = new_intent(
                kind,
                amount,
                purpose,
                self._clock(),
                receipt_before=self._repos.settings.get(LAST_RECEIPT),
                **extra,
            )
            self._repos.intents.add(intent)  # durable before the terminal hears of it
            try:
                result = self._call(intent, on_status, receipt)
            except TerminalLinkLost as exc:
                log.error("link lost during %s of %s: %s", kind, amount, exc)
                return PaymentAttempt(self._resolve_quietly(intent), None, link_lost=True)
            except TerminalError as exc:
                # the link could not even be opened: the command never left the kiosk
                settled = self._record(intent.failed(self._clock(), f"terminal unavailable: {exc}"))
                return PaymentAttempt(settled, None)
            return PaymentAttempt(self._settle(intent, result, recovered=False), result)

    def _settle(
        self, intent: PaymentIntent, result: TransactionResult, *, recovered: bool
    ) -> PaymentIntent:
        now = self._clock()
        if result.approved:
            settled = intent.succeeded(
                now,
                receipt_number=result.receipt_number,
                trace_number=result.trace_number,
                card_brand=result.card_brand,
                card_last4=result.card_last4,
                recovered=recovered,
            )
        else:
            settled = intent.failed(now, result.message, recovered=recovered)
        return self._record(settled, result.receipt_number if result.approved else None)

    def _record(self, intent: PaymentIntent, receipt: int | None = None) -> PaymentIntent:
        """The intent's new state, the terminal's latest receipt number and the outbox
        entry for the back office: one transaction. Money that did not move voids its
        business operation at once: nothing else is to change."""
        if intent.is_final and not intent.money_moved:
            intent = intent.done()
        with self._repos.store.transaction():
            self._repos.intents.save(intent)
            if receipt is not None:
                self._repos.settings.set(LAST_RECEIPT, receipt)
            self._repos.outbox.enqueue(
                f"card.{intent.state}", to_plain(intent), key=intent.purpose, now=self._clock()
            )
        return intent

    # -- after the locker opened (or did not) --
    def book(self, intent: PaymentIntent, amount: Money) -> PaymentIntent:
        """RESERVED → BOOKED; BOOKING when the answer was lost (resolve() decides);
        back to RESERVED when the terminal refused while still holding it."""
        with self._lock:
            asking = intent.booking(self._clock(), amount, self._repos.settings.get(LAST_RECEIPT))
            self._repos.intents.save(asking)
            return self._send_booking(asking)

    def _send_booking(self, intent: PaymentIntent) -> PaymentIntent:
        assert intent.receipt_number is not None and intent.booked_amount is not None
        try:
            result = self._need_terminal().book(
                intent.receipt_number, intent.booked_amount.to_minor()
            )
        except TerminalError as exc:
            log.error("booking of %s: answer lost (%s)", intent.intent_id, exc)
            return intent
        now = self._clock()
        if result.approved:
            return self._record(intent.booked(now, result.receipt_number), result.receipt_number)
        log.error("terminal refused booking %s: %s", intent.intent_id, result.message)
        return intent  # refused: open until the terminal shows what it holds

    def release(self, intent: PaymentIntent, why: str) -> PaymentIntent:
        with self._lock:
            asking = intent.releasing(self._clock(), why)
            asking = replace(asking, receipt_before=self._repos.settings.get(LAST_RECEIPT))
            self._repos.intents.save(asking)
            return self._send_release(asking, after_refusal_done=False)

    def _send_release(self, intent: PaymentIntent, *, after_refusal_done: bool) -> PaymentIntent:
        assert intent.receipt_number is not None
        try:
            result = self._need_terminal().release(intent.receipt_number)
        except TerminalError as exc:
            log.error("release of %s: answer lost (%s)", intent.intent_id, exc)
            return intent
        if result.approved or after_refusal_done:
            # refused after the terminal's last transaction was checked: it holds no
            # such reservation, and no booking was ever sent from RELEASING
            return self._record(intent.released(self._clock()), result.receipt_number)
        log.error("terminal refused release %s: %s", intent.intent_id, result.message)
        return intent

    # -- recovery --
    def _resolve_quietly(self, intent: PaymentIntent) -> PaymentIntent:
        try:
            return self.resolve(intent)
        except TerminalUnavailable as exc:
            log.warning("payment %s stays open: %s", intent.intent_id, exc)
            return intent

    def resolve(self, intent: PaymentIntent) -> PaymentIntent:
        """Decide one open intent from the terminal's memory. Raises TerminalUnavailable
        when the terminal cannot be asked: then nothing is decided."""
        with self._lock:
            current = self._repos.intents.require(intent.intent_id)
            if not current.is_open:
                return current
            try:
                last = self._need_terminal().last_transaction()
                if current.state is IntentState.PENDING:
                    return self._settle(current, self._judge(current, last), recovered=True)
                if self._is_ours(current, last, current.booked_amount or current.amount):
                    if current.state is IntentState.BOOKING:
                        booked = current.booked(self._clock(), last.receipt_number, recovered=True)
                        return self._record(booked, last.receipt_number)
                    return self._record(current.released(self._clock()), last.receipt_number)
            except PaymentsBlocked as exc:
                raise TerminalUnavailable(str(exc)) from exc
            except TerminalError as exc:  # link lost, or not even opened and registered
                raise TerminalUnavailable(f"cannot ask about {current.intent_id}: {exc}") from exc
            # the terminal's last transaction is not this booking/release: it did not
            # happen, so it is asked again (the terminal still holds the reservation)
            if current.state is IntentState.BOOKING:
                again = self._send_booking(current)
            else:
                again = self._send_release(current, after_refusal_done=True)
            if again.is_open:
                raise TerminalUnavailable(f"{current.intent_id} still unresolved: {again.message}")
            return again

    def _is_ours(self, intent: PaymentIntent, last: TransactionResult, amount: Money) -> bool:
        """The terminal's last transaction is this intent's if it is approved, for this
        amount, newer than the receipt noted before asking, and no other intent's."""
        if not last.approved or last.receipt_number is None:
            return False
        if last.receipt_number == intent.receipt_before:
            return False
        if last.amount_minor != amount.to_minor():
            return False
        claimed = [
            i
            for i in self._repos.intents.with_receipt(last.receipt_number)
            if i.intent_id != intent.intent_id
        ]
        return not claimed

    def _judge(self, intent: PaymentIntent, last: TransactionResult) -> TransactionResult:
        if self._is_ours(intent, last, intent.amount):
            return last
        if last.outcome is Outcome.REFUSED:
            message = "not charged: the terminal has no transaction for it"
        else:
            message = "not charged: the terminal's last transaction is not this payment"
        return TransactionResult(Outcome.DECLINED, last.result_code, message)
