"""Staff mode: signing in and the daily tasks (`staff.py`), shifts and their report
(`shifts.py`), loading and emptying lockers (`staff_lockers.py`), USB devices the
policy blocked (`usb_devices.py`). The top group: may import `money`, `journeys` and
`machine`."""
