"""Staff let a replacement USB device in (issue 16 §2): usbguard's list of kept-out
devices read from its own output format, a device allowed permanently, usbguard absent
or refusing said in words, and only roles with the devices permission may."""

import pytest

from kiosk.services.permissions import Forbidden
from kiosk.services.staff_mode.usb_devices import UsbError, UsbGuard
from tests.services.test_journeys import kiosk  # noqa: F401
from tours.usbguard import FakeUsbGuard


def test_kept_out_devices_are_read_from_usbguards_own_lines():
    fake = FakeUsbGuard()
    fake.blocked[9] = 'block id 046d:c31c serial "" name "Say \\"hi\\" keyboard" hash "x"'
    guard = UsbGuard(fake)
    devices = guard.blocked()
    assert [(d.number, d.usb_id, d.label) for d in devices] == [
        (7, "05e0:1200", "Barcode Scanner (05e0:1200)"),
        (9, "046d:c31c", 'Say "hi" keyboard (046d:c31c)'),
    ]
    guard.allow(devices[0])
    assert fake.allowed == [7] and [d.number for d in guard.blocked()] == [9]
    with pytest.raises(UsbError, match="unknown device"):
        guard.allow(devices[0])  # unplugged since: usbguard says so


def test_usbguard_absent_is_an_error_in_words():
    guard = UsbGuard(lambda command: (127, "[Errno 2] No such file or directory: 'usbguard'"))
    with pytest.raises(UsbError, match="No such file"):
        guard.blocked()


def test_only_roles_that_look_after_devices_may_let_one_in(kiosk, caplog):  # noqa: F811
    staff = kiosk.staff
    staff.usb = UsbGuard(FakeUsbGuard())
    sam = staff.add_member("s9", "Sam", "staff", "9191")
    tess = staff.add_member("t9", "Tess", "technician", "9292")
    with pytest.raises(Forbidden):
        staff.usb_blocked(sam)
    (scanner,) = staff.usb_blocked(tess)
    staff.allow_usb(tess, scanner)
    assert staff.usb_blocked(tess) == []
    assert "t9 allowed USB device Barcode Scanner (05e0:1200)" in caplog.text
