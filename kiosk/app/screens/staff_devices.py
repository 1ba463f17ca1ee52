from typing import Any

from kiosk.app.main import KioskScreen
from kiosk.services.diagnostics import format_table, print_test_page


class StaffDevicesScreen(KioskScreen):
    def refresh(self) -> None:
        app = self.app
        staff = app.services.staff
        self.ids.table.text = format_table(staff.device_status(app.staff))
        lines = staff.log_lines(app.staff, 60)
        self.ids.log.text = "\n".join(reversed(lines)) or app.tr("Nothing logged yet.")

    def test_print(self) -> None:
        app = self.app
        cfg = app.services.config

        def work() -> Any:
            print_test_page(app.services.devices, cfg.shop.name, cfg.printer.codepage)
            return True

        app.in_background(work, lambda _r: self.refresh())
