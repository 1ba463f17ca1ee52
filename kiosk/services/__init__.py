"""The kiosk's use cases, in four groups, each importing only those before it:

- `machine/`: the devices built from configuration, `kiosk doctor`, the Pico's
  firmware, the security check. Imports no other group.
- `money/`: the payment ledger's terminal side, settlement, recovery, refunds,
  differences with the back office, receipts getting to the customer.
- `journeys/`: what a customer does at the screen (identify, drop-off, pickup,
  statements, item kinds, calling staff). May import `money`.
- `staff_mode/`: signing in and the staff's tasks (search, shifts, lockers, USB
  devices). May import `money`, `journeys` and `machine`.

Beside them, used by all: `alerts.py`, `permissions.py`, `context.py` (opening the
store). On top: `kiosk.py` wires every use case once; `sync.py`, `retention.py` and
`demo_data.py` serve the CLI and the sync worker. docs/architecture.md draws it.
"""
