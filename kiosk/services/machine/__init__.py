"""The kiosk as a machine: its devices built from configuration (`devices.py`, the only
place that knows which backend stands behind each protocol), `kiosk doctor`
(`diagnostics.py`, `security.py`) and the locker co-processor's firmware
(`firmware.py`). Imports drivers, receipts, configuration and the enrolment's
credentials; no other group of use cases."""
