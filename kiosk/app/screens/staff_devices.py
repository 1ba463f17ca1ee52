from typing import Any

from kivy.factory import Factory

from kiosk.app.icons import with_icon
from kiosk.app.main import KioskScreen
from kiosk.services.machine.diagnostics import Check, print_test_page
from kiosk.services.staff_mode.usb_devices import BlockedDevice, UsbError

# a state's mark in the palette's colours (kiosk/app/theme.py)
MARK_COLOURS = {"ready": "accent", "busy": "muted", "warning": "warn", "fault": "warn",
                "unknown": "muted"}  # fmt: skip


class StaffDevicesScreen(KioskScreen):
    def refresh(self) -> None:
        app = self.app
        staff = app.services.staff
        self.fill_devices(staff.device_status(app.staff))
        self.fill_usb()
        self.fill_software()
        lines = staff.log_lines(app.staff, 30)
        self.ids.log.text = "\n".join(reversed(lines)) or app.tr("Nothing logged yet.")

    def fill_devices(self, checks: list[Check]) -> None:
        """A device a row: its state as a mark (and in words: a colour alone is not read
        by everyone), its name and where it is connected, the detail on its own line."""
        app, box = self.app, self.ids.devices
        box.clear_widgets()
        for check in checks:
            mark = Factory.DeviceMark(
                text=with_icon(check.state.value, ""),
                color=app.colors[MARK_COLOURS[check.state.value]],
            )
            name = Factory.RowLabel(
                text=f"[b]{check.device}[/b]  {check.state.value}\n{check.backend} · {check.port}",
                markup=True,
            )
            line = Factory.Row()
            line.add_widget(mark)
            line.add_widget(name)
            box.add_widget(line)
            detail = Factory.DeviceDetail(text=check.detail)
            self.ids[f"detail_{check.device}"] = detail
            box.add_widget(detail)

    def fill_software(self, said: str = "") -> None:
        """The release running, one downloaded and waiting, one that went back
        (docs/updates.md); Update now and Go back, for whoever may see the devices."""
        app = self.app
        if app.updates is None:
            self.ids.software.text = app.tr("This kiosk takes no updates.")
            return
        report = app.updates.manager.report()
        lines = [app.tr("Running {version}", version=report["running"])]
        if report["downloaded"]:
            lines.append(app.tr("{version} is downloaded: it is installed when the kiosk is "
                                "idle and the shop closed.", version=report["downloaded"]))  # fmt: skip
        lines += [app.tr("{version} went back: {why}", version=v, why=why)
                  for v, why in sorted(report["failed"].items())]  # fmt: skip
        self.ids.software.text = "\n".join(lines + ([said] if said else []))

    def update_now(self) -> None:
        why = self.app.updates.update_now()
        self.fill_software(
            self.app.tr("Not now: {why}", why=why)
            if why
            else self.app.tr("It is installed as soon as you leave staff mode.")
        )

    def roll_back(self) -> None:
        why = self.app.updates.roll_back()
        if why:
            self.fill_software(self.app.tr("Not now: {why}", why=why))

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
