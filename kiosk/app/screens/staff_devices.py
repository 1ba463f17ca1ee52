from typing import Any

from kivy.factory import Factory

from kiosk.app.main import KioskScreen
from kiosk.services.diagnostics import format_table, print_test_page
from kiosk.services.usb_devices import BlockedDevice, UsbError


class StaffDevicesScreen(KioskScreen):
    def refresh(self) -> None:
        app = self.app
        staff = app.services.staff
        self.ids.table.text = format_table(staff.device_status(app.staff))
        self.fill_usb()
        lines = staff.log_lines(app.staff, 60)
        self.ids.log.text = "\n".join(reversed(lines)) or app.tr("Nothing logged yet.")

    def fill_usb(self, said: str = "") -> None:
        """Devices the USB policy keeps out; a replacement is let in with Allow."""
        app = self.app
        rows = self.ids.usb_rows
        rows.clear_widgets()
        try:
            blocked = app.services.staff.usb_blocked(app.staff)
        except UsbError as exc:
            self.ids.usb_note.text = app.tr("The USB policy cannot be read here: {why}", why=exc)
            return
        for n, device in enumerate(blocked):
            line = Factory.Row()
            line.add_widget(Factory.RowLabel(text=device.label))
            allow = Factory.RowButton(text=app.tr("Allow"))
            allow.bind(on_release=lambda _b, d=device: self.allow(d))
            self.ids[f"allow_usb_{n}"] = allow
            line.add_widget(allow)
            rows.add_widget(line)
        self.ids.usb_note.text = said or ("" if blocked else app.tr("No USB device is kept out."))

    def allow(self, device: BlockedDevice) -> None:
        app = self.app
        try:
            app.services.staff.allow_usb(app.staff, device)
        except UsbError as exc:
            self.fill_usb(app.tr("Not allowed: {why}", why=exc))
            return
        self.fill_usb(app.tr("{device} is let in from now on.", device=device.label))

    def test_print(self) -> None:
        app = self.app
        cfg = app.services.config

        def work() -> Any:
            print_test_page(app.services.devices, cfg.shop.name, cfg.printer.codepage)
            return True

        app.in_background(work, lambda _r: self.refresh())
