"""usbguard as the tours and tests meet it: one device kept out (a barcode scanner that
replaced the old one), let in by `allow-device -p`, answering in usbguard's own words
(`usbguard list-devices` prints a device a line in its rule language)."""

from __future__ import annotations

from collections.abc import Sequence


class FakeUsbGuard:
    def __init__(self) -> None:
        self.blocked = {
            7: 'block id 05e0:1200 serial "S/N 4471" name "Barcode Scanner" hash '
            '"jEP/6WzviqdJ5VSeTUY8PatCNBKeaREvo2OqdplND/o=" via-port "1-1.3" '
            'with-interface 03:01:01 with-connect-type "hotplug"'
        }
        self.allowed: list[int] = []

    def __call__(self, command: Sequence[str]) -> tuple[int, str]:
        if list(command) == ["usbguard", "list-devices", "--blocked"]:
            return 0, "\n".join(f"{n}: {rule}" for n, rule in self.blocked.items())
        if list(command[:3]) == ["usbguard", "allow-device", "-p"]:
            number = int(command[3])
            if number not in self.blocked:
                return 1, f"IPC ERROR: device {number}: unknown device"
            del self.blocked[number]
            self.allowed.append(number)
            return 0, ""
        return 1, f"usbguard: unknown command {' '.join(command[1:])}"
