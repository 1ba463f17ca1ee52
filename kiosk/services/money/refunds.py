"""Giving a card payment back (staff mode, manager only), through the payment ledger.

A reversal by receipt number while the terminal's day still holds the payment (no card
needed, PA00P015 §2.9), else a refund to the card presented (§2.15). Both are intents
stored before the terminal is asked, with the payment they give back, so:

- a refund already made is never made again: a retry finds the approved intent;
- a refund whose answer was lost is resolved from the terminal (its last transaction),
  never repeated while its outcome is unknown, and never mistaken for a charge — no
  other movement can start while it is open;
- the fallback from reversal to refund happens only when the terminal *answered* that
  it cannot reverse, never after silence, and only after asking the terminal what it
  last did: its "cannot" (ZVT 0x83) says the same for "already reversed" and "not in
  today's batch". A last transaction of this amount, newer than the payment and made by
  no intent of the ledger, is read as "reversed already, at the terminal": nothing is
  paid out until a manager has checked the terminal's journal and says so (`checked`);
- one refund of a payment at a time: the check "not refunded yet" and the movement are
  made under that payment's lock, so two staff sessions (the screen and the control
  socket, or two taps) cannot both pass the check. The store has one process (the
  kiosk: the CLI goes through its control socket), so a lock of the process is the
  lock of every writer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kiosk.domain.billing import Payment, PaymentMethod
from kiosk.domain.staff import Permission, StaffMember
from kiosk.services.money.payments import (
    CardPayments,
    PaymentAttempt,
    PaymentsBlocked,
    Purpose,
    TerminalUnavailable,
)
from kiosk.services.money.settlement import Settlement
from kiosk.services.permissions import StaffTaskError, require
from kiosk.storage.repositories import Repositories

log = logging.getLogger("kiosk.staff")


@dataclass(frozen=True)
class Refund:
    payment: Payment
    refund: Payment
    how: str  # "reversal" (same day, no card needed) or "refund" (card presented)


class MaybeReversed(StaffTaskError):
    """The reversal was refused and the terminal's last transaction may be this payment
    reversed at its own keypad: a manager checks before anything is paid out."""


class Refunds:
    def __init__(
        self,
        repos: Repositories,
        payments: CardPayments,
        settlement: Settlement,
        clock: Callable[[], datetime],
    ) -> None:
        self._repos = repos
        self._payments = payments
        self._settlement = settlement
        self._clock = clock
        self._locks: dict[str, threading.Lock] = {}  # payment id → its refund's lock
        self._locks_guard = threading.Lock()

    def refund(self, member: StaffMember, payment_id: str, *, checked: bool = False) -> Refund:
        """`checked`: a manager looked in the terminal's journal and the payment was not
        reversed there (asked only after MaybeReversed)."""
        require(member, Permission.REFUND)
        with self._lock_of(payment_id):
            return self._refund(member, payment_id, checked)

    def _lock_of(self, payment_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(payment_id, threading.Lock())

    def _refund(self, member: StaffMember, payment_id: str, checked: bool) -> Refund:
        payment = self._repos.payments.get(payment_id)
        if payment is None or payment.method is not PaymentMethod.CARD:
            raise StaffTaskError(f"no card payment {payment_id}")
        if payment_id.startswith("refund-"):
            raise StaffTaskError("a refund cannot be refunded")
        self._check_not_refunded(payment)
        purpose = Purpose(
            f"refund:{payment_id}",
            payment.customer_account,
            invoice_numbers=payment.invoice_numbers,
            refund_of=payment_id,
        )
        try:
            attempt = self._payments.reverse(payment, purpose)
            how = "reversal"
            self._check_known(attempt)
            if not attempt.succeeded:
                log.info("reversal of %s refused (%s)", payment_id, attempt.intent.message)
                if not checked:
                    self._check_not_reversed_at_terminal(payment)
                attempt = self._payments.refund(payment.amount, purpose)
                how = "refund"
                self._check_known(attempt)
        except (PaymentsBlocked, TerminalUnavailable) as exc:
            raise StaffTaskError(f"card refunds are unavailable: {exc}") from exc
        if not attempt.succeeded:
            raise StaffTaskError(f"the terminal refused the refund: {attempt.intent.message}")
        settled = self._settlement.record_refund(attempt.intent, member.name)
        assert settled.payment is not None
        log.info("%s refunded %s (%s, %s)", member.staff_id, payment_id, how, payment.amount)
        return Refund(payment, settled.payment, how)

    def _check_not_refunded(self, payment: Payment) -> None:
        if self._repos.payments.get(f"refund-{payment.payment_id}") is not None:
            raise StaffTaskError(f"payment {payment.payment_id} was already refunded")
        for intent in self._repos.intents.for_purpose(f"refund:{payment.payment_id}"):
            if intent.is_open:
                raise StaffTaskError(
                    "a refund of this payment is being confirmed with the terminal: "
                    "it will not be made twice"
                )
            if intent.money_moved:
                raise StaffTaskError(f"payment {payment.payment_id} was already refunded")

    def _check_not_reversed_at_terminal(self, payment: Payment) -> None:
        receipt = int(payment.terminal_receipt_number)
        stranger = self._payments.stranger_last(payment.amount, receipt)
        if stranger is not None:
            raise MaybeReversed(
                f"the terminal refused to reverse payment {payment.payment_id}, and its last "
                f"transaction (receipt {stranger.receipt_number}, {payment.amount}) was not "
                "made by the kiosk: it may have been reversed at the terminal. Nothing was "
                "paid out. Check the terminal's journal; if it was not reversed there, "
                "refund it to the card."
            )

    @staticmethod
    def _check_known(attempt: PaymentAttempt) -> None:
        if attempt.intent.is_open:
            raise StaffTaskError(
                "the card terminal stopped answering: whether the refund was made is being "
                "confirmed with the terminal, and it will not be made twice"
            )
