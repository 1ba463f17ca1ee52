"""A receipt the customer is owed.

Stored in the same transaction as the payment it belongs to, and removed once the
receipt was printed or handed to the outbox to be sent. One left behind means the power
went (or the printer and every channel failed) between the payment and its receipt: at
the next start it is sent if the customer can be reached, and listed for staff
otherwise (kiosk/services/money/receipt_delivery.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OwedReceipt:
    payment_id: str
    kind: str  # "payment" or "statement"
    customer_account: str
    text: str  # the receipt's words, as an e-mail or SMS carries them ("" if none was made)
    at: datetime
    alerted: bool = False  # staff were told it could be neither printed nor sent
