"""Money: the terminal side of the payment ledger (`payments.py`), turning money that
moved into its business outcome (`settlement.py`), every intent reaching one
(`recovery.py`), giving money back (`refunds.py`), what was charged against what the
back office now says (`differences.py`), a bill's lines in words (`line_labels.py`) and
the receipt reaching the customer (`receipt_delivery.py`). Imports the domain, storage,
drivers, receipts and `services.alerts` / `services.permissions`; no other group."""
