"""Card payments with the money rules of DESIGN.md.

1. The intent is committed to the store *before* the terminal is asked.
2. The terminal's answer is committed with the intent's new state in one transaction
   (with the outbox entry that tells the back office).
3. If the link fails mid-exchange the intent stays PENDING, and `resolve_open()` asks
   the terminal (repeat receipt: its last transaction) before the kiosk does anything
   else: an approval with our amount and a receipt number newer than the one we noted
   before asking means the money moved; anything else means it did not.

So a crash or a cut cable never leads to charging twice (the kiosk never re-sends a
charge whose intent is still open) nor to releasing an item that was not paid.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kiosk.domain.billing import Payment, PaymentMethod
from kiosk.domain.intents import IntentKind, IntentState, PaymentIntent
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
    """An earlier payment's outcome is still unknown: no new payment until it is resolved."""


@dataclass(frozen=True)
class PaymentAttempt:
    intent: PaymentIntent
    result: TransactionResult | None  # None when the link was lost
    link_lost: bool = False

    @property
    def succeeded(self) -> bool:
        return self.intent.state in (IntentState.APPROVED, IntentState.RESERVED)


def card_payment(
    intent: PaymentIntent,
    amount: Money,
    at: datetime,
    invoice_numbers: tuple[str, ...],
    customer_account: str,
) -> Payment:
    """The payment record of an approved or booked card intent: only what the terminal
    told about the card (brand, last four), never more."""
    return Payment(
        payment_id=intent.intent_id,
        method=PaymentMethod.CARD,
        amount=amount,
        at=at,
        invoice_numbers=invoice_numbers,
        customer_account=customer_account,
        terminal_receipt_number=str(intent.receipt_number or ""),
        card_brand=intent.card_brand,
        card_last4=intent.card_last4,
    )


class CardPayments:
    def __init__(self, repos: Repositories, terminal: PaymentTerminal, clock: Clock) -> None:
        self._repos = repos
        self._terminal = terminal
        self._clock = clock

    # -- asking for money --
    def charge(
        self, amount: Money, purpose: str, on_status: StatusCallback | None = None
    ) -> PaymentAttempt:
        return self._ask(IntentKind.CHARGE, amount, purpose, on_status)

    def reserve(
        self, amount: Money, purpose: str, on_status: StatusCallback | None = None
    ) -> PaymentAttempt:
        return self._ask(IntentKind.RESERVATION, amount, purpose, on_status)

    def _ask(
        self, kind: IntentKind, amount: Money, purpose: str, on_status: StatusCallback | None
    ) -> PaymentAttempt:
        if self.pending():
            raise PaymentsBlocked(
                "an earlier card payment is not resolved yet; resolve_open() first"
            )
        now = self._clock()
        intent = PaymentIntent(
            intent_id=uuid.uuid4().hex,
            kind=kind,
            amount=amount,
            purpose=purpose,
            created_at=now,
            receipt_before=self._repos.settings.get(LAST_RECEIPT),
        )
        self._repos.intents.add(intent)  # durable before the terminal hears of it
        try:
            if kind is IntentKind.CHARGE:
                result = self._terminal.authorise(amount.to_minor(), on_status)
            else:
                result = self._terminal.reserve(amount.to_minor(), on_status)
        except TerminalLinkLost as exc:
            log.error("link lost during %s of %s: %s", kind, amount, exc)
            return PaymentAttempt(intent, None, link_lost=True)
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
        with self._repos.store.transaction():
            self._repos.intents.save(settled)
            if result.receipt_number is not None and result.approved:
                self._repos.settings.set(LAST_RECEIPT, result.receipt_number)
            self._repos.outbox.enqueue(
                f"card.{settled.state}", to_plain(settled), key=settled.purpose, now=now
            )
        return settled

    # -- after the locker opened (or did not) --
    def book(self, intent: PaymentIntent, amount: Money) -> PaymentIntent:
        if intent.state is not IntentState.RESERVED or intent.receipt_number is None:
            raise TerminalError(f"intent {intent.intent_id} is {intent.state}: nothing to book")
        result = self._terminal.book(intent.receipt_number, amount.to_minor())
        if not result.approved:
            raise TerminalError(f"booking refused by the terminal: {result.message}")
        return self._finish(intent.booked(self._clock(), amount), result)

    def release(self, intent: PaymentIntent, why: str) -> PaymentIntent:
        if intent.state is not IntentState.RESERVED or intent.receipt_number is None:
            raise TerminalError(f"intent {intent.intent_id} is {intent.state}: nothing to release")
        result = self._terminal.release(intent.receipt_number)
        if result.outcome is not Outcome.APPROVED:
            raise TerminalError(f"release refused by the terminal: {result.message}")
        return self._finish(intent.released(self._clock(), why), result)

    def _finish(self, intent: PaymentIntent, result: TransactionResult) -> PaymentIntent:
        with self._repos.store.transaction():
            self._repos.intents.save(intent)
            if result.receipt_number is not None:
                self._repos.settings.set(LAST_RECEIPT, result.receipt_number)
            self._repos.outbox.enqueue(
                f"card.{intent.state}", to_plain(intent), key=intent.purpose, now=self._clock()
            )
        return intent

    # -- recovery --
    def pending(self) -> list[PaymentIntent]:
        return self._repos.intents.in_states(IntentState.PENDING)

    def resolve_open(self) -> list[PaymentIntent]:
        """Decide every PENDING intent from the terminal's memory. Raises TerminalError if
        the terminal cannot be asked: then nothing is decided, and the kiosk must not
        take another payment (PaymentsBlocked) until it can."""
        resolved = []
        for intent in self.pending():
            try:
                last = self._terminal.last_transaction()
            except TerminalLinkLost as exc:
                raise TerminalError(f"cannot resolve payment {intent.intent_id}: {exc}") from exc
            resolved.append(self._settle(intent, self._judge(intent, last), recovered=True))
        return resolved

    def _judge(self, intent: PaymentIntent, last: TransactionResult) -> TransactionResult:
        """The terminal's last transaction is this intent's if it is approved, for this
        amount, newer than the receipt noted before asking, and not already another
        intent's."""
        newer = last.receipt_number is not None and last.receipt_number != intent.receipt_before
        ours = (
            last.approved
            and newer
            and last.amount_minor == intent.amount.to_minor()
            and not [
                i
                for i in self._repos.intents.with_receipt(last.receipt_number or -1)
                if i.intent_id != intent.intent_id
            ]
        )
        if ours:
            return last
        if last.outcome is Outcome.REFUSED:
            message = "not charged: the terminal has no transaction for it"
        else:
            message = "not charged: the terminal's last transaction is not this payment"
        return TransactionResult(Outcome.DECLINED, last.result_code, message)
